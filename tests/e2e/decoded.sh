#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# Renderings the kernel hands to the collector to decode (deep inspection), each on its own
# connection so each is one finding with its encodings: base64 of a JSON document, base64url
# of a phone, JSON \u escapes, an HTML entity, a gzip body (Content-Encoding), a deflate body
# sent apart from its headers, a raw gzip'd CSV, and enroll's hash variants (SHA-256 upper
# case, MD5 of the E.164 phone). Benign look-alikes (base64 of random bytes, a gzip of lorem,
# "Content-Type" headers) give nothing.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
e2e_setup

# send_py IP PORT PYEXPR...: one connection, one send() per PYEXPR (the bytes it evaluates to),
# 50 ms apart.
send_py() {
	py_client send_exprs.py "$@"
}

B=$IP_BROKER
P=$PORT_RAW
monitor_start
# u001 phone in a JSON document, base64 at offset 1 of a query string
send_py "$B" "$P" 'b"GET /t?d=" + base64.b64encode(b"{\"a\":1,\"tel\":\"13712340001\"}") + b" HTTP/1.1\r\n\r\n"'
# u002 email: base64url alone
send_py "$B" "$P" 'b"token=" + base64.urlsafe_b64encode(b"li.na@example.org").rstrip(b"=") + b"\n"'
# u003 email with \u0040 in JSON
send_py "$B" "$P" 'b"{\"contact\":\"wang.fang\\u0040example.net\"}"'
# u004 email as an HTML entity
send_py "$B" "$P" 'b"<td>chen.jie&#64;example.com</td>"'
# u005 phone in a gzip body with Content-Encoding
send_py "$B" "$P" 'b"POST /u HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\n\r\n" + gzip.compress(b"phone=13955550005&x=1")'
# u001 national id: deflate body sent after its headers
send_py "$B" "$P" 'b"POST /v HTTP/1.1\r\nContent-Encoding: deflate\r\nContent-Type: text/csv\r\nContent-Length: %d\r\n\r\n" % len(zlib.compress(b"id,nid\n9,310115198511122624\n"))' 'zlib.compress(b"id,nid\n9,310115198511122624\n")'
# u002 phone: a gzip'"'"'d CSV sent raw (gzip magic)
send_py "$B" "$P" 'gzip.compress(b"subject,phone\n1,15898760002\n")'
# u003 email: SHA-256 hex, upper case (an audience list)
send_py "$B" "$P" 'b"hash," + hashlib.sha256(b"wang.fang@example.net").hexdigest().upper().encode() + b"\n"'
# u005 phone: MD5 of E.164
send_py "$B" "$P" 'b"{\"m\":\"" + hashlib.md5(b"+8613955550005").hexdigest().encode() + b"\"}"'
# benign: base64 of random bytes, gzip of lorem, headers
send_py "$B" "$P" 'b"x=" + base64.b64encode(bytes(range(200))) + b"\r\nContent-Type: text/plain\r\n"'
send_py "$B" "$P" 'b"POST /w HTTP/1.1\r\nContent-Encoding: gzip\r\n\r\n" + gzip.compress(b"lorem ipsum dolor sit amet 2026-11-28 12345678901 " * 50)'
wait_findings 9
monitor_stop
expect_findings 9
expect_every '.verdict == "unconsented" and .channel == $tcp and .destination.ip == $broker'
expect_finding '.subject == "u001" and .fields == ["phone"] and .evidence.encodings == ["base64"]'
expect_finding '.subject == "u002" and .fields == ["email"] and .evidence.encodings == ["base64"]'
expect_finding '.subject == "u003" and .fields == ["email"] and .evidence.encodings == ["json-escape"]'
expect_finding '.subject == "u004" and .fields == ["email"] and .evidence.encodings == ["html-entity"]'
expect_finding '.subject == "u005" and .fields == ["phone"] and .evidence.encodings == ["gzip"]'
expect_finding '.subject == "u001" and .fields == ["national_id"] and .evidence.encodings == ["deflate"]'
expect_finding '.subject == "u002" and .fields == ["phone"] and .evidence.encodings == ["gzip"]'
expect_finding '.subject == "u003" and .fields == ["email"] and .evidence.encodings == ["sha256"]'
expect_finding '.subject == "u005" and .fields == ["phone"] and .evidence.encodings == ["md5"]'
[[ "$(summary_value "deep sends")" -ge 8 ]] || fail "summary: fewer than 8 deep sends"
expect_no_raw_values

# --decode off: payload bytes stay in the kernel; the base64 rendering is counted, not found.
monitor_start --decode off
send_py "$B" "$P" 'b"GET /t?d=" + base64.b64encode(b"{\"a\":1,\"tel\":\"13712340001\"}") + b" HTTP/1.1\r\n\r\n"'
monitor_stop
expect_findings 0
[[ "$(summary_value "not decoded")" -ge 1 ]] || fail "summary: the undecoded send is not counted"
[[ "$(summary_value "deep sends")" == 0 ]] || fail "--decode off handed bytes over"

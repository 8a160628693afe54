#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# HTTP/2 over cleartext (curl --http2-prior-knowledge, nghttpd in the peer namespace): registered
# values in the request path and in custom headers (Huffman-coded by curl's HPACK encoder), in
# DATA cut across two frames (and two sends), in a gzip'd body, in a header repeated on three
# requests of one connection (a dynamic table reference after the first; a small nghttp2 client,
# tests/e2e/clients/h2c_seq.c, since curl 7.88 cannot reuse an h2c connection), and a gRPC-style
# request whose :authority resolves the recipient by host selector. None of these findings (or
# that recipient) exists without the HPACK decoding and frame reassembly: run 2 with
# --decode off shows it for the header.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
# shellcheck source-path=SCRIPTDIR source=lib/h2.sh
source "$(dirname "$0")/lib/h2.sh"
e2e_setup
h2_setup
H2C_BIN="$WORK/cs-h2c"
gcc -O2 -o "$H2C_BIN" "$E2E_DIR/clients/h2c_seq.c" -lnghttp2 ||
	fail "cannot build the h2c test client (libnghttp2-dev; scripts/setup)"
base="http://$IP_BROKER:$H2_PORT"
# (c) a phone across the first DATA frame's end: 16384 payload bytes per frame
"$PY" -I -c 'import sys; sys.stdout.write(" " * 16378 + "18611112233" + " " * 100)' >"$WORK/body_c"
# (c2) a gzip'd JSON body
printf '{"mail":"chen.jie@example.com","n":1}' | gzip -c >"$WORK/body_gz"
# (e) one gRPC message: compressed flag 0, length, protobuf field 1 (string)
"$PY" -I -c '
import sys
m = b"\x0a\x0b" + b"13955550005" + b"\x10\x01"
sys.stdout.buffer.write(b"\x00" + len(m).to_bytes(4, "big") + m)' >"$WORK/body_grpc"

info "run 1: h2c requests"
monitor_start --all -v
h2_curl "$base/users/13712340001/profile" -- -d '{"a":1}'
# a weak field (a name, UTF-8) counts beside the strong one, both only in decoded fields
h2_curl "$base/v1/b" -- -H 'x-user-email: li.na@example.org' -H 'x-user-name: 李娜' -d '{"b":2}'
h2_curl "$base/v1/c" -- -H 'content-type: text/plain' --data-binary "@$WORK/body_c"
h2_curl "$base/v1/gz" -- -H 'content-encoding: gzip' --data-binary "@$WORK/body_gz"
h2_doc /v1/d1 /v1/d2 /v1/d3
"$H2C_BIN" "$IP_BROKER" "$H2_PORT" "$IP_BROKER:$H2_PORT" '{}' -H 'x-account:zhang.wei@example.com' \
	/v1/d1 /v1/d2 /v1/d3 >"$WORK/h2c.out" 2>&1 || fail "cs-h2c failed: $(cat "$WORK/h2c.out")"
h2_curl "http://api.tracker.example:$H2_PORT/cs.Profile/Update" -- \
	--resolve "api.tracker.example:$H2_PORT:$IP_HOSTSEL" -H 'content-type: application/grpc' \
	-H 'te: trailers' --data-binary "@$WORK/body_grpc"
wait_findings 8
monitor_stop
expect_findings 8
common='.verdict == "unconsented" and .channel == $tcp
	and (.process.comm == "curl" or .process.comm == "cs-h2c")
	and .destination.port == $port_h2 and .message.bytes > 0 and .message.subjects == 1
	and .message.http.version == "2" and .message.http.method == "POST"'
expect_every "$common"
broker='.recipient == "databroker" and .recipient_kind == "third-party"
	and .destination.ip == $broker'
# (a) the path, Huffman-coded
expect_finding "$broker"' and .subject == "u001" and .fields == ["phone"]
	and .message.http.path == "/users/{phone}/profile" and .evidence.encodings == ["hpack"]'
# (b) custom headers
expect_finding "$broker"' and .subject == "u002" and .fields == ["email", "name"]
	and .message.http.path == "/v1/b" and .evidence.encodings == ["hpack"]'
# (c) DATA joined across frames and sends
expect_finding "$broker"' and .subject == "u003" and .fields == ["phone"]
	and .message.http.path == "/v1/c" and .evidence.encodings == []'
# (c2) gzip'd DATA
expect_finding "$broker"' and .subject == "u004" and .fields == ["email"]
	and .message.http.path == "/v1/gz" and .evidence.encodings == ["gzip"]'
# (d) one connection, the header indexed after the first request: one finding per request
for p in d1 d2 d3; do
	expect_finding "$broker"' and .subject == "u001" and .fields == ["email"]
		and .process.comm == "cs-h2c"
		and .message.http.path == "/v1/'"$p"'" and .evidence.encodings == ["hpack"]'
done
n=$(findings_jq '[.[] | select(.subject == "u001" and .fields == ["email"]) | .message.id]
	| unique | length')
((n == 3)) || fail "the three requests of one connection share message ids ($n distinct)"
# (e) gRPC: the recipient from :authority (the address .60 has no selector of its own)
expect_finding '.subject == "u005" and .fields == ["phone"] and .recipient == "tracker-api"
	and .recipient_kind == "third-party" and .destination.ip == $hostsel
	and .destination.host == "api.tracker.example"
	and .message.http.path == "/cs.Profile/Update" and .evidence.encodings == []'
(($(summary_value "http/2 flows") == 6)) || fail "summary: http/2 flows is not 6"
(($(summary_value "http/2 desyncs") == 0)) || fail "summary: http/2 desyncs is not 0"
(($(summary_value "http/2 header blocks") >= 8)) || fail "summary: fewer than 8 header blocks"

info "run 2: --decode off: the header is not decoded (the finding of run 1 came from HPACK)"
monitor_start --all --decode off
h2_curl "$base/v1/b" -- -H 'x-user-email: li.na@example.org' -d '{"b":2}'
monitor_stop
expect_findings 0
(($(summary_value "not decoded") >= 3)) || fail "summary: sends not decoded not counted"
expect_no_raw_values

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# Runs too short for a strong value are not tokenised (the test DB's shortest strong token is an
# 11-digit phone), in binary sends of 4-16 KiB: a phone in the middle, with the subject's
# Chinese name (weak, in a skipped run) 300 bytes before it, which the whole-send rescan of a
# send with a hit must still find; a phone split across two sends whose first ends in a 6-digit
# run; an email across the 1 KiB chunk boundary; a phone in digit groups followed by a space and
# a word; a benign binary send. The same sends with
# --scan-all give the same findings and tokenise every byte.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
e2e_setup

send_all() {
	py '
import random, socket, sys, time
r = random.Random(7)
def noise(n):
    return bytes(r.randrange(256) for _ in range(n))
def conn():
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s
def done(s):
    s.shutdown(socket.SHUT_WR)
    s.recv(100)
    s.close()
# u001: name 300 bytes before the phone, both between NUL bytes, in 16 KiB of noise
s = conn()
s.sendall(noise(4700) + b"\0" + "张伟".encode() + b"\0" + noise(300) + b"\0" + b"13712340001" +
          b"\0" + noise(11000))
done(s)
# u002: phone split across two sends of one socket, the first ends in "158987"
s = conn()
s.send(noise(3000) + b"\x00158987")
time.sleep(0.05)
s.send(b"60002\0" + noise(3000))
done(s)
# u004: email over the 1 KiB chunk boundary (bytes 1015..1034)
s = conn()
s.sendall(noise(1014) + b"\0" + b"chen.jie@example.com" + b"\0" + noise(3000))
done(s)
# u005: a phone in digit groups, then a space and a word (the D token ends at the word)
s = conn()
s.sendall(noise(2000) + b"\0tel 139 5555 0005 ok\0" + noise(2000))
done(s)
# benign
s = conn()
s.sendall(noise(16000))
done(s)
' "$IP_BROKER" "$PORT_RAW"
}

check() {
	expect_findings 4
	expect_every '.recipient == "databroker" and .destination.ip == $broker and .channel == $tcp'
	expect_finding '.subject == "u001" and .fields == ["name", "phone"] and .evidence.encodings == []'
	expect_finding '.subject == "u002" and .fields == ["phone"] and .evidence.encodings == ["split"]'
	expect_finding '.subject == "u004" and .fields == ["email"] and .evidence.encodings == []'
	expect_finding '.subject == "u005" and .fields == ["phone"] and .evidence.encodings == []'
	expect_no_raw_values
}

monitor_start
send_all
wait_findings 4
monitor_stop
check
skipped=$(summary_value 'bytes not tokenised')
((skipped > 20000)) || fail "expected most of the noise not tokenised, got $skipped bytes"
grep -q "bytes not tokenised .*; 4 sends tokenised again whole, 0 bytes of them unreadable again" "$MONLOG" ||
	fail "expected the 4 sends with a hit and skipped runs rescanned whole: $(grep 'not tokenised' "$MONLOG")"
info "ok: $skipped bytes not tokenised, 4 sends tokenised again"
hits=$(summary_value hits)
tokens=$(summary_value 'tokens hashed')

monitor_start --scan-all
send_all
wait_findings 4
monitor_stop
check
[[ "$(summary_value 'bytes not tokenised')" == 0 ]] || fail "--scan-all skipped bytes"
# a rescan's tokens and hits are not counted twice: no more distinct hits than a full scan
# (which also hashes the skipped runs of sends without a strong hit), and fewer tokens
((hits <= $(summary_value hits))) ||
	fail "hits: $hits with skipping, more than $(summary_value hits) with --scan-all"
(($(summary_value 'tokens hashed') > tokens)) ||
	fail "tokens hashed: $tokens with skipping, not fewer than $(summary_value 'tokens hashed')"
info "ok: $hits hits against $(summary_value hits), $tokens tokens hashed against $(summary_value 'tokens hashed')"

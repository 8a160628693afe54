#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# --scan-limit applies to TLS plaintext: one SSL_write_ex of a request with a 40 KiB JSON body
# whose registered value sits in the first KiB, under --scan-limit 16384: one finding with
# evidence.truncated true, 16384 bytes inspected of the whole write, and the summary counts
# the rest as uninspected, on the flow to the peer (coverage is never silent).
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
# shellcheck source-path=SCRIPTDIR source=lib/tls.sh
source "$(dirname "$0")/lib/tls.sh"
e2e_setup
tls_setup
limit=16384
body="$TLS_DIR/big.json"
"$PY" -I -c '
import sys
head = "{\"user\":{\"phone\":\"15898760002\"},\"padding\":\""
tail = "\"}"
n = 40960 - len(head) - len(tail)
sys.stdout.write(head + ("padding " * (n // 8 + 1))[:n] + tail)
' >"$body"
(($(stat -c %s "$body") == 40960)) || fail "test body is not 40960 bytes"
monitor_start --scan-limit "$limit"
tls_pyraw "@$body"
cpid=$TLS_PID
tls_wait_requests 1
grep -q ' body 40960$' "$TLS_LOG" || fail "server did not read the whole body: $(cat "$TLS_LOG")"
# Head plus body, as the client wrote them in one sendall() (one SSL_write_ex).
reqlen=$(awk '$1 == "done" && $2 == 200 && $3 == "len" { print $4 }' "$TLS_DIR/pyraw.out")
if ! [[ "$reqlen" =~ ^[0-9]+$ ]] || ((reqlen <= 40960)); then
	fail "client reported no request length: $(cat "$TLS_DIR/pyraw.out")"
fi
wait_findings 1
monitor_stop
tls_expect_one u002 '["phone"]' python3 openssl "$cpid" '.evidence.truncated == true
	and .evidence.bytes_inspected == '"$limit"' and .evidence.bytes_total == '"$reqlen"
uninspected=$(summary_value "bytes uninspected")
info "summary: bytes uninspected $uninspected (request $reqlen bytes, limit $limit)"
((uninspected >= reqlen - limit)) ||
	fail "summary counts $uninspected bytes uninspected, expected >= $((reqlen - limit))"
# The per-flow report names the flow to the peer with uninspected bytes.
pat="^[[:space:]]*flow .* -> ${IP_PEER//./\\.}:$TLS_PORT/tcp: [0-9]+ of [0-9]+ bytes uninspected"
flow=$(grep -a -E "$pat" "$MONLOG" | head -n 1)
[[ -n "$flow" ]] || fail "no 'flow ... -> $IP_PEER:$TLS_PORT/tcp: N of M bytes uninspected' line"
[[ "$flow" =~ :\ ([0-9]+)\ of\ ([0-9]+)\ bytes ]] || fail "cannot parse: $flow"
((BASH_REMATCH[1] >= reqlen - limit)) ||
	fail "flow line counts ${BASH_REMATCH[1]} uninspected, expected >= $((reqlen - limit)): $flow"
info "ok: $flow"
expect_no_raw_values

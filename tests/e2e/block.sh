#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# run --block: the kernel refuses a send holding a registered strong value to an unknown
# destination or (unconsented) to a third party without consent, and nothing else. A refused
# POST never reaches the peer (its byte count stays put) and curl fails; an allowed one gets
# 200. TCP (sk_msg), UDP (egress), TLS plaintext (the socket of the write), a host known by
# HTTP Host or TLS SNI; consent granted by a reload unblocks at once; a 10 MB benign upload
# goes through; --block unknown lets a known third party through, and an address once a DNS
# answer names it for a host selector; --block with the tracepoints is refused. The lease (fail-open) and kill -9: block_failopen.sh.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
# shellcheck source-path=SCRIPTDIR source=lib/tls.sh
source "$E2E_DIR/lib/tls.sh"
e2e_setup
tls_setup

# expect_post WANT URL DATA [curl args]: WANT "ok" (HTTP 200, the peer's byte count grew) or
# "blocked" (curl failed with no answer, the peer's byte count did not move)
expect_post() {
	local want=$1 url=$2 data=$3 before after got
	shift 3
	before=$(peer_bytes tcp "$PORT_HTTP")
	got=$(post_status "$url" "$data" "$@")
	sleep 0.3 # the peer logs a connection when it closes
	after=$(peer_bytes tcp "$PORT_HTTP")
	case $want in
	ok) [[ "$got" == "0 200" && $after -gt $before ]] ||
		fail "POST $url $data: expected to pass, got curl/HTTP '$got', peer bytes $before -> $after" ;;
	blocked) [[ "$got" != "0 200" && "$got" == *" 000" && $after -eq $before ]] ||
		fail "POST $url $data: expected to be refused, got curl/HTTP '$got', peer bytes $before -> $after" ;;
	esac
	info "ok: POST $url $data: $want ($got)"
}

"$CONSENTRY" run -f "$FP" -k "$KEY" -c "$CONSENT" -R "$RECIPIENTS" --block unconsented \
	--capture tracepoints >"$WORK/tp.out" 2>&1 && fail "--block with --capture tracepoints started"
grep -q 'cannot refuse' "$WORK/tp.out" || fail "--block --capture tracepoints: $(cat "$WORK/tp.out")"

monitor_start --all --block unconsented
# unknown destination: refused; u001's phone to adpartner (consented): passes
expect_post blocked "http://$IP_UNKNOWN:$PORT_HTTP/" '{"email":"zhang.wei@example.com"}'
expect_post ok "http://$IP_AD:$PORT_HTTP/" '{"phone":"13712340001"}'
# u002 consented its phone to adpartner, not its email; exempt first party; no registered value
expect_post blocked "http://$IP_AD:$PORT_HTTP/" '{"email":"li.na@example.org"}'
expect_post ok "http://$IP_FIRST:$PORT_HTTP/" '{"email":"li.na@example.org"}'
expect_post ok "http://$IP_UNKNOWN:$PORT_HTTP/" '{"note":"nothing registered here 13712340009"}'
# a host known by its Host header: tracker-api (third party, no consent)
expect_post blocked "http://$IP_HOSTSEL:$PORT_HTTP/" '{"phone":"15898760002"}' -H 'Host: API.Tracker.Example:8080'
# UDP to an unknown destination: the datagram is dropped at egress
before=$(peer_received udp "$PORT_UDP")
"$PY" -I "$E2E_DIR/clients/send.py" udp "$IP_UNKNOWN" "$PORT_UDP" 'phone=15898760002' \
	2>"$WORK/udp.err" && fail "sendto of the refused datagram succeeded"
grep -q PermissionError "$WORK/udp.err" || fail "refused datagram: $(cat "$WORK/udp.err")"
udp_send "$IP_FIRST" "$PORT_UDP" 'phone=15898760002'
wait_peer udp "$PORT_UDP" $((before + 1))
sleep 0.5
(($(peer_received udp "$PORT_UDP") == before + 1)) || fail "the UDP datagram to the unknown destination was not dropped"
# TLS: the plaintext's socket is refused (the recipient is known by SNI: tls-partner, no consent)
# tls_reqs: HTTP requests the HTTPS server read whole
tls_reqs() { grep -c '^req ' "$TLS_LOG" || true; }
rc=0
reqs=$(tls_reqs)
curl -sS -m 10 --http1.1 -o /dev/null --cacert "$TLS_CA" --resolve "$TLS_HOST:$TLS_PORT:$IP_PEER" \
	-H 'Content-Type: application/json' --data-binary '{"email":"li.na@example.org"}' \
	"$(tls_url)" 2>"$WORK/tls-curl.err" || rc=$?
((rc != 0)) || fail "TLS POST to a third party without consent passed"
sleep 0.3
(($(tls_reqs) == reqs)) || fail "the HTTPS server read the refused request"
info "ok: TLS POST refused (curl exit $rc: $(head -c 200 "$WORK/tls-curl.err"))"
tls_curl '{"note":"no registered value"}'
# a later write on a connection whose socket the uprobe knows: its socket is cut for the
# ciphertext (the first request of the two passes, the second is refused)
tls_two() {
	curl -sS -m 10 --http1.1 -o /dev/null --cacert "$TLS_CA" --resolve "$TLS_HOST:$TLS_PORT:$IP_PEER" \
		-H 'Content-Type: application/json' --data-binary "$1" "$(tls_url)" --next \
		-sS -m 10 --http1.1 -o /dev/null --cacert "$TLS_CA" --resolve "$TLS_HOST:$TLS_PORT:$IP_PEER" \
		-H 'Content-Type: application/json' --data-binary "$2" "$(tls_url)"
}
rc=0
reqs=$(tls_reqs)
tls_two '{"note":"first"}' '{"phone":"15898760002"}' 2>"$WORK/tls-two.err" || rc=$?
((rc != 0)) || fail "the second TLS POST on one connection passed"
sleep 0.3
(($(tls_reqs) == reqs + 1)) || fail "the HTTPS server read $(($(tls_reqs) - reqs)) requests of the connection, expected the first one only"
grep -q '^req .* body 16$' "$TLS_LOG" || fail "the first request's body (16 bytes) is not in the server's log"
info "ok: second TLS POST on one connection refused (curl exit $rc)"
# a 10 MB upload without a registered value to an unknown destination passes whole
head -c 10000000 /dev/urandom | base64 -w 0 >"$WORK/big"
expect_post ok "http://$IP_UNKNOWN:$PORT_HTTP/" "@$WORK/big"
# consent granted by a reload unblocks at once
echo "u002,adpartner,email,2025-01-01T00:00:00Z,,,marketing" >>"$CONSENT"
monitor_hup 1
expect_post ok "http://$IP_AD:$PORT_HTTP/" '{"email":"li.na@example.org"}'
wait_findings 12
monitor_stop
blocked=$(summary_value blocked)
info "summary: $(grep -E '^ *(blocked|block tables)' "$MONLOG" | tr -s ' ')"
# 7: curl sends the refused request of a reused connection again on a new one, refused too
((blocked == 7)) || fail "summary: $blocked sends blocked, expected 7"
expect_finding '.subject == "u001" and .destination.ip == $unknown and .action == "blocked"
	and .verdict == "unconsented" and .recipient == null'
expect_finding '.subject == "u001" and .destination.ip == $ad and .action == "reported"
	and .verdict == "consented"'
expect_finding '.subject == "u002" and .destination.ip == $ad and .fields == ["email"]
	and .action == "blocked" and .verdict == "unconsented"'
expect_finding '.subject == "u002" and .destination.ip == $ad and .fields == ["email"]
	and .action == "reported" and .verdict == "consented"'
expect_finding '.subject == "u002" and .recipient == "tracker-api" and .action == "blocked"'
expect_finding '.subject == "u002" and .destination.ip == $unknown and .channel == $udp
	and .action == "blocked"'
expect_finding '.subject == "u002" and .recipient == $tls_rcpt and .fields == ["email"]
	and .action == "blocked"'
n=$(findings_jq 'map(select(.subject == "u002" and .recipient == $tls_rcpt and .fields == ["phone"]
	and .action == "blocked")) | length')
((n == 2)) || fail "$n blocked findings of the second TLS request (its write and curl's retry), expected 2"
expect_no_raw_values

# --block unknown: a known third party without consent passes, an unknown destination does
# not; the TLS host is known by its SNI through the *.partner.example selector
monitor_start --all --block unknown
expect_post ok "http://$IP_BROKER:$PORT_HTTP/" '{"email":"li.na@example.org"}'
expect_post blocked "http://$IP_UNKNOWN:$PORT_HTTP/" '{"email":"li.na@example.org"}'
tls_curl '{"email":"li.na@example.org"}'
rc=0
curl -sS -m 10 --http1.1 -k -o /dev/null --resolve "other.example:$TLS_PORT:$IP_PEER" \
	--data-binary '{"email":"li.na@example.org"}' "https://other.example:$TLS_PORT/" \
	2>/dev/null || rc=$?
((rc != 0)) || fail "--block unknown: TLS POST to an unknown SNI passed"
# an address a DNS answer gives for a host selector's name is that recipient's (tracker-api):
# a raw send there (no Host, no TLS) is refused before the lookup and passes after it
ip netns exec "$NS" "$PY" -I "$E2E_DIR/clients/dns_server.py" "$IP_PEER" "$IP_HOSTSEL" &
track_pid $!
"$PY" -I "$E2E_DIR/clients/send.py" tcp "$IP_HOSTSEL" "$PORT_RAW" '{"phone":"15898760002"}' \
	2>/dev/null && fail "--block unknown: a raw send to an address no answer named passed"
py_client dns_query.py "$IP_PEER" api.tracker.example "$IP_HOSTSEL"
sleep 0.5 # the collector reads the answer (a send before that is refused: docs/enforce.md)
tcp_send "$IP_HOSTSEL" "$PORT_RAW" '{"phone":"15898760002"}'
wait_findings 6
monitor_stop
(($(summary_value blocked) == 3)) || fail "--block unknown: $(summary_value blocked) blocked, expected 3"
expect_finding '.destination.ip == $hostsel and .recipient == null and .action == "blocked"'
expect_finding '.destination.ip == $hostsel and .recipient == "tracker-api" and .action == "reported"'
expect_finding '.destination.ip == $broker and .recipient == "databroker" and .action == "reported"
	and .verdict == "unconsented"'
expect_finding '.recipient == $tls_rcpt and .action == "reported"'
expect_finding '.destination.host == "other.example" and .action == "blocked"'

# a TLS write refused on a kept-alive connection is one block: its ciphertext, dropped at the
# socket the mark cut, is not counted again as a later send. The socket's next send (raw bytes
# past TLS) is refused by the kernel itself: tcp_bpf keeps a dropped socket's verdict, so the
# program does not run for it and nothing counts it (docs/enforce.md)
monitor_start --block unconsented
reqs=$(tls_reqs)
out=$("$PY" -I "$E2E_DIR/clients/tls_cut.py" "$IP_PEER" "$TLS_PORT" "$TLS_HOST" "$TLS_CA" \
	'{"phone":"15898760002"}' 2>&1) || fail "tls_cut.py: $out"
info "tls_cut: $(echo "$out" | tr '\n' ' ')"
[[ "$out" == $'first 200\nsecond refused '*$'\nraw refused '* ]] ||
	fail "tls_cut: expected the first POST answered and both later sends refused, got: $out"
sleep 0.3
(($(tls_reqs) == reqs + 1)) || fail "the HTTPS server read $(($(tls_reqs) - reqs)) requests of the cut connection, expected 1"
wait_findings 1
monitor_stop
line=$(grep -a -E '^ *blocked ' "$MONLOG")
[[ "$line" =~ blocked\ +1\ .*later\ sends\ on\ a\ cut\ socket\ 0\; ]] ||
	fail "cut TLS connection: expected 1 blocked and 0 later sends on a cut socket, got: $line"
expect_finding '.recipient == $tls_rcpt and .fields == ["phone"] and .action == "blocked"'
expect_no_raw_values

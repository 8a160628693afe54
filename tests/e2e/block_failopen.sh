#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# run --block fails open: a collector that stops answering (SIGSTOP) lets its 3 s lease run
# out and the kernel refuses nothing more (counted) until it runs again; a collector killed
# with SIGKILL leaves nothing that refuses (no program of its left loaded). Loopback and DNS
# are never refused.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
e2e_setup
BODY='{"email":"li.na@example.org"}'

URL="http://$IP_UNKNOWN:$PORT_HTTP/"

# no exec hold: anything exec'd while the collector is stopped would wait for its bound
before_ids=$(prog_ids)
monitor_start --all --block unknown --exec-hold off
got=$(post_status "$URL" "$BODY")
[[ "$got" == *" 000" ]] || fail "not refused with the collector running: $got"
# DNS (53) and loopback are never refused, whatever they carry
"$PY" -I "$E2E_DIR/clients/send.py" udp "$IP_UNKNOWN" 53 'phone=15898760002' ||
	fail "a datagram to port 53 was refused"
"$PY" -I -c 'import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
c = socket.create_connection(s.getsockname()); c.sendall(sys.argv[1].encode()); c.close()' \
	'{"phone":"15898760002"}' || fail "a loopback send was refused"
kill -STOP "$MON_PID"
t0=$EPOCHREALTIME
refused=0
while :; do
	got=$(post_status "$URL" "$BODY")
	[[ "$got" == "0 200" ]] && break
	refused=$((refused + 1))
	(($(elapsed_ms "$t0") < 8000)) || {
		kill -CONT "$MON_PID"
		fail "still refused 8 s after the collector stopped: $got"
	}
	sleep 0.2
done
open_ms=$(elapsed_ms "$t0")
kill -CONT "$MON_PID"
info "collector stopped: sends pass again after $open_ms ms (lease 3 s; $refused refused meanwhile)"
((open_ms >= 1500)) || fail "refusing stopped after $open_ms ms: sooner than the lease"
sleep 2 # a tick renews the lease
got=$(post_status "$URL" "$BODY")
[[ "$got" == *" 000" ]] || fail "not refused again after the collector resumed: $got"
wait_findings $((refused + 3))
monitor_stop
# refused: before the stop, the POSTs of the lease's last seconds, and after the resume
(($(summary_value blocked) == refused + 2)) ||
	fail "$(summary_value blocked) refused, expected $((refused + 2))"
lease=$(grep -oE 'lease run out [0-9]+' "$MONLOG" | grep -oE '[0-9]+$')
((lease >= 1)) || fail "summary: no send counted as passed with the lease run out"
info "summary: $(grep -E '^ *blocked' "$MONLOG" | tr -s ' ')"

# kill -9: nothing the monitor loaded stays, nothing refuses
monitor_start --block unknown --exec-hold off
got=$(post_status "$URL" "$BODY")
[[ "$got" == *" 000" ]] || fail "not refused with the second monitor running: $got"
kill -KILL "$MON_PID"
wait "$MON_PID" 2>/dev/null || true
MON_PID=
got=$(post_status "$URL" "$BODY")
[[ "$got" == "0 200" ]] || fail "refused after the monitor was killed: $got"
expect_no_programs_left "$before_ids"
info "ok: killed with SIGKILL, the next POST passed and no program is left"

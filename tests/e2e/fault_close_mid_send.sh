#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# A process that closes its socket in the middle of a send, to a peer that never reads:
# non-blocking sends until EAGAIN then close(), the same with SO_LINGER 0 (an RST discards
# the queue), and a blocking 4 MiB send() cut by shutdown(SHUT_RDWR) from another thread.
# The monitor (scoped to the client's cgroup, so its counters are the client's alone) does
# not crash, counts exactly the bytes each send took (bytes sent = inspected = the client's
# sum), reports one finding per send that took the value, and keeps no socket behind: its
# sockhash is empty once the sockets are gone (socket hooks), and a later send is reported as
# usual.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
e2e_setup
cg_temp "cs-fault-$$"
# listen PORT: a peer that accepts nothing until $WORK/drain-PORT exists, then reads its one
# connection to the end and prints "got BYTES" to $WORK/listener-PORT.out
listen() {
	ip netns exec "$NS" "$PY" -I "$E2E_DIR/clients/drain_listener.py" "$IP_BROKER" "$1" "$WORK/drain-$1" >"$WORK/listener-$1.out" &
	track_pid $!
	for ((i = 0; i < 50; i++)); do
		grep -q ready "$WORK/listener-$1.out" && return 0
		sleep 0.1
	done
	fail "listener on $1 did not start"
}
# drained PORT: make the listener read, then its byte count
drained() {
	touch "$WORK/drain-$1"
	for ((i = 0; i < 100; i++)); do
		grep -q '^got' "$WORK/listener-$1.out" && break
		sleep 0.1
	done
	awk '$1 == "got" { print $2 }' "$WORK/listener-$1.out"
}
client="$E2E_DIR/clients/close_mid_send.py"
# in_cg CMD...: run CMD inside the scoped cgroup (the subshell joins it, then execs)
in_cg() {
	(
		echo "$BASHPID" >"$CG/cgroup.procs" || exit 99
		exec "$@"
	)
}

monitor_start --cgroup "/cs-fault-$$"
port=9100
total=0
for mode in close linger0 shutdown; do
	port=$((port + 1))
	listen "$port"
	out=$(in_cg "$PY" -I "$client" "$mode" "$IP_BROKER" "$port" 13712340001) ||
		fail "client $mode failed"
	read -r _ _ calls _ bytes <<<"$out"
	((calls > 0 && bytes > 0 && bytes < 4 << 20)) || fail "$mode: not cut mid-send: $out"
	got=$(drained "$port")
	info "$mode: $calls call(s) took $bytes bytes; the peer read ${got:-?} after the close"
	# close and shutdown still send what was queued; an RST discards it
	if [[ "$mode" != linger0 ]]; then
		[[ "$got" == "$bytes" ]] || fail "$mode: peer read ${got:-nothing}, the client sent $bytes"
	fi
	total=$((total + bytes))
	wait_findings "${mode_n:=1}" 10
	mode_n=$((mode_n + 1))
done
# a send after all this is reported as usual
in_cg "$PY" -I "$E2E_DIR/clients/fault_load.py" --dst "$IP_BROKER:$PORT_RAW" \
	--value 15898760002 --count 3 --rate 20 >/dev/null || fail "load client failed"
wait_findings 6 10
sleep 1
# no socket of ours left in the sockhash (the monitor adds only its scope's sockets)
left=$(monitor_maps | awk '$2 == "sockhash" { print $1 }' | while read -r id; do
	map_entries "$id"
done | awk '{ n += $1 } END { print NR ? n : "" }')
monitor_stop
if [[ "$CH_TCP" == sk_msg ]]; then
	info "sockhash entries left: ${left:-none found}"
	[[ "$left" == 0 ]] || fail "sockhash entries left after every socket closed: ${left:-no sockhash found}"
fi
expect_findings 6
got=$(findings_jq '[.[] | "\(.subject) \(.process.comm)"] | group_by(.) |
	map("\(.[0]) \(length)") | join(",")')
[[ "$got" == '"u001 python3 3,u002 python3 3"' ]] || fail "findings $got, expected u001 x3 (one a mode), u002 x3"
inspected=$(summary_value "bytes inspected")
sent=$(summary_value "bytes sent")
info "summary: bytes sent $sent, inspected $inspected, uninspected $(summary_value "bytes uninspected"); the clients' sends took $((total + 96))"
(($(summary_value "bytes uninspected") == 0)) || fail "bytes uninspected"
# every byte a send took was inspected; the socket hooks count what they scanned as sent (the
# syscall tracepoints count what each call asked to send, retries and failed calls included)
((inspected >= total + 96)) || fail "bytes inspected $inspected < taken $((total + 96))"
if [[ "$CH_TCP" == sk_msg ]]; then
	((inspected == sent)) || fail "socket hooks: bytes inspected $inspected != bytes sent $sent"
fi
if [[ "$CH_TCP" == sk_msg ]]; then
	grep -q 'bytes queued without a verdict, scanned at egress (lost 0)' "$MONLOG" ||
		fail "bytes queued without a verdict lost: $(grep 'socket hooks' "$MONLOG")"
fi
info "ok: closed, reset and shut down mid-send: 1 finding each, every byte taken inspected, no socket left"

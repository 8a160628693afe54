#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# kill -9 of the monitor while a curl loop POSTs over HTTPS, then a new monitor: it starts
# (nothing left over blocks its uprobes), and reports every request that began after it was
# ready exactly once (no duplicate from leftover probes, no ciphertext report). After the final
# stop no BPF program, pin, uprobe perf event, uprobe link or tracefs uprobe_events entry made
# by either monitor remains. Checks host-wide BPF state like sigterm.sh: run it alone.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
# shellcheck source-path=SCRIPTDIR source=lib/tls.sh
source "$(dirname "$0")/lib/tls.sh"
e2e_setup
tls_setup
command -v bpftool >/dev/null || fail "bpftool not installed"
UPROBE_EVENTS=/sys/kernel/tracing/uprobe_events

# Uprobe attachments host-wide, without PIDs and fds: perf-event uprobes, uprobe links,
# tracefs uprobe_events (legacy attach), pins.
uprobe_state() {
	echo "== perf"
	bpftool -j perf 2>/dev/null | jq -r '.[]? | select((.fd_type // "") | test("uprobe"))
		| "\(.fd_type) \(.filename // "-") \(.offset // "-") prog \(.prog_id)"' | sort
	echo "== links"
	bpftool -j link list 2>/dev/null | jq -r '.[]? | select((.type // "") | test("uprobe"))
		| "link \(.id) \(.type) prog \(.prog_id)"' | sort
	echo "== uprobe_events"
	[[ -r "$UPROBE_EVENTS" ]] && sort "$UPROBE_EVENTS"
	echo "== pins"
	find /sys/fs/bpf -mindepth 1 2>/dev/null | sort
}
# Uprobes held by PID (perf events and links), plus tracefs entries added since "before".
uprobes_of() {
	local n m
	n=$(bpftool -j perf 2>/dev/null | jq --argjson p "$1" \
		'[.[]? | select(.pid == $p and ((.fd_type // "") | test("uprobe")))] | length')
	m=$(bpftool -j link list 2>/dev/null | jq --argjson p "$1" \
		'[.[]? | select(((.type // "") | test("uprobe")) and any(.pids[]?; .pid == $p))] | length')
	echo $((n + m))
}
now_ns() {
	date +%s%N
}

before_ids=$(prog_ids)
before_up=$(uprobe_state)
before_events=$([[ -r "$UPROBE_EVENTS" ]] && wc -l <"$UPROBE_EVENTS" || echo 0)

# The client loop: one curl per request, each line "PID START_NS END_NS EXIT HTTP_CODE".
LOOP_LOG="$WORK/loop.log"
LOOP_STOP="$WORK/loop.stop"
: >"$LOOP_LOG"
bodyf=$(tls_body_file '{"event":"heartbeat","user":{"mobile":"13955550005"}}')
client_loop() {
	local p t0 t1 rc code
	while [[ ! -e "$LOOP_STOP" ]]; do
		t0=$(now_ns)
		curl -sS -m 20 --http1.1 -o /dev/null -w '%{http_code}' --cacert "$TLS_CA" \
			--resolve "$TLS_HOST:$TLS_PORT:$IP_PEER" -H 'Expect:' \
			-H 'Content-Type: application/json' --data-binary "@$bodyf" "$(tls_url)" \
			>"$WORK/loop.code" 2>>"$WORK/loop.err" </dev/null &
		p=$!
		rc=0
		wait "$p" || rc=$?
		t1=$(now_ns)
		code=$(cat "$WORK/loop.code")
		echo "$p $t0 $t1 $rc ${code:-none}" >>"$LOOP_LOG"
		sleep 0.05
	done
}
loop_count_after() {
	awk -v t="$1" '$2 >= t' "$LOOP_LOG" | wc -l
}
wait_loop_after() {
	local t=$1 n=$2 i
	for ((i = 0; i < 300; i++)); do
		(($(loop_count_after "$t") >= n)) && return 0
		sleep 0.1
	done
	fail "client loop: only $(loop_count_after "$t") of $n requests after $t:
$(tail -n 5 "$LOOP_LOG") $(tail -n 5 "$WORK/loop.err")"
}

# Findings of one run as "pid" lines, after checking each is the loop's disclosure. Tolerates
# a partial last line (the first monitor is killed mid-run).
run_pids() {
	local file=$1 bad
	bad=$(jq -R -c "${JQ_VARS[@]}" 'fromjson? | select(
		(.verdict == "unconsented" and .subject == "u005" and .fields == ["phone"]
		 and .recipient == $tls_rcpt and .destination.ip == $peer
		 and .destination.port == $port_tls and .destination.host == $tls_host
		 and .process.comm == "curl" and .channel == "openssl") | not)' "$file")
	[[ -z "$bad" ]] || fail "unexpected finding(s) in $file: $bad"
	jq -R -r 'fromjson? | .process.pid' "$file"
}

# 1. First monitor, loop running, then kill -9 mid-loop.
monitor_start
m1=$MON_PID
ready1=$(now_ns)
up1=$(uprobes_of "$m1")
new_events=$(($([[ -r "$UPROBE_EVENTS" ]] && wc -l <"$UPROBE_EVENTS" || echo 0) - before_events))
((up1 + new_events > 0)) ||
	fail "no uprobe of the monitor visible (bpftool perf, bpftool link, $UPROBE_EVENTS)"
info "monitor 1 (pid $m1): $up1 uprobe perf event(s)/link(s), $new_events new uprobe_events line(s)"
client_loop &
loop_pid=$!
track_pid "$loop_pid"
wait_loop_after "$ready1" 4
killed=$(now_ns)
kill -KILL "$m1"
wait "$m1" 2>/dev/null || true
MON_PID=
f1=$FINDINGS
info "monitor 1 killed with SIGKILL"

# 2. Requests while no monitor runs, then a second monitor.
wait_loop_after "$killed" 2
launch2=$(now_ns)
monitor_start
m2=$MON_PID
ready2=$(now_ns)
wait_loop_after "$ready2" 6
touch "$LOOP_STOP"
wait "$loop_pid" || fail "client loop failed"
stopped=$(now_ns)
monitor_stop
f2=$FINDINGS

awk '$4 != 0 || $5 != 200 { bad = 1 } END { exit bad }' "$LOOP_LOG" ||
	fail "client loop had failed requests: $(awk '$4 != 0 || $5 != 200' "$LOOP_LOG")"
total=$(grep -c . "$LOOP_LOG")
tls_wait_requests "$total"

# Run 1: no duplicate, and every request between ready and (kill - 0.5 s) reported.
run_pids "$f1" >"$WORK/pids-1"
mapfile -t p1 <"$WORK/pids-1"
dups=$(printf '%s\n' "${p1[@]}" | sort | uniq -d | tr '\n' ' ')
[[ -z "${dups// /}" ]] || fail "monitor 1 reported requests (curl pids) more than once: $dups"
# shellcheck disable=SC2094 # the loop has ended: LOOP_LOG is only read
while read -r p t0 t1 _; do
	((t0 >= ready1 && t1 + 500000000 <= killed)) || continue
	printf '%s\n' "${p1[@]}" | grep -qx "$p" ||
		fail "monitor 1 missed the request of curl pid $p; loop:
$(cat "$LOOP_LOG")
monitor 1 findings:
$(cat "$f1")"
done <"$LOOP_LOG"
info "ok: monitor 1: ${#p1[@]} finding(s), one per request"

# Run 2: exactly one finding per request that began after it was ready; none for requests
# that ended before it was started; nothing else.
findings_jq length >/dev/null
run_pids "$f2" >"$WORK/pids-2"
mapfile -t p2 <"$WORK/pids-2"
dups=$(printf '%s\n' "${p2[@]}" | sort | uniq -d | tr '\n' ' ')
[[ -z "${dups// /}" ]] || fail "monitor 2 reported requests (curl pids) more than once: $dups"
must=0
while read -r p t0 t1 _; do
	if ((t0 >= ready2 && t1 <= stopped)); then
		must=$((must + 1))
		printf '%s\n' "${p2[@]}" | grep -qx "$p" || fail "monitor 2 missed the request of curl pid $p"
	fi
done <"$LOOP_LOG"
for p in "${p2[@]}"; do
	line=$(awk -v p="$p" '$1 == p' "$LOOP_LOG")
	[[ -n "$line" ]] || fail "monitor 2 reported pid $p, which is no request of the loop"
	read -r _ _ t1 _ <<<"$line"
	((t1 >= launch2)) || fail "monitor 2 reported pid $p, whose request ended before it started"
done
((must >= 6)) || fail "only $must requests fell within monitor 2's run"
info "ok: monitor 2: ${#p2[@]} finding(s), one per request; $must requests inside its run," \
	"$total in all"

# 3. Nothing left behind.
expect_no_programs_left "$before_ids"
after_up=$(uprobe_state)
[[ "$after_up" == "$before_up" ]] || fail "uprobe state differs after exit:
$(diff <(echo "$before_up") <(echo "$after_up"))"
info "ok: no program, uprobe, link, uprobe_events entry or pin left (monitors $m1, $m2)"
expect_no_raw_values

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# kill -9 of the monitor at random moments (while it loads, attaches, or runs) under load,
# several times: nothing of it is left. No BPF program, map or link of its names, no cgroup
# attachment, no pin, no exec-hold watchdog, no process left held; and no tracefs mount: the
# monitors run in a mount namespace without tracefs (a holder process keeps it), where they
# must mount it themselves, and a mount made by a monitor killed with SIGKILL must not stay
# there. A monitor started after the last kill loads cleanly and reports exactly.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
e2e_setup
command -v bpftool >/dev/null || fail "bpftool not installed"
command -v nsenter >/dev/null || fail "nsenter not installed (util-linux)"
REAL=$CONSENTRY

# the mount namespace without tracefs (nor debugfs, which would mount it on access)
unshare -m --propagation private sleep 100000 &
HOLDER=$!
track_pid "$HOLDER"
for ((i = 0; i < 50; i++)); do
	[[ "$(readlink "/proc/$HOLDER/ns/mnt")" != "$(readlink /proc/self/ns/mnt)" ]] && break
	sleep 0.1
done
nsenter -t "$HOLDER" -m sh -c 'for m in /sys/kernel/debug/tracing /sys/kernel/tracing /sys/kernel/debug; do
	while mountpoint -q "$m"; do umount -l "$m" || exit 1; done
done' || fail "cannot unmount tracefs in the test's mount namespace"
ns_tracefs() {
	awk '$3 == "tracefs" || $3 == "debugfs" { print $2 }' "/proc/$HOLDER/mounts"
}
[[ -z "$(ns_tracefs)" ]] || fail "tracefs still mounted in the test namespace: $(ns_tracefs)"
CONSENTRY="$WORK/consentry-in-ns"
printf '#!/bin/sh\nexec nsenter -t %s -m -- %s "$@"\n' "$HOLDER" "$REAL" >"$CONSENTRY"
chmod +x "$CONSENTRY"

cg2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
# BPF ids grow: objects made from now on have larger ones
base_prog=$(bpftool -j prog list | jq '[.[].id] | max // 0')
base_map=$(bpftool -j map list | jq '[.[].id] | max // 0')
base_link=$(bpftool -j link list | jq '[.[].id] | max // 0')
# names of what a monitor loads, from one that reached ready
monitor_start
OURS=$(
	{
		bpftool -j prog list | jq -r --argjson p "$MON_PID" '.[] | select(any(.pids[]?; .pid == $p)) | .name'
		monitor_maps | awk '{ print $3 }'
	} | sort -u | jq -R -s -c 'split("\n") | map(select(length > 0))'
)
[[ -n "$(ns_tracefs)" ]] && fail "the monitor's tracefs mount shows in the namespace it was started from"
monitor_stop
(($(jq length <<<"$OURS") >= 10)) || fail "too few BPF object names of the monitor: $OURS"
# ours_left: our programs, maps, links and cgroup attachments on the host, one a line
ours_left() {
	bpftool -j prog list | jq -r --argjson n "$OURS" --argjson b "$base_prog" \
		'.[] | select(.id > $b and (.name as $x | $n | index($x))) | "prog \(.id) \(.name)"'
	bpftool -j map list | jq -r --argjson n "$OURS" --argjson b "$base_map" \
		'.[] | select(.id > $b and (.name as $x | $n | index($x))) | "map \(.id) \(.name)"'
	bpftool -j link list | jq -r --argjson b "$base_link" '.[] | select(.id > $b) | "\(.id) \(.prog_id)"' |
		while read -r id prog; do
		name=$(bpftool -j prog show id "$prog" 2>/dev/null | jq -r .name)
		jq -e --arg x "$name" 'index($x)' <<<"$OURS" >/dev/null && echo "link $id $name"
	done
	[[ -n "$cg2" ]] && bpftool -j cgroup tree "$cg2" 2>/dev/null |
		jq -r --argjson n "$OURS" '.. | objects | select(has("name") and (.name as $x | $n | index($x))) | "cgroup \(.name)"'
	find /sys/fs/bpf -mindepth 1 2>/dev/null | sed 's/^/pin /'
}
pins_before=$(find /sys/fs/bpf -mindepth 1 2>/dev/null | sed 's/^/pin /')
left=$(ours_left)
[[ "$left" == "$pins_before" ]] || fail "BPF objects left by the reference monitor's SIGINT: $left"

load="$E2E_DIR/clients/fault_load.py"
"$PY" -I "$load" --dst "$IP_BROKER:$PORT_RAW" --value 13712340001 --rate 300 --seconds 600 \
	>/dev/null &
track_pid $!
mkdir "$WORK/bin"
before_ready=0 after_ready=0
for it in 1 2 3 4 5 6; do
	log="$WORK/kill-$it.log"
	"$CONSENTRY" run -f "$FP" -k "$KEY" -c "$CONSENT" -R "$RECIPIENTS" -o "$WORK/kill-$it.out" \
		</dev/null >/dev/null 2>"$log" &
	pid=$!
	# 0-4 s: it loads in 1-2.5 s, so some kills land before ready, some after
	ms=$((RANDOM % 4000))
	sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"
	# a fresh executable exec'd just before the kill may be held by the exec probe
	cp /bin/true "$WORK/bin/t$it"
	"$WORK/bin/t$it" &
	exe=$!
	kids=$(cat "/proc/$pid/task/$pid/children" 2>/dev/null || true)
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null || true
	if grep -q ready "$log"; then
		after_ready=$((after_ready + 1)) when=running
	else
		after_ready=$((after_ready + 0)) before_ready=$((before_ready + 1)) when=loading
	fi
	for ((i = 0; i < 50; i++)); do
		left=$(ours_left)
		[[ "$left" == "$pins_before" ]] && break
		sleep 0.1
	done
	[[ "$left" == "$pins_before" ]] || fail "kill -9 $it (at $ms ms, $when): left behind:
$left"
	[[ -z "$(ns_tracefs)" ]] || fail "kill -9 $it (at $ms ms, $when): tracefs left mounted: $(ns_tracefs)"
	for k in $kids; do
		for ((i = 0; i < 50; i++)); do
			kill -0 "$k" 2>/dev/null || break
			sleep 0.1
		done
		kill -0 "$k" 2>/dev/null && fail "kill -9 $it: the monitor's child $k ($(cat "/proc/$k/comm")) outlived it"
	done
	for ((i = 0; i < 50; i++)); do
		[[ "$(stat_state "$exe")" == - || "$(stat_state "$exe")" == Z ]] && break
		sleep 0.1
	done
	wait "$exe" 2>/dev/null || fail "kill -9 $it: the executable started before it did not run ($(stat_state "$exe"))"
	info "kill -9 $it at $ms ms ($when): nothing left"
done
info "killed $before_ready time(s) while loading, $after_ready while running"

# a new monitor starts cleanly and reports exactly
monitor_start
"$PY" -I "$load" --dst "$IP_BROKER:$PORT_RAW" --value 15898760002 --rate 20 --count 5 >/dev/null ||
	fail "load client failed"
wait_findings_settle 5
monitor_stop
got=$(findings_jq 'map(select(.subject == "u002")) | length')
((got == 5)) || fail "the monitor after the kills: $got of 5 findings"
(($(summary_value "ringbuf drops") == 0)) || fail "ring drops after the kills"
left=$(ours_left)
[[ "$left" == "$pins_before" ]] || fail "left after the last monitor's SIGINT: $left"
[[ -z "$(ns_tracefs)" ]] || fail "tracefs left mounted after the last monitor"
info "ok: 6 kills (random moments, $before_ready while loading), nothing left; a new monitor reports 5/5"

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# 10,000 short-lived processes a minute (167 execs/s for 30 s) while traffic runs: every 10th
# runs a fresh executable (an exec notice, a hold, a probe), every 25th is a bash that sends
# one registered value and exits. The exec hold releases every process it held (holds =
# releases, its map empty after), nothing grows with the processes (the collector's anonymous
# memory over the second half of the storm, the monitor's BPF hash maps), and the findings
# stay exact: one per message of the steady sender, one per short-lived sender with its own
# pid and executable.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
e2e_setup
mkdir "$WORK/bin"
rss_anon() { awk '$1 == "RssAnon:" { print $2 }' "/proc/$MON_PID/status"; }
# hash_entries: entries of each BPF hash map (not LRU) the monitor holds, "name=N" each
hash_entries() {
	monitor_maps | awk '$2 == "hash" { print $1, $3 }' | while read -r id name; do
		echo "$name=$(map_entries "$id")"
	done | sort | paste -sd' '
}

monitor_start
before=$(hash_entries)
"$PY" -I "$E2E_DIR/clients/fault_load.py" --dst "$IP_BROKER:$PORT_RAW" --value 13712340001 \
	--rate 100 --seconds 36 >"$WORK/load.out" &
load=$!
track_pid "$load"
"$PY" -I "$E2E_DIR/clients/exec_storm.py" --dst "$IP_BROKER:$PORT_RAW" --value 15898760002 \
	--rate 167 --seconds 30 --dir "$WORK/bin" --pidfile "$WORK/senders" >"$WORK/storm.out" &
storm=$!
track_pid "$storm"
sleep 15
mid=$(rss_anon)
mid_maps=$(hash_entries)
wait "$storm" || fail "exec storm failed: $(cat "$WORK/storm.out")"
end=$(rss_anon)
wait "$load" || fail "load client failed"
wait_findings_settle 10
sleep 1
after=$(hash_entries)
# one pid, two programs: a bash sends, then execs python, which sends again
bash -c 'printf %s "{\"phone\":\"$1\"}" >"/dev/tcp/$2/$3"; exec "$4" -I "$5" --dst "$2:$3" --value "$1" --count 1' \
	_ 18611112233 "$IP_BROKER" "$PORT_RAW" "$PY" "$E2E_DIR/clients/fault_load.py" >/dev/null ||
	fail "bash then python sender failed"
wait_findings "$(($(awk '$1 == "sent" { print $2 }' "$WORK/load.out") + $(grep -c . "$WORK/senders") + 2))" 10
info "storm: $(cat "$WORK/storm.out"); load: $(cat "$WORK/load.out")"
info "collector RssAnon: ${mid} kB at 15 s, ${end} kB at 30 s"
info "BPF hash maps: before [$before], at 15 s [$mid_maps], after [$after]"
monitor_stop

read -r _ spawned _ new _ nsend _ failed <"$WORK/storm.out"
sent=$(awk '$1 == "sent" { print $2 }' "$WORK/load.out")
((spawned >= 4500 && failed == 0)) || fail "storm: $spawned spawned (expected ~5000), $failed failed"
u1=$(findings_jq 'map(select(.subject == "u001")) | length')
((u1 == sent)) || fail "steady sender: $u1 findings of $sent messages"
pids=$(jq -R -s -c 'split("\n") | map(select(length > 0) | tonumber)' "$WORK/senders")
got=$(findings_jq "map(select(.subject == \"u002\")) | length")
((got == nsend)) || fail "short-lived senders: $got findings of $nsend messages"
bad=$(findings_jq "map(select(.subject == \"u002\" and ((.process.pid as \$p | $pids | index(\$p)) == null
	or (.process.exe != \"/usr/bin/bash\" and .process.exe != null) or .process.comm != \"bash\"))) | length")
((bad == 0)) || fail "$bad short-lived sender finding(s) with a wrong pid, comm or exe"
# an exe that could not be read (the sender had exited) is null and counted, never another's
nulls=$(findings_jq 'map(select(.process.exe == null)) | length')
unknown=$(summary_value "exe unknown")
info "short-lived senders' findings with exe null (exited first): $nulls, summary exe unknown: $unknown"
((nulls == unknown)) || fail "$nulls findings with exe null, summary counts $unknown"
# the exec in one pid: bash's send, then python's; each with its own executable, or null
# when that program was gone by the time the collector looked, never the other's
got=$(findings_jq 'map(select(.subject == "u003")) | sort_by(.time) | map("\(.process.comm) \(.process.exe)") | join(",")')
info "bash, then exec python in its pid: $got"
[[ "$got" =~ ^\"bash\ (/usr/bin/bash|null),python3\ ($(readlink -f "$PY")|null)\"$ ]] ||
	fail "bash then exec python in one pid: $got"
u3pids=$(findings_jq 'map(select(.subject == "u003") | .process.pid) | unique | length')
((u3pids == 1)) || fail "the bash + exec findings do not share one pid"
held=$(summary_value "exec holds")
released=$(summary_value "exec releases")
notices=$(summary_value "exec notices")
info "exec notices $notices (fresh executables $new), holds $held, releases $released"
((notices >= new)) || fail "exec notices $notices < $new fresh executables"
((held == released)) || fail "exec holds $held != releases $released: a hold leaked"
grep -q 'lost, ring full 0)' "$MONLOG" || fail "exec notices lost: $(grep 'exec notices' "$MONLOG")"
[[ "$after" == *"exec_held=0"* ]] || fail "exec_held not empty after the storm: $after"
[[ "$after" == "$before" ]] || fail "BPF hash maps grew: before [$before], after [$after]"
# a leak of 100 bytes per process would be 250 kB over the second half's 2,500 processes
((end - mid < 256)) || fail "collector anonymous memory grew $((end - mid)) kB over 2,500 processes"
info "ok: $spawned processes ($new new files, $nsend senders): findings exact, no hold or map entry left, RssAnon +$((end - mid)) kB"

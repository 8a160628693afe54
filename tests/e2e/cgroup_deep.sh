#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# --cgroup of a deeply nested cgroup v2 (level 15, then level 16 below the root): a sender inside
# is reported, or the monitor refuses the option at start (exit 2, naming it). Never silence.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

need_cgroup2
CG_TOP=/cs-deep-$$
CG_MADE=0

# Remove the chain deepest first, moving any process left to the root.
cg_remove() {
	local d
	[[ -d "$CG_ROOT$CG_TOP" ]] || return 0
	while read -r d; do
		cg_rmdir "$d"
	done < <(find "$CG_ROOT$CG_TOP" -depth -type d)
	return 0
}

cg_exit() {
	local rc=$? p
	set +e
	for p in "${EXTRA_PIDS[@]}"; do
		kill_pid "$p"
	done
	((CG_MADE)) && cg_remove
	cg_status() { return "$1"; }
	cg_status "$rc"
	cleanup
}
trap cg_exit EXIT

e2e_setup
# /cs-deep-$$ is level 1; LEVEL[n] is the path of the level-n cgroup.
declare -A LEVEL
p=$CG_TOP
LEVEL[1]=$p
mkdir "$CG_ROOT$p" || fail "cannot create $CG_ROOT$p"
CG_MADE=1
for ((l = 2; l <= 16; l++)); do
	p=$p/l$l
	LEVEL[$l]=$p
	mkdir "$CG_ROOT$p" || fail "cannot create $CG_ROOT$p"
done

UDP_CODE='
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(sys.argv[3].encode(), (sys.argv[1], int(sys.argv[2])))
s.close()
'

# scoped_send LEVEL: monitor scoped to the level-LEVEL cgroup, one sender inside it sends
# u005's phone (UDP); the finding must name that sender (or the option is refused).
scoped_send() {
	local l=$1 cg=${LEVEL[$1]} pid rc n
	monitor_start --cgroup "$cg"
	(
		echo "$BASHPID" >"$CG_ROOT$cg/cgroup.procs" || exit 99
		exec "$PY" -I -c "$UDP_CODE" "$IP_BROKER" "$PORT_UDP" "tel=13955550005&level=$l"
	) &
	pid=$!
	track_pid "$pid"
	wait "$pid" && rc=0 || rc=$?
	((rc == 0)) || fail "level $l sender failed (status $rc)"
	wait_findings 1
	monitor_stop
	n=$(findings_jq length)
	((n == 1)) || fail "--cgroup at level $l ($cg): expected 1 finding from pid $pid, got $n" \
		"(the monitor started, so the scope was silently empty)"
	expect_finding '.subject == "u005" and .fields == ["phone"] and .verdict == "unconsented"
		and .recipient == "databroker" and .destination.ip == $broker
		and .destination.port == $port_udp and .process.pid == '"$pid"'
		and .process.comm == "python3" and .process.cgroup == "'"$cg"'" and .channel == $udp'
}

scoped_send 15

# Level 16: either refused at start, or it works like level 15.
out=$(timeout -s INT -k 5 3 "$CONSENTRY" run -f "$FP" -k "$KEY" -c "$CONSENT" -R "$RECIPIENTS" \
	--cgroup "${LEVEL[16]}" -o "$WORK/probe.out" </dev/null 2>&1) && rc=0 || rc=$?
if ((rc == 2)); then
	[[ "$out" == *"${LEVEL[16]}"* ]] || fail "level 16 refused without naming the cgroup: $out"
	info "ok: level 16 refused at start: $out"
else
	scoped_send 16
fi
expect_no_raw_values
cg_remove
[[ ! -d "$CG_ROOT$CG_TOP" ]] || fail "could not remove $CG_ROOT$CG_TOP"
CG_MADE=0

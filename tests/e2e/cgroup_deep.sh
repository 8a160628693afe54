#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# --cgroup of a deeply nested cgroup v2 (level 15, then level 16 below the root): a sender inside
# is reported, or the monitor refuses the option at start (exit 2, naming it). Never silence.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"

e2e_setup
CG_TOP=/cs-deep-$$
# /cs-deep-$$ is level 1; LEVEL[n] is the path of the level-n cgroup.
declare -A LEVEL
p=$CG_TOP
LEVEL[1]=$p
cg_mkdir "$p"
for ((l = 2; l <= 16; l++)); do
	p=$p/l$l
	LEVEL[$l]=$p
	cg_mkdir "$p"
done

# scoped_send LEVEL: monitor scoped to the level-LEVEL cgroup, one sender inside it sends
# u005's phone (UDP); the finding must name that sender (or the option is refused).
scoped_send() {
	local l=$1 cg=${LEVEL[$1]} pid rc n
	monitor_start --cgroup "$cg"
	cg_run "$CG_ROOT$cg" "$PY" -I "$E2E_DIR/clients/send.py" udp "$IP_BROKER" "$PORT_UDP" \
		"tel=13955550005&level=$l"
	pid=$CG_PID
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
cg_remove_all

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# --cgroup scope: a sender inside the scoped cgroup v2 and one in a nested child cgroup are
# reported; senders outside it (python and curl, same data) are not.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

need_cgroup2
CG_REL=/cs-test-$$
CG=$CG_ROOT$CG_REL
CG_NESTED=$CG/nested
CG_MADE=()

# Remove the test cgroups (children first), moving any process left in them to the root.
cg_remove() {
	local d
	for d in "$CG_NESTED" "$CG"; do
		cg_rmdir "$d"
	done
	return 0
}

# Our EXIT trap: stop the senders, remove the cgroups, then run lib.sh's cleanup with the
# original exit status.
cg_exit() {
	local rc=$? p
	set +e
	for p in "${EXTRA_PIDS[@]}"; do
		kill_pid "$p"
	done
	((${#CG_MADE[@]})) && cg_remove
	cg_status() { return "$1"; }
	cg_status "$rc"
	cleanup
}
trap cg_exit EXIT

e2e_setup
mkdir "$CG" || fail "cannot create $CG"
CG_MADE+=("$CG")
mkdir "$CG_NESTED" || fail "cannot create $CG_NESTED"
CG_MADE+=("$CG_NESTED")

# cg_py CGROUP_DIR CODE ARGS...: run a python client inside CGROUP_DIR (the subshell joins the
# cgroup, then execs python, which keeps the pid) in the background; its pid in CG_PID.
cg_py() {
	local dir=$1 code=$2
	shift 2
	(
		echo "$BASHPID" >"$dir/cgroup.procs" || exit 99
		exec "$PY" -I -c "$code" "$@"
	) &
	CG_PID=$!
	track_pid "$CG_PID"
}

TCP_CODE='
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
s.sendall(sys.argv[3].encode())
s.shutdown(socket.SHUT_WR)
s.recv(10)
s.close()
'
UDP_CODE='
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(sys.argv[3].encode(), (sys.argv[1], int(sys.argv[2])))
s.close()
'

monitor_start --cgroup "$CG_REL"

# Inside the scoped cgroup: u005's phone to the broker's raw port.
cg_py "$CG" "$TCP_CODE" "$IP_BROKER" "$PORT_RAW" 'phone=13955550005'
in_pid=$CG_PID
wait "$in_pid" || fail "in-scope sender failed (status $?)"
# In a nested child cgroup (descendant, in scope): u004's email in one UDP datagram.
cg_py "$CG_NESTED" "$UDP_CODE" "$IP_BROKER" "$PORT_UDP" '{"email":"chen.jie@example.com"}'
nested_pid=$CG_PID
wait "$nested_pid" || fail "nested sender failed (status $?)"
# Outside (the test's own cgroup): the same data and more, from python and curl.
tcp_send "$IP_BROKER" "$PORT_RAW2" 'phone=13955550005&email=chen.jie@example.com'
udp_send "$IP_BROKER" "$PORT_UDP" '{"email":"chen.jie@example.com","tel":"13712340001"}'
http_post "http://$IP_BROKER:$PORT_HTTP/" '{"phone":"13955550005","email":"zhang.wei@example.com"}'
wait_peer udp "$PORT_UDP" 2
wait_findings 2
monitor_stop
expect_findings 2
expect_finding '.subject == "u005" and .fields == ["phone"] and .verdict == "unconsented"
	and .unconsented_fields == ["phone"] and .recipient == "databroker"
	and .recipient_kind == "third-party" and .destination.ip == $broker
	and .destination.port == $port_raw and .process.pid == '"$in_pid"'
	and .process.comm == "python3" and .process.cgroup == "'"$CG_REL"'"
	and .channel == $tcp'
expect_finding '.subject == "u004" and .fields == ["email"] and .verdict == "unconsented"
	and .unconsented_fields == ["email"] and .recipient == "databroker"
	and .recipient_kind == "third-party" and .destination.ip == $broker
	and .destination.port == $port_udp and .process.pid == '"$nested_pid"'
	and .process.comm == "python3" and .process.cgroup == "'"$CG_REL/nested"'"
	and .channel == $udp'
expect_no_raw_values

# The absolute path of the same cgroup selects the same scope: only the nested sender now.
monitor_start --cgroup "$CG"
cg_py "$CG_NESTED" "$TCP_CODE" "$IP_BROKER" "$PORT_RAW" 'tel=13712340001'
nested_pid=$CG_PID
wait "$nested_pid" || fail "nested sender failed (status $?)"
tcp_send "$IP_BROKER" "$PORT_RAW2" 'tel=13712340001'
wait_findings 1
monitor_stop
expect_findings 1
expect_finding '.subject == "u001" and .fields == ["phone"] and .verdict == "unconsented"
	and .recipient == "databroker" and .destination.ip == $broker
	and .destination.port == $port_raw and .process.pid == '"$nested_pid"'
	and .process.comm == "python3" and .process.cgroup == "'"$CG_REL/nested"'"
	and .channel == $tcp'
expect_no_raw_values

# Not a cgroup v2 directory: a usage error naming it, before anything is loaded.
out=$("$CONSENTRY" run -f "$FP" -k "$KEY" -c "$CONSENT" -R "$RECIPIENTS" \
	--cgroup "$CG_REL/absent" </dev/null 2>&1) && rc=0 || rc=$?
((rc == 2)) || fail "--cgroup with a missing cgroup: exit $rc, expected 2: $out"
[[ "$out" == *"$CG_REL/absent"* ]] || fail "--cgroup error does not name the path: $out"
info "ok: missing cgroup refused (exit 2)"

cg_remove
[[ ! -d "$CG" ]] || fail "could not remove $CG"
CG_MADE=()

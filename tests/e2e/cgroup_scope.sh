#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# --cgroup scope: a sender inside the scoped cgroup v2 and one in a nested child cgroup are
# reported; senders outside it (python and curl, same data) are not.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"

e2e_setup
CG_REL=/cs-test-$$
cg_mkdir "$CG_REL" "$CG_REL/nested"
CG=$CG_ROOT$CG_REL
CG_NESTED=$CG/nested

monitor_start --cgroup "$CG_REL"

# Inside the scoped cgroup: u005's phone to the broker's raw port.
cg_run "$CG" "$PY" -I "$E2E_DIR/clients/send.py" tcp "$IP_BROKER" "$PORT_RAW" 'phone=13955550005'
in_pid=$CG_PID
wait "$in_pid" || fail "in-scope sender failed (status $?)"
# In a nested child cgroup (descendant, in scope): u004's email in one UDP datagram.
cg_run "$CG_NESTED" "$PY" -I "$E2E_DIR/clients/send.py" udp "$IP_BROKER" "$PORT_UDP" \
	'{"email":"chen.jie@example.com"}'
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
cg_run "$CG_NESTED" "$PY" -I "$E2E_DIR/clients/send.py" tcp "$IP_BROKER" "$PORT_RAW" \
	'tel=13712340001'
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

cg_remove_all

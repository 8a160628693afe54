#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# SIGTERM: exit 0, summary on stderr, and every BPF program, link, tc filter, cgroup
# attachment and pin it made is gone afterwards.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
e2e_setup
command -v bpftool >/dev/null || fail "bpftool not installed"
cg2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
snapshot() {
	{
		echo "== tc"
		local dev
		for dev in $(ip -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }'); do
			tc filter show dev "$dev" ingress 2>/dev/null
			tc filter show dev "$dev" egress 2>/dev/null
		done
		tc qdisc show
		echo "== cgroup"
		[[ -n "$cg2" ]] && bpftool cgroup tree "$cg2" 2>/dev/null
		echo "== pins"
		find /sys/fs/bpf -mindepth 1 2>/dev/null | sort
	} | sed 's/ \(handle\|pref\) [^ ]*//g'
}
before=$(snapshot)
before_ids=$(prog_ids)

monitor_start
loaded=$(jq -n -c --argjson a "$before_ids" --argjson b "$(prog_ids)" '$b - $a | length')
((loaded >= 1)) || fail "no new BPF program loaded while the monitor runs"
if bpftool -j prog list | jq -e 'any(.[]; has("pids"))' >/dev/null; then
	mine=$(bpftool -j prog list |
		jq --argjson p "$MON_PID" '[.[] | select(any(.pids[]?; .pid == $p))] | length')
	((mine >= 1)) || fail "no BPF program held by the monitor while it runs"
fi
info "ok: $loaded BPF program(s) loaded while running"
http_post "http://$IP_BROKER:$PORT_HTTP/" '{"phone":"13712340001"}'
wait_findings 1
monitor_stop TERM 0
expect_findings 1
expect_finding '.subject == "u001" and .fields == ["phone"] and .recipient == "databroker"'

for name in sends "bytes inspected" "bytes uninspected" hits findings "ringbuf drops"; do
	v=$(summary_value "$name")
	info "summary $name: $v"
done
(($(summary_value findings) == 1)) || fail "summary findings $(summary_value findings), expected 1"
(($(summary_value hits) >= 1)) || fail "summary hits is 0"

expect_no_programs_left "$before_ids"
after=$(snapshot)
[[ "$after" == "$before" ]] || fail "attachments differ after exit:
$(diff <(echo "$before") <(echo "$after"))"
info "ok: nothing left attached"
expect_no_raw_values

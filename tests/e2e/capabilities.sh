#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# The capabilities docs/operations.md "Capabilities" lists are enough (capsh drops every other one from the
# bounding set before the monitor starts, so it runs as uid 0 without them):
#   plaintext capture (--tls off): CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN; both captures report;
#   everything (TLS uprobes, exec hold, connections open before the start): those plus
#   CAP_SYS_ADMIN, CAP_SYS_PTRACE, CAP_KILL, CAP_DAC_READ_SEARCH; a TLS write is reported.
# The monitor's effective set is read back from /proc and must be exactly the list, and the
# monitor must not be dumpable (PR_SET_DUMPABLE 0: no core dump, no ptrace without
# CAP_SYS_PTRACE).
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
# shellcheck source-path=SCRIPTDIR source=lib/tls.sh
source "$(dirname "$0")/lib/tls.sh"
command -v capsh >/dev/null || fail "capsh not installed (libcap2-bin)"
e2e_setup
tls_setup

REAL_CONSENTRY=$CONSENTRY
ALL_CAPS=$(capsh --print | sed -n 's/^Bounding set =//p')

# caps_only KEEP: a consentry wrapper that runs the real binary with only the capabilities in
# KEEP (comma-separated capsh names) left in the bounding set; CONSENTRY points to it.
caps_only() {
	local keep=$1 drop
	drop=$(tr , '\n' <<<"$ALL_CAPS" | grep -v -x -F -f <(tr , '\n' <<<"$keep") | paste -sd,)
	cat >"$WORK/consentry-caps" <<EOF
#!/bin/sh
exec capsh --drop=$drop -- -c 'exec "\$0" "\$@"' "$REAL_CONSENTRY" "\$@"
EOF
	chmod 755 "$WORK/consentry-caps"
	CONSENTRY="$WORK/consentry-caps"
}

# expect_caps KEEP: the running monitor's effective capabilities are exactly KEEP.
expect_caps() {
	local want got
	want=$(tr , '\n' <<<"$1" | sort | paste -sd,)
	got=$(capsh --decode="$(awk '/^CapEff:/ { print $2 }' "/proc/$MON_PID/status")" |
		sed 's/.*=//' | tr , '\n' | sort | paste -sd,)
	[[ "$got" == "$want" ]] || fail "monitor capabilities: $got, expected $want"
	info "ok: monitor runs with exactly $got"
}

MINIMAL=cap_bpf,cap_perfmon,cap_net_admin
FULL=$MINIMAL,cap_sys_admin,cap_sys_ptrace,cap_kill,cap_dac_read_search

caps_only "$MINIMAL"
for cap in sockets tracepoints; do
	monitor_start --tls off --capture "$cap"
	expect_caps "$MINIMAL"
	# not dumpable: a process of the same uid and capabilities may not look into its memory
	# map (it could if the monitor were dumpable)
	if capsh --drop="$(tr , '\n' <<<"$ALL_CAPS" | grep -v -x -F -f <(tr , '\n' <<<"$MINIMAL") |
		paste -sd,)" -- -c "readlink /proc/$MON_PID/exe" >/dev/null 2>&1; then
		fail "the monitor's /proc/$MON_PID/exe is readable without CAP_SYS_PTRACE: dumpable"
	fi
	info "ok: the monitor is not dumpable"
	tcp_send "$IP_BROKER" "$PORT_RAW" '{"phone":"13712340001"}'
	udp_send "$IP_BROKER" "$PORT_UDP" 'mail=li.na@example.org'
	wait_findings 2
	monitor_stop
	expect_findings 2
	expect_finding '.subject == "u001" and .destination.ip == $broker
		and .destination.port == $port_raw and .recipient == "databroker"'
	expect_finding '.subject == "u002" and .destination.ip == $broker
		and .destination.port == $port_udp'
	! grep -q -i "permission denied\|operation not permitted" "$MONLOG" ||
		fail "--capture $cap: a permission error with $MINIMAL: $(grep -i -m3 denied "$MONLOG")"
	info "ok: --capture $cap with $MINIMAL"
done

caps_only "$FULL"
monitor_start
expect_caps "$FULL"
! grep -q -i "permission denied\|operation not permitted\|without CAP_" "$MONLOG" ||
	fail "a permission error with $FULL: $(grep -i -m3 'denied\|not permitted\|without CAP_' "$MONLOG")"
tls_pyraw_msg "events.$TLS_DOMAIN" '{"type":"identify","traits":{"phone":"18611112233"}}'
tls_wait_requests 1
wait_findings 1
monitor_stop
expect_findings 1
expect_finding '.subject == "u003" and .channel == "openssl" and .recipient == $tls_rcpt'
info "ok: TLS capture and exec hold with $FULL"
expect_no_raw_values

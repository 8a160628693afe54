#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# Loopback destinations are not egress: skipped by default, reported with --include-loopback.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
e2e_setup
# A sink on the host's loopback (127.0.0.1 and ::1), on a free port.
LOOPLOG="$WORK/loop.log"
for ((try = 0; try < 5; try++)); do
	lport=$((20000 + (RANDOM % 20000)))
	if ns_start_server "" "$LOOPLOG" --bind 127.0.0.1 --bind ::1 "tcp:$lport" 2>/dev/null; then
		SERVER_PIDS+=("$NS_SERVER_PID")
		break
	fi
	lport=
done
[[ -n "$lport" ]] || fail "cannot start a loopback server"
send_all() {
	http_post "http://127.0.0.1:$lport/" '{"phone":"13955550005"}'
	http_post "http://[::1]:$lport/" '{"phone":"13955550005"}'
	# Control: one real egress, so an empty result below is not a dead monitor.
	http_post "http://$IP_BROKER:$PORT_HTTP/" '{"email":"chen.jie@example.com"}'
}

info "run 1: default"
monitor_start
send_all
wait_findings 1
monitor_stop
expect_findings 1
expect_finding '.subject == "u004" and .destination.ip == $broker and .recipient == "databroker"'

info "run 2: --include-loopback"
monitor_start --include-loopback
send_all
wait_findings 3
monitor_stop
expect_findings 3
expect_finding '.subject == "u005" and .fields == ["phone"] and .verdict == "unconsented"
	and .recipient == null and .recipient_kind == "unknown" and .destination.ip == "127.0.0.1"
	and .destination.port == '"$lport"' and .process.comm == "curl" and .channel == $tcp'
expect_finding '.subject == "u005" and .fields == ["phone"] and .verdict == "unconsented"
	and .recipient == null and .recipient_kind == "unknown" and .destination.ip == "::1"
	and .destination.port == '"$lport"' and .process.comm == "curl" and .channel == $tcp'
expect_finding '.subject == "u004" and .destination.ip == $broker and .recipient == "databroker"'
expect_no_raw_values

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# IPv6 destinations (fd77:N::40): curl over TCP and python UDP sendto: two findings.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
e2e_setup
monitor_start
http_post "http://[$IP6_BROKER]:$PORT_HTTP/collect" '{"contact":"zhang.wei@example.com"}'
udp_send "$IP6_BROKER" "$PORT_UDP" 'ping 13955550005'
wait_peer udp "$PORT_UDP" 1
wait_findings 2
monitor_stop
expect_findings 2
expect_finding '.subject == "u001" and .fields == ["email"] and .verdict == "unconsented"
	and .recipient == "databroker" and .recipient_kind == "third-party"
	and .destination.ip == $broker6 and .destination.port == $port_http
	and .process.comm == "curl" and .channel == $tcp'
expect_finding '.subject == "u005" and .fields == ["phone"] and .verdict == "unconsented"
	and .recipient == "databroker" and .recipient_kind == "third-party"
	and .destination.ip == $broker6 and .destination.port == $port_udp
	and .process.comm == "python3" and .channel == $udp'
expect_no_raw_values

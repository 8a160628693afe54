#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# A destination no selector matches is an unknown recipient: unconsented, recipient null.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
e2e_setup
monitor_start --all
http_post "http://$IP_UNKNOWN:$PORT_HTTP/" '{"email":"zhang.wei@example.com"}'
tcp_send "$IP6_PEER" "$PORT_RAW" 'phone=15898760002'
wait_findings 2
monitor_stop
expect_findings 2
expect_finding '.subject == "u001" and .fields == ["email"] and .verdict == "unconsented"
	and .unconsented_fields == ["email"] and .recipient == null and .recipient_kind == "unknown"
	and .destination.ip == $unknown and .destination.port == $port_http
	and .process.comm == "curl" and .channel == $tcp'
expect_finding '.subject == "u002" and .fields == ["phone"] and .verdict == "unconsented"
	and .recipient == null and .recipient_kind == "unknown"
	and .destination.ip == $peer6 and .destination.port == $port_raw
	and .process.comm == "python3" and .channel == $tcp'
expect_no_raw_values

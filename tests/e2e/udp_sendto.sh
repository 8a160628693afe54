#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# python sendto() of one UDP datagram to a third party: one unconsented finding.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
e2e_setup
monitor_start
udp_send "$IP_BROKER" "$PORT_UDP" '{"type":"identify","email":"chen.jie@example.com"}'
wait_peer udp "$PORT_UDP" 1
wait_findings 1
monitor_stop
expect_findings 1
expect_finding '.verdict == "unconsented" and .subject == "u004" and .fields == ["email"]
	and .unconsented_fields == ["email"] and .recipient == "databroker"
	and .recipient_kind == "third-party" and .destination.ip == $broker
	and .destination.port == $port_udp and .process.comm == "python3" and .channel == $udp'
expect_no_raw_values

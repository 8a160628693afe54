#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# Host selectors through DNS: a DNS server in the peer namespace answers api.tracker.example
# with the .60 address; a raw TCP send (no Host header, no TLS) to that address after the
# lookup resolves to tracker-api. The same send to an address no answer named stays unknown.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
e2e_setup
ip netns exec "$NS" "$PY" -I "$E2E_DIR/clients/dns_server.py" "$IP_PEER" "$IP_HOSTSEL" &
track_pid $!
monitor_start
# resolve through the namespace's DNS server, then send to the answer
py_client dns_query.py "$IP_PEER" api.tracker.example "$IP_HOSTSEL"
tcp_send "$IP_HOSTSEL" "$PORT_RAW" '{"phone":"13955550005"}'
tcp_send "$IP_UNKNOWN" "$PORT_RAW" '{"phone":"13955550005"}'
wait_findings 2
monitor_stop
expect_findings 2
expect_every '.subject == "u005" and .fields == ["phone"] and .verdict == "unconsented"
	and .process.comm == "python3" and .channel == $tcp'
expect_finding '.recipient == "tracker-api" and .recipient_kind == "third-party"
	and .destination.ip == $hostsel and .destination.port == $port_raw
	and .destination.host == "api.tracker.example"'
expect_finding '.recipient == null and .recipient_kind == "unknown"
	and .destination.ip == $unknown and .destination.host == null'
expect_no_raw_values

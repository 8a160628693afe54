#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# Recipient resolution: IP:port beats IP; host selectors (HTTP Host header) when no IP
# selector matches, exact host beats wildcard.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
e2e_setup
monitor_start
body='{"phone":"13955550005"}' # u005: its adpartner consent has expired
http_post "http://$IP_AD:$PORT_HTTP2/" "$body"
http_post "http://$IP_AD:$PORT_HTTP/" "$body"
http_post "http://$IP_HOSTSEL:$PORT_HTTP/" "$body" -H 'Host: beacon.tracker.example'
http_post "http://$IP_HOSTSEL:$PORT_HTTP/" "$body" -H 'Host: api.tracker.example'
wait_findings 4
monitor_stop
expect_findings 4
expect_every '.subject == "u005" and .fields == ["phone"] and .verdict == "unconsented"
	and .recipient_kind == "third-party" and .process.comm == "curl" and .channel == $tcp'
expect_finding '.recipient == "analytics" and .destination.ip == $ad
	and .destination.port == $port_http2'
expect_finding '.recipient == "adpartner" and .destination.ip == $ad
	and .destination.port == $port_http'
expect_finding '.recipient == "tracker" and .destination.ip == $hostsel
	and .destination.host == "beacon.tracker.example"'
expect_finding '.recipient == "tracker-api" and .destination.ip == $hostsel
	and .destination.host == "api.tracker.example"'
expect_no_raw_values

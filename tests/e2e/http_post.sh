#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# curl POSTs JSON over plain HTTP to a third party without consent: one unconsented finding.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
e2e_setup
monitor_start
http_post "http://$IP_BROKER:$PORT_HTTP/v1/events" '{"event":"signup","user":{"mobile":"13955550005"}}'
wait_findings 1
monitor_stop
expect_findings 1
expect_finding '.verdict == "unconsented" and .subject == "u005" and .fields == ["phone"]
	and .unconsented_fields == ["phone"] and .recipient == "databroker"
	and .recipient_kind == "third-party" and .destination.ip == $broker
	and .destination.port == $port_http and .process.comm == "curl" and .channel == $tcp
	and (.process.pid | type) == "number" and .evidence.bytes_inspected > 0
	and (.evidence.fingerprints | length) >= 1 and (.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T"))'
expect_no_raw_values

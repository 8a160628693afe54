#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# Consent validity in time: withdrawn (past) and expired are unconsented; a withdrawal
# scheduled in the future still covers; seen with --all.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
e2e_setup
monitor_start --all
url="http://$IP_AD:$PORT_HTTP/sync"
http_post "$url" '{"phone":"18611112233","email":"wang.fang@example.net"}' # u003 withdrawn
http_post "$url" '{"email":"chen.jie@example.com"}'                         # u004 future withdrawal
http_post "$url" '{"phone":"13955550005"}'                                  # u005 expired
http_post "$url" '{"phone":"13712340001","email":"zhang.wei@example.com"}' # u001 valid
wait_findings 4
monitor_stop
expect_findings 4
expect_every '.recipient == "adpartner" and .recipient_kind == "third-party"
	and .destination.ip == $ad and .destination.port == $port_http
	and .process.comm == "curl" and .channel == $tcp'
expect_finding '.subject == "u003" and .verdict == "unconsented" and .fields == ["email", "phone"]
	and .unconsented_fields == ["email", "phone"]'
expect_finding '.subject == "u004" and .verdict == "consented" and .fields == ["email"]
	and .unconsented_fields == [] and (.consent_ids | length) >= 1'
expect_finding '.subject == "u005" and .verdict == "unconsented" and .fields == ["phone"]
	and .unconsented_fields == ["phone"]'
expect_finding '.subject == "u001" and .verdict == "consented" and .fields == ["email", "phone"]
	and .unconsented_fields == [] and (.consent_ids | length) >= 1'
expect_no_raw_values

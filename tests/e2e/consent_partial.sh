#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# Consent covers phone only, phone and email sent: unconsented, unconsented_fields [email].
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
e2e_setup
monitor_start
url="http://$IP_AD:$PORT_HTTP/sync"
http_post "$url" '{"phone":"15898760002","email":"li.na@example.org"}'
http_post "$url" '{"phone":"15898760002"}' # covered: not printed without --all
wait_findings 1
monitor_stop
expect_findings 1
expect_finding '.subject == "u002" and .verdict == "unconsented" and .fields == ["email", "phone"]
	and .unconsented_fields == ["email"] and .recipient == "adpartner"
	and .recipient_kind == "third-party" and .destination.ip == $ad
	and .destination.port == $port_http and .process.comm == "curl" and .channel == $tcp'
expect_no_raw_values

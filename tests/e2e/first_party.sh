#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# First party and processor are exempt: nothing by default, exempt findings with --all.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
e2e_setup
body='{"phone":"13712340001","email":"zhang.wei@example.com"}'
send_all() {
	http_post "http://$IP_FIRST:$PORT_HTTP/account" "$body"
	http_post "http://[$IP6_FIRST]:$PORT_HTTP/account" "$body"
	http_post "http://$IP_PROC:$PORT_HTTP/mail" "$body"
}

info "run 1: default (unconsented only)"
monitor_start
send_all
monitor_stop
expect_findings 0

info "run 2: --all"
monitor_start --all
send_all
wait_findings 3
monitor_stop
expect_findings 3
expect_every '.verdict == "exempt" and .subject == "u001" and .fields == ["email", "phone"]
	and .destination.port == $port_http and .process.comm == "curl" and .channel == $tcp'
expect_finding '.recipient == "acme" and .recipient_kind == "first-party" and .destination.ip == $first'
expect_finding '.recipient == "acme" and .recipient_kind == "first-party" and .destination.ip == $first6'
expect_finding '.recipient == "mailcloud" and .recipient_kind == "processor" and .destination.ip == $proc'
expect_no_raw_values

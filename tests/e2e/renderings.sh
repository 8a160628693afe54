#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# Renderings that must match: +86 and 0086 prefixes with separators, URL-encoded upper-case
# email in a form body, national id with a lower-case check letter in a query string.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
e2e_setup
monitor_start
base="http://$IP_BROKER:$PORT_HTTP"
http_post "$base/a" '{"tel":"+86 139-5555-0005"}'                                  # u005
curl -sS -m 20 -o /dev/null -d 'name=x&email=CHEN.JIE%40EXAMPLE.COM&ok=1' "$base/b" ||
	fail "curl form post failed"                                                 # u004
curl -sS -m 20 -o /dev/null "$base/c?id=11010519900307451x&v=2" || fail "curl GET failed" # u002
curl -sS -m 20 -o /dev/null -H 'X-Contact: 0086 137 1234 0001' "$base/d" ||
	fail "curl header failed"                                                    # u001
tcp_send "$IP_BROKER" "$PORT_RAW" $'id,phone\r\n7,(86) 186.1111.2233\r\n'             # u003
wait_findings 5
monitor_stop
expect_findings 5
expect_every '.verdict == "unconsented" and .recipient == "databroker"
	and .recipient_kind == "third-party" and .destination.ip == $broker
	and .channel == $tcp'
expect_finding '.subject == "u005" and .fields == ["phone"] and .destination.port == $port_http
	and .process.comm == "curl"'
expect_finding '.subject == "u004" and .fields == ["email"] and .destination.port == $port_http
	and .process.comm == "curl"'
expect_finding '.subject == "u002" and .fields == ["national_id"]
	and .destination.port == $port_http and .process.comm == "curl"'
expect_finding '.subject == "u001" and .fields == ["phone"] and .destination.port == $port_http
	and .process.comm == "curl"'
expect_finding '.subject == "u003" and .fields == ["phone"] and .destination.port == $port_raw
	and .process.comm == "python3"'
expect_no_raw_values
expect_no_raw_values "+86 139-5555-0005" "CHEN.JIE%40EXAMPLE.COM" "11010519900307451x" \
	"0086 137 1234 0001" "186.1111.2233"

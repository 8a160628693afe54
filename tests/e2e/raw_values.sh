#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# Raw registered values never appear in findings (jsonl, text, ocsf) or in -v logs.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
e2e_setup
send_all() {
	local url="http://$IP_BROKER:$PORT_HTTP/profile"
	http_post "$url" '{"id":"u1","phone":"13712340001","email":"zhang.wei@example.com","national_id":"310115198511122624","name":"张伟","birthdate":"1985-11-12","address":"Room 1203, 88 Example Road, Pudong, Shanghai"}'
	http_post "$url" '{"phone":"15898760002","email":"li.na@example.org","national_id":"11010519900307451X","name":"李娜","birthdate":"1990-03-07","address":"5 Sample Lane, Dongcheng, Beijing"}'
	http_post "$url" '{"phone":"18611112233","email":"wang.fang@example.net","national_id":"510107197806308840","name":"Wang Fang","birthdate":"1978-06-30"}'
	http_post "$url" '{"email":"chen.jie@example.com","name":"陈杰"}'
	http_post "$url" '{"phone":"13955550005","name":"Maria Ortiz","birthdate":"1992-05-21","address":"Calle Ficticia 7, Madrid"}'
}

info "run 1: jsonl -v"
monitor_start --all -v
send_all
wait_findings 5
monitor_stop
expect_findings 5
expect_every '.verdict == "unconsented" and .recipient == "databroker" and .destination.ip == $broker'
expect_finding '.subject == "u001" and (.fields | contains(["email", "national_id", "phone"]))'
expect_finding '.subject == "u002" and (.fields | contains(["email", "national_id", "phone"]))'
expect_finding '.subject == "u003" and (.fields | contains(["email", "national_id", "phone"]))'
expect_finding '.subject == "u004" and (.fields | contains(["email"]))'
expect_finding '.subject == "u005" and (.fields | contains(["phone"]))'

info "run 2: text -v"
monitor_start --all -v --format text
send_all
wait_findings 5
monitor_stop
n=$(grep -c . "$FINDINGS" || true)
((n == 5)) || fail "text format: $n lines, expected 5"

info "run 3: ocsf -v"
monitor_start --all -v --format ocsf
send_all
wait_findings 5
monitor_stop
n=$(jq -s 'length' "$FINDINGS") || fail "ocsf output is not JSON"
((n == 5)) || fail "ocsf format: $n objects, expected 5"
jq -e -s 'all(.class_uid == 2006 and .type_uid == 200601)' "$FINDINGS" >/dev/null ||
	fail "ocsf objects lack class_uid 2006 / type_uid 200601"

expect_no_raw_values

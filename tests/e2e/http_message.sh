#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016 # jq filters are single-quoted on purpose
# message.http of HTTP/1 requests: method, version and the request path with every registered
# value replaced by {field} (path and query, a phone with country code); a request line longer
# than the kernel's copy (256 bytes) cut inside a phone ends before it, marked "..."; text and
# OCSF carry it too; no raw value (nor the cut phone's first digits) anywhere.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
e2e_setup
url="http://$IP_BROKER:$PORT_HTTP"
# "POST " + 245 bytes of path put the phone's first digit at byte 250 of the request line
long="/$(head -c 243 /dev/zero | tr '\0' b)/"
send_all() {
	http_post "$url/users/13712340001/profile?email=zhang.wei%40example.com" '{"note":"x"}'
	http_post "$url${long}15898760002/tail" '{"note":"y"}'
	http_post "$url/v2/+86-186-1111-2233?x=1" '{"n":1}'
}

info "run 1: jsonl"
monitor_start
send_all
wait_findings 3
monitor_stop
expect_findings 3
expect_every '.verdict == "unconsented" and .recipient == "databroker" and .channel == $tcp
	and .message.http.version == "1.1" and .message.http.method == "POST"
	and .message.subjects == 1'
expect_finding '.subject == "u001" and .fields == ["email", "phone"]
	and .message.http.path == "/users/{phone}/profile?email={email}"'
expect_finding '.subject == "u002" and .fields == ["phone"]
	and .message.http.path == "'"$long"'..."'
expect_finding '.subject == "u003" and .fields == ["phone"]
	and .message.http.path == "/v2/+{phone}?x=1"'
grep -q 158987 "$FINDINGS" && fail "the cut phone's first digits are in a finding"

info "run 2: text and ocsf"
monitor_start --format text
send_all
wait_findings 3
monitor_stop
grep -qF ' http=POST:/users/{phone}/profile?email={email}' "$FINDINGS" ||
	fail "text finding without http=POST:/users/{phone}/profile?email={email}"
monitor_start --format ocsf
send_all
wait_findings 3
monitor_stop
n=$(jq -s '[.[] | select(.consentry.message.http.path == "/users/{phone}/profile?email={email}")]
	| length' "$FINDINGS") || fail "ocsf output is not JSON"
((n == 1)) || fail "ocsf: $n findings with the redacted path, expected 1"
grep -q 158987 "$WORK"/findings-* && fail "the cut phone's first digits are in a finding"
expect_no_raw_values

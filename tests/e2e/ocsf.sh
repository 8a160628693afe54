#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# --format ocsf: one unconsented disclosure gives one OCSF Data Security Finding (class 2006,
# type 200601, data in transit) with the consent verdict in the "consentry" extension object.
# --format text: the same disclosure gives one readable line.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
e2e_setup
V4=${IP_PEER%.*}

# The monitor is host-wide and lib's findings_jq reads jsonl's .destination only: set aside
# lines whose destination is another run's 10.77.M.x / fd77:M:: prefix (any other line counts).
ocsf_lines() {
	jq -e -c -s 'all(type == "object")' "$FINDINGS" >/dev/null 2>&1 ||
		fail "ocsf output is not one JSON object per line"
	jq -c -s "${JQ_VARS[@]}" \
		'map(select(((.dst_endpoint.ip? // "") | tostring) as $ip
			| (($ip | startswith("10.77.")) and ($ip | startswith($v4p) | not))
			  or (($ip | startswith("fd77:")) and ($ip | startswith($v6p) | not)) | not))
		 | .[]' "$FINDINGS"
}

text_lines() {
	grep -a . "$FINDINGS" | while IFS= read -r l; do
		if [[ "$l" =~ dest=(10\.77\.[0-9]+\.) ]] && [[ "${BASH_REMATCH[1]}" != "$V4." ]]; then
			continue
		fi
		if [[ "$l" =~ dest=\[(fd77:[0-9a-f]+::) ]] && [[ "${BASH_REMATCH[1]}" != "${IP6_PEER%2}" ]]; then
			continue
		fi
		printf '%s\n' "$l"
	done
}

# u002 consented to adpartner for the phone only: phone + email to adpartner is unconsented
# for the email.
send_disclosure() {
	http_post "http://$IP_AD:$PORT_HTTP/v1/audience" \
		'{"contact":{"phone":"15898760002","email":"li.na@example.org"},"list":"spring"}'
}

# --- ocsf
monitor_start --format ocsf
send_disclosure
wait_findings 1
monitor_stop
lines=$(ocsf_lines)
n=$(grep -c . <<<"$lines" || true)
((n == 1)) || fail "ocsf: expected 1 finding line, got $n"
info "ok: ocsf: 1 line"
ocsf_expect() {
	jq -e "${JQ_VARS[@]}" "$1" <<<"$lines" >/dev/null || fail "ocsf: line does not satisfy: $1"
	info "ok: ocsf: $1"
}
ocsf_expect '.class_uid == 2006 and .type_uid == 200601 and .category_uid == 2
	and .activity_id == 1 and (.class_name | test("Data Security Finding"))'
ocsf_expect '.data_security.data_lifecycle_state_id == 2'
ocsf_expect '.action_id == 1 and .action == "Allowed" and .disposition_id == 1
	and (.metadata.profiles | any(. == "security_control")) and .consentry.action == "reported"'
ocsf_expect '(.time | type) == "number" and .time > 1700000000000
	and (.metadata.version | type) == "string" and .metadata.product.name == "consentry"
	and (.finding_info.uid | type) == "string" and (.finding_info.uid | length) > 0
	and (.severity_id | type) == "number"'
ocsf_expect '.dst_endpoint.ip == $ad and .dst_endpoint.port == $port_http'
ocsf_expect '.actor.process.comm == "curl" and (.actor.process.pid | type) == "number"'
ocsf_expect '.consentry.verdict == "unconsented" and .consentry.subject == "u002"
	and .consentry.fields == ["email", "phone"] and .consentry.unconsented_fields == ["email"]
	and .consentry.recipient == "adpartner" and .consentry.recipient_kind == "third-party"
	and .consentry.channel == $tcp'

# --- text
monitor_start --format text
send_disclosure
wait_findings 1
monitor_stop
lines=$(text_lines)
n=$(grep -c . <<<"$lines" || true)
((n == 1)) || fail "text: expected 1 finding line, got $n"
! jq -e . <<<"$lines" >/dev/null 2>&1 || fail "text: the line is JSON: $lines"
for want in unconsented u002 "$IP_AD:$PORT_HTTP" adpartner curl email phone; do
	[[ "$lines" == *"$want"* ]] || fail "text: line lacks '$want': $lines"
done
[[ "$lines" =~ (^|[^a-z])unconsented([^a-z_]|$) ]] || fail "text: no unconsented verdict word: $lines"
info "ok: text: $lines"
expect_no_raw_values

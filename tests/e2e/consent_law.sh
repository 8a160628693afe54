#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# Consent as the law reads it (spec §7), with real curl sends: each violation once.
#   purpose           one host, two purposes told apart by the request path (HTTP/1 and h2c)
#   separate-consent  a national ID to a row with separate=no
#   guardian          a minor (enrolled birthdate 2016) without guardian=yes
#   cross-border      a recipient in US without cross_border=yes; an unknown destination
#                     placed in US by a test GeoIP DB made here
#   no-consent        no row at all
# Then text and OCSF carry the violations, and check reports rows that can never cover anything.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
# shellcheck source-path=SCRIPTDIR source=lib/h2.sh
source "$(dirname "$0")/lib/h2.sh"
e2e_setup
h2_setup

# expect_status WANT DESCRIPTION CMD...: CMD exits WANT; its output in $WORK/status.{out,err}.
expect_status() {
	local code=$1 what=$2 got=0
	shift 2
	timeout 20 "$@" >"$WORK/status.out" 2>"$WORK/status.err" || got=$?
	((got == code)) || fail "$what: exit $got, expected $code ($*): $(cat "$WORK/status.err")"
}

# u006: a child, born 2016-03-01 (under 14 until 2030-03-01)
cp "$DATA/registrations.csv" "$WORK/registrations.csv"
echo 'u006,13622220006,,,Kid Example,2016-03-01,' >>"$WORK/registrations.csv"
cs_enroll "$WORK/registrations.csv"

v4=${IP_AD%.*}
cat >"$RECIPIENTS" <<EOF
recipient,kind,match,country,purpose
acme,first-party,$v4.8/29,CN,
adpartner,third-party,api.ads.example/v1/fraud,CN,fraud-check
adpartner,third-party,api.ads.example/v1/audience,CN,advertising
adpartner,third-party,api.ads.example,CN,
databroker,third-party,$IP_BROKER,US,analytics
EOF
cat >"$CONSENT" <<EOF
subject_id,recipient,fields,granted_at,expires_at,withdrawn_at,purpose,separate,cross_border,guardian
u001,adpartner,phone|email,2025-01-01T00:00:00Z,,,fraud-check,,,
u001,adpartner,national_id,2025-01-01T00:00:00Z,,,fraud-check,no,,
u006,adpartner,phone,2025-01-01T00:00:00Z,,,fraud-check,,,no
u001,databroker,phone,2025-01-01T00:00:00Z,,,analytics,,no,
u002,databroker,phone,2025-01-01T00:00:00Z,,,analytics,,yes,
EOF
# the unknown destination .50 is in the US, the rest of the test's prefix in CN
printf '%s CN\n%s US\n' "$v4.0/24" "$IP_UNKNOWN/32" >"$WORK/geo.txt"
"$PY" -I "$REPO/scripts/gen/mkmmdb.py" "$WORK/geo.txt" "$WORK/geo.mmdb" || fail "mkmmdb failed"

expect_status 0 "check accepts the files" "$CONSENTRY" check -f "$FP" -k "$KEY" -c "$CONSENT" \
	-R "$RECIPIENTS" --geoip "$WORK/geo.mmdb"

monitor_start --all --geoip "$WORK/geo.mmdb"
host=(-H 'Host: api.ads.example')
# consented: u001's phone for fraud checks
http_post "http://$IP_HOSTSEL:$PORT_HTTP/v1/fraud/score" '{"phone":"13712340001"}' "${host[@]}"
# purpose: the same phone to the audience endpoint of the same host
http_post "http://$IP_HOSTSEL:$PORT_HTTP/v1/audience?list=7" '{"phone":"13712340001"}' "${host[@]}"
# purpose over HTTP/2: the :path tells the endpoints apart too
h2_curl "http://$IP_HOSTSEL:$H2_PORT/v1/audience/h2" -- -H 'Host: api.ads.example' \
	--data-binary '{"email":"zhang.wei@example.com"}'
# separate-consent: a national ID (sensitive) to a row with separate=no
http_post "http://$IP_HOSTSEL:$PORT_HTTP/v1/fraud/id" '{"id":"310115198511122624"}' "${host[@]}"
# guardian: the child's phone, consent row without guardian=yes
http_post "http://$IP_HOSTSEL:$PORT_HTTP/v1/fraud/kid" '{"phone":"13622220006"}' "${host[@]}"
# cross-border: databroker is in US, u001's row says cross_border=no; u002's says yes
http_post "http://$IP_BROKER:$PORT_HTTP/" '{"phone":"13712340001"}'
http_post "http://$IP_BROKER:$PORT_HTTP/" '{"phone":"15898760002"}'
# no-consent: u003 has no row for adpartner
http_post "http://$IP_HOSTSEL:$PORT_HTTP/v1/fraud/x" '{"phone":"18611112233"}' "${host[@]}"
# unknown recipient, placed in US by the GeoIP DB
http_post "http://$IP_UNKNOWN:$PORT_HTTP/" '{"phone":"15898760002"}'
wait_findings 9 10
monitor_stop
expect_findings 9
expect_finding '.subject == "u001" and .verdict == "consented" and .fields == ["phone"]
	and .violations == [] and .purpose == "fraud-check" and .recipient == "adpartner"
	and .destination.country == "CN" and .cross_border == false and .minor == false
	and .sensitive_fields == [] and .message.http.path == "/v1/fraud/score"'
expect_finding '.subject == "u001" and .verdict == "unconsented" and .violations == ["purpose"]
	and .purpose == "advertising" and .unconsented_fields == ["phone"]
	and .message.http.version == "1.1"'
expect_finding '.subject == "u001" and .violations == ["purpose"] and .fields == ["email"]
	and .purpose == "advertising" and .message.http.version == "2"
	and .message.http.path == "/v1/audience/h2"'
expect_finding '.subject == "u001" and .violations == ["separate-consent"]
	and .fields == ["national_id"] and .sensitive_fields == ["national_id"]'
expect_finding '.subject == "u006" and .violations == ["guardian"] and .minor == true
	and .fields == ["phone"]'
expect_finding '.subject == "u001" and .recipient == "databroker"
	and .violations == ["cross-border"] and .cross_border == true
	and .destination.country == "US" and .purpose == "analytics"'
expect_finding '.subject == "u002" and .recipient == "databroker" and .verdict == "consented"
	and .violations == [] and .cross_border == true'
expect_finding '.subject == "u003" and .violations == ["no-consent"] and .recipient == "adpartner"'
expect_finding '.subject == "u002" and .recipient == null and .destination.ip == $unknown
	and .destination.country == "US" and .cross_border == true
	and .violations == ["no-consent", "cross-border"]'
expect_every '(.violations | length > 0) == (.verdict == "unconsented")'
expect_no_raw_values

# the same rules in text and OCSF
monitor_start --format text
http_post "http://$IP_HOSTSEL:$PORT_HTTP/v1/fraud/kid" '{"phone":"13622220006"}' "${host[@]}"
wait_findings 1
monitor_stop
grep -q 'unconsented .*subject=u006 .*violations=guardian minor recipient=adpartner(third-party).* purpose=fraud-check country=CN' \
	"$FINDINGS" || fail "text finding lacks the violation: $(cat "$FINDINGS")"
monitor_start --format ocsf --geoip "$WORK/geo.mmdb"
http_post "http://$IP_UNKNOWN:$PORT_HTTP/" '{"phone":"15898760002"}'
wait_findings 1
monitor_stop
jq -e '.class_uid == 2006 and .dst_endpoint.location.country == "US"
	and .consentry.violations == ["no-consent", "cross-border"]
	and .consentry.cross_border == true and .consentry.destination_country == "US"' \
	"$FINDINGS" >/dev/null || fail "OCSF finding lacks the violations: $(cat "$FINDINGS")"
info "ok: text and OCSF name the violations"

# check: rows that can never cover anything, with file:line, exit 2
cat >>"$CONSENT" <<EOF
u002,databroker,phone,2025-01-01T00:00:00Z,,,marketing|ads,,,
u002,nobody,phone,2025-01-01T00:00:00Z,,,,,,
u003,adpartner,phone,2025-01-01T00:00:00Z,,,marketing,,,
EOF
expect_status 2 "check reports dead rows" "$CONSENTRY" check -f "$FP" -k "$KEY" -c "$CONSENT" \
	-R "$RECIPIENTS"
grep -q "consent.csv:7: purpose 'marketing' is not the purpose of any recipients row of 'databroker'" \
	"$WORK/status.err" || fail "check did not name the purpose row: $(cat "$WORK/status.err")"
grep -q "consent.csv:7: purpose 'ads' is not" "$WORK/status.err" ||
	fail "check did not name the second purpose"
# adpartner has a row without purpose: any consent purpose can cover its disclosures there
! grep -q "consent.csv:9" "$WORK/status.err" || fail "check named a row that can cover"
grep -q "consent.csv:8: recipient 'nobody' is not in the recipients file" "$WORK/status.err" ||
	fail "check did not name the recipient row"
grep -q '2 consent rows can never cover a disclosure' "$WORK/status.err" ||
	fail "check did not count the rows"

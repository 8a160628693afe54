#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# SIGHUP reloads consent.csv and recipients.csv in place: a withdrawal and a renamed recipient
# apply to the next send, with the probes still attached. A reload whose consent file has an
# error is reported with file:line and changes nothing, not even the rows before the error.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
e2e_setup
url="http://$IP_AD:$PORT_HTTP/sync"
body='{"phone":"13712340001","email":"zhang.wei@example.com"}' # u001, consented to adpartner

monitor_start --all
http_post "$url" "$body"
wait_findings 1

# u001 withdraws from adpartner (in the past), and adpartner is renamed in both files
sed -i 's/^u001,adpartner,phone|email,2025-01-01T00:00:00Z,,,/u001,adpartner,phone|email,2025-01-01T00:00:00Z,,2026-06-01T00:00:00Z,/' \
	"$CONSENT"
grep -q '^u001,adpartner,phone|email,2025-01-01T00:00:00Z,,2026-06-01T00:00:00Z,' "$CONSENT" ||
	fail "test setup: the withdrawal was not written"
sed -i 's/^adpartner,third-party,/adnetwork,third-party,/; s/^\(u00[0-9]\),adpartner,/\1,adnetwork,/' \
	"$RECIPIENTS" "$CONSENT"
monitor_hup 1
grep -q "SIGHUP: reloaded $CONSENT" "$MONLOG" || fail "reload not reported: $(cat "$MONLOG")"
http_post "$url" "$body"
wait_findings 2

# a consent file that grants u001 again in its first row and is broken further down
good=$(cat "$CONSENT")
{
	echo 'subject_id,recipient,fields,granted_at,expires_at,withdrawn_at,purpose'
	echo 'u001,adnetwork,*,2025-01-01T00:00:00Z,,,marketing'
	echo 'u002,adnetwork,phone,not-a-time,,,marketing'
} >"$CONSENT"
monitor_hup 2
grep -q "consent.csv:3:" "$MONLOG" || fail "the bad row is not named with file:line: $(cat "$MONLOG")"
grep -q "reload failed, still using" "$MONLOG" || fail "failed reload not reported"
http_post "$url" "$body"
wait_findings 3
echo "$good" >"$CONSENT"
monitor_stop

grep -q "reloads               1 (failed 1)" "$MONLOG" || fail "summary does not count the reloads"
expect_findings 3
expect_every '.subject == "u001" and .fields == ["email", "phone"] and .destination.ip == $ad'
expect_finding '.recipient == "adpartner" and .verdict == "consented"'
# after the reload: withdrawn and under the new name; the failed reload (which would have
# granted it again) changed nothing
got=$(findings_jq 'map(select(.recipient == "adnetwork" and .verdict == "unconsented"
	and .unconsented_fields == ["email", "phone"] and (.consent_ids | length) == 0)) | length')
[[ "$got" == 2 ]] || fail "expected the 2 findings after the reload unconsented for adnetwork, got $got"
expect_no_raw_values

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# run --dedup SECONDS: curl sends u002's phone to databroker 4 times, then a new field (u002's
# email), a new subject (u003) and a new recipient (an unknown address) within the window. The
# first finding of each is written at once (count 1); the 3 repeats come out as one finding
# with count 3 when the window ends, and nothing else does. Two more sends, then SIGINT inside
# the window: the repeat is written at shutdown. /metrics counts repeats, merged findings and
# open windows. The journal keeps the counts: findings --count-by and report count 8
# disclosures of u002 in 7 rows. Bad SECONDS: exit 2.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
e2e_setup
command -v sqlite3 >/dev/null || fail "sqlite3 not installed (scripts/setup)"
# named findings-*: expect_no_raw_values reads it too
J="$WORK/findings-journal.db"
W=6
PHONE2='{"user":{"mobile":"15898760002"}}'
PORT_M=$((20000 + $$ % 20000))
# the table's counters as /metrics has them: NAME VALUE, the dedup ones
dedup_metrics() {
	curl -sS -m 5 "http://127.0.0.1:$PORT_M/metrics" | awk '/^consentry_dedup_/ { printf "%s %s;", $1, $2 }' ||
		fail "scrape failed"
}

# 1. SECONDS must be decimal whole seconds in [1, 86400] (the parser of every numeric option)
for bad in 0 -5 +5 abc 86401 1.5 "" 0x10 " 5"; do
	rc=0
	"$CONSENTRY" run -f "$FP" -k "$KEY" -c "$CONSENT" -R "$RECIPIENTS" --dedup "$bad" \
		>/dev/null 2>"$WORK/err" </dev/null || rc=$?
	((rc == 2)) || fail "--dedup '$bad': exit $rc, expected 2"
	grep -qF -- "--dedup: expected a number in [1, 86400], got '$bad'" "$WORK/err" ||
		fail "--dedup '$bad': $(cat "$WORK/err")"
done
info "ok: bad --dedup values refused with exit 2"

# 2. repeats within the window merged; a new field, subject or recipient written at once
monitor_start --dedup "$W" --journal "$J" --metrics "127.0.0.1:$PORT_M"
t0=$(date +%s%N)
for i in 1 2 3 4; do
	http_post "http://$IP_BROKER:$PORT_HTTP/v1/events?n=$i" "$PHONE2"
done
http_post "http://$IP_BROKER:$PORT_HTTP/v1/events" '{"user":{"mail":"li.na@example.org"}}'
http_post "http://$IP_BROKER:$PORT_HTTP/v1/events" '{"user":{"mobile":"18611112233"}}'
http_post "http://$IP_UNKNOWN:$PORT_HTTP/v1/events" "$PHONE2"
wait_findings 4
t1=$(date +%s%N)
# what follows holds only if all of that took well under the window
(((t1 - t0) / 1000000 < (W - 2) * 1000)) || fail "the sends took $(((t1 - t0) / 1000000)) ms, too close to the ${W} s window"
expect_findings 4
expect_every '.count == 1 and .first_time == .time and .last_time == .time'
expect_finding '.subject == "u002" and .fields == ["phone"] and .recipient == "databroker"'
expect_finding '.subject == "u002" and .fields == ["email"] and .recipient == "databroker"'
expect_finding '.subject == "u003" and .fields == ["phone"] and .recipient == "databroker"'
expect_finding '.subject == "u002" and .fields == ["phone"] and .recipient == null
	and .destination.ip == $unknown'
got=$(dedup_metrics)
[[ "$got" == "consentry_dedup_repeats_merged_total 3;consentry_dedup_merged_findings_total 0;consentry_dedup_early_closes_total 0;consentry_dedup_windows_open 4;" ]] ||
	fail "metrics while the windows are open: $got"
info "ok: 4 findings written at once, the 3 repeats held (metrics: 4 windows open)"
# the merged one when the window ends (the next tick), and nothing for the keys without repeats
wait_findings 5 $((W + 5))
sleep 2.5
expect_findings 5
[[ "$(findings_jq '.[4] | [.subject, .fields, .recipient, .count, .time == .first_time,
	.first_time < .last_time]')" == '["u002",["phone"],"databroker",3,true,true]' ]] ||
	fail "the 5th finding is not u002's 3 repeats: $(findings_jq '.[4]')"
[[ "$(findings_jq 'map(select(.subject == "u002" and .recipient == "databroker"
	and .fields == ["phone"])) | sort_by(.count) | .[0].time < .[1].first_time')" == true ]] ||
	fail "the merged finding does not start after the first one"
got=$(dedup_metrics)
[[ "$got" == "consentry_dedup_repeats_merged_total 3;consentry_dedup_merged_findings_total 1;consentry_dedup_early_closes_total 0;consentry_dedup_windows_open 0;" ]] ||
	fail "metrics after the windows: $got"
info "ok: one merged finding, count 3, after the window; none for keys without repeats"

# 3. a new window for the same key; SIGINT inside it writes its repeat at shutdown
t0=$(date +%s%N)
http_post "http://$IP_BROKER:$PORT_HTTP/v1/events?n=5" "$PHONE2"
http_post "http://$IP_BROKER:$PORT_HTTP/v1/events?n=6" "$PHONE2"
wait_findings 6
sleep 0.5
expect_findings 6
t1=$(date +%s%N)
# the window must still be open at SIGINT (monitor_stop waits 0.5 s more)
(((t1 - t0) / 1000000 < (W - 2) * 1000)) || fail "step 3 took $(((t1 - t0) / 1000000)) ms, too close to the ${W} s window"
monitor_stop
expect_findings 7
[[ "$(findings_jq '[.[5], .[6]] | map([.subject, .fields, .recipient, .count])')" == \
	'[["u002",["phone"],"databroker",1],["u002",["phone"],"databroker",1]]' ]] ||
	fail "shutdown: $(findings_jq '[.[5], .[6]]')"
[[ "$(findings_jq '.[5].time < .[6].time')" == true ]] || fail "shutdown: the repeat's time is not the later send's"
[[ "$(summary_value dedup)" == 4 ]] || fail "summary: $(grep dedup "$MONLOG")"
grep -q "dedup  *4 repeats merged into 2 findings (--dedup 6 s; 5 windows, 0 closed early" "$MONLOG" ||
	fail "summary: $(grep dedup "$MONLOG")"
info "ok: the open window's repeat written at SIGINT; summary 4 repeats in 2 findings"

# 4. the journal keeps the counts: 7 rows stand for 9 disclosures
[[ "$(sqlite3 "$J" 'SELECT COUNT(*), SUM(count) FROM findings')" == "7|9" ]] ||
	fail "journal rows|disclosures: $(sqlite3 "$J" 'SELECT COUNT(*), SUM(count) FROM findings')"
got=$("$CONSENTRY" findings -j "$J" --count-by subject)
want=$(printf '%-24s %s\n' u002 "8 findings, 1 subjects" u003 "1 findings, 1 subjects")
[[ "$got" == "$want" ]] || fail "--count-by subject: $got"
got=$("$CONSENTRY" findings -j "$J" --count-by recipient --format csv | tr -d '\r')
[[ "$got" == $'recipient,findings,subjects\ndatabroker,8,2\n,1,1' ]] || fail "--count-by recipient: $got"
"$CONSENTRY" findings -j "$J" | grep -q "subject=u002 fields=phone .* x3 " ||
	fail "findings: no x3 row: $("$CONSENTRY" findings -j "$J")"
[[ "$("$CONSENTRY" findings -j "$J" --format jsonl | jq -s -c 'map(.count)')" == '[1,3,1,1,1,1,1]' ]] ||
	fail "findings jsonl counts: $("$CONSENTRY" findings -j "$J" --format jsonl | jq -s -c 'map(.count)')"
got=$("$CONSENTRY" report -j "$J" | tr -d '\r' | "$PY" -I -c '
import csv, sys
for r in csv.reader(sys.stdin):
    print(r[0], r[2], r[3], r[6])')
want=$(printf '%s\n' "recipient subject fields findings" "(unknown) u002 phone 1" \
	"databroker u002 email,phone 7" "databroker u003 phone 1")
[[ "$got" == "$want" ]] || fail "report: $got"
info "ok: journal: 7 rows, --count-by and report count 9 disclosures"
expect_no_raw_values

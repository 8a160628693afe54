#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# run --journal: every finding, whatever its verdict, lands in the SQLite journal (the findings
# file gets only the unconsented one); `consentry findings` filters and counts it; kill -9 keeps
# what was committed (one commit a second); a locked journal is counted, never stops the
# monitor; a journal of another schema, or a path that cannot be created, is refused (exit 2).
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
e2e_setup
command -v sqlite3 >/dev/null || fail "sqlite3 not installed (scripts/setup)"
# named findings-*: expect_no_raw_values reads it (and its -wal) too
J="$WORK/findings-journal.db"
q() { "$CONSENTRY" findings -j "$J" "$@"; }

# 1. three verdicts; the findings file holds the unconsented one only
monitor_start --journal "$J"
http_post "http://$IP_BROKER:$PORT_HTTP/v1/events" '{"user":{"mobile":"13955550005"}}'
http_post "http://$IP_AD:$PORT_HTTP/v1/sync" '{"user":{"mobile":"13712340001"}}'
http_post "http://$IP_FIRST:$PORT_HTTP/v1/me" '{"user":{"mobile":"15898760002"}}'
wait_findings 1
monitor_stop
expect_findings 1
expect_finding '.subject == "u005" and .verdict == "unconsented"'
[[ "$(summary_value journal)" == 3 ]] || fail "summary: journal written $(summary_value journal), expected 3"
grep -q "journal  *3 findings written, 0 lost" "$MONLOG" || fail "no journal summary line: $(grep journal "$MONLOG")"

got=$(q --format jsonl | jq -s -c 'map([.subject, .verdict, .recipient, .recipient_kind,
	.fields, .destination.port, .process.comm, (.message.id | length > 0),
	(.evidence.fingerprints | length > 0)]) | sort')
want=$(jq -n -c --argjson p "$PORT_HTTP" '[
	["u001","consented","adpartner","third-party",["phone"],$p,"curl",true,true],
	["u002","exempt","acme","first-party",["phone"],$p,"curl",true,true],
	["u005","unconsented","databroker","third-party",["phone"],$p,"curl",true,true]] | sort')
[[ "$got" == "$want" ]] || fail "journal rows: $got, expected $want"
info "ok: the journal holds all three verdicts"

# 2. filters and counts
[[ "$(q --subject u005 | grep -c 'subject=u005 ')" == 1 ]] || fail "--subject u005: $(q --subject u005)"
[[ "$(q --subject u005 | wc -l)" == 1 ]] || fail "--subject u005 printed more than one line"
[[ "$(q --recipient adpartner --format jsonl | jq -r .subject)" == u001 ]] || fail "--recipient adpartner"
[[ "$(q --verdict exempt --format jsonl | jq -r .subject)" == u002 ]] || fail "--verdict exempt"
[[ "$(q --field phone | wc -l)" == 3 ]] || fail "--field phone: $(q --field phone | wc -l) lines"
[[ -z "$(q --field email)" ]] || fail "--field email selected: $(q --field email)"
today=$(date -u +%F)
tomorrow=$(date -u -d tomorrow +%F)
[[ "$(q --since "$today" --until "$tomorrow" | wc -l)" == 3 ]] || fail "--since today --until tomorrow"
[[ -z "$(q --since "$tomorrow")" ]] || fail "--since tomorrow selected findings"
[[ -z "$(q --until "$today")" ]] || fail "--until today selected findings"
got=$(q --count-by recipient --format csv | tr -d '\r')
want=$(printf 'recipient,findings,subjects\nacme,1,1\nadpartner,1,1\ndatabroker,1,1')
[[ "$got" == "$want" ]] || fail "--count-by recipient csv: $got"
[[ "$(q --count-by day)" == "$today"*"3 findings, 3 subjects" ]] || fail "--count-by day: $(q --count-by day)"
[[ "$(q --count-by field --format csv | tr -d '\r')" == $'field,findings\nphone,3' ]] ||
	fail "--count-by field: $(q --count-by field --format csv)"
# the CSV listing parses, one row per finding plus the header
[[ "$("$PY" -I -c 'import csv,sys; print(len(list(csv.reader(sys.stdin))))' < <(q --format csv))" == 4 ]] ||
	fail "--format csv does not parse as 4 rows"
# its header names the columns as written: no padding, the times as time and last_time
hdr=$(q --format csv | head -n 1 | tr -d '\r')
[[ "$hdr" == time,verdict,subject,fields,*,http_path,count,last_time,purpose,country,cross_border,sensitive,minor,violations,action && "$hdr" != *" "* ]] ||
	fail "--format csv header: $hdr"
info "ok: filters, counts and the three formats"

# 3. bad options and a journal of another schema: exit 2 with the reason
for bad in "--verdict maybe" "--action denied" "--field shoe_size" "--since yesterday" "--count-by week" "--format ocsf"; do
	rc=0
	# shellcheck disable=SC2086 # the option and its value
	q $bad >/dev/null 2>"$WORK/err" || rc=$?
	((rc == 2)) || fail "findings $bad: exit $rc, expected 2"
	[[ -s "$WORK/err" ]] || fail "findings $bad: no message"
done
sqlite3 "$WORK/other.db" 'CREATE TABLE t(x); PRAGMA user_version = 7;'
rc=0
"$CONSENTRY" findings -j "$WORK/other.db" >/dev/null 2>"$WORK/err" || rc=$?
((rc == 2)) || fail "findings on another schema: exit $rc, expected 2"
grep -q "schema version 7, expected 4, 3, 2 or 1" "$WORK/err" || fail "another schema: $(cat "$WORK/err")"
rc=0
"$CONSENTRY" run -f "$FP" -k "$KEY" -c "$CONSENT" -R "$RECIPIENTS" --journal "$WORK/other.db" \
	>/dev/null 2>"$WORK/err" </dev/null || rc=$?
((rc == 2)) || fail "run with another schema's journal: exit $rc"
rc=0
"$CONSENTRY" run -f "$FP" -k "$KEY" -c "$CONSENT" -R "$RECIPIENTS" --journal "$WORK/no/such/dir/j.db" \
	>/dev/null 2>"$WORK/err" </dev/null || rc=$?
((rc == 2)) || fail "run with an impossible journal path: exit $rc, expected 2"
grep -q "cannot open the journal" "$WORK/err" || fail "impossible path: $(cat "$WORK/err")"
info "ok: bad options and journals refused with exit 2"

# 4. a locked journal: the monitor goes on, the rows are counted lost, writes resume
monitor_start --journal "$J"
"$PY" -I -c '
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN EXCLUSIVE")
open(sys.argv[2], "w").close()
time.sleep(3)
c.execute("COMMIT")' "$J" "$WORK/locked" &
LOCKER=$!
track_pid "$LOCKER"
for ((i = 0; i < 50; i++)); do [[ -e "$WORK/locked" ]] && break; sleep 0.1; done
http_post "http://$IP_BROKER:$PORT_HTTP/v1/events" '{"user":{"mobile":"13955550005"}}'
wait_findings 1
wait "$LOCKER" || fail "the locking client failed"
sleep 1.5
http_post "http://$IP_BROKER:$PORT_HTTP/v1/events" '{"user":{"mobile":"13955550005"}}'
wait_findings 2
monitor_stop
expect_findings 2
grep -q "journal  *1 findings written, 1 lost (1 failed writes" "$MONLOG" ||
	fail "locked journal: $(grep -i journal "$MONLOG")"
grep -q "journal write failed" "$MONLOG" || fail "locked journal: not said on stderr"
[[ "$(q --subject u005 | wc -l)" == 2 ]] || fail "after the lock: $(q --subject u005 | wc -l) rows of u005, expected 2"
info "ok: a locked journal is counted (1 lost), the findings file and later rows unaffected"

# 5. the breach-notification report: CSV for the letters, HTML drawn by a real browser
"$CONSENTRY" report -j "$J" --csv "$WORK/report.csv" --html "$WORK/report.html" ||
	fail "report failed"
got=$(tr -d '\r' <"$WORK/report.csv" | cut -d, -f1-4,7)
want=$(printf 'recipient,recipient_kind,subject,fields,findings\ndatabroker,third-party,u005,phone,2')
[[ "$got" == "$want" ]] || fail "report CSV: $got"
[[ "$("$CONSENTRY" report -j "$J" --recipient acme | tr -d '\r' | wc -l)" == 1 ]] ||
	fail "report --recipient acme: the exempt finding was reported"
command -v chromium >/dev/null || fail "chromium not installed (scripts/setup)"
# a browser profile of its own, removed with the work dir; no network is needed to view the page
# shellcheck disable=SC2054 # the commas are in --window-size=W,H
chrome=(chromium --headless --no-sandbox --disable-gpu --user-data-dir="$WORK/chrome"
	--window-size=1000,700)
timeout 60 "${chrome[@]}" --dump-dom "file://$WORK/report.html" >"$WORK/report.dom" 2>/dev/null ||
	fail "chromium could not load the report"
grep -q '<table class="recipient">' "$WORK/report.dom" || fail "report: no recipient table in the DOM"
grep -q '<td>u005</td><td>phone</td>' "$WORK/report.dom" || fail "report: no u005 row in the DOM"
grep -q 'databroker (third-party): 1 subject' "$WORK/report.dom" || fail "report: no databroker heading"
timeout 60 "${chrome[@]}" --screenshot="$WORK/report.png" "file://$WORK/report.html" \
	>/dev/null 2>&1 || fail "chromium could not take a screenshot"
# the first series' colour (#d62728) inside the chart's plot area, the line itself
red=$("$PY" -I "$E2E_DIR/clients/png_color.py" "$WORK/report.png" d62728 80 140 990 400)
((red >= 20)) || fail "report: the timeline is not drawn ($red pixels of its colour in the chart)"
info "ok: report CSV; HTML table and timeline drawn in chromium ($red pixels of the line)"
# the timeline counted in the tables' one read: 14 more recipients over 441 days are drawn per
# day, 12 series and "others" (the sum of the rest), the y axis at the largest day's count
J3="$WORK/findings-spread.db"
sqlite3 "$J" ".backup '$J3'"
others=$("$PY" -I "$E2E_DIR/clients/journal_spread.py" "$J3" 14 480 40) || fail "journal_spread.py failed"
"$CONSENTRY" report -j "$J3" --html "$WORK/spread.html" || fail "report of the spread journal failed"
grep -q 'aria-label="unconsented findings per day by recipient"' "$WORK/spread.html" ||
	fail "report: 441 days not drawn per day"
[[ "$(grep -c '<polyline class="series"' "$WORK/spread.html")" == 13 ]] ||
	fail "report: $(grep -c '<polyline' "$WORK/spread.html") series drawn, expected 12 and others"
grep -q '>others</text>' "$WORK/spread.html" || fail "report: no \"others\" in the legend"
grep -q "font-size=\"11\">$others</text>" "$WORK/spread.html" ||
	fail "report: y axis not at the others' daily $others: $(grep -o 'font-size="11">[0-9]*<' "$WORK/spread.html" | head -2)"
[[ "$(grep -c '<tr><td>u005</td>' "$WORK/spread.html")" == 15 ]] || fail "report: not 15 recipient tables"
info "ok: report timeline per day over 441 days, 12 series + others (y max $others)"

# 6. kill -9: what was committed (within a second) is there, nothing stays attached
before_ids=$(prog_ids)
monitor_start --journal "$J"
http_post "http://$IP_AD:$PORT_HTTP/v1/sync" '{"user":{"mobile":"13712340001"}}'
sleep 2.5
kill -KILL "$MON_PID"
wait "$MON_PID" 2>/dev/null || true
MON_PID=
[[ "$(q --subject u001 | wc -l)" == 2 ]] || fail "kill -9: $(q --subject u001 | wc -l) rows of u001, expected 2"
sqlite3 "$J" 'PRAGMA integrity_check' | grep -qx ok || fail "journal not intact after kill -9"
expect_no_programs_left "$before_ids"
info "ok: kill -9 lost nothing committed; journal intact"

# 7. logrotate: the journal moved away, then SIGHUP: the old file keeps its rows, a new one
# starts at the path
J2="$WORK/findings-rotated.db"
monitor_start --journal "$J2"
http_post "http://$IP_BROKER:$PORT_HTTP/v1/events" '{"user":{"mobile":"13955550005"}}'
sleep 1.5
mv "$J2" "$J2.1"
kill -HUP "$MON_PID"
sleep 0.5
http_post "http://$IP_AD:$PORT_HTTP/v1/sync" '{"user":{"mobile":"13712340001"}}'
wait_findings 1
monitor_stop
grep -q "journal reopened" "$MONLOG" || fail "rotation: no reopen said"
[[ "$("$CONSENTRY" findings -j "$J2.1" --format csv | tail -n +2 | cut -d, -f3 | tr -d '\r')" == u005 ]] ||
	fail "rotation: the moved journal: $("$CONSENTRY" findings -j "$J2.1")"
[[ "$("$CONSENTRY" findings -j "$J2" --format csv | tail -n +2 | cut -d, -f3 | tr -d '\r')" == u001 ]] ||
	fail "rotation: the new journal: $("$CONSENTRY" findings -j "$J2")"
info "ok: moved journal + SIGHUP: the old file keeps u005, the new one has u001"
expect_no_raw_values

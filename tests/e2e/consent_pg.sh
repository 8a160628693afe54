#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016 # jq filters are single-quoted on purpose
# -c postgresql://: consent rows from a table of a real PostgreSQL server the test owns. A row
# INSERTed while the monitor runs, and a withdrawal UPDATEd, apply to the next send (a trigger
# NOTIFYs the monitor); with the server stopped the last table stays in use and the outage is
# counted; a change made while the monitor could not connect is picked up when it reconnects; a
# server that stops answering costs the monitor's loop at most the query bound.
# check reads the table like a file: a bad row is URL:LINE and exit 2, as is a server that cannot
# be reached. The URL's password is never printed.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
# shellcheck source-path=SCRIPTDIR source=lib/pg.sh
source "$E2E_DIR/lib/pg.sh"
e2e_setup
pg_start

# the consent.csv columns, times as timestamptz; the trigger an operator would create
# (docs/operations.md); u002's row only: u001 has no consent to start with
pg_psql <<'SQL'
CREATE TABLE consent (subject_id text NOT NULL, recipient text NOT NULL, fields text NOT NULL,
	granted_at timestamptz NOT NULL, expires_at timestamptz, withdrawn_at timestamptz,
	purpose text);
CREATE FUNCTION consent_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('consentry_consent', '');
	RETURN NULL;
END $$;
CREATE TRIGGER consent_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON consent
	FOR EACH STATEMENT EXECUTE FUNCTION consent_notify();
INSERT INTO consent VALUES ('u002', 'adpartner', 'phone', '2025-01-01T00:00:00Z', NULL, NULL,
	'marketing');
CREATE TABLE consent_bad AS SELECT * FROM consent;
INSERT INTO consent_bad VALUES ('u001', 'adpartner', 'phone|fax', '2025-01-01T00:00:00Z', NULL,
	NULL, NULL);
SQL
URL=$(pg_url)
chk() {
	"$CONSENTRY" check -f "$FP" -k "$KEY" -R "$RECIPIENTS" "$@"
}

# check: a good table, a bad row (URL:LINE), a table that is not there, no server
out=$(chk -c "$URL" 2>&1) || fail "check on the good table: $out"
[[ "$out" == *"1 consent rows"* ]] || fail "check: $out"
rc=0
out=$(chk -c "$(pg_url table=public.consent_bad)" 2>&1) || rc=$?
((rc == 2)) || fail "check on a bad table exited $rc, expected 2: $out"
want="${URL/:$PG_PASSWORD@/:***@}?table=public.consent_bad:3: unknown field type 'fax'"
[[ "$out" == *"$want"* ]] || fail "check does not name URL:LINE ($want): $out"
rc=0
out=$(chk -c "$(pg_url table=nope)" 2>&1) || rc=$?
((rc == 2)) || fail "check on a missing table exited $rc, expected 2: $out"
[[ "$out" == *'cannot read table nope: relation "nope" does not exist'* ]] || fail "check: $out"
rc=0
out=$(chk -c "postgresql://postgres:$PG_PASSWORD@${WORK//\//%2F}%2Fnone/consentry" 2>&1) || rc=$?
((rc == 2)) || fail "check with no server exited $rc, expected 2: $out"
[[ "$out" == *"cannot connect to the consent database"* ]] || fail "check: $out"
rc=0
out=$("$CONSENTRY" run -f "$FP" -k "$KEY" -R "$RECIPIENTS" \
	-c "postgresql://postgres:$PG_PASSWORD@${WORK//\//%2F}%2Fnone/consentry" 2>&1) || rc=$?
((rc == 2)) || fail "run with no server exited $rc, expected 2: $out"
[[ "$out" != *"$PG_PASSWORD"* ]] || fail "the password was printed: $out"
info "ok: check and run on bad tables and no server: exit 2, URL:LINE, password masked"

CONSENT=$URL
url="http://$IP_AD:$PORT_HTTP/sync"
body='{"phone":"13712340001","email":"zhang.wei@example.com"}' # u001
send() {
	http_post "$url" "$body"
	wait_findings "$1"
	(($(grep -c . "$FINDINGS") == $1)) || fail "expected $1 findings after send $1"
}
# wait_log N PATTERN: until PATTERN has been logged N times (10 s)
wait_log() {
	local i
	for ((i = 0; i < 100; i++)); do
		(($(grep -c -- "$2" "$MONLOG" || true) >= $1)) && return 0
		sleep 0.1
	done
	fail "not logged $1 times: $2"
}

# metrics_value NAME: the value of NAME at /metrics
PORT_M=$((40000 + $$ % 20000))
metrics_value() {
	curl -sS -m 5 "http://127.0.0.1:$PORT_M/metrics" | awk -v n="$1" '$1 == n { print $2 }'
}

monitor_start --all --metrics "127.0.0.1:$PORT_M"
[[ "$(metrics_value consentry_consent_source_up)" == 1 ]] || fail "metrics: source not up"
send 1 # no row for u001: unconsented
info "ok: the monitor reads the table; no row: unconsented"

pg_psql -c "INSERT INTO consent VALUES ('u001', 'adpartner', 'phone|email',
	'2025-01-01T00:00:00Z', NULL, NULL, 'marketing')"
wait_log 1 "NOTIFY: reloaded .* (2 consent rows)"
send 2 # consented by the new row, the table's second: line 3

pg_psql -c "UPDATE consent SET withdrawn_at = '2026-06-01T00:00:00Z' WHERE subject_id = 'u001'"
wait_log 2 "NOTIFY: reloaded"
send 3 # withdrawn: unconsented

pg_psql -c "UPDATE consent SET withdrawn_at = '2099-01-01T00:00:00Z' WHERE subject_id = 'u001'"
wait_log 3 "NOTIFY: reloaded"
send 4 # a withdrawal to come: consented

# a bad row: the reload fails, named URL:LINE, and the table in use stays
pg_psql -c "INSERT INTO consent VALUES ('u003', 'adpartner', 'fax', '2025-01-01T00:00:00Z', NULL,
	NULL, NULL)"
wait_log 1 "NOTIFY: reload failed, still using the consent loaded before"
grep -q -F "${URL/:$PG_PASSWORD@/:***@}:4: unknown field type 'fax'" "$MONLOG" ||
	fail "the bad row is not named URL:LINE"
send 5 # consented: the table before the bad row
pg_psql -c "DELETE FROM consent WHERE subject_id = 'u003'"
wait_log 4 "NOTIFY: reloaded"
# SIGHUP reads the table again too (and names the URL without its password)
monitor_hup 1
grep -q -F "SIGHUP: reloaded ${URL/:$PG_PASSWORD@/:***@} (2 consent rows)" "$MONLOG" ||
	fail "SIGHUP did not reload the table"
send 6 # consented
info "ok: INSERT, withdrawal, bad row and SIGHUP applied in place"

# the server goes away: the last table stays in use
pg_stop
wait_log 1 "connection lost"
send 7 # consented, as before the outage
[[ "$(metrics_value consentry_consent_source_up)" == 0 ]] || fail "metrics: source not down"
[[ "$(metrics_value consentry_consent_source_outages_total)" == 1 ]] ||
	fail "metrics: outage not counted"
# a change while the monitor cannot connect: made in single-user mode (no socket at all),
# with the trigger's NOTIFY going to no listener
pg_single "UPDATE consent SET withdrawn_at = '2026-06-01T00:00:00Z' WHERE subject_id = 'u001'"
sleep 2 # a reconnect attempt or two fails meanwhile
pg_start
wait_log 1 "reconnected: reloaded .* (2 consent rows)"
send 8 # withdrawn during the outage: unconsented
info "ok: the outage kept the last table; the reconnect read the change"
[[ "$(metrics_value consentry_consent_source_up)" == 1 ]] || fail "metrics: source not up again"

# a server that stops answering (its backend for the monitor stopped): the SELECT of a SIGHUP is
# given up after 10 s, counted as an outage, and the monitor connects again
backend=$(pg_psql -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'consentry'")
[[ "$backend" =~ ^[0-9]+$ ]] || fail "no single backend of the monitor: '$backend'"
kill -STOP "$backend"
t0=$SECONDS
kill -HUP "$MON_PID"
wait_log 1 "connection lost (no answer to the SELECT in time)"
kill -CONT "$backend"
((SECONDS - t0 <= 14)) || fail "the stalled SELECT held the monitor $((SECONDS - t0)) s"
wait_log 2 "reconnected: reloaded .* (2 consent rows)"
send 9 # unconsented, the table as it was
info "ok: a stalled SELECT cost the loop $((SECONDS - t0)) s"
monitor_stop

expect_findings 9
expect_every '.subject == "u001" and .fields == ["email", "phone"] and .recipient == "adpartner"'
verdicts=$(findings_jq '[.[] | .verdict] | join(" ")' | tr -d '"')
[[ "$verdicts" == "unconsented consented unconsented consented consented consented consented unconsented unconsented" ]] ||
	fail "verdicts in order: $verdicts"
ids=$(findings_jq '[.[] | .consent_ids | join(",")] | join(" ")' | tr -d '"')
# the UPDATEs moved u001's row to the table's end: line 3 of two rows each time
[[ "$ids" == " consent:3  consent:3 consent:3 consent:3 consent:3  " ]] ||
	fail "consent_ids in order: '$ids'"
# four NOTIFYs, a SIGHUP and two reconnects; the bad row's NOTIFY and the stalled SIGHUP
grep -q "reloads               7 (failed 2)" "$MONLOG" || fail "summary does not count the reloads"
grep -q -F "consent source        ${URL/:$PG_PASSWORD@/:***@} up: outages 2, reconnects 2" "$MONLOG" ||
	fail "summary does not count the outage"
grep -q -F "$PG_PASSWORD" "$MONLOG" "$WORK"/monitor-*.stdout && fail "the password was printed"
expect_no_raw_values

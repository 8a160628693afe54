#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# The fingerprint or key file replaced while the monitor runs, then SIGHUP: the DB is not
# reloaded (the kernel's tables are sized and keyed at start), the change is refused by name and
# counted ("db changes refused"), and the DB loaded at start keeps working whole: its subjects
# are still found, the new file's subject is not. Replaced by a new enrollment with a new key,
# by a corrupt file, and by a new key; with the DB compact in memory and mapped from its file
# (renamed over: the mapped pages stay the old file's).
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
e2e_setup
load="$E2E_DIR/clients/fault_load.py"
send() { # VALUE COUNT
	"$PY" -I "$load" --dst "$IP_BROKER:$PORT_RAW" --value "$1" --rate 20 --count "$2" \
		>/dev/null || fail "load client failed"
}
# hup N: SIGHUP, then N refusals logged by then
hup() {
	monitor_hup "$1"
	(($(grep -c 'not reloaded while running' "$MONLOG") == $1)) ||
		fail "SIGHUP $1: the changed file was not refused by name: $(tail -n 5 "$MONLOG")"
}
printf 'subject_id,phone\nu900,13800009999\n' >"$WORK/new.csv"
"$CONSENTRY" enroll -r "$WORK/new.csv" -k "$WORK/newkey" -o "$WORK/newfp" >/dev/null 2>&1 ||
	fail "enroll of the new file failed"
cp "$FP" "$WORK/fp.orig"
cp "$KEY" "$WORK/key.orig"

for mem in compact mapped; do
	cp "$WORK/fp.orig" "$FP"
	cp "$WORK/key.orig" "$KEY"
	monitor_start --fp-memory "$mem"
	send 13712340001 2
	wait_findings 2
	# a new enrollment with a new key, each renamed into place
	cp "$WORK/newfp" "$FP.tmp" && mv "$FP.tmp" "$FP"
	cp "$WORK/newkey" "$KEY.tmp" && mv "$KEY.tmp" "$KEY"
	hup 1
	grep -q "SIGHUP: $FP and $KEY changed since the monitor loaded it: .* still using the 97 fingerprints of 5 subjects loaded at start" \
		"$MONLOG" || fail "$mem: the refusal does not name the file and the DB in use"
	send 13712340001 3
	send 13800009999 3
	wait_findings 5
	# a corrupt file
	head -c 1000 /dev/urandom >"$FP.tmp" && mv "$FP.tmp" "$FP"
	hup 2
	send 15898760002 2
	# a new random key
	head -c 32 /dev/urandom >"$KEY.tmp" && chmod 600 "$KEY.tmp" && mv "$KEY.tmp" "$KEY"
	hup 3
	send 18611112233 2
	wait_findings 9
	monitor_stop
	expect_findings 9
	got=$(findings_jq '[.[] | .subject] | group_by(.) | map("\(.[0]) \(length)") | join(",")')
	[[ "$got" == '"u001 5,u002 2,u003 2"' ]] || fail "$mem: findings by subject $got, expected u001 5, u002 2, u003 2"
	(($(summary_value "db changes refused") == 3)) ||
		fail "$mem: db changes refused $(summary_value "db changes refused"), expected 3"
	((MON_RC == 0)) || fail "$mem: monitor exit $MON_RC"
	info "ok: $mem: 3 changes refused, the DB loaded at start kept working"
done

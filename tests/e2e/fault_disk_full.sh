#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# The findings file on a full disk (a 64 KiB tmpfs): the monitor goes on, logs the write error
# once, writes only whole lines (a line cut by ENOSPC is taken off again: every line stays a
# JSON object), and counts each finding it could not write ("findings lost"), so the lines in
# the file plus the lost ones are the messages sent. Once space is freed the next findings are
# written again, all of them.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
e2e_setup
mnt="$WORK/full"
mkdir "$mnt"
mount -t tmpfs -o size=64k,mode=0700 cs-e2e-full "$mnt" || fail "cannot mount a tmpfs"
trap 'rc=$?; umount -l "$mnt" 2>/dev/null; (exit $rc); cleanup' EXIT
load="$E2E_DIR/clients/fault_load.py"

monitor_start -o "$mnt/findings.jsonl"
FINDINGS="$mnt/findings.jsonl"
# ~700 bytes a finding: ~90 fit
"$PY" -I "$load" --dst "$IP_BROKER:$PORT_RAW" --value 13712340001 --rate 100 --count 300 \
	>/dev/null || fail "load client failed"
wait_findings_settle 10
sleep 1
kill -0 "$MON_PID" 2>/dev/null || fail "the monitor exited on a full disk"
df -k "$mnt" | sed 's/^/# /'
written=$(grep -c . "$FINDINGS")
[[ -z "$(tail -c 1 "$FINDINGS")" ]] || fail "the findings file ends inside a line"
expect_findings "$written"
expect_every '.subject == "u001" and .recipient == "databroker"'
errors=$(grep -c 'cannot write findings' "$MONLOG" || true)
((errors == 1)) || fail "the write error was logged $errors times, expected once"
grep -q "cannot write findings to $FINDINGS: No space left on device" "$MONLOG" ||
	fail "the error does not name the file and the cause"

# space again: the file emptied, the next 20 are written whole
: >"$FINDINGS"
"$PY" -I "$load" --dst "$IP_BROKER:$PORT_RAW" --value 15898760002 --rate 50 --count 20 \
	>/dev/null || fail "second load client failed"
wait_findings 20 10
monitor_stop
lost=$(summary_value "findings lost")
info "written $written, lost $lost of 300; after space came back: $(grep -c . "$FINDINGS") of 20"
((written > 0 && written < 300)) || fail "the tmpfs did not fill ($written written)"
((written + lost == 300)) || fail "written $written + lost $lost != 300 sent: lost silently"
expect_findings 20
expect_every '.subject == "u002"'
grep -q 'findings are written to .* again' "$MONLOG" || fail "recovery not logged"
grep -q "findings lost         $lost (not written to $FINDINGS: [0-9]* write errors in 1 episodes; $((written + 20)) written" "$MONLOG" ||
	fail "summary line wrong: $(grep 'findings lost' "$MONLOG")"
(($(summary_value findings) == 320)) || fail "summary findings $(summary_value findings), expected 320"
info "ok: $written written + $lost counted lost = 300; error logged once; 20/20 after recovery"

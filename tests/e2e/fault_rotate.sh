#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# The findings file moved away (rotated) or removed under the monitor: before its next write
# the monitor sees that the path no longer names its file (another inode, or no link left),
# opens the path again and goes on there; SIGHUP does the same at once (logrotate's
# postrotate). No finding is lost: the rotated file keeps those before, the new one has those
# after, each exactly once.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
e2e_setup
load="$E2E_DIR/clients/fault_load.py"
send() { # VALUE: 5 messages
	"$PY" -I "$load" --dst "$IP_BROKER:$PORT_RAW" --value "$1" --rate 20 --count 5 >/dev/null ||
		fail "load client failed"
}
monitor_start
out=$FINDINGS

send 13712340001
wait_findings 5
mv "$out" "$out.1"
send 15898760002
wait_findings 5
[[ -f "$out" ]] || fail "no new findings file after the old one was moved away"
grep -q "findings file $out was moved or removed: opened it again" "$MONLOG" ||
	fail "the reopen is not logged"
expect_findings 5
expect_every '.subject == "u002"'

rm "$out"
send 18611112233
wait_findings 5

mv "$out" "$out.2"
kill -HUP "$MON_PID"
for ((i = 0; i < 50; i++)); do
	[[ -f "$out" ]] && break
	sleep 0.1
done
[[ -f "$out" ]] || fail "SIGHUP did not open the moved findings file again"
send 13955550005
wait_findings 5
monitor_stop

FINDINGS="$out.1"
expect_findings 5
expect_every '.subject == "u001"'
FINDINGS="$out.2"
expect_findings 5
expect_every '.subject == "u003"'
FINDINGS="$out"
expect_findings 5
expect_every '.subject == "u005"'
# the removed file had u002's 5, read by nobody but written whole before it was removed
(($(summary_value findings) == 20)) || fail "summary findings $(summary_value findings), expected 20"
grep -q "findings lost         0 (not written to $out: 0 write errors in 0 episodes; 20 written, 3 reopened)" \
	"$MONLOG" || fail "summary: $(grep 'findings lost' "$MONLOG")"
info "ok: moved, removed, moved + SIGHUP: reopened 3 times, 20 written, 0 lost"

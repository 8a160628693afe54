#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# The fingerprint file read in place (--fp-memory mapped) and truncated under the running monitor,
# as `cp new old` does (enroll's rename does not): what the lookups read is gone. The monitor must
# notice (the file's inotify watch, or the guarded read's SIGBUS if a lookup comes first), say
# what happened and exit 1 with everything detached: not die of SIGBUS (status 135), not go on
# with lookups that fail unseen. (test_fpfile covers the guarded read itself.)
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
e2e_setup
command -v bpftool >/dev/null || fail "bpftool not installed"
before_ids=$(prog_ids)
monitor_start --fp-memory mapped
grep -q -F "(mapped from the file)" "$MONLOG" || fail "not mapped: $(cat "$MONLOG")"
# 1. before: u001's phone is found
tcp_send "$IP_BROKER" "$PORT_RAW" '{"phone":"13712340001"}'
wait_findings 1
expect_findings 1
# 2. the file cut to nothing, then u005's phone
size=$(stat -c %s "$FP")
truncate -s 0 "$FP"
info "fingerprint file truncated from $size to 0 bytes"
tcp_send "$IP_BROKER" "$PORT_RAW2" '{"phone":"13955550005"}'
for ((i = 0; i < 100; i++)); do
	kill -0 "$MON_PID" 2>/dev/null || break
	sleep 0.1
done
if kill -0 "$MON_PID" 2>/dev/null; then
	monitor_stop INT 0
	fail "the monitor went on after its fingerprint file was truncated: $(tail -5 "$MONLOG")"
fi
wait "$MON_PID" && MON_RC=0 || MON_RC=$?
MON_PID=
((MON_RC == 1)) || fail "monitor exited with status $MON_RC, expected 1: $(tail -5 "$MONLOG")"
grep -q "under the monitor, which reads it in place: its lookups can no longer be trusted" "$MONLOG" ||
	fail "no error naming the cause: $(tail -5 "$MONLOG")"
# the summary is still printed on the way out
grep -q "bytes inspected" "$MONLOG" || fail "no summary: $(tail -5 "$MONLOG")"
expect_no_programs_left "$before_ids"
expect_findings 1
expect_no_raw_values
info "ok: exit 1, cause named, nothing left attached"

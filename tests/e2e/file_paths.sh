#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# Sends that never pass a user buffer to a send syscall: a CSV file sent with sendfile(), a pipe
# spliced into a socket, and io_uring SEND and WRITE operations (tests/e2e/clients/uring_send.c).
# With the socket hooks each gives its findings like write() (channel sk_msg, the sending
# process); with the syscall tracepoints sendfile and splice are counted as uninspected bytes.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
e2e_setup

URING_BIN="$WORK/uring_send"
gcc -O2 -Wall -Werror -o "$URING_BIN" "$E2E_DIR/clients/uring_send.c" ||
	fail "cannot build the io_uring client"

# A two-subject CSV export on disk: u001 (phone) and u003 (email).
EXPORT="$WORK/export.csv"
printf 'id,phone,email\n1,13712340001,\n2,,wang.fang@example.net\n' >"$EXPORT"
export_size=$(stat -c %s "$EXPORT")

# file_sends: sendfile() of the export, then splice() of u002's email from a pipe.
file_sends() {
	py_client file_sends.py "$IP_BROKER" "$PORT_RAW" "$EXPORT"
}

# Socket hooks: every path gives findings.
monitor_start --capture sockets
file_sends
"$URING_BIN" "$IP_BROKER" "$PORT_RAW" 'tel=13955550005' 'mail=chen.jie@example.com' ||
	fail "io_uring client failed"
wait_findings 5
monitor_stop
expect_findings 5
expect_every '.verdict == "unconsented" and .recipient == "databroker"
	and .destination.ip == $broker and .destination.port == $port_raw and .channel == "sk_msg"'
expect_finding '.subject == "u001" and .fields == ["phone"] and .process.comm == "python3"'
expect_finding '.subject == "u003" and .fields == ["email"] and .process.comm == "python3"'
# the export's two subjects came in one message (one sendfile)
got=$(findings_jq 'map(select(.subject == "u001" or .subject == "u003") | .message.id) | unique | length')
[[ "$got" == 1 ]] || fail "sendfile export: $got message ids, want 1"
expect_finding '.subject == "u002" and .fields == ["email"] and .process.comm == "python3"'
expect_finding '.subject == "u005" and .fields == ["phone"] and (.process.comm | test("^(uring_send|iou-wrk-)"))'
expect_finding '.subject == "u004" and .fields == ["email"] and (.process.comm | test("^(uring_send|iou-wrk-)"))'
expect_no_raw_values
[[ "$(summary_value 'bytes uninspected')" == 0 ]] || fail "socket hooks left bytes uninspected"

# Syscall tracepoints: sendfile and splice are not readable there; their bytes are counted.
monitor_start --capture tracepoints
file_sends
monitor_stop
expect_findings 0
grep -q 'capture: tracepoints' "$MONLOG" || fail "the monitor did not report the tracepoint capture"
unscanned=$(grep -a -E '^[[:space:]]*bytes uninspected' "$MONLOG" | grep -o -E 'sendfile/splice [0-9]+' | grep -o -E '[0-9]+$')
want=$((export_size + 26))
[[ "$unscanned" == "$want" ]] || fail "tracepoints: sendfile/splice bytes counted $unscanned, want $want"
info "ok: tracepoints count the $want sendfile/splice bytes as uninspected"

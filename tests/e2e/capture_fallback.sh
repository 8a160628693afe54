#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# The capture choice. Where the socket hooks cannot attach (here: the monitor runs in a mount
# namespace without a cgroup v2 hierarchy), --capture auto says so and falls back to the syscall
# tracepoints, which still report a plain send (channel syscall); --capture sockets refuses to
# start instead. --capture tracepoints is chosen on request; with the hierarchy, auto takes the
# socket hooks (channel sk_msg).
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
e2e_setup

# A wrapper that starts the monitor with every cgroup2 mount hidden from it.
REAL=$CONSENTRY
NOCG="$WORK/consentry-nocgroup2"
cat >"$NOCG" <<WRAP
#!/bin/sh
exec unshare -m --propagation private sh -c '
for m in \$(awk "\\\$3 == \"cgroup2\" { print \\\$2 }" /proc/mounts | sort -r); do
	umount -l "\$m" || exit 3
done
exec "\$0" "\$@"' "$REAL" "\$@"
WRAP
chmod +x "$NOCG"

# auto without cgroup v2: the fallback, reported, and it detects
CONSENTRY=$NOCG
monitor_start --capture auto
grep -q 'falling back to syscall tracepoints' "$MONLOG" || fail "no fallback notice: $(cat "$MONLOG")"
grep -q '(capture: tracepoints)' "$MONLOG" || fail "ready line does not name the tracepoint capture"
tcp_send "$IP_BROKER" "$PORT_RAW" 'tel=13712340001'
wait_findings 1
monitor_stop
expect_findings 1
expect_finding '.subject == "u001" and .fields == ["phone"] and .channel == "syscall"
	and .process.comm == "python3" and .destination.ip == $broker'
info "ok: auto fell back to the tracepoints without cgroup v2"

# sockets without cgroup v2: refused at start (exit 1), nothing left attached
before=$(prog_ids)
set +e
"$NOCG" run -f "$FP" -k "$KEY" -c "$CONSENT" -R "$RECIPIENTS" -o /dev/null --capture sockets \
	</dev/null >/dev/null 2>"$WORK/sockets.err"
rc=$?
set -e
((rc == 1)) || fail "--capture sockets without cgroup v2 exited $rc, want 1: $(cat "$WORK/sockets.err")"
grep -q 'cgroup v2' "$WORK/sockets.err" || fail "no reason given: $(cat "$WORK/sockets.err")"
expect_no_programs_left "$before"
info "ok: --capture sockets without cgroup v2 is refused"

# with cgroup v2: tracepoints on request, sockets by default
CONSENTRY=$REAL
monitor_start --capture tracepoints
grep -q '(capture: tracepoints)' "$MONLOG" || fail "ready line does not name the tracepoint capture"
monitor_stop
monitor_start --capture auto
grep -q '(capture: sockets)' "$MONLOG" || fail "auto did not choose the socket hooks: $(cat "$MONLOG")"
tcp_send "$IP_BROKER" "$PORT_RAW" 'tel=13712340001'
wait_findings 1
monitor_stop
expect_findings 1
expect_finding '.subject == "u001" and .channel == "sk_msg"'

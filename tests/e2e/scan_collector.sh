#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# run --scan-in collector: the kernel hands every send's bytes over and the collector scans them
# (user/cscan.c) with the kernel's rules. Exact findings for a plain phone in JSON, a weak name
# beside it (in a run too short for a strong value: the whole-send rescan), an email split
# across two sends of one socket (the collector carries the open token per flow), a base64
# phone (decoded: the scan raised the trigger), a UTF-16 phone (the wide-form test), and
# nothing for 64 KiB of random bytes. Then a full ring buffer is counted, not silent: the
# collector is stopped while 96 MiB are sent, and a value sent after it resumes is still found.
# --scan-in collector with --decode off is refused (exit 2). The monitors are scoped to a cgroup
# of the test's senders (--cgroup): in collector mode every send of the host goes through the
# ring, and other traffic on the machine would fill it too.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
e2e_setup
CG_REL=/cs-test-scan-$$
cg_mkdir "$CG_REL"
CG=$CG_ROOT$CG_REL

# inside CMD...: run a helper in a subshell that joined the test cgroup.
inside() {
	(
		echo "$BASHPID" >"$CG/cgroup.procs" || exit 99
		"$@"
	)
}

out=$("$CONSENTRY" run -f "$FP" -k "$KEY" -c "$CONSENT" -R "$RECIPIENTS" --scan-in collector \
	--decode off 2>&1) && rc=0 || rc=$?
[[ $rc == 2 ]] || fail "--scan-in collector --decode off: exit $rc, want 2: $out"
grep -q -- "--decode off" <<<"$out" || fail "the refusal does not name --decode off: $out"
out=$("$CONSENTRY" run -f "$FP" -k "$KEY" -c "$CONSENT" -R "$RECIPIENTS" --scan-in gpu 2>&1) &&
	rc=0 || rc=$?
[[ $rc == 2 ]] || fail "--scan-in gpu: exit $rc, want 2: $out"
info "ok: usage errors"

monitor_start --scan-in collector --tls off --cgroup "$CG_REL"
inside tcp_send "$IP_BROKER" "$PORT_RAW" '{"id":1,"name":"张伟","phone":"13712340001","ok":true}'
inside py '
import base64, os, socket, sys, time
def sends(*parts):                                   # one connection, a send() per part
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for p in parts:
        s.sendall(p)
        time.sleep(0.05)
    s.shutdown(socket.SHUT_WR)
    s.recv(100)
    s.close()
sends(b"{\"note\":\"x\",\"mail\":\"li.na@exa", b"mple.org\"}")     # u002: split
sends(b"d=" + base64.b64encode(b"{\"tel\":\"18611112233\"}") + b"\n") # u003: base64
sends(b"\x01\x02\x03\x04" + "tel 13955550005".encode("utf-16-le") + b"\x00" * 64) # u005
sends(os.urandom(65536))                             # nothing
' "$IP_BROKER" "$PORT_RAW"
wait_findings 4
# written while the monitor runs, not at its exit (the collector reads the ring every ms)
(($(grep -c . "$FINDINGS") == 4)) || fail "findings not written within 5 s of the sends"
monitor_stop
expect_findings 4
expect_every '.recipient == "databroker" and .channel == $tcp'
expect_finding '.subject == "u001" and .fields == ["name", "phone"] and .evidence.encodings == []'
expect_finding '.subject == "u002" and .fields == ["email"] and .evidence.encodings == ["split"]'
expect_finding '.subject == "u003" and .fields == ["phone"] and .evidence.encodings == ["base64"]'
expect_finding '.subject == "u005" and .fields == ["phone"] and .evidence.encodings == ["utf-16"]'
expect_no_raw_values
grep -q -E "collector scan +[0-9]+ sends" "$MONLOG" || fail "summary: no collector scan line"
(($(summary_value "collector scan") >= 6)) || fail "summary: fewer than 6 sends scanned in the collector"
(($(summary_value "carried sends") >= 1)) || fail "summary: the split email was not carried"
(($(summary_value "bytes not tokenised") > 30000)) || fail "summary: the random bytes were tokenised"
info "ok: $(grep "collector scan" "$MONLOG")"

# A full ring: the collector stopped while 96 MiB go out in 6 sends of 16 MiB (the ring holds
# 64 MiB); the bytes that found no room are counted, and the monitor goes on once resumed.
monitor_start --scan-in collector --tls off --cgroup "$CG_REL"
kill -STOP "$MON_PID"
inside py '
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=60)
b = bytes(range(256)) * 65536
for _ in range(6):
    s.sendall(b)
s.shutdown(socket.SHUT_WR)
s.recv(100)
s.close()
' "$IP_BROKER" "$PORT_RAW" || { kill -CONT "$MON_PID"; fail "bulk sender failed"; }
kill -CONT "$MON_PID"
sleep 1
inside tcp_send "$IP_BROKER" "$PORT_RAW" '{"phone":"13712340001"}'
wait_findings 1
(($(grep -c . "$FINDINGS") == 1)) || fail "no finding within 5 s after the collector resumed"
monitor_stop
expect_findings 1
expect_finding '.subject == "u001" and .fields == ["phone"]'
grep -q -E "deep sends .* not: ring full [1-9][0-9]*" "$MONLOG" ||
	fail "summary: the full ring is not counted: $(grep "deep sends" "$MONLOG")"
info "ok: $(grep "deep sends" "$MONLOG")"

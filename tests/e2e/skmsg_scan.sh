#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# The sk_msg prototype of the issue-5 comparison (bpf/skmsg.bpf.c and scripts/skmsg-loader.c; not
# part of the monitor, measured by scripts/skmsg-compare) still scans with the monitor's scanner
# core, fingerprint file and key: a file format change once broke it unseen for a session. Its
# loader reads this run's files; a TCP send from a process in the test cgroup of u001's phone
# gives hits, a benign one none, every byte is scanned, and the sender recorded is that process
# and its peer. Nothing stays attached.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

need_cgroup2
CG=$CG_ROOT/cs-skmsg-$$
SKM_PID=

# Our EXIT trap: stop the loader, remove the cgroup, then lib.sh's cleanup with the exit status.
skm_exit() {
	local rc=$?
	set +e
	kill_pid "$SKM_PID" INT
	cg_rmdir "$CG"
	skm_status() { return "$1"; }
	skm_status "$rc"
	cleanup
}
trap skm_exit EXIT

e2e_setup
LOADER=$(dirname "$CONSENTRY")/skmsg-loader
[[ -x "$LOADER" ]] || fail "$LOADER not built (make builds it)"
command -v bpftool >/dev/null || fail "bpftool not installed"
mkdir "$CG" || fail "cannot create $CG"
before_ids=$(prog_ids)

# skm_case NAME PAYLOAD: a fresh loader, one TCP send of PAYLOAD to the broker from a process in
# the cgroup, the loader stopped; its output in $WORK/skm-NAME.log, the sender's pid in CPID.
skm_case() {
	local name=$1 payload=$2 log="$WORK/skm-$1.log" i
	"$LOADER" scan --cgroup "$CG" --fp "$FP" --key "$KEY" --record-last >"$log" 2>&1 &
	SKM_PID=$!
	for ((i = 0; i < 100; i++)); do
		grep -q '^ready' "$log" && break
		kill -0 "$SKM_PID" 2>/dev/null || fail "skmsg-loader exited: $(cat "$log")"
		sleep 0.1
	done
	grep -q '^ready' "$log" || fail "skmsg-loader not ready after 10 s: $(cat "$log")"
	(
		echo "$BASHPID" >"$CG/cgroup.procs" || exit 99
		exec "$PY" -I -c '
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
s.sendall(sys.argv[3].encode())
s.shutdown(socket.SHUT_WR)
s.recv(10)
s.close()
' "$IP_BROKER" "$PORT_RAW" "$payload"
	) &
	CPID=$!
	wait "$CPID" || fail "$name: the client failed"
	kill -INT "$SKM_PID"
	wait "$SKM_PID" || fail "$name: skmsg-loader exited with status $?: $(cat "$log")"
	SKM_PID=
}

# counter LOG NAME: the value of NAME on the loader's "counters" line
counter() {
	sed -n 's/^counters.* '"$2"'=\([0-9]*\).*/\1/p' "$1"
}

payload='{"phone":"13712340001","note":"call back"}'
skm_case phone "$payload"
log=$WORK/skm-phone.log
[[ "$(counter "$log" msgs)" == 1 ]] || fail "phone: expected 1 message: $(cat "$log")"
[[ "$(counter "$log" scanned)" == "${#payload}" ]] || fail "phone: not every byte scanned: $(cat "$log")"
(($(counter "$log" hits) >= 1)) || fail "phone: no hit: $(cat "$log")"
grep -q "^last tgid=$CPID .* remote=$IP_BROKER port=$PORT_RAW " "$log" ||
	fail "phone: sender not recorded as pid $CPID to $IP_BROKER:$PORT_RAW: $(grep '^last' "$log")"
info "ok: phone: $(grep '^counters' "$log")"

skm_case benign '{"status":"ok","items":[1,2,3],"note":"nothing registered here"}'
log=$WORK/skm-benign.log
[[ "$(counter "$log" msgs)" == 1 ]] || fail "benign: expected 1 message: $(cat "$log")"
[[ "$(counter "$log" hits)" == 0 ]] || fail "benign: hits: $(cat "$log")"
info "ok: benign: $(grep '^counters' "$log")"
# the loader's output never holds a payload byte
grep -q "13712340001" "$WORK"/skm-*.log && fail "a raw value in the loader's output"
expect_no_programs_left "$before_ids"
info "ok: nothing left attached"

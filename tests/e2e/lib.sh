# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash disable=SC2120 # helpers with optional arguments
#
# Sourced by every tests/e2e/*.sh: root, a network namespace peer, the monitor, jq assertions.
# Exit codes: 0 pass, 1 fail, 77 skip (not root and CI is not "true").
# Env: CONSENTRY (binary, default .output/consentry), CS_KEEP=1 keeps the work directory.
#
# Address scheme. Each test gets namespace cs-e2e-$$ with a free index N (picked under a lock):
#   host (root netns)  10.77.N.1   fd77:N::1    clients run here, unscoped, as root
#   peer eth0          10.77.N.2   fd77:N::2    not in recipients.csv           -> unknown
#                      .10         ::10         acme         first-party (CIDR .8/29, ::10/124)
#                      .20         ::20         mailcloud    processor
#                      .30         ::30         adpartner    third-party, consents below
#                      .30:8081                 analytics    third-party by IP:port, no consent
#                      .40         ::40         databroker   third-party, no consent at all
#                      .50         ::50         (none)                                -> unknown
#                      .60         ::60         (none) by IP; Host header *.tracker.example ->
#                                               tracker, api.tracker.example -> tracker-api
# The peer serves on every address: tcp 8080, 8081 (HTTP/1.1, answers 200), tcp 9000, 9001
# (raw sink), udp 5353. tests/data/recipients.csv is written for N=0; recipients are rewritten
# to the run's prefix ($WORK/recipients.csv).
#
# Subjects (tests/data/registrations.csv, invented):
#   u001 phone 13712340001 email zhang.wei@example.com id 310115198511122624
#        consent: adpartner phone|email, mailcloud *
#   u002 phone 15898760002 email li.na@example.org     id 11010519900307451X
#        consent: adpartner phone only
#   u003 phone 18611112233 email wang.fang@example.net id 510107197806308840
#        consent: adpartner, withdrawn in 2026-01 (past)
#   u004                   email chen.jie@example.com
#        consent: adpartner email, withdrawal scheduled 2099 (valid now)
#   u005 phone 13955550005
#        consent: adpartner phone, expired 2026-06-01
# Runs may overlap (names and prefixes are per run; findings to other runs' prefixes are set
# aside), except sigterm.sh, which checks host-wide BPF state and summary counters: run it alone.
# jq filters given to expect_* see these variables: $peer $first $proc $ad $broker $unknown
# $hostsel (IPv4) and $peer6 $first6 ... $hostsel6 (IPv6), plus $port_http 8080 etc. as numbers.

set -euo pipefail

E2E_NAME=$(basename "$0" .sh)
E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$E2E_DIR/../.." && pwd)
DATA="$REPO/tests/data"
PY=/usr/bin/python3

PORT_HTTP=8080
PORT_HTTP2=8081
PORT_RAW=9000
PORT_RAW2=9001
PORT_UDP=5353

if ((EUID != 0)); then
	if [[ "${CI:-}" == true ]]; then
		echo "FAIL: $E2E_NAME needs root (CI=true: not skipping)" >&2
		exit 1
	fi
	echo "SKIP: needs root"
	exit 77
fi

# shellcheck source-path=SCRIPTDIR source=../../scripts/netns.sh
source "$REPO/scripts/netns.sh"

CONSENTRY=${CONSENTRY:-$REPO/.output/consentry}
[[ "$CONSENTRY" == /* ]] || CONSENTRY="$PWD/$CONSENTRY"

WORK=
NS=
SERVER_PIDS=()
EXTRA_PIDS=()
MON_PID=
MON_RC=
MON_RUN=0
FINDINGS=
MONLOG=
PEERLOG=
FP=
KEY=
CONSENT=
RECIPIENTS=
JQ_VARS=()
CG_TEMP=()
# CS_CAPTURE (auto, sockets, tracepoints; unset: the monitor's default) is passed to every
# monitor_start; the channel of plain TCP and UDP sends in findings ($tcp, $udp in jq) follows.
case "${CS_CAPTURE:-auto}" in
tracepoints) CH_TCP=syscall CH_UDP=syscall ;;
*) CH_TCP=sk_msg CH_UDP=skb ;;
esac

info() {
	echo "# $*"
}

# Print why, the current monitor log and findings, and exit 1 (cleanup runs from the trap).
fail() {
	echo "FAIL: $E2E_NAME: $*" >&2
	if [[ -n "$MONLOG" && -f "$MONLOG" ]]; then
		echo "--- monitor stderr ($MONLOG):" >&2
		tail -n 60 "$MONLOG" >&2
	fi
	if [[ -n "$FINDINGS" && -f "$FINDINGS" ]]; then
		echo "--- findings ($FINDINGS):" >&2
		head -c 20000 "$FINDINGS" >&2
	fi
	exit 1
}

kill_pid() {
	local pid=$1 sig=${2:-TERM} i
	[[ -n "$pid" ]] || return 0
	kill -0 "$pid" 2>/dev/null || return 0
	kill -"$sig" "$pid" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

cleanup() {
	local rc=$? p
	trap - EXIT
	set +e
	[[ -n "$MON_PID" ]] && kill_pid "$MON_PID" INT
	for p in "${EXTRA_PIDS[@]}" "${SERVER_PIDS[@]}"; do
		kill_pid "$p"
	done
	for p in "${CG_TEMP[@]}"; do
		cg_rmdir "$p"
	done
	[[ -n "$NS" ]] && ns_destroy "$NS"
	if [[ -n "$WORK" && -d "$WORK" ]]; then
		if [[ "${CS_KEEP:-}" == 1 ]]; then
			echo "# kept $WORK" >&2
		else
			rm -rf "$WORK"
		fi
	fi
	exit "$rc"
}
trap cleanup EXIT
# Make SIGTERM (tests/run timeout) and SIGINT run the EXIT trap too.
trap 'exit 143' TERM
trap 'exit 130' INT
trap 'exit 129' HUP

# Register a background PID to kill on exit (clients, helper servers).
track_pid() {
	EXTRA_PIDS+=("$1")
}

# e2e_setup [--no-ns]: work dir, fixtures, enrollment, and (unless --no-ns) the namespace peer.
e2e_setup() {
	local v4 v6
	[[ -x "$CONSENTRY" ]] || fail "consentry binary not found at $CONSENTRY (run make, or set CONSENTRY)"
	command -v jq >/dev/null || fail "jq not installed (scripts/setup)"
	WORK=$(mktemp -d "/tmp/cs-e2e-$E2E_NAME.XXXXXX")
	CONSENT="$WORK/consent.csv"
	cp "$DATA/consent.csv" "$CONSENT"
	RECIPIENTS="$WORK/recipients.csv"
	cs_enroll
	if [[ "${1:-}" == --no-ns ]]; then
		v4=10.77.0
		v6=fd77:0
	else
		ns_reap_stale
		NS=$(ns_name cs-e2e)
		ns_create_auto "$NS" 10 20 30 40 50 60 || {
			NS=
			fail "cannot create the network namespace"
		}
		v4=$NS_V4
		v6=$NS_V6
		PEERLOG="$WORK/peer.log"
		ns_start_server "$NS" "$PEERLOG" "tcp:$PORT_HTTP" "tcp:$PORT_HTTP2" "tcp:$PORT_RAW" \
			"tcp:$PORT_RAW2" "udp:$PORT_UDP" || fail "cannot start the peer server"
		SERVER_PIDS+=("$NS_SERVER_PID")
	fi
	sed -e "s/10\.77\.0\./$v4./g" -e "s/fd77:0::/$v6::/g" "$DATA/recipients.csv" >"$RECIPIENTS"
	IP_PEER=$v4.2 IP_FIRST=$v4.10 IP_PROC=$v4.20 IP_AD=$v4.30 IP_BROKER=$v4.40
	IP_UNKNOWN=$v4.50 IP_HOSTSEL=$v4.60
	IP6_PEER=$v6::2 IP6_FIRST=$v6::10 IP6_PROC=$v6::20 IP6_AD=$v6::30 IP6_BROKER=$v6::40
	IP6_UNKNOWN=$v6::50 IP6_HOSTSEL=$v6::60
	JQ_VARS=(--arg v4p "$v4." --arg v6p "$v6::" --arg tcp "$CH_TCP" --arg udp "$CH_UDP"
		--arg peer "$IP_PEER" --arg first "$IP_FIRST" --arg proc "$IP_PROC"
		--arg ad "$IP_AD" --arg broker "$IP_BROKER" --arg unknown "$IP_UNKNOWN"
		--arg hostsel "$IP_HOSTSEL" --arg peer6 "$IP6_PEER" --arg first6 "$IP6_FIRST"
		--arg proc6 "$IP6_PROC" --arg ad6 "$IP6_AD" --arg broker6 "$IP6_BROKER"
		--arg unknown6 "$IP6_UNKNOWN" --arg hostsel6 "$IP6_HOSTSEL"
		--argjson port_http "$PORT_HTTP" --argjson port_http2 "$PORT_HTTP2"
		--argjson port_raw "$PORT_RAW" --argjson port_raw2 "$PORT_RAW2"
		--argjson port_udp "$PORT_UDP")
	export IP_PEER IP_FIRST IP_PROC IP_AD IP_BROKER IP_UNKNOWN IP_HOSTSEL
	export IP6_PEER IP6_FIRST IP6_PROC IP6_AD IP6_BROKER IP6_UNKNOWN IP6_HOSTSEL
}

# cs_enroll [registrations.csv] [extra enroll args]: (re)builds $FP with $KEY.
cs_enroll() {
	local regs=${1:-$DATA/registrations.csv} out
	shift || true
	KEY="$WORK/key"
	FP="$WORK/fingerprints"
	out=$("$CONSENTRY" enroll -r "$regs" -k "$KEY" -o "$FP" "$@" 2>&1) ||
		fail "enroll failed (exit $?): $out"
	[[ -s "$FP" ]] || fail "enroll wrote no fingerprint file"
}

# monitor_start [run options...]: findings to $FINDINGS (jsonl unless --format given),
# stderr to $MONLOG; returns once "ready" is logged (20 s timeout). CONSENTRY_SCAN_IN=collector
# runs every monitor of a test with --scan-in collector (but those with --decode off or their
# own --scan-in), to check that both routes give the same findings.
monitor_start() {
	local i fmt=(--format jsonl) a cap=(${CS_CAPTURE:+--capture "$CS_CAPTURE"}) prev=
	local scan_in=(--scan-in "${CONSENTRY_SCAN_IN:-kernel}")
	for a in "$@"; do
		[[ "$a" == --format ]] && fmt=()
		[[ "$a" == --capture ]] && cap=()
		[[ "$a" == --scan-in* || "$prev $a" == "--decode off" ]] && scan_in=()
		prev=$a
	done
	[[ -n "${CONSENTRY_SCAN_IN:-}" ]] || scan_in=()
	[[ -z "$MON_PID" ]] || fail "monitor_start: a monitor is already running"
	MON_RUN=$((MON_RUN + 1))
	FINDINGS="$WORK/findings-$MON_RUN.out"
	MONLOG="$WORK/monitor-$MON_RUN.log"
	: >"$FINDINGS"
	# Started like any script would: in the background of a non-interactive shell, where
	# SIGINT is inherited as ignored (the monitor must still stop on it; kernel-facts.md).
	"$CONSENTRY" run -f "$FP" -k "$KEY" -c "$CONSENT" -R "$RECIPIENTS" -o "$FINDINGS" \
		"${fmt[@]}" "${cap[@]}" "${scan_in[@]}" "$@" </dev/null >"$WORK/monitor-$MON_RUN.stdout" 2>"$MONLOG" &
	MON_PID=$!
	for ((i = 0; i < 200; i++)); do
		grep -q ready "$MONLOG" && return 0
		if ! kill -0 "$MON_PID" 2>/dev/null; then
			wait "$MON_PID" && MON_RC=0 || MON_RC=$?
			MON_PID=
			fail "monitor exited (status $MON_RC) before ready"
		fi
		sleep 0.1
	done
	fail "monitor not ready after 20 s"
}

# wait_findings N [SECONDS]: wait until the findings file has N lines (does not fail).
wait_findings() {
	local n=$1 t=${2:-5} i
	for ((i = 0; i < t * 10; i++)); do
		(($(grep -c . "$FINDINGS" 2>/dev/null || true) >= n)) && return 0
		sleep 0.1
	done
	return 0
}

# monitor_hup N: send SIGHUP, wait until the monitor has logged N reload outcomes (done or
# failed; anything else a SIGHUP does is logged before them).
monitor_hup() {
	local n=$1 i
	kill -HUP "$MON_PID"
	for ((i = 0; i < 100; i++)); do
		(($(grep -c 'SIGHUP: reload' "$MONLOG") >= n)) && return 0
		sleep 0.1
	done
	fail "no reload logged after SIGHUP $n"
}

# wait_findings_settle [SECONDS]: wait until the findings file has not grown for 1 s (at most
# SECONDS, default 20; does not fail).
wait_findings_settle() {
	local t=${1:-20} i last=-1 n same=0
	for ((i = 0; i < t * 10; i++)); do
		n=$(stat -c %s "$FINDINGS" 2>/dev/null || echo 0)
		if ((n == last)); then
			((++same >= 10)) && return 0
		else
			same=0
			last=$n
		fi
		sleep 0.1
	done
	return 0
}

# monitor_stop [SIGNAL] [EXPECTED_STATUS]: give in-flight events a moment, signal (INT), wait
# up to 10 s, check the exit status (0).
monitor_stop() {
	local sig=${1:-INT} want=${2:-0} i
	[[ -n "$MON_PID" ]] || fail "monitor_stop: no monitor running"
	sleep "${CS_SETTLE:-0.5}"
	kill -"$sig" "$MON_PID" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		kill -0 "$MON_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$MON_PID" 2>/dev/null; then
		kill -KILL "$MON_PID" 2>/dev/null || true
		wait "$MON_PID" 2>/dev/null || true
		MON_PID=
		fail "monitor did not exit within 10 s of SIG$sig"
	fi
	wait "$MON_PID" && MON_RC=0 || MON_RC=$?
	MON_PID=
	((MON_RC == want)) || fail "monitor exited with status $MON_RC after SIG$sig, expected $want"
}

# The monitor is host-wide: when e2e runs overlap, it also reports the other runs' traffic.
# Findings to another run's prefix (10.77.M.x / fd77:M::x, M != N) are set aside; anything else,
# including findings with wrong or missing destinations, still counts.
# shellcheck disable=SC2016 # jq variables, not shell
FOREIGN='((.destination.ip? // "") | tostring) as $ip
	| (($ip | startswith("10.77.")) and ($ip | startswith($v4p) | not))
	  or (($ip | startswith("fd77:")) and ($ip | startswith($v6p) | not))'

# jq over this run's findings as one array; fails if a line is not a JSON object.
findings_jq() {
	local filter=$1
	jq -e -s 'all(type == "object")' "$FINDINGS" >/dev/null 2>&1 ||
		fail "findings are not one JSON object per line"
	jq -s -c "${JQ_VARS[@]}" "map(select(($FOREIGN) | not)) | $filter" "$FINDINGS"
}

expect_findings() {
	local want=$1 got
	got=$(findings_jq length) || fail "jq failed on findings"
	[[ "$got" == "$want" ]] || fail "expected $want finding(s), got $got"
	info "ok: $want finding(s)"
}

# expect_finding 'FILTER': exactly one finding satisfies the jq boolean FILTER.
expect_finding() {
	local filter=$1 got
	got=$(findings_jq "map(select($filter)) | length") || fail "bad jq filter: $filter"
	[[ "$got" == 1 ]] || fail "expected exactly one finding matching: $filter (got $got)"
	info "ok: one finding: $filter"
}

# expect_every 'FILTER': every finding satisfies FILTER.
expect_every() {
	local filter=$1 got
	got=$(findings_jq "map(select(($filter) | not)) | length") || fail "bad jq filter: $filter"
	[[ "$got" == 0 ]] || fail "$got finding(s) do not satisfy: $filter"
}

# The raw values of tests/data/registrations.csv (every field cell), one per line.
raw_values() {
	"$PY" -I -c '
import csv, sys
rows = csv.reader(l for l in open(sys.argv[1], encoding="utf-8") if not l.startswith("#"))
next(rows)
for r in rows:
    for v in r[1:]:
        if v:
            print(v)
' "${1:-$DATA/registrations.csv}"
}

# expect_no_raw_values [VALUE...]: none of the registered values (default: all of
# tests/data/registrations.csv) appears, in any case, in any findings file, monitor stdout or log.
expect_no_raw_values() {
	local values=() v f files=()
	if (($#)); then
		values=("$@")
	else
		mapfile -t values < <(raw_values)
	fi
	((${#values[@]})) || fail "expect_no_raw_values: no values"
	for f in "$WORK"/findings-* "$WORK"/monitor-*; do
		[[ -f "$f" ]] && files+=("$f")
	done
	((${#files[@]})) || return 0
	for v in "${values[@]}"; do
		if grep -a -i -F -l -e "$v" "${files[@]}" >/dev/null; then
			fail "raw value '$v' found in: $(grep -a -i -F -l -e "$v" "${files[@]}" | tr '\n' ' ')"
		fi
	done
	info "ok: no raw registered value in findings or logs (${#values[@]} values)"
}

# stat_state PID: the process's state letter (R, S, T...), "-" when it is gone (builtins only:
# anything exec'd while a monitor's collector is stopped would be held at exec too).
stat_state() {
	local l
	read -r l 2>/dev/null <"/proc/$1/stat" || {
		echo -
		return
	}
	l=${l##*) }
	echo "${l%% *}"
}

# summary_value NAME: the number after NAME on the last stderr line that starts with NAME
# (after an optional "consentry:" prefix), e.g. "  sends   72" or "consentry: hits: 3".
# need_cgroup2: CG_ROOT = the cgroup v2 mount (the unified hierarchy first); without one the
# test skips (fails under CI=true).
# cg_rmdir DIR: remove one cgroup v2 directory (its children gone already), moving any process
# left in it to the root first; retried for 5 s. Returns 1 if it is still there.
cg_rmdir() {
	local d=$1 p i
	for ((i = 0; i < 50; i++)); do
		[[ -d "$d" ]] || return 0
		while read -r p; do
			[[ -n "$p" ]] && echo "$p" >"$CG_ROOT/cgroup.procs" 2>/dev/null
		done <"$d/cgroup.procs"
		rmdir "$d" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "# warning: could not remove $d" >&2
	return 1
}

# cg_temp NAME: need_cgroup2, then make the cgroup v2 directory $CG_ROOT/NAME for this test
# (removed at exit once the test's processes are gone); its path in CG.
cg_temp() {
	need_cgroup2
	CG=$CG_ROOT/$1
	mkdir "$CG" || fail "cannot create $CG"
	CG_TEMP+=("$CG")
}

need_cgroup2() {
	local r
	CG_ROOT=
	for r in /sys/fs/cgroup/unified /sys/fs/cgroup; do
		if [[ "$(stat -f -c %T "$r" 2>/dev/null)" == cgroup2fs ]]; then
			CG_ROOT=$r
			return 0
		fi
	done
	[[ "${CI:-}" == true ]] && { echo "FAIL: $E2E_NAME: no cgroup v2 mount" >&2; exit 1; }
	echo "SKIP: no cgroup v2 mount"
	exit 77
}

# prog_ids: ids of every BPF program loaded on the host, sorted (JSON array).
prog_ids() {
	bpftool -j prog list | jq -c '[.[].id] | sort'
}

# expect_no_programs_left BEFORE_IDS: no program beyond BEFORE_IDS (prog_ids taken before the
# monitor started) is still loaded, and none is held by a consentry process. Programs are freed
# after an RCU grace period: allow 5 s.
expect_no_programs_left() {
	local before_ids=$1 leaked held i
	for ((i = 0; i < 50; i++)); do
		leaked=$(jq -n -c --argjson a "$before_ids" --argjson b "$(prog_ids)" '$b - $a')
		[[ "$leaked" == "[]" ]] && break
		sleep 0.1
	done
	[[ "$leaked" == "[]" ]] || fail "BPF programs left after exit: $leaked: $(bpftool prog show)"
	held=$(bpftool -j prog list | jq '[.[] | select(any(.pids[]?; .comm == "consentry"))] | length')
	((held == 0)) || fail "$held BPF program(s) still held by a consentry process"
}

# monitor_maps: "ID TYPE NAME" of every BPF map the running monitor holds an fd of.
monitor_maps() {
	local id
	grep -h '^map_id:' /proc/"$MON_PID"/fdinfo/* 2>/dev/null | awk '{ print $2 }' | sort -un |
		while read -r id; do
			bpftool -j map show id "$id" 2>/dev/null | jq -r '"\(.id) \(.type) \(.name)"'
		done
}

# map_entries ID: the number of entries of BPF map ID (a full dump; for small maps).
map_entries() {
	bpftool -j map dump id "$1" 2>/dev/null | jq length
}

summary_value() {
	local name=$1 line
	line=$(grep -a -i -E "^[[:space:]]*(consentry:[[:space:]]*)?${name}[[:space:]]*[:=]?[[:space:]]*[0-9]" \
		"$MONLOG" | tail -n 1)
	[[ -n "$line" ]] || fail "monitor summary has no '$name' line"
	line=${line,,}
	line=${line#*"$name"}
	[[ "$line" =~ ([0-9]+) ]] || fail "monitor summary line '$name' has no number"
	echo "${BASH_REMATCH[1]}"
}

# peer_received PROTO PORT: number of connections/datagrams the peer logged on PORT.
peer_received() {
	grep -c "^$1 $2 " "$PEERLOG" || true
}

# peer_bytes PROTO PORT: bytes the peer received on PORT (closed connections).
peer_bytes() {
	awk -v p="$1" -v port="$2" '$1 == p && $2 == port { n += $6 } END { print n + 0 }' "$PEERLOG"
}

# http_post URL DATA [curl options...]: POST DATA as JSON, fail unless the peer answers 200.
http_post() {
	local url=$1 data=$2 code
	shift 2
	code=$(curl -sS -g -m 20 -o /dev/null -w '%{http_code}' -H 'Expect:' \
		-H 'Content-Type: application/json' --data-binary "$data" "$@" "$url") ||
		fail "curl POST $url failed"
	[[ "$code" == 200 ]] || fail "curl POST $url: HTTP $code"
}

# py CODE [ARGS...]: run a short client with the system python (comm "python3").
py() {
	local code=$1
	shift
	"$PY" -I -c "$code" "$@" || fail "python client failed: $*"
}

# tcp_send IP PORT DATA: one connection, one send(), close.
tcp_send() {
	py '
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
s.sendall(sys.argv[3].encode())
s.shutdown(socket.SHUT_WR)
s.recv(100)
s.close()
' "$@"
}

# udp_send IP PORT DATA: one sendto().
udp_send() {
	py '
import socket, sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.sendto(sys.argv[3].encode(), (sys.argv[1], int(sys.argv[2])))
s.close()
' "$@"
}

# wait_peer PROTO PORT COUNT: until the peer logged COUNT receptions on PORT (5 s), else fail.
wait_peer() {
	local i
	for ((i = 0; i < 50; i++)); do
		(($(peer_received "$1" "$2") >= $3)) && return 0
		sleep 0.1
	done
	fail "peer received $(peer_received "$1" "$2") of $3 expected on $1/$2"
}

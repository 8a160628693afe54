# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash disable=SC2120 # helpers with optional arguments
#
# Sourced by every tests/e2e/*.sh: root, a network namespace peer, the work directory and its
# cleanup. It sources monitor.sh (the monitor, jq assertions on findings), cgroup.sh (test
# cgroups) and peer.sh (senders, the peer's log); tls.sh (HTTPS peer and clients) and h2.sh
# (nghttpd) are sourced by the tests that need them. Clients longer than a line or two are
# files in ../clients/.
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
E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
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

# shellcheck source-path=SCRIPTDIR source=../../../scripts/netns.sh
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
# functions run at exit after the monitor is stopped, before the work directory goes (servers
# a test owns: lib/pg.sh)
CLEANUP_FNS=()
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
	dump_state
	exit 1
}

# Hooks a library adds to print its own state on a failure (pg.sh: the server's log).
DUMP_FNS=()

dump_state() {
	local f
	if [[ -n "$MONLOG" && -f "$MONLOG" ]]; then
		echo "--- monitor stderr ($MONLOG):" >&2
		tail -n 60 "$MONLOG" >&2
	fi
	if [[ -n "$FINDINGS" && -f "$FINDINGS" ]]; then
		echo "--- findings ($FINDINGS):" >&2
		head -c 20000 "$FINDINGS" >&2
	fi
	for f in "${DUMP_FNS[@]}"; do
		"$f"
	done
}

# SIGTERM from tests/run's timeout: say where the test was (the trap runs once the foreground
# command has died of the same signal), then the state, then cleanup.
on_term() {
	local i where=
	for ((i = 1; i < ${#FUNCNAME[@]}; i++)); do
		where+=" ${FUNCNAME[i]}:${BASH_LINENO[i - 1]}"
	done
	echo "FAIL: $E2E_NAME: terminated (the e2e timeout?) in$where" >&2
	dump_state
	exit 143
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
	for p in "${CLEANUP_FNS[@]}"; do
		"$p"
	done
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
trap on_term TERM
trap 'exit 130' INT
trap 'exit 129' HUP
# set -e ends a test at a failing command of the script's own body: say which (functions do not
# inherit this trap; their failing command shows as the call's line)
trap 'echo "FAIL: $E2E_NAME: status $? at ${BASH_SOURCE[0]##*/}:$LINENO: $BASH_COMMAND" >&2' ERR

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

# elapsed_ms T0: milliseconds since T0 (a value of $EPOCHREALTIME)
elapsed_ms() {
	local now=$EPOCHREALTIME
	echo $(((${now/./} - ${1/./}) / 1000))
}

# shellcheck source-path=SCRIPTDIR source=monitor.sh
source "$E2E_DIR/lib/monitor.sh"
# shellcheck source-path=SCRIPTDIR source=cgroup.sh
source "$E2E_DIR/lib/cgroup.sh"
# shellcheck source-path=SCRIPTDIR source=peer.sh
source "$E2E_DIR/lib/peer.sh"

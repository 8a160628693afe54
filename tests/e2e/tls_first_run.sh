#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# The first run of a TLS client never seen before, started while the monitor runs, is inspected:
# the exec probe stops it at exec until its TLS uprobes are attached (--exec-hold, the default).
# 1. With the monitor running, a Go client is built into a new file and a copy of /usr/bin/node
#    (OpenSSL linked in statically) is made; each runs exactly once, at once: exactly their
#    findings, and the summary counts their holds and releases (after probing, none at the
#    bound).
# 2. A collector too slow to probe before the client writes (SIGSTOPped while the client
#    starts, which is what a busy collector looks like to the client; bound 10 s): fresh copies
#    of both are held until it resumes, then inspected.
# 3. The same with --exec-hold off: the fresh copies finish unseen. This is the failure the hold
#    exists for, made deterministic (when idle, this machine's collector often wins the race
#    without a hold, so step 1 alone would pass without the feature).
# CS_FIRST_RUNS=N repeats each step's pair N times.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
# shellcheck source-path=SCRIPTDIR source=lib/tls.sh
source "$(dirname "$0")/lib/tls.sh"
e2e_setup
tls_setup
tls_need node nodejs
tls_need go golang-go
runs=${CS_FIRST_RUNS:-1}

# go_once BIN BODY / node_once BIN BODY: run a client once, wait for its 200 ($TLS_PID).
go_once() {
	tls_run "$(basename "$1")" "${TLS_IN_HOSTS[@]}" "$1" "$(tls_url)" "$TLS_CA" \
		"$(tls_body_file "$2")"
}
node_once() {
	tls_run "$(basename "$1")" "${TLS_IN_HOSTS[@]}" "$1" "$E2E_DIR/clients/tls_node.js" "$(tls_url)" \
		"$TLS_CA" "$(tls_body_file "$2")"
}
# The one finding of process PID: SUBJECT's FIELDS to the partner on CHANNEL.
expect_first() {
	expect_finding '.process.pid == '"$2"' and .verdict == "unconsented"
		and .subject == "'"$3"'" and .fields == '"$4"' and .recipient == $tls_rcpt
		and .destination.ip == $peer and .destination.port == $port_tls
		and .destination.host == $tls_host and .process.comm == "'"$1"'"
		and .channel == "'"$5"'" and .evidence.bytes_inspected > 0'
}

# warm_up: let the monitor examine what runs before a client (unshare, sh, mount of
# TLS_IN_HOSTS), so that the client's own executable is the only new one in slow_run.
warm_up() {
	"${TLS_IN_HOSTS[@]}" /bin/true || fail "cannot run ${TLS_IN_HOSTS[*]}"
}
# slow_run KIND BIN BODY HOLD: run a client (KIND go or node) while the collector is stopped.
# HOLD 1: it must be held (stopped, at its own exec) until the collector resumes; 0: it runs to
# its end meanwhile. Nothing else new is exec'd while the collector is stopped (builtins only,
# sleep is known): it would be held too.
slow_run() {
	local kind=$1 bin=$2 hold=$4 name=${2##*/} url body st comm i
	url=$(tls_url)
	body=$(tls_body_file "$3")
	kill -STOP "$MON_PID"
	if [[ "$kind" == go ]]; then
		"${TLS_IN_HOSTS[@]}" "$bin" "$url" "$TLS_CA" "$body" >"$TLS_DIR/$name.out" 2>&1 </dev/null &
	else
		"${TLS_IN_HOSTS[@]}" "$bin" "$E2E_DIR/clients/tls_node.js" "$url" "$TLS_CA" "$body" \
			>"$TLS_DIR/$name.out" 2>&1 </dev/null &
	fi
	TLS_PID=$!
	track_pid "$TLS_PID"
	if ((hold)); then
		sleep 0.5
		st=$(stat_state "$TLS_PID")
		read -r comm <"/proc/$TLS_PID/comm" || comm=-
		[[ "$st $comm" == "T $name" ]] || {
			kill -CONT "$MON_PID"
			fail "$name not held while the collector is stopped (state, comm: $st $comm)"
		}
	else
		for ((i = 0; i < 200; i++)); do
			kill -0 "$TLS_PID" 2>/dev/null || break
			[[ "$(stat_state "$TLS_PID")" == T ]] && {
				kill -CONT "$MON_PID"
				fail "$name held with --exec-hold off"
			}
			sleep 0.05
		done
	fi
	kill -CONT "$MON_PID"
	wait "$TLS_PID" || fail "$name client failed: $(head -c 2000 "$TLS_DIR/$name.out")"
}
# check_holds MIN: the summary counts >= MIN holds, each ended: continued after probing (none
# at the bound), or the process exited meanwhile or was continued by someone else (other
# executables run on the host meanwhile add holds of their own).
check_holds() {
	local holds line probed bound shutdown gone running
	holds=$(summary_value "exec holds")
	line=$(grep -a "exec releases" "$MONLOG")
	[[ "$line" =~ after\ probing\ ([0-9]+),\ at\ the\ [0-9]+\ ms\ bound\ ([0-9]+),\ at\ shutdown\ ([0-9]+)\;\ exited\ while\ held\ ([0-9]+),\ running\ already\ ([0-9]+) ]] ||
		fail "summary line not understood: $line"
	probed=${BASH_REMATCH[1]} bound=${BASH_REMATCH[2]} shutdown=${BASH_REMATCH[3]}
	gone=${BASH_REMATCH[4]} running=${BASH_REMATCH[5]}
	((holds >= $1 && probed >= $1)) ||
		fail "summary counts $holds exec holds, $probed released after probing, expected >= $1"
	((bound == 0 && holds == probed + shutdown + gone + running)) ||
		fail "$holds holds do not add up, or some ran into the bound: $line"
	info "ok: $holds holds, $probed released after probing ($(grep -a 'exec hold time' "$MONLOG" | sed 's/^ *//'))"
}

# 1. Hold on, the default bound. The build itself runs new executables (go, compile, link):
# they are held too, each until probed.
monitor_start
tls_go_build
gosrc="$WORK/go/gotls"
mv "$TLS_GO_BIN" "$gosrc"
pids=()
for ((i = 1; i <= runs; i++)); do
	cp "$gosrc" "$WORK/go/gotls-on$i" # a new file (new inode) each time
	go_once "$WORK/go/gotls-on$i" '{"order":{"buyer_phone":"15898760002"}}'
	pids+=("$TLS_PID")
	cp /usr/bin/node "$WORK/nodecp-on$i"
	node_once "$WORK/nodecp-on$i" '{"profile":{"mail":"Zhang.Wei@example.com"}}'
	pids+=("$TLS_PID")
done
tls_wait_requests $((2 * runs))
wait_findings $((2 * runs))
monitor_stop
expect_findings $((2 * runs))
for ((i = 1; i <= runs; i++)); do
	expect_first "gotls-on$i" "${pids[2 * i - 2]}" u002 '["phone"]' go-tls
	expect_first "nodecp-on$i" "${pids[2 * i - 1]}" u001 '["email"]' openssl
done
check_holds $((2 * runs))

# 2. A collector too slow for the client: held until it has probed, then inspected.
CONSENTRY_EXEC_HOLD_MS=10000 monitor_start
warm_up
pids=()
for ((i = 1; i <= runs; i++)); do
	cp "$gosrc" "$WORK/go/gotls-slow$i"
	slow_run go "$WORK/go/gotls-slow$i" '{"order":{"buyer_phone":"15898760002"}}' 1
	pids+=("$TLS_PID")
	cp /usr/bin/node "$WORK/nodecp-slow$i"
	slow_run node "$WORK/nodecp-slow$i" '{"profile":{"mail":"Zhang.Wei@example.com"}}' 1
	pids+=("$TLS_PID")
done
tls_wait_requests $((4 * runs))
wait_findings $((2 * runs))
monitor_stop
expect_findings $((2 * runs))
for ((i = 1; i <= runs; i++)); do
	expect_first "gotls-slow$i" "${pids[2 * i - 2]}" u002 '["phone"]' go-tls
	expect_first "nodecp-slow$i" "${pids[2 * i - 1]}" u001 '["email"]' openssl
done
check_holds $((2 * runs))

# 3. The same without the hold: the first runs go unseen.
monitor_start --exec-hold off
warm_up
for ((i = 1; i <= runs; i++)); do
	cp "$gosrc" "$WORK/go/gotls-off$i"
	slow_run go "$WORK/go/gotls-off$i" '{"order":{"buyer_phone":"15898760002"}}' 0
	cp /usr/bin/node "$WORK/nodecp-off$i"
	slow_run node "$WORK/nodecp-off$i" '{"profile":{"mail":"Zhang.Wei@example.com"}}' 0
done
tls_wait_requests $((6 * runs))
monitor_stop
expect_findings 0
[[ "$(summary_value "exec holds")" == 0 ]] || fail "--exec-hold off held a process"
grep -a -q "exec holds            0 (--exec-hold off)" "$MONLOG" || fail "summary does not say the hold is off"
info "ok: with --exec-hold off, $((2 * runs)) first runs started while the collector was busy went unseen"
expect_no_raw_values

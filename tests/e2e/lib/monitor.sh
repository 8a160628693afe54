# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash disable=SC2120 # helpers with optional arguments
# The monitor under test: start, stop, reload; jq assertions on its findings; its BPF objects
# and summary. Sourced by common.sh.

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
	: >"$MONLOG" # exists before the background redirection makes it: the ready poll reads it
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
	"$PY" -I "$E2E_DIR/clients/raw_values.py" "${1:-$DATA/registrations.csv}"
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
	# an fd the monitor closes between the glob and grep's read makes grep exit 2 (which
	# pipefail and set -e would turn into a silent exit 2 of the test): its other maps count
	{ grep -h '^map_id:' /proc/"$MON_PID"/fdinfo/* 2>/dev/null || true; } | awk '{ print $2 }' | sort -un |
		while read -r id; do
			bpftool -j map show id "$id" 2>/dev/null | jq -r '"\(.id) \(.type) \(.name)"'
		done
}

# map_entries ID: the number of entries of BPF map ID (a full dump; for small maps).
map_entries() {
	bpftool -j map dump id "$1" 2>/dev/null | jq length
}

# summary_value NAME: the number after NAME on the last stderr line that starts with NAME
# (after an optional "consentry:" prefix), e.g. "  sends   72" or "consentry: hits: 3".
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

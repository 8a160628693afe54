#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# The syscall tracepoints as on the oldest supported kernel (6.1): CONSENTRY_FORCE_FALLBACKS=1
# makes the loader leave out what 6.1 lacks (the bpf_rdonly_cast kfunc of fd -> socket), so the
# fallback path (bpf_probe_read_kernel) is the one loaded and run; destinations must come out
# the same. Then sendmmsg with a message of 100 iovecs: the 36 segments past the 64 scanned are
# counted as uninspected bytes of that flow (both paths), and writev with 100 iovecs is scanned
# whole.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
e2e_setup

# 100 segments of 16 bytes: u001's phone in the first, u002's email in the 81st (not scanned,
# its bytes are counted), filler elsewhere.
SEGS=()
for ((i = 0; i < 100; i++)); do
	case $i in
	0) SEGS+=("tel=13712340001;") ;;
	80) SEGS+=("li.na@example.org") ;;
	*) SEGS+=("$(printf 'filler-%08d;' "$i")") ;;
	esac
done
((${#SEGS[80]} == 17)) || fail "segment 80 is ${#SEGS[80]} bytes"
SENT=$((99 * 16 + 17))
UNINSPECTED=$((35 * 16 + 17))

# check_round: one TCP write, one UDP send, the sendmmsg and the writev; the findings and the
# flow's uninspected bytes.
check_round() {
	local line
	tcp_send "$IP_BROKER" "$PORT_RAW" '{"phone":"13712340001"}'
	udp_send "$IP_AD" "$PORT_UDP" 'mail=li.na@example.org'
	py_client sendmmsg.py --iov "$IP_UNKNOWN" "$PORT_UDP" "${SEGS[@]}"
	# writev of 100 segments: the email in the 90th is scanned (writev takes every segment)
	WSEGS=("${SEGS[@]}")
	WSEGS[0]=$(printf 'filler-%08d;' 0)
	WSEGS[80]=$(printf 'filler-%08d;' 80)
	WSEGS[90]=" wang.fang@example.net "
	py_client send.py writev "$IP_BROKER" "$PORT_RAW2" "${WSEGS[@]}"
	wait_findings 4
	monitor_stop
	expect_findings 4
	expect_every '.channel == "syscall" and .process.comm == "python3"'
	expect_finding '.subject == "u001" and .destination.ip == $broker
		and .destination.port == $port_raw and .recipient == "databroker"'
	expect_finding '.subject == "u002" and .destination.ip == $ad
		and .destination.port == $port_udp and .recipient == "adpartner"'
	expect_finding '.subject == "u001" and .destination.ip == $unknown
		and .destination.port == $port_udp and .recipient_kind == "unknown"
		and .evidence.truncated == true'
	expect_finding '.subject == "u003" and .fields == ["email"] and .destination.ip == $broker
		and .destination.port == $port_raw2'
	line=$(grep -a -F " -> $IP_UNKNOWN:$PORT_UDP/udp: " "$MONLOG") ||
		fail "no flow line for $IP_UNKNOWN:$PORT_UDP/udp in the summary"
	[[ "$line" == *": $UNINSPECTED of $SENT bytes uninspected" ]] ||
		fail "sendmmsg flow: expected $UNINSPECTED of $SENT bytes uninspected: $line"
	info "ok: $line"
	expect_no_raw_values
}

# The kernel 6.1 path, forced.
CONSENTRY_FORCE_FALLBACKS=1 monitor_start --capture tracepoints -v
grep -q -F "fd -> socket: bpf_probe_read_kernel (no bpf_rdonly_cast)" "$MONLOG" ||
	fail "CONSENTRY_FORCE_FALLBACKS=1 did not select the fallback"
check_round

# This kernel's own choice: the same results either way.
monitor_start --capture tracepoints -v
if grep -q -w bpf_rdonly_cast /proc/kallsyms; then
	want="typed loads (bpf_rdonly_cast)"
else
	want="bpf_probe_read_kernel (no bpf_rdonly_cast)"
fi
grep -q -F "fd -> socket: $want" "$MONLOG" || fail "expected 'fd -> socket: $want' in the log"
check_round

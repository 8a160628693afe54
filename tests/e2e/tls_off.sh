#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# --tls off: no uprobe is attached, the HTTPS POST of tls_curl.sh yields no finding (its
# ciphertext is seen on the socket and accounted for, not scanned), and the same request
# with the default (--tls auto) is found. A bad --tls value is a usage error (exit 2).
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
# shellcheck source-path=SCRIPTDIR source=lib/tls.sh
source "$(dirname "$0")/lib/tls.sh"
e2e_setup
tls_setup
body='{"event":"signup","user":{"mobile":"13955550005"}}'

# uprobes held by process PID: perf-event uprobes (bpftool perf) and uprobe_multi links.
uprobes_of() {
	local n=0 m=0
	if command -v bpftool >/dev/null; then
		n=$(bpftool -j perf 2>/dev/null | jq --argjson p "$1" \
			'[.[]? | select(.pid == $p and ((.fd_type // "") | test("uprobe|uretprobe")))] | length' ||
			echo 0)
		m=$(bpftool -j link list 2>/dev/null | jq --argjson p "$1" \
			'[.[]? | select(((.type // "") | test("uprobe")) and any(.pids[]?; .pid == $p))] | length' ||
			echo 0)
	fi
	echo $((n + m))
}

rc=0
"$CONSENTRY" run -f "$FP" -k "$KEY" -c "$CONSENT" -R "$RECIPIENTS" --tls bogus \
	>"$WORK/bogus.out" 2>&1 </dev/null || rc=$?
((rc == 2)) || fail "--tls bogus: exit $rc, expected 2: $(cat "$WORK/bogus.out")"
info "ok: --tls bogus is a usage error"

monitor_start --tls off
n=$(uprobes_of "$MON_PID")
((n == 0)) || fail "--tls off: $n uprobe(s) attached by the monitor"
tls_curl "$body"
tls_wait_requests 1
monitor_stop
expect_findings 0
# The ciphertext went through the send tracepoints: it is accounted for (skipped TLS records
# or uninspected bytes), never silently.
tlsrec=$(grep -a -o -E 'tls records[[:space:]]*[0-9]+' "$MONLOG" | tail -n 1 |
	grep -o -E '[0-9]+$' || echo 0)
uninsp=$(summary_value "bytes uninspected")
((tlsrec + uninsp > 0)) || fail "--tls off: the TLS send is counted nowhere in the summary"
info "ok: --tls off: no finding; summary: tls records $tlsrec, bytes uninspected $uninsp"

monitor_start
n=$(uprobes_of "$MON_PID")
info "--tls auto: $n uprobe(s) attached by the monitor (perf events and uprobe_multi links)"
tls_curl "$body"
cpid=$TLS_PID
tls_wait_requests 2
wait_findings 1
monitor_stop
tls_expect_one u005 '["phone"]' curl openssl "$cpid"
expect_no_raw_values

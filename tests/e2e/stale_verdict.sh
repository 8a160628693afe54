#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# Bytes the kernel sends without running the sk_msg program. A non-blocking socket
# writes 8 MB to a receiver that does not read for a second: the kernel's push of a
# message fails half-way (EAGAIN), which leaves the socket's verdict set, and its next messages
# go out under it, unseen by sk_msg. A registered value sent in the middle of the stream must
# still give its finding (scanned at egress: channel skb or sk_msg), the summary must count bytes
# caught that way, and nothing may be counted uninspected or lost.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
e2e_setup

PORT_SLOW=9411
# the slow receiver, in the peer namespace: accepts, sleeps 1 s, then reads everything
ip netns exec "$NS" "$PY" -I "$E2E_DIR/clients/slow_receiver.py" "$PORT_SLOW" >"$WORK/slow.log" 2>&1 &
track_pid $!
for ((i = 0; i < 50; i++)); do
	grep -q ready "$WORK/slow.log" && break
	sleep 0.1
done
grep -q ready "$WORK/slow.log" || fail "slow receiver did not start: $(cat "$WORK/slow.log")"

# The failed push depends on timing: up to 4 attempts (each a fresh monitor) must reach it.
caught=0
for ((attempt = 1; attempt <= 4 && caught == 0; attempt++)); do
	monitor_start --capture sockets # the case exists on the socket hooks only
	# 8 MB in 1 MB send()s, u001's phone at the end of the fifth; every send() is retried
	# after poll() with what is left
	py_client poll_sends.py "$IP_BROKER" "$PORT_SLOW"
	wait_findings 1 10
	monitor_stop
	expect_findings 1
	expect_finding '.subject == "u001" and .fields == ["phone"] and .destination.port == 9411
		and (.channel == "skb" or .channel == "sk_msg") and .process.comm == "python3"'
	line=$(grep -a -E '^[[:space:]]*socket hooks' "$MONLOG") || fail "no socket hooks line in the summary"
	[[ "$line" =~ ([0-9]+)\ bytes\ queued\ without\ a\ verdict.*\(lost\ ([0-9]+)\) ]] ||
		fail "summary line not understood: $line"
	caught=${BASH_REMATCH[1]} lost=${BASH_REMATCH[2]}
	((lost == 0)) || fail "$lost bytes without a verdict lost"
	[[ "$(summary_value 'bytes uninspected')" == 0 ]] ||
		fail "bytes left uninspected: $(grep -a 'uninspected' "$MONLOG")"
	info "attempt $attempt: $caught bytes sent under a stale verdict"
done
((caught > 0)) || fail "no bytes went out without a verdict in 4 attempts: the test did not reach the case"
info "ok: $caught bytes sent under a stale verdict were scanned at egress"

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# A process names itself (prctl PR_SET_NAME) with a newline, a quote and a backslash, then sends
# u005's phone: jsonl and ocsf still parse and carry the name exactly; --format text still
# writes ONE line for the finding (the name escaped), so a process cannot forge text findings.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
e2e_setup

# The comm (15 bytes max): ev<LF>il"x\y
COMM=$'ev\nil"x\\y'

# jsonl
monitor_start
py_client hostile_comm_udp.py "$IP_BROKER" "$PORT_UDP"
wait_peer udp "$PORT_UDP" 1
wait_findings 1
monitor_stop
expect_findings 1
expect_finding '.subject == "u005" and .fields == ["phone"] and .verdict == "unconsented"
	and .recipient == "databroker" and .destination.ip == $broker
	and .destination.port == $port_udp and .process.comm == "ev\nil\"x\\y"
	and .channel == $udp'

# ocsf
monitor_start --format ocsf
py_client hostile_comm_udp.py "$IP_BROKER" "$PORT_UDP"
wait_peer udp "$PORT_UDP" 2
wait_findings 1
monitor_stop
jq -e -s 'all(type == "object")' "$FINDINGS" >/dev/null || fail "ocsf: not one JSON object per line"
n=$(jq -s "${JQ_VARS[@]}" '[.[] | select(.dst_endpoint.ip == $broker
	and .actor.process.comm == "ev\nil\"x\\y" and .consentry.subject == "u005")] | length' \
	"$FINDINGS")
((n == 1)) || fail "ocsf: expected one finding with the hostile comm, got $n"
info "ok: ocsf carries the comm exactly"

# text: exactly one line for our destination, and no line that is only the comm's tail.
monitor_start --format text
py_client hostile_comm_udp.py "$IP_BROKER" "$PORT_UDP"
wait_peer udp "$PORT_UDP" 3
wait_findings 1
monitor_stop
n=$(grep -a -c -F "dest=$IP_BROKER:$PORT_UDP " "$FINDINGS" || true)
((n == 1)) || fail "text: expected 1 line for $IP_BROKER:$PORT_UDP, got $n"
line=$(grep -a -F "dest=$IP_BROKER:$PORT_UDP " "$FINDINGS")
[[ "$line" == *unconsented*u005*" pid="*" channel=$CH_UDP msg="*" subjects=1" ]] ||
	fail "text: the finding line was cut by the process name: $(cat -A "$FINDINGS")"
if grep -a -q -E '^il"' "$FINDINGS"; then
	fail "text: the process name broke the finding over two lines: $(cat -A "$FINDINGS")"
fi
[[ "$line" != *"$COMM"* ]] || fail "text: raw newline in the line"
info "ok: text: $line"
expect_no_raw_values

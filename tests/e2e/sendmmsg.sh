#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# libc sendmmsg() (python ctypes) of several UDP messages in one call: one finding per message
# that carries a subject's data. First on a connected socket (3 messages: u001's phone, benign,
# u002's email), then on an unconnected one with a destination per message (msg_name).
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
e2e_setup

# clients/sendmmsg.py: one sendmmsg() call of several messages.
monitor_start
# Connected socket, 3 messages: u001's phone, nothing registered, u002's email.
py_client sendmmsg.py "$IP_BROKER" "$PORT_UDP" \
	'{"seq":1,"phone":"13712340001"}' \
	'{"seq":2,"event":"page_view","lang":"zh-CN"}' \
	'{"seq":3,"email":"li.na@example.org"}'
wait_peer udp "$PORT_UDP" 3
wait_findings 2
monitor_stop
expect_findings 2
expect_every '.verdict == "unconsented" and .recipient == "databroker"
	and .recipient_kind == "third-party" and .destination.ip == $broker
	and .destination.port == $port_udp and .process.comm == "python3"
	and .channel == $udp'
expect_finding '.subject == "u001" and .fields == ["phone"] and .unconsented_fields == ["phone"]'
expect_finding '.subject == "u002" and .fields == ["email"] and .unconsented_fields == ["email"]'
expect_no_raw_values

# Unconnected socket, a destination per message: u003's email to the broker, benign to the
# broker, u005's phone to an unknown recipient (.50).
monitor_start
py_client sendmmsg.py - - \
	"$IP_BROKER:$PORT_UDP:email=wang.fang@example.net" \
	"$IP_BROKER:$PORT_UDP:ping=1" \
	"$IP_UNKNOWN:$PORT_UDP:tel=13955550005"
wait_peer udp "$PORT_UDP" 6
wait_findings 2
monitor_stop
expect_findings 2
expect_every '.verdict == "unconsented" and .destination.port == $port_udp
	and .process.comm == "python3" and .channel == $udp'
expect_finding '.subject == "u003" and .fields == ["email"] and .recipient == "databroker"
	and .recipient_kind == "third-party" and .destination.ip == $broker'
expect_finding '.subject == "u005" and .fields == ["phone"] and .recipient == null
	and .recipient_kind == "unknown" and .destination.ip == $unknown'
expect_no_raw_values

# Every message of a call is inspected: 200 messages (the monitor takes 64 per program run and
# goes on by tail call), the 130th with u001's phone, the 200th with u004's email.
monitor_start
msgs=()
for ((i = 1; i <= 198; i++)); do
	if ((i == 130)); then
		msgs+=('{"seq":130,"phone":"13712340001"}')
	else
		msgs+=("{\"seq\":$i,\"event\":\"heartbeat\"}")
	fi
done
msgs+=('{"seq":199,"event":"heartbeat"}' '{"seq":200,"email":"chen.jie@example.com"}')
py_client sendmmsg.py "$IP_BROKER" "$PORT_UDP" "${msgs[@]}"
wait_peer udp "$PORT_UDP" 206
wait_findings 2 3
monitor_stop
expect_findings 2
expect_every '.verdict == "unconsented" and .recipient == "databroker"
	and .destination.ip == $broker and .destination.port == $port_udp
	and .process.comm == "python3" and .channel == $udp'
expect_finding '.subject == "u001" and .fields == ["phone"]'
expect_finding '.subject == "u004" and .fields == ["email"]'
expect_no_raw_values

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# python sendmsg() with two iovecs, the value split across them (TCP and UDP): two findings.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
e2e_setup
monitor_start
# TCP: the phone is cut after "137123", the email sits whole in the second iovec.
py '
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
iov = [b"{\"phone\":\"137123", b"40001\",\"email\":\"zhang.wei@example.com\"}\n"]
n = s.sendmsg(iov)
assert n == sum(map(len, iov)), n
s.shutdown(socket.SHUT_WR)
s.recv(10)
s.close()
' "$IP_BROKER" "$PORT_RAW"
# UDP: the email is cut inside its domain.
py '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendmsg([b"to=chen.jie@exa", b"mple.com&lang=zh"], [], 0, (sys.argv[1], int(sys.argv[2])))
' "$IP_BROKER" "$PORT_UDP"
wait_peer udp "$PORT_UDP" 1
wait_findings 2
monitor_stop
expect_findings 2
expect_finding '.subject == "u001" and .fields == ["email", "phone"] and .verdict == "unconsented"
	and .unconsented_fields == ["email", "phone"] and .recipient == "databroker"
	and .recipient_kind == "third-party" and .destination.ip == $broker
	and .destination.port == $port_raw and .process.comm == "python3" and .channel == $tcp'
expect_finding '.subject == "u004" and .fields == ["email"] and .verdict == "unconsented"
	and .recipient == "databroker" and .recipient_kind == "third-party"
	and .destination.ip == $broker and .destination.port == $port_udp
	and .process.comm == "python3" and .channel == $udp'
expect_no_raw_values

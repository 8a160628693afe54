#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# os.writev() on a TCP socket: value whole in one iovec, then cut across two, then a phone in
# the 300th of 400 iovecs (every segment is scanned, not only the first 16): three findings.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
e2e_setup
monitor_start
py '
import os, socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
iov = [b"kyc|id=", b"11010519900307451X", b"|status=ok\n"]
n = os.writev(s.fileno(), iov)
assert n == sum(map(len, iov)), n
s.shutdown(socket.SHUT_WR)
s.recv(10)
s.close()
s = socket.create_connection((sys.argv[1], int(sys.argv[3])), timeout=10)
os.writev(s.fileno(), [b"<kyc><id>1101051990", b"0307451X</id>", b"</kyc>\n"])
s.shutdown(socket.SHUT_WR)
s.recv(10)
s.close()
s = socket.create_connection((sys.argv[1], int(sys.argv[4])), timeout=10)
iov = [b"row %03d;" % i for i in range(400)]
iov[299] = b"tel=15898760002;"
n = os.writev(s.fileno(), iov)
assert n == sum(map(len, iov)), n
s.shutdown(socket.SHUT_WR)
s.recv(10)
s.close()
' "$IP_BROKER" "$PORT_RAW" "$PORT_RAW2" "$PORT_HTTP2"
wait_findings 3
monitor_stop
expect_findings 3
expect_finding '.subject == "u002" and .fields == ["phone"] and .destination.port == $port_http2
	and .evidence.bytes_inspected == .evidence.bytes_total'
for port in port_raw port_raw2; do
	expect_finding '.subject == "u002" and .fields == ["national_id"] and .verdict == "unconsented"
		and .unconsented_fields == ["national_id"] and .recipient == "databroker"
		and .recipient_kind == "third-party" and .destination.ip == $broker
		and .destination.port == $'"$port"' and .process.comm == "python3"
		and .channel == $tcp'
done
expect_no_raw_values

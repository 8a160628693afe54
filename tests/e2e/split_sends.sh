#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# A value split across consecutive sends of one socket (the kernel carries the open token of a
# flow's last send into its next one): a phone in 2 sends, an email in 3, a grouped phone cut
# at a separator, and over TLS a national id cut across two SSL_write calls. A value that ends
# a send and is followed by a separator in the next is reported once, not again as "split";
# two sends that only look joined ("186" + "11112233" on different sockets) are not, over TCP
# nor over 20 pairs of fresh unbound UDP sockets (which have no local port yet when their send
# is probed, and often reuse the last one's file).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=tls.sh
source "$(dirname "$0")/tls.sh"
e2e_setup
tls_setup

# parts IP PORT PART...: one TCP connection, one send() per part, 50 ms apart.
parts() {
	py '
import socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
for p in sys.argv[3:]:
    s.send(p.encode())
    time.sleep(0.05)
s.shutdown(socket.SHUT_WR)
s.recv(100)
s.close()
' "$@"
}

monitor_start
parts "$IP_BROKER" "$PORT_RAW" '{"tel":"1371234' '0001"}'                       # u001
parts "$IP_BROKER" "$PORT_RAW" 'mail: wang.' 'fang@exam' 'ple.net;'              # u003
parts "$IP_BROKER" "$PORT_RAW" 'call +86 139 ' '5555 0005 now'                   # u005
parts "$IP_BROKER" "$PORT_RAW" 'li.na@example.org' $'\r\nnext line'             # u002 once
tcp_send "$IP_BROKER" "$PORT_RAW" 'x=186'                                       # nothing:
tcp_send "$IP_BROKER" "$PORT_RAW" '11112233'                                    # other socket
py '
import socket, sys, time
for _ in range(20):
    for part in (b"x=186", b"11112233"):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.sendto(part, (sys.argv[1], int(sys.argv[2])))
        s.close()
        time.sleep(0.002)
' "$IP_BROKER" "$PORT_UDP"
# TLS: SSL_write("...id=51010719780630") then SSL_write("8840&...") on one connection (u003)
py '
import socket, ssl, sys, time
ctx = ssl.create_default_context(cafile=sys.argv[4])
raw = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
s = ctx.wrap_socket(raw, server_hostname=sys.argv[3])
s.sendall(b"POST /x HTTP/1.1\r\nHost: " + sys.argv[3].encode() + b"\r\nContent-Length: 26\r\n\r\n")
time.sleep(0.05)
s.sendall(b"id=51010719780630")
time.sleep(0.05)
s.sendall(b"8840&k=1\n")
time.sleep(0.2)
s.close()
' "$IP_PEER" "$TLS_PORT" "$TLS_HOST" "$TLS_CA"
wait_findings 5
monitor_stop
expect_findings 5
expect_finding '.subject == "u001" and .fields == ["phone"] and .channel == $tcp
	and .evidence.encodings == ["split"]'
expect_finding '.subject == "u003" and .fields == ["email"] and .channel == $tcp
	and .evidence.encodings == ["split"]'
expect_finding '.subject == "u005" and .fields == ["phone"] and .evidence.encodings == ["split"]'
expect_finding '.subject == "u002" and .fields == ["email"] and .evidence.encodings == []'
expect_finding '.subject == "u003" and .fields == ["national_id"] and .channel == "openssl"
	and .destination.host == $tls_host and .evidence.encodings == ["split"]'
[[ "$(summary_value "carried sends")" -ge 4 ]] || fail "summary: fewer than 4 carried sends"
expect_no_raw_values

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# The SSL*-to-socket cache. A python3 client drives OpenSSL through memory BIOs (ssl.MemoryBIO,
# as asyncio does) and moves the ciphertext to the socket itself: the first request from the
# writing thread (its send claims the plaintext and teaches the cache which socket the SSL
# object uses), the second from another thread after SSL_write_ex has returned, which no
# per-thread claim can see. Both must be found, on the right socket, once each.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=tls.sh
source "$(dirname "$0")/tls.sh"
e2e_setup
tls_setup
monitor_start
py '
import socket, ssl, sys, threading
ip, port, host = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
sock = socket.create_connection((ip, port), timeout=20)
inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
obj = ctx.wrap_bio(inc, out, server_hostname=host)
def pump():
    data = out.read()
    if data:
        sock.sendall(data)
while True:
    try:
        obj.do_handshake()
        pump()
        break
    except ssl.SSLWantReadError:
        pump()
        inc.write(sock.recv(65536))
def post(body, conn, other_thread):
    obj.write(b"POST /bio HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\n"
              b"Content-Length: %d\r\nConnection: %s\r\n\r\n%s"
              % (host.encode(), port, len(body), conn, body))
    if other_thread:
        t = threading.Thread(target=pump)
        t.start()
        t.join()
    else:
        pump()
post(b"{\"phone\":\"13712340001\"}", b"keep-alive", False)
post(b"{\"phone\":\"15898760002\"}", b"close", True)
sock.shutdown(socket.SHUT_WR)
while sock.recv(65536):
    pass
sock.close()
' "$IP_PEER" "$TLS_PORT" "$TLS_HOST"
tls_wait_requests 2
wait_findings 2
monitor_stop
expect_findings 2
expect_every '.verdict == "unconsented" and .fields == ["phone"] and .recipient == $tls_rcpt
	and .destination.ip == $peer and .destination.port == $port_tls
	and .destination.host == $tls_host and .process.comm == "python3"
	and .channel == "openssl"'
expect_finding '.subject == "u001"'
expect_finding '.subject == "u002"'
[[ "$(summary_value 'tls writes')" -ge 2 ]] || fail "summary does not count the TLS writes"
expect_no_raw_values

# SPDX-License-Identifier: GPL-2.0-only
"""OpenSSL driven through memory BIOs (ssl.MemoryBIO): the TLS records are written to the socket
by python, not by libssl. Two requests on one connection to IP:PORT (SNI HOST, certificate not
checked): u001's phone pumped out by the main thread, u002's phone by another thread.
argv: IP PORT HOST"""

import socket
import ssl
import sys
import threading

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

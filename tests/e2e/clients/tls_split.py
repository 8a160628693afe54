# SPDX-License-Identifier: GPL-2.0-only
"""One TLS connection to IP:PORT (SNI HOST, trusting CAFILE): an HTTP head, then u003's national
id split across two SSL_write calls 50 ms apart. argv: IP PORT HOST CAFILE"""

import socket
import ssl
import sys
import time

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

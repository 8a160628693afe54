# SPDX-License-Identifier: GPL-2.0-only
"""A POST to IP:PORT whose path and Host hold raw bytes (invalid UTF-8, a control), u002's
email in the body. argv: IP PORT"""

import socket
import sys

body = b"{\"email\":\"li.na@example.org\"}"
req = (b"POST /users/\xff\xfe/\x01x?q=\xed\xa0\x80 HTTP/1.1\r\nHost: h.\xc0\xaf.example\r\n"
       b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)) + body
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
s.sendall(req)
s.shutdown(socket.SHUT_WR)
s.recv(100)
s.close()

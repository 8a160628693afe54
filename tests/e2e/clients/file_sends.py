# SPDX-License-Identifier: GPL-2.0-only
"""sendfile() of FILE on one TCP connection to IP:PORT, then splice() of u002's email from a
pipe on a second. argv: IP PORT FILE"""

import os
import socket
import sys

ip, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.create_connection((ip, port), timeout=10)
with open(path, "rb") as f:
    n = os.path.getsize(path)
    assert os.sendfile(s.fileno(), f.fileno(), 0, n) == n
s.shutdown(socket.SHUT_WR); s.recv(100); s.close()
s = socket.create_connection((ip, port), timeout=10)
r, w = os.pipe()
data = b"contact=li.na@example.org\n"
os.write(w, data)
assert os.splice(r, s.fileno(), len(data)) == len(data)
s.shutdown(socket.SHUT_WR); s.recv(100); s.close()

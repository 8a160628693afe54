# SPDX-License-Identifier: GPL-2.0-only
"""The slow receiver: accepts on PORT (every address, a 4 KiB receive buffer), sleeps 1 s, then
reads the connection to its end and answers "ok". Prints "ready" once listening. argv: PORT"""

import socket
import sys
import time

l = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
l.bind(("0.0.0.0", int(sys.argv[1])))
l.listen(4)
print("ready", flush=True)
while True:
    c, _ = l.accept()
    time.sleep(1)
    n = 0
    while True:
        b = c.recv(65536)
        if not b:
            break
        n += len(b)
    c.sendall(b"ok")
    c.close()

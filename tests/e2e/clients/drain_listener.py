# SPDX-License-Identifier: GPL-2.0-only
"""A listener on IP:PORT that accepts nothing until the file DRAIN exists, then reads its one
connection to the end and prints "got BYTES" ("error ERRNO" first on a socket error). Prints
"ready" once listening. argv: IP PORT DRAIN"""

import os
import socket
import sys
import time

s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(4)
print("ready", flush=True)
while not os.path.exists(sys.argv[3]):
    time.sleep(0.05)
c, _ = s.accept()
c.settimeout(10)
n = 0
try:
    while True:
        b = c.recv(1 << 16)
        if not b:
            break
        n += len(b)
except OSError as e:
    print("error", e.errno, flush=True)
print("got", n, flush=True)

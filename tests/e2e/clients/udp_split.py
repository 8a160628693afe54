# SPDX-License-Identifier: GPL-2.0-only
"""20 rounds of two UDP datagrams to IP:PORT, "x=186" then "11112233", each from a new socket:
a value split across datagrams (or sockets) is no value. argv: IP PORT"""

import socket
import sys
import time

for _ in range(20):
    for part in (b"x=186", b"11112233"):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.sendto(part, (sys.argv[1], int(sys.argv[2])))
        s.close()
        time.sleep(0.002)

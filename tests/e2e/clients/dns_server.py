# SPDX-License-Identifier: GPL-2.0-only
"""A DNS server for one name: answers every A query with IP. argv: BIND_IP IP (port 53)."""

import socket
import sys

ip = socket.inet_aton(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 53))
while True:
    q, a = s.recvfrom(512)
    end = 12 + q[12:].index(b"\0") + 5
    s.sendto(q[:2] + b"\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00" + q[12:end]
             + b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04" + ip, a)

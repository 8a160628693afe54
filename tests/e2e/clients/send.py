# SPDX-License-Identifier: GPL-2.0-only
"""Send DATA to IP:PORT from /usr/bin/python3 (comm "python3").

argv: tcp IP PORT DATA     one connection, one sendall(), shut down, wait for the answer
      udp IP PORT DATA     one sendto() (IPv6 when IP has a colon)
      writev IP PORT SEG...  one writev() of the SEGs on a new TCP connection
      parts IP PORT PART...  one TCP connection (TCP_NODELAY), one send() per PART, 50 ms apart
"""

import os
import socket
import sys
import time

mode, ip, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
if mode == "udp":
    fam = socket.AF_INET6 if ":" in ip else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.sendto(sys.argv[4].encode(), (ip, port))
    s.close()
    sys.exit(0)
s = socket.create_connection((ip, port), timeout=10)
if mode == "tcp":
    s.sendall(sys.argv[4].encode())
elif mode == "writev":
    segs = [a.encode() for a in sys.argv[4:]]
    n = os.writev(s.fileno(), segs)
    if n != sum(len(b) for b in segs):
        raise SystemExit("writev sent %d bytes" % n)
elif mode == "parts":
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for p in sys.argv[4:]:
        s.send(p.encode())
        time.sleep(0.05)
else:
    raise SystemExit("usage: send.py tcp|udp|writev|parts IP PORT DATA...")
s.shutdown(socket.SHUT_WR)
s.recv(100)
s.close()

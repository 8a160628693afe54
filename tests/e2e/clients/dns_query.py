# SPDX-License-Identifier: GPL-2.0-only
"""Ask the DNS server at SERVER:53 for NAME's A record (retried until it answers, 5 s each).

argv: SERVER NAME [EXPECT]   fails unless the answer's last address is EXPECT, when given
"""

import socket
import struct
import sys

server, name = sys.argv[1], sys.argv[2]
q = struct.pack(">HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0)
q += b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0\0\1\0\1"
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
for _ in range(50):
    try:
        s.sendto(q, (server, 53))
        r, _ = s.recvfrom(512)
        break
    except OSError:
        pass
else:
    sys.exit("no DNS answer")
ip = socket.inet_ntoa(r[-4:])
if len(sys.argv) > 3 and ip != sys.argv[3]:
    sys.exit("DNS answer %s, expected %s" % (ip, sys.argv[3]))

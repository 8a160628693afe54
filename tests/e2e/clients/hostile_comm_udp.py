# SPDX-License-Identifier: GPL-2.0-only
"""Renames itself (prctl PR_SET_NAME) to ev<LF>il"x\\y, then sends u005's phone in one UDP
datagram to IP:PORT. argv: IP PORT"""

import ctypes
import socket
import sys

libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(15, b"ev\nil\"x\\y", 0, 0, 0) != 0:
    raise SystemExit("prctl failed")
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(b"tel=13955550005", (sys.argv[1], int(sys.argv[2])))
s.close()

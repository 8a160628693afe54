# SPDX-License-Identifier: GPL-2.0-only
"""On one TCP connection to IP:PORT: a ClientHello naming a hostile server, then plaintext with
u003's phone, then a TLS record nobody decrypts; the process renames itself with bad bytes
first (prctl PR_SET_NAME). argv: IP PORT"""

import ctypes
import socket
import struct
import sys
import time

libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(15, b"\xff\xfe\x01ev\x7fx", 0, 0, 0) != 0:
    raise SystemExit("prctl failed")
name = b"sni.\xff\xfe\x01\"\\.example"
sni = struct.pack("!HBH", len(name) + 3, 0, len(name)) + name
ext = struct.pack("!HH", 0, len(sni)) + sni
body = (b"\x03\x03" + b"\x11" * 32 + b"\x00" + struct.pack("!H", 2) + b"\x13\x01" + b"\x01\x00"
        + struct.pack("!H", len(ext)) + ext)
hs = b"\x01" + struct.pack("!I", len(body))[1:] + body
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
s.sendall(b"\x16\x03\x01" + struct.pack("!H", len(hs)) + hs)
time.sleep(0.3)
s.sendall(b"{\"phone\":\"18611112233\"}")
time.sleep(0.3)
s.sendall(b"\x17\x03\x03\x00\x05hello")  # TLS data nobody decrypts: uninspected, in the summary
s.shutdown(socket.SHUT_WR)
s.recv(100)
s.close()

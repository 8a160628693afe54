# SPDX-License-Identifier: GPL-2.0-only
"""One TCP connection to IP:PORT; each EXPR, a python expression of bytes (base64, gzip,
hashlib, struct and zlib are imported; fw(S) is S in full-width forms), is evaluated and sent
with its own sendall(), 50 ms apart. argv: IP PORT EXPR..."""

import base64
import gzip
import hashlib
import socket
import sys
import struct
import time
import zlib



def fw(text):
    """TEXT with its printable ASCII in full-width forms (U+FF01..U+FF5E)."""
    return "".join(chr(ord(c) + 0xfee0) if "!" <= c <= "~" else c for c in text)


NAMES = {"base64": base64, "gzip": gzip, "hashlib": hashlib, "struct": struct, "zlib": zlib,
         "fw": fw}
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
for i, expr in enumerate(sys.argv[3:]):
    if i:
        time.sleep(0.05)
    s.sendall(eval(expr, dict(NAMES)))
s.shutdown(socket.SHUT_WR)
s.recv(100)
s.close()

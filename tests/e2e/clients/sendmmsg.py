# SPDX-License-Identifier: GPL-2.0-only
"""One libc sendmmsg() call (python ctypes) on a UDP socket; fails unless every message was
sent whole.

argv: IP PORT MSG...        one message per MSG on a socket connected to IP:PORT (msg_name NULL)
      - - IP:PORT:MSG...    unconnected: every message carries its own destination (msg_name)
      --iov IP PORT SEG...  one message whose iovecs are the SEGs, on a connected socket
"""

import ctypes
import ctypes.util
import socket
import struct
import sys


class iovec(ctypes.Structure):
    _fields_ = [("iov_base", ctypes.c_void_p), ("iov_len", ctypes.c_size_t)]


class msghdr(ctypes.Structure):
    _fields_ = [("msg_name", ctypes.c_void_p), ("msg_namelen", ctypes.c_uint32),
                ("msg_iov", ctypes.POINTER(iovec)), ("msg_iovlen", ctypes.c_size_t),
                ("msg_control", ctypes.c_void_p), ("msg_controllen", ctypes.c_size_t),
                ("msg_flags", ctypes.c_int)]


class mmsghdr(ctypes.Structure):
    _fields_ = [("msg_hdr", msghdr), ("msg_len", ctypes.c_uint)]


libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
libc.sendmmsg.argtypes = [ctypes.c_int, ctypes.POINTER(mmsghdr), ctypes.c_uint, ctypes.c_int]
libc.sendmmsg.restype = ctypes.c_int


def sendmmsg(sock, msgs):
    """MSGS: a list of (SEGMENTS, DEST) with SEGMENTS a list of bytes and DEST None or an
    (IPv4, port) pair. Fails unless every message was sent whole."""
    vec = (mmsghdr * len(msgs))()
    keep = []
    for i, (segs, dest) in enumerate(msgs):
        h = vec[i].msg_hdr
        if dest is not None:
            name = ctypes.create_string_buffer(
                struct.pack("=HH4s8x", socket.AF_INET, socket.htons(dest[1]),
                            socket.inet_aton(dest[0])), 16)
            h.msg_name = ctypes.cast(name, ctypes.c_void_p)
            h.msg_namelen = 16
            keep.append(name)
        bufs = [ctypes.create_string_buffer(b, len(b)) for b in segs]
        iov = (iovec * len(segs))(*[iovec(ctypes.cast(b, ctypes.c_void_p), len(s))
                                    for b, s in zip(bufs, segs)])
        keep += bufs + [iov]
        h.msg_iov = iov
        h.msg_iovlen = len(segs)
    n = libc.sendmmsg(sock.fileno(), vec, len(msgs), 0)
    if n != len(msgs):
        raise SystemExit("sendmmsg returned %d (errno %d)" % (n, ctypes.get_errno()))
    for i, (segs, _) in enumerate(msgs):
        want = sum(len(b) for b in segs)
        if vec[i].msg_len != want:
            raise SystemExit("message %d: %d of %d bytes sent" % (i, vec[i].msg_len, want))


args = sys.argv[1:]
iov = args[:1] == ["--iov"]
if iov:
    args = args[1:]
ip, port, rest = args[0], args[1], [a.encode() for a in args[2:]]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
if port != "-":
    s.connect((ip, int(port)))
if iov:
    sendmmsg(s, [(rest, None)])
elif port == "-":
    msgs = []
    for m in rest:
        dip, dport, payload = m.split(b":", 2)
        msgs.append(([payload], (dip.decode(), int(dport))))
    sendmmsg(s, msgs)
else:
    sendmmsg(s, [([m], None) for m in rest])
s.close()

#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Close a TCP socket in the middle of sending, to a peer that does not read yet.

The stream is one 4 MiB buffer that starts with the registered value (the rest 'x'), sent as
a careful application sends it: each call goes on from where the last one stopped. Modes:
  close    non-blocking sends until EAGAIN, then close() (the queue is still sent)
  linger0  the same, then SO_LINGER 0 and close(): an RST, the queue is discarded
  shutdown a blocking send() in one thread, shutdown(SHUT_RDWR) from another
Prints "MODE calls N bytes B": calls that took bytes and the bytes they took.
"""
import socket
import struct
import sys
import threading
import time

SIZE = 4 << 20


def nonblocking(s, buf, linger0):
    s.setblocking(False)
    view = memoryview(buf)
    calls = off = 0
    while off < len(buf):
        try:
            n = s.send(view[off:])
        except BlockingIOError:
            break
        calls += 1
        off += n
    if linger0:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    return calls, off


def shutdown_mid(s, buf):
    res = {}

    def sender():
        try:
            res["n"] = s.send(buf)
        except OSError as e:
            res["err"] = e.errno

    t = threading.Thread(target=sender)
    t.start()
    time.sleep(1)  # the send blocks once the peer's window and our buffer are full
    s.shutdown(socket.SHUT_RDWR)
    t.join(10)
    s.close()
    n = res.get("n", 0)
    return (1 if n else 0), n


def main():
    mode, host, port, value = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4].encode()
    buf = value + b"x" * (SIZE - len(value))
    s = socket.create_connection((host, port), timeout=10)
    if mode == "shutdown":
        s.settimeout(None)
        r = shutdown_mid(s, buf)
    else:
        r = nonblocking(s, buf, mode == "linger0")
    print("%s calls %d bytes %d" % ((mode,) + r))
    return 0


if __name__ == "__main__":
    sys.exit(main())

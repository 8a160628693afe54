# SPDX-License-Identifier: GPL-2.0-only
"""Peer server of scripts/eval, run inside the evaluation network namespace.

argv: LOG CERT KEY PLAIN_PORT,... TLS_PORT,...
Every port speaks two message kinds, mixed freely on one connection:
  HTTP/1.1 requests (Content-Length bodies): answered "200 ok" once the body is read;
  "SINK N\\n" followed by N raw bytes (any content, possibly several sends): answered "ok\\n".
Ports in the TLS list wrap each connection in TLS first. Per connection one line goes to LOG:
  conn PORT tls|plain bytes B http H sink S
so the harness can check that everything the clients sent arrived. "ready" once listening.
"""

import os
import socket
import ssl
import sys
import threading

log_path, cert, key = sys.argv[1:4]
plain_ports = [int(p) for p in sys.argv[4].split(",") if p]
tls_ports = [int(p) for p in sys.argv[5].split(",") if p]
lock = threading.Lock()
logf = open(log_path, "a", buffering=1)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
OK = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n"


def log(msg):
    with lock:
        logf.write(msg + "\n")


class Conn:
    def __init__(self, s):
        self.s, self.buf, self.total = s, bytearray(), 0

    def more(self):
        d = self.s.recv(262144)
        if not d:
            raise EOFError
        self.total += len(d)
        self.buf += d

    def line(self):
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                out = bytes(self.buf[:i + 1])
                del self.buf[:i + 1]
                return out
            if len(self.buf) > 65536:
                raise ValueError("line too long")
            self.more()

    def skip(self, n):
        while len(self.buf) < n:
            n -= len(self.buf)
            self.buf.clear()
            self.more()
        del self.buf[:n]


def serve(raw, port, tls):
    http = sink = 0
    c = None
    what = ""
    try:
        raw.settimeout(60)
        s = ctx.wrap_socket(raw, server_side=True) if tls else raw
        c = Conn(s)
        while True:
            try:
                first = c.line()
            except EOFError:
                break
            if first.startswith(b"SINK "):
                c.skip(int(first[5:].strip()))
                sink += 1
                s.sendall(b"ok\n")
                continue
            clen = 0
            while True:
                h = c.line().rstrip(b"\r\n")
                if not h:
                    break
                k, _, v = h.partition(b":")
                if k.strip().lower() == b"content-length":
                    clen = int(v.strip() or b"0")
                elif k.strip().lower() == b"expect" and b"100-continue" in v.lower():
                    s.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            c.skip(clen)
            http += 1
            s.sendall(OK)
    except (OSError, ValueError, EOFError) as e:
        what = " error %s" % type(e).__name__
    finally:
        log("conn %d %s bytes %d http %d sink %d%s" % (port, "tls" if tls else "plain",
                                                         c.total if c else 0, http, sink, what))
        raw.close()


def accept_loop(ls, port, tls):
    while True:
        conn, _ = ls.accept()
        threading.Thread(target=serve, args=(conn, port, tls), daemon=True).start()


for port, tls in [(p, False) for p in plain_ports] + [(p, True) for p in tls_ports]:
    ls = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    ls.bind(("::", port))
    ls.listen(256)
    threading.Thread(target=accept_loop, args=(ls, port, tls), daemon=True).start()
log("ready pid %d" % os.getpid())
threading.Event().wait()

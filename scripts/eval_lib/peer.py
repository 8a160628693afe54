# SPDX-License-Identifier: GPL-2.0-only
"""Peer server of scripts/eval, run inside the evaluation network namespace.

argv: LOG CERT KEY PLAIN_PORT,... TLS_PORT,...
Every port speaks three message kinds, the first two mixed freely on one connection:
  HTTP/1.1 requests (Content-Length bodies): answered "200 ok" once the body is read;
  "SINK N\\n" followed by N raw bytes (any content, possibly several sends): answered "ok\\n";
  HTTP/2 (a connection that starts with the client preface: h2c prior knowledge, or TLS where
  ALPN chose h2): every stream answered 200 "ok\\n" once its request ended.
Ports in the TLS list wrap each connection in TLS first (ALPN h2 or http/1.1). Per connection
one line goes to LOG:
  conn PORT tls|plain bytes B http H sink S h2 N
so the harness can check that everything the clients sent arrived, and that HTTP/2 requests
came as HTTP/2 (N streams on a connection that began with the preface, no HTTP/1 upgrade).
"ready" once listening.
"""

import os
import socket
import ssl
import struct
import sys
import threading

log_path, cert, key = sys.argv[1:4]
plain_ports = [int(p) for p in sys.argv[4].split(",") if p]
tls_ports = [int(p) for p in sys.argv[5].split(",") if p]
lock = threading.Lock()
logf = open(log_path, "a", buffering=1)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
ctx.set_alpn_protocols(["h2", "http/1.1"])
OK = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n"
H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


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

    def exact(self, n):
        while len(self.buf) < n:
            self.more()
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def skip(self, n):
        while len(self.buf) < n:
            n -= len(self.buf)
            self.buf.clear()
            self.more()
        del self.buf[:n]


def h2frame(ftype, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes((ftype, flags)) + \
        struct.pack(">I", stream) + payload


# Frame types and flags (RFC 9113 section 6).
DATA, HEADERS, SETTINGS, PING, GOAWAY, CONTINUATION = 0, 1, 4, 6, 7, 9
END_STREAM, ACK, END_HEADERS = 0x1, 0x1, 0x4


def serve_h2(c, s):
    """HTTP/2 after the preface's first line: just enough for curl (nghttp2) to finish its
    requests. The header blocks are not decoded (HPACK): the response is the static-table
    entry ":status 200" and a DATA frame "ok\\n". Received DATA is credited back at once with
    WINDOW_UPDATE, so bodies of any size flow. Returns the number of streams answered."""
    if c.exact(8) != H2_PREFACE[16:]:
        raise ValueError("bad HTTP/2 preface")
    s.sendall(h2frame(SETTINGS, 0, 0, struct.pack(">HI", 3, 100)))
    streams = 0
    ended = set()        # streams whose request ended before their header block did
    open_block = None    # stream whose header block continues in CONTINUATION frames
    while True:
        try:
            hdr = c.exact(9)
        except EOFError:
            return streams
        ln = int.from_bytes(hdr[:3], "big")
        ftype, flags = hdr[3], hdr[4]
        sid = int.from_bytes(hdr[5:9], "big") & 0x7fffffff
        payload = c.exact(ln)
        done = False
        if ftype == SETTINGS and not flags & ACK:
            s.sendall(h2frame(SETTINGS, ACK, 0))
        elif ftype == PING and not flags & ACK:
            s.sendall(h2frame(PING, ACK, 0, payload))
        elif ftype == GOAWAY:
            return streams
        elif ftype in (HEADERS, CONTINUATION):
            if ftype == HEADERS and flags & END_STREAM:
                ended.add(sid)
            open_block = None if flags & END_HEADERS else sid
            done = flags & END_HEADERS and sid in ended
        elif ftype == DATA:
            if ln:
                inc = struct.pack(">I", ln)
                s.sendall(h2frame(8, 0, 0, inc) + h2frame(8, 0, sid, inc))
            if flags & END_STREAM:
                ended.add(sid)
                done = open_block != sid
        if done:
            ended.discard(sid)
            s.sendall(h2frame(HEADERS, END_HEADERS, sid, b"\x88") +
                      h2frame(DATA, END_STREAM, sid, b"ok\n"))
            streams += 1


def serve(raw, port, tls):
    http = sink = h2 = 0
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
            if first == H2_PREFACE[:16] and not http and not sink:
                h2 = serve_h2(c, s)
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
        log("conn %d %s bytes %d http %d sink %d h2 %d%s" % (
            port, "tls" if tls else "plain", c.total if c else 0, http, sink, h2, what))
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

# SPDX-License-Identifier: GPL-2.0-only
"""The HTTPS (and plain HTTP) test peer of tests/e2e/lib/tls.sh and scripts/eval/eval.

argv: LOG CERT KEY PLAIN_PORT,... TLS_PORT,... [--alpn PROTO,...]
Listens on every address (IPv4 and IPv6) of each port; ports in the TLS list wrap each
connection in TLS first (ALPN: --alpn, default "h2,http/1.1"; the SNI the client sent is kept).
Every port speaks four message kinds, the first three mixed freely on one connection:
  HTTP/1.1 requests (Content-Length or chunked bodies): answered "200 ok" once the whole body
  is read ("100 Continue" first when asked; the connection ends after "Connection: close");
  "SINK N\\n" followed by N raw bytes (any content, possibly several sends): answered "ok\\n";
  anything else that does not start like an HTTP request: one newline-terminated message,
  answered "ok\\n";
  HTTP/2 (a connection that starts with the client preface: h2c prior knowledge, or TLS where
  ALPN chose h2): every stream answered 200 "ok\\n" once its request ended.
LOG gets "ready" once listening, then per HTTP/1.1 request (once its whole body is read):
  req PORT from ADDR sni NAME|- host HOSTHEADER|- method M path P body N
per newline-terminated message:
  raw PORT from ADDR sni NAME|- bytes N
per failed connection (handshake, parse or socket error):
  err PORT from ADDR sni NAME|- TYPE: MESSAGE
and per closed connection:
  conn PORT tls|plain from ADDR sni NAME|- bytes B requests R http H sink S h2 N[ error TYPE]
(R counts HTTP/1.1 requests and raw messages; H HTTP/1.1 requests, S SINK messages, N HTTP/2
streams), so a harness can check that everything its clients sent arrived, and that HTTP/2
requests came as HTTP/2.
"""

import socket
import ssl
import struct
import sys
import threading

args = sys.argv[1:]
alpn = ["h2", "http/1.1"]
if "--alpn" in args:
    i = args.index("--alpn")
    alpn = args[i + 1].split(",")
    del args[i:i + 2]
log_path, cert, key = args[0:3]
plain_ports = [int(p) for p in args[3].split(",") if p]
tls_ports = [int(p) for p in args[4].split(",") if p]
lock = threading.Lock()
logf = open(log_path, "a", buffering=1)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
ctx.set_alpn_protocols(alpn)


def on_sni(sobj, name, _ctx):
    sobj.cs_sni = name


ctx.sni_callback = on_sni
OK = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n"
H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def log(msg):
    with lock:
        logf.write(msg + "\n")
        logf.flush()


class Conn:
    """A receive buffer: a bytearray, so appends and cuts from the front take linear time
    (16 MB bodies arrive in 16 KB records)."""

    def __init__(self, s):
        self.s, self.buf, self.total = s, bytearray(), 0

    def more(self):
        d = self.s.recv(262144)
        if not d:
            raise EOFError
        self.total += len(d)
        self.buf += d

    def line(self):
        """The next line, newline included."""
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
        """Read and drop N bytes; returns N."""
        left = n
        while len(self.buf) < left:
            left -= len(self.buf)
            self.buf.clear()
            self.more()
        del self.buf[:left]
        return n


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


def read_body(c, hdr):
    """The body of an HTTP/1.1 request whose headers are HDR: read and dropped; its length."""
    if "chunked" in hdr.get("transfer-encoding", "").lower():
        n = 0
        while True:
            size = int(c.line().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while c.line().strip():
                    pass
                return n
            n += c.skip(size)
            c.skip(2)
    return c.skip(int(hdr.get("content-length", "0") or 0))


def serve(raw, port, tls, peer):
    http = sink = h2 = msgs = 0
    c = None
    sni = "-"
    what = ""
    try:
        raw.settimeout(60)
        s = ctx.wrap_socket(raw, server_side=True) if tls else raw
        sni = getattr(s, "cs_sni", None) or "-"
        c = Conn(s)
        while True:
            try:
                first = c.line()
            except EOFError:
                break
            if first == H2_PREFACE[:16] and not http and not sink and not msgs:
                h2 = serve_h2(c, s)
                break
            if first.startswith(b"SINK "):
                c.skip(int(first[5:].strip()))
                sink += 1
                s.sendall(b"ok\n")
                continue
            if not first.split(b" ", 1)[0].isalpha():
                # Not HTTP: a newline-terminated message, answered "ok".
                msgs += 1
                log("raw %d from %s sni %s bytes %d" % (port, peer, sni, len(first)))
                s.sendall(b"ok\n")
                continue
            parts = first.decode("latin-1").rstrip("\r\n").split(" ")
            hdr = {}
            while True:
                h = c.line().decode("latin-1").rstrip("\r\n")
                if not h:
                    break
                k, _, v = h.partition(":")
                hdr[k.strip().lower()] = v.strip()
            if "100-continue" in hdr.get("expect", "").lower():
                s.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            n = read_body(c, hdr)
            http += 1
            log("req %d from %s sni %s host %s method %s path %s body %d" % (
                port, peer, sni, hdr.get("host", "-"), parts[0],
                parts[1] if len(parts) > 1 else "-", n))
            s.sendall(OK)
            if hdr.get("connection", "").lower() == "close":
                break
    except (OSError, ValueError, EOFError) as e:
        what = " error %s" % type(e).__name__
        log("err %d from %s sni %s %s: %s" % (port, peer, sni, type(e).__name__, e))
    finally:
        log("conn %d %s from %s sni %s bytes %d requests %d http %d sink %d h2 %d%s" % (
            port, "tls" if tls else "plain", peer, sni, c.total if c else 0, http + msgs,
            http, sink, h2, what))
        raw.close()


def accept_loop(ls, port, tls):
    while True:
        conn, addr = ls.accept()
        threading.Thread(target=serve, args=(conn, port, tls, addr[0].removeprefix("::ffff:")),
                         daemon=True).start()


for port, tls in [(p, False) for p in plain_ports] + [(p, True) for p in tls_ports]:
    ls = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    ls.bind(("::", port))
    ls.listen(256)
    threading.Thread(target=accept_loop, args=(ls, port, tls), daemon=True).start()
log("ready")
threading.Event().wait()

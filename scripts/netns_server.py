# SPDX-License-Identifier: GPL-2.0-only
"""The namespace peer's sink server (scripts/netns.sh ns_start_server).

argv: LOG [--bind ADDR]... PROTO:PORT...
Listens on every ADDR (default "::", IPv4 and IPv6) for each PROTO (tcp, udp) and PORT. TCP: a
connection that starts with an HTTP method is read as HTTP/1.1 requests (Content-Length bodies),
each answered "200 ok"; anything else is read to its end (a sink). Per closed connection LOG gets
  tcp PORT from ADDR bytes N requests R
and per datagram "udp PORT from ADDR bytes N requests 0"; "ready" once listening.
"""

import socket
import sys
import threading
import time

log_path = sys.argv[1]
binds, specs, args = [], [], sys.argv[2:]
while args:
    a = args.pop(0)
    if a == "--bind":
        binds.append(args.pop(0))
    else:
        proto, port = a.split(":")
        specs.append((proto, int(port)))
binds = binds or ["::"]
lock = threading.Lock()
logf = open(log_path, "a", buffering=1)
def log(msg):
    with lock:
        logf.write(msg + "\n")
        logf.flush()
METHODS = (b"GET ", b"POST ", b"PUT ", b"HEAD ", b"PATCH ", b"DELETE ", b"OPTIONS ")
OK = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n"
def serve_conn(conn, port, peer):
    total = requests = 0
    head = bytearray()
    body_left = -1          # -1: reading headers, >= 0: body bytes still expected
    sink = False
    try:
        while True:
            data = conn.recv(262144)
            if not data:
                break
            total += len(data)
            view = memoryview(data)
            while len(view) and not sink:
                if body_left < 0:
                    head += view
                    view = view[len(view):]
                    if len(head) >= 8 and not head.startswith(METHODS):
                        sink = True
                        break
                    end = head.find(b"\r\n\r\n")
                    if end < 0:
                        if len(head) > 65536:
                            sink = True
                        break
                    hdr = bytes(head[:end]).decode("latin-1").lower().split("\r\n")
                    rest = head[end + 4:]
                    head = bytearray()
                    body_left = 0
                    for line in hdr[1:]:
                        k, _, v = line.partition(":")
                        if k.strip() == "content-length":
                            body_left = int(v.strip() or 0)
                        if k.strip() == "expect" and "100-continue" in v:
                            conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
                    view = memoryview(bytes(rest))
                take = min(body_left, len(view))
                body_left -= take
                view = view[take:]
                if body_left == 0:
                    conn.sendall(OK)
                    requests += 1
                    body_left = -1
    except OSError:
        pass
    finally:
        conn.close()
        log("tcp %d from %s bytes %d requests %d" % (port, peer, total, requests))
def tcp_loop(s, port):
    while True:
        c, addr = s.accept()
        threading.Thread(target=serve_conn, args=(c, port, addr[0].removeprefix("::ffff:")),
                         daemon=True).start()
def udp_loop(s, port):
    while True:
        data, addr = s.recvfrom(65536)
        log("udp %d from %s bytes %d requests 0" % (port, addr[0].removeprefix("::ffff:"), len(data)))
for b in binds:
    fam = socket.AF_INET6 if ":" in b else socket.AF_INET
    for proto, port in specs:
        s = socket.socket(fam, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if fam == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0 if b == "::" else 1)
        s.bind((b, port))
        if proto == "tcp":
            s.listen(128)
            t = threading.Thread(target=tcp_loop, args=(s, port), daemon=True)
        else:
            t = threading.Thread(target=udp_loop, args=(s, port), daemon=True)
        t.start()
log("ready")
while True:
    time.sleep(3600)

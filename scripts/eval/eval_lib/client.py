# SPDX-License-Identifier: GPL-2.0-only
"""Python client of scripts/eval: plain TCP or TLS (libssl through the ssl module).

Run by /usr/bin/python3 -I (comm "python3"), argv: PLAN.json. The plan names the server and
a list of operations, each one message:
  {"t": "http", "d": B64}          a complete HTTP/1.1 request, one sendall (one send or one
                                   SSL_write), then the 200 answer is read
  {"t": "sink", "p": [B64, ...]}   "SINK N\\n" in a send of its own, then each part in its own
                                   send (parts after the first follow a pause of "gap" seconds,
                                   so they are separate syscalls), then "ok\\n" is read
An operation may name its own "port" (default: the plan's). A new connection is opened every
"reconnect" operations and whenever the port changes. Prints "sent OPS BYTES" and exits 0, or
prints the failing operation's index (never its content) and exits 1.
"""

import base64
import json
import socket
import ssl
import sys
import time

OK = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n"


def main():
    plan = json.load(open(sys.argv[1]))
    host, port, tls = plan["host"], plan["port"], plan["tls"]
    gap, every = plan.get("gap", 0.02), plan.get("reconnect", 25)
    ctx = None
    if tls:
        ctx = ssl.create_default_context(cafile=plan["cafile"])
    s = None
    nbytes = 0
    cur_port, on_conn = None, 0

    def connect(port):
        raw = socket.create_connection((host, port), timeout=30)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return ctx.wrap_socket(raw, server_hostname=host) if ctx else raw

    def read_exact(n):
        buf = b""
        while len(buf) < n:
            d = s.recv(n - len(buf))
            if not d:
                raise EOFError("connection closed")
            buf += d
        return buf

    for i, op in enumerate(plan["ops"]):
        try:
            want = op.get("port", port)
            if s is None or want != cur_port or on_conn >= every:
                if s is not None:
                    s.close()
                s = connect(want)
                cur_port, on_conn = want, 0
            on_conn += 1
            if op["t"] == "http":
                d = base64.b64decode(op["d"])
                s.sendall(d)
                nbytes += len(d)
                if read_exact(len(OK)) != OK:
                    raise ValueError("unexpected answer")
            else:
                parts = [base64.b64decode(p) for p in op["p"]]
                s.sendall(b"SINK %d\n" % sum(len(p) for p in parts))
                for k, p in enumerate(parts):
                    if k:
                        time.sleep(gap)
                    s.sendall(p)
                    nbytes += len(p)
                if read_exact(3) != b"ok\n":
                    raise ValueError("unexpected answer")
        except (OSError, ValueError, EOFError) as e:
            print("operation %d of %d failed: %s: %s" % (i, len(plan["ops"]), type(e).__name__,
                                                         e), file=sys.stderr)
            sys.exit(1)
    if s is not None:
        s.close()
    print("sent %d %d" % (len(plan["ops"]), nbytes))


main()

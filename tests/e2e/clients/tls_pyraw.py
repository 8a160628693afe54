# SPDX-License-Identifier: GPL-2.0-only
"""One TLS connection from /usr/bin/python3's ssl module (SNI HOST), the request written in one
sendall().

argv: IP PORT HOST CAFILE PATH BODYFILE [CTLFIFO STATUSFILE]
PATH "-": no HTTP, the body as one newline-terminated message (the server answers "ok"). With
the fifo, the handshake is done first, "connected" written to STATUSFILE, and the request sent
only after a line has been read from the fifo; then "done CODE len REQUESTBYTES" is written and
the client exits after a second line. Status lines are printed on stdout too. Exit 0 on 200.
"""

import socket
import ssl
import sys

ip, port, host, ca, path, bodyfile = sys.argv[1:7]
ctl = sys.argv[7] if len(sys.argv) > 7 else None
status = sys.argv[8] if len(sys.argv) > 8 else None


def say(msg):
    print(msg, flush=True)
    if status:
        with open(status, "a") as f:
            f.write(msg + "\n")


def wait_ctl():
    """Read the next command line from the ctl fifo. An open can pair with the last command's
    writer while it is still closing (under load); that open reads only EOF and is retried,
    or the second wait would return at once and the client exit before its command."""
    while ctl:
        with open(ctl) as f:
            if f.readline():
                return


with open(bodyfile, "rb") as f:
    body = f.read()
ctx = ssl.create_default_context(cafile=ca)
raw = socket.create_connection((ip, int(port)), timeout=20)
s = ctx.wrap_socket(raw, server_hostname=host)
say("connected")
wait_ctl()
if path == "-":
    req = body if body.endswith(b"\n") else body + b"\n"
else:
    req = ("POST %s HTTP/1.1\r\nHost: %s:%s\r\nUser-Agent: cs-pyraw\r\nAccept: */*\r\n"
           "Content-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
           % (path, host, port, len(body))).encode() + body
s.sendall(req)
resp = b""
while b"\n" not in resp:
    d = s.recv(4096)
    if not d:
        break
    resp += d
if path == "-":
    code = "200" if resp == b"ok\n" else "none"
else:
    code = resp.split(b" ")[1].decode() if resp.startswith(b"HTTP/1.1 ") else "none"
say("done %s len %d" % (code, len(req)))
s.close()
wait_ctl()
sys.exit(0 if code == "200" else 1)

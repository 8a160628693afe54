# SPDX-License-Identifier: GPL-2.0-only
"""Sends on a TLS connection a block cuts (python ssl, SNI HOST, one kept-alive connection):
a POST without a registered value, answered; a second POST with BODY; then raw bytes written
past TLS on the same socket. Prints "first CODE", then "second refused ERRNO-NAME" or "second
sent", then "raw refused ERRNO-NAME" or "raw sent". Exit 0 once all three were tried.

argv: IP PORT HOST CAFILE BODY
"""

import errno
import socket
import ssl
import sys

ip, port, host, ca, body = sys.argv[1:6]


def post(s, data):
    s.sendall(("POST / HTTP/1.1\r\nHost: %s:%s\r\nContent-Type: application/json\r\n"
               "Content-Length: %d\r\n\r\n" % (host, port, len(data))).encode() + data)


def errname(e):
    """EACCES for a socket error; for ssl.SSLError (whose errno is OpenSSL's error code, not
    an errno) its class and reason."""
    if isinstance(e, ssl.SSLError):
        return "%s(%s)" % (type(e).__name__, getattr(e, "reason", None) or e.strerror)
    return errno.errorcode.get(e.errno, str(e.errno)) if isinstance(e.errno, int) else type(e).__name__


ctx = ssl.create_default_context(cafile=ca)
raw = socket.create_connection((ip, int(port)), timeout=10)
s = ctx.wrap_socket(raw, server_hostname=host)
post(s, b'{"note":"first"}')
resp = b""
while b"ok\n" not in resp:
    d = s.recv(4096)
    if not d:
        break
    resp += d
print("first", resp.split(b" ")[1].decode() if resp.startswith(b"HTTP/1.1 ") else "none", flush=True)
try:
    post(s, body.encode())
    print("second sent", flush=True)
except OSError as e:  # ssl.SSLError is an OSError; EACCES from the socket comes as one
    print("second refused", errname(e), flush=True)
# the same socket, not the TLS layer: a later send, refused as the stream has a hole
dup = socket.socket(fileno=socket.dup(s.fileno()))
try:
    dup.send(b"raw bytes after the refused record\n")
    print("raw sent", flush=True)
except OSError as e:
    print("raw refused", errname(e), flush=True)
dup.close()
raw.close()

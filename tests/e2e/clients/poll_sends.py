# SPDX-License-Identifier: GPL-2.0-only
"""8 MB to IP:PORT in 1 MB send()s on a non-blocking socket, u001's phone at the end of the
fifth; every send() is retried after poll() with what is left. argv: IP PORT"""

import select
import socket
import sys

s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
s.setblocking(False)
def send_all(data):
    while data:
        select.select([], [s], [], 10)
        try:
            data = data[s.send(data):]
        except BlockingIOError:
            pass
for k in range(8):
    send_all(b"z" * 1000000 + (b"{\"tel\":\"13712340001\"}" if k == 4 else b""))
s.shutdown(socket.SHUT_WR)
# not a blocking recv(): under the sockhash the kernel (tcp_bpf_recvmsg) may return EAGAIN from
# one when the send buffer drains (docs/design.md, Limits)
while True:
    select.select([s], [], [], 10)
    try:
        s.recv(10)
        break
    except BlockingIOError:
        pass
s.close()

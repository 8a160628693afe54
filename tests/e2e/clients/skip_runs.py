# SPDX-License-Identifier: GPL-2.0-only
"""The binary sends of skip_runs.sh to IP:PORT (TCP_NODELAY, 16 KiB or less each, noise from a
fixed seed): u001's phone with his name 300 bytes before it, u002's phone split across two
sends, u004's email over the 1 KiB chunk boundary, u005's phone in digit groups, a benign send.
argv: IP PORT"""

import random
import socket
import sys
import time

r = random.Random(7)
def noise(n):
    return bytes(r.randrange(256) for _ in range(n))
def conn():
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s
def done(s):
    s.shutdown(socket.SHUT_WR)
    s.recv(100)
    s.close()
# u001: name 300 bytes before the phone, both between NUL bytes, in 16 KiB of noise
s = conn()
s.sendall(noise(4700) + b"\0" + "张伟".encode() + b"\0" + noise(300) + b"\0" + b"13712340001" +
          b"\0" + noise(11000))
done(s)
# u002: phone split across two sends of one socket, the first ends in "158987"
s = conn()
s.send(noise(3000) + b"\x00158987")
time.sleep(0.05)
s.send(b"60002\0" + noise(3000))
done(s)
# u004: email over the 1 KiB chunk boundary (bytes 1015..1034)
s = conn()
s.sendall(noise(1014) + b"\0" + b"chen.jie@example.com" + b"\0" + noise(3000))
done(s)
# u005: a phone in digit groups, then a space and a word (the D token ends at the word)
s = conn()
s.sendall(noise(2000) + b"\0tel 139 5555 0005 ok\0" + noise(2000))
done(s)
# benign
s = conn()
s.sendall(noise(16000))
done(s)

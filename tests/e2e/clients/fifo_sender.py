# SPDX-License-Identifier: GPL-2.0-only
"""Reads FIFO to its end (blocks until a writer came and went), then sends u005's phone on one
TCP connection to IP:PORT. argv: FIFO IP PORT"""

import socket
import sys

open(sys.argv[1]).read()
s = socket.create_connection((sys.argv[2], int(sys.argv[3])), timeout=10)
s.sendall(b"phone=13955550005\n")
s.shutdown(socket.SHUT_WR)
s.recv(10)
s.close()

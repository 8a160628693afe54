# SPDX-License-Identifier: GPL-2.0-only
"""The whole of FILE in one sendall() on one TCP connection to IP:PORT. argv: IP PORT FILE"""

import socket
import sys

data = open(sys.argv[3], "rb").read()
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=60)
s.sendall(data)
s.shutdown(socket.SHUT_WR)
s.recv(100)
s.close()

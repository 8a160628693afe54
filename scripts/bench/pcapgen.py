#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""A large capture for scan-pcap's throughput: BODY POSTed again and again, one TCP connection
per POST (handshake, 1448-byte segments, the server's ACKs and 200), Ethernet, IPv4, pcap.

  pcapgen.py BODY OUT.pcap --mb N [--dst 10.77.0.40:8080]

BODY is any file (scripts/bench/bulkbody.py writes the bench's bulk export). Stops once OUT
holds N MB. Prints one JSON line: bytes, connections, payload bytes. Writes no value anywhere
but OUT.
"""

import argparse
import json
import socket
import struct

MSS = 1448


def frame(src, dst, sport, dport, seq, ack, flags, payload=b""):
    tcp = struct.pack(">HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0)
    tot = 20 + len(tcp) + len(payload)
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, tot, 0, 0x4000, 64, 6, 0, src, dst)
    return b"\x02\0\0\0\0\2\x02\0\0\0\0\1\x08\x00" + ip + tcp + payload


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("body")
    ap.add_argument("out")
    ap.add_argument("--mb", type=float, required=True)
    ap.add_argument("--dst", default="10.77.0.40:8080")
    a = ap.parse_args()
    with open(a.body, "rb") as f:
        body = f.read()
    host, port = a.dst.rsplit(":", 1)
    cli, srv, dport = socket.inet_aton("10.77.0.1"), socket.inet_aton(host), int(port)
    req = (b"POST /export HTTP/1.1\r\nHost: %s\r\nContent-Type: text/csv\r\n"
           b"Content-Length: %d\r\n\r\n" % (a.dst.encode(), len(body))) + body
    limit = int(a.mb * 1e6)
    t = 1795867200.0
    n = conns = payload = 0
    with open(a.out, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        n = 24

        def put(f):
            nonlocal n, t
            t += 1e-5
            out.write(struct.pack("<IIII", int(t), int(t % 1 * 1e6), len(f), len(f)) + f)
            n += 16 + len(f)

        while n < limit:
            sport = 10000 + conns % 50000
            conns += 1
            put(frame(cli, srv, sport, dport, 1000, 0, 0x02))
            put(frame(srv, cli, dport, sport, 5000, 1001, 0x12))
            for off in range(0, len(req), MSS):
                put(frame(cli, srv, sport, dport, 1001 + off, 5001, 0x18, req[off:off + MSS]))
                if off // MSS % 2:
                    put(frame(srv, cli, dport, sport, 5001, 1001 + off + MSS, 0x10))
            payload += len(req)
            end = 1001 + len(req)
            put(frame(srv, cli, dport, sport, 5001, end, 0x18, b"HTTP/1.1 200 OK\r\n\r\n"))
            put(frame(cli, srv, sport, dport, end, 5020, 0x11))
            put(frame(srv, cli, dport, sport, 5020, end + 1, 0x11))
    print(json.dumps({"bytes": n, "connections": conns, "payload": payload}))


if __name__ == "__main__":
    main()

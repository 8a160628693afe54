#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Body of scripts/bench's bulk phase: a CSV export of invented people, about --bytes long.

  bulkbody.py REGISTRATIONS.csv OUT.csv --bytes N --enrolled PCT [--seed S]

Rows are customer_id,name,phone,email,city,signup. PCT percent of the rows (spread evenly)
are enrolled subjects of REGISTRATIONS.csv, taken in turn (a body longer than the subject list
names each subject several times); the others are invented people whose phone and e-mail are
enrolled nowhere. Prints one JSON line: bytes, rows, enrolled rows and distinct enrolled
subjects (the findings one body should yield). Writes no value anywhere but OUT.
"""

import argparse
import csv
import json
import random

SURNAMES = ["Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Ortiz", "Moreau", "Silva", "Keller"]
GIVEN = ["Wei", "Fang", "Na", "Min", "Maria", "Lucas", "Ana", "Hugo", "Elena", "Leo"]
CITIES = ["Shanghai", "Beijing", "Chengdu", "Guangzhou", "Shenzhen", "Hangzhou", "Nanjing"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("registrations")
    ap.add_argument("out")
    ap.add_argument("--bytes", type=int, required=True)
    ap.add_argument("--enrolled", type=float, required=True, help="percent of rows")
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    if not 0 <= a.enrolled <= 100 or a.bytes < 100:
        ap.error("--enrolled 0..100, --bytes >= 100")
    rng = random.Random(a.seed)
    with open(a.registrations, encoding="utf-8") as f:
        subs = [r for r in csv.DictReader(ln for ln in f if not ln.startswith("#"))
                if r.get("phone") and r.get("email")]
    if a.enrolled and not subs:
        ap.error("no subject with both a phone and an e-mail in " + a.registrations)
    taken = {r["phone"] for r in subs} | {r["email"].lower() for r in subs}
    out = ["customer_id,name,phone,email,city,signup"]
    size = len(out[0]) + 2
    rows = enrolled = 0
    seen = set()
    acc = 0.0
    while size < a.bytes:
        acc += a.enrolled / 100
        day = "2026-%02d-%02d" % (rng.randrange(1, 13), rng.randrange(1, 29))
        if acc >= 1:
            acc -= 1
            s = subs[enrolled % len(subs)]
            name, phone, email = s.get("name") or "-", s["phone"], s["email"]
            seen.add(s["subject_id"])
            enrolled += 1
        else:
            name = "%s %s" % (rng.choice(GIVEN), rng.choice(SURNAMES))
            while True:
                phone = "199%08d" % rng.randrange(10**8)
                email = "%s.%s%d@invented.example" % (name.split()[0].lower(),
                                                      name.split()[1].lower(),
                                                      rng.randrange(10**6))
                if phone not in taken and email not in taken:
                    break
        line = "%d,%s,%s,%s,%s,%s" % (500000 + rows, name, phone, email, rng.choice(CITIES), day)
        out.append(line)
        size += len(line.encode()) + 2
        rows += 1
    data = ("\r\n".join(out) + "\r\n").encode()
    with open(a.out, "wb") as f:
        f.write(data)
    print(json.dumps({"bytes": len(data), "rows": rows, "enrolled_rows": enrolled,
                      "subjects": len(seen)}))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Spread a journal's unconsented finding over many recipients and a long span, for the report's
timeline: journal_spread.py JOURNAL RECIPIENTS DAYS STEP. Copies the first unconsented row to
recipients r00, r01, ... (recipient rNN gets NN + 1 findings on every STEP-th day of DAYS, all at
the row's hour), the standard library only. Prints the largest count one day gets over the
recipients past the report's first 12 series ("others"), given the original recipient sorts
first."""
import sqlite3
import sys

DAY_NS = 86400 * 10**9


def main():
    path, nrcpt, days, step = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    db = sqlite3.connect(path)
    cols = [r[1] for r in db.execute("PRAGMA table_info(findings)") if r[1] != "id"]
    row = db.execute("SELECT %s FROM findings WHERE verdict = 'unconsented' LIMIT 1"
                     % ",".join(cols)).fetchone()
    base = dict(zip(cols, row))
    rows = []
    for r in range(nrcpt):
        for d in range(0, days, step):
            for _ in range(r + 1):
                x = dict(base)
                x["recipient"] = "r%02d" % r
                x["time_ns"] = base["time_ns"] + d * DAY_NS
                x["day"] = x["time_ns"] // DAY_NS
                if x.get("last_ns") is not None:  # schema 2: the last of the row's findings
                    x["last_ns"] = base["last_ns"] + d * DAY_NS
                rows.append([x[c] for c in cols])
    db.executemany("INSERT INTO findings (%s) VALUES (%s)" % (",".join(cols), ",".join("?" * len(cols))),
                   rows)
    db.commit()
    # series: the original recipient, then r00..r10; others: r11 and later, summed per day
    print(sum(r + 1 for r in range(11, nrcpt)))


main()

# SPDX-License-Identifier: GPL-2.0-only
"""The raw values of a registrations CSV (every field cell), one per line. argv: CSV"""

import csv
import sys

rows = csv.reader(l for l in open(sys.argv[1], encoding="utf-8") if not l.startswith("#"))
next(rows)
for r in rows:
    for v in r[1:]:
        if v:
            print(v)

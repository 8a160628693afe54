# SPDX-License-Identifier: GPL-2.0-only
"""FILE is strict UTF-8 and no line holds a control character (C0, DEL or C1). argv: FILE"""

import sys

text = open(sys.argv[1], "rb").read().decode("utf-8")
for line in text.split("\n")[:-1]:
    bad = [hex(ord(c)) for c in line if ord(c) < 0x20 or 0x7f <= ord(c) < 0xa0]
    assert not bad, (bad, line)

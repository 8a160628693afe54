# SPDX-License-Identifier: GPL-2.0-only
"""Every line of FILE is a JSON object and the file is strict UTF-8 ending in a newline
(python's json.loads per line); prints the number of lines. argv: FILE"""

import json
import sys

raw = open(sys.argv[1], "rb").read()
lines = raw.decode("utf-8").split("\n")
assert lines[-1] == "", "no final newline"
for i, line in enumerate(lines[:-1]):
    o = json.loads(line)
    assert isinstance(o, dict), i
print(len(lines) - 1)

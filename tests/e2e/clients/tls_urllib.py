# SPDX-License-Identifier: GPL-2.0-only
"""POST BODYFILE to URL with urllib (http.client writes the header and the body separately),
trusting only CAFILE. argv: URL CAFILE BODYFILE. Exit 0 on HTTP 200."""

import ssl
import sys
import urllib.request

url, ca, bodyfile = sys.argv[1:4]
ctx = ssl.create_default_context(cafile=ca)
with open(bodyfile, "rb") as f:
    body = f.read()
req = urllib.request.Request(url, data=body, method="POST",
                             headers={"Content-Type": "application/json"})
with urllib.request.urlopen(req, context=ctx, timeout=20) as r:
    r.read()
    sys.exit(0 if r.status == 200 else 1)

// SPDX-License-Identifier: GPL-2.0-only
// POST BODYFILE to URL with https.request, trusting only CAFILE; exit 0 on HTTP 200.
// argv: URL CAFILE BODYFILE
"use strict";
const fs = require("fs"), https = require("https");
const [url, ca, bodyfile] = process.argv.slice(2);
const body = fs.readFileSync(bodyfile);
const req = https.request(url, {
	method: "POST", ca: fs.readFileSync(ca), agent: false,
	headers: {"Content-Type": "application/json", "Content-Length": body.length},
}, (res) => {
	res.resume();
	res.on("end", () => process.exit(res.statusCode === 200 ? 0 : 1));
});
req.on("error", (e) => { console.error("node client: " + e.message); process.exit(1); });
req.setTimeout(20000, () => { console.error("node client: timeout"); process.exit(1); });
req.end(body);

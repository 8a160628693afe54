#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# Benign traffic (random numbers, other emails, near misses, weak fields alone, lorem,
# several MB via curl) yields zero findings, even with --all; the monitor did see it.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
e2e_setup
# Deterministic payloads; no registered value (tests/data/registrations.csv) appears in them.
"$PY" -I - "$WORK" "$DATA/registrations.csv" <<'PYEOF'
import csv, random, sys
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
import json
open(work + "/near.json", "w").write(json.dumps(near))
for v in registered:
    assert v not in open(work + "/big.txt").read().lower()
PYEOF
monitor_start --all
curl -sS -m 60 -o /dev/null -H 'Expect:' -H 'Content-Type: text/plain' \
	--data-binary @"$WORK/big.txt" "http://$IP_BROKER:$PORT_HTTP/upload" || fail "curl upload failed"
curl -sS -m 20 -o /dev/null -H 'Content-Type: application/json' \
	--data-binary @"$WORK/near.json" "http://$IP_UNKNOWN:$PORT_HTTP/near" || fail "curl failed"
# Weak fields alone (name, birthdate, address of registered subjects) never make a finding.
tcp_send "$IP_BROKER" "$PORT_RAW" 'name=Maria Ortiz;birthdate=1992-05-21;address=Calle Ficticia 7, Madrid'
tcp_send "$IP_BROKER" "$PORT_RAW" '{"name":"张伟","birthdate":"1985-11-12"}'
udp_send "$IP6_BROKER" "$PORT_UDP" "$(head -c 600 "$WORK/big.txt")"
wait_peer udp "$PORT_UDP" 1
monitor_stop
expect_findings 0
bytes=$(peer_bytes tcp "$PORT_HTTP")
((bytes >= 4 * 1024 * 1024)) || fail "peer received only $bytes bytes over HTTP"
sends=$(summary_value sends)
inspected=$(summary_value "bytes inspected")
((sends >= 5)) || fail "summary: sends $sends, expected at least 5"
((inspected > 0)) || fail "summary: bytes inspected is 0"
info "ok: sends $sends, bytes inspected $inspected"
expect_no_raw_values

#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Write a small MaxMind DB (format 2.0) country database for tests: mkmmdb.py [--record-size
24|28] INPUT OUTPUT.

Written by hand because no Debian package writes MMDB files (libmaxminddb and mmdb-bin only
read them). INPUT has one network a line, '#' comments and blank lines ignored:

    CIDR COUNTRY [REGISTERED_COUNTRY]

CIDR is IPv4 or IPv6; COUNTRY becomes country.iso_code, REGISTERED_COUNTRY
registered_country.iso_code, each written as given (tests put malformed codes in on purpose);
'-' leaves that map out. A longer prefix inside a shorter one wins (longest-prefix match).
The tree is IPv6 (ip_version 6) with IPv4 at ::/96, as the spec says; ::ffff:0:0/96 is not
aliased, so an IPv4-mapped lookup only finds a country if the reader maps it to IPv4 itself.
Format: https://maxmind.github.io/MaxMind-DB/
"""

import argparse
import ipaddress
import struct
import sys

META_MARKER = b"\xab\xcd\xefMaxMind.com"
T_STRING, T_UINT16, T_UINT32, T_MAP = 2, 5, 6, 7
T_UINT64, T_ARRAY = 9, 11


def ctrl(typ, size):
    """Control byte(s) of a field of type typ and payload size (bytes, or entries)."""
    if size < 29:
        head, extra = size, b""
    elif size < 285:
        head, extra = 29, bytes([size - 29])
    elif size < 65821:
        head, extra = 30, struct.pack(">H", size - 285)
    else:
        head, extra = 31, struct.pack(">I", size - 65821)[1:]
    if typ <= 7:
        return bytes([typ << 5 | head]) + extra
    return bytes([head, typ - 7]) + extra  # extended type: type 0, then type - 7


def enc_uint(typ, v):
    raw = v.to_bytes((v.bit_length() + 7) // 8, "big")  # 0 is zero bytes
    return ctrl(typ, len(raw)) + raw


def enc(v):
    """Data section encoding of a Python value; ints carry their MMDB type as (type, value)."""
    if isinstance(v, str):
        raw = v.encode()
        return ctrl(T_STRING, len(raw)) + raw
    if isinstance(v, tuple):
        return enc_uint(*v)
    if isinstance(v, list):
        return ctrl(T_ARRAY, len(v)) + b"".join(enc(x) for x in v)
    if isinstance(v, dict):
        return ctrl(T_MAP, len(v)) + b"".join(enc(k) + enc(x) for k, x in v.items())
    raise TypeError(v)


def parse(path):
    """[(the 128-bit key as an int, prefix length, encoded record)], one per line."""
    nets, seen = [], {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            words = line.split("#", 1)[0].split()
            if not words:
                continue
            if len(words) not in (2, 3):
                sys.exit(f"{path}:{n}: expected 'CIDR COUNTRY [REGISTERED_COUNTRY]'")
            try:
                net = ipaddress.ip_network(words[0], strict=False)
            except ValueError:
                sys.exit(f"{path}:{n}: '{words[0]}' is not an IPv4 or IPv6 network (CIDR)")
            key, plen = int(net.network_address), net.prefixlen
            if net.version == 4:
                plen += 96  # IPv4 lives at ::/96
            if plen == 0:
                sys.exit(f"{path}:{n}: a /0 network is not supported")
            if (key, plen) in seen:
                sys.exit(f"{path}:{n}: {words[0]} repeats line {seen[(key, plen)]}")
            seen[(key, plen)] = n
            rec = {}
            for name, cc in zip(("country", "registered_country"), words[1:]):
                if cc != "-":
                    rec[name] = {"iso_code": cc}
            nets.append((key, plen, enc(rec)))
    return nets


def build_tree(nets):
    """Nodes as [left, right]: an int (node), bytes (data) or None (no data)."""
    nodes = [[None, None]]
    # Shortest first: a longer prefix then splits the record of the shorter one it lies in,
    # both halves keeping the shorter one's data, and overwrites its own half.
    for key, plen, data in sorted(nets, key=lambda x: x[1]):
        node = 0
        for depth in range(plen):
            bit = key >> (127 - depth) & 1
            if depth == plen - 1:
                nodes[node][bit] = data
                break
            child = nodes[node][bit]
            if not isinstance(child, int):
                nodes.append([child, child])
                child = nodes[node][bit] = len(nodes) - 1
            node = child
    return nodes


def pack_node(left, right, record_size):
    if record_size == 24:
        return left.to_bytes(3, "big") + right.to_bytes(3, "big")
    # 28: the middle byte holds the high nibbles, left's first
    return (left.to_bytes(4, "big")[1:] + bytes([(left >> 24) << 4 | right >> 24]) +
            right.to_bytes(4, "big")[1:])


def write(nets, out, record_size):
    nodes = build_tree(nets)
    count = len(nodes)
    data, offset = b"", {}
    for _, _, rec in nets:
        if rec not in offset:
            offset[rec] = len(data)
            data += rec

    def value(r):
        if r is None:
            return count
        if isinstance(r, int):
            return r
        return count + 16 + offset[r]  # pointers count from the start of the separator

    limit = 1 << record_size
    if count + 16 + len(data) >= limit:
        sys.exit(f"database too large for {record_size}-bit records")
    tree = b"".join(pack_node(value(lf), value(rt), record_size) for lf, rt in nodes)
    meta = {
        "binary_format_major_version": (T_UINT16, 2),
        "binary_format_minor_version": (T_UINT16, 0),
        "build_epoch": (T_UINT64, 1700000000),  # fixed: the same input gives the same bytes
        "database_type": "consentry-test-Country",
        "description": {},
        "ip_version": (T_UINT16, 6),
        "languages": [],
        "node_count": (T_UINT32, count),
        "record_size": (T_UINT16, record_size),
    }
    with open(out, "wb") as f:
        f.write(tree + bytes(16) + data + META_MARKER + enc(meta))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--record-size", type=int, choices=(24, 28), default=24)
    ap.add_argument("input")
    ap.add_argument("output")
    a = ap.parse_args()
    write(parse(a.input), a.output, a.record_size)


if __name__ == "__main__":
    main()

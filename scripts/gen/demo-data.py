#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Deterministic synthetic data for consentry's demo and scale tests.

Writes registrations.csv, consent.csv and recipients.csv into --out. Every value is invented:
names from small syllable tables, CN mobile numbers, example.* e-mail domains, 18-character national
IDs with a valid ISO 7064 MOD 11-2 check character, birthdates matching the IDs, addresses on
invented streets. The same --seed and --n always give the same bytes; values are unique per
subject (phones and IDs come from bijections of the subject index), so --n 1000000 is fine.

Demo recipient scheme (addresses of a scripts/netns.sh peer, prefix --v4/--v6):
  acme        first-party  V4.10  V6::10
  mailcloud   processor    V4.20  V6::20
  adpartner   third-party  V4.30  V6::30   subject 1 consents to everything, others vary
  databroker  third-party  V4.40  V6::40   nobody consents
  V4.50 / V6::50 matches nothing: unknown recipient.
"""

import argparse
import csv
import io
import os
import random
import sys

FAMILY_HANZI = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN_HANZI = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏飞辉宇浩然欣怡晨阳思雨子轩梓涵"
FAMILY_PINYIN = ["Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou",
                 "Xu", "Sun", "Ma", "Zhu", "Hu", "Guo", "He", "Gao", "Lin", "Luo"]
GIVEN_PINYIN = ["Wei", "Fang", "Na", "Min", "Jing", "Li", "Qiang", "Lei", "Jun", "Yang",
                "Yong", "Yan", "Jie", "Juan", "Tao", "Ming", "Chao", "Xia", "Ping", "Gang"]
LATIN_GIVEN = ["Maria", "Lucas", "Ana", "Mateo", "Sofia", "Hugo", "Elena", "Leo", "Clara",
               "Noah", "Ines", "Pablo", "Lena", "Tomas", "Julia", "Marco", "Nora", "Ivan"]
LATIN_FAMILY = ["Ortiz", "Moreau", "Silva", "Keller", "Rossi", "Novak", "Lindqvist", "Duarte",
                "Berger", "Costa", "Varga", "Petrov", "Navarro", "Fischer", "Marin", "Olsen"]
STREETS = ["Example Road", "Sample Lane", "Placeholder Street", "Fictional Avenue",
           "Demo Boulevard", "Testing Way", "Imaginary Court", "Synthetic Row"]
CITIES = [("Pudong", "Shanghai"), ("Dongcheng", "Beijing"), ("Wuhou", "Chengdu"),
          ("Tianhe", "Guangzhou"), ("Nanshan", "Shenzhen"), ("Xihu", "Hangzhou"),
          ("Gulou", "Nanjing"), ("Jiangan", "Wuhan")]
CN_STREETS = ["示例路", "样本街", "虚构大道", "演示巷", "测试路"]
CN_CITIES = ["上海市浦东新区", "北京市东城区", "成都市武侯区", "广州市天河区", "深圳市南山区"]
AREAS = ["110101", "110105", "310115", "440106", "440305", "510107", "330106", "320106",
         "420102", "120101", "500103", "610113"]
MOBILE_PREFIXES = ["130", "131", "132", "135", "136", "137", "138", "139", "150", "151", "152",
                   "155", "156", "157", "158", "159", "166", "176", "177", "178", "180", "181",
                   "182", "183", "185", "186", "187", "188", "189", "198", "199"]
EMAIL_DOMAINS = ["example.com", "example.org", "example.net", "mail.example", "corp.example"]
WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
CHECK = "10X98765432"
# Birthdates 1950-01-01 + [0, DAYS): days from a proleptic calendar table built once.
DAYS = 50 * 365
ALL_COLUMNS = ["subject_id", "phone", "email", "national_id", "name", "birthdate", "address"]


def id_check(first17):
    return CHECK[sum(int(c) * w for c, w in zip(first17, WEIGHTS)) % 11]


def build_dates():
    import datetime
    d0 = datetime.date(1950, 1, 1)
    one = datetime.timedelta(days=1)
    out = []
    d = d0
    for _ in range(DAYS):
        out.append((d.strftime("%Y%m%d"), d.isoformat()))
        d += one
    return out


def permute(i, modulus, mult, add):
    """Bijection on [0, modulus) when gcd(mult, modulus) == 1."""
    return (i * mult + add) % modulus


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=20, help="subjects (default 20)")
    ap.add_argument("--out", default=".", help="output directory (default .)")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    ap.add_argument("--v4", default="10.77.0", help="IPv4 /24 prefix of the peer (default 10.77.0)")
    ap.add_argument("--v6", default="fd77:0", help="IPv6 /64 prefix of the peer (default fd77:0)")
    ap.add_argument("--consent-share", type=float, default=0.6,
                    help="share of subjects with an adpartner consent (default 0.6)")
    ap.add_argument("--columns", default=",".join(ALL_COLUMNS),
                    help="registrations.csv columns to write, comma-separated, subject_id "
                    "first (default all: %s)" % ",".join(ALL_COLUMNS))
    args = ap.parse_args()
    columns = args.columns.split(",")
    if columns[0] != "subject_id" or len(set(columns)) != len(columns) or \
            not set(columns) <= set(ALL_COLUMNS):
        ap.error("--columns: subject_id first, then distinct columns of %s"
                 % ",".join(ALL_COLUMNS))
    # the values are drawn whatever the columns, so a subset has the same values as the full file
    pick = [ALL_COLUMNS.index(c) for c in columns]
    n_id = len(AREAS) * DAYS * 1000
    if not 1 <= args.n <= min(10**8, n_id):
        ap.error("--n must be between 1 and %d" % min(10**8, n_id))
    os.makedirs(args.out, exist_ok=True)

    rng = random.Random(args.seed)
    dates = build_dates()
    width = max(4, len(str(args.n)))
    # Multipliers coprime to the moduli (10**8 = 2^8 5^8; n_id = 2^6 3 5^6 73) keep the maps
    # one-to-one, so phones and IDs never repeat.
    ph_mult, ph_add = 48271, rng.randrange(10**8)
    id_mult, id_add = 7919 * 7, rng.randrange(n_id)

    def write_atomic(name, text_writer):
        path = os.path.join(args.out, name)
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            text_writer(f)
        os.replace(tmp, path)

    consent_rows = []

    def registrations(f):
        w = csv.writer(f, lineterminator="\n")
        f.write("# synthetic data from scripts/gen/demo-data.py --n %d --seed %d: all invented\n"
                % (args.n, args.seed))
        w.writerow(columns)
        buf = io.StringIO()
        bw = csv.writer(buf, lineterminator="\n")
        r = rng.random
        for i in range(args.n):
            sid = "u%0*d" % (width, i + 1)
            suffix = permute(i, 10**8, ph_mult, ph_add)
            phone = MOBILE_PREFIXES[i % len(MOBILE_PREFIXES)] + "%08d" % suffix
            j = permute(i, n_id, id_mult, id_add)
            seq, j = j % 1000, j // 1000
            day, area = j % DAYS, AREAS[j // DAYS]
            ymd, iso = dates[day]
            first17 = area + ymd + "%03d" % seq
            nid = first17 + id_check(first17)
            x = r()
            if x < 0.7:
                fam = rng.randrange(len(FAMILY_PINYIN))
                giv = rng.randrange(len(GIVEN_PINYIN))
                name = (FAMILY_HANZI[fam] + GIVEN_HANZI[giv]) if x < 0.45 else \
                    "%s %s" % (GIVEN_PINYIN[giv], FAMILY_PINYIN[fam])
                local = "%s.%s" % (GIVEN_PINYIN[giv].lower(), FAMILY_PINYIN[fam].lower())
            else:
                g, fm = rng.choice(LATIN_GIVEN), rng.choice(LATIN_FAMILY)
                name = "%s %s" % (g, fm)
                local = "%s.%s" % (g.lower(), fm.lower())
            email = "%s%d@%s" % (local, i + 1, EMAIL_DOMAINS[i % len(EMAIL_DOMAINS)])
            if r() < 0.5:
                district, city = CITIES[i % len(CITIES)]
                address = "%d %s, %s, %s" % (rng.randrange(1, 300), STREETS[i % len(STREETS)],
                                             district, city)
            else:
                address = "%s%s%d号" % (CN_CITIES[i % len(CN_CITIES)],
                                       CN_STREETS[i % len(CN_STREETS)], rng.randrange(1, 300))
            # Subject 1 always has every field (the demo relies on it); others miss some.
            if i > 0:
                if r() < 0.1:
                    phone = ""
                if r() < 0.1:
                    email = ""
                if r() < 0.3:
                    nid = ""
            row = [sid, phone, email, nid, name, iso, address]
            bw.writerow([row[k] for k in pick])
            if i == 0:
                consent_rows.append([sid, "adpartner", "*", "2025-01-01T00:00:00Z", "", "",
                                     "demo: partner marketing"])
            elif r() < args.consent_share:
                fields = rng.choice(["phone", "email", "phone|email", "*"])
                wd = "2026-01-01T00:00:00Z" if r() < 0.1 else ""
                consent_rows.append([sid, "adpartner", fields, "2025-01-01T00:00:00Z", "", wd,
                                     "partner marketing"])
            if i % 4096 == 4095:
                f.write(buf.getvalue())
                buf.seek(0)
                buf.truncate()
        f.write(buf.getvalue())

    def consent(f):
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["subject_id", "recipient", "fields", "granted_at", "expires_at",
                    "withdrawn_at", "purpose"])
        w.writerows(consent_rows)

    def recipients(f):
        v4, v6 = args.v4, args.v6
        f.write("# demo scheme: %s.50 / %s::50 match nothing (unknown recipient)\n" % (v4, v6))
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["recipient", "kind", "match"])
        w.writerow(["acme", "first-party", "%s.10 %s::10" % (v4, v6)])
        w.writerow(["mailcloud", "processor", "%s.20 %s::20" % (v4, v6)])
        w.writerow(["adpartner", "third-party", "%s.30 %s::30" % (v4, v6)])
        w.writerow(["databroker", "third-party", "%s.40 %s::40" % (v4, v6)])

    write_atomic("registrations.csv", registrations)
    write_atomic("consent.csv", consent)
    write_atomic("recipients.csv", recipients)
    print("wrote %d subjects, %d consents to %s" % (args.n, len(consent_rows), args.out),
          file=sys.stderr)


if __name__ == "__main__":
    main()

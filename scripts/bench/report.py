#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
# Over 800 lines: every phase's table, the targets and the why-missed lines read one results
# structure; split by phase they would each re-parse it.
"""Report of scripts/bench: reads the raw rows of one run from --work, prints the tables and the
targets of issues 14 and 5 per capture, writes results.csv, the raw CSVs and the gnuplot plots
into --out.

Modes (the runs.csv column): off; CAPTURE (the monitor with --capture CAPTURE: sockets,
tracepoints); tax-CAPTURE (that capture's hooks with empty programs, no monitor); limit-CAPTURE
(--scan-limit); copy-CAPTURE, classify-CAPTURE (the cost-floor builds); collector-CAPTURE
(--scan-in collector).

Inputs (written by scripts/bench):
  runs.csv          one row per run (sweep, http, https, floor, bulk, limit) and per latency run
  bulk.json         the bulk phase's body: bytes, rows, enrolled rows, distinct subjects
  progs.csv         phase,workload,mode,rep,prog,type,run_time_ns,run_cnt: per-program deltas
                    of monitor runs
  capacity.csv      one row per capacity step (capture, rep, rate, ...)
  lat-sent-C-R.txt  "seq subject t_ns" per message of capture C, rep R, stamped after write()
  lat-found-C-R.txt "subject t_ns" per finding, stamped when the reader got it
"""

import argparse
import csv
import json
import math
import os
import shutil
import subprocess
import sys
from collections import defaultdict, deque

CAP_TARGET = 100000  # findings/s with 0 ring-buffer drops (issues 5 and 14)


def median(v):
    v = sorted(v)
    n = len(v)
    if not n:
        return float("nan")
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def pct(sorted_v, p):
    """Nearest-rank percentile of an ascending list."""
    if not sorted_v:
        return float("nan")
    k = max(0, min(len(sorted_v) - 1, math.ceil(p / 100 * len(sorted_v)) - 1))
    return sorted_v[k]


def fnum(x, digits=3):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    if isinstance(x, int):
        return str(x)
    return ("%%.%dg" % digits) % x if abs(x) < 10 ** digits else "%.0f" % x


def num3(x):
    return ("%.0f" if abs(x) >= 100 else "%.1f" if abs(x) >= 10 else "%.2f") % x


def rate_cell(vals):
    """'343 (339-363) Mbit/s': median, min-max, in the median's unit."""
    m = median(vals)
    u, name = (1e9, "Gbit/s") if m >= 1e9 else (1e6, "Mbit/s")
    if len(vals) < 2:
        return "%s %s" % (num3(m / u), name)
    return "%s (%s-%s) %s" % (num3(m / u), num3(min(vals) / u), num3(max(vals) / u), name)


def cell(vals, fmt, unit=""):
    m = median(vals)
    if len(vals) < 2:
        return fmt(m) + unit
    return "%s (%s-%s)%s" % (fmt(m), fmt(min(vals)), fmt(max(vals)), unit)


def size_label(s):
    return "%d KiB" % (s // 1024) if s >= 1024 and s % 1024 == 0 else "%d B" % s


def wl_label(wl):
    if wl.startswith("tcp"):
        return "tcp write " + size_label(int(wl[3:]))
    if wl.startswith("udp"):
        return "udp send " + size_label(int(wl[3:]))
    if wl == "dd64":
        return "dd 64 B /dev/null"
    return wl


def read_csv(path):
    if not os.path.exists(path):
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


class Results:
    def __init__(self, path):
        self.f = open(path, "w", newline="")
        self.w = csv.writer(self.f, lineterminator="\n")
        self.w.writerow(["section", "item", "metric", "value", "unit"])

    def __call__(self, section, item, metric, value, unit=""):
        if isinstance(value, float):
            value = "" if math.isnan(value) else ("%.6g" % value)
        self.w.writerow([section, item, metric, value, unit])


def split_mode(mode):
    """(variant, capture) of a mode name: off -> ("off", ""), sockets -> ("on", "sockets"),
    tax-sockets -> ("tax", "sockets")."""
    if mode == "off":
        return "off", ""
    if "-" in mode:
        v, c = mode.split("-", 1)
        return v, c
    return "on", mode


def mode_order(modes, caps):
    """off first, then per variant (on, tax, copy, classify, collector, limit) each capture in
    order."""
    rank = {"off": 0, "on": 1, "block": 2, "copy": 3, "classify": 4, "collector": 5, "limit": 6,
            "tax": 7}

    def key(m):
        v, c = split_mode(m)
        return (rank.get(v, 9), caps.index(c) if c in caps else 9, m)
    return sorted(modes, key=key)


def main():
    ap = argparse.ArgumentParser()
    for a in ("work", "out", "peer", "ns", "payload", "http-scope", "phases", "captures"):
        ap.add_argument("--" + a, required=True)
    ap.add_argument("--capture-opt", default="--capture")
    for a in ("subjects", "fingerprints", "reps", "secs", "http-secs", "http-conns", "lat-rate",
              "cap-lag-ms", "quick", "bulk-conns", "bulk-secs", "limit-old"):
        ap.add_argument("--" + a, type=int, required=True)
    ap.add_argument("--elapsed", type=float, required=True)
    args = ap.parse_args()
    work, out = args.work, args.out
    caps = args.captures.split()
    os.makedirs(out, exist_ok=True)
    res = Results(os.path.join(out, "results.csv"))
    runs = read_csv(os.path.join(work, "runs.csv"))
    progs = read_csv(os.path.join(work, "progs.csv"))
    cap = read_csv(os.path.join(work, "capacity.csv"))
    for name in ("runs.csv", "progs.csv", "capacity.csv"):
        if os.path.exists(os.path.join(work, name)):
            shutil.copy(os.path.join(work, name), os.path.join(out, name))

    meas = defaultdict(dict)  # target key -> capture -> measured value (for the final table)
    print("consentry bench%s: peer %s (veth, netns %s), %d subjects / %d fingerprints, "
          "%d rep(s), captures %s, %.0f s total" % (
              " --quick" if args.quick else "", args.peer, args.ns, args.subjects,
              args.fingerprints, args.reps, ", ".join(caps), args.elapsed))
    if not args.capture_opt:
        print("WARNING: BENCH_CAPTURE_OPT is empty: no capture was asked for, every capture's "
              "runs are the binary's default")
    res("meta", "run", "quick", args.quick)
    res("meta", "run", "reps", args.reps)
    res("meta", "run", "captures", " ".join(caps))
    res("meta", "run", "capture_option", args.capture_opt)
    res("meta", "run", "subjects", args.subjects)
    res("meta", "run", "fingerprints", args.fingerprints)
    res("meta", "run", "payload", args.payload)
    res("meta", "run", "seconds_per_iperf_run", args.secs, "s")
    res("meta", "run", "seconds_per_http_run", args.http_secs, "s")
    res("meta", "run", "http_scope", args.http_scope)
    res("meta", "run", "elapsed", args.elapsed, "s")
    foreign = sum(1 for r in runs if int(r["foreign_monitors"] or 0) > 0)
    res("meta", "run", "foreign_monitor_runs", foreign)

    by = defaultdict(list)  # (phase, wl, mode) -> rows
    order = []
    modes_of = defaultdict(list)  # (phase, wl) -> modes
    for r in runs:
        k = (r["phase"], r["workload"])
        if k not in order:
            order.append(k)
        if r["mode"] not in modes_of[k]:
            modes_of[k].append(r["mode"])
        by[(r["phase"], r["workload"], r["mode"])].append(r)
    for k in modes_of:
        modes_of[k] = mode_order(modes_of[k], caps)

    def vals(ph, wl, mode, key="value"):
        return [float(r[key]) for r in by[(ph, wl, mode)]]

    def ratio(ph, wl, mode, key="value", base="off"):
        """median(mode) / median(base) and the per-rep ratios"""
        off, on = vals(ph, wl, base, key), vals(ph, wl, mode, key)
        if not off or not on or median(off) <= 0:
            return float("nan"), []
        b = {r["rep"]: float(r[key]) for r in by[(ph, wl, base)]}
        pr = [float(r[key]) / b[r["rep"]] for r in by[(ph, wl, mode)] if b.get(r["rep"], 0) > 0]
        return median(on) / median(off), pr

    def spread(pr):
        return " (%.2f-%.2f)" % (min(pr), max(pr)) if len(pr) > 1 else ""

    def mode_table(ph, wl, name, key, cellf, unit, label=None):
        """one line per mode: value (median, min-max), ratio to off (per-rep spread)"""
        for mode in modes_of[(ph, wl)]:
            v = vals(ph, wl, mode, key)
            rt, pr = ratio(ph, wl, mode, key)
            print("%-20s %-17s %-32s %s" % (label if label is not None else name, mode, cellf(v),
                                            "" if mode == "off" else "%.2f%s" % (rt, spread(pr))))
            label = ""
            item = "%s %s" % (ph, name) if ph in ("http", "https", "floor") else name
            res(ph if ph != "sweep" else "throughput", item, mode + "_median", median(v), unit)
            res(ph if ph != "sweep" else "throughput", item, mode + "_min", min(v), unit)
            res(ph if ph != "sweep" else "throughput", item, mode + "_max", max(v), unit)
            if mode != "off":
                res(ph if ph != "sweep" else "throughput", item, mode + "_ratio", rt)
                if pr:
                    res(ph if ph != "sweep" else "throughput", item, mode + "_ratio_min", min(pr))
                    res(ph if ph != "sweep" else "throughput", item, mode + "_ratio_max", max(pr))

    # ---- 1. sweep
    sweep = [wl for ph, wl in order if ph == "sweep"]
    plot_rows = []
    if sweep:
        print("\n1. throughput, iperf3 to the peer (%s payload, %d s per run); ratio = mode/off "
              "medians, spread = per-rep mode/off" % (args.payload, args.secs))
        print("%-20s %-17s %-32s %s" % ("workload", "mode", "throughput (median, min-max)",
                                        "ratio (spread)"))
        for wl in sweep:
            mode_table("sweep", wl, wl_label(wl), "value", rate_cell, "bit/s")
            for c in caps:
                rt, pr = ratio("sweep", wl, c)
                if wl in ("tcp1024", "tcp65536", "dd64"):
                    meas[wl][c] = rt
                if wl == "dd64":
                    meas["dd64_tax"][c] = ratio("sweep", wl, "tax-" + c)[0]
                if wl[:3] in ("tcp", "udp") and not math.isnan(rt):
                    plot_rows.append((wl[:3], c, int(wl[3:]), rt, min(pr) if pr else rt,
                                      max(pr) if pr else rt))
        if "dd64" in sweep:
            print("   dd: 64-byte writes to /dev/null, no socket: with the sockets capture nothing "
                  "of ours runs on them; tax-*: the hooks alone")

    # ---- 2./3. http, https
    us0 = lambda x: "%.0f" % x  # noqa: E731
    for ph in ("http", "https"):
        if not by[(ph, ph, "off")]:
            continue
        client = "wrk" if ph == "http" else "csbench load (Go crypto/tls, stripped)"
        print("\n%d. %s: Go net/http%s server on this host, JSON 1-16 KiB, %s with %d connections "
              "from the peer, %d s per run, monitor scope %s; tax-*: no monitor, the capture's "
              "hooks with empty programs" % (
                  2 if ph == "http" else 3, ph.upper(), " + crypto/tls" if ph == "https" else "",
                  client, args.http_conns, args.http_secs, args.http_scope))
        print("%-20s %-17s %-32s %s" % ("metric", "mode", "value (median, min-max)",
                                        "mode/off (spread)"))
        for key, name, unit, fmt in (("value", "requests/s", "req/s", us0),
                                     ("p50_us", "latency p50", "us", us0),
                                     ("p99_us", "latency p99", "us", us0)):
            u = " us" if unit == "us" else ""
            mode_table(ph, ph, name, key, lambda v, fmt=fmt, u=u: cell(v, fmt, u), unit)
        for c in caps:
            meas[ph][c] = ratio(ph, ph, c)[0]
            if by[(ph, ph, "tax-" + c)]:
                meas[ph + "_tax"][c] = ratio(ph, ph, "tax-" + c)[0]
                ot = ratio(ph, ph, c, base="tax-" + c)[0]
                print("   %s: on/tax %.2f (what the monitor adds to its hooks' tax)" % (c, ot))
                res(ph, "%s requests/s" % ph, c + "_over_tax", ot)
        if by[(ph, ph, "block-sockets")] and by[(ph, ph, "sockets")]:
            bt, bpr = ratio(ph, ph, "block-sockets", base="sockets")
            print("   block-sockets: enforce/audit %.2f%s (--block unconsented against the same "
                  "monitor without it)" % (bt, spread(bpr)))
            res(ph, "%s requests/s" % ph, "block_over_audit", bt)
        for c in caps:
            on_rows = by[(ph, ph, c)]
            if not on_rows:
                continue
            sends = sum(float(r["sends"]) for r in on_rows)
            insp = sum(float(r["bytes_inspected"]) for r in on_rows)
            findings = sum(float(r["findings"]) for r in on_rows)
            reqs = sum(float(r["value"]) * float(r["seconds"]) for r in on_rows)
            secs = sum(float(r["seconds"]) for r in on_rows)
            tls_calls = sum(float(r["tls_calls"]) for r in on_rows)
            print("   %s runs: %.0f egress sends scanned (%.2f per request), %.0f B inspected per "
                  "send, %.0f findings (%.1f/s)%s" % (
                      c, sends, sends / reqs if reqs else 0, insp / sends if sends else 0,
                      findings, findings / secs if secs else 0,
                      "; TLS uprobe runs %.0f (%.2f per request)" % (
                          tls_calls, tls_calls / reqs if reqs else 0) if ph == "https" else ""))
            res(ph, c + " runs", "sends", sends)
            res(ph, c + " runs", "bytes_inspected", insp, "B")
            res(ph, c + " runs", "findings", findings)
            if ph == "https":
                res(ph, c + " runs", "tls_uprobe_runs", tls_calls)

    # ---- where the HTTP cost goes: the floor phase (cost-floor builds of the monitor)
    if by[("floor", "http", "off")]:
        print("\nwhere the HTTP cost goes (phase floor, the http workload again): copy and classify "
              "are cost-floor builds of the monitor\n(make BPF_EXTRA=-DCS_FLOOR=1, 2) that detect "
              "nothing; ratio = mode/off medians, spread = per-rep")
        print("%-20s %-28s %-16s %-20s %-22s %s" % (
            "mode", "requests/s (median, min-max)", "ratio (spread)", "ns per egress send",
            "ns per inspected byte", "collector CPU ns/B"))
        for m in modes_of[("floor", "http")]:
            rows = by[("floor", "http", m)]
            v = vals("floor", "http", m)
            rt, pr = ratio("floor", "http", m)
            sends = sum(float(r["sends"]) for r in rows)
            insp = sum(float(r["bytes_inspected"]) for r in rows)
            ns = sum(float(r["sendpath_ns"]) for r in rows)
            cpu = sum(float(r["cpu_s"]) for r in rows)
            per_send = ns / sends if sends else float("nan")
            per_byte = ns / insp if insp else float("nan")
            coll = cpu * 1e9 / insp if insp else float("nan")
            print("%-20s %-28s %-16s %-20s %-22s %s" % (
                m, cell(v, us0), "-" if m == "off" else "%.2f%s" % (rt, spread(pr)),
                "-" if m == "off" else "%.0f" % per_send,
                "-" if m == "off" else "%.2f" % per_byte,
                "-" if m == "off" else "%.2f" % coll))
            res("floor", m, "requests_per_s_median", median(v), "req/s")
            if m != "off":
                meas["floor"][m] = (rt, per_send, per_byte, coll)
                res("floor", m, "ratio", rt)
                res("floor", m, "ns_per_egress_send", per_send, "ns")
                res("floor", m, "ns_per_inspected_byte", per_byte, "ns/B")
                res("floor", m, "collector_cpu_ns_per_inspected_byte", coll, "ns/B")
        print("   copy: the probes, the socket lookup and the copy of every payload, no scan; "
              "classify: + the byte classes and\n   the runs to tokenise, no tokens; collector: "
              "the monitor with --scan-in collector (the kernel copies, the\n   collector scans "
              "with AVX2 on the same 2 CPUs); CAPTURE: the monitor (the kernel scans). Any in-kernel"
              "\n   inspection of every byte pays at least copy.")

    # ---- 4. BPF cost, one table per capture
    # other builds (floor) and the --scan-limit runs: reported in their sections
    for r in progs:
        a = meas["prog_wl"].setdefault((r["mode"], r["phase"], r["workload"], r["prog"]), [0, 0])
        a[0] += float(r["run_time_ns"])
        a[1] += float(r["run_cnt"])
    progs = [r for r in progs if r["phase"] != "floor" and split_mode(r["mode"])[0] == "on"]
    for c in caps:
        pc = [r for r in progs if r["mode"] == c]
        if not pc:
            continue
        print("\n4. BPF cost, capture %s (kernel.bpf_stats_enabled over its runs; tp_scan is "
              "reached by tail call, its time counts in the caller)" % c)
        phases, names = [], []
        agg = defaultdict(lambda: [0.0, 0.0])
        for r in pc:
            if r["phase"] not in phases:
                phases.append(r["phase"])
            if r["prog"] not in names:
                names.append(r["prog"])
            a = agg[(r["phase"], r["prog"])]
            a[0] += float(r["run_time_ns"])
            a[1] += float(r["run_cnt"])
        print("%-16s" % "ns/call (calls)" + "".join("%-22s" % p for p in phases))
        for n in names:
            row = []
            for p in phases:
                ns, cnt = agg[(p, n)]
                if cnt > 0:
                    meas["prog"][(c, p, n)] = (ns / cnt, cnt)
                    row.append("%-22s" % ("%.0f (%s)" % (ns / cnt, human(cnt))))
                    res("bpf", "%s %s %s" % (c, p, n), "ns_per_call", ns / cnt, "ns")
                    res("bpf", "%s %s %s" % (c, p, n), "calls", int(cnt))
                else:
                    row.append("%-22s" % "-")
            if any(agg[(p, n)][1] > 0 for p in phases):
                print("%-16s" % n + "".join(row))

    # scan cost, per capture. Fixed cost per egress send: the intercept of the line through the
    # two smallest writes of one protocol (TCP 64 B and 1 KiB): what a send costs before its
    # first byte is scanned. Scan cost per byte: at the largest inspected size per send, the
    # fixed cost removed.
    fixed = {}
    for c in caps:
        pts = []
        for wl in sweep:
            if wl == "dd64":
                continue
            on = by[("sweep", wl, c)]
            sends = sum(float(r["sends"]) for r in on)
            insp = sum(float(r["bytes_inspected"]) for r in on)
            ns = sum(float(r["sendpath_ns"]) for r in on)
            if sends > 0:
                pts.append((wl, insp / sends, ns / sends, ns / insp if insp else float("nan"),
                            sends))
        if pts:
            print("\n%-20s %12s %14s %12s %12s" % ("scan cost, " + c, "sends", "insp B/send",
                                                    "ns/send", "ns/insp B"))
            for wl, b, ns, nsb, sends in pts:
                print("%-20s %12.0f %14.0f %12.0f %12.2f" % (wl_label(wl), sends, b, ns, nsb))
                item = "%s %s" % (c, wl_label(wl))
                res("scan", item, "sends", int(sends))
                res("scan", item, "inspected_per_send", b, "B")
                res("scan", item, "ns_per_send", ns, "ns")
                res("scan", item, "ns_per_inspected_byte", nsb, "ns/B")
        small = []
        for proto in ("tcp", "udp"):
            sp = sorted((p for p in pts if p[0].startswith(proto)), key=lambda p: p[1])
            if len(sp) >= 2 and sp[1][1] > sp[0][1]:
                small = sp[:2]
                break
        if small:
            (w1, x1, y1, _, _), (w2, x2, y2, _, _) = small
            marg = (y2 - y1) / (x2 - x1)
            f = y1 - marg * x1
            fixed[c] = f
            print("fixed cost per egress send, %s: %.0f ns (line through %s and %s: %.2f ns per "
                  "extra byte)" % (c, f, wl_label(w1), wl_label(w2), marg))
            res("scan", c + " fixed", "ns_per_egress_send", f, "ns")
            res("scan", c + " fixed", "marginal_ns_per_byte_small_writes", marg, "ns/B")
            meas["fixed_ns_per_send"][c] = f
            wl, x, y, _, _ = max(pts, key=lambda p: p[1])
            slope = (y - f) / x
            print("scan cost, %s: %.2f ns per scanned byte at %s (%.0f B inspected per send, "
                  "fixed cost removed; %s payload)" % (c, slope, wl_label(wl), x, args.payload))
            res("scan", c + " largest", "ns_per_scanned_byte", slope, "ns/B")
            meas["scan_ns_per_byte"][c] = slope
        for ph in ("http", "https"):
            on = by[(ph, ph, c)]
            sends = sum(float(r["sends"]) for r in on)
            insp = sum(float(r["bytes_inspected"]) for r in on)
            ns = sum(float(r["sendpath_ns"]) + float(r["tls_ns"]) for r in on)
            if sends > 0 and insp > 0:
                line = "%s, %s JSON responses: %.0f ns per egress send all-in, %.2f ns per " \
                    "inspected byte all-in" % (c, ph, ns / sends, ns / insp)
                res("scan", "%s %s json" % (c, ph), "ns_per_send_all_in", ns / sends, "ns")
                res("scan", "%s %s json" % (c, ph), "ns_per_inspected_byte_all_in", ns / insp,
                    "ns/B")
                if c in fixed and ph == "http":
                    jb = (ns - fixed[c] * sends) / insp
                    line += ", %.2f ns/B after the fixed cost" % jb
                    res("scan", "%s %s json" % (c, ph), "ns_per_inspected_byte", jb, "ns/B")
                    meas["scan_json_ns_per_byte"][c] = jb
                print(line)
        dd = by[("sweep", "dd64", c)]
        wc = sum(float(r["tp_write_calls"]) for r in dd)
        if wc > 0:
            nw = sum(float(r["tp_write_ns"]) for r in dd) / wc
            print("non-egress write, %s: %.1f ns per call (tp_write, dd bs=64 to /dev/null, %s "
                  "calls)" % (c, nw, human(wc)))
            res("non_egress_write", c + " tp_write dd /dev/null", "ns_per_call", nw, "ns")
            meas["nonegress_ns_per_write"][c] = nw
        elif dd:
            meas["nonegress_ns_per_write"][c] = 0.0  # no program of ours on write()

    # ---- bulk export and the old scan limit (phases bulk, limit)
    bulk_body = {}
    if os.path.exists(os.path.join(work, "bulk.json")):
        with open(os.path.join(work, "bulk.json")) as f:
            bulk_body = json.load(f)
    for ph in ("bulk", "limit"):
        wls = [w for p, w in order if p == ph]
        if not wls or not by[(ph, wls[0], "off")]:
            continue
        wl = wls[0]
        if ph == "bulk":
            body = bulk_body.get("bytes", 0)
            print("\nbulk export (phase bulk): %d connections from this host POST a %s B CSV "
                  "(%s rows, %s enrolled, %s distinct subjects)\nover HTTP/1.1 to the peer, %d s "
                  "per run, monitor host-wide; limit-* = the monitor with --scan-limit %d, the old "
                  "default" % (args.bulk_conns, "{:,}".format(body), bulk_body.get("rows", "?"),
                               bulk_body.get("enrolled_rows", "?"),
                               bulk_body.get("subjects", "?"), args.bulk_secs, args.limit_old))
        else:
            body = 0
            print("\nwhole sends against the old %d B limit (phase limit): iperf3 %s to the peer "
                  "(%s payload, %d s per run);\nCAPTURE = every byte of a send scanned (the "
                  "default), limit-CAPTURE = --scan-limit %d, the rest of each send counted "
                  "uninspected" % (args.limit_old, wl_label(wl), args.payload, args.secs,
                                   args.limit_old))
            for c in caps:
                meas["limit_tcp"][c] = ratio(ph, wl, c)[0]
        modes_table(ph, wl, by, modes_of[(ph, wl)], body, fixed, res)

    # ---- collector
    coll = []
    for ph in ("sweep", "http", "https", "bulk", "limit", "latency"):
        ms = sorted({r["mode"] for r in runs if r["phase"] == ph
                     and split_mode(r["mode"])[0] in ("on", "limit")}, key=lambda m: (
                         m.startswith("limit"), m))
        for m in ms:
            on = [r for r in runs if r["phase"] == ph and r["mode"] == m]
            if ph == "sweep":
                on = [r for r in on if r["workload"] != "dd64"]
            if not on:
                continue
            cpu = sum(float(r["cpu_s"]) for r in on)
            secs = sum(float(r["mon_seconds"]) for r in on)
            rss = max(float(r["rss_kib"]) for r in on) / 1024
            hwm = max(float(r["hwm_kib"]) for r in on) / 1024
            coll.append((ph + " " + m, cpu, secs, rss, hwm))
    for c in caps:
        capok = [r for r in cap if r["capture"] == c and r["pass"] in ("yes", "client")]
        if capok:
            top = max(capok, key=lambda r: int(r["achieved"]))
            coll.append(("capacity %s %s/s" % (c, human(int(top["achieved"]))),
                         float(top["cpu_s"]), float(top["mon_seconds"]),
                         float(top["rss_kib"]) / 1024, float("nan")))
    if coll:
        print("\ncollector (utime+stime of the monitor process from ready to SIGINT, RSS at the end)")
        for ph, cpu, secs, rss, hwm in coll:
            print("  %-30s cpu %.2f s over %.0f s (%.1f%% of one CPU), rss %.1f MiB%s" % (
                ph, cpu, secs, 100 * cpu / secs if secs else 0, rss,
                "" if math.isnan(hwm) else " (peak %.1f MiB)" % hwm))
            res("collector", ph, "cpu", cpu, "s")
            res("collector", ph, "cpu_share", 100 * cpu / secs if secs else 0, "%")
            res("collector", ph, "rss", rss, "MiB")
            if not math.isnan(hwm):
                res("collector", ph, "rss_peak", hwm, "MiB")

    # ---- 5. detection latency, per capture
    lat_all = []  # (capture, rep, sent, sorted latencies in us, lost, extra)
    lat_rows = []
    for c in caps:
        pre = "lat-sent-%s-" % c
        reps = sorted(int(f[len(pre):-4]) for f in os.listdir(work)
                      if f.startswith(pre) and f.endswith(".txt"))
        for rep in reps:
            sent = defaultdict(deque)
            nsent = 0
            with open(os.path.join(work, "lat-sent-%s-%d.txt" % (c, rep))) as f:
                for line in f:
                    seq, subj, t = line.split()
                    sent[subj].append((int(seq), int(t)))
                    nsent += 1
            lats = []
            extra = 0
            fpath = os.path.join(work, "lat-found-%s-%d.txt" % (c, rep))
            if os.path.exists(fpath):
                with open(fpath) as f:
                    for line in f:
                        subj, t = line.split()
                        q = sent.get(subj)
                        if not q:
                            extra += 1
                            continue
                        seq, ts = q.popleft()
                        lats.append((int(t) - ts) / 1e3)
                        lat_rows.append((c, rep, seq, subj, ts, int(t), (int(t) - ts) / 1e3))
            lats.sort()
            lat_all.append((c, rep, nsent, lats, nsent - len(lats), extra))
    if lat_all:
        with open(os.path.join(out, "latency.csv"), "w") as f:
            f.write("capture,rep,seq,subject,sent_ns,found_ns,latency_us\n")
            for r in lat_rows:
                f.write("%s,%d,%d,%s,%d,%d,%.1f\n" % r)
        print("\n5. detection latency: write() returned -> finding read from the monitor's output "
              "(%d msg/s, one registered value each)" % args.lat_rate)
        print("%-12s %-4s %8s %8s %6s %10s %10s %10s %10s" % (
            "capture", "rep", "sent", "matched", "lost", "p50", "p90", "p99", "max"))
        for c in caps:
            p50s, p99s, maxs = [], [], []
            mine = [x for x in lat_all if x[0] == c]
            for _, rep, nsent, lats, lost, extra in mine:
                if not lats:
                    print("%-12s %-4d %8d %8d %6d" % (c, rep, nsent, 0, lost))
                    continue
                p50, p90, p99, mx = pct(lats, 50), pct(lats, 90), pct(lats, 99), lats[-1]
                p50s.append(p50)
                p99s.append(p99)
                maxs.append(mx)
                print("%-12s %-4d %8d %8d %6d %10s %10s %10s %10s" % (
                    c, rep, nsent, len(lats), lost, us(p50), us(p90), us(p99), us(mx)))
                item = "%s rep %d" % (c, rep)
                res("latency", item, "p50", p50, "us")
                res("latency", item, "p99", p99, "us")
                res("latency", item, "max", mx, "us")
                res("latency", item, "lost", lost)
            if p99s:
                print("%-12s median of reps: p50 %s (%s-%s), p99 %s (%s-%s), max %s (%s-%s)" % (
                    c, us(median(p50s)), us(min(p50s)), us(max(p50s)), us(median(p99s)),
                    us(min(p99s)), us(max(p99s)), us(median(maxs)), us(min(maxs)), us(max(maxs))))
                res("latency", c, "p50_median", median(p50s), "us")
                res("latency", c, "p99_median", median(p99s), "us")
                res("latency", c, "p99_max", max(p99s), "us")
                res("latency", c, "max_median", median(maxs), "us")
                res("latency", c, "lost", sum(x[4] for x in mine))
                meas["lat_p99_ms"][c] = median(p99s) / 1e3
                meas["lat_lost"][c] = sum(x[4] for x in mine)

    # ---- 6. capacity, per capture
    if cap:
        print("\n6. event capacity: UDP messages at a fixed rate, one registered value (finding) "
              "each; pass = 0 ring-buffer drops, all findings written, last one <= %d ms after the "
              "last send" % args.cap_lag_ms)
    for c in caps:
        cc = [r for r in cap if r["capture"] == c]
        if not cc:
            continue
        best, limited, at100 = [], [], []
        for rep in sorted({int(r["rep"]) for r in cc}):
            rows = [r for r in cc if int(r["rep"]) == rep]
            steps = ", ".join("%s/s %s%s" % (human(int(r["rate"])),
                                             {"yes": "ok", "no": "FAIL", "client": "client-limited"}
                                             [r["pass"]],
                                             "" if r["pass"] == "yes" else
                                             " (drops %s, %s/%s written, lag %.0f ms, sent %s/s)" % (
                                                 r["ringbuf_drops"], r["written"], r["expected"],
                                                 float(r["drain_ms"]), human(int(r["achieved"]))))
                              for r in rows)
            # a step the sender could not reach still passed at the rate it did reach
            ok = [int(r["rate"]) if r["pass"] == "yes" else int(r["achieved"])
                  for r in rows if r["pass"] in ("yes", "client")]
            best.append(max(ok) if ok else 0)
            limited.append(any(r["pass"] == "client" for r in rows))
            for r in rows:
                if int(r["rate"]) == CAP_TARGET:
                    at100.append(int(r["ringbuf_drops"]))
            print("  %s rep %d: %s" % (c, rep, steps))
            res("capacity", "%s rep %d" % (c, rep), "max_rate_0_drops", best[-1], "findings/s")
        print("%s: highest rate with 0 drops: %s%s findings/s (min-max %s-%s)%s" % (
            c, ">= " if all(limited) else "", human(median(best)), human(min(best)),
            human(max(best)), "; the sender could not go faster (client-limited), the "
            "collector kept up" if any(limited) else ""))
        res("capacity", c, "max_rate_0_drops_median", median(best), "findings/s")
        res("capacity", c, "max_rate_0_drops_min", min(best), "findings/s")
        meas["cap_rate"][c] = median(best)
        meas["cap_limited"][c] = all(limited)
        meas["cap_at100"][c] = at100

    # ---- the findings journal (phase journal)
    jpath = os.path.join(work, "journal.txt")
    if os.path.exists(jpath):
        with open(jpath) as f:
            jv = dict(line.split() for line in f if len(line.split()) == 2)
        print("\nfindings journal (phase journal), %s findings: the monitor's writer at %s "
              "findings/s on an empty journal, %s at the full one (lost %s); queries, 20 each, "
              "ms median (max), rows returned:" % (
                  jv["rows"], jv["write_rate_start_per_s"], jv["write_rate_per_s"], jv["lost"]))
        for k, name in (("subject", "by subject"), ("recipient_day", "by recipient and day"),
                        ("recipient_day_count_by_subject",
                         "by recipient and day, --count-by subject")):
            print("  %-42s %8s (%s) ms  %s rows" % (
                name, jv["query_%s_ms_median" % k], jv["query_%s_ms_max" % k],
                jv["query_%s_rows_mean" % k]))
            res("journal", name, "ms_median", float(jv["query_%s_ms_median" % k]), "ms")
            res("journal", name, "ms_max", float(jv["query_%s_ms_max" % k]), "ms")
        res("journal", "write", "findings_per_s", float(jv["write_rate_per_s"]), "findings/s")
        meas["journal_rows"]["-"] = int(jv["rows"])
        meas["journal_subject_ms"]["-"] = float(jv["query_subject_ms_max"])
        meas["journal_rcpt_day_ms"]["-"] = float(jv["query_recipient_day_ms_max"])

    # ---- plots
    plots = gnuplot(out, plot_rows, lat_all, cap, caps)
    if plots:
        print("\nplots: " + ", ".join(plots))

    targets(args, caps, meas, res)
    if foreign:
        print("WARNING: other consentry monitors were loaded during %d run(s) (runs.csv column "
              "foreign_monitors): those runs are slowed" % foreign)
    res.f.close()
    print("\nresults: %s" % os.path.join(out, "results.csv"))


def targets(args, caps, meas, res):
    """The final table: every target of issue 14, then those of issue 5 it does not restate;
    one column per capture, each value marked met or MISSED."""
    print("\ntargets, issue 14 then issue 5%s" % (
        " (--quick: 1 short run each, not a measurement)" if args.quick else ""))
    print("%-44s %-16s" % ("target", "wanted") + "".join("%-24s" % c for c in caps))

    missed = []

    def row(name, wanted, key, ok, show, unmet=lambda v, c: "MISSED"):
        """ok(value, capture) -> bool, show(value, capture) -> text, unmet(value, capture) ->
        the mark when not ok; a capture without a value: not measured"""
        cells = []
        for c in caps:
            v = meas[key].get(c)
            if v is None or (isinstance(v, float) and math.isnan(v)):
                cells.append("not measured")
                res("target", name, c + "_measured", "")
                continue
            good = ok(v, c)
            if not good:
                missed.append((key, c))
            cells.append("%s %s" % (show(v, c), "met" if good else unmet(v, c)))
            res("target", name, c + "_measured", v if not isinstance(v, list) else len(v))
            res("target", name, c + "_met", int(bool(good)))
        print("%-44s %-16s" % (name, wanted) + "".join("%-24s" % x for x in cells))

    def at_least(t):
        return lambda v, c: v >= t

    r2 = lambda v, c: "%.2f" % v  # noqa: E731
    r3 = lambda v, c: "%.3f" % v  # noqa: E731 (2 digits would show 0.976 as a met 0.98)
    row("tax: the hooks, empty programs (HTTP req/s)", ">= 0.98", "http_tax", at_least(0.98), r3)
    row("dd: writes to no socket, monitor on", ">= 0.98", "dd64", at_least(0.98),
        lambda v, c: "%.3f%s" % (v, " (tax %.2f)" % meas["dd64_tax"][c]
                                 if not math.isnan(meas["dd64_tax"].get(c, float("nan"))) else ""))
    row("realistic HTTP requests/s ratio", ">= 0.9 (0.95)", "http", at_least(0.9),
        lambda v, c: "%.2f%s" % (v, "" if v >= 0.95 else " (<0.95)"))
    row("HTTPS requests/s ratio", ">= 0.8", "https", at_least(0.8), r2)
    tcp = "tcp65536" if meas["tcp65536"] else "limit_tcp"
    row("TCP 64 KiB writes, whole messages scanned", ">= 0.8", tcp, at_least(0.8), r2)
    row("fixed cost per send", "<= 150 ns", "fixed_ns_per_send", lambda v, c: v <= 150,
        lambda v, c: "%.0f ns" % v)
    row("detection latency p99", "<= 5 ms", "lat_p99_ms",
        lambda v, c: v <= 5 and not meas["lat_lost"].get(c),
        lambda v, c: "%.2f ms%s" % (v, ", %d lost" % meas["lat_lost"][c]
                                    if meas["lat_lost"].get(c) else ""))
    # met: every ramp's 100k/s step passed; a step the sender could not reach (client-limited)
    # measured nothing at 100k/s: "not reached", neither met nor missed
    row("drops at 100k findings/s", "0", "cap_at100",
        lambda v, c: bool(v) and all(d == 0 for d in v) and meas["cap_rate"][c] >= CAP_TARGET,
        lambda v, c: "%s (max %s%s/s)" % ("/".join(str(d) for d in v) if v else "not reached",
                                          ">= " if meas["cap_limited"][c] else "",
                                          human(meas["cap_rate"][c])),
        unmet=lambda v, c: "not reached" if v and all(d == 0 for d in v) else "MISSED")
    row("TCP 1 KiB writes (issue 5)", ">= 0.6", "tcp1024", at_least(0.6), r2)
    row("in-kernel scan cost, iperf3 %s" % args.payload, "<= 0.5 ns/B", "scan_ns_per_byte",
        lambda v, c: v <= 0.5, lambda v, c: "%.2f ns/B" % v)
    row("in-kernel scan cost, HTTP JSON bodies", "<= 0.8 (0.5)", "scan_json_ns_per_byte",
        lambda v, c: v <= 0.8, lambda v, c: "%.2f ns/B%s" % (v, "" if v <= 0.5 else " (>0.5)"))
    row("fixed cost per non-egress write", "<= 100 ns", "nonegress_ns_per_write",
        lambda v, c: v <= 100, lambda v, c: "%.0f ns" % v if v else "no hook")
    if meas["journal_rows"]:
        rows = meas["journal_rows"]["-"]
        for key, name in (("journal_subject_ms", "journal query by subject"),
                          ("journal_rcpt_day_ms", "journal query by recipient+day")):
            v = meas[key]["-"]
            print("%-44s %-16s %s" % ("%s, %s rows" % (name, human(rows)),
                                      "< 100 ms", "%.1f ms %s" % (v, "met" if v < 100 else
                                                                   "MISSED")))
            res("target", name, "measured", v)
            res("target", name, "met", int(v < 100))
    why_missed(missed, meas)


def prog_cost(meas, c, phase, names, wl=None):
    """'NAME N ns per call' for the first of names with calls in that phase (or only its
    workload wl), or None"""
    for n in names:
        v = meas["prog"].get((c, phase, n)) if wl is None else None
        a = meas["prog_wl"].get((c, phase, wl, n)) if wl is not None else None
        if a and a[1] > 0:
            v = (a[0] / a[1], a[1])
        if v:
            return "%s %.0f ns per call%s" % (n, v[0], " (%s)" % wl if wl else "")
    return None


SEND_PROGS = {"sockets": ("sk_send",), "tracepoints": ("tp_sendto", "tp_write", "tp_writev")}
TLS_PROGS = ("up_go_tls_write", "up_scan")


def why_missed(missed, meas):
    """One line per missed target and capture: what limits it, from this run's own numbers
    (per-program kernel statistics, the floor phase's cost-floor builds, the tax modes)."""
    if not missed:
        return
    print("\nwhy each miss (this run's numbers; a phase not run leaves its part out)")
    for key, c in missed:
        send = SEND_PROGS.get(c, ())
        parts = []
        tax = meas["http_tax"].get(c)
        fl = {k: meas["floor"].get("%s-%s" % (k, c)) for k in ("copy", "classify", "collector")}
        fl["full"] = meas["floor"].get(c)
        if key == "http_tax":
            if c == "sockets":
                parts.append("the hooks alone (empty programs): a sockhash socket sends through "
                             "tcp_bpf_sendmsg, which copies each message into sk_msg pages, and "
                             "the cgroup_skb egress program runs on every packet")
                pc = prog_cost(meas, c, "http", ("skb_send",))
                if pc:
                    parts.append("with the monitor: " + pc)
            else:
                parts.append("the hooks alone (empty programs): every syscall of the host takes "
                             "the syscall tracepoints' slow path")
        elif key == "dd64":
            pc = prog_cost(meas, c, "sweep", ("tp_write",), "dd64")
            parts.append("a write to no socket still runs %s" % (pc or "the write tracepoint"))
        elif key in ("http", "https", "tcp65536", "limit_tcp", "fixed_ns_per_send",
                     "scan_json_ns_per_byte", "scan_ns_per_byte"):
            phase, wl = {"http": ("http", None), "https": ("https", None),
                         "tcp65536": ("sweep", "tcp65536"), "limit_tcp": ("limit", "tcp65536"),
                         "fixed_ns_per_send": ("sweep", "tcp64"),
                         "scan_json_ns_per_byte": ("http", None),
                         "scan_ns_per_byte": ("sweep", "tcp65536")}[key]
            if key == "https":
                pc = prog_cost(meas, c, phase, TLS_PROGS)
                if pc:
                    parts.append(pc + " (the scan of the plaintext, in the uprobe)")
                parts.append("plus the uprobe trap itself, ~10 us per hit on this VM "
                             "(kernel-facts)")
            else:
                pc = prog_cost(meas, c, phase, send, wl)
                if pc:
                    parts.append(pc + " in phase " + phase)
                if key in ("tcp65536", "limit_tcp", "scan_ns_per_byte"):
                    parts.append("the scan of every byte of each 64 KiB message in the sender's "
                                 "context (after a bpf_msg_pull_data copy of a message that spans "
                                 "pages)" if c == "sockets" else
                                 "the scan of every byte of each 64 KiB write in the sender's "
                                 "context, read from user memory chunk by chunk")
            if tax is not None and key in ("http", "https"):
                parts.append("ceiling: the hooks' tax %.2f" % tax)
            if fl["copy"] and key in ("http", "scan_json_ns_per_byte"):
                parts.append("floor builds: copy only %.2f ns/B (ratio %.2f), + classification "
                             "%.2f ns/B (ratio %.2f), + tokenising %.2f ns/B (ratio %.2f)" % (
                                 fl["copy"][2], fl["copy"][0],
                                 fl["classify"][2] - fl["copy"][2] if fl["classify"] else 0,
                                 fl["classify"][0] if fl["classify"] else float("nan"),
                                 fl["full"][2] - fl["classify"][2] if fl["full"] and fl["classify"]
                                 else 0, fl["full"][0] if fl["full"] else float("nan")))
            if fl["collector"] and key in ("http", "scan_json_ns_per_byte"):
                parts.append("the other route, the scan in the collector (--scan-in collector): "
                             "ratio %.2f, %.2f ns/B in the kernel, %.2f ns of collector CPU per "
                             "byte on the same 2 CPUs" % (fl["collector"][0], fl["collector"][2],
                                                          fl["collector"][3]))
            if key == "fixed_ns_per_send":
                parts.append("the verdict's own work on a 64 B message: pulls, socket storage, "
                             "the send state and the event path" if c == "sockets" else
                             "the syscall tracepoint entry, the fd-to-socket lookup and the send "
                             "state")
        if parts:
            print("  %-12s %-24s %s" % (c, key, "; ".join(parts)))


def fmt2(x):
    return None if x is None else "%.2f" % x


def modes_table(ph, wl, by, modes, body, fixed, res):
    """the runs of one workload, a line per mode: throughput and its ratio to off, then what the
    monitor did per send and per inspected byte (bpf_stats of the send path: syscall
    tracepoints with tp_scan, or sk_msg and cgroup_skb egress) and the collector's CPU per
    inspected byte. fixed: the fixed cost per send of each capture (sweep)."""
    off = [float(r["value"]) for r in by[(ph, wl, "off")]]
    off_rep = {r["rep"]: float(r["value"]) for r in by[(ph, wl, "off")]}
    print("%-17s %-30s %-16s %9s %9s %11s %9s %10s %12s %10s" % (
        "mode", "throughput (median, min-max)", "ratio (spread)", "req/s", "ns/send",
        "insp B/send", "insp/sent", "ns/insp B", "after fixed", "coll ns/B"))
    for mode in modes:
        f = fixed.get(mode.split("-")[-1])
        rows = by[(ph, wl, mode)]
        if not rows:
            continue
        v = [float(r["value"]) for r in rows]
        ratio = median(v) / median(off) if median(off) > 0 else float("nan")
        pr = [float(r["value"]) / off_rep[r["rep"]] for r in rows if off_rep.get(r["rep"], 0) > 0]
        sp = " (%.2f-%.2f)" % (min(pr), max(pr)) if len(pr) > 1 else ""
        secs = sum(float(r["seconds"]) for r in rows)
        reqs = sum(float(r["value"]) * float(r["seconds"]) for r in rows) / (8 * body) \
            if body else 0
        item = "%s %s" % (wl_label(wl), mode)
        res(ph, item, "median", median(v), "bit/s")
        res(ph, item, "min", min(v), "bit/s")
        res(ph, item, "max", max(v), "bit/s")
        res(ph, item, "ratio", ratio)
        cells = ["-"] * 6
        if mode != "off":
            sends = sum(float(r["sends"]) for r in rows)
            sent = sum(float(r["bytes_sent"]) for r in rows)
            insp = sum(float(r["bytes_inspected"]) for r in rows)
            ns = sum(float(r["sendpath_ns"]) for r in rows)
            cpu = sum(float(r["cpu_s"]) for r in rows)
            findings = sum(float(r["findings"]) for r in rows)
            if sends and insp:
                after = (ns - f * sends) / insp if f is not None else float("nan")
                cells = ["%.0f" % (ns / sends), "%.0f" % (insp / sends),
                         "%.2f" % (insp / sent) if sent else "-", "%.2f" % (ns / insp),
                         "-" if math.isnan(after) else "%.2f" % after,
                         "%.2f" % (cpu * 1e9 / insp)]
                res(ph, item, "sends", int(sends))
                res(ph, item, "ns_per_send", ns / sends, "ns")
                res(ph, item, "inspected_per_send", insp / sends, "B")
                res(ph, item, "inspected_share", insp / sent if sent else float("nan"))
                res(ph, item, "ns_per_inspected_byte", ns / insp, "ns/B")
                if not math.isnan(after):
                    res(ph, item, "ns_per_inspected_byte_after_fixed", after, "ns/B")
                res(ph, item, "collector_ns_per_inspected_byte", cpu * 1e9 / insp, "ns/B")
                res(ph, item, "findings", int(findings))
                if reqs:
                    res(ph, item, "findings_per_request", findings / reqs)
        print("%-17s %-30s %-16s %9s %9s %11s %9s %10s %12s %10s" % (
            mode, rate_cell(v), "%.2f%s" % (ratio, sp),
            "%.0f" % (reqs / secs) if reqs and secs else "-", *cells))
    for mode in modes:
        rows = by[(ph, wl, mode)]
        if mode == "off" or not rows:
            continue
        findings = sum(float(r["findings"]) for r in rows)
        lost = sum(float(r.get("hits_lost") or 0) for r in rows)
        drops = sum(float(r["ringbuf_drops"]) for r in rows)
        reqs = sum(float(r["value"]) * float(r["seconds"]) for r in rows) / (8 * body) \
            if body else 0
        print("   %-17s %s%.0f hits lost with the ring full, %.0f ring-buffer drops" % (
            mode, "%.0f findings per request, " % (findings / reqs) if reqs else "", lost, drops))
        res(ph, "%s %s" % (wl_label(wl), mode), "hits_lost_ring_full", int(lost))
        res(ph, "%s %s" % (wl_label(wl), mode), "ringbuf_drops", int(drops))
    for c in [m for m in modes if "-" not in m and m != "off"]:
        limit_pair(ph, wl, by, c, res)
    print("   ns/send, ns/insp B: bpf_stats of the send path (syscall tracepoints with tp_scan, or "
          "sk_msg and cgroup_skb egress) over all\n   egress sends of the host; after fixed: the "
          "capture's fixed cost per send (sweep) removed; coll ns/B: the collector's\n   CPU time "
          "per inspected byte")


def limit_pair(ph, wl, by, c, res):
    """capture c's whole sends against its --scan-limit runs"""
    on = by[(ph, wl, c)]
    lim = by[(ph, wl, "limit-" + c)]
    if on and lim:
        ns_on = sum(float(r["sendpath_ns"]) for r in on)
        ns_lim = sum(float(r["sendpath_ns"]) for r in lim)
        b_on = sum(float(r["bytes_sent"]) for r in on)
        b_lim = sum(float(r["bytes_sent"]) for r in lim)
        r_on = median([float(r["value"]) for r in on])
        r_lim = median([float(r["value"]) for r in lim])
        # per byte sent (inspected or not): what scanning every byte costs in the probe
        if b_on and b_lim:
            per_on, per_lim = ns_on / b_on, ns_lim / b_lim
            print("   %s, whole sends vs --scan-limit: throughput %.2f of limit; probe %.2f vs "
                  "%.2f ns per byte sent (%+.2f)" % (c, r_on / r_lim if r_lim else float("nan"),
                                                     per_on, per_lim, per_on - per_lim))
            item = "%s %s" % (c, wl_label(wl))
            res(ph, item, "on_over_limit", r_on / r_lim if r_lim else float("nan"))
            res(ph, item, "probe_ns_per_sent_byte_on", per_on, "ns/B")
            res(ph, item, "probe_ns_per_sent_byte_limit", per_lim, "ns/B")


def human(x):
    x = float(x)
    if x >= 1e6:
        return "%.3gM" % (x / 1e6)
    if x >= 1e3:
        return "%.3gk" % (x / 1e3)
    return "%.0f" % x


def us(x):
    return "%.0f us" % x if abs(x) < 1000 else "%.2f ms" % (x / 1000)


def gnuplot(out, ratio_rows, lat_all, cap, caps):
    """Writes the .dat files and draws ratio.png, latency_cdf.png, capacity.png: one line or
    point set per capture."""
    made = []
    if not shutil.which("gnuplot"):
        print("gnuplot not found: no plots", file=sys.stderr)
        return made
    scripts = []
    if ratio_rows:
        with open(os.path.join(out, "ratio.dat"), "w") as f:
            f.write("# proto capture size_bytes ratio ratio_min ratio_max, one block per "
                    "proto x capture\n")
            blocks = []
            for proto in ("tcp", "udp"):
                for c in caps:
                    rows = sorted(x for x in ratio_rows if x[0] == proto and x[1] == c)
                    if not rows:
                        continue
                    for p, cc, s, r, lo, hi in rows:
                        f.write("%s %s %d %.4f %.4f %.4f\n" % (p, cc, s, r, lo, hi))
                    f.write("\n\n")
                    blocks.append("%s %s" % (proto.upper(), c))
        with open(os.path.join(out, "ratio_targets.dat"), "w") as f:
            f.write("1024 0.6\n65536 0.8\n")
        scripts.append("""
set output '{o}/ratio.png'
set title 'consentry: throughput with the monitor on / off, per capture (iperf3 to a netns peer)'
set xlabel 'bytes per write (log scale)'
set ylabel 'throughput ratio on/off'
set logscale x 2
set xrange [32:131072]
set yrange [0:1.2]
set xtics ('64 B' 64, '256 B' 256, '1 KiB' 1024, '4 KiB' 4096, '16 KiB' 16384, '64 KiB' 65536)
set grid
set key bottom right
plot {p}, \\
     '{o}/ratio_targets.dat' using 1:2 with points pt 9 ps 2.5 lc rgb 'red' title 'target (TCP, at least)', \\
     1 with lines dt 2 lc rgb 'gray' notitle
""".format(o=out, p=", \\\n     ".join(
            "'{o}/ratio.dat' index {i} using 3:4:5:6 with yerrorlines lw 2 pt {pt} title '{t}{m}'"
            .format(o=out, i=i, pt=7 if t.startswith("TCP") else 5, t=t,
                    m=" (median, min-max of reps)" if i == 0 else "")
            for i, t in enumerate(blocks))))
        made.append(os.path.join(out, "ratio.png"))
    lat_any = [x for x in lat_all if x[3]]
    if lat_any:
        with open(os.path.join(out, "latency_cdf.dat"), "w") as f:
            f.write("# latency_ms cumulative_fraction, one block per repetition\n")
            for c, rep, nsent, lats, lost, extra in lat_any:
                n = len(lats)
                step = max(1, n // 2000)
                for i in range(0, n, step):
                    f.write("%.4f %.5f\n" % (max(lats[i], 1) / 1e3, (i + 1) / n))
                f.write("%.4f 1\n\n\n" % (max(lats[-1], 1) / 1e3))
        top = max(x[3][-1] for x in lat_any) / 1e3
        xmax = 10 ** max(1, math.ceil(math.log10(max(top, 1e-3))))
        plot = ", \\\n     ".join(
            "'{o}/latency_cdf.dat' index {i} using 1:2 with lines lw 2 title '{c} rep {r} ({n} findings)'"
            .format(o=out, i=i, c=x[0], r=x[1], n=len(x[3])) for i, x in enumerate(lat_any))
        scripts.append("""
set output '{o}/latency_cdf.png'
set title "consentry: detection latency, write() returned -> finding read (CDF)\\n(<= 1 us drawn at 1 us: finding written before write() returned)"
set xlabel 'latency (ms, log scale)'
set ylabel 'fraction of findings'
unset xtics
set xtics auto
set logscale x 10
set xrange [0.001:{xmax}]
set yrange [0:1.02]
set grid
set key bottom right
set arrow 1 from 5, graph 0 to 5, graph 1 nohead lc rgb 'red' dt 2
set label 1 'target: p99 <= 5 ms' at 5, graph 0.5 right offset -0.5,0 tc rgb 'red'
set arrow 2 from graph 0, first 0.99 to graph 1, first 0.99 nohead lc rgb 'gray' dt 3
plot {p}
unset arrow 1
unset arrow 2
unset label 1
""".format(o=out, p=plot, xmax=xmax))
        made.append(os.path.join(out, "latency_cdf.png"))
    if cap:
        with open(os.path.join(out, "capacity.dat"), "w") as f:
            f.write("# asked_rate written_per_s lag_ms drops status(1 pass, 0 fail, 2 "
                    "client-limited), one block per capture\n")
            cap_caps = [c for c in caps if any(r["capture"] == c for r in cap)]
            for c in cap_caps:
                for r in (r for r in cap if r["capture"] == c):
                    f.write("%s %.0f %.1f %s %d\n" % (
                        r["rate"], float(r["written"]) / float(r["seconds"]),
                        float(r["drain_ms"]), r["ringbuf_drops"],
                        {"yes": 1, "no": 0, "client": 2}[r["pass"]]))
                f.write("\n\n")
        scripts.append("""
set output '{o}/capacity.png'
set title 'consentry: findings written per second vs rate asked (UDP sends, one value each)'
set xlabel 'findings per second asked'
set ylabel 'findings written per second'
unset logscale
unset arrow
unset label
set xrange [0:*]
set yrange [0:*]
set xtics auto
set format x '%.0s%c'
set format y '%.0s%c'
set grid
set key bottom right
set arrow 3 from 100000, graph 0 to 100000, graph 1 nohead lc rgb 'red' dt 2
set label 3 'target 100k/s, 0 drops' at 100000, graph 0.95 left offset 0.5,0 tc rgb 'red'
plot x with lines dt 2 lc rgb 'gray' title 'written = asked'{p}
""".format(o=out, p="".join(
            ", \\\n     '{o}/capacity.dat' index {i} using 1:($5 == {s} ? $2 : 1/0) with points "
            "pt {pt} ps 1.5 lc rgb '{col}' title '{c}: {what}'".format(
                o=out, i=i, s=s, pt=pt + 2 * i, col=col, c=c, what=what)
            for i, c in enumerate(cap_caps)
            for s, pt, col, what in ((1, 7, "dark-green", "pass (0 drops, all written in time)"),
                                     (0, 2, "red", "fail (drops or lag)"),
                                     (2, 8, "orange", "sender could not reach the rate")))))
        made.append(os.path.join(out, "capacity.png"))
    if not scripts:
        return made
    gp = "set terminal pngcairo size 900,560 noenhanced font ',10'\n" + "".join(scripts)
    try:
        r = subprocess.run(["gnuplot"], input=gp, text=True, capture_output=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as e:
        print("gnuplot failed: %s" % e, file=sys.stderr)
        return []
    if r.returncode != 0:
        # gnuplot-nox may lack pngcairo; fall back to the libgd png terminal
        gp = gp.replace("pngcairo size 900,560 noenhanced font ',10'", "png size 900,560 noenhanced")
        r = subprocess.run(["gnuplot"], input=gp, text=True, capture_output=True, timeout=60)
        if r.returncode != 0:
            print("gnuplot failed:\n" + r.stderr, file=sys.stderr)
            return []
    return made


if __name__ == "__main__":
    main()

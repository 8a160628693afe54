#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Report of scripts/bench: reads the raw rows of one run from --work, prints the tables and the
issue-5 targets, writes results.csv, the raw CSVs and the gnuplot plots into --out.

Inputs (written by scripts/bench):
  runs.csv          one row per off/on run (sweep, http, https, floor, bulk, limit) and per
                    latency run
  bulk.json         the bulk phase's body: bytes, rows, enrolled rows, distinct subjects
  progs.csv         phase,workload,rep,prog,run_time_ns,run_cnt: per-program deltas of on runs
  capacity.csv      one row per capacity step
  lat-sent-R.txt    "seq subject t_ns" per message, stamped after write() returned
  lat-found-R.txt   "subject t_ns" per finding, stamped when the reader got it
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

TARGETS = {
    "tcp1024": 0.6,
    "tcp65536": 0.8,
    "http": 0.95,
    "lat_p99_ms": 5.0,
    "cap_rate": 100000,
    "scan_ns_per_byte": 0.5,
    "fixed_ns_per_send": 150.0,
    "nonegress_ns_per_write": 100.0,
}


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


def main():
    ap = argparse.ArgumentParser()
    for a in ("work", "out", "peer", "ns", "payload", "http-scope", "phases"):
        ap.add_argument("--" + a, required=True)
    for a in ("subjects", "fingerprints", "reps", "secs", "http-secs", "http-conns", "lat-rate",
              "cap-lag-ms", "quick", "bulk-conns", "bulk-secs", "limit-old"):
        ap.add_argument("--" + a, type=int, required=True)
    ap.add_argument("--elapsed", type=float, required=True)
    args = ap.parse_args()
    work, out = args.work, args.out
    os.makedirs(out, exist_ok=True)
    res = Results(os.path.join(out, "results.csv"))
    runs = read_csv(os.path.join(work, "runs.csv"))
    progs = read_csv(os.path.join(work, "progs.csv"))
    cap = read_csv(os.path.join(work, "capacity.csv"))
    for name in ("runs.csv", "progs.csv", "capacity.csv"):
        if os.path.exists(os.path.join(work, name)):
            shutil.copy(os.path.join(work, name), os.path.join(out, name))

    meas = {}  # target key -> measured value (for the final table)
    print("consentry bench%s: peer %s (veth, netns %s), %d subjects / %d fingerprints, "
          "%d rep(s), %.0f s total" % (" --quick" if args.quick else "", args.peer, args.ns,
                                       args.subjects, args.fingerprints, args.reps, args.elapsed))
    res("meta", "run", "quick", args.quick)
    res("meta", "run", "reps", args.reps)
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
    for r in runs:
        k = (r["phase"], r["workload"])
        if k not in order:
            order.append(k)
        by[(r["phase"], r["workload"], r["mode"])].append(r)

    def paired_ratios(ph, wl, key="value"):
        off = {r["rep"]: float(r[key]) for r in by[(ph, wl, "off")]}
        on = {r["rep"]: float(r[key]) for r in by[(ph, wl, "on")]}
        return [on[k] / off[k] for k in on if k in off and off[k] > 0]

    # ---- 1. sweep
    sweep = [wl for ph, wl in order if ph == "sweep"]
    plot_rows = []
    if sweep:
        print("\n1. throughput, iperf3 to the peer (%s payload, %d s per run); ratio = on/off medians,"
              " spread = per-rep on/off" % (args.payload, args.secs))
        print("%-20s %-30s %-30s %s" % ("workload", "off (median, min-max)", "on (median, min-max)",
                                        "ratio (spread)"))
        for wl in sweep:
            off = [float(r["value"]) for r in by[("sweep", wl, "off")]]
            on = [float(r["value"]) for r in by[("sweep", wl, "on")]]
            if not off or not on:
                continue
            ratio = median(on) / median(off) if median(off) > 0 else float("nan")
            pr = paired_ratios("sweep", wl)
            sp = " (%.2f-%.2f)" % (min(pr), max(pr)) if len(pr) > 1 else ""
            print("%-20s %-30s %-30s %.2f%s" % (wl_label(wl), rate_cell(off), rate_cell(on),
                                                ratio, sp))
            for m, v in (("off", off), ("on", on)):
                res("throughput", wl_label(wl), m + "_median", median(v), "bit/s")
                res("throughput", wl_label(wl), m + "_min", min(v), "bit/s")
                res("throughput", wl_label(wl), m + "_max", max(v), "bit/s")
            res("throughput", wl_label(wl), "ratio", ratio)
            if pr:
                res("throughput", wl_label(wl), "ratio_min", min(pr))
                res("throughput", wl_label(wl), "ratio_max", max(pr))
            if wl in ("tcp1024", "tcp65536"):
                meas[wl] = ratio
            if wl[:3] in ("tcp", "udp"):
                plot_rows.append((wl[:3], int(wl[3:]), ratio, min(pr) if pr else ratio,
                                  max(pr) if pr else ratio))

    # ---- 2./3. http, https
    for ph in ("http", "https"):
        if not by[(ph, ph, "off")] or not by[(ph, ph, "on")]:
            continue
        client = "wrk" if ph == "http" else "csbench load (Go crypto/tls, stripped)"
        print("\n%d. %s: Go net/http%s server on this host, JSON 1-16 KiB, %s with %d connections "
              "from the peer, %d s per run, monitor scope %s" % (
                  2 if ph == "http" else 3, ph.upper(), " + crypto/tls" if ph == "https" else "",
                  client, args.http_conns, args.http_secs, args.http_scope))
        print("%-14s %-28s %-28s %s" % ("metric", "off (median, min-max)", "on (median, min-max)",
                                        "on/off (spread)"))
        for key, name, unit, fmt in (("value", "requests/s", "req/s", lambda x: "%.0f" % x),
                                     ("p50_us", "latency p50", "us", lambda x: "%.0f" % x),
                                     ("p99_us", "latency p99", "us", lambda x: "%.0f" % x)):
            off = [float(r[key]) for r in by[(ph, ph, "off")]]
            on = [float(r[key]) for r in by[(ph, ph, "on")]]
            ratio = median(on) / median(off) if median(off) > 0 else float("nan")
            pr = paired_ratios(ph, ph, key)
            sp = " (%.2f-%.2f)" % (min(pr), max(pr)) if len(pr) > 1 else ""
            u = " us" if unit == "us" else ""
            print("%-14s %-28s %-28s %.2f%s" % (name, cell(off, fmt, u), cell(on, fmt, u), ratio, sp))
            item = ph + " " + name
            res(ph, item, "off_median", median(off), unit)
            res(ph, item, "on_median", median(on), unit)
            res(ph, item, "off_min", min(off), unit)
            res(ph, item, "off_max", max(off), unit)
            res(ph, item, "on_min", min(on), unit)
            res(ph, item, "on_max", max(on), unit)
            res(ph, item, "ratio", ratio)
            if key == "value":
                meas[ph] = ratio
            else:
                meas[ph + "_" + key] = ratio
        tax_rows = by[(ph, ph, "tax")]
        if tax_rows:
            # the third mode: only empty syscall tracepoint programs attached, no monitor
            off_rows = by[(ph, ph, "off")]
            print("%-14s %-28s" % ("tax mode", "tax (median, min-max)"))
            for key, name, unit, fmt in (("value", "requests/s", "req/s", lambda x: "%.0f" % x),
                                         ("p50_us", "latency p50", "us", lambda x: "%.0f" % x),
                                         ("p99_us", "latency p99", "us", lambda x: "%.0f" % x)):
                off = median([float(r[key]) for r in off_rows])
                on = median([float(r[key]) for r in by[(ph, ph, "on")]])
                tax = [float(r[key]) for r in tax_rows]
                mt = median(tax)
                tax_off = mt / off if off else float("nan")
                on_tax = on / mt if mt else float("nan")
                u = " us" if unit == "us" else ""
                print("%-14s %-28s tax/off %.2f, on/tax %.2f" % (name, cell(tax, fmt, u), tax_off, on_tax))
                item = ph + " " + name
                res(ph, item, "tax_median", mt, unit)
                res(ph, item, "tax_ratio", tax_off)
                res(ph, item, "on_over_tax", on_tax)
                if key == "value":
                    meas[ph + "_tax"] = tax_off
            print("   tax: no monitor, two empty syscall tracepoint programs attached (every syscall "
                  "of the host takes the slow path);\n   tax/off is what any syscall-tracepoint "
                  "monitor costs before doing any work, on/tax what consentry adds to it")
        on_rows = by[(ph, ph, "on")]
        sends = sum(float(r["sends"]) for r in on_rows)
        insp = sum(float(r["bytes_inspected"]) for r in on_rows)
        findings = sum(float(r["findings"]) for r in on_rows)
        reqs = sum(float(r["value"]) * float(r["seconds"]) for r in on_rows)
        tls_calls = sum(float(r["tls_calls"]) for r in on_rows)
        print("   on runs: %.0f egress sends scanned (%.2f per request), %.0f B inspected per send, "
              "%.0f findings (%.1f/s)" % (sends, sends / reqs if reqs else 0,
                                          insp / sends if sends else 0, findings,
                                          findings / sum(float(r["seconds"]) for r in on_rows)))
        res(ph, "on runs", "sends", sends)
        res(ph, "on runs", "bytes_inspected", insp, "B")
        res(ph, "on runs", "findings", findings)
        if ph == "https":
            print("   TLS uprobe runs: %.0f (%.2f per request)" % (tls_calls, tls_calls / reqs
                                                                  if reqs else 0))
            res(ph, "on runs", "tls_uprobe_runs", tls_calls)

    # ---- where the HTTP cost goes: the floor phase (cost-floor builds of the monitor)
    floor = [(m, by[("floor", "http", m)]) for m in ("off", "copy", "classify", "on")]
    if all(rows for _, rows in floor):
        print("\nwhere the HTTP cost goes (phase floor, the http workload again): copy and classify "
              "are cost-floor builds of the monitor\n(make BPF_EXTRA=-DCS_FLOOR=1, 2) that detect "
              "nothing; ratio = mode/off medians, spread = per-rep")
        print("%-10s %-28s %-16s %-20s %s" % ("mode", "requests/s (median, min-max)", "ratio (spread)",
                                              "ns per egress send", "ns per inspected byte"))
        off_by_rep = {r["rep"]: float(r["value"]) for r in floor[0][1]}
        off_med = median(list(off_by_rep.values()))
        for m, rows in floor:
            v = [float(r["value"]) for r in rows]
            ratio = median(v) / off_med if off_med > 0 else float("nan")
            pr = [float(r["value"]) / off_by_rep[r["rep"]] for r in rows
                  if off_by_rep.get(r["rep"], 0) > 0]
            sp = " (%.2f-%.2f)" % (min(pr), max(pr)) if len(pr) > 1 else ""
            sends = sum(float(r["sends"]) for r in rows)
            insp = sum(float(r["bytes_inspected"]) for r in rows)
            ns = sum(float(r["sendpath_ns"]) for r in rows)
            per_send = ns / sends if sends else float("nan")
            per_byte = ns / insp if insp else float("nan")
            print("%-10s %-28s %-16s %-20s %s" % (
                m, cell(v, lambda x: "%.0f" % x), "%.2f%s" % (ratio, sp),
                "-" if m == "off" else "%.0f" % per_send,
                "-" if m == "off" else "%.2f" % per_byte))
            res("floor", m, "requests_per_s_median", median(v), "req/s")
            res("floor", m, "ratio", ratio)
            if m != "off":
                res("floor", m, "ns_per_egress_send", per_send, "ns")
                res("floor", m, "ns_per_inspected_byte", per_byte, "ns/B")
        print("   copy: the probes, the socket lookup and the copy of every payload, no scan; "
              "classify: + the byte classes and\n   the runs to tokenise, no tokens; on: the "
              "monitor. Any in-kernel inspection of every byte pays at least copy.")

    # ---- 4. BPF cost
    # other builds (floor) and the --scan-limit runs (limit mode): reported in their sections
    progs = [r for r in progs if r["phase"] != "floor" and not r["workload"].endswith("/limit")]
    if progs:
        print("\n4. BPF cost (kernel.bpf_stats_enabled over the on runs; tp_scan is reached by tail "
              "call, its time counts in the caller)")
        phases = []
        agg = defaultdict(lambda: [0.0, 0.0])
        for r in progs:
            if r["phase"] not in phases:
                phases.append(r["phase"])
            a = agg[(r["phase"], r["prog"])]
            a[0] += float(r["run_time_ns"])
            a[1] += float(r["run_cnt"])
        names = []
        for r in progs:
            if r["prog"] not in names:
                names.append(r["prog"])
        print("%-16s" % "ns/call (calls)" + "".join("%-22s" % p for p in phases))
        for n in names:
            row = []
            any_calls = False
            for p in phases:
                ns, cnt = agg[(p, n)]
                if cnt > 0:
                    any_calls = True
                    row.append("%-22s" % ("%.0f (%s)" % (ns / cnt, human(cnt))))
                    res("bpf", "%s %s" % (p, n), "ns_per_call", ns / cnt, "ns")
                    res("bpf", "%s %s" % (p, n), "calls", int(cnt))
                else:
                    row.append("%-22s" % "-")
            if any_calls:
                print("%-16s" % n + "".join(row))

    # scan cost. Fixed cost per egress send: the intercept of the line through the two
    # smallest writes of one protocol (TCP 64 B and 1 KiB): what a send costs before its first
    # byte is scanned. Scan cost per byte: at the largest inspected size per send, the fixed
    # cost removed.
    pts = []
    for wl in sweep:
        if wl == "dd64":
            continue
        on = by[("sweep", wl, "on")]
        sends = sum(float(r["sends"]) for r in on)
        insp = sum(float(r["bytes_inspected"]) for r in on)
        ns = sum(float(r["sendpath_ns"]) for r in on)
        if sends > 0:
            pts.append((wl, insp / sends, ns / sends, ns / insp if insp else float("nan"), sends))
    if pts:
        print("\n%-20s %12s %14s %12s %12s" % ("scan cost (on runs)", "sends", "insp B/send",
                                                "ns/send", "ns/insp B"))
        for wl, b, ns, nsb, sends in pts:
            print("%-20s %12.0f %14.0f %12.0f %12.2f" % (wl_label(wl), sends, b, ns, nsb))
            res("scan", wl_label(wl), "sends", int(sends))
            res("scan", wl_label(wl), "inspected_per_send", b, "B")
            res("scan", wl_label(wl), "ns_per_send", ns, "ns")
            res("scan", wl_label(wl), "ns_per_inspected_byte", nsb, "ns/B")
    fixed = slope = float("nan")
    small = []
    for proto in ("tcp", "udp"):
        sp = sorted((p for p in pts if p[0].startswith(proto)), key=lambda p: p[1])
        if len(sp) >= 2 and sp[1][1] > sp[0][1]:
            small = sp[:2]
            break
    if small:
        (w1, x1, y1, _, _), (w2, x2, y2, _, _) = small
        marg = (y2 - y1) / (x2 - x1)
        fixed = y1 - marg * x1
        print("fixed cost per egress send: %.0f ns (line through %s and %s: %.2f ns per extra "
              "byte)" % (fixed, wl_label(w1), wl_label(w2), marg))
        res("scan", "fixed", "ns_per_egress_send", fixed, "ns")
        res("scan", "fixed", "marginal_ns_per_byte_small_writes", marg, "ns/B")
        meas["fixed_ns_per_send"] = fixed
    if pts and not math.isnan(fixed):
        wl, x, y, _, _ = max(pts, key=lambda p: p[1])
        slope = (y - fixed) / x
        print("scan cost: %.2f ns per scanned byte at %s (%.0f B inspected per send, fixed cost "
              "removed; %s payload)" % (slope, wl_label(wl), x, args.payload))
        res("scan", "largest", "ns_per_scanned_byte", slope, "ns/B")
        meas["scan_ns_per_byte"] = slope
    for ph in ("http", "https"):
        on = by[(ph, ph, "on")]
        sends = sum(float(r["sends"]) for r in on)
        insp = sum(float(r["bytes_inspected"]) for r in on)
        ns = sum(float(r["sendpath_ns"]) + float(r["tls_ns"]) for r in on)
        if sends > 0 and insp > 0:
            line = "%s JSON responses: %.0f ns per egress send all-in, %.2f ns per inspected " \
                "byte all-in" % (ph, ns / sends, ns / insp)
            res("scan", ph + " json", "ns_per_send_all_in", ns / sends, "ns")
            res("scan", ph + " json", "ns_per_inspected_byte_all_in", ns / insp, "ns/B")
            if not math.isnan(fixed) and ph == "http":
                jb = (ns - fixed * sends) / insp
                line += ", %.2f ns/B after the fixed cost" % jb
                res("scan", ph + " json", "ns_per_inspected_byte", jb, "ns/B")
                meas["scan_json_ns_per_byte"] = jb
            print(line)
    dd = by[("sweep", "dd64", "on")]
    wc = sum(float(r["tp_write_calls"]) for r in dd)
    if wc > 0:
        nw = sum(float(r["tp_write_ns"]) for r in dd) / wc
        print("non-egress write: %.1f ns per call (tp_write, dd bs=64 to /dev/null, %s calls)"
              % (nw, human(wc)))
        res("non_egress_write", "tp_write dd /dev/null", "ns_per_call", nw, "ns")
        meas["nonegress_ns_per_write"] = nw

    # ---- bulk export and the old scan limit (phases bulk, limit): off, on, limit side by side
    bulk_body = {}
    if os.path.exists(os.path.join(work, "bulk.json")):
        with open(os.path.join(work, "bulk.json")) as f:
            bulk_body = json.load(f)
    for ph, wl in (("bulk", "bulk"), ("limit", None)):
        wls = [w for p, w in order if p == ph]
        if not wls or not by[(ph, wls[0], "off")]:
            continue
        wl = wls[0]
        if ph == "bulk":
            body = bulk_body.get("bytes", 0)
            print("\nbulk export (phase bulk): %d connections from this host POST a %s B CSV "
                  "(%s rows, %s enrolled, %s distinct subjects)\nover HTTP/1.1 to the peer, %d s "
                  "per run, monitor host-wide; limit = the monitor with --scan-limit %d, the old "
                  "default" % (args.bulk_conns, "{:,}".format(body), bulk_body.get("rows", "?"),
                               bulk_body.get("enrolled_rows", "?"),
                               bulk_body.get("subjects", "?"), args.bulk_secs, args.limit_old))
        else:
            body = 0
            print("\nwhole sends against the old %d B limit (phase limit): iperf3 %s to the peer "
                  "(%s payload, %d s per run);\non = every byte of a send scanned (the default), "
                  "limit = --scan-limit %d, the rest of each send counted uninspected" % (
                      args.limit_old, wl_label(wl), args.payload, args.secs, args.limit_old))
        modes_table(ph, wl, by, body, meas.get("fixed_ns_per_send"), res)

    # ---- collector
    coll = []
    for ph, mode in (("sweep", "on"), ("http", "on"), ("https", "on"), ("bulk", "on"),
                     ("bulk", "limit"), ("limit", "on"), ("limit", "limit"), ("latency", "on")):
        on = [r for r in runs if r["phase"] == ph and r["mode"] == mode]
        if ph == "sweep":
            on = [r for r in on if r["workload"] != "dd64"]
        if not on:
            continue
        if mode != "on":
            ph += " " + mode
        cpu = sum(float(r["cpu_s"]) for r in on)
        secs = sum(float(r["mon_seconds"]) for r in on)
        rss = max(float(r["rss_kib"]) for r in on) / 1024
        hwm = max(float(r["hwm_kib"]) for r in on) / 1024
        coll.append((ph, cpu, secs, rss, hwm))
    capok = [r for r in cap if r["pass"] in ("yes", "client")]
    if capok:
        top = max(capok, key=lambda r: int(r["achieved"]))
        coll.append(("capacity %s/s" % human(int(top["achieved"])), float(top["cpu_s"]),
                     float(top["mon_seconds"]), float(top["rss_kib"]) / 1024, float("nan")))
    if coll:
        print("\ncollector (utime+stime of the monitor process from ready to SIGINT, RSS at the end)")
        for ph, cpu, secs, rss, hwm in coll:
            print("  %-18s cpu %.2f s over %.0f s (%.1f%% of one CPU), rss %.1f MiB%s" % (
                ph, cpu, secs, 100 * cpu / secs if secs else 0, rss,
                "" if math.isnan(hwm) else " (peak %.1f MiB)" % hwm))
            res("collector", ph, "cpu", cpu, "s")
            res("collector", ph, "cpu_share", 100 * cpu / secs if secs else 0, "%")
            res("collector", ph, "rss", rss, "MiB")
            if not math.isnan(hwm):
                res("collector", ph, "rss_peak", hwm, "MiB")

    # ---- 5. detection latency
    lat_all = []
    lat_rows = []
    reps = sorted(int(f[9:-4]) for f in os.listdir(work)
                  if f.startswith("lat-sent-") and f.endswith(".txt"))
    for rep in reps:
        sent = defaultdict(deque)
        nsent = 0
        with open(os.path.join(work, "lat-sent-%d.txt" % rep)) as f:
            for line in f:
                seq, subj, t = line.split()
                sent[subj].append((int(seq), int(t)))
                nsent += 1
        lats = []
        extra = 0
        fpath = os.path.join(work, "lat-found-%d.txt" % rep)
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
                    lat_rows.append((rep, seq, subj, ts, int(t), (int(t) - ts) / 1e3))
        lost = nsent - len(lats)
        lats.sort()
        lat_all.append((rep, nsent, lats, lost, extra))
    if lat_all:
        with open(os.path.join(out, "latency.csv"), "w") as f:
            f.write("rep,seq,subject,sent_ns,found_ns,latency_us\n")
            for r in lat_rows:
                f.write("%d,%d,%s,%d,%d,%.1f\n" % r)
        print("\n5. detection latency: write() returned -> finding read from the monitor's output "
              "(%d msg/s, one registered value each)" % args.lat_rate)
        print("%-6s %8s %8s %6s %10s %10s %10s %10s" % ("rep", "sent", "matched", "lost", "p50",
                                                        "p90", "p99", "max"))
        p50s, p99s, maxs = [], [], []
        for rep, nsent, lats, lost, extra in lat_all:
            if not lats:
                print("%-6d %8d %8d %6d" % (rep, nsent, 0, lost))
                continue
            p50, p90, p99, mx = pct(lats, 50), pct(lats, 90), pct(lats, 99), lats[-1]
            p50s.append(p50)
            p99s.append(p99)
            maxs.append(mx)
            print("%-6d %8d %8d %6d %10s %10s %10s %10s" % (rep, nsent, len(lats), lost, us(p50),
                                                            us(p90), us(p99), us(mx)))
            res("latency", "rep %d" % rep, "p50", p50, "us")
            res("latency", "rep %d" % rep, "p99", p99, "us")
            res("latency", "rep %d" % rep, "max", mx, "us")
            res("latency", "rep %d" % rep, "lost", lost)
        if p99s:
            print("median of reps: p50 %s (%s-%s), p99 %s (%s-%s), max %s (%s-%s)" % (
                us(median(p50s)), us(min(p50s)), us(max(p50s)), us(median(p99s)), us(min(p99s)),
                us(max(p99s)), us(median(maxs)), us(min(maxs)), us(max(maxs))))
            res("latency", "all", "p50_median", median(p50s), "us")
            res("latency", "all", "p99_median", median(p99s), "us")
            res("latency", "all", "p99_max", max(p99s), "us")
            res("latency", "all", "max_median", median(maxs), "us")
            res("latency", "all", "lost", sum(x[3] for x in lat_all))
            meas["lat_p99_ms"] = median(p99s) / 1e3
            meas["lat_lost"] = sum(x[3] for x in lat_all)

    # ---- 6. capacity
    if cap:
        print("\n6. event capacity: UDP messages at a fixed rate, one registered value (finding) "
              "each; pass = 0 ring-buffer drops, all findings written, last one <= %d ms after the "
              "last send" % args.cap_lag_ms)
        best = []
        limited = []
        at100 = []
        for rep in sorted({int(r["rep"]) for r in cap}):
            rows = [r for r in cap if int(r["rep"]) == rep]
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
                if int(r["rate"]) == TARGETS["cap_rate"]:
                    at100.append(int(r["ringbuf_drops"]))
            print("  rep %d: %s" % (rep, steps))
            res("capacity", "rep %d" % rep, "max_rate_0_drops", best[-1], "findings/s")
        print("highest rate with 0 drops: %s%s findings/s (min-max %s-%s)%s" % (
            ">= " if all(limited) else "", human(median(best)), human(min(best)), human(max(best)),
            "; the sender could not go faster (client-limited), the collector kept up"
            if any(limited) else ""))
        res("capacity", "all", "max_rate_0_drops_median", median(best), "findings/s")
        res("capacity", "all", "max_rate_0_drops_min", min(best), "findings/s")
        meas["cap_rate"] = median(best)
        meas["cap_limited"] = all(limited)
        meas["cap_at100"] = at100

    # ---- plots
    plots = gnuplot(out, plot_rows, lat_all, cap)
    if plots:
        print("\nplots: " + ", ".join(plots))

    # ---- targets
    print("\nissue-5 targets%s" % (" (--quick: 1 short run each, not a measurement)"
                                   if args.quick else ""))
    print("%-46s %-12s %-30s %s" % ("target", "wanted", "measured", ""))
    rows = []

    def tgt(name, wanted, value, ok, shown=None):
        if value is None or (isinstance(value, float) and math.isnan(value)):
            rows.append((name, wanted, "not measured", ""))
            res("target", name, "measured", "", "")
            return
        rows.append((name, wanted, shown if shown is not None else fnum(value), "ok" if ok else
                     "MISSED"))
        res("target", name, "measured", value)
        res("target", name, "met", int(bool(ok)))

    tgt("throughput ratio, TCP 1 KiB writes", ">= 0.6", meas.get("tcp1024"),
        meas.get("tcp1024", 0) >= 0.6, fmt2(meas.get("tcp1024")))
    tgt("throughput ratio, TCP 64 KiB writes", ">= 0.8", meas.get("tcp65536"),
        meas.get("tcp65536", 0) >= 0.8, fmt2(meas.get("tcp65536")))
    tgt("realistic HTTP requests/s ratio", ">= 0.95", meas.get("http"),
        meas.get("http", 0) >= 0.95,
        None if "http" not in meas else fmt2(meas["http"]) +
        (" (tax alone %.2f)" % meas["http_tax"] if "http_tax" in meas else ""))
    tgt("realistic HTTPS requests/s ratio", ">= 0.95", meas.get("https"),
        meas.get("https", 0) >= 0.95, fmt2(meas.get("https")))
    tgt("detection latency p99", "<= 5 ms", meas.get("lat_p99_ms"),
        meas.get("lat_p99_ms", 1e9) <= 5 and meas.get("lat_lost", 0) == 0,
        None if "lat_p99_ms" not in meas else "%.2f ms%s" % (
            meas["lat_p99_ms"], "" if not meas.get("lat_lost") else ", %d lost" % meas["lat_lost"]))
    a100 = meas.get("cap_at100")
    if a100 is not None:
        shown = ("drops at 100k/s: %s; max %s%s/s" % (
            "/".join(str(d) for d in a100) if a100 else "not reached",
            ">= " if meas["cap_limited"] else "", human(meas["cap_rate"])))
        tgt("0 ring-buffer drops at 100k findings/s", "0 drops", meas["cap_rate"],
            meas["cap_rate"] >= 100000 and all(d == 0 for d in a100), shown)
    else:
        tgt("0 ring-buffer drops at 100k findings/s", "0 drops", None, False)
    tgt("in-kernel scan cost (iperf3 %s payload)" % args.payload, "<= 0.5 ns/B", meas.get("scan_ns_per_byte"),
        meas.get("scan_ns_per_byte", 1e9) <= 0.5,
        None if "scan_ns_per_byte" not in meas else "%.2f ns/B" % meas["scan_ns_per_byte"])
    if "scan_json_ns_per_byte" in meas:
        tgt("in-kernel scan cost (HTTP JSON bodies)", "<= 0.5 ns/B", meas["scan_json_ns_per_byte"],
            meas["scan_json_ns_per_byte"] <= 0.5, "%.2f ns/B" % meas["scan_json_ns_per_byte"])
    tgt("fixed cost per egress send", "<= 150 ns", meas.get("fixed_ns_per_send"),
        meas.get("fixed_ns_per_send", 1e9) <= 150,
        None if "fixed_ns_per_send" not in meas else "%.0f ns" % meas["fixed_ns_per_send"])
    tgt("fixed cost per non-egress write", "<= 100 ns", meas.get("nonegress_ns_per_write"),
        meas.get("nonegress_ns_per_write", 1e9) <= 100,
        None if "nonegress_ns_per_write" not in meas else "%.0f ns" % meas["nonegress_ns_per_write"])
    for r in rows:
        print("%-46s %-12s %-30s %s" % r)
    if foreign:
        print("WARNING: other consentry monitors were loaded during %d run(s) (runs.csv column "
              "foreign_monitors): those runs are slowed" % foreign)
    res.f.close()
    print("\nresults: %s" % os.path.join(out, "results.csv"))


def fmt2(x):
    return None if x is None else "%.2f" % x


def modes_table(ph, wl, by, body, fixed, res):
    """off, on and limit runs of one workload side by side: throughput and its ratio to off,
    then what the monitor did per send and per inspected byte (bpf_stats of the syscall
    tracepoints, tp_scan included) and the collector's CPU per inspected byte."""
    off = [float(r["value"]) for r in by[(ph, wl, "off")]]
    off_rep = {r["rep"]: float(r["value"]) for r in by[(ph, wl, "off")]}
    print("%-6s %-30s %-16s %9s %9s %11s %9s %10s %12s %10s" % (
        "mode", "throughput (median, min-max)", "ratio (spread)", "req/s", "ns/send",
        "insp B/send", "insp/sent", "ns/insp B", "after fixed", "coll ns/B"))
    for mode in ("off", "on", "limit"):
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
                after = (ns - fixed * sends) / insp if fixed is not None else float("nan")
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
        print("%-6s %-30s %-16s %9s %9s %11s %9s %10s %12s %10s" % (
            mode, rate_cell(v), "%.2f%s" % (ratio, sp),
            "%.0f" % (reqs / secs) if reqs and secs else "-", *cells))
    for mode in ("on", "limit"):
        rows = by[(ph, wl, mode)]
        if not rows:
            continue
        findings = sum(float(r["findings"]) for r in rows)
        lost = sum(float(r.get("hits_lost") or 0) for r in rows)
        drops = sum(float(r["ringbuf_drops"]) for r in rows)
        reqs = sum(float(r["value"]) * float(r["seconds"]) for r in rows) / (8 * body) \
            if body else 0
        print("   %-5s %s%.0f hits lost with the ring full, %.0f ring-buffer drops" % (
            mode, "%.0f findings per request, " % (findings / reqs) if reqs else "", lost, drops))
        res(ph, "%s %s" % (wl_label(wl), mode), "hits_lost_ring_full", int(lost))
        res(ph, "%s %s" % (wl_label(wl), mode), "ringbuf_drops", int(drops))
    on = by[(ph, wl, "on")]
    lim = by[(ph, wl, "limit")]
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
            print("   whole sends vs --scan-limit: throughput on/limit %.2f; probe %.2f vs %.2f ns "
                  "per byte sent (%+.2f)" % (r_on / r_lim if r_lim else float("nan"), per_on,
                                             per_lim, per_on - per_lim))
            res(ph, wl_label(wl), "on_over_limit", r_on / r_lim if r_lim else float("nan"))
            res(ph, wl_label(wl), "probe_ns_per_sent_byte_on", per_on, "ns/B")
            res(ph, wl_label(wl), "probe_ns_per_sent_byte_limit", per_lim, "ns/B")
    print("   ns/send, ns/insp B: bpf_stats of the syscall tracepoints (tp_scan included) over all "
          "egress sends of the host;\n   after fixed: the fixed cost per send (sweep) removed; "
          "coll ns/B: the collector's CPU time per inspected byte")


def human(x):
    x = float(x)
    if x >= 1e6:
        return "%.3gM" % (x / 1e6)
    if x >= 1e3:
        return "%.3gk" % (x / 1e3)
    return "%.0f" % x


def us(x):
    return "%.0f us" % x if abs(x) < 1000 else "%.2f ms" % (x / 1000)


def gnuplot(out, ratio_rows, lat_all, cap):
    """Writes the .dat files and draws ratio.png, latency_cdf.png, capacity.png."""
    made = []
    if not shutil.which("gnuplot"):
        print("gnuplot not found: no plots", file=sys.stderr)
        return made
    scripts = []
    if ratio_rows:
        with open(os.path.join(out, "ratio.dat"), "w") as f:
            f.write("# proto size_bytes ratio ratio_min ratio_max\n")
            for proto in ("tcp", "udp"):
                for p, s, r, lo, hi in sorted(x for x in ratio_rows if x[0] == proto):
                    f.write("%s %d %.4f %.4f %.4f\n" % (p, s, r, lo, hi))
                f.write("\n\n")
        with open(os.path.join(out, "ratio_targets.dat"), "w") as f:
            f.write("1024 0.6\n65536 0.8\n")
        scripts.append("""
set output '{o}/ratio.png'
set title 'consentry: throughput with the monitor on / off (iperf3 to a netns peer)'
set xlabel 'bytes per write (log scale)'
set ylabel 'throughput ratio on/off'
set logscale x 2
set xrange [32:131072]
set yrange [0:1.2]
set xtics ('64 B' 64, '256 B' 256, '1 KiB' 1024, '4 KiB' 4096, '16 KiB' 16384, '64 KiB' 65536)
set grid
set key bottom right
plot '{o}/ratio.dat' index 0 using 2:3:4:5 with yerrorlines lw 2 pt 7 title 'TCP (median, min-max of reps)', \\
     '{o}/ratio.dat' index 1 using 2:3:4:5 with yerrorlines lw 2 pt 5 title 'UDP', \\
     '{o}/ratio_targets.dat' using 1:2 with points pt 9 ps 2.5 lc rgb 'red' title 'issue-5 target (TCP, at least)', \\
     1 with lines dt 2 lc rgb 'gray' notitle
""".format(o=out))
        made.append(os.path.join(out, "ratio.png"))
    lat_any = [x for x in lat_all if x[2]]
    if lat_any:
        with open(os.path.join(out, "latency_cdf.dat"), "w") as f:
            f.write("# latency_ms cumulative_fraction, one block per repetition\n")
            for rep, nsent, lats, lost, extra in lat_any:
                n = len(lats)
                step = max(1, n // 2000)
                for i in range(0, n, step):
                    f.write("%.4f %.5f\n" % (max(lats[i], 1) / 1e3, (i + 1) / n))
                f.write("%.4f 1\n\n\n" % (max(lats[-1], 1) / 1e3))
        top = max(x[2][-1] for x in lat_any) / 1e3
        xmax = 10 ** max(1, math.ceil(math.log10(max(top, 1e-3))))
        plot = ", \\\n     ".join(
            "'{o}/latency_cdf.dat' index {i} using 1:2 with lines lw 2 title 'rep {r} ({n} findings)'"
            .format(o=out, i=i, r=x[0], n=len(x[2])) for i, x in enumerate(lat_any))
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
            f.write("# asked_rate written_per_s lag_ms drops status(1 pass, 0 fail, 2 client-limited)\n")
            for r in cap:
                f.write("%s %.0f %.1f %s %d\n" % (
                    r["rate"], float(r["written"]) / float(r["seconds"]), float(r["drain_ms"]),
                    r["ringbuf_drops"], {"yes": 1, "no": 0, "client": 2}[r["pass"]]))
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
set key top left
set arrow 3 from 100000, graph 0 to 100000, graph 1 nohead lc rgb 'red' dt 2
set label 3 'target 100k/s, 0 drops' at 100000, graph 0.95 left offset 0.5,0 tc rgb 'red'
plot x with lines dt 2 lc rgb 'gray' title 'written = asked', \\
     '{o}/capacity.dat' using 1:($5 == 1 ? $2 : 1/0) with points pt 7 ps 1.5 lc rgb 'dark-green' title 'pass: 0 drops, all written in time', \\
     '{o}/capacity.dat' using 1:($5 == 0 ? $2 : 1/0) with points pt 2 ps 2 lc rgb 'red' title 'fail: drops or lag', \\
     '{o}/capacity.dat' using 1:($5 == 2 ? $2 : 1/0) with points pt 8 ps 1.5 lc rgb 'orange' title 'sender could not reach the rate'
""".format(o=out))
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

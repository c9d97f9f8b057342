#!/usr/bin/env python3
"""Zumik ops benchmarks, side by side with the peers, on loopback. Prints one table.

usage: bench.py [--bin-dir DIR] [--only 1,2,3,4,5,6,7] [--out FILE] [--build-seconds S]
See Benchmarks/README.md for what each figure means and how it is taken.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import subprocess
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import agent  # noqa: E402
import detect  # noqa: E402
import locations  # noqa: E402
import probe  # noqa: E402
import status  # noqa: E402
import tokens  # noqa: E402
import zumik  # noqa: E402
from common import Results, log  # noqa: E402


def sh(argv: list[str]) -> str:
    try:
        p = subprocess.run(argv, capture_output=True, timeout=10)
        return (p.stdout or p.stderr).decode(errors="replace").strip().splitlines()[0]
    except (OSError, subprocess.TimeoutExpired, IndexError):
        return "n/a"


def machine() -> str:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
            mem = f", {kb / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    load = os.getloadavg()[0]
    return (f"{os.cpu_count()} × {cpu}{mem}, Linux {platform.release()}, "
            f"load average {load:.2f} at start")


def commit() -> str:
    c = sh(["git", "-C", zumik.ROOT, "rev-parse", "--short=12", "HEAD"])
    dirty = subprocess.run(["git", "-C", zumik.ROOT, "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True).stdout.strip()
    return c + (" (with uncommitted changes)" if dirty else "")


def versions() -> str:
    return "; ".join([
        "nginx " + sh(["/usr/sbin/nginx", "-v"]).split("/")[-1],
        "curl " + sh(["curl", "--version"]).split()[1] if sh(["curl", "--version"]) != "n/a" else "curl n/a",
        "blackbox_exporter " + (sh(["prometheus-blackbox-exporter", "--version"]).split(" ")[2:3] or ["n/a"])[0],
        "webhook " + sh(["webhook", "-version"]).split()[-1],
        sh(["wrk", "-v"]).split(" [")[0],
        "Python " + platform.python_version(),
    ])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin-dir", default=os.path.join(zumik.ROOT, ".build", "release"))
    ap.add_argument("--agent")
    ap.add_argument("--monitor")
    ap.add_argument("--actions")
    ap.add_argument("--plugin-dir")
    ap.add_argument("--source-root", help="package root holding Plugins/*/manifest.json (default: this repo)")
    ap.add_argument("--only", default="1,2,3,4,5,6,7", help="comma-separated sections")
    ap.add_argument("--quick", action="store_true", help="fewer repetitions (development only)")
    ap.add_argument("--out", help="write the markdown report here (e.g. Benchmarks/results/latest.md)")
    ap.add_argument("--build-seconds", type=float, default=None)
    ap.add_argument("--label", help="a line saying what kind of run this is (e.g. development, debug build)")
    args = ap.parse_args()

    bins = zumik.Binaries.resolve(args.bin_dir, args.agent, args.monitor, args.actions, args.plugin_dir,
                                  args.source_root)
    only = {s.strip() for s in args.only.split(",")}
    if args.out and only != {"1", "2", "3", "4", "5", "6", "7"} and os.path.basename(args.out) == "latest.md":
        # latest.md is the whole table; a partial run goes beside it and does not replace it.
        args.out = os.path.join(os.path.dirname(args.out), "partial.md")
    res = Results()
    started = time.monotonic()
    header_machine = machine()
    reps = 1 if args.quick else 3
    sections = [
        ("1", "probe engine vs blackbox_exporter vs curl", lambda: probe.measure(res, bins, reps=reps)),
        ("2", "ops-agent vs webhook", lambda: agent.measure_dispatch(res, bins)),
        ("3", "detection time", lambda: detect.measure(res, bins, trials=10, k=10)),
        ("4", "model cost", lambda: tokens.measure(res, bins)),
        ("5", "agent start-up", lambda: agent.measure_startup(res, bins, reps=reps)),
        ("6", "status page with 90 days of history", lambda: status.measure(res, bins, quick=args.quick)),
        ("7", "many locations on PostgreSQL vs one on SQLite", lambda: locations.measure(res, bins, quick=args.quick)),
    ]
    timings = []
    for key, title, fn in sections:
        if key not in only:
            continue
        t0 = time.monotonic()
        log(f"== {key}. {title}")
        try:
            fn()
        except Exception as e:  # a broken section must not take the table down with it
            traceback.print_exc()
            res.missing(key, title, f"harness error: {type(e).__name__}: {e}")
        timings.append(f"{key}: {time.monotonic() - t0:.0f} s")
    total = time.monotonic() - started

    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Zumik ops benchmarks",
        "",
    ] + ([f"> {args.label}", ""] if args.label else []) + [
        f"- date: {now}",
        f"- machine: {header_machine}",
        f"- commit: {commit()}",
        f"- binaries: {bins.agent}, {bins.monitor}, {bins.actions}",
        f"- peers: {versions()}",
        f"- harness time: {total:.0f} s ({', '.join(timings)})"
        + (f"; release build {args.build_seconds:.0f} s (not counted)" if args.build_seconds is not None else ""),
        "",
        res.markdown(),
        "",
    ]
    if res.notes:
        lines += ["Notes:", ""] + [f"- {n}" for n in res.notes] + [""]
    lines.append("Method: Benchmarks/README.md. Ratios are Zumik ÷ peer (lower is better for times, CPU and "
                 "memory; higher is better for runs/s).")
    report = "\n".join(lines) + "\n"
    print(report)
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as f:
            f.write(report)
        log(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

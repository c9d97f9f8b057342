"""Measurement 6: the status page's server time with 90 days of history, and the store's size.

One `zumik-monitor run` with 50 properties (interval 60 s, each probing the monitor's own /healthz, so no
other server is needed) and `status_page.public: true`. Once it answers, 90 days of daily roll-ups and 14 days
of hourly roll-ups (the default retention) per property are written into its store, as the roll-up service
would have written them (zumik.seed_history). Then GET /status (HTML) and GET /v1/status-page (JSON) are
requested one after another on one keep-alive connection: 20 warm-ups, then 200 measured requests each,
timed from sending the request to reading the whole answer (loopback, so this is the server's time plus
the transfer). The monitor runs with `--log-level debug --log-format json`, so each page also logs its
in-process split ("status page served": `status.read_ms`, the store's reads and the assembly;
`status.render_ms`, the HTML or JSON), reported as p50 / p95 beside the outside figure. The store's size is
the SQLite file after a WAL checkpoint.
"""

from __future__ import annotations

import http.client
import json
import os
import time

import zumik
from common import LOOPBACK, BenchError, Daemon, Results, TempDir, fmt_ms, http_get, log, percentile, verdict, wait_http

PROPERTIES = 50
DAYS = 90
HOURLY_DAYS = 14
WARMUP = 20
MEASURED = 200


def _timed_gets(port: int, path: str, count: int) -> list[float]:
    conn = http.client.HTTPConnection(LOOPBACK, port, timeout=30)
    times = []
    try:
        for _ in range(count):
            t0 = time.perf_counter()
            conn.request("GET", path)
            r = conn.getresponse()
            body = r.read()
            times.append(time.perf_counter() - t0)
            if r.status != 200 or not body:
                raise BenchError(f"GET {path}: HTTP {r.status}")
    finally:
        conn.close()
    return times


def _split(log_path: str, path: str, count: int) -> tuple[list[float], list[float]]:
    """The last `count` in-process timings the monitor logged for `path`: (read ms, render ms)."""
    read, render = [], []
    with open(log_path, "rb") as f:
        for line in f:
            if b"status page served" not in line:
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            meta = entry.get("metadata", entry)
            if meta.get("http.path") == path:
                read.append(float(meta["status.read_ms"]))
                render.append(float(meta["status.render_ms"]))
    return read[-count:], render[-count:]


def measure(res: Results, bins: zumik.Binaries, quick: bool = False) -> None:
    tmp = TempDir()
    try:
        port = zumik.free_port()
        props = [zumik.Property(f"property-{i:02d}", f"http://{LOOPBACK}:{port}/healthz") for i in range(PROPERTIES)]
        text = zumik.monitor_config(tmp, props, name="status", interval_s=60,
                                    extra="status_page:\n  title: Benchmark\n  public: true\n")
        text = "\n".join(f"  listen: \"{LOOPBACK}:{port}\"" if line.startswith("  listen:") else line
                         for line in text.splitlines()) + "\n"
        cfg = tmp.file("status.yaml", text)
        store = zumik.store_path_of(text)
        argv, env = zumik.monitor_run_command(bins, cfg)
        argv += ["--log-level", "debug", "--log-format", "json"]
        with Daemon("monitor-status", argv, env=env, log_dir=tmp.path) as monitor:
            wait_http(port, "/healthz", lambda s, _: s == 200, proc=monitor.proc)
            midnight = time.time() // 86400 * 86400
            t0 = time.monotonic()
            rows = zumik.seed_history(store, [p.name for p in props], DAYS, HOURLY_DAYS, midnight)
            log(f"  seeded {rows} roll-up rows in {time.monotonic() - t0:.1f} s")
            size = sum(os.path.getsize(f) for f in (store, store + "-wal") if os.path.exists(f))
            status, body = http_get(port, "/v1/status-page")
            if status != 200 or body.count(b'"downtime_minutes"') != PROPERTIES * DAYS:
                raise BenchError(f"/v1/status-page did not show {DAYS} days for {PROPERTIES} properties")
            measured = MEASURED // 4 if quick else MEASURED
            for path, what in (("/status", "HTML"), ("/v1/status-page", "JSON")):
                _timed_gets(port, path, WARMUP)
                times = _timed_gets(port, path, measured)
                p50, p95 = percentile(times, 50), percentile(times, 95)
                res.add("6", f"status page GET {path} ({what}), {DAYS} days × {PROPERTIES} properties: p50 / p95",
                        f"{fmt_ms(p50)} / {fmt_ms(p95)}", "", "", "p95 < 50 ms", verdict(p95 < 0.050))
                read, render = _split(monitor.log_path, path, measured)
                if len(read) == measured:
                    res.add("6", f"  in the monitor: reading and assembling / rendering {what}: p50 / p95",
                            f"{percentile(read, 50):.1f} / {percentile(read, 95):.1f} ms, "
                            f"{percentile(render, 50):.1f} / {percentile(render, 95):.1f} ms", "", "", "", "")
                else:
                    log(f"  no in-process timings for {path} in the monitor's log ({len(read)} of {measured})")
            res.add("6", f"store size: {DAYS} days daily + {HOURLY_DAYS} days hourly roll-ups × {PROPERTIES} properties",
                    f"{size / 1_048_576:.1f} MB", "", "", "a few MB", verdict(size < 5 * 1_048_576))
            if not monitor.alive():
                raise BenchError(f"zumik-monitor exited: {monitor.log_tail(5)}")
    finally:
        tmp.cleanup()

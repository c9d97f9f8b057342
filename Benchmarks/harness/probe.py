"""Measurement 1: one full probe cycle of N loopback HTTP targets, fresh connections.

Zumik's probe engine (`zumik-monitor check`, one cycle) vs curl (`--parallel`, `Connection: close`) vs
prometheus-blackbox-exporter (its /probe endpoint, driven 64 at a time by curl --parallel).
All three hit the same local nginx, which closes every connection (keepalive_timeout 0).
"""

from __future__ import annotations

import os
import time
import urllib.parse

import zumik
from common import (BenchError, Daemon, Results, TempDir, fmt_mb, fmt_ms, fmt_us, free_port, log, median, nginx,
                    proc_cpu_s, proc_status_kb, ratio, run_measured, verdict, wait_http)

CONCURRENCY = 64


def target_urls(port: int, n: int, run: str) -> list[str]:
    # A distinct path per target and a unique query (the cache-bypass a monitor does).
    return [f"http://127.0.0.1:{port}/t/{i:04d}?bench={run}-{i}" for i in range(n)]


def run_curl(tmp: TempDir, urls: list[str], curl: str = "/usr/bin/curl"):
    cfg = ["silent", 'header = "Connection: close"', 'header = "Cache-Control: no-cache"',
           'write-out = "%{http_code}\\n"', "max-time = 10"]
    for u in urls:
        cfg.append(f'url = "{u}"')
        cfg.append('output = "/dev/null"')
    path = tmp.file(f"curl-{len(urls)}.cfg", "\n".join(cfg) + "\n")
    r = run_measured([curl, "--parallel", "--parallel-max", str(CONCURRENCY), "-K", path], timeout=60)
    codes = r.stdout.decode().split()
    good = sum(1 for c in codes if c == "200")
    if r.returncode != 0 or good != len(urls):
        raise BenchError(f"curl: exit {r.returncode}, {good}/{len(urls)} answered 200: {r.stderr[-300:]!r}")
    return r


def run_ours(tmp: TempDir, bins: zumik.Binaries, urls: list[str]):
    cfg = tmp.file(f"monitor-check-{len(urls)}.yaml", zumik.monitor_config(
        tmp, [zumik.Property(f"t{i:04d}", u) for i, u in enumerate(urls)], name=f"check-{len(urls)}",
        max_in_flight=CONCURRENCY))
    argv, env = zumik.monitor_check_command(bins, cfg)
    r = run_measured(argv, timeout=120, env=env)
    healthy = zumik.count_healthy_in_check_output(r.stdout, len(urls))
    if r.returncode != 0 or healthy < len(urls):
        raise BenchError(f"zumik-monitor check exited {r.returncode} ({healthy} healthy of {len(urls)}): "
                         f"{(r.stderr or r.stdout)[-400:].decode(errors='replace')}")
    return r


class Blackbox:
    def __init__(self, tmp: TempDir, binary: str = "/usr/bin/prometheus-blackbox-exporter"):
        if not os.access(binary, os.X_OK):
            raise BenchError(f"{binary} missing (apt-get install prometheus-blackbox-exporter)")
        conf = tmp.file("blackbox.yml", """modules:
  http_2xx:
    prober: http
    timeout: 10s
    http:
      method: GET
      valid_status_codes: [200]
      preferred_ip_protocol: ip4
      ip_protocol_fallback: false
      headers:
        Connection: close
        Cache-Control: no-cache
""")
        self.port = free_port()
        self.daemon = Daemon("blackbox", [binary, f"--config.file={conf}",
                                          f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"],
                             log_dir=tmp.path)
        wait_http(self.port, "/-/healthy", lambda s, b: s == 200, proc=self.daemon.proc)

    def cycle(self, tmp: TempDir, urls: list[str], curl: str = "/usr/bin/curl") -> dict:
        """One cycle through /probe, driven by curl --parallel (64 at a time, keep-alive to the exporter)."""
        cfg = ["silent", "max-time = 30"]
        for u in urls:
            cfg.append(f'url = "http://127.0.0.1:{self.port}/probe?module=http_2xx&target={urllib.parse.quote(u, safe="")}"')
        path = tmp.file(f"bb-{len(urls)}.cfg", "\n".join(cfg) + "\n")
        cpu0 = proc_cpu_s(self.daemon.pid)
        r = run_measured([curl, "--parallel", "--parallel-max", str(CONCURRENCY), "-K", path], timeout=120)
        exporter_cpu = proc_cpu_s(self.daemon.pid) - cpu0
        ok = r.stdout.count(b"\nprobe_success 1\n")
        if r.returncode != 0 or ok != len(urls):
            raise BenchError(f"blackbox: {ok}/{len(urls)} probes succeeded (curl exit {r.returncode})")
        return {"wall_s": r.wall_s, "exporter_cpu_s": exporter_cpu, "driver_cpu_s": r.cpu_s}

    def peak_rss_kb(self) -> int:
        return proc_status_kb(self.daemon.pid, "VmHWM")

    def stop(self):
        self.daemon.stop()


def measure(res: Results, bins: zumik.Binaries, sizes=(100, 1000), reps: int = 3) -> None:
    tmp = TempDir("zumik-bench-probe-")
    try:
        with nginx(tmp) as port:
            startup = _startup_cpu(tmp, bins, port, reps)
            for n in sizes:
                _measure_n(res, tmp, bins, port, n, reps, startup)
    except BenchError as e:
        res.missing("1", "probe cycle", str(e))
    finally:
        tmp.cleanup()


def _startup_cpu(tmp: TempDir, bins: zumik.Binaries, port: int, reps: int) -> float | None:
    """CPU of `zumik-monitor check` with a single property: the process's fixed cost (start-up, config, exit)."""
    runs = []
    for rep in range(reps + 1):
        try:
            r = run_ours(tmp, bins, target_urls(port, 1, f"s{rep}-{time.monotonic_ns()}"))
        except BenchError:
            return None
        if rep:
            runs.append(r.cpu_s)
    return median(runs)


def _measure_n(res: Results, tmp: TempDir, bins: zumik.Binaries, port: int, n: int, reps: int,
               startup: float | None) -> None:
    sec = f"1 N={n}"
    log(f"probe cycle N={n}: curl, zumik-monitor check, blackbox_exporter ({reps} runs each after a warm-up)")
    curl_runs, ours_runs, bb_runs = [], [], []
    ours_error = None
    bb_error = None
    for rep in range(reps + 1):
        tag = f"{n}-{rep}-{time.monotonic_ns()}"
        c = run_curl(tmp, target_urls(port, n, "c" + tag))
        if rep:
            curl_runs.append(c)
        if ours_error is None:
            try:
                o = run_ours(tmp, bins, target_urls(port, n, "z" + tag))
                if rep:
                    ours_runs.append(o)
            except BenchError as e:
                ours_error = str(e)
    bb = None
    try:
        bb = Blackbox(tmp)
        for rep in range(reps + 1):
            r = bb.cycle(tmp, target_urls(port, n, f"b{n}-{rep}"))
            if rep:
                bb_runs.append(r)
        bb_hwm = bb.peak_rss_kb()
    except BenchError as e:
        bb_error = str(e)
    finally:
        if bb:
            bb.stop()

    curl_wall = median([r.wall_s for r in curl_runs])
    curl_cpu = median([r.cpu_s for r in curl_runs]) / n
    curl_rss = max(r.maxrss_kb for r in curl_runs)
    if bb_runs:
        bb_wall = median([r["wall_s"] for r in bb_runs])
        bb_cpu = median([r["exporter_cpu_s"] for r in bb_runs]) / n
        bb_driver_cpu = median([r["driver_cpu_s"] for r in bb_runs]) / n
    else:
        res.notes.append(f"blackbox_exporter N={n}: {bb_error}")
        bb_wall = bb_cpu = bb_driver_cpu = float("nan")
        bb_hwm = 0

    if ours_runs:
        wall = median([r.wall_s for r in ours_runs])
        cpu = median([r.cpu_s for r in ours_runs]) / n
        rss = max(r.maxrss_kb for r in ours_runs)
        res.add(sec, "cycle wall time (vs curl)", fmt_ms(wall), f"curl {fmt_ms(curl_wall)}", ratio(wall, curl_wall),
                "≤ 1.10× curl", verdict(wall <= 1.10 * curl_wall))
        res.add(sec, "cycle wall time (vs blackbox)", fmt_ms(wall), f"blackbox {fmt_ms(bb_wall)}",
                ratio(wall, bb_wall))
        res.add(sec, "CPU per probe, whole process (vs blackbox exporter)", fmt_us(cpu), f"blackbox {fmt_us(bb_cpu)}",
                ratio(cpu, bb_cpu))
        if startup is not None:
            # The exporter is long-running: its figure has no start-up in it. Compare like with like.
            marginal = max(median([r.cpu_s for r in ours_runs]) - startup, 0.0) / n
            res.add(sec, "CPU per probe, start-up excluded (vs blackbox exporter)", fmt_us(marginal),
                    f"blackbox {fmt_us(bb_cpu)}", ratio(marginal, bb_cpu), "≤ 0.5× blackbox",
                    verdict(marginal <= 0.5 * bb_cpu) if bb_runs else "n/a")
        res.add(sec, "CPU per probe (vs curl)", fmt_us(cpu), f"curl {fmt_us(curl_cpu)}", ratio(cpu, curl_cpu))
        res.add(sec, "peak RSS", fmt_mb(rss),
                f"curl {fmt_mb(curl_rss)}; blackbox {fmt_mb(bb_hwm) if bb_hwm else 'n/a'}", ratio(rss, bb_hwm))
    else:
        res.missing(sec, "probe engine (zumik-monitor check)", ours_error or "no runs")
        res.add(sec, "cycle wall time: curl / blackbox", "", f"{fmt_ms(curl_wall)} / {fmt_ms(bb_wall)}")
        res.add(sec, "CPU per probe: curl / blackbox", "", f"{fmt_us(curl_cpu)} / {fmt_us(bb_cpu)}")
    if startup is not None and n == 100:
        res.notes.append(f"zumik-monitor check with 1 property uses {fmt_ms(startup)} CPU (start-up, config, exit); "
                         "it is subtracted for the start-up-excluded figure.")
    if bb_runs:
        res.notes.append(f"N={n}: the blackbox driver (curl --parallel, keep-alive to the exporter) used "
                         f"{fmt_us(bb_driver_cpu)} CPU per probe on top of the exporter's {fmt_us(bb_cpu)}; "
                         "Zumik and curl figures are whole processes (start-up included).")

"""Measurement 1: one full probe cycle of N loopback HTTP targets, fresh connections, as N grows.

Zumik's probe engine inside a running monitor (`zumik-monitor run`: the cycle's wall time from the monitor's own
`probe cycle done` line, its CPU from /proc) and as a one-shot process (`zumik-monitor check`), vs curl
(`--parallel`, `Connection: close`, a whole process) vs prometheus-blackbox-exporter (a running daemon: its
/probe endpoint, driven 64 at a time by curl --parallel). All hit the same local nginx, which closes every
connection (keepalive_timeout 0). The running monitor's cold start (exec until its first cycle is recorded)
is its own row.
"""

from __future__ import annotations

import os
import time
import urllib.parse

import zumik
from common import (BenchError, Daemon, Results, TempDir, fmt_mb, fmt_ms, fmt_us, free_port, http_get, log, median,
                    nginx, proc_cpu_ns_s, proc_status_kb, ratio, run_measured, verdict, wait_http)

CONCURRENCY = 64
SIZES = (10, 100, 1000, 5000)
AIM_SIZES = (100, 1000, 5000)  # "a 100-URL cycle at most 1.1× curl", and at scale
COLD_START_N = 100


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


def run_monitor(tmp: TempDir, bins: zumik.Binaries, urls: list[str], cycles: int) -> dict:
    """A running `zumik-monitor run` probing `urls` every interval: its cold start (exec until the first cycle
    is recorded), then `cycles` cycles after one warm-up cycle. Each cycle's wall time is the monitor's own
    (`probe cycle done`); its CPU is the process's between the end of one cycle and the end of the next (so the
    idle rest of the interval is in it, as it is for a monitor that runs)."""
    n = len(urls)
    interval = 1.0 if n <= 100 else 2.0 if n <= 1000 else 10.0  # well above the cycle, so cycles never overlap
    text = zumik.monitor_config(tmp, [zumik.Property(f"t{i:04d}", u) for i, u in enumerate(urls)],
                                name=f"run-{n}", interval_s=interval, max_in_flight=CONCURRENCY)
    cfg = tmp.file(f"monitor-run-{n}.yaml", text)
    argv, env = zumik.monitor_run_command(bins, cfg)
    t0 = time.monotonic()
    monitor = Daemon(f"monitor-run-{n}", argv, env=env, log_dir=tmp.path)
    lines = zumik.CycleLog(monitor.log_path)
    try:
        props, first, seen = lines.next(60, monitor.proc)
        out = {"cold_start_s": seen - t0, "first_cycle_s": first, "interval_s": interval, "wall_s": [], "cpu_s": []}
        if props != n:
            raise BenchError(f"the first cycle held {props} of {n} properties")
        props, _, _ = lines.next(interval + 60, monitor.proc)  # warm-up
        cpu = proc_cpu_ns_s(monitor.pid)
        for _ in range(cycles):
            props, wall, _ = lines.next(interval + 60, monitor.proc)
            now_cpu = proc_cpu_ns_s(monitor.pid)
            if props != n:
                split = (f"; the first cycle took {first:.1f} s, longer than the {interval:.0f} s interval, so the "
                         f"schedule split into smaller cycles" if first > interval else "")
                raise BenchError(f"a cycle held {props} of {n} properties (cycles overlapped or a probe failed{split})")
            out["wall_s"].append(wall)
            out["cpu_s"].append(now_cpu - cpu)
            cpu = now_cpu
        out["hwm_kb"] = proc_status_kb(monitor.pid, "VmHWM")
        # Cross-check with what the monitor exports: every probe healthy, and the cycle histogram agrees.
        port = zumik.control_port_of(text)
        status, body = http_get(port, "/metrics", timeout=60)
        if status != 200:
            raise BenchError(f"GET /metrics: HTTP {status}")
        sums = zumik.monitor_metric_sums(body, ("zumik_monitor_probes_total", "zumik_monitor_cycle_duration_seconds_sum",
                                                "zumik_monitor_cycle_duration_seconds_count"))
        failed = {k: v for k, v in sums.items() if k.startswith("zumik_monitor_probes_total") and "healthy" not in k}
        if any(failed.values()):
            raise BenchError(f"not every probe was healthy: {failed}")
        out["metric_cycles"] = sums.get("zumik_monitor_cycle_duration_seconds_count", 0)
        out["metric_mean_s"] = sums.get("zumik_monitor_cycle_duration_seconds_sum", 0) / max(out["metric_cycles"], 1)
        return out
    finally:
        lines.close()
        monitor.stop()


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
        cpu0 = proc_cpu_ns_s(self.daemon.pid)
        r = run_measured([curl, "--parallel", "--parallel-max", str(CONCURRENCY), "-K", path], timeout=120)
        exporter_cpu = proc_cpu_ns_s(self.daemon.pid) - cpu0
        ok = r.stdout.count(b"\nprobe_success 1\n")
        if r.returncode != 0 or ok != len(urls):
            raise BenchError(f"blackbox: {ok}/{len(urls)} probes succeeded (curl exit {r.returncode})")
        return {"wall_s": r.wall_s, "exporter_cpu_s": exporter_cpu, "driver_cpu_s": r.cpu_s}

    def peak_rss_kb(self) -> int:
        return proc_status_kb(self.daemon.pid, "VmHWM")

    def stop(self):
        self.daemon.stop()


def reps_for(n: int, reps: int) -> int:
    """Measured runs per tool at N: a cycle of a few tens of milliseconds varies by a third from run to run on a
    shared machine, so small N take 11 (cheap) for a steadier median; N = 5,000 takes 5 (its monitor cycles are
    10 s apart)."""
    if reps <= 1:
        return reps
    return 5 if n >= 5000 else 11


def measure(res: Results, bins: zumik.Binaries, sizes=SIZES, reps: int = 3) -> None:
    tmp = TempDir("zumik-bench-probe-")
    try:
        with nginx(tmp) as port:
            for n in sizes:
                _measure_n(res, tmp, bins, port, n, reps_for(n, reps))
    except BenchError as e:
        res.missing("1", "probe cycle", str(e))
    finally:
        tmp.cleanup()


def _peers(tmp: TempDir, bins: zumik.Binaries, port: int, n: int, reps: int) -> dict:
    """curl, the one-shot `check` and the blackbox exporter: one warm-up, then `reps` runs each."""
    out = {"curl": [], "check": [], "bb": [], "check_error": None, "bb_error": None, "bb_hwm": 0}
    for rep in range(reps + 1):
        tag = f"{n}-{rep}-{time.monotonic_ns()}"
        c = run_curl(tmp, target_urls(port, n, "c" + tag))
        if rep:
            out["curl"].append(c)
        if out["check_error"] is None:
            try:
                o = run_ours(tmp, bins, target_urls(port, n, "z" + tag))
                if rep:
                    out["check"].append(o)
            except BenchError as e:
                out["check_error"] = str(e)
    bb = None
    try:
        bb = Blackbox(tmp)
        for rep in range(reps + 1):
            r = bb.cycle(tmp, target_urls(port, n, f"b{n}-{rep}"))
            if rep:
                out["bb"].append(r)
        out["bb_hwm"] = bb.peak_rss_kb()
    except BenchError as e:
        out["bb_error"] = str(e)
    finally:
        if bb:
            bb.stop()
    return out


def _measure_n(res: Results, tmp: TempDir, bins: zumik.Binaries, port: int, n: int, reps: int) -> None:
    sec = f"1 N={n}"
    log(f"probe cycle N={n}: curl, zumik-monitor check, blackbox_exporter ({reps} runs each after a warm-up), "
        f"zumik-monitor run ({reps} cycles after a warm-up)")
    peers = _peers(tmp, bins, port, n, reps)
    running, run_error = None, None
    try:
        running = run_monitor(tmp, bins, target_urls(port, n, f"m{n}"), reps)
    except BenchError as e:
        run_error = str(e)

    curl_wall = median([r.wall_s for r in peers["curl"]])
    curl_cpu = median([r.cpu_s for r in peers["curl"]]) / n
    curl_rss = max(r.maxrss_kb for r in peers["curl"])
    if peers["bb"]:
        bb_wall = median([r["wall_s"] for r in peers["bb"]])
        bb_cpu = median([r["exporter_cpu_s"] for r in peers["bb"]]) / n
        bb_driver_cpu = median([r["driver_cpu_s"] for r in peers["bb"]]) / n
    else:
        res.notes.append(f"blackbox_exporter N={n}: {peers['bb_error']}")
        bb_wall = bb_cpu = bb_driver_cpu = float("nan")
    bb_hwm = peers["bb_hwm"]
    keep = {"curl_wall_s": curl_wall, "curl_cpu_per_probe_s": curl_cpu, "bb_wall_s": bb_wall,
            "bb_cpu_per_probe_s": bb_cpu}

    if running:
        wall = median(running["wall_s"])
        cpu = median(running["cpu_s"]) / n
        keep.update(run_wall_s=wall, run_cpu_per_probe_s=cpu, cold_start_s=running["cold_start_s"])
        aim = "≤ 1.10× curl" if n in AIM_SIZES else ""
        res.add(sec, "cycle wall time, running monitor (vs curl)", fmt_ms(wall), f"curl {fmt_ms(curl_wall)}",
                ratio(wall, curl_wall), aim, verdict(wall <= 1.10 * curl_wall) if aim else "")
        res.add(sec, "cycle wall time, running monitor (vs blackbox)", fmt_ms(wall), f"blackbox {fmt_ms(bb_wall)}",
                ratio(wall, bb_wall))
        res.add(sec, "CPU per probe, running monitor (vs blackbox exporter)", fmt_us(cpu), f"blackbox {fmt_us(bb_cpu)}",
                ratio(cpu, bb_cpu), "≤ 0.5× blackbox", verdict(cpu <= 0.5 * bb_cpu) if peers["bb"] else "n/a")
        res.add(sec, "CPU per probe, running monitor (vs curl)", fmt_us(cpu), f"curl {fmt_us(curl_cpu)}",
                ratio(cpu, curl_cpu))
        if n == COLD_START_N:
            cold = running["cold_start_s"]
            res.add(sec, "cold start: exec of zumik-monitor run → first cycle recorded", fmt_ms(cold),
                    f"curl whole process {fmt_ms(curl_wall)}", ratio(cold, curl_wall), "", "")
        res.add(sec, "peak RSS, running monitor", fmt_mb(running["hwm_kb"]),
                f"curl {fmt_mb(curl_rss)}; blackbox {fmt_mb(bb_hwm) if bb_hwm else 'n/a'}",
                ratio(running["hwm_kb"], bb_hwm))
        spread = f"{fmt_ms(min(running['wall_s']))}–{fmt_ms(max(running['wall_s']))}"
        res.notes.append(
            f"N={n}: running monitor (interval {running['interval_s']:.0f} s): cycles {spread}; cold start "
            f"{fmt_ms(running['cold_start_s'])} of which the first cycle {fmt_ms(running['first_cycle_s'])}; "
            f"its zumik_monitor_cycle_duration_seconds counted {running['metric_cycles']:.0f} cycles, mean "
            f"{fmt_ms(running['metric_mean_s'])}.")
    else:
        res.missing(sec, "running monitor (zumik-monitor run)", run_error or "no cycles")
    if peers["check"]:
        check_wall = median([r.wall_s for r in peers["check"]])
        check_cpu = median([r.cpu_s for r in peers["check"]]) / n
        keep.update(check_wall_s=check_wall, check_cpu_per_probe_s=check_cpu)
        res.add(sec, "one-shot zumik-monitor check process: wall time (vs curl)", fmt_ms(check_wall),
                f"curl {fmt_ms(curl_wall)}", ratio(check_wall, curl_wall), "", f"CPU/probe {fmt_us(check_cpu)}")
    else:
        res.missing(sec, "one-shot zumik-monitor check", peers["check_error"] or "no runs")
    if peers["bb"]:
        res.notes.append(f"N={n}: the blackbox driver (curl --parallel, keep-alive to the exporter) used "
                         f"{fmt_us(bb_driver_cpu)} CPU per probe on top of the exporter's {fmt_us(bb_cpu)}.")
    res.keep("probe", str(n), keep)

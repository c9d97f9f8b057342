"""Measurements 2 and 5: the ops-agent vs webhook, the spawn floor, and agent start-up.

2. An action that runs /bin/true, through zumik-ops-agent (POST /v1/actions/{id}/run) and through Debian's
   webhook (include-command-output-in-response: true, so both answer after the command has finished), with
   wrk at concurrency 1 and 8; the floor is posix_spawn + waitpid of /bin/true from C. The authenticated
   catalog (GET /v1/actions) with wrk. Idle RSS of both daemons.
5. Agent start-up: from exec until /healthz answers and the catalog lists every action, with 0, 2 and 50
   signed bundles.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time

import zumik
from common import (BenchError, Daemon, Results, TempDir, fmt_mb, fmt_ms, free_port, log, median, proc_status_kb,
                    ratio, run_measured, verdict, wait_port)

HERE = os.path.dirname(os.path.abspath(__file__))
ACTIONS = 16  # distinct /bin/true actions (own lock each): c1 cycles all, c8 thread t uses t and t+8
WRK_SECONDS = int(os.environ.get("ZUMIK_BENCH_WRK_SECONDS", "5"))


def rss_breakdown(pid: int) -> dict[str, int]:
    """Resident kB of process `pid` by what is mapped (/proc/PID/smaps), plus its thread count."""
    parts: dict[str, int] = {}
    name = ""
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            head = line.split(None, 5)
            if head and re.fullmatch(r"[0-9a-f]+-[0-9a-f]+", head[0]):
                name = head[5].strip() if len(head) > 5 else ""
                continue
            if not line.startswith("Rss:"):
                continue
            base = os.path.basename(name)
            if "zumik-ops-agent" in base:
                part = "binary"
            elif base.startswith(("libswift", "libdispatch", "libBlocksRuntime")):
                part = "Swift runtime"
            elif "FoundationICU" in base or "FoundationInternationalization" in base:
                part = "Foundation i18n + ICU"
            elif base.startswith("libFoundation"):
                part = "Foundation"
            elif base.startswith(("libc.", "libm.", "libstdc++", "libgcc_s", "ld-linux", "libz", "libcrypto")):
                part = "C/C++ runtime"
            elif "zumik-bundle" in name:
                part = "bundles"
            elif name == "[stack]" or name.startswith("[stack"):
                part = "main stack"
            elif name in ("", "[heap]") or name.startswith("[anon"):
                part = "heap + anonymous (arenas, thread stacks)"
            else:
                part = "other"
            parts[part] = parts.get(part, 0) + int(line.split()[1])
    parts["threads"] = len(os.listdir(f"/proc/{pid}/task"))
    return parts


def fmt_breakdown(parts: dict[str, int]) -> str:
    sizes = sorted(((k, v) for k, v in parts.items() if k != "threads"), key=lambda kv: -kv[1])
    return "; ".join(f"{k} {fmt_mb(v)}" for k, v in sizes if v >= 50) + f"; {parts.get('threads', 0)} threads"


def wrk(url: str, threads: int, conns: int, seconds: int, env_extra: dict) -> dict:
    env = dict(os.environ, **env_extra)
    argv = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{seconds}s", "--timeout", "10s",
            "-s", os.path.join(HERE, "wrk_paths.lua"), url]
    p = subprocess.run(argv, env=env, capture_output=True, timeout=seconds + 30)
    m = re.search(rb"ZBJSON (\{.*\})", p.stdout)
    if p.returncode != 0 or not m:
        raise BenchError(f"wrk failed ({p.returncode}): {(p.stderr or p.stdout)[-300:]!r}")
    out = json.loads(m.group(1))
    out["rps"] = out["requests"] / (out["duration_us"] / 1e6)
    out["errors"] = sum(out[k] for k in ("connect", "read", "write", "status", "timeout"))
    return out


def wrk_paths_env(paths: list[str], conns: int) -> dict:
    if conns == 1:
        return {"ZB_PATHS": ",".join(paths)}
    per = {f"ZB_PATHS_{t}": ",".join(paths[t::conns]) for t in range(conns)}
    return per


def spawn_floor(tmp: TempDir) -> dict:
    exe = os.path.join(tmp.path, "spawn_floor")
    subprocess.run(["gcc", "-O2", "-o", exe, os.path.join(HERE, "spawn_floor.c")], check=True, capture_output=True)
    r = run_measured([exe, "3000", "15", os.path.join(tmp.path, "fsync-floor.jsonl")], timeout=60)
    if r.returncode != 0:
        raise BenchError(f"spawn_floor failed: {r.stdout!r} {r.stderr!r}")
    return json.loads(r.stdout)


class Webhook:
    def __init__(self, tmp: TempDir, ids: list[str], binary: str = "/usr/bin/webhook"):
        if not os.access(binary, os.X_OK):
            raise BenchError(f"{binary} missing (apt-get install webhook)")
        hooks = [{"id": i, "execute-command": "/bin/true", "command-working-directory": "/",
                  "include-command-output-in-response": True, "http-methods": ["POST"]} for i in ids]
        path = tmp.file("hooks.json", json.dumps(hooks))
        self.port = free_port()
        self.daemon = Daemon("webhook", [binary, "-hooks", path, "-ip", "127.0.0.1", "-port", str(self.port)],
                             log_dir=tmp.path)
        wait_port(self.port, proc=self.daemon.proc)


def _agent_sides(res: Results, tmp: TempDir, bins: zumik.Binaries, floor: dict | None) -> None:
    ids = [f"bench_true_{i:02d}" for i in range(ACTIONS)]
    agent = None
    wh = None
    try:
        kit = zumik.BundleKit(tmp, bins)
        kit.pack_true_bundle(ids)
        agent = zumik.Agent(tmp, bins, kit, rate_limit_high=True)
        agent.wait_ready(expected_actions=len(ids))
        wh = Webhook(tmp, ids)
        # Both answer 200 only after /bin/true has exited; check that once before measuring.
        body = agent.run_action(ids[0])
        if body.get("outcome") not in ("succeeded", None) or body.get("exit_code", 0) != 0:
            raise BenchError(f"agent run of {ids[0]} did not succeed: {body}")

        agent_paths = [zumik.agent_run_path(i) for i in ids]
        wh_paths = [f"/hooks/{i}" for i in ids]
        run_env = {"ZB_METHOD": "POST", "ZB_TOKEN": agent.token, "ZB_BODY": '{"reason":"benchmark"}'}
        figures = {}
        for conns in (1, 8):
            log(f"agent vs webhook, /bin/true, concurrency {conns}, {WRK_SECONDS}s each")
            wrk(agent.url, conns, conns, 1, dict(run_env, **wrk_paths_env(agent_paths, conns)))  # warm-up
            a = wrk(agent.url, conns, conns, WRK_SECONDS, dict(run_env, **wrk_paths_env(agent_paths, conns)))
            wrk(f"http://127.0.0.1:{wh.port}", conns, conns, 1, dict({"ZB_METHOD": "POST"},
                                                                      **wrk_paths_env(wh_paths, conns)))
            w = wrk(f"http://127.0.0.1:{wh.port}", conns, conns, WRK_SECONDS,
                    dict({"ZB_METHOD": "POST"}, **wrk_paths_env(wh_paths, conns)))
            figures[conns] = (a, w)
            res.keep("dispatch", f"zumik-ops-agent c={conns}", a.get("q_us"))  # for the plots
            res.keep("dispatch", f"webhook c={conns}", w.get("q_us"))
        agent_idle_after_load = proc_status_kb(agent.daemon.pid, "VmRSS")

        for conns, (a, w) in figures.items():
            sec = f"2 c={conns}"
            if a["errors"]:
                res.notes.append(f"agent c={conns}: {a['errors']} errors/non-2xx of {a['requests']} "
                                 f"(status {a['status']}, timeouts {a['timeout']}); see {agent.daemon.log_path}")
            if w["errors"]:
                res.notes.append(f"webhook c={conns}: {w['errors']} errors/non-2xx of {w['requests']}")
            p50, wp50 = a["p50_us"] / 1e6, w["p50_us"] / 1e6
            aim = "≤ webhook and ≤ floor + 2 ms" if conns == 1 else ""
            ok = ""
            if conns == 1:
                floor_p50 = floor["p50_us"] / 1e6 if floor else float("nan")
                ok = verdict(p50 <= wp50 and (floor is not None and p50 <= floor_p50 + 0.002))
                if a["errors"]:
                    ok = "NOT met (errors)"
            res.add(sec, "run /bin/true: p50 latency", fmt_ms(p50), f"webhook {fmt_ms(wp50)}", ratio(p50, wp50), aim, ok)
            res.add(sec, "run /bin/true: p99 latency", fmt_ms(a["p99_us"] / 1e6), f"webhook {fmt_ms(w['p99_us'] / 1e6)}",
                    ratio(a["p99_us"], w["p99_us"]))
            res.add(sec, "run /bin/true: runs/s", f"{a['rps']:.0f}", f"webhook {w['rps']:.0f}",
                    ratio(a["rps"], w["rps"]))

        log(f"agent catalog GET /v1/actions, 2 threads 8 connections, {WRK_SECONDS}s")
        cat_env = {"ZB_METHOD": "GET", "ZB_TOKEN": agent.token, "ZB_PATHS": zumik.AGENT_CATALOG_PATH}
        wrk(agent.url, 2, 8, 1, cat_env)
        c = wrk(agent.url, 2, 8, WRK_SECONDS, cat_env)
        if c["errors"]:
            res.notes.append(f"catalog: {c['errors']} errors/non-2xx of {c['requests']} (rate limit or auth?)")
        res.add("2", f"catalog GET ({ACTIONS} actions), c=8: req/s", f"{c['rps']:.0f}", "", "", "",
                "NOT met (errors)" if c["errors"] else "")
        res.add("2", "catalog GET, c=8: p99 latency", fmt_ms(c["p99_us"] / 1e6))

        time.sleep(1.0)
        a_rss = proc_status_kb(agent.daemon.pid, "VmRSS")
        res.notes.append(f"agent RSS after the load, by mapping: {fmt_breakdown(rss_breakdown(agent.daemon.pid))}")
        w_rss = proc_status_kb(wh.daemon.pid, "VmRSS")
        res.add("2", "idle RSS (after the load)", fmt_mb(a_rss), f"webhook {fmt_mb(w_rss)}", ratio(a_rss, w_rss),
                "agent ≤ 25 MB", verdict(a_rss <= 25 * 1024))
        res.notes.append(f"agent RSS right after the /bin/true runs: {fmt_mb(agent_idle_after_load)}; "
                         f"fresh-start idle RSS is in section 5.")
    except BenchError as e:
        res.missing("2", "agent vs webhook", str(e) + (f" | agent log: {agent.daemon.log_tail(3)}" if agent else ""))
    finally:
        if agent:
            agent.stop()
        if wh:
            wh.daemon.stop()


def measure_dispatch(res: Results, bins: zumik.Binaries) -> None:
    tmp = TempDir("zumik-bench-agent-")
    try:
        floor = None
        try:
            log("spawn floor: posix_spawn + waitpid of /bin/true from C")
            floor = spawn_floor(tmp)
            res.keep("dispatch", "spawn floor", floor.get("q_us"))  # for the plots
            res.add("2", "spawn floor (C posix_spawn+waitpid /bin/true): p50 / p99",
                    f"{fmt_ms(floor['p50_us'] / 1e6)} / {fmt_ms(floor['p99_us'] / 1e6)}", "", "", "",
                    f"{floor['runs_per_s']:.0f} runs/s")
            if "fsync_p50_us" in floor:
                res.add("2", "audit floor (C append 200 B + fsync, same file system): p50 / p99",
                        f"{fmt_ms(floor['fsync_p50_us'] / 1e6)} / {fmt_ms(floor['fsync_p99_us'] / 1e6)}", "", "", "",
                        "the agent makes each audit record durable before it answers; webhook keeps none")
        except (BenchError, subprocess.CalledProcessError) as e:
            res.missing("2", "spawn floor", str(e))
        _agent_sides(res, tmp, bins, floor)
    finally:
        tmp.cleanup()


def measure_startup(res: Results, bins: zumik.Binaries, reps: int = 3) -> None:
    tmp = TempDir("zumik-bench-start-")
    try:
        kit = zumik.BundleKit(tmp, bins)
        sets = {}
        sets[0] = (kit.bundle_set("empty", []), 0)
        shipped = kit.shipped_bundles("two")
        sets[2] = shipped
        sets[50] = kit.variant_bundles("fifty", 50)
        times = {}
        rss = {}
        parts = {}
        for n, (directory, actions) in sets.items():
            log(f"agent start-up with {n} bundles ({actions} actions), {reps} starts")
            runs = []
            for _ in range(reps):
                t0 = time.monotonic()
                agent = zumik.Agent(tmp, bins, kit, bundles_dir=directory)
                try:
                    t1 = agent.wait_ready(expected_actions=actions, t0=t0)
                    runs.append(t1 - t0)
                    rss[n] = proc_status_kb(agent.daemon.pid, "VmRSS")
                    if n == 2:
                        parts[n] = rss_breakdown(agent.daemon.pid)
                finally:
                    agent.stop()
            times[n] = median(runs)
        listed = {}
        for n, (directory, actions) in sets.items():
            runs = []
            for _ in range(reps):
                r = run_measured(zumik.actions_list_command(bins, kit, directory), timeout=120)
                got = zumik.count_listed_actions(r.stdout)
                if r.returncode != 0 or got != actions:
                    raise BenchError(f"zumik-actions list of {n} bundles: exit {r.returncode}, {got} of {actions} "
                                     f"actions: {r.stderr[-200:]!r}")
                runs.append(r)
            listed[n] = (median([r.wall_s for r in runs]), median([r.cpu_s for r in runs]))
        base = times[0]
        res.add("5", "agent start-up, empty bundle dir (until /healthz + catalog)", fmt_ms(base), "", "", "",
                f"RSS {fmt_mb(rss[0])}")
        for n in (2, 50):
            res.add("5", f"agent start-up, {n} signed bundles ({sets[n][1]} actions)", fmt_ms(times[n]),
                    f"empty {fmt_ms(base)}", "", "", f"+{fmt_ms(times[n] - base)} to verify+load; RSS {fmt_mb(rss[n])}")
        for n in (0, 2, 50):
            res.add("5", f"zumik-actions list (verify + dlopen + handshake), {n} bundles: wall / CPU",
                    f"{fmt_ms(listed[n][0])} / {fmt_ms(listed[n][1])}")
        res.add("2", "idle RSS, fresh start, 2 shipped bundles", fmt_mb(rss[2]), "", "", "agent ≤ 25 MB",
                verdict(rss[2] <= 25 * 1024))
        if 2 in parts:
            res.notes.append(f"agent RSS fresh with the 2 shipped bundles, by mapping: {fmt_breakdown(parts[2])}")
    except BenchError as e:
        res.missing("5", "agent start-up", str(e))
    finally:
        tmp.cleanup()

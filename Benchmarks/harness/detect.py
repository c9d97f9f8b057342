"""Measurement 3: detection time.

K loopback services are watched by one `zumik-monitor run` (interval 5 s, alert-only). Their stops are
staggered across one interval, so the trials sample every phase of the probe cycle. For each, the time from
closing its listening socket until a "down" alert for it is in the monitor's outbox (its SQLite file, read
only, polled every 10 ms); the Discord stand-in's receipt time is kept as a cross-check. Then the services
come back, the monitor sees them recover, and the next round starts. Once with a 1 s confirmation probe,
once with confirmation off (the second failure then waits a whole interval), once with services that hang,
and once with the refusing services beside properties that hang for good (each probe of theirs waits a
timeout longer than the interval): their probes must not delay the failing ones' detection.
"""

from __future__ import annotations

import time

import zumik
from common import BenchError, Daemon, Results, TempDir, fmt_ms, log, median, verdict
from fakes import FakeDiscord, Service

INTERVAL_S = 5.0
CONFIRM_S = 1.0
PROBE_TIMEOUT_S = 2.0
HUNG_NEIGHBOURS = 10
HUNG_TIMEOUT_S = 30.0  # longer than the interval: a hung neighbour always has a probe in flight


def _matches_down(row: str, name: str) -> bool:
    """An alert that `name` went down (the embed title reads "NAME is DOWN"), not a recovery."""
    return f"{name} is down" in row.lower()


def _discord_down_time(discord: FakeDiscord, name: str, after: float) -> float | None:
    for t, doc in list(discord.received):
        if t >= after and _matches_down(str(doc), name):
            return t
    return None


def run_mode(tmp: TempDir, bins: zumik.Binaries, confirmation: float | None, trials: int, k: int,
             stop_mode: str = "refuse", hung: int = 0) -> dict:
    services = [Service() for _ in range(k)]
    tag = f"{'c' if confirmation else 'n'}{stop_mode[0]}{'h' if hung else ''}"
    names = [f"detect-{tag}{i:02d}" for i in range(k)]
    # Neighbours that accept and never answer, from the start: each of their probes waits its own long timeout.
    neighbours = [Service() for _ in range(hung)]
    for s in neighbours:
        s.stop("hang")
    props = [zumik.Property(n, s.url, timeout_s=PROBE_TIMEOUT_S, alert_only=True) for n, s in zip(names, services)]
    props += [zumik.Property(f"hung-{tag}{i:02d}", s.url, timeout_s=HUNG_TIMEOUT_S, alert_only=True)
              for i, s in enumerate(neighbours)]
    discord = FakeDiscord()
    cfg_text = zumik.monitor_config(tmp, props, name=f"detect-{tag}", interval_s=INTERVAL_S, confirmation_s=confirmation)
    cfg = tmp.file(f"detect-{tag}.yaml", cfg_text)
    argv, env = zumik.monitor_run_command(bins, cfg)
    env = dict(env, DISCORD_WEBHOOK_URL=discord.url)
    monitor = Daemon(f"monitor-detect-{tag}", argv, env=env, log_dir=tmp.path)
    store = zumik.StoreReader(zumik.store_path_of(cfg_text))
    results = {"outbox": [], "discord": []}
    try:
        # Every property healthy and probed at least once more before the first stop.
        time.sleep(INTERVAL_S + 1.0)
        if not monitor.alive():
            raise BenchError(f"zumik-monitor run exited {monitor.proc.returncode}: {monitor.log_tail(5)}")
        rounds = (trials + k - 1) // k
        for rnd in range(rounds):
            n_this = min(k, trials - rnd * k)
            seen_rows = {key for key, _ in store.outbox_rows()}
            t_start = time.monotonic()
            stops = {}
            pending = list(range(n_this))
            detected_outbox = {}
            deadline = t_start + INTERVAL_S + 3 * INTERVAL_S + 10
            # Stagger the stops over one interval; poll the outbox between them.
            while time.monotonic() < deadline and (pending or len(detected_outbox) < n_this):
                now = time.monotonic()
                while pending and now >= t_start + pending[0] * INTERVAL_S / n_this:
                    i = pending.pop(0)
                    stops[i] = services[i].stop(stop_mode)
                for key, row in store.outbox_rows():
                    if key in seen_rows:
                        continue
                    seen_rows.add(key)
                    for i, t_stop in stops.items():
                        if i not in detected_outbox and _matches_down(row, names[i]):
                            detected_outbox[i] = time.monotonic()
                time.sleep(0.01)
            if not monitor.alive():
                raise BenchError(f"zumik-monitor exited {monitor.proc.returncode}: {monitor.log_tail(5)}")
            for i, t_stop in stops.items():
                if i in detected_outbox:
                    results["outbox"].append(detected_outbox[i] - t_stop)
                t_d = _discord_down_time(discord, names[i], t_stop)
                if t_d is not None:
                    results["discord"].append(t_d - t_stop)
            missed = [names[i] for i in stops if i not in detected_outbox]
            if missed:
                results.setdefault("missed", []).extend(missed)
            # Bring them back and let the monitor see the recovery before the next round.
            for i in stops:
                services[i].start()
            if rnd + 1 < rounds:
                time.sleep(2 * INTERVAL_S + 1)
        results["trials"] = trials
        return results
    finally:
        monitor.stop()
        store.close()
        discord.close()
        for s in services + neighbours:
            s.close()


MODES = [
    # (label, confirmation delay, how the service stops, hung neighbours, judged against the aim)
    ("confirmation 1 s, service refuses connections", CONFIRM_S, "refuse", 0, True),
    ("confirmation off, service refuses connections", None, "refuse", 0, False),
    ("confirmation 1 s, service hangs (probe times out)", CONFIRM_S, "hang", 0, False),
    (f"confirmation 1 s, service refuses connections, beside {HUNG_NEIGHBOURS} hung properties "
     f"(timeout {HUNG_TIMEOUT_S:.0f} s)", CONFIRM_S, "refuse", HUNG_NEIGHBOURS, True),
]


def measure(res: Results, bins: zumik.Binaries, trials: int = 10, k: int = 10) -> None:
    tmp = TempDir("zumik-bench-detect-")
    bound = INTERVAL_S + CONFIRM_S + PROBE_TIMEOUT_S
    try:
        for label, confirmation, stop_mode, hung, judged in MODES:
            log(f"detection time, {label}: {trials} trials, interval {INTERVAL_S:.0f} s")
            try:
                r = run_mode(tmp, bins, confirmation, trials, k, stop_mode, hung)
            except BenchError as e:
                res.missing("3", f"detection, {label}", str(e))
                continue
            xs = sorted(r["outbox"])
            if r.get("missed"):
                res.notes.append(f"detection, {label}: no down alert in the outbox within the deadline for "
                                 f"{len(r['missed'])} of {r['trials']} trials ({', '.join(r['missed'][:4])})")
            if not xs:
                res.missing("3", f"detection, {label}", "no trial produced a down alert in the outbox "
                            "(see the monitor log in the temp dir)")
                continue
            fig = f"{fmt_ms(xs[0])} / {fmt_ms(median(xs))} / {fmt_ms(xs[-1])}"
            res.keep("detection", label, xs)
            name = f"detection → alert in outbox, {label} (min/median/max, n={len(xs)})"
            if judged:
                res.add("3", name, fig, "", "", f"max ≤ {bound:.0f} s (interval + confirmation + own timeout)",
                        verdict(xs[-1] <= bound and not r.get("missed")))
            elif stop_mode == "hang":
                worst = INTERVAL_S + 2 * PROBE_TIMEOUT_S + CONFIRM_S
                res.add("3", name, fig, "", "", "", f"design bound {worst:.0f} s: two probes each wait the timeout")
            else:
                res.add("3", name, fig, "", "", "", f"design bound {2 * INTERVAL_S:.0f} s: a second whole interval")
            if r["discord"]:
                d = sorted(r["discord"])
                res.notes.append(f"detection, {label}: alert received by the Discord stand-in "
                                 f"min/median/max {fmt_ms(d[0])} / {fmt_ms(median(d))} / {fmt_ms(d[-1])}")
    finally:
        tmp.cleanup()

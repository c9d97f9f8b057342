"""Measurement 7: many locations on one PostgreSQL, side by side with the single instance on SQLite.

One throwaway PostgreSQL 15 cluster (postgres.Cluster) serves the section; every set-up gets a fresh database.
The monitors of a fleet run on loopback, each with its own `ZUMIK_LOCATION`, all on the same database.

- Detection: K loopback services watched by the set-up (interval 5 s, confirmation 1 s, probe timeout 2 s, as
  in section 3), stopped one after another over one interval; detection time = from the stop until the Discord
  stand-in receives "NAME is DOWN". Set-ups: one monitor on SQLite, one monitor on PostgreSQL, three monitors
  on PostgreSQL with the default quorum (a majority of the three live locations: two must confirm). The
  stand-in also counts DOWN alerts per property, which must be one however many monitors run.
- Failover: a remediable property is down from the start; the agent's first remediation sleeps (so the
  remediator is mid-action when it dies). Once its journal holds that action, the lease's holder is killed
  with SIGKILL; the figure is from the kill until the first journal entry written after it (another location
  took the lease over and resumed), from the entry's own timestamp. Design bound: lease + interval (the lease
  was renewed by the journal write before the action; the others look for expired leases every
  min(lease, interval)). The single-instance peer: the SQLite monitor killed the same way and started again at
  once (as systemd's Restart= would), until its first journal entry.
- Store writes: 1,000 healthy properties (a real nginx) probed by 1 or 3 locations, over a window of whole
  cycles (it starts and ends while the store is idle between cycles). PostgreSQL: rows inserted / updated /
  deleted and commits from the WAL between the window's LSNs (pg_walinspect), WAL bytes, the server's CPU
  (/proc), and which statements wait for locks (pg_stat_activity, polled). SQLite: bytes the monitor wrote
  (/proc/PID/io wchar: its file writes; its probes use send(), its logs are off) and the files' growth, then
  rows, counted by triggers added for a second window (triggers write too, so bytes are taken before they exist).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import sqlite3
import time

import postgres
import zumik
from common import (BenchError, Daemon, Results, TempDir, fmt_ms, free_port, log, median, nginx, proc_cpu_s,
                    ratio, verdict)
from detect import CONFIRM_S, INTERVAL_S, PROBE_TIMEOUT_S, _discord_down_time, _matches_down
from fakes import FakeDiscord, Service

LOCATIONS = ("loc-a", "loc-b", "loc-c")
LEASE_S = 5.0
WRITE_PROPERTIES = 1000
WRITE_INTERVAL_S = 10.0


def _pg_settings(lease_s: float | None = None) -> str:
    return "store: postgres\n" + (f"remediation_lease: {int(round(lease_s * 1000))}ms\n" if lease_s else "")


class Fleet:
    """The monitors of one set-up: on SQLite (one, its own file) or on one PostgreSQL database (one per
    location). Each is a `zumik-monitor run` in its own session."""

    def __init__(self, tmp: TempDir, bins: zumik.Binaries, tag: str, config_text: str, env: dict,
                 database_url: str | None, locations: tuple[str, ...] = ("single",), log_level: str = "info",
                 stagger_s: float = 0.0):
        self.tmp, self.bins, self.tag = tmp, bins, tag
        self.config_text = config_text
        self.env = dict(env)
        if database_url:
            self.env["ZUMIK_DATABASE_URL"] = database_url
        self.log_level = log_level
        self.monitors: dict[str, Daemon] = {}
        self.starts = 0
        # With `stagger_s`, the locations after the first start at random moments within it (seeded by the
        # set-up's tag), so their probe cycles and takeover checks fall at different phases, as in a real fleet.
        rng = random.Random(tag)
        offsets = [0.0] + sorted(rng.uniform(0, stagger_s) for _ in locations[1:])
        t0 = time.monotonic()
        for loc, offset in zip(locations, offsets):
            time.sleep(max(0.0, t0 + offset - time.monotonic()))
            self.start(loc)

    def start(self, location: str) -> Daemon:
        """Starts (or starts again) the location's monitor, with a control port of its own."""
        text = "\n".join(f"  listen: \"127.0.0.1:{free_port()}\"" if line.startswith("  listen:") else line
                         for line in self.config_text.splitlines()) + "\n"
        argv, env = zumik.monitor_run_command(self.bins, self.tmp.file(f"{self.tag}-{location}.yaml", text))
        argv = argv + ["--log-level", self.log_level]
        self.starts += 1
        d = Daemon(f"monitor-{self.tag}-{location}-{self.starts}", argv,
                   env=dict(env, **self.env, ZUMIK_LOCATION=location), log_dir=self.tmp.path)
        self.monitors[location] = d
        return d

    def check_alive(self) -> None:
        for loc, d in self.monitors.items():
            if not d.alive():
                raise BenchError(f"zumik-monitor ({self.tag}, {loc}) exited {d.proc.returncode}: {d.log_tail(4)}")

    def kill9(self, location: str) -> float:
        """SIGKILL to the location's monitor; returns the wall-clock time of the kill."""
        d = self.monitors[location]
        t = time.time()
        os.kill(d.pid, signal.SIGKILL)
        d.proc.wait(10)
        return t

    def stop(self) -> None:
        for d in self.monitors.values():
            d.stop()


# --------------------------------------------------------------------------- detection


def _detect_trials(tmp: TempDir, bins: zumik.Binaries, tag: str, database_url: str | None,
                   locations: tuple[str, ...], k: int) -> dict:
    services = [Service() for _ in range(k)]
    names = [f"loc-detect-{tag}-{i:02d}" for i in range(k)]
    discord = FakeDiscord()
    text = zumik.monitor_config(
        tmp, [zumik.Property(n, s.url, timeout_s=PROBE_TIMEOUT_S, alert_only=True) for n, s in zip(names, services)],
        name=f"locdetect-{tag}", interval_s=INTERVAL_S, confirmation_s=CONFIRM_S,
        extra=_pg_settings() if database_url else "")
    fleet = Fleet(tmp, bins, f"detect-{tag}", text, zumik.monitor_env({"DISCORD_WEBHOOK_URL": discord.url}),
                  database_url, locations, stagger_s=INTERVAL_S)
    try:
        time.sleep(INTERVAL_S + 1.5)  # every location has probed every property healthy at least once
        fleet.check_alive()
        stops = {}
        t_start = time.monotonic()
        for i in range(k):
            time.sleep(max(0.0, t_start + i * INTERVAL_S / k - time.monotonic()))
            stops[i] = services[i].stop("refuse")
        deadline = time.monotonic() + 2 * INTERVAL_S + CONFIRM_S + 2 * PROBE_TIMEOUT_S + 5
        found = {}
        while time.monotonic() < deadline and len(found) < k:
            for i, t_stop in stops.items():
                if i not in found:
                    t = _discord_down_time(discord, names[i], t_stop)
                    if t is not None:
                        found[i] = t - t_stop
            time.sleep(0.05)
        time.sleep(INTERVAL_S)  # a duplicate would come from another location's confirmation, within a cycle
        fleet.check_alive()
        downs = [sum(1 for _, doc in list(discord.received) if _matches_down(json.dumps(doc), n)) for n in names]
        return {"times": sorted(found.values()), "missed": [names[i] for i in range(k) if i not in found],
                "downs": downs}
    finally:
        fleet.stop()
        discord.close()
        for s in services:
            s.close()


def measure_detection(res: Results, tmp: TempDir, bins: zumik.Binaries, cluster: postgres.Cluster,
                      k: int) -> None:
    setups = [
        ("sqlite", "1 monitor, SQLite", None, ("single",)),
        ("pg1", "1 monitor, PostgreSQL", "locdetect1", ("single",)),
        ("pg3", f"{len(LOCATIONS)} monitors, PostgreSQL, quorum 2 of 3", "locdetect3", LOCATIONS),
    ]
    got = {}
    for tag, label, db, locs in setups:
        log(f"many locations, detection: {label}, {k} trials")
        try:
            got[tag] = _detect_trials(tmp, bins, tag, cluster.url(cluster.create_database(db)) if db else None,
                                      locs, k)
        except BenchError as e:
            res.missing("7", f"detection, {label}", str(e))
            continue
        r = got[tag]
        if r["missed"]:
            res.notes.append(f"many locations, detection, {label}: no DOWN alert at the Discord stand-in for "
                             f"{len(r['missed'])} of {k} trials")
        extra = [d for d in r["downs"] if d > 1]
        res.notes.append(f"many locations, detection, {label}: DOWN alerts at the stand-in per property "
                         f"{min(r['downs'])}–{max(r['downs'])} ({len(extra)} properties alerted more than once)")
    base = got.get("sqlite")
    for tag, label, _, _ in setups:
        r = got.get(tag)
        if not r or not r["times"]:
            if r is not None:
                res.missing("7", f"detection, {label}", "no trial produced a DOWN alert")
            continue
        xs = r["times"]
        fig = f"{fmt_ms(xs[0])} / {fmt_ms(median(xs))} / {fmt_ms(xs[-1])}"
        peer, rat = "", ""
        if tag != "sqlite" and base and base["times"]:
            b = base["times"]
            peer = f"SQLite {fmt_ms(b[0])} / {fmt_ms(median(b))} / {fmt_ms(b[-1])}"
            rat = ratio(median(xs), median(b)) + " (median)"
        res.add("7", f"detection → DOWN at Discord, {label} (min/median/max, n={len(xs)})", fig, peer, rat,
                "measure and show", "one DOWN per property" if max(r["downs"]) == 1 and not r["missed"]
                else "NOT one DOWN per property")


# --------------------------------------------------------------------------- failover


def _slow_bundle(kit: zumik.BundleKit, name: str) -> str:
    """Two remediations for service `bench`: `bench_slow` (narrowest, sleeps 30 s: the remediator is
    mid-action when it dies) and `bench_fix` (/bin/true)."""
    manifest = kit.bins.manifest_template("DockerActions")
    slow = dict(zumik.true_action("bench_slow"), kind="remediation", argv=["/bin/sleep", "30"], timeout_s=60,
                rank=0, title="Benchmark slow remediation", description="Sleeps 30 s. Used by the benchmark only.")
    fix = dict(zumik.true_action("bench_fix"), kind="remediation", rank=1, title="Benchmark remediation")
    manifest["actions"] = [slow, fix]
    return kit.bundle_set(name, [("bench", manifest, kit.bins.library("DockerActions"))])


class _Journal:
    """The remediation journal (incident_events, kind remediation.*) and the lease, on either store."""

    def __init__(self, sqlite_path: str | None = None, session: postgres.Session | None = None):
        self.sqlite_path, self.session = sqlite_path, session

    def _rows(self, sql: str) -> list[list]:
        if self.session:
            return self.session.query(sql)
        if not os.path.exists(self.sqlite_path):
            return []
        db = sqlite3.connect(f"file:{self.sqlite_path}?mode=ro", uri=True, timeout=1.0)
        try:
            return [list(r) for r in db.execute(sql).fetchall()]
        except sqlite3.Error:
            return []
        finally:
            db.close()

    def events(self) -> list[tuple[int, float, str, str]]:
        """(id, at, kind, payload) of every remediation entry, oldest first."""
        rows = self._rows("SELECT id, at, kind, payload FROM incident_events WHERE kind LIKE 'remediation.%' "
                          "ORDER BY id")
        return [(int(r[0]), float(r[1]), str(r[2]), str(r[3])) for r in rows]

    def lease(self) -> tuple[str, int] | None:
        rows = self._rows("SELECT holder, token FROM incident_leases ORDER BY incident_id DESC LIMIT 1")
        return (str(rows[0][0]), int(rows[0][1])) if rows else None


def _failover_trial(tmp: TempDir, bins: zumik.Binaries, kit: zumik.BundleKit, trial: str,
                    database_url: str | None, journal_of, locations: tuple[str, ...], restart: bool) -> dict:
    agent = zumik.Agent(tmp, bins, kit, bundles_dir=_slow_bundle(kit, f"failover-{trial}"))
    service = Service()
    service.stop("refuse")  # down from the start, and it stays down
    discord = FakeDiscord()
    discord.server.handle_error = lambda *_: None  # the killed monitor's connection resets: expected here
    fleet = None
    session = None
    try:
        agent.wait_ready(expected_actions=2)
        prop = zumik.Property("failover", service.url, timeout_s=PROBE_TIMEOUT_S, alert_only=False, host="default",
                              service="bench")
        text = zumik.monitor_config(tmp, [prop], name=f"failover-{trial}", interval_s=INTERVAL_S,
                                    confirmation_s=CONFIRM_S,
                                    extra=_pg_settings(LEASE_S) if database_url else
                                    f"remediation_lease: {int(LEASE_S * 1000)}ms\n")
        env = zumik.monitor_env({"DISCORD_WEBHOOK_URL": discord.url, "OPS_AGENT_URL": agent.url,
                                 "OPS_AGENT_TOKEN": agent.token, "MAX_REMEDIATION_ROUNDS": "2"})
        fleet = Fleet(tmp, bins, f"failover-{trial}", text, env, database_url, locations, stagger_s=INTERVAL_S)
        journal, session = journal_of(zumik.store_path_of(text))
        # Until the remediator's journal holds the slow action (written, fenced, just before the agent call).
        deadline = time.monotonic() + INTERVAL_S + CONFIRM_S + 2 * PROBE_TIMEOUT_S + 20
        holder = None
        while time.monotonic() < deadline:
            fleet.check_alive()
            evs = journal.events()
            if any(kind == "remediation.action" and "bench_slow" in payload for _, _, kind, payload in evs):
                holder = journal.lease()
                break
            time.sleep(0.02)
        if holder is None or holder[0] not in fleet.monitors:
            raise BenchError(f"no remediation reached the slow action (lease {holder}; "
                             f"log: {next(iter(fleet.monitors.values())).log_tail(3)})")
        last_id = max(e[0] for e in journal.events())
        t_kill = fleet.kill9(holder[0])
        t_kill_mono = time.monotonic()
        if restart:
            fleet.start(holder[0])
        deadline = time.monotonic() + 3 * (LEASE_S + INTERVAL_S) + 10
        first = None
        while time.monotonic() < deadline:
            new = [e for e in journal.events() if e[0] > last_id]
            if new:
                first = new[0]
                seen_after = time.monotonic() - t_kill_mono
                break
            time.sleep(0.02)
        if first is None:
            raise BenchError(f"no journal entry within {deadline - t_kill_mono:.0f}s of the kill")
        new_lease = journal.lease()
        # Let the resumed remediation choose its next step (the next rung, or the page), then check that the
        # slow action was not sent again.
        end = time.monotonic() + 10
        while time.monotonic() < end:
            if any(e[0] > last_id and e[2] in ("remediation.action", "remediation.paged") for e in journal.events()):
                break
            time.sleep(0.1)
        evs = journal.events()
        slow_runs = sum(1 for _, _, kind, p in evs if kind == "remediation.action" and "bench_slow" in p)
        after = [e for e in evs if e[0] > last_id and e[2] in ("remediation.action", "remediation.paged")]
        next_step = "none within 10 s"
        if after:
            next_step = "page" if after[0][2] == "remediation.paged" else after[0][3]
            with contextlib.suppress(ValueError, KeyError, TypeError):
                next_step = "page" if after[0][2] == "remediation.paged" else str(json.loads(after[0][3])["tool"])
        return {"seconds": first[1] - t_kill, "seen": seen_after, "kind": first[2], "old": holder,
                "new": new_lease, "slow_runs": slow_runs, "next": next_step}
    finally:
        if fleet:
            fleet.stop()
        if session:
            session.close()
        agent.stop()
        discord.close()
        service.close()


def measure_failover(res: Results, tmp: TempDir, bins: zumik.Binaries, cluster: postgres.Cluster,
                     trials: int) -> None:
    kit = zumik.BundleKit(tmp, bins)
    bound = LEASE_S + INTERVAL_S
    got: dict[str, list[dict]] = {"pg3": [], "sqlite": []}
    for i in range(trials):
        for tag in ("pg3", "sqlite"):
            trial = f"{tag}-{i}"
            log(f"many locations, failover: {tag}, trial {i + 1} of {trials}")
            try:
                if tag == "pg3":
                    url = cluster.url(cluster.create_database(f"locfailover{i}"))
                    db = f"locfailover{i}"

                    def journal_of(_path, db=db):
                        s = cluster.session(db)
                        return _Journal(session=s), s

                    got[tag].append(_failover_trial(tmp, bins, kit, trial, url, journal_of, LOCATIONS, False))
                else:
                    got[tag].append(_failover_trial(tmp, bins, kit, trial, None,
                                                    lambda path: (_Journal(sqlite_path=path), None),
                                                    ("single",), True))
            except BenchError as e:
                res.notes.append(f"many locations, failover ({tag}, trial {i + 1}): not measured: {e}")
    pg, lite = got["pg3"], got["sqlite"]
    if not pg:
        res.missing("7", "failover after kill -9 of the remediator", "no trial completed (see the notes)",
                    aim=f"≤ lease + interval = {bound:.0f} s")
        return
    xs = sorted(r["seconds"] for r in pg)
    peer, rat = "", ""
    if lite:
        ys = sorted(r["seconds"] for r in lite)
        peer = f"single SQLite instance restarted at once: {fmt_ms(median(ys))} (max {fmt_ms(ys[-1])})"
        rat = ratio(median(xs), median(ys)) + " (median)"
    res.add("7", f"failover: kill -9 of the remediator → first journal entry by another location "
            f"(lease {LEASE_S:.0f} s, interval {INTERVAL_S:.0f} s; min/median/max, n={len(xs)})",
            f"{fmt_ms(xs[0])} / {fmt_ms(median(xs))} / {fmt_ms(xs[-1])}", peer, rat,
            f"max ≤ lease + interval = {bound:.0f} s", verdict(xs[-1] <= bound))
    takeovers = [f"{r['old'][0]}#{r['old'][1]} → " + (f"{r['new'][0]}#{r['new'][1]}" if r["new"] else "?")
                 for r in pg]
    res.notes.append(f"many locations, failover: lease takeovers {', '.join(takeovers)}; first entry after the "
                     f"kill: {', '.join(sorted({r['kind'] for r in pg}))}; the slow remediation ran "
                     f"{'/'.join(str(r['slow_runs']) for r in pg)} time(s) per incident, the next step was "
                     f"{'/'.join(r['next'] for r in pg)}; seen by the harness's poll "
                     f"{', '.join(fmt_ms(r['seen']) for r in pg)} after the kill")
    if lite:
        res.notes.append(f"many locations, failover, single SQLite instance: no other instance takes over; killed "
                         f"and started again at once, its first journal entry came "
                         f"{', '.join(fmt_ms(r['seconds']) for r in lite)} after the kill (process start, resume "
                         f"from the journal); the slow remediation ran "
                         f"{'/'.join(str(r['slow_runs']) for r in lite)} time(s), the next step was "
                         f"{'/'.join(r['next'] for r in lite)}")


# --------------------------------------------------------------------------- store writes

HOURLY_AT_S = 60.0  # per-hour figures at the default interval


class _SQLiteCounters:
    """The single instance's store: bytes the monitor wrote, the files' size, and (once `count_rows` added
    triggers) rows inserted / updated / deleted per table."""

    def __init__(self, path: str, monitor: Daemon):
        self.path, self.monitor = path, monitor
        self.triggers = False

    def _io(self) -> dict:
        with open(f"/proc/{self.monitor.pid}/io") as f:
            return {k: int(v) for k, v in (line.split(": ") for line in f)}

    def samples(self) -> int:
        if not os.path.exists(self.path):
            return 0
        db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=5.0)
        try:
            return db.execute("SELECT count(*) FROM probe_samples").fetchone()[0]
        except sqlite3.Error:
            return 0
        finally:
            db.close()

    def busy(self) -> bool:
        """Written to within the last half second."""
        wal = self.path + "-wal"
        return os.path.exists(wal) and time.time() - os.path.getmtime(wal) < 0.5

    def snapshot(self) -> dict:
        io = self._io()
        size = sum(os.path.getsize(p) for p in (self.path, self.path + "-wal") if os.path.exists(p))
        snap = {"samples": self.samples(), "bytes": io["wchar"], "writes": io["syscw"], "size": size,
                "cpu_monitors": proc_cpu_s(self.monitor.pid), "cpu_db": 0.0}
        if self.triggers:
            db = sqlite3.connect(self.path, timeout=30)
            try:
                snap["rows"] = {t: (i, u, d) for t, i, u, d in db.execute("SELECT t, ins, upd, del FROM bench_counts")}
            finally:
                db.close()
        return snap

    def delta(self, a: dict, b: dict) -> dict:
        out = {k: b[k] - a[k] for k in ("bytes", "writes", "size", "cpu_monitors", "cpu_db")}
        if "rows" in a:
            out["rows"] = _table_deltas(a["rows"], b["rows"])
            out["row_ops"] = tuple(sum(v[i] for v in out["rows"].values()) for i in range(3))
        return out

    def count_rows(self) -> None:
        """Triggers counting each table's row changes into bench_counts (they write too: bytes are not taken
        while they exist)."""
        db = sqlite3.connect(self.path, timeout=30)
        try:
            tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT "
                                               "LIKE 'sqlite_%' AND name NOT LIKE 'grdb_%'")]
            with db:
                db.execute("CREATE TABLE bench_counts (t TEXT PRIMARY KEY, ins INTEGER, upd INTEGER, del INTEGER)")
                for t in tables:
                    db.execute("INSERT INTO bench_counts VALUES (?, 0, 0, 0)", (t,))
                    for op, col in (("INSERT", "ins"), ("UPDATE", "upd"), ("DELETE", "del")):
                        db.execute(f"CREATE TRIGGER bench_{col}_{t} AFTER {op} ON \"{t}\" BEGIN "
                                   f"UPDATE bench_counts SET {col} = {col} + 1 WHERE t = '{t}'; END")
        finally:
            db.close()
        self.triggers = True


def _table_deltas(a: dict, b: dict) -> dict:
    out = {}
    for t, v in b.items():
        d = tuple(x - y for x, y in zip(v, a.get(t, (0, 0, 0))))
        if any(d):
            out[t] = d
    return out


class _PostgresCounters:
    """The fleet's database: rows and commits from the WAL itself (pg_walinspect's pg_get_wal_stats between
    the window's two LSNs: exact, unlike pg_stat's counters, which backends flush lazily; those give the
    per-table split), WAL bytes, and the server's CPU."""

    HEAP = {"INSERT": 0, "INSERT+INIT": 0, "UPDATE": 1, "UPDATE+INIT": 1, "HOT_UPDATE": 1, "DELETE": 2}

    def __init__(self, cluster: postgres.Cluster, database: str, fleet: Fleet):
        self.cluster, self.fleet = cluster, fleet
        self.session = cluster.session(database)
        self.session.query("CREATE EXTENSION IF NOT EXISTS pg_walinspect")
        self.polls = 0
        self.waits: dict[str, int] = {}

    def sample_waits(self) -> None:
        """Which statements wait for a lock right now (pg_stat_activity), added up over the window's polls."""
        self.polls += 1
        for stmt, n in self.session.query(
                "SELECT left(regexp_replace(query, '\\s+', ' ', 'g'), 48), count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock' GROUP BY 1"):
            self.waits[stmt] = self.waits.get(stmt, 0) + int(n)

    def samples(self) -> int:
        rows = self.session.query("SELECT count(*) FROM probe_samples")  # none before the schema exists
        return int(rows[0][0]) if rows else 0

    def busy(self) -> bool:
        """A transaction that has written (it holds a transaction id) is in progress."""
        return int(self.session.scalar("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                       "AND backend_xid IS NOT NULL")) > 0

    def snapshot(self) -> dict:
        rows = {r[0]: (int(r[1]), int(r[2]), int(r[3])) for r in self.session.query(
            "SELECT relname, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_user_tables")}
        self.polls, self.waits = 0, {}
        return {"samples": self.samples(), "rows": rows, "lsn": self.session.scalar("SELECT pg_current_wal_lsn()"),
                "cpu_db": self.cluster.cpu_s(),
                "cpu_monitors": sum(proc_cpu_s(d.pid) for d in self.fleet.monitors.values())}

    def delta(self, a: dict, b: dict) -> dict:
        out = {k: b[k] - a[k] for k in ("cpu_monitors", "cpu_db")}
        out["bytes"] = int(self.session.scalar(f"SELECT pg_wal_lsn_diff('{b['lsn']}', '{a['lsn']}')"))
        ops = [0, 0, 0]
        out["commits"] = out["locks"] = out["fpi"] = 0
        for kind, count, fpi in self.session.query(
                'SELECT "resource_manager/record_type", count, fpi_size FROM '
                f"pg_get_wal_stats('{a['lsn']}', '{b['lsn']}', true) WHERE count > 0"):
            rmgr, _, record = kind.partition("/")
            out["fpi"] += int(fpi)
            if rmgr == "Heap" and record in self.HEAP:
                ops[self.HEAP[record]] += int(count)
            elif (rmgr, record) == ("Heap2", "MULTI_INSERT"):
                ops[0] += int(count)
            elif (rmgr, record) == ("Heap", "LOCK"):
                out["locks"] += int(count)
            elif (rmgr, record) == ("Transaction", "COMMIT"):
                out["commits"] += int(count)
        out["row_ops"] = tuple(ops)
        out["rows"] = _table_deltas(a["rows"], b["rows"])
        out["lock_waits"] = {k: v / max(1, self.polls) for k, v in self.waits.items()}
        return out

    def close(self) -> None:
        self.session.close()


def _settle(counters, fleet: Fleet, timeout: float) -> bool:
    """Until the store is idle between cycles (no probe sample for 0.6 s, nothing being written): a window
    between two such moments holds whole cycles. False if the fleet never went idle (it cannot keep up)."""
    deadline = time.monotonic() + timeout
    last, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        fleet.check_alive()
        n = counters.samples()
        if n != last or counters.busy():
            last, since = n, time.monotonic()
        elif n > 0 and time.monotonic() - since >= 0.6:
            return True
        time.sleep(0.1)
    return False


def _wait_samples(counters, target: int, fleet: Fleet, timeout: float) -> bool:
    """Until the store holds `target` probe samples; False if it does not within `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        fleet.check_alive()
        if counters.samples() >= target:
            return True
        if isinstance(counters, _PostgresCounters):
            counters.sample_waits()
        time.sleep(0.25)
    return False


def _window(counters, fleet: Fleet, probes_per_cycle: int, cycles: int) -> dict:
    """Counter deltas between two idle moments `cycles` cycles apart, and the cycles they hold (probe samples
    recorded ÷ probes per cycle)."""
    idle = _settle(counters, fleet, WRITE_INTERVAL_S)
    a = counters.snapshot()
    # Bounded: a fleet that cannot keep up is measured over what it recorded by then (and said so).
    idle = _wait_samples(counters, a["samples"] + cycles * probes_per_cycle, fleet,
                         timeout=(cycles + 1) * WRITE_INTERVAL_S) and idle
    idle = _settle(counters, fleet, WRITE_INTERVAL_S) and idle
    b = counters.snapshot()
    out = counters.delta(a, b)
    out["cycles"] = (b["samples"] - a["samples"]) / probes_per_cycle
    out["idle"] = idle
    if out["cycles"] <= 0:
        raise BenchError("no probe was recorded during the window")
    return out


def _writes_setup(tmp: TempDir, bins: zumik.Binaries, cluster: postgres.Cluster, nginx_port: int, tag: str,
                  locations: tuple[str, ...], on_postgres: bool, cycles: int) -> dict:
    props = [zumik.Property(f"w{i:04d}", f"http://127.0.0.1:{nginx_port}/p{i}", timeout_s=5.0)
             for i in range(WRITE_PROPERTIES)]
    database = f"locwrites{tag}" if on_postgres else None
    url = cluster.url(cluster.create_database(database)) if database else None
    text = zumik.monitor_config(tmp, props, name=f"writes-{tag}", interval_s=WRITE_INTERVAL_S,
                                extra=_pg_settings() if on_postgres else "")
    fleet = Fleet(tmp, bins, f"writes-{tag}", text, zumik.monitor_env(), url, locations, log_level="warning")
    counters = None
    try:
        per_cycle = WRITE_PROPERTIES * len(locations)
        if on_postgres:
            counters = _PostgresCounters(cluster, database, fleet)
        else:
            counters = _SQLiteCounters(zumik.store_path_of(text), fleet.monitors["single"])
        if not _wait_samples(counters, per_cycle, fleet, timeout=WRITE_INTERVAL_S + 40):
            raise BenchError(f"the store holds {counters.samples()} of {per_cycle} probe samples after the first "
                             f"{WRITE_INTERVAL_S + 40:.0f} s")
        if on_postgres:
            _settle(counters, fleet, WRITE_INTERVAL_S)
            counters.session.query("CHECKPOINT")  # the window then holds no timed checkpoint (postgres.Cluster)
        # One more whole cycle as warm-up (after a checkpoint, a page's first change logs the whole page).
        _wait_samples(counters, counters.samples() + per_cycle, fleet, timeout=2 * WRITE_INTERVAL_S)
        out = _window(counters, fleet, per_cycle, cycles)
        if not on_postgres:
            counters.count_rows()
            counted = _window(counters, fleet, per_cycle, 1)
            out["rows"], out["row_ops"], out["rows_cycles"] = counted["rows"], counted["row_ops"], counted["cycles"]
        else:
            out["rows_cycles"] = out["cycles"]
        return out
    finally:
        if isinstance(counters, _PostgresCounters):
            counters.close()
        fleet.stop()


def _fmt_bytes(n: float) -> str:
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n:.0f} B"


def _rows_per_cycle(r: dict) -> tuple[float, str]:
    """Rows changed per cycle (+inserted ~updated -deleted), and the busiest tables the same way."""
    ins, upd, dele = (x / r["rows_cycles"] for x in r["row_ops"])
    per = {t: tuple(x / r["rows_cycles"] for x in v) for t, v in r["rows"].items()}
    top = sorted(per.items(), key=lambda kv: -sum(kv[1]))[:5]
    return ins + upd + dele, (f"+{ins:,.0f} ~{upd:,.0f} -{dele:,.0f}; by table: "
                              + ", ".join(f"{t} +{i:.0f} ~{u:.0f} -{d:.0f}" for t, (i, u, d) in top))


def measure_writes(res: Results, tmp: TempDir, bins: zumik.Binaries, cluster: postgres.Cluster, cycles: int) -> None:
    setups = [
        ("sqlite", f"1 × {WRITE_PROPERTIES:,} on SQLite", ("single",), False),
        ("pg1", f"{WRITE_PROPERTIES:,} × 1 location on PostgreSQL", ("single",), True),
        ("pg3", f"{WRITE_PROPERTIES:,} × {len(LOCATIONS)} locations on PostgreSQL", LOCATIONS, True),
    ]
    got = {}
    with nginx(tmp) as port:
        for tag, label, locs, on_pg in setups:
            log(f"many locations, store writes: {label}, {cycles} cycles of {WRITE_INTERVAL_S:.0f} s")
            try:
                got[tag] = _writes_setup(tmp, bins, cluster, port, tag, locs, on_pg, cycles)
            except BenchError as e:
                res.notes.append(f"many locations, store writes, {label}: not measured: {e}")
    pg3, pg1, lite = got.get("pg3"), got.get("pg1"), got.get("sqlite")
    rows1 = bytes1 = None
    for tag, r in got.items():
        what = dict((t, l) for t, l, _, _ in setups)[tag]
        rows, split = _rows_per_cycle(r)
        lag = "" if r["idle"] else "; the fleet did not keep up with the interval (no idle moment between cycles)"
        per = f"per cycle ({r['cycles']:.1f} cycles measured{lag}): rows {split}"
        if tag == "sqlite":
            rows1, bytes1 = rows, r["bytes"] / r["cycles"]
            per += (f"; {r['writes'] / r['cycles']:,.0f} write calls, {_fmt_bytes(bytes1)} (the monitor's /proc "
                    f"wchar); files grew {_fmt_bytes(r['size'] / r['cycles'])}")
        else:
            per += (f"; {r['commits'] / r['cycles']:,.0f} commits, {r['locks'] / r['cycles']:,.0f} row locks, "
                    f"WAL {_fmt_bytes(r['bytes'] / r['cycles'])} of which full-page images "
                    f"{_fmt_bytes(r['fpi'] / r['cycles'])}; server CPU {fmt_ms(r['cpu_db'] / r['cycles'])}")
            waits = sorted(r["lock_waits"].items(), key=lambda kv: -kv[1])[:3]
            per += ("; backends waiting for a lock (mean over the window's polls): "
                    + (", ".join(f"{n:.1f} in `{stmt.strip()}…`" for stmt, n in waits) if waits else "none"))
        res.notes.append(f"many locations, store writes, {what}: {per}")
    res.notes.append("many locations, store writes: PostgreSQL rows and commits are counted from the WAL between "
                     "the window's LSNs (pg_walinspect); the split by table is pg_stat_user_tables (flushed lazily, "
                     "approximate); each window starts and ends while the store is idle between cycles, after a "
                     "CHECKPOINT and one warm-up cycle")
    if not pg3:
        res.missing("7", f"store writes, {WRITE_PROPERTIES:,} properties × {len(LOCATIONS)} locations",
                    "not measured (see the notes)")
        return
    name3 = f"{WRITE_PROPERTIES:,} properties × {len(LOCATIONS)} locations, PostgreSQL"
    per_hour = 3600 / HOURLY_AT_S
    rows3, _ = _rows_per_cycle(pg3)
    bytes3 = pg3["bytes"] / pg3["cycles"]
    peer_rows = peer_bytes = rat_rows = rat_bytes = ""
    if lite:
        peer_rows, rat_rows = f"SQLite 1 × {WRITE_PROPERTIES:,}: {rows1:,.0f}", ratio(rows3, rows1)
        peer_bytes, rat_bytes = f"SQLite file writes {_fmt_bytes(bytes1)}", ratio(bytes3, bytes1)
    grow_rows = grow_bytes = ""
    if pg1:
        rows_pg1, _ = _rows_per_cycle(pg1)
        bytes_pg1 = pg1["bytes"] / pg1["cycles"]
        grow_rows = f"1 location on PostgreSQL: {rows_pg1:,.0f} (3 ÷ 1 = {rows3 / rows_pg1:.2f}×)"
        grow_bytes = f"1 location on PostgreSQL: {_fmt_bytes(bytes_pg1)} (3 ÷ 1 = {bytes3 / bytes_pg1:.2f}×)"
    res.add("7", f"store rows written per cycle (insert + update + delete), {name3}", f"{rows3:,.0f}", peer_rows,
            rat_rows, "measure and show", grow_rows)
    res.add("7", f"store bytes written per cycle (PostgreSQL: WAL), {name3}", _fmt_bytes(bytes3), peer_bytes,
            rat_bytes, "measure and show", grow_bytes)
    res.add("7", f"store writes per hour at a {HOURLY_AT_S:.0f} s interval, {name3}: rows / bytes",
            f"{rows3 * per_hour:,.0f} / {_fmt_bytes(bytes3 * per_hour)}",
            f"SQLite {rows1 * per_hour:,.0f} / {_fmt_bytes(bytes1 * per_hour)}" if lite else "", "",
            "measure and show", "")
    cpu3 = (pg3["cpu_db"] + pg3["cpu_monitors"]) / pg3["cycles"]
    fig = (f"{fmt_ms(cpu3)} (PostgreSQL server {fmt_ms(pg3['cpu_db'] / pg3['cycles'])}, 3 monitors "
           f"{fmt_ms(pg3['cpu_monitors'] / pg3['cycles'])})")
    peer_cpu = rat_cpu = ""
    if lite:
        cpu1 = lite["cpu_monitors"] / lite["cycles"]
        peer_cpu, rat_cpu = f"SQLite monitor {fmt_ms(cpu1)}", ratio(cpu3, cpu1)
    res.add("7", f"CPU per cycle, {name3}: database + monitors", fig, peer_cpu, rat_cpu, "measure and show",
            f"1 location on PostgreSQL: server {fmt_ms(pg1['cpu_db'] / pg1['cycles'])}, monitor "
            f"{fmt_ms(pg1['cpu_monitors'] / pg1['cycles'])}" if pg1 else "")


# --------------------------------------------------------------------------- the section


def measure(res: Results, bins: zumik.Binaries, quick: bool = False) -> None:
    tmp = TempDir("zumik-bench-locations-")
    cluster = None
    try:
        cluster = postgres.Cluster()
        for part, fn in (("detection", lambda: measure_detection(res, tmp, bins, cluster, k=5 if quick else 10)),
                         ("failover", lambda: measure_failover(res, tmp, bins, cluster, trials=1 if quick else 3)),
                         ("store writes", lambda: measure_writes(res, tmp, bins, cluster, cycles=2 if quick else 3))):
            try:
                fn()
            except BenchError as e:
                res.missing("7", part, str(e))
    except BenchError as e:
        res.missing("7", "many locations", str(e))
    finally:
        if cluster:
            cluster.stop()
        tmp.cleanup()

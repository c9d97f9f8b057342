"""How the harness drives Zumik's own programs: binaries, bundles, the agent, the monitor's config.

Everything that depends on our CLIs, file formats and schemas is here, so that a change in one of them is a
change in one place.
"""

from __future__ import annotations

import glob
import json
import os
import secrets
import shutil
import sqlite3
import subprocess
import time
from dataclasses import dataclass

from common import BenchError, Daemon, TempDir, free_port, wait_http

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
AGENT_CATALOG_PATH = "/v1/actions"


def agent_run_path(action_id: str) -> str:
    return f"/v1/actions/{action_id}/run"


@dataclass
class Binaries:
    agent: str
    monitor: str
    actions: str
    plugin_dir: str  # holds libDockerActions.so and libNginxActions.so
    source_root: str = ROOT  # Plugins/*/manifest.json are read from here

    @staticmethod
    def resolve(bin_dir: str, agent=None, monitor=None, actions=None, plugin_dir=None, source_root=None) -> "Binaries":
        b = Binaries(agent or os.path.join(bin_dir, "zumik-ops-agent"),
                     monitor or os.path.join(bin_dir, "zumik-monitor"),
                     actions or os.path.join(bin_dir, "zumik-actions"),
                     plugin_dir or bin_dir, source_root or ROOT)
        return b

    def library(self, name: str) -> str:
        p = os.path.join(self.plugin_dir, f"lib{name}.so")
        if not os.path.isfile(p):
            raise BenchError(f"{p} missing (swift build -c release builds it)")
        return p

    def manifest_template(self, name: str) -> dict:
        p = os.path.join(self.source_root, "Plugins", name, "manifest.json")
        with open(p) as f:
            return json.load(f)


def _run(argv: list[str], what: str, env: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    if not os.access(argv[0], os.X_OK):
        raise BenchError(f"{argv[0]} missing (build it with swift build -c release)")
    p = subprocess.run(argv, capture_output=True, env=env, timeout=timeout)
    if p.returncode != 0:
        raise BenchError(f"{what}: {' '.join(os.path.basename(a) for a in argv[:2])} exited {p.returncode}: "
                         f"{(p.stderr or p.stdout).decode(errors='replace').strip()[-300:]}")
    return p


# --------------------------------------------------------------------------- bundles


def true_action(action_id: str) -> dict:
    """A diagnostic action running /bin/true with limits that never get in a benchmark's way."""
    return {
        "id": action_id,
        "title": "Benchmark no-op",
        "description": "Runs /bin/true. Used by the benchmark only.",
        "kind": "diagnostic",
        "argv": ["/bin/true"],
        "timeout_s": 10,
        "kill_grace_s": 1,
        "lock": action_id,
        "limits": {"max_runs": 1000, "window_s": 1},
        "targets": ["bench"],
        "rank": 0,
        "max_output_bytes": 4096,
    }


def patch_bundle_id(data: bytes, old: str, new: str) -> bytes:
    """Rewrites a plugin's bundle-id string to another of the same length.

    Swift stores a literal of at most 15 UTF-8 bytes inline (a "small string": the bytes in two 64-bit words, the
    last byte 0xE0 | count), longer ones as C strings; handle both. Raises if the id is not found.
    """
    assert len(old) == len(new)
    o, n = old.encode(), new.encode()
    count = 0
    if len(o) <= 15:
        if len(o) > 8:
            tail_o, tail_n = o[8:] + bytes([0xE0 | len(o)]), n[8:] + bytes([0xE0 | len(n)])
            head = o[:8]
            if head != n[:8]:
                raise BenchError(f"patch_bundle_id: new id must keep the first 8 bytes ({head!r})")
            count = data.count(tail_o)
            data = data.replace(tail_o, tail_n)
    c = data.count(o + b"\0")
    data = data.replace(o + b"\0", n + b"\0")
    count += c
    if count == 0 and 8 < len(o) <= 15:
        # Last resort: the two halves materialised apart (e.g. by separate immediates); patch a tail that
        # follows its head within 32 bytes.
        head, tail_o, tail_n = o[:8], o[8:], n[8:]
        buf = bytearray(data)
        at = buf.find(head)
        while at != -1:
            t = buf.find(tail_o, at + 8, at + 8 + 32)
            if t != -1:
                buf[t:t + len(tail_o)] = tail_n
                count += 1
            at = buf.find(head, at + 1)
        data = bytes(buf)
    if count == 0:
        raise BenchError(f"bundle id {old!r} not found in the plugin library")
    return data


class BundleKit:
    """A signing key, its trusted-keys dir, and bundle directories packed with `zumik-actions pack`."""

    def __init__(self, tmp: TempDir, bins: Binaries, key_id: str = "bench-key"):
        self.tmp = tmp
        self.bins = bins
        self.trusted_keys = tmp.sub("trusted-keys", mode=0o755)
        self.private = tmp.sub("private-keys")
        self.state = tmp.sub("agent-state", mode=0o755)
        _run([bins.actions, "keygen", "--key-id", key_id, "--out", self.private], "keygen")
        pubs = glob.glob(os.path.join(self.private, "*.pub.json"))
        privs = [p for p in glob.glob(os.path.join(self.private, "*.json")) if not p.endswith(".pub.json")]
        if len(pubs) != 1 or len(privs) != 1:
            raise BenchError(f"keygen wrote {sorted(os.listdir(self.private))}; expected one key and one .pub.json")
        shutil.copy(pubs[0], os.path.join(self.trusted_keys, os.path.basename(pubs[0])))
        os.chmod(os.path.join(self.trusted_keys, os.path.basename(pubs[0])), 0o644)
        self.key = privs[0]
        self._sets = 0

    def bundle_set(self, name: str, bundles: list[tuple[str, dict, str]]) -> str:
        """A bundles directory holding (dir name, manifest template, library path) each packed and signed."""
        root = self.tmp.sub(f"bundles-{name}", mode=0o755)
        work = self.tmp.sub(f"templates-{name}")
        for dirname, manifest, library in bundles:
            template = os.path.join(work, f"{dirname}.json")
            with open(template, "w") as f:
                json.dump(manifest, f, indent=2)
            _run([self.bins.actions, "pack", "--manifest", template, "--library", library, "--key", self.key,
                  "--out", os.path.join(root, dirname)], f"pack {dirname}")
        return root

    def pack_true_bundle(self, ids: list[str]) -> str:
        manifest = self.bins.manifest_template("DockerActions")
        manifest["actions"] = [true_action(i) for i in ids]
        self.true_bundles = self.bundle_set("true", [("bench", manifest, self.bins.library("DockerActions"))])
        return self.true_bundles

    def shipped_bundles(self, name: str) -> tuple[str, int]:
        bundles = []
        actions = 0
        for plugin in ("DockerActions", "NginxActions"):
            m = self.bins.manifest_template(plugin)
            actions += len(m["actions"])
            bundles.append((plugin.lower(), m, self.bins.library(plugin)))
        return self.bundle_set(name, bundles), actions

    def variant_bundles(self, name: str, count: int) -> tuple[str, int]:
        """`count` distinct signed bundles: copies of the Docker plugin with patched bundle ids."""
        base = self.bins.manifest_template("DockerActions")
        old_id = base["bundle"]["id"]
        with open(self.bins.library("DockerActions"), "rb") as f:
            lib = f.read()
        libs = self.tmp.sub(f"libs-{name}")
        bundles = []
        actions = 0
        for i in range(count):
            new_id = (old_id[:-3] + f"{i:03d}") if len(old_id) >= 11 else None
            if new_id is None:
                raise BenchError(f"bundle id {old_id!r} too short to derive variants")
            path = os.path.join(libs, f"libDockerActions{i:03d}.so")
            with open(path, "wb") as f:
                f.write(patch_bundle_id(lib, old_id, new_id))
            m = json.loads(json.dumps(base))
            m["bundle"]["id"] = new_id
            for a in m["actions"]:
                a["id"] = f"v{i:03d}_{a['id']}"[:64]
                a["lock"] = f"v{i:03d}-{a['lock']}"
            actions += len(m["actions"])
            bundles.append((f"variant{i:03d}", m, path))
        return self.bundle_set(name, bundles), actions


def actions_list_command(bins: Binaries, kit: BundleKit, bundles_dir: str) -> list[str]:
    return [bins.actions, "list", "--bundles-dir", bundles_dir, "--trusted-keys-dir", kit.trusted_keys,
            "--state-dir", kit.state, "--json"]


def count_listed_actions(out: bytes) -> int:
    try:
        doc = json.loads(out)
    except ValueError:
        return -1
    if isinstance(doc, dict):
        doc = doc.get("actions", [])
    return len(doc) if isinstance(doc, list) else -1


# --------------------------------------------------------------------------- the agent


class Agent:
    """zumik-ops-agent on a free loopback port with a bundles dir, the kit's trusted keys and a private state."""

    def __init__(self, tmp: TempDir, bins: Binaries, kit: BundleKit, bundles_dir: str | None = None,
                 rate_limit_high: bool = True, extra_env: dict | None = None):
        self.token = "bench-" + secrets.token_hex(16)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        state = tmp.sub(f"agent-state-{self.port}", mode=0o755)
        env = {
            "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
            "OPS_AGENT_TOKEN": self.token,
            "OPS_AGENT_LISTEN": f"127.0.0.1:{self.port}",
            "ZUMIK_BUNDLES_DIR": bundles_dir or kit.true_bundles,
            "ZUMIK_TRUSTED_KEYS_DIR": kit.trusted_keys,
            "ZUMIK_STATE_DIR": state,
            "ZUMIK_LOG_LEVEL": "warning",
        }
        if rate_limit_high:
            env["ZUMIK_RATE_LIMIT_BURST"] = "1000000"
            env["ZUMIK_RATE_LIMIT_PER_SECOND"] = "1000000"
        env.update(extra_env or {})
        if not os.access(bins.agent, os.X_OK):
            raise BenchError(f"{bins.agent} missing")
        self.daemon = Daemon(f"agent-{self.port}", [bins.agent], env=env, log_dir=tmp.path)

    @property
    def auth(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}

    def wait_ready(self, expected_actions: int, t0: float | None = None, timeout: float = 30) -> float:
        """Until /healthz is 200 and the catalog lists `expected_actions` actions; returns that moment."""
        wait_http(self.port, "/healthz", lambda s, b: s == 200, timeout=timeout, proc=self.daemon.proc,
                  interval=0.002)
        state = {}

        def ok(status, body):
            if status != 200:
                return False
            cat = json.loads(body)
            state["cat"] = cat
            return len(cat.get("actions", [])) >= expected_actions

        try:
            return wait_http(self.port, AGENT_CATALOG_PATH, ok, timeout=timeout, headers=self.auth,
                             proc=self.daemon.proc, interval=0.002)
        except BenchError as e:
            cat = state.get("cat", {})
            raise BenchError(f"agent catalog has {len(cat.get('actions', []))} of {expected_actions} actions; "
                             f"refused: {json.dumps(cat.get('refused_bundles', []))[:300]} ({e})") from None

    def run_action(self, action_id: str) -> dict:
        import http.client
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request("POST", agent_run_path(action_id), body=b'{"reason":"benchmark check"}',
                         headers=dict(self.auth, **{"Content-Type": "application/json"}))
            r = conn.getresponse()
            body = r.read()
            if r.status != 200:
                raise BenchError(f"agent run {action_id}: HTTP {r.status} {body[:300]!r}")
            return json.loads(body)
        finally:
            conn.close()

    def stop(self) -> None:
        self.daemon.stop()


# --------------------------------------------------------------------------- the monitor


@dataclass
class Property:
    name: str
    url: str
    timeout_s: float = 5.0
    alert_only: bool = True
    host: str | None = None
    service: str | None = None


def _yaml_str(s: str) -> str:
    return json.dumps(s)  # a JSON string is a valid YAML flow scalar


def _dur(seconds: float) -> str:
    return f"{int(round(seconds * 1000))}ms"


def monitor_config(tmp: TempDir, props: list[Property], name: str, interval_s: float = 60,
                   confirmation_s: float | None = 10, max_in_flight: int = 64, store: str | None = None,
                   extra: str = "") -> str:
    """The monitor's YAML configuration (keys: Sources/Monitor/Config/ConfigLoader.swift). Properties with a
    `host` use the `default` host, i.e. OPS_AGENT_URL / OPS_AGENT_TOKEN from the environment."""
    store = store or os.path.join(tmp.path, f"monitor-{name}.sqlite")
    lines = [
        f"interval: {_dur(interval_s)}",
        f"confirmation_delay: {_dur(confirmation_s) if confirmation_s else 'false'}",
        f"max_in_flight: {max_in_flight}",
        f"store_path: {_yaml_str(store)}",
        "control:",
        f"  listen: {_yaml_str(f'127.0.0.1:{free_port()}')}",
        "properties:",
    ]
    for p in props:
        lines += [f"  - name: {_yaml_str(p.name)}", f"    url: {_yaml_str(p.url)}", f"    timeout: {_dur(p.timeout_s)}",
                  f"    alert_only: {'true' if p.alert_only else 'false'}"]
        if p.host:
            lines.append(f"    host: {_yaml_str(p.host)}")
        if p.service:
            lines.append(f"    service: {_yaml_str(p.service)}")
    return "\n".join(lines) + "\n" + extra


def remediation_config(openai_base_url: str) -> str:
    """The remediation section: the model endpoint (our stand-in) and short waits, so rounds follow quickly."""
    return "\n".join([
        "remediation:",
        f"  base_url: {_yaml_str(openai_base_url)}",
        "  model: gpt-4o-mini",
        "  settle_seconds: 1",
    ]) + "\n"


def monitor_env(extra: dict | None = None) -> dict:
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/tmp"}
    env.update(extra or {})
    return env


def monitor_check_command(bins: Binaries, config: str) -> tuple[list[str], dict]:
    return [bins.monitor, "check", "--config", config], monitor_env()


def monitor_run_command(bins: Binaries, config: str) -> tuple[list[str], dict]:
    return [bins.monitor, "run", "--config", config], monitor_env()


def count_healthy_in_check_output(out: bytes, n: int) -> int:
    """Rows of `check`'s table (PROPERTY STATE STATUS ...) whose state is healthy."""
    rows = [line.split() for line in out.decode(errors="replace").splitlines()]
    return sum(1 for r in rows if len(r) >= 2 and r[1] == "healthy")


CYCLE_DONE = b"probe cycle done"


def parse_cycle_line(line: bytes) -> tuple[int, float] | None:
    """(properties, wall seconds) of a `probe cycle done` log line of `zumik-monitor run` (logfmt; keys
    `cycle.properties`, `cycle.duration_ms`: Sources/Monitor/Service/ProbeCycle.swift), else None."""
    if CYCLE_DONE not in line:
        return None
    fields = dict(f.split(b"=", 1) for f in line.split() if b"=" in f)
    try:
        return int(fields[b"cycle.properties"]), float(fields[b"cycle.duration_ms"]) / 1000.0
    except (KeyError, ValueError):
        return None


class CycleLog:
    """Follows a running monitor's log file and hands out its `probe cycle done` lines as they appear, each with
    the monotonic time the harness saw it (polled every 2 ms)."""

    def __init__(self, path: str):
        self.path = path
        self.f = None
        self.pending = b""

    def next(self, timeout: float, proc: subprocess.Popen | None = None) -> tuple[int, float, float]:
        """(properties, wall seconds, seen at) of the next cycle; raises BenchError after `timeout`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.f is None and os.path.exists(self.path):
                self.f = open(self.path, "rb")
            if self.f is not None:
                self.pending += self.f.read()
                while b"\n" in self.pending:
                    line, self.pending = self.pending.split(b"\n", 1)
                    cycle = parse_cycle_line(line)
                    if cycle:
                        return cycle[0], cycle[1], time.monotonic()
            if proc is not None and proc.poll() is not None:
                raise BenchError(f"zumik-monitor run exited {proc.returncode} before a cycle was done")
            time.sleep(0.002)
        raise BenchError(f"no 'probe cycle done' line in {self.path} within {timeout:.0f}s")

    def close(self) -> None:
        if self.f:
            self.f.close()


def control_port_of(config_text: str) -> int:
    for line in config_text.splitlines():
        if line.startswith("  listen:"):
            return int(json.loads(line.split(":", 1)[1].strip()).rsplit(":", 1)[1])
    raise BenchError("no control listen address in config")


def monitor_metric_sums(exposition: bytes, names: tuple[str, ...]) -> dict[str, float]:
    """Sums of each named series in a /metrics exposition, by name + label set without `property`
    (e.g. `zumik_monitor_probes_total{outcome="healthy"}`)."""
    out: dict[str, float] = {}
    for raw in exposition.decode(errors="replace").splitlines():
        if raw.startswith("#") or " " not in raw:
            continue
        series, value = raw.rsplit(" ", 1)
        name, _, labels = series.partition("{")
        if name not in names:
            continue
        kept = ",".join(lab for lab in labels.rstrip("}").split(",") if lab and not lab.startswith("property="))
        key = f"{name}{{{kept}}}" if kept else name
        try:
            out[key] = out.get(key, 0.0) + float(value)
        except ValueError:
            pass
    return out


def store_path_of(config_text: str) -> str:
    for line in config_text.splitlines():
        if line.startswith("store_path:"):
            return json.loads(line.split(":", 1)[1].strip())
    raise BenchError("no store path in config")


class StoreReader:
    """Reads the monitor's SQLite file read-only, to see when an alert reaches the outbox."""

    def __init__(self, path: str):
        self.path = path
        self.db = None

    def _open(self):
        if self.db is None:
            if not os.path.exists(self.path):
                return None
            self.db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=1.0)
        return self.db

    def outbox_rows(self) -> list[tuple[int, str]]:
        """Every outbox row as (id, text of its kind and payload), oldest first."""
        db = self._open()
        if db is None:
            return []
        try:
            cols = [r[1] for r in db.execute("PRAGMA table_info(outbox)")]
            if not cols:
                return []
            text_cols = [c for c in ("kind", "payload") if c in cols] or cols
            key = "id" if "id" in cols else "rowid"
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if "incident_id" in cols and "incidents" in tables:
                # An incident's rows are render instructions ({"render":"incident",...}); the text is made at
                # delivery. Its first row is the opening: say what it opened as, as the message's title does.
                rows = db.execute(
                    "SELECT o.id, o.kind, o.payload, "
                    "CASE WHEN o.id = (SELECT min(x.id) FROM outbox x WHERE x.incident_id = o.incident_id) "
                    "THEN i.property || ' is ' || i.health ELSE '' END "
                    "FROM outbox o LEFT JOIN incidents i ON i.id = o.incident_id ORDER BY o.id").fetchall()
            else:
                rows = db.execute(f"SELECT {key}, {', '.join(text_cols)} FROM outbox ORDER BY {key}").fetchall()
            return [(r[0], " ".join(str(x) for x in r[1:])) for r in rows]
        except sqlite3.Error:
            return []

    def close(self):
        if self.db:
            self.db.close()
            self.db = None


# --------------------------------------------------------------------------- the probe history (section 6)

HISTORY_PHASES = ("dns", "connect", "tls", "first_byte", "total")


def _histogram_bucket(ms: float) -> int:
    """The bucket of LatencyHistogram (Sources/Monitor/Store/History/LatencyHistogram.swift): 0.5 ms × 1.25^i."""
    for i in range(53):
        if ms <= 0.5 * 1.25 ** i:
            return i
    return 53


def _histogram_blob(counts: dict[int, int]) -> bytes:
    """LatencyHistogram's stored form: per non-zero bucket, its index byte and its count as LEB128."""
    out = bytearray()
    for bucket in sorted(counts):
        out.append(bucket)
        count = counts[bucket]
        while True:
            low = count & 0x7F
            count >>= 7
            out.append(low | (0x80 if count else 0))
            if not count:
                break
    return bytes(out)


def seed_history(store: str, names: list[str], days: int, hourly_days: int, end: float) -> int:
    """Writes roll-ups into a monitor's store (tables of migration monitor-v3-history,
    Sources/Monitor/Store/SQLite/HistoryRepository.swift), as 90 days of the roll-up service would: one
    probe a minute, latencies spread over a few buckets per phase, a 7-minute outage every ~97 hours.
    `days` daily rows and the last `hourly_days` days of hourly rows per property, ending at `end` (a UTC
    midnight, exclusive). Returns the rows written."""
    db = sqlite3.connect(store, timeout=30)
    rows = 0
    columns = "property, start, healthy, degraded, down, observed, downtime, " + ", ".join(
        f"lat_{p}" for p in HISTORY_PHASES)
    marks = ", ".join("?" * (7 + len(HISTORY_PHASES)))
    with db:
        for d in range(days):
            day_start = end - (days - d) * 86400
            for p, name in enumerate(names):
                day = [0, 0, 0, 0.0, 0.0, {ph: {} for ph in HISTORY_PHASES}]
                for h in range(24):
                    seed = p * 100_000 + d * 24 + h
                    down = 7 if seed % 97 == 0 else 0
                    healthy = 60 - down
                    lat = {}
                    for ph in HISTORY_PHASES:
                        base = 40.0 if ph == "total" else 25.0 if ph == "first_byte" else 3.0
                        counts: dict[int, int] = {}
                        for k in range(13):
                            share = healthy // 13 + (1 if (k + seed) % 13 < healthy % 13 else 0)
                            b = _histogram_bucket(base * (1 + k / 10))
                            counts[b] = counts.get(b, 0) + share
                        lat[ph] = counts
                        for b, c in counts.items():
                            day[5][ph][b] = day[5][ph].get(b, 0) + c
                    day[0] += healthy
                    day[2] += down
                    day[3] += 3600.0
                    day[4] += down * 60.0
                    if d >= days - hourly_days:
                        db.execute(f"INSERT OR REPLACE INTO history_hourly ({columns}) VALUES ({marks})",
                                   [name, day_start + h * 3600, healthy, 0, down, 3600.0, down * 60.0]
                                   + [_histogram_blob(lat[ph]) for ph in HISTORY_PHASES])
                        rows += 1
                db.execute(f"INSERT OR REPLACE INTO history_daily ({columns}) VALUES ({marks})",
                           [name, day_start, day[0], day[1], day[2], day[3], day[4]]
                           + [_histogram_blob(day[5][ph]) for ph in HISTORY_PHASES])
                rows += 1
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return rows

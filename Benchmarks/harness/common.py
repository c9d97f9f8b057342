"""Shared plumbing for the benchmark harness: processes, ports, nginx, rusage, statistics.

Everything here talks to loopback only and every wait is bounded in time.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field

LOOPBACK = "127.0.0.1"


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class BenchError(Exception):
    """A measurement could not be taken; the message says which and why."""


# --------------------------------------------------------------------------- ports, files


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 15.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise BenchError(f"process {proc.args!r} exited with {proc.returncode} before listening on {port}")
        with contextlib.suppress(OSError), socket.create_connection((LOOPBACK, port), timeout=0.5):
            return
        time.sleep(0.02)
    raise BenchError(f"nothing listens on {LOOPBACK}:{port} after {timeout:.0f}s")


def http_get(port: int, path: str, headers: dict | None = None, timeout: float = 5.0) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(LOOPBACK, port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def wait_http(port: int, path: str, ok, timeout: float = 20.0, headers: dict | None = None,
              proc: subprocess.Popen | None = None, interval: float = 0.005) -> float:
    """Polls until ok(status, body) is true; returns the monotonic time it first was."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise BenchError(f"{os.path.basename(str(proc.args[0]))} exited with {proc.returncode} "
                             f"while waiting for {path}")
        try:
            status, body = http_get(port, path, headers, timeout=2.0)
            if ok(status, body):
                return time.monotonic()
            last = f"HTTP {status}: {body[:200]!r}"
        except OSError as e:
            last = str(e)
        time.sleep(interval)
    raise BenchError(f"{LOOPBACK}:{port}{path} not ready after {timeout:.0f}s (last: {last})")


class TempDir:
    """A private temporary directory, mode 0700, parent /tmp (root-owned and sticky)."""

    def __init__(self, prefix: str = "zumik-bench-"):
        self.path = tempfile.mkdtemp(prefix=prefix)
        os.chmod(self.path, 0o700)

    def sub(self, *parts: str, mode: int = 0o700) -> str:
        p = os.path.join(self.path, *parts)
        os.makedirs(p, exist_ok=True)
        os.chmod(p, mode)
        return p

    def file(self, name: str, text: str | bytes, mode: int = 0o600) -> str:
        p = os.path.join(self.path, name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb" if isinstance(text, bytes) else "w") as f:
            f.write(text)
        os.chmod(p, mode)
        return p

    def cleanup(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


# --------------------------------------------------------------------------- processes


@dataclass
class RunResult:
    returncode: int
    wall_s: float
    user_s: float
    sys_s: float
    maxrss_kb: int
    stdout: bytes = b""
    stderr: bytes = b""

    @property
    def cpu_s(self) -> float:
        return self.user_s + self.sys_s


def run_measured(argv: list[str], timeout: float, env: dict | None = None, cwd: str | None = None,
                 stdin: bytes | None = None) -> RunResult:
    """Runs argv to completion; wall time, CPU and peak RSS of the child come from wait4's rusage."""
    out = tempfile.TemporaryFile()
    err = tempfile.TemporaryFile()
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                         env=env, cwd=cwd, start_new_session=True)
    if stdin is not None:
        p.stdin.write(stdin)
        p.stdin.close()
    timed_out = threading.Event()

    def kill():
        timed_out.set()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(p.pid, signal.SIGKILL)

    timer = threading.Timer(timeout, kill)
    timer.start()
    try:
        _, status, ru = os.wait4(p.pid, 0)  # blocking: the wall time is exact
    finally:
        timer.cancel()
    if timed_out.is_set():
        raise BenchError(f"{os.path.basename(argv[0])} did not finish within {timeout:.0f}s")
    wall = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    out.seek(0)
    err.seek(0)
    return RunResult(p.returncode, wall, ru.ru_utime, ru.ru_stime, ru.ru_maxrss, out.read(), err.read())


class Daemon:
    """A long-running process in its own session, stopped (group-wide) on exit."""

    def __init__(self, name: str, argv: list[str], env: dict | None = None, cwd: str | None = None,
                 log_dir: str | None = None):
        self.name = name
        self.log_path = os.path.join(log_dir or tempfile.gettempdir(), f"{name}.log")
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(argv, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     env=env, cwd=cwd, start_new_session=True)
        self.started = time.monotonic()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log_tail(self, n: int = 15) -> str:
        try:
            with open(self.log_path, "rb") as f:
                return b"".join(f.read().splitlines(keepends=True)[-n:]).decode(errors="replace")
        except OSError:
            return ""

    def stop(self, timeout: float = 5.0) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        else:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)
        self._log.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


CLK_TCK = os.sysconf("SC_CLK_TCK")


def proc_cpu_s(pid: int) -> float:
    """utime + stime of a live process (all threads), from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_cpu_ns_s(pid: int) -> float:
    """CPU time of a live process in seconds with nanosecond resolution: the sum over its threads of
    /proc/PID/task/TID/schedstat's first field (time on CPU). Falls back to proc_cpu_s (clock ticks, 10 ms)."""
    total = 0
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                    total += int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                continue  # a thread that just exited
    except OSError:
        return proc_cpu_s(pid)
    return total / 1e9 if total else proc_cpu_s(pid)


def proc_status_kb(pid: int, key: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise BenchError(f"/proc/{pid}/status has no {key}")


# --------------------------------------------------------------------------- nginx


NGINX_CONF = """
worker_processes 2;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
daemon off;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    keepalive_timeout 0;
    client_body_temp_path {prefix}/tmp;
    proxy_temp_path {prefix}/tmp;
    fastcgi_temp_path {prefix}/tmp;
    uwsgi_temp_path {prefix}/tmp;
    scgi_temp_path {prefix}/tmp;
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location / {{ default_type text/plain; return 200 "ok\\n"; }}
    }}
}}
"""


@contextlib.contextmanager
def nginx(tmp: TempDir, nginx_bin: str = "/usr/sbin/nginx"):
    """A real nginx on a free loopback port serving 200 "ok" on every path, fresh connection each."""
    if not os.access(nginx_bin, os.X_OK):
        raise BenchError(f"{nginx_bin} missing (apt-get install nginx)")
    prefix = tmp.sub("nginx")
    os.makedirs(os.path.join(prefix, "tmp"), exist_ok=True)
    port = free_port()
    conf = os.path.join(prefix, "nginx.conf")
    with open(conf, "w") as f:
        f.write(NGINX_CONF.format(prefix=prefix, port=port))
    d = Daemon("nginx", [nginx_bin, "-p", prefix, "-c", conf, "-e", os.path.join(prefix, "error.log")],
               log_dir=tmp.path)
    try:
        wait_port(port, proc=d.proc)
        yield port
    finally:
        d.stop()


# --------------------------------------------------------------------------- statistics


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    k = (len(s) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


# --------------------------------------------------------------------------- the table


@dataclass
class Row:
    """One line of the results table."""

    section: str
    figure: str
    ours: str
    peer: str = ""
    ratio: str = ""
    aim: str = ""
    verdict: str = ""  # "met", "not met", "" (no aim), "n/a"


@dataclass
class Results:
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    build: str = ""
    # The figures behind the plots (harness/plots.py): series[plot][label] = data, as each section keeps them.
    series: dict[str, dict[str, object]] = field(default_factory=dict)

    def keep(self, plot: str, label: str, data: object) -> None:
        """Keeps `data` (samples, quantiles, per-N figures) for the plot named `plot`; None is ignored."""
        if data is not None:
            self.series.setdefault(plot, {})[label] = data

    def add(self, *args, **kw) -> Row:
        r = Row(*args, **kw)
        self.rows.append(r)
        return r

    def missing(self, section: str, figure: str, why: str, aim: str = "") -> None:
        why = " ".join(why.split())
        if len(why) > 160:
            why = why[:157] + "..."
        self.rows.append(Row(section, figure, "n/a", "", "", aim, "n/a"))
        self.notes.append(f"{section} / {figure}: not measured: {why}")

    def markdown(self) -> str:
        head = ["#", "figure", "Zumik", "peer", "ratio", "aim", "verdict"]
        lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] * len(head)) + "|"]
        for r in sorted(self.rows, key=lambda r: r.section.split()[0]):  # stable: run order within a section
            cells = [r.section, r.figure, r.ours, r.peer, r.ratio, r.aim, r.verdict]
            lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
        return "\n".join(lines)


def fmt_ms(seconds: float) -> str:
    ms = seconds * 1000.0
    if ms != ms:
        return "n/a"
    if ms < 10:
        return f"{ms:.2f} ms"
    if ms < 100:
        return f"{ms:.1f} ms"
    return f"{ms:.0f} ms"


def fmt_us(seconds: float) -> str:
    return f"{seconds * 1e6:.0f} µs"


def fmt_mb(kb: float) -> str:
    return f"{kb / 1024:.1f} MB"


def ratio(ours: float, peer: float) -> str:
    if not peer or peer != peer or ours != ours:
        return ""
    return f"{ours / peer:.2f}×"


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def dumps(obj) -> str:
    return json.dumps(obj, indent=1, default=str)

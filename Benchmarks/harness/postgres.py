"""A throwaway PostgreSQL 15 cluster for the benchmark, and a psql session to read its counters.

Done as scripts/with-postgres.sh and Tests/ZumikTestSupport/Postgres/PostgresServer.swift do it: Debian's
`/usr/lib/postgresql/15/bin`, `initdb` and `pg_ctl` as the `postgres` user when run as root (initdb refuses
root), password auth (SCRAM) on 127.0.0.1 at a free port for the monitors, trust on a Unix socket in the
cluster's own directory for the harness. Unlike the tests, fsync stays on (the default): the monitors on
SQLite make each commit durable (`synchronous=FULL`), so both stores pay for durability alike.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
import time

from common import LOOPBACK, BenchError, free_port

BIN = "/usr/lib/postgresql/15/bin"
USER = "zumik"


class Cluster:
    """initdb + pg_ctl start; `stop()` removes it. Checkpoints are left to `CHECKPOINT` (timeout 1 h) so a
    measured window is not cut by a timed checkpoint's full-page images at a random moment."""

    def __init__(self):
        for tool in ("initdb", "pg_ctl", "postgres", "psql"):
            if not os.access(os.path.join(BIN, tool), os.X_OK):
                raise BenchError(f"PostgreSQL 15 is not installed ({BIN}/{tool} missing; scripts/setup.sh "
                                 "installs postgresql)")
        self.dir = tempfile.mkdtemp(prefix="zumik-bench-pg-")
        self.socket_dir = os.path.join(self.dir, "socket")
        self.data = os.path.join(self.dir, "data")
        self.log = os.path.join(self.dir, "postgres.log")
        self.port = free_port()
        self.password = secrets.token_hex(12)
        os.makedirs(self.socket_dir)
        with open(os.path.join(self.dir, "pwfile"), "w") as f:
            f.write(self.password)
        self.as_pg = []
        if os.geteuid() == 0:
            pg = pwd.getpwnam("postgres")
            for root, dirs, files in os.walk(self.dir):
                for p in [root] + [os.path.join(root, x) for x in dirs + files]:
                    os.chown(p, pg.pw_uid, pg.pw_gid)
            self.as_pg = ["/usr/sbin/runuser", "-u", "postgres", "--"]
        self.started = False
        try:
            self._run([f"{BIN}/initdb", "-D", self.data, "-U", USER, "-E", "UTF8", "--locale=C",
                       "--auth-local=trust", "--auth-host=scram-sha-256", f"--pwfile={self.dir}/pwfile", "--no-sync"])
            options = (f"-c listen_addresses={LOOPBACK} -p {self.port} -k {self.socket_dir} "
                       "-c checkpoint_timeout=1h -c max_wal_size=8GB -c max_connections=200")
            self._run([f"{BIN}/pg_ctl", "-D", self.data, "-l", self.log, "-w", "-t", "60", "-o", options, "start"])
            self.started = True
        except BaseException:
            self.stop()
            raise

    def _run(self, argv: list[str]) -> str:
        p = subprocess.run(self.as_pg + argv, capture_output=True, timeout=120, cwd="/")
        if p.returncode != 0:
            raise BenchError(f"{os.path.basename(argv[0])} exited {p.returncode}: "
                             f"{(p.stderr or p.stdout).decode(errors='replace').strip()[-300:]}")
        return p.stdout.decode()

    def url(self, database: str) -> str:
        return f"postgres://{USER}:{self.password}@{LOOPBACK}:{self.port}/{database}?sslmode=disable"

    def create_database(self, name: str) -> str:
        with self.session("postgres") as s:
            s.query(f"CREATE DATABASE {name}")
        return name

    def session(self, database: str) -> "Session":
        return Session(self, database)

    @property
    def postmaster_pid(self) -> int:
        with open(os.path.join(self.data, "postmaster.pid")) as f:
            return int(f.readline())

    def cpu_s(self) -> float:
        """CPU (user + sys) of the whole server so far: the postmaster, its live children, and the children
        it has reaped (cutime/cstime), from /proc."""
        from common import CLK_TCK
        pm = self.postmaster_pid
        total = 0.0
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            pid, ppid = int(entry), int(fields[1])
            if pid == pm:
                total += sum(int(x) for x in fields[11:15]) / CLK_TCK  # utime stime cutime cstime
            elif ppid == pm:
                total += (int(fields[11]) + int(fields[12])) / CLK_TCK
        return total

    def stop(self) -> None:
        if self.started:
            with contextlib.suppress(BenchError, subprocess.TimeoutExpired):
                self._run([f"{BIN}/pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop"])
            self.started = False
        shutil.rmtree(self.dir, ignore_errors=True)


class Session:
    """One long-lived `psql` on the cluster's Unix socket: a query costs a round trip, not a process start,
    so polling it every few milliseconds stays cheap. Rows come back as lists of strings."""

    END = "@@zumik-bench-end@@"

    def __init__(self, cluster: Cluster, database: str):
        # Errors (a query that fails answers no rows) go to a file, so an unread pipe can never block psql.
        self.errors = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen(
            [f"{BIN}/psql", "-h", cluster.socket_dir, "-p", str(cluster.port), "-U", USER, "-d", database,
             "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=0"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.errors, text=True, bufsize=1, cwd="/")

    def _stderr_tail(self) -> str:
        self.errors.seek(0)
        return self.errors.read()[-300:]

    def query(self, sql: str, timeout: float = 30) -> list[list[str]]:
        if self.proc.poll() is not None:
            raise BenchError(f"psql exited {self.proc.returncode}: {self._stderr_tail()}")
        self.proc.stdin.write(sql.rstrip().rstrip(";") + ";\n\\echo " + self.END + "\n")
        self.proc.stdin.flush()
        rows = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise BenchError(f"psql ended while answering {sql[:80]!r}: {self._stderr_tail()}")
            line = line.rstrip("\n")
            if line == self.END:
                return rows
            rows.append(line.split("\t"))
        raise BenchError(f"psql did not answer {sql[:80]!r} within {timeout:.0f}s")

    def scalar(self, sql: str) -> str:
        rows = self.query(sql)
        if not rows or not rows[0]:
            raise BenchError(f"no value from {sql[:80]!r}: {self._stderr_tail()}")
        return rows[0][0]

    def close(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(OSError, ValueError):
                self.proc.stdin.close()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.errors.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

#!/usr/bin/env python3
"""The Zumik ops demo: a real outage on a local Docker stack, detected and healed.

Runs inside scripts/with-docker.sh (a private Docker engine in a loopback-only network
namespace; DOCKER_HOST is set). Phases:

  1. stack     api-core, gateway and nginx as real containers (demo/compose.yaml)
  2. keys      an operator key made on the spot; the shipped bundles packed and signed with it
  3. agent     zumik-ops-agent serving the signed catalog
  4. monitor   zumik-monitor watching the stack through nginx (alerts to a local Discord
               stand-in that prints what the channel would show, unless DISCORD_WEBHOOK_URL
               is set; the ladder unless SEPARATE_OPENAI_KEY is set)
  5. outage    api-core is stopped; the monitor detects, alerts, diagnoses, fixes, re-probes
  6. summary   time to detect, time to recover, actions run; then everything is cleaned up

--ci: no pauses; exit 0 only when the outage was healed without paging a human, told in at
most three Discord posts (the incident's message, edited in place, and the recovery).

--locations N (2-10): N monitors, each in a network namespace of its own (demo/fleet.py), on one PostgreSQL
(scripts/with-postgres.sh, started by scripts/demo.sh); they decide by quorum and heal the outage once. With --ci
it also requires exactly one incident, one DOWN alert (the incident's message) and one fix run by the agent.
"""

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from fleet import Fleet

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEMO = os.path.join(ROOT, "demo")
AGENT_PORT = 18787
CONTROL_PORT = 18790
EDGE = "http://127.0.0.1:18080"
PROD_COMPOSE = "/srv/zumik/docker-compose.yml"


def say(phase, text):
    print(f"\033[1m[{phase}]\033[0m {text}", flush=True)


def run(argv, **kw):
    result = subprocess.run(argv, text=True, capture_output=True, **kw)
    if result.returncode != 0:
        raise SystemExit(f"demo: {' '.join(argv[:3])} … failed ({result.returncode}):\n{result.stderr.strip()}")
    return result


def http(method, url, token=None, body=None, timeout=3):
    req = urllib.request.Request(url, method=method, data=None if body is None else json.dumps(body).encode())
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    if body is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            data = r.read()
            return r.status, (json.loads(data) if data[:1] in (b"{", b"[") else data.decode())
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")
    except (urllib.error.URLError, OSError) as e:
        return None, str(e)


def wait_for(what, check, timeout, interval=0.25):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise SystemExit(f"demo: timed out after {timeout:.0f} s waiting for {what}")


class DemoDiscord:
    """A local Discord webhook stand-in: answers as Discord does (204; with ?wait=true a message object; 200 to
    PATCH …/messages/{id}), prints what the channel would show, and counts posts and edits."""

    def __init__(self, bind="127.0.0.1"):
        self.posts, self.edits, self.paged = [], [], False
        self.created = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _body(self):
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    return json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    return {}

            def _answer(self, status, body=None):
                data = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                if body is not None:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):  # noqa: N802
                body = self._body()
                owner.posts.append(body)
                owner.paged = owner.paged or bool((body.get("allowed_mentions") or {}).get("users"))
                number = len(owner.posts)
                say("discord", f"post {number}: {DemoDiscord.headline(body)}")
                if "wait=true" in self.path:
                    owner.created += 1
                    self._answer(200, {"id": str(1400000000000000000 + number), "channel_id": "1", "type": 0})
                else:
                    self._answer(204)

            def do_PATCH(self):  # noqa: N802
                body = self._body()
                owner.edits.append(body)
                say("discord", f"  edit {len(owner.edits)} of message {self.path.rsplit('/', 1)[-1]}: "
                    f"{DemoDiscord.headline(body)}")
                self._answer(200, {"id": self.path.rsplit("/", 1)[-1], "channel_id": "1", "type": 0})

        self.server = ThreadingHTTPServer((bind, 0), Handler)
        self.url = self.url_at("127.0.0.1")
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url_at(self, host):
        return f"http://{host}:{self.server.server_address[1]}/api/webhooks/1/demo-token"

    @staticmethod
    def headline(body):
        embed = (body.get("embeds") or [{}])[0]
        text = embed.get("title") or body.get("content") or ""
        steps = (embed.get("description") or "").split("\n")
        last = steps[-1].strip() if len(steps) > 2 else ""
        return text + (f" — latest: {last[:140]}" if last else "")

    def stop(self):
        self.server.shutdown()


class Child:
    """A program of ours, its output streamed to the terminal with a prefix."""

    def __init__(self, name, argv, env, log_path):
        self.name = name
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen(
            argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
        )
        self.lines = []
        self.thread = threading.Thread(target=self._pump, daemon=True)
        self.thread.start()

    def _pump(self):
        for line in self.proc.stdout:
            self.log.write(line)
            self.log.flush()
            self.lines.append(line.rstrip("\n"))
            print(f"  \033[2m{self.name:>7} |\033[0m {line.rstrip()}", flush=True)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.thread.join(timeout=2)
        self.log.close()


def compose(*args):
    return run(["docker", "compose", "-f", os.path.join(DEMO, "compose.yaml"), *args])


def monitor_config(work, store, edge=EDGE, control="127.0.0.1"):
    # A location (--locations) keeps its state in the shared PostgreSQL and serves its control API on its own
    # namespace's addresses (loopback only), where the demo asks it.
    store_line = "store: postgres" if store == "postgres" else f"store_path: {store}"
    return f"""# Written by the demo: the stack on this machine, watched through nginx as in production.
interval: 5s
confirmation_delay: 2s
success_threshold: 1
{store_line}
control:
  listen: {control}:{CONTROL_PORT}
remediation:
  settle_seconds: 3
properties:
  - name: api-core
    url: {edge}/api/healthz
    expected_status: [200]
    body_contains: ok
    timeout: 2s
    host: default
    service: api-core
  - name: api-v2
    url: {edge}/api/v2
    expected_status: [200]
    timeout: 2s
    host: default
    service: api-core
  - name: website
    url: {edge}/
    expected_status: [200]
    timeout: 2s
    host: default
    service: gateway
"""


def count_incidents():
    """Incidents in the shared PostgreSQL (scripts/with-postgres.sh's socket)."""
    out = run(["/usr/lib/postgresql/15/bin/psql", "-h", os.environ["ZUMIK_PG_SOCKET_DIR"], "-p",
               os.environ["ZUMIK_PG_PORT"], "-U", "zumik", "-d", "zumik", "-Atc", "SELECT count(*) FROM incidents"])
    return int(out.stdout.strip())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True, help="directory of the built binaries and bundles")
    parser.add_argument("--ci", action="store_true", help="non-interactive; exit 0 only if healed")
    parser.add_argument("--locations", type=int, default=1, choices=range(1, 11), metavar="N",
                        help="N monitors in N network namespaces on one PostgreSQL")
    args = parser.parse_args()
    binary = lambda name: os.path.join(args.bin, name)  # noqa: E731

    work = tempfile.mkdtemp(prefix="zumik-demo.")
    os.chmod(work, 0o700)
    children = []
    fleet = None
    discord = None
    started = time.monotonic()
    try:
        if args.locations > 1:
            if not os.environ.get("ZUMIK_DATABASE_URL"):
                raise SystemExit("demo: --locations needs PostgreSQL (scripts/demo.sh starts it)")
            fleet = Fleet(args.locations)
            say("fleet", f"{args.locations} locations in network namespaces: "
                + ", ".join(f"{loc.name} ({loc.address})" for loc in fleet.locations))
        if not os.environ.get("DISCORD_WEBHOOK_URL"):
            discord = DemoDiscord(bind="0.0.0.0" if fleet else "127.0.0.1")
        # 1. the stack
        say("stack", "building the nginx image and starting api-core, gateway and nginx")
        run(["bash", os.path.join(ROOT, "scripts", "make-nginx-image.sh")])
        compose("down", "--remove-orphans", "--timeout", "1")
        compose("up", "-d")
        wait_for("the stack to answer through nginx", lambda: http("GET", f"{EDGE}/api/healthz")[0] == 200, 30)
        say("stack", f"up: {EDGE}/api/healthz answers through nginx")

        # 2. keys and bundles
        keys, trusted, bundles, state = (os.path.join(work, d) for d in ("keys", "trusted", "bundles", "state"))
        for d in (trusted, bundles, state):
            os.makedirs(d, mode=0o700)
        key_id = "demo-" + time.strftime("%Y%m%d")
        run([binary("zumik-actions"), "keygen", "--key-id", key_id, "--out", keys, "--scope", "ai.zumik.*"])
        shutil.copy(os.path.join(keys, f"{key_id}.pub.json"), trusted)
        for plugin in ("DockerActions", "NginxActions"):
            with open(os.path.join(ROOT, "Plugins", plugin, "manifest.json")) as f:
                manifest = f.read().replace(PROD_COMPOSE, os.path.join(DEMO, "compose.yaml"))
            template = os.path.join(work, f"{plugin}.manifest.json")
            with open(template, "w") as f:
                f.write(manifest)
            run(
                [
                    binary("zumik-actions"), "pack", "--manifest", template,
                    "--library", binary(f"lib{plugin}.so"),
                    "--key", os.path.join(keys, f"{key_id}.key.json"),
                    "--out", os.path.join(bundles, plugin.lower()),
                ]
            )
        say("keys", f"operator key {key_id} made; DockerActions and NginxActions packed and signed with it")

        # 3. the agent
        agent_token = secrets.token_urlsafe(24)
        agent_env = {
            "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
            "OPS_AGENT_TOKEN": agent_token,
        }
        agent = Child(
            "agent",
            [
                binary("zumik-ops-agent"), "--host", "0.0.0.0" if fleet else "127.0.0.1", "--port", str(AGENT_PORT),
                "--bundles-dir", bundles, "--trusted-keys-dir", trusted, "--state-dir", state,
                "--docker-host", os.environ["DOCKER_HOST"],
            ],
            agent_env,
            os.path.join(work, "agent.log"),
        )
        children.append(agent)
        agent_url = f"http://127.0.0.1:{AGENT_PORT}"
        wait_for("the ops-agent", lambda: http("GET", f"{agent_url}/healthz")[0] == 200, 20)
        status, catalog = http("GET", f"{agent_url}/v1/actions", agent_token)
        ids = [a["id"] for a in catalog["actions"]]
        say("agent", f"serving {len(ids)} signed actions: {', '.join(ids)}")
        if catalog.get("refused_bundles"):
            say("agent", f"refused bundles: {catalog['refused_bundles']}")

        # 4. the monitor (one per location with --locations)
        control_token = secrets.token_urlsafe(24)
        monitor_env = {
            "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
            "OPS_AGENT_URL": agent_url,
            "OPS_AGENT_TOKEN": agent_token,
            "CONTROL_TOKEN": control_token,
        }
        for passthrough in ("DISCORD_WEBHOOK_URL", "DISCORD_ALERT_USER_ID", "SEPARATE_OPENAI_KEY",
                            "MAX_REMEDIATION_ROUNDS"):
            if os.environ.get(passthrough):
                monitor_env[passthrough] = os.environ[passthrough]
        if discord:
            monitor_env["DISCORD_WEBHOOK_URL"] = discord.url
        path = "the OpenAI model" if "SEPARATE_OPENAI_KEY" in monitor_env else "the deterministic ladder"
        monitors = []
        if fleet:
            for loc in fleet.locations:
                config = os.path.join(work, f"monitor-{loc.name}.yaml")
                with open(config, "w") as f:
                    f.write(monitor_config(work, "postgres", edge=f"http://{loc.service_address}:18080",
                                           control="0.0.0.0"))
                # Each location reaches the agent, PostgreSQL and Discord at its own veth address.
                database = os.environ["ZUMIK_DATABASE_URL"].replace("@0.0.0.0:", f"@{loc.service_address}:")
                env = dict(monitor_env, ZUMIK_LOCATION=loc.name, ZUMIK_DATABASE_URL=database,
                           OPS_AGENT_URL=f"http://{loc.service_address}:{AGENT_PORT}")
                if discord:
                    env["DISCORD_WEBHOOK_URL"] = discord.url_at(loc.service_address)
                argv = loc.launcher + [binary("zumik-monitor"), "run", "--config", config]
                monitors.append(Child(f"mon-{loc.name}", argv, env, os.path.join(work, f"monitor-{loc.name}.log")))
            say("monitor", f"{len(monitors)} monitors, one per location, watching the edge every 5 s on one "
                f"PostgreSQL; remediation through {path}")
            control = f"http://{fleet.locations[0].address}:{CONTROL_PORT}"
        else:
            config = os.path.join(work, "monitor.yaml")
            with open(config, "w") as f:
                f.write(monitor_config(work, os.path.join(work, "monitor.sqlite")))
            say("monitor", f"watching {EDGE} every 5 s; remediation through {path}")
            monitors.append(Child("monitor", [binary("zumik-monitor"), "run", "--config", config], monitor_env,
                                  os.path.join(work, "monitor.log")))
            control = f"http://127.0.0.1:{CONTROL_PORT}"
        children.extend(monitors)

        def all_healthy():
            code, body = http("GET", f"{control}/v1/status", control_token)
            if code != 200:
                return None
            props = body.get("properties", [])
            return props and all(p.get("state") == "healthy" for p in props)

        wait_for("every property healthy", all_healthy, 60)
        say("monitor", "every property healthy")
        if not args.ci and sys.stdin.isatty():
            input("\npress Enter to break api-core ")

        # 5. the outage
        broke_at = time.monotonic()
        run(["docker", "stop", "--time", "1", "api-core"])
        say("outage", "api-core stopped (docker stop api-core)")

        def incident(open_):
            code, body = http("GET", f"{control}/v1/status", control_token)
            if code != 200:
                return None
            props = body.get("properties", [])
            for p in props:
                if p.get("name") == "api-core":
                    inc = p.get("open_incident")
                    if open_ and inc:
                        return inc
            # Closed: api-core and api-v2 (same host and service, one incident) are both healthy again.
            if not open_ and props and all(p.get("state") == "healthy" and not p.get("open_incident") for p in props):
                return props
            return None

        opened = wait_for("the incident to open", lambda: incident(True), 60)
        detected_at = time.monotonic()
        say("outage", f"incident {opened.get('id', '?')} open after {detected_at - broke_at:.1f} s")
        wait_for("recovery", lambda: incident(False), 180)
        recovered_at = time.monotonic()
        time.sleep(1)  # let the recovery alert drain to the console

        # 6. the summary: gather, let the monitor and agent finish talking, then print
        _, audit = http("GET", f"{agent_url}/v1/audit?limit=100", agent_token)
        records = audit.get("records", []) if isinstance(audit, dict) else []
        # Each run has a durable intent record ("started") and its completion: list the completions.
        ran = [f"{r.get('action')} ({r.get('outcome')})" for r in records
               if r.get("action") and r.get("outcome") != "started"]
        healthy_at_end = all_healthy()
        time.sleep(2)  # the last alerts drain from the outbox to the console
        for child in reversed(children):
            child.stop()
        children.clear()
        paged = any("<@" in line for m in monitors for line in m.lines) or bool(discord and discord.paged)
        healed = bool(healthy_at_end) and not paged
        quiet = discord is None or len(discord.posts) <= 3
        once = True
        if fleet:
            incidents = count_incidents()
            fixes = [r for r in ran if r.startswith("restart_api_core ")]
            alerts = discord.created if discord else 1
            once = incidents == 1 and alerts == 1 and len(fixes) == 1
        print()
        say("summary", f"time to detect:  {detected_at - broke_at:5.1f} s (api-core stopped → incident opened)")
        say("summary", f"time to recover: {recovered_at - broke_at:5.1f} s (api-core stopped → incident closed)")
        say("summary", f"actions run:     {', '.join(ran) or 'none'}")
        say("summary", f"remediation via: {path}; human paged: {'yes' if paged else 'no'}")
        if discord:
            say("summary", f"Discord posts:   {len(discord.posts)} (the incident's message, edited in place "
                f"{len(discord.edits)} times; the recovery{'; the page' if paged else ''})")
        if fleet:
            say("summary", f"fleet:           {len(fleet.locations)} locations; incidents {incidents}, DOWN alerts "
                f"{alerts}, fixes run {len(fixes)} (each must be 1)")
        say("summary", f"result: {'HEALED' if healed else 'NOT HEALED'} (demo took {time.monotonic() - started:.0f} s)")
        if not quiet:
            say("summary", "more than three Discord posts for one outage")
        if not once:
            say("summary", "the fleet did not heal the outage exactly once")
        return 0 if healed and quiet and once else 1
    finally:
        for child in reversed(children):
            child.stop()
        try:
            compose("down", "--remove-orphans", "--timeout", "1")
        except SystemExit:
            pass
        if discord:
            discord.stop()
        if fleet:
            fleet.remove()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

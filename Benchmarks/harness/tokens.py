"""Measurement 4: model cost, in prompt tokens per remediation round.

The real monitor remediates a down property through the real ops-agent (loaded with the shipped Docker and
nginx bundles, signed here with a throwaway key) while a loopback OpenAI stand-in plays a scripted model: a
diagnostic, then a remediation, round after round, until the monitor's round budget (MAX_REMEDIATION_ROUNDS=3)
is spent. The property never recovers, so every round is played. Every request body the monitor sends is kept
and counted with tiktoken's o200k_base:

- messages as OpenAI counts chat input (3 tokens per message + role + content + name + tool-call JSON,
  3 to prime the reply), and
- the tools array as compact JSON text (an upper bound: OpenAI renders tools in its own, shorter form).

A round's cost is the sum over its requests (each request re-sends the conversation); the aim is judged on it.
Each body is also checked against the strict request schema with specs/validate.py.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import os
import subprocess
import sys
import time

import zumik
from common import BenchError, Daemon, Results, TempDir, log, verdict
from fakes import FakeDiscord, FakeOpenAI, Service

O200K_URL = "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken"
ROUNDS = 3
SCRIPT = ["docker_service_states", "restart_api_core", "api_core_logs", "recreate_api_core",
          "docker_service_states", "restart_all"]
REMEDIATIONS = {"restart_api_core", "recreate_api_core", "restart_all", "prune_docker", "restart_gateway",
                "reload_nginx"}


def encoding():
    """tiktoken's o200k_base from the copy the PyPI package bpe-openai ships (no download)."""
    cache = os.environ.get("TIKTOKEN_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "zumik-bench-tiktoken")
    os.makedirs(cache, exist_ok=True)
    target = os.path.join(cache, hashlib.sha1(O200K_URL.encode()).hexdigest())
    if not os.path.exists(target):
        try:
            import bpe_openai
        except ImportError as e:
            raise BenchError("python package bpe-openai missing (pip install bpe-openai)") from e
        src = os.path.join(os.path.dirname(bpe_openai.__file__), "data", "o200k_base.tiktoken.gz")
        with gzip.open(src) as f, open(target + ".tmp", "wb") as out:
            out.write(f.read())
        os.replace(target + ".tmp", target)
    os.environ["TIKTOKEN_CACHE_DIR"] = cache
    try:
        import tiktoken
    except ImportError as e:
        raise BenchError("python package tiktoken missing (pip install tiktoken)") from e
    return tiktoken.get_encoding("o200k_base")


def count_request(enc, req: dict) -> tuple[int, int]:
    """(message tokens, tools tokens) of one Chat Completions request body."""
    n = 3
    for m in req.get("messages", []):
        n += 3
        for key in ("role", "name", "tool_call_id"):
            if isinstance(m.get(key), str):
                n += len(enc.encode(m[key]))
        content = m.get("content")
        if isinstance(content, str):
            n += len(enc.encode(content))
        elif isinstance(content, list):
            for part in content:
                if isinstance(part, dict) and isinstance(part.get("text"), str):
                    n += len(enc.encode(part["text"]))
        if m.get("tool_calls"):
            n += len(enc.encode(json.dumps(m["tool_calls"], separators=(",", ":"))))
    tools = req.get("tools") or []
    t = len(enc.encode(json.dumps(tools, separators=(",", ":")))) if tools else 0
    return n, t


def specs_dir() -> str:
    for d in (os.environ.get("ZUMIK_SPECS_DIR"), os.path.join(zumik.ROOT, "specs"),
              os.path.join(zumik.ROOT, "..", "shared", "specs")):
        if d and os.path.isfile(os.path.join(d, "validate.py")):
            return d
    return ""


def validate(tmp: TempDir, reqs: list[dict]) -> tuple[int, list[str]]:
    d = specs_dir()
    if not d:
        return -1, ["specs/validate.py not found"]
    good, errors = 0, []
    for i, r in enumerate(reqs):
        path = tmp.file(f"openai-request-{i}.json", json.dumps(r))
        p = subprocess.run([sys.executable, os.path.join(d, "validate.py"),
                            os.path.join(d, "openai_chat_request.strict.schema.json"), path],
                           capture_output=True, timeout=60)
        if p.returncode == 0:
            good += 1
        else:
            errors.append(p.stdout.decode(errors="replace").strip()[:200])
    return good, errors


COMPOSE = """services:
  api-core:
    image: local/busybox:test
    pull_policy: never
    container_name: api-core
    network_mode: host
    init: true
    restart: "no"
    command:
      - sh
      - -c
      - >-
        i=0; while [ $$i -lt 60 ]; do
        echo "$$(date -Iseconds) level=info msg=\\"connecting to postgres\\" host=127.0.0.1:5432 attempt=$$i";
        i=$$((i+1)); done;
        echo "$$(date -Iseconds) level=error msg=\\"FATAL: password authentication failed for user api (SQLSTATE 28P01)\\"";
        exit 1
  gateway:
    image: local/busybox:test
    pull_policy: never
    container_name: gateway
    network_mode: host
    init: true
    command: ["sh", "-c", "echo gateway ready; exec sleep 3600"]
  nginx:
    image: local/busybox:test
    pull_policy: never
    container_name: nginx
    network_mode: host
    init: true
    command: ["sh", "-c", "echo nginx ready; exec sleep 3600"]
"""


@contextlib.contextmanager
def docker_stack():
    """Inside scripts/with-docker.sh (private mount and network namespaces, a throwaway engine): the shipped
    manifests' compose file, /srv/zumik/docker-compose.yml, on a tmpfs over /srv that only this namespace sees,
    with an api-core that logs and crash-exits (so no action heals it and every round is played), gateway and
    nginx running. Elsewhere: nothing (the Docker actions then fail fast). Yields a description."""
    host = os.environ.get("DOCKER_HOST", "")
    if os.environ.get("_IN_DOCKER_NS") != "1" or not host.startswith("unix:///"):
        yield None
        return
    if subprocess.run(["docker", "version"], capture_output=True, timeout=30).returncode != 0:
        yield None
        return
    subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=0755,size=16m", "zumik-bench-srv", "/srv"], check=True,
                   timeout=30)
    compose = "/srv/zumik/docker-compose.yml"
    try:
        os.makedirs("/srv/zumik", mode=0o755)
        with open(compose, "w") as f:
            f.write(COMPOSE)
        p = subprocess.run(["docker", "compose", "-f", compose, "up", "-d"], capture_output=True, timeout=120)
        if p.returncode != 0:
            raise BenchError(f"docker compose up: {p.stderr.decode(errors='replace')[-300:]}")
        for _ in range(100):  # api-core logs and exits within a second
            st = subprocess.run(["docker", "inspect", "-f", "{{.State.Status}}", "api-core"], capture_output=True,
                                timeout=30).stdout.strip()
            if st == b"exited":
                break
            time.sleep(0.1)
        yield "a throwaway Docker engine with the compose stack (api-core crash-exits, gateway and nginx up)"
    finally:
        subprocess.run(["docker", "compose", "-f", compose, "down", "-t", "1"], capture_output=True, timeout=120)
        subprocess.run(["umount", "/srv"], capture_output=True, timeout=30)


def run_scenario(tmp: TempDir, bins: zumik.Binaries, timeout_s: float = 150) -> tuple[FakeOpenAI, str | None]:
    with docker_stack() as stack:
        return _scenario(tmp, bins, timeout_s), stack


def _scenario(tmp: TempDir, bins: zumik.Binaries, timeout_s: float) -> FakeOpenAI:
    kit = zumik.BundleKit(tmp, bins)
    shipped_dir, n_actions = kit.shipped_bundles("shipped")
    # The shipped actions call /usr/bin/docker. They only ever reach the throwaway engine of
    # scripts/with-docker.sh (bench.sh --docker) or, without it, a socket that does not exist: never the
    # machine's own Docker.
    docker_host = os.environ.get("DOCKER_HOST", "")
    if not (os.environ.get("_IN_DOCKER_NS") == "1" and docker_host.startswith("unix:///")):
        docker_host = f"unix://{tmp.path}/no-docker-here.sock"
    agent = zumik.Agent(tmp, bins, kit, bundles_dir=shipped_dir, extra_env={"ZUMIK_DOCKER_HOST": docker_host})
    service = Service()
    service.stop()  # api-core is down from the start and stays down
    openai = FakeOpenAI(SCRIPT, REMEDIATIONS)
    discord = FakeDiscord()
    monitor = None
    try:
        agent.wait_ready(expected_actions=n_actions)
        prop = zumik.Property("api-core", service.url, timeout_s=2.0, alert_only=False, host="default",
                              service="api-core")
        cfg_text = zumik.monitor_config(tmp, [prop], name="tokens", interval_s=5, confirmation_s=1,
                                        extra=zumik.remediation_config(openai.base_url))
        cfg = tmp.file("tokens.yaml", cfg_text)
        argv, env = zumik.monitor_run_command(bins, cfg)
        env = dict(env, DISCORD_WEBHOOK_URL=discord.url, DISCORD_ALERT_USER_ID="123456789012345678",
                   SEPARATE_OPENAI_KEY="sk-bench-not-a-real-key", OPS_AGENT_URL=agent.url,
                   OPS_AGENT_TOKEN=agent.token, MAX_REMEDIATION_ROUNDS=str(ROUNDS))
        monitor = Daemon("monitor-tokens", argv, env=env, log_dir=tmp.path)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not monitor.alive():
                raise BenchError(f"zumik-monitor exited {monitor.proc.returncode}: {monitor.log_tail(5)}")
            done = sum(1 for c in openai.calls if c in REMEDIATIONS) >= ROUNDS
            quiet = bool(openai.requests) and time.monotonic() - openai.last_request_at > 10
            paged = any("<@123456789012345678>" in json.dumps(d) for _, d in discord.received)
            if paged or (done and quiet):
                break
            time.sleep(0.2)
        if not openai.requests:
            raise BenchError(f"the monitor sent no request to the OpenAI stand-in within {timeout_s:.0f}s "
                             f"(monitor log: {monitor.log_tail(4)})")
        return openai
    finally:
        if monitor:
            monitor.stop()
        agent.stop()
        discord.close()
        openai.close()


def measure(res: Results, bins: zumik.Binaries) -> None:
    tmp = TempDir("zumik-bench-tokens-")
    try:
        enc = encoding()
        log("model cost: the monitor remediates through the agent; a scripted OpenAI stand-in records requests")
        openai, stack = run_scenario(tmp, bins)
        rounds: list[list[tuple[int, int]]] = [[]]
        for req, call in zip(openai.requests, openai.calls):
            rounds[-1].append(count_request(enc, req))
            if call in REMEDIATIONS:
                rounds.append([])
        rounds = [r for r in rounds if r]
        per_round = [sum(m + t for m, t in r) for r in rounds]
        res.keep("tokens", "per round", per_round)  # for the plots
        largest = max(m + t for r in rounds for m, t in r)
        tools_tokens = max(t for r in rounds for _, t in r)
        n_tools = max(len(q.get("tools") or []) for q in openai.requests)
        good, errors = validate(tmp, openai.requests)
        last = openai.requests[-1]
        parts: dict[str, int] = {}
        for m in last.get("messages", []):
            c = m.get("content")
            text = c if isinstance(c, str) else json.dumps(c or "")
            key = "tool results" if m.get("role") == "tool" else str(m.get("role"))
            parts[key] = parts.get(key, 0) + len(enc.encode(text)) + (
                len(enc.encode(json.dumps(m["tool_calls"]))) if m.get("tool_calls") else 0)
        parts["tools"] = count_request(enc, last)[1]
        res.notes.append("model cost: the last request's tokens by part: "
                         + ", ".join(f"{k} {v}" for k, v in sorted(parts.items(), key=lambda kv: -kv[1])))
        keep = os.environ.get("ZUMIK_BENCH_KEEP")
        if keep:
            with open(keep, "w") as f:
                json.dump(openai.requests, f, indent=1)
        res.add("4", f"prompt tokens per remediation round (o200k_base; {len(rounds)} rounds, "
                f"{len(openai.requests)} requests)", " / ".join(str(x) for x in per_round), "", "",
                "≤ 3000 per round", verdict(max(per_round) <= 3000))
        res.add("4", "largest single request / of which tools", f"{largest} / {tools_tokens}", "", "", "",
                f"{n_tools} tools offered")
        if good >= 0:
            res.add("4", "requests valid under openai_chat_request.strict.schema.json",
                     f"{good}/{len(openai.requests)}", "", "", "all", verdict(good == len(openai.requests)))
            for e in errors[:2]:
                res.notes.append(f"model request schema error: {e}")
        res.notes.append("model calls played: " + ", ".join(openai.calls))
        res.notes.append("model cost: the agent's Docker actions ran against "
                         + (stack or "no Docker engine (they failed fast, so tool results were short error texts; "
                                     "bench.sh runs this inside with-docker.sh when dockerd is installed)"))
    except BenchError as e:
        res.missing("4", "prompt tokens per round", str(e), aim="≤ 3000 per round")
    finally:
        tmp.cleanup()


if __name__ == "__main__":
    # `python3 tokens.py count BODY.json…`: each request body's [message tokens, tools tokens] as one JSON
    # array, counted as above (the Swift prompt-budget test uses it, so the two count alike).
    if len(sys.argv) < 3 or sys.argv[1] != "count":
        sys.exit("usage: tokens.py count BODY.json…")
    counter = encoding()
    bodies = []
    for name in sys.argv[2:]:
        with open(name) as f:
            bodies.append(json.load(f))
    print(json.dumps([list(count_request(counter, body)) for body in bodies]))

#!/bin/bash
# usage: scripts/fuzz-agent.sh [MAX_EXAMPLES]     (default 40 per operation)
# Fuzzes the live ops-agent against its OpenAPI document with schemathesis (all checks): starts the
# built zumik-ops-agent on a free loopback port with one freshly signed test bundle, runs
# `schemathesis run openapi/ops-agent.yaml`, stops the agent. Exits non-zero on any 5xx, any
# response that breaks the document, or any failed check.
# Environment: ZUMIK_BIN_DIR (default: `swift build --show-bin-path`; built if missing).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
MAX_EXAMPLES=${1:-40}
BIN=${ZUMIK_BIN_DIR:-$(swift build --show-bin-path)}
for product in zumik-ops-agent zumik-actions NginxActions; do
  file="$BIN/$product"; [ "$product" = NginxActions ] && file="$BIN/libNginxActions.so"
  [ -e "$file" ] || swift build --product "$product" >/dev/null
done
if ! command -v schemathesis >/dev/null 2>&1; then
  python3 -m pip install -q schemathesis
fi

W=$(mktemp -d /tmp/zumik-fuzz.XXXXXX)
AGENT_PID=
cleanup() {
  [ -n "$AGENT_PID" ] && kill -TERM "$AGENT_PID" 2>/dev/null && wait "$AGENT_PID" 2>/dev/null || true
  rm -rf "$W"
}
trap cleanup EXIT
mkdir -m 755 "$W/bundles" "$W/keys" "$W/state"
mkdir -m 700 "$W/private"

"$BIN/zumik-actions" keygen --key-id fuzz --out "$W/private" --scope 'ai.zumik.*' >/dev/null
mv "$W/private/fuzz.pub.json" "$W/keys/"
cat >"$W/manifest.json" <<'JSON'
{
  "manifest_version": 1,
  "bundle": {"id": "ai.zumik.nginx", "version": "0.0.1", "serial": 1, "abi": {"major": 1, "minor": 0}, "artifacts": {}},
  "actions": [
    {
      "id": "fuzz_echo", "title": "Fuzz echo", "description": "Prints a word. Harmless.", "kind": "diagnostic",
      "argv": ["/bin/echo", "fuzz"], "timeout_s": 5, "kill_grace_s": 1, "lock": "fuzz",
      "limits": {"max_runs": 1000, "window_s": 1}, "targets": ["fuzz"], "rank": 0, "max_output_bytes": 4096
    }
  ]
}
JSON
"$BIN/zumik-actions" pack --manifest "$W/manifest.json" --library "$BIN/libNginxActions.so" \
  --key "$W/private/fuzz.key.json" --out "$W/bundles/fuzz" >/dev/null

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
TOKEN="fuzz-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
OPS_AGENT_TOKEN="$TOKEN" "$BIN/zumik-ops-agent" --host 127.0.0.1 --port "$PORT" \
  --bundles-dir "$W/bundles" --trusted-keys-dir "$W/keys" --state-dir "$W/state" \
  --rate-limit-burst 1000000 --rate-limit-per-second 100000 --log-level warning 2>"$W/agent.log" &
AGENT_PID=$!
for _ in $(seq 1 100); do
  python3 -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$PORT/healthz', timeout=1)" 2>/dev/null && break
  kill -0 "$AGENT_PID" 2>/dev/null || { echo "fuzz-agent: the agent exited:"; cat "$W/agent.log"; exit 1; }
  sleep 0.1
done
python3 - "$PORT" "$TOKEN" <<'PY'
import json, sys, urllib.request
port, token = sys.argv[1], sys.argv[2]
req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/actions", headers={"Authorization": f"Bearer {token}"})
ids = [a["id"] for a in json.load(urllib.request.urlopen(req))["actions"]]
if ids != ["fuzz_echo"]:
    sys.exit(f"fuzz-agent: unexpected catalog {ids}")
PY

rc=0
cd "$W"   # schemathesis keeps a cache in the working directory: not in the repository
schemathesis run "$ROOT/openapi/ops-agent.yaml" --url "http://127.0.0.1:$PORT" \
  -H "Authorization: Bearer $TOKEN" --checks all --max-examples "$MAX_EXAMPLES" \
  --seed 20261129 --no-color || rc=$?
if ! kill -0 "$AGENT_PID" 2>/dev/null; then
  echo "fuzz-agent: the agent died during the run:"; cat "$W/agent.log"; rc=1
fi
exit $rc

#!/usr/bin/env bash
# The test command: set-up, a warning-free build, the format check, the whole suite against a real
# Docker engine (in its own network namespace, loopback only), and the ops-agent API fuzz run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

echo "== build"
log=$(mktemp)
swift build --build-tests 2>&1 | tee "$log" | grep -E 'error:|warning:|Compiling|Build complete' | grep -v '^\[' || true
if ! grep -q 'Build complete' "$log"; then echo "build failed"; tail -50 "$log"; exit 1; fi
# Our own code builds without warnings (dependencies' warnings are theirs).
ours=$(grep -E '^/.*\.(swift|c|h):[0-9]+:[0-9]+: warning:' "$log" | grep -v '/.build/' || true)
if [ -n "$ours" ]; then echo "$ours"; echo "build has warnings in our code"; exit 1; fi

echo "== format"
lint=$(swift format lint -r Sources Plugins Tests TestPlugins 2>&1 || true)
if [ -n "$lint" ]; then echo "$lint" | head -40; echo "tree is not formatted: run scripts/format.sh"; exit 1; fi

echo "== tests"
bash scripts/with-docker.sh swift test --skip-build --no-parallel 2>&1 | tee .build/test-output.log
rc=${PIPESTATUS[0]}
[ "$rc" -eq 0 ] || exit "$rc"

if [ -x scripts/fuzz-agent.sh ]; then
    echo "== fuzz (schemathesis against the live ops-agent)"
    bash scripts/fuzz-agent.sh
fi

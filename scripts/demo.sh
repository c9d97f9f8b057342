#!/usr/bin/env bash
# The main job, on one machine with embedded defaults: a sample stack (api-core, gateway, nginx in
# front) as real containers on a private Docker engine, the ops-agent with the shipped bundles signed
# by a key made on the spot, and the monitor watching. It breaks api-core and shows detection, the
# alert, the diagnostics, the fix, the re-probe, recovery and a summary; then it cleans up.
#   --ci    non-interactive; exit 0 only if the summary says healed
#   --locations N   N monitors in N network namespaces on one PostgreSQL (demo/fleet.py), healing the outage once
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "== building zumik-ops (debug build; the first one takes a few minutes)"
swift build 2>&1 | grep -E 'error:|Build complete|Compiling [A-Z][A-Za-z]+ ' | sed -E 's/^\[[0-9]+\/[0-9]+\] //' | awk '!seen[$1 $2]++' || true
bin=$(swift build --show-bin-path)
[ -x "$bin/zumik-ops-agent" ] && [ -x "$bin/zumik-monitor" ] || { echo "demo: build failed"; exit 1; }
case " $* " in
  *" --locations "*|*" --locations="*)  # the fleet's PostgreSQL, reachable from every location's namespace
    exec bash scripts/with-docker.sh env PG_LISTEN=0.0.0.0 bash scripts/with-postgres.sh \
      python3 demo/run_demo.py --bin "$bin" "$@" ;;
esac
exec bash scripts/with-docker.sh python3 demo/run_demo.py --bin "$bin" "$@"

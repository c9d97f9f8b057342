#!/usr/bin/env bash
# The benchmark command: installs the peers (Debian) and tiktoken (PyPI), builds Zumik in release (timed on its
# own), then runs Benchmarks/harness/bench.py, which prints one table and writes Benchmarks/results/latest.md.
# Everything runs on loopback. Run as root on Debian 12 from the package root: bash scripts/bench.sh
#   --skip-build         use the existing .build/release binaries
#   --only 1,2,3,4,5,6,7 run only these sections (see Benchmarks/README.md; 7 = many locations on PostgreSQL)
#   --no-docker          do not run the harness inside scripts/with-docker.sh. By default it does (when the engine
#                        can be set up): a private network namespace (loopback only) with a throwaway Docker
#                        engine, so the model-cost scenario's Docker actions read a real compose stack.
#   anything else is passed to bench.py
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

build=1
docker=1
pass=()
for a in "$@"; do
    case "$a" in
        --skip-build) build=0 ;;
        --no-docker) docker=0 ;;
        *) pass+=("$a") ;;
    esac
done

# Never let a package's postinst start a default nginx / exporter / webhook service.
if [ ! -x /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
fi
packages=(nginx curl wrk webhook prometheus-blackbox-exporter hyperfine gcc libc6-dev sqlite3 postgresql)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "bench: installing ${missing[*]}"
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
python3 -c 'import tiktoken, bpe_openai, jsonschema' 2>/dev/null ||
    python3 -m pip install -q --disable-pip-version-check tiktoken bpe-openai jsonschema

if [ "$docker" = 1 ] && ! { bash scripts/docker-setup.sh >/dev/null 2>&1 && command -v unshare >/dev/null; }; then
    echo "bench: no Docker engine can be set up here: section 4's Docker actions will fail fast (see the report)"
    docker=0
fi

build_seconds=()
if [ "$build" = 1 ]; then
    echo "bench: swift build -c release (not part of the benchmark's time)"
    t0=$(date +%s)
    log=$(mktemp)
    if ! swift build -c release >"$log" 2>&1; then
        tail -40 "$log"
        echo "bench: release build failed"
        exit 1
    fi
    rm -f "$log"
    build_seconds=(--build-seconds "$(($(date +%s) - t0))")
    echo "bench: release build took ${build_seconds[1]} s"
fi

cmd=(python3 Benchmarks/harness/bench.py --bin-dir .build/release --out Benchmarks/results/latest.md
    "${build_seconds[@]}" "${pass[@]}")
# Bounded: the harness bounds every loop; the timeout is the backstop.
if [ "$docker" = 1 ]; then
    exec timeout --kill-after=30 1500 bash scripts/with-docker.sh "${cmd[@]}"
fi
exec timeout --kill-after=10 1500 "${cmd[@]}"

#!/usr/bin/env bash
# Installs what building, testing and the demo need on a fresh Debian 12 machine (run as root).
# Idempotent: a second run only checks. Nothing here reaches beyond Debian's archive and PyPI.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export DEBIAN_FRONTEND=noninteractive

# Never let a package's postinst start a default nginx or a bridged dockerd.
if [ ! -x /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
fi

# PostgreSQL 15 for the shared-store tests and demo: the tests start throwaway clusters of their own, so no
# default cluster is created (nor, by policy-rc.d, started).
mkdir -p /etc/postgresql-common/createcluster.d
echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.d/zumik.conf

packages=(libcurl4-openssl-dev nginx openssl sqlite3 libsqlite3-dev iproute2 procps psmisc postgresql
    prometheus) # prometheus: promtool, for `promtool check metrics` and `promtool test rules` in the tests
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Headless Chromium and its driver: the status page's browser test (StatusPageBrowserTests).
for p in chromium chromium-driver; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || {
        apt-get update -q && apt-get install -y -q --no-install-recommends chromium chromium-driver
        break
    }
done

# A real Docker engine for the tests and the demo (Debian's docker.io, busybox-static, Compose v2).
bash "$here/docker-setup.sh" >/dev/null

# Python tools: JSON Schema validation of what we send to OpenAI/Discord; the API fuzzer; the
# reference MCP client the agent's MCP tests drive it with; selenium drives Chromium for the status page test;
# tiktoken + bpe-openai count the remediation prompt's tokens (RemediationPromptBudgetTests).
python3 - <<'PY' 2>/dev/null || python3 -m pip install -q --disable-pip-version-check jsonschema schemathesis mcp selenium tiktoken bpe-openai
import jsonschema, schemathesis, mcp, selenium, tiktoken, bpe_openai  # noqa: F401
PY
echo "setup: ok"

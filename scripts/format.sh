#!/usr/bin/env bash
# Formats the tree, then lints it; prints nothing when all is well.
set -euo pipefail
cd "$(dirname "$0")/.."
swift format -i -r Sources Plugins Tests TestPlugins
swift format lint -r Sources Plugins Tests TestPlugins

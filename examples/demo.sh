#!/usr/bin/env bash
# The main job on the embedded default: import the example project, run one worker, enqueue
# every task with dfo.client, watch them to the end, stop the worker and the embedded Redis.
# Usage: examples/demo.sh [DFO_HOME]   (default: .dfo-demo, wiped first)
set -euo pipefail
cd "$(dirname "$0")/.."
export DFO_HOME="${1:-$PWD/.dfo-demo}"
DFO="${DFO:-dfo}"
PYTHON="${PYTHON:-python3}"
rm -rf "$DFO_HOME"
mkdir -p "$DFO_HOME"

"$DFO" import examples/shop.yaml
"$DFO" worker --concurrency 5 2> "$DFO_HOME/worker.log" &
worker=$!
stop() { kill -TERM "$worker" 2>/dev/null || true; wait "$worker" 2>/dev/null || true; "$DFO" down >/dev/null; }
trap stop EXIT
status=0
"$PYTHON" examples/run_project.py SHOP || status=$?
"$DFO" project show SHOP
echo "worker log (JSON lines): $DFO_HOME/worker.log"
exit $status

#!/usr/bin/env bash
# vexfs-server against a real Chroma 1.0 server through the same chromadb 3.5 client code
# (chroma_bench.js says what is measured and how), with the plot.
#
#   benchmarks/server/run_chroma.sh     after `scripts/setup.sh bench` (it builds nothing)
#
# Settings (environment): as chroma_bench.js (N=50000 DIM=384 NQ=1000 ROUNDS=3 ...), PLOT (the
# SVG written; default benchmarks/server/chroma.svg), STEP_LIMIT (seconds, default 3600).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
export VEXFS_SERVER=${VEXFS_SERVER:-$root/build/server/vexfs-server}
export PLOT=${PLOT:-$here/chroma.svg}
for need in "$VEXFS_SERVER" "$here/.npm/chroma-server/node_modules/.bin/chroma" \
            "$here/.npm/chroma-client/node_modules/chromadb/package.json"; do
  [ -e "$need" ] || { echo "run_chroma.sh: $need is missing: run scripts/setup.sh bench" >&2; exit 2; }
done
command -v gnuplot >/dev/null || { echo "run_chroma.sh: gnuplot is missing: scripts/setup.sh bench" >&2; exit 2; }
lscpu | grep -E '^Model name' || true
timeout "${STEP_LIMIT:-3600}" node "$here/chroma_bench.js"

#!/usr/bin/env bash
# Sets up and runs the main job: examples/quickstart.c on the in-memory default collection.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh core
exec build/examples/quickstart "$@"

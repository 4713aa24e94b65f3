#!/usr/bin/env bash
# Bundles the built libvexfs.so.1 into bindings/python/vexfs/, so that
# `python3 -m pip install --no-build-isolation ./bindings/python` installs a package that works
# without the library installed system-wide. usage: scripts/python-package.sh [build dir]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
install -m 0644 "$(readlink -f "$build/lib/libvexfs.so.1")" bindings/python/vexfs/libvexfs.so.1
echo "bundled $(readlink -f "$build/lib/libvexfs.so.1") into bindings/python/vexfs/"

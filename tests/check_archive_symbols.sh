#!/bin/sh
# The static library defines no global symbol outside its two prefixes: vexfs_ (the API) and vx_
# (internal), so that linking libvexfs.a into a program cannot collide with its own names.
# Usage: check_archive_symbols.sh libvexfs.a. (AddressSanitizer adds __odr_asan.<global> markers,
# one per instrumented global: not names of ours.)
set -eu
others=$(nm -g --defined-only "$1" | awk 'NF == 3 { print $3 }' | grep -v '^vexfs_' | grep -v '^vx_' |
  grep -v '^__odr_asan\.' | sort -u || true)
if [ -n "$others" ]; then
  echo "global symbols of $1 outside vexfs_* and vx_*:"
  echo "$others"
  exit 1
fi
echo "archive ok: every global symbol is vexfs_* or vx_*"

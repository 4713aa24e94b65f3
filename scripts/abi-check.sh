#!/usr/bin/env bash
# Compares the built libvexfs.so.1 with the ABI baseline abi/libvexfs.abi (abigail-tools).
# Fails on an incompatible change or a removed symbol. Allowed: new functions, fields appended to a
# struct, enumerators appended to an enum (the ABI rules in README.md).
#   scripts/abi-check.sh [build dir]            check
#   scripts/abi-check.sh [build dir] --update   rewrite the baseline on purpose (see README)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
lib=$build/lib/libvexfs.so.1
current=$(mktemp)
trap 'rm -f "$current"' EXIT
# --drop-private-types: types not defined in the public header (the layout behind an opaque
# handle such as struct vexfs_collection) are not ABI.
abidw --headers-dir include/vexfs --drop-private-types --no-corpus-path --out-file "$current" "$lib"
if [ "${2:-}" = --update ]; then
  mkdir -p abi && cp "$current" abi/libvexfs.abi && echo "abi: baseline updated"; exit 0
fi
set +e
report=$(abidiff --no-added-syms abi/libvexfs.abi "$current")
rc=$?
set -e
echo "$report"
# abidiff's exit status is a bit field: 1 error, 2 usage, 4 ABI change, 8 incompatible change.
if (( rc & 3 )); then echo "abi: abidiff failed ($rc)"; exit 1; fi
if (( rc & 8 )); then echo "abi: INCOMPATIBLE change against abi/libvexfs.abi"; exit 1; fi
# abidiff calls a moved field or a renumbered enumerator an "ABI change" (4), not incompatible;
# under our rules they break callers, so only insertions at the end may pass.
breaking='offset changed|enumerator change|deletion|removed|deleted|name changed'
if (( rc & 4 )) && grep -qE "$breaking" <<<"$report"; then
  echo "abi: INCOMPATIBLE change against abi/libvexfs.abi (matched: $breaking)"; exit 1
fi
if (( rc & 4 )); then echo "abi: compatible changes only"; else echo "abi: identical to the baseline"; fi

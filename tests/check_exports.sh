#!/bin/sh
# The shared library exports exactly the symbols listed in exported_symbols.txt, all vexfs_*,
# all versioned VEXFS_1. Usage: check_exports.sh libvexfs.so.1 exported_symbols.txt
set -eu
lib=$1 expected=$2
actual=$(nm -D --defined-only "$lib" | awk '$2 != "A" { print $3 }' | sort)
unversioned=$(printf '%s\n' "$actual" | grep -v '@@VEXFS_1$' || true)
if [ -n "$unversioned" ]; then echo "symbols outside version node VEXFS_1:"; echo "$unversioned"; exit 1; fi
names=$(printf '%s\n' "$actual" | sed 's/@@VEXFS_1$//')
if ! diff -u "$expected" - <<E
$names
E
then
  echo "exported symbols differ from $expected (left: expected, right: exported)"
  exit 1
fi
echo "exports ok: $(printf '%s\n' "$names" | wc -l) symbols, all vexfs_* in VEXFS_1"

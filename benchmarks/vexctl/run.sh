#!/usr/bin/env bash
# `vexctl import` of Fashion-MNIST (60000 x 784 .npy) into a durable database, against the same
# inserts made directly through the C API (import_direct), round by round.
#
#   benchmarks/vexctl/run.sh          after `scripts/setup.sh bench` (it builds nothing)
#
# Once: the training images are written as a float32 .npy (numpy.save, /usr/bin/python3).
# Each round, in alternating order (vexctl first in odd rounds), each side into a fresh
# database directory under $TMPDIR, batches of $BATCH rows, sync full, index $INDEX:
#   vexctl:  `vexctl import DB fmnist FILE.npy --batch $BATCH --index $INDEX`, timed around the
#            whole process (reading and validating the file, creating the database, closing);
#   direct:  import_direct, timed from opening the database to closing it, rows already in
#            memory: the C API's cost alone.
# Then the medians of rows/s and of the per-round ratio vexctl/direct (target >= 0.9).
#
# Settings (environment): ROUNDS=5 BATCH=1000 INDEX=auto BUILD=<repo>/build TMPDIR=/tmp
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${BUILD:-$root/build}
ROUNDS=${ROUNDS:-5} BATCH=${BATCH:-1000} INDEX=${INDEX:-auto}
vexctl=$build/tools/vexctl/vexctl
direct=$build/benchmarks/vexctl/import_direct
for b in "$vexctl" "$direct"; do
  [ -x "$b" ] || { echo "run.sh: $b is missing: scripts/setup.sh bench" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/vexctl-import-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
npy=$work/fashion-mnist-train.npy
PYTHONPATH=$root/benchmarks /usr/bin/python3 -c "
import numpy as np, fashion_mnist
np.save('$npy', fashion_mnist.load()[0])"

now() { date +%s.%N; }
run_vexctl() { # round
  local db=$work/vexctl-$1 t0 t1
  t0=$(now)
  "$vexctl" import "$db" fmnist "$npy" --batch "$BATCH" --index "$INDEX" >/dev/null
  t1=$(now)
  rm -rf "$db"
  awk -v a="$t0" -v b="$t1" -v r="$1" 'BEGIN { s = b - a; printf "vexctl rows=60000 seconds=%.3f rows_per_sec=%.1f round=%s\n", s, 60000 / s, r }'
}
run_direct() { # round
  local db=$work/direct-$1
  echo "$("$direct" "$db" "$BATCH" "$INDEX") round=$1"
  rm -rf "$db"
}

lines=$work/lines
: >"$lines"
for ((r = 1; r <= ROUNDS; r++)); do
  if ((r % 2)); then run_vexctl $r | tee -a "$lines"; run_direct $r | tee -a "$lines"
  else run_direct $r | tee -a "$lines"; run_vexctl $r | tee -a "$lines"; fi
done

/usr/bin/python3 - "$lines" "$BATCH" "$INDEX" <<'PY'
import re, statistics, sys
rate = {}
for line in open(sys.argv[1]):
    side, r = line.split()[0], int(re.search(r"round=(\d+)", line).group(1))
    rate.setdefault(r, {})[side] = float(re.search(r"rows_per_sec=([\d.]+)", line).group(1))
rounds = sorted(rate)
v = statistics.median(rate[r]["vexctl"] for r in rounds)
d = statistics.median(rate[r]["direct"] for r in rounds)
ratio = statistics.median(rate[r]["vexctl"] / rate[r]["direct"] for r in rounds)
print(f"\nFashion-MNIST 60000 x 784 into a durable database (batch {sys.argv[2]}, index "
      f"{sys.argv[3]}, sync full), medians of {len(rounds)} rounds:")
print("| Import | rows/s |")
print("|---|---|")
print(f"| vexctl import (.npy, whole process) | {v:.0f} |")
print(f"| C API inserts (import_direct) | {d:.0f} |")
print(f"| vexctl / C API (median of per-round ratios) | {ratio:.3f}x (target >= 0.9) |")
PY

#!/usr/bin/env bash
# The scratch pool against glibc malloc and jemalloc: alloc/free pairs per second at 1, 4 and
# 16 KiB on 1 and 2 threads. jemalloc cannot be loaded beside glibc's malloc in one process (it
# needs static TLS), so each round runs bench_pool twice, plainly and under LD_PRELOAD jemalloc,
# alternating; medians over the rounds. usage: benchmarks/pool_vs_malloc.sh [rounds] [build dir]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
bench=${2:-build}/benchmarks/bench_pool
jemalloc=$(ls /usr/lib/*/libjemalloc.so.2 2>/dev/null | head -1)
[ -n "$jemalloc" ] || { echo "libjemalloc.so.2 not found (apt-get install libjemalloc2)"; exit 1; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for r in $(seq "$rounds"); do
  for size in 1024 4096 16384; do
    for threads in 1 2; do
      "$bench" "$size" "$threads" | sed 's/^malloc/glibc/' >>"$out"
      LD_PRELOAD=$jemalloc "$bench" "$size" "$threads" | grep '^malloc' | sed 's/^malloc/jemalloc/' >>"$out"
    done
  done
done
/usr/bin/python3 - "$out" "$rounds" <<'PY'
import collections, statistics, sys
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    who, size, threads, rate = line.split()
    runs[(who, int(size), int(threads))].append(float(rate))
med = {k: statistics.median(v) for k, v in runs.items()}
print(f"alloc/free pairs per second, median of {sys.argv[2]} rounds (millions)\n")
print("| size | threads | libvexfs pool | glibc malloc | jemalloc | pool / glibc | pool / jemalloc |")
print("|---|---|---|---|---|---|---|")
for size in (1024, 4096, 16384):
    for threads in (1, 2):
        p, g, j = (med[(w, size, threads)] for w in ("pool", "glibc", "jemalloc"))
        print(f"| {size // 1024} KiB | {threads} | {p / 1e6:.1f} | {g / 1e6:.1f} | {j / 1e6:.1f} "
              f"| {p / g:.2f}x | {p / j:.2f}x |")
PY

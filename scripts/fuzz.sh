#!/usr/bin/env bash
# Runs each libFuzzer target (build-fuzz, made by scripts/setup.sh test) for SECONDS (default 20),
# starting from its seed corpus in fuzz/corpus/<target>. New inputs go to a scratch copy, so the
# tree stays clean; a crash leaves its reproducer in fuzz-crashes/. Exits non-zero on any finding.
#   scripts/fuzz.sh [SECONDS]       (CI: 20 s each; a longer stress run: scripts/fuzz.sh 600)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
status=0
for target in payload filter snapshot wal; do
  corpus=$(mktemp -d)
  cp fuzz/corpus/$target/* "$corpus"/
  mkdir -p fuzz-crashes
  echo "fuzz_$target: ${seconds}s"
  if ! ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    build-fuzz/fuzz/fuzz_$target "$corpus" -max_total_time="$seconds" -max_len=$([ $target = snapshot ] && echo 65536 || echo 4096) -timeout=10 \
    -artifact_prefix=fuzz-crashes/$target- -print_final_stats=1 2>&1 | tail -n 12; then
    status=1
  fi
  rm -rf "$corpus"
done
exit $status

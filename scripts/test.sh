#!/usr/bin/env bash
# Sets up and runs every test suite, then prints one summary line: "N passed, N failed".
#   C (CMocka) in build/; the same under ASan+UBSan; concurrency, internals, HNSW, pool under TSan;
#   NEON parity under qemu; ABI baseline; install + pkg-config; libFuzzer targets for 20 s each;
#   Python (pytest, pip install); Node (node --test, npm pack + install).
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh test || { echo "0 passed, 1 failed"; exit 1; }

results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
step() { # name, command...: a script-level check that counts as one test
  local name=$1; shift
  echo "== $name"
  if "$@"; then echo pass >"$results/$name.step"; else echo fail >"$results/$name.step"; fi
}
suite() { # build dir, meson test args...
  local dir=$1; shift
  echo "== meson test -C $dir $*"
  meson test -C "$dir" --print-errorlogs --no-suite stress "$@"
  cp "$dir/meson-logs/testlog.json" "$results/$(basename "$dir").json"
}

suite build
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  suite build-asan
TSAN_OPTIONS=halt_on_error=1 suite build-tsan --suite concurrency --suite internals --suite hnsw --suite pool --suite db
[ -d build-arm64 ] && suite build-arm64 --suite simd --suite api --suite internals --suite hnsw
step abi scripts/abi-check.sh build
step install scripts/install-check.sh build
step fuzz scripts/fuzz.sh 20

echo "== python (pytest, /usr/bin/python3: Debian's numpy and pytest)"
if ! VEXFS_LIBRARY=$PWD/build/lib/libvexfs.so.1 PYTHONPATH=$PWD/bindings/python \
  /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/python --junitxml="$results/python.xml"; then
  [ -f "$results/python.xml" ] || echo fail >"$results/python-run.step" # crashed before reporting
fi
step python-install scripts/python-install-check.sh

echo "== node (node --test; the addon built by npm run build)"
if ! (cd bindings/node && npm run --silent build >/dev/null &&
  node --expose-gc --test --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=junit --test-reporter-destination="$results/node.xml" test/); then
  [ -f "$results/node.xml" ] || echo fail >"$results/node-run.step" # failed before reporting
fi
step node-package scripts/node-package-check.sh

/usr/bin/python3 scripts/count_results.py "$results"

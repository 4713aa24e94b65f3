#!/usr/bin/env bash
# Sets up and runs every test suite, then prints the summary, whose last line is
# "N passed, N failed" (scripts/count_results.py; CI reads it and the exit status).
#   C (CMocka) in build/; the same under ASan+UBSan; concurrency, internals, HNSW, pool, db, mapped under
#   TSan; NEON parity under qemu; ABI baseline; install + pkg-config; libFuzzer targets for 20 s
#   each; Python (pytest, pip install); sharded collections (pytest tests/distributed on a Dask
#   LocalCluster); Node (node --test, npm pack + install); vexfs-server
#   (node --test tests/server: Qdrant's JS client and raw HTTP against build/server/vexfs-server,
#   and again against the ASan+UBSan and TSan builds); vexctl (pytest tests/vexctl, driving
#   build/tools/vexctl/vexctl, then the ASan+UBSan build of it).
# A skipped test counts as failed (and is listed): setup.sh, run first, installs everything the
# suites need, so a skip here means a missing tool, not an optional one.
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
reporting() { # name, command...: a suite that writes its own results, $results/<name>.{json,xml}
  local name=$1; shift
  "$@"
  echo $? >"$results/$name.exit" # count_results.py fails a suite whose file is missing
}
meson_suite() { # build dir, meson test args...
  local dir=$1; shift
  local log=$dir/meson-logs/testlog.json
  echo "== meson test -C $dir $*"
  rm -f "$log" # left by an earlier run: a run that dies before writing its own must not count it
  meson test -C "$dir" --print-errorlogs --no-suite stress "$@"
  local status=$?
  if [ -f "$log" ]; then cp "$log" "$results/$(basename "$dir").json"; fi
  return $status
}

reporting build meson_suite build
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  reporting build-asan meson_suite build-asan
# TSan runs these 20-30x slower than a plain build: hnsw took 294 s of its 300 s limit on a quiet
# machine and 740 s on a loaded one. The limit is there to catch hangs, so it is stretched here.
TSAN_OPTIONS=halt_on_error=1 reporting build-tsan meson_suite build-tsan --timeout-multiplier 4 \
  --suite concurrency --suite internals --suite hnsw --suite pool --suite db --suite mapped --suite storage
if [ "$(uname -m)" = x86_64 ]; then # where setup.sh makes the cross build (elsewhere: native)
  reporting build-arm64 meson_suite build-arm64 \
    --suite simd --suite api --suite internals --suite hnsw
fi
step abi scripts/abi-check.sh build
step install scripts/install-check.sh build
step fuzz scripts/fuzz.sh 20

echo "== python (pytest, /usr/bin/python3: Debian's numpy and pytest)"
VEXFS_LIBRARY=$PWD/build/lib/libvexfs.so.1 PYTHONPATH=$PWD/bindings/python reporting python \
  /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/python --junitxml="$results/python.xml"
step python-install scripts/python-install-check.sh
echo "== distributed (pytest tests/distributed: vexfs.distributed on a 2-worker Dask LocalCluster)"
VEXFS_LIBRARY=$PWD/build/lib/libvexfs.so.1 PYTHONPATH=$PWD/bindings/python reporting distributed \
  timeout 900 /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/distributed \
  --junitxml="$results/distributed.xml"

echo "== node (node --test; the addon built by npm run build)"
node_suite() (
  cd bindings/node && npm run --silent build >/dev/null &&
    node --expose-gc --test --test-reporter=spec --test-reporter-destination=stdout \
      --test-reporter=junit --test-reporter-destination="$results/node.xml" test/
)
reporting node node_suite
step node-package scripts/node-package-check.sh

echo "== server (node --test tests/server: vexfs-server through Qdrant's JS client and raw HTTP)"
server_suite() { # name, the vexfs-server binary
  VEXFS_SERVER=$PWD/$2 node --test --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=junit --test-reporter-destination="$results/$1.xml" tests/server/
}
reporting server server_suite server build/server/vexfs-server
# the same requests against the ASan+UBSan build: a memory error, or a leak at its orderly exit,
# fails the test that stopped it
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  reporting server-asan server_suite server-asan build-asan/server/vexfs-server
# and the TSan build: its worker threads, catalog and per-collection locks under concurrent requests
TSAN_OPTIONS=halt_on_error=1 reporting server-tsan server_suite server-tsan build-tsan/server/vexfs-server

echo "== vexctl (pytest tests/vexctl: the real binary, then the ASan+UBSan build of it)"
vexctl_suite() { # name, the vexctl binary
  VEXCTL=$PWD/$2 /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/vexctl --junitxml="$results/$1.xml"
}
reporting vexctl vexctl_suite vexctl build/tools/vexctl/vexctl
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  reporting vexctl-asan vexctl_suite vexctl-asan build-asan/tools/vexctl/vexctl

/usr/bin/python3 scripts/count_results.py "$results"

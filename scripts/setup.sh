#!/usr/bin/env bash
# Installs the Debian packages a profile needs (only those missing) and builds libvexfs.
#   scripts/setup.sh          the library and examples, in build/
#   scripts/setup.sh test     + test suites (Python's: numpy, pytest, Dask distributed),
#                             sanitizer builds (build-asan, build-tsan), the aarch64 cross build
#                             run under qemu (build-arm64), the libFuzzer targets (build-fuzz,
#                             clang) and tests/server's npm packages (Qdrant's and Chroma's
#                             JS clients)
#   scripts/setup.sh bench    + Google Benchmark, faiss, hnswlib, the Fashion-MNIST data,
#                             USearch 2.25 from npm (benchmarks/ann/.npm, for memory_bench) and a
#                             Chroma server and client (benchmarks/server/.npm, chroma_bench.js)
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${1:-core}

core=(gcc g++ meson ninja-build pkg-config libzstd-dev libxxhash-dev
      libmicrohttpd-dev libjson-c-dev # vexfs-server (server/): HTTP, JSON
      libwslay-dev libgnutls28-dev # vexfs-server's /ws/performance: WebSocket frames; the handshake's SHA-1, base64
      libhdf5-dev) # vexctl (tools/vexctl): ann-benchmarks HDF5 files
test=(libcmocka-dev abigail-tools binutils prometheus python3-numpy python3-pytest python3-pip python3-venv
      gcc-aarch64-linux-gnu g++-aarch64-linux-gnu qemu-user
      libcmocka-dev:arm64 libzstd-dev:arm64 clang libclang-rt-14-dev nodejs
      openssl # tests/server: a self-signed certificate for the TLS test
      python3-h5py # tests/vexctl: makes the ann-benchmarks-format HDF5 file it imports
      bash-completion # tests/vexctl: completes as bash would, with its helpers
      python3-distributed) # tests/distributed: vexfs.distributed on a Dask LocalCluster
bench=(libbenchmark-dev python3-numpy python3-faiss libopenblas0-pthread dataset-fashion-mnist
       libfaiss-dev libhnswlib-dev python3-hnswlib gnuplot-nox libjemalloc2
       python3-matplotlib # benchmarks/reference_suite.py imports it, as the reference does
       wrk curl # benchmarks/server: HTTP load
       python3-h5py # benchmarks/vexctl/fashion_mnist_hdf5.py: the ann-benchmarks file
       python3-distributed # benchmarks/distributed.py: sharded build and search on Dask
       nodejs) # benchmarks/ann/memory_bench: npm fetches USearch (below)
case $profile in
  core) want=("${core[@]}") ;;
  test) want=("${core[@]}" "${test[@]}") ;;
  bench) want=("${core[@]}" "${bench[@]}") ;;
  *) echo "usage: $0 [core|test|bench]" >&2; exit 2 ;;
esac

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  if printf '%s\n' "${missing[@]}" | grep -q ':arm64$' && ! dpkg --print-foreign-architectures | grep -qx arm64; then
    as_root dpkg --add-architecture arm64
  fi
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  # meson keeps a configured build's checks: a header found missing before (hnswlib's, when the
  # test setup ran before this bench one) is never looked for again, and what needs it is left
  # out unsaid. Builds set up before these packages came are set up afresh, with their options.
  # (A wipe keeps the options and cross file but finds the compiler anew: build-fuzz's is clang.)
  for dir in build build-asan build-tsan build-fuzz build-arm64; do
    [ -f "$dir/build.ninja" ] || continue
    if [ "$dir" = build-fuzz ]; then CC=clang meson setup --wipe "$dir" >/dev/null
    else meson setup --wipe "$dir" >/dev/null; fi
  done
fi

configure() { # dir, meson options... (--cross-file=F applies when the dir is first set up)
  local dir=$1; shift
  if [ -f "$dir/build.ninja" ]; then
    local opts=()
    for o in "$@"; do [[ $o == --cross-file=* ]] || opts+=("$o"); done
    meson configure "$dir" "${opts[@]}" >/dev/null
  else
    meson setup "$dir" "$@" >/dev/null
  fi
  ninja -C "$dir" >/dev/null
}

# benchmarks/ann/memory_bench: USearch 2.25's C++ headers and the NumKong kernels it ships, which
# the benchmark compiles in (benchmarks/ann/meson.build looks in .npm/node_modules/usearch). Before
# meson runs, so that it finds them (a build set up without them looks again); --ignore-scripts:
# the Node addon is not wanted, nor built.
if [ "$profile" = bench ] &&
   ! grep -qs '"version": "2\.25\.' benchmarks/ann/.npm/node_modules/usearch/package.json; then
  npm install --prefix benchmarks/ann/.npm --no-save --ignore-scripts --no-audit --no-fund usearch@2.25 >/dev/null
  if [ -f build/build.ninja ]; then meson setup --reconfigure build >/dev/null; fi
fi

# benchmarks/server/chroma_bench.js: a real Chroma server (chroma run of the chromadb 3.0.3 npm
# package, Chroma 1.0: the newest whose server binary runs on this glibc; about 410 MB with its
# native build) and, apart, the chromadb 3.5 client both servers are driven with.
if [ "$profile" = bench ]; then
  npm_prefix=benchmarks/server/.npm
  if ! grep -qs '"version": "3\.0\.3"' $npm_prefix/chroma-server/node_modules/chromadb/package.json; then
    npm install --prefix $npm_prefix/chroma-server --no-save --ignore-scripts --no-audit --no-fund chromadb@3.0.3 >/dev/null
  fi
  if ! grep -qs '"version": "3\.5\.0"' $npm_prefix/chroma-client/node_modules/chromadb/package.json; then
    npm install --prefix $npm_prefix/chroma-client --no-save --ignore-scripts --no-audit --no-fund --omit=optional chromadb@3.5.0 >/dev/null
  fi
fi

features=(-Dtests=disabled -Dbenchmarks=disabled)
[ "$profile" = test ] && features=(-Dtests=enabled -Dbenchmarks=auto)
[ "$profile" = bench ] && features=(-Dtests=auto -Dbenchmarks=enabled)
configure build "${features[@]}"
if [ "$profile" = test ]; then
  configure build-asan -Dtests=enabled -Dbenchmarks=disabled -Db_sanitize=address,undefined -Db_lundef=false
  configure build-tsan -Dtests=enabled -Dbenchmarks=disabled -Db_sanitize=thread -Db_lundef=false
  CC=clang configure build-fuzz -Dfuzz=enabled -Dtests=disabled -Dbenchmarks=disabled \
    -Db_sanitize=address,undefined -Db_lundef=false
  if [ "$(uname -m)" = x86_64 ]; then
    configure build-arm64 --cross-file=cross/aarch64-linux-gnu.ini -Dtests=enabled -Dbenchmarks=disabled
  fi
  # tests/server (vexfs-server through Qdrant's and Chroma's JS clients): the clients as
  # package-lock.json pins them, installed again when the lock changes (npm ci empties
  # node_modules first). Peer dependencies are left out (Qdrant's client names typescript as one
  # and needs none at run time), and optional ones: chromadb's are native builds of Chroma's own
  # embedded server (51 MB), which its HTTP client never loads.
  lock_sum=$(sha256sum tests/server/package-lock.json | cut -d' ' -f1)
  if [ ! -d tests/server/node_modules/@qdrant/js-client-rest ] ||
     [ "$(cat tests/server/node_modules/.lock.sha256 2>/dev/null)" != "$lock_sum" ]; then
    (cd tests/server && npm ci --ignore-scripts --no-audit --no-fund --omit=peer --omit=optional >/dev/null)
    echo "$lock_sum" >tests/server/node_modules/.lock.sha256
  fi
fi
echo "setup: $profile ready"

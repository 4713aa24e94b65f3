#!/usr/bin/env bash
# vexfs-server against the same work done in-process, on the same data (gen.h), round by round.
#
#   benchmarks/server/run.sh          after `ninja -C build` (it builds nothing)
#
# Each round, in alternating order (server first in odd rounds):
#   server:     vexfs-server --port 0 --data <fresh temp dir> --threads $THREADS (sync full);
#               PUT the collection {"vectors": {"size": DIM, "distance": "Euclid"},
#               "hnsw_config": {"m": 16, "ef_construct": 100}}; http_load upsert (batches of
#               $BATCH, wait=true, one keep-alive connection); http_load search (one connection:
#               $WARMUP untimed, then each of the $NQ queries once; recall@K); wrk -t $WRK_THREADS
#               -c $CONNS -d $DURATION over the same queries (search.lua), then wrk -c 1 -d
#               $C1_DURATION as a cross-check of the one-connection latency; the server is stopped
#               (SIGTERM: checkpoint and close) and its directory removed.
#   in-process: inproc, the same steps through the library: a durable database in a temp dir,
#               vexfs_insert of $BATCH rows per call (INPROC_WRITE=upsert: vexfs_upsert, the
#               call the server makes), one-thread latency over the same queries, $THREADS
#               threads for $DURATION, recall@K; exact searches where the server's are (below
#               20000 KiB of vectors, as Qdrant's indexing threshold), else HNSW with ef $EF.
# Then a table of medians: search QPS server/in-process, the p50 overhead of one request
# (server p50 with one connection minus in-process p50 on one thread), upsert server/in-process,
# and CPU time per search on either side (the server's: its process's user + system time, from
# /proc, over the requests of that phase, warm-up included; wrk's and http_load's own CPU is not
# counted), which a busy machine disturbs less than wall time.
# Ratios and the overhead are the median of the rounds' own figures (each round's pair ran back
# to back). Every raw line is printed as it comes, with round=R appended.
#
# Settings (environment): N=100000 DIM=128 NQ=10000 SEED=1 ROUNDS=3 THREADS=2 CONNS=16
# WRK_THREADS=2 DURATION=10 C1_DURATION=5 BATCH=256 EF=64 K=10 WARMUP=500 INPROC_WRITE=insert
# BUILD=<repo>/build
# TMPDIR=/tmp (where the databases go: both sides on the same file system), STEP_LIMIT=1200 and
# SERVER_LIMIT=3600 (seconds).
# Only 127.0.0.1 is used; every step runs under `timeout`; the server is stopped on any exit.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${BUILD:-$root/build}
N=${N:-100000} DIM=${DIM:-128} NQ=${NQ:-10000} SEED=${SEED:-1} ROUNDS=${ROUNDS:-3}
THREADS=${THREADS:-2} CONNS=${CONNS:-16} WRK_THREADS=${WRK_THREADS:-2} DURATION=${DURATION:-10}
C1_DURATION=${C1_DURATION:-5} BATCH=${BATCH:-256} EF=${EF:-64} K=${K:-10} WARMUP=${WARMUP:-500}
INPROC_WRITE=${INPROC_WRITE:-insert} # or upsert: the vexfs_upsert call the server's route makes
STEP_LIMIT=${STEP_LIMIT:-1200}     # seconds any one step may take
SERVER_LIMIT=${SERVER_LIMIT:-3600} # seconds a server may live, should this script be killed

server_bin=$build/server/vexfs-server
inproc_bin=$build/benchmarks/server/inproc
load_bin=$build/benchmarks/server/http_load
for b in "$server_bin" "$inproc_bin" "$load_bin"; do
  [[ -x $b ]] || { echo "run.sh: $b is missing: build first (ninja -C $build)" >&2; exit 2; }
done
for t in wrk curl timeout; do
  command -v "$t" >/dev/null || { echo "run.sh: needs $t (Debian package $t)" >&2; exit 2; }
done

server_pid=""
work=""

stop_server() {
  [[ -n $server_pid ]] || return 0
  kill -TERM "$server_pid" 2>/dev/null || true
  local i
  for ((i = 0; i < 1200; i++)); do # the final checkpoint may take a while: 120 s at most
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}
cleanup() {
  local rc=$?
  [[ -n $work ]] || return 0
  if ((rc != 0)) && [[ -s $work/server.err ]]; then
    echo "run.sh: failed (status $rc); the server's stderr ended with:" >&2
    tail -n 20 "$work/server.err" >&2
  fi
  stop_server
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
work=$(mktemp -d "${TMPDIR:-/tmp}/vexfs-server-bench.XXXXXX")
results=$work/results
# Run on a copy of the build, so that a rebuild during the run (others at work in the same tree)
# cannot change the binaries or the library between rounds.
mkdir -p "$work/bin" "$work/lib"
cp "$server_bin" "$inproc_bin" "$load_bin" "$work/bin/"
cp -L "$build/lib/libvexfs.so.1" "$work/lib/"
export LD_LIBRARY_PATH=$work/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
built=$(date -u -r "$server_bin" +%FT%TZ)/$(date -u -r "$build/lib/libvexfs.so.1" +%FT%TZ)
server_bin=$work/bin/vexfs-server inproc_bin=$work/bin/inproc load_bin=$work/bin/http_load
: >"$results"

# Appends round=R to each line of stdin, prints it and keeps it in $results.
record() { awk -v r="$1" '{ print $0 " round=" r; fflush() }' | tee -a "$results"; }

start_server() {
  local data=$1 out=$work/server.out port="" i
  : >"$out"
  # timeout passes SIGTERM on to the server, and bounds it should this script be killed
  timeout --kill-after=30 "$SERVER_LIMIT" "$server_bin" --port 0 --data "$data" \
    --threads "$THREADS" --sync full >"$out" 2>"$work/server.err" &
  server_pid=$!
  for ((i = 0; i < 300; i++)); do
    port=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9][0-9]*\).*|\1|p' "$out")
    [[ -n $port ]] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.05
  done
  if [[ -z $port ]]; then
    echo "run.sh: the server did not start:" >&2
    cat "$out" "$work/server.err" >&2
    exit 1
  fi
  PORT=$port
  # the server itself is timeout's child
  SERVER=$(awk '{ print $1 }' "/proc/$server_pid/task/$server_pid/children")
}

# The server's CPU time so far (every thread, user + system), in clock ticks.
server_ticks() { awk '{ print $14 + $15 }' "/proc/$SERVER/stat"; }

# Prints `server_cpu phase=P requests=N cpu_us_per_request=X` from ticks before and after.
server_cpu() {
  awk -v p="$1" -v n="$2" -v t0="$3" -v t1="$4" -v hz="$(getconf CLK_TCK)" \
    'BEGIN { printf "server_cpu phase=%s requests=%d cpu_us_per_request=%.1f\n", p, n, (t1 - t0) / hz * 1e6 / n }'
}

server_round() {
  local r=$1
  local data=$work/server-data.$r
  start_server "$data"
  local url=http://127.0.0.1:$PORT
  curl -sS --fail-with-body --max-time 30 -X PUT "$url/collections/bench" \
    -H 'Content-Type: application/json' \
    -d "{\"vectors\":{\"size\":$DIM,\"distance\":\"Euclid\"},\"hnsw_config\":{\"m\":16,\"ef_construct\":100}}" \
    >"$work/create.out" || { echo "run.sh: creating the collection failed: $(cat "$work/create.out")" >&2; exit 1; }
  timeout "$STEP_LIMIT" "$load_bin" upsert --port "$PORT" --n "$N" --dim "$DIM" --seed "$SEED" \
    --batch "$BATCH" | record "$r"
  local t0 t1
  t0=$(server_ticks)
  timeout "$STEP_LIMIT" "$load_bin" search --port "$PORT" --n "$N" --dim "$DIM" --queries "$NQ" \
    --seed "$SEED" --k "$K" --ef "$EF" --warmup "$WARMUP" | record "$r"
  t1=$(server_ticks)
  server_cpu latency1 $((NQ + WARMUP)) "$t0" "$t1" | record "$r"
  t0=$(server_ticks)
  VEXFS_QUERIES=$work/queries.jsonl timeout $((DURATION + 60)) wrk -t "$WRK_THREADS" -c "$CONNS" \
    -d "${DURATION}s" --timeout 10s -s "$here/search.lua" "$url" >"$work/wrk.out"
  t1=$(server_ticks)
  grep '^wrk ' "$work/wrk.out" | sed "s/^wrk /wrk_search conns=$CONNS threads=$WRK_THREADS /" | record "$r"
  server_cpu "search$CONNS" "$(sed -n 's/^wrk requests=\([0-9]*\).*/\1/p' "$work/wrk.out")" "$t0" "$t1" | record "$r"
  VEXFS_QUERIES=$work/queries.jsonl timeout $((C1_DURATION + 60)) wrk -t 1 -c 1 \
    -d "${C1_DURATION}s" --timeout 10s -s "$here/search.lua" "$url" >"$work/wrk.out"
  grep '^wrk ' "$work/wrk.out" | sed "s/^wrk /wrk_search conns=1 threads=1 /" | record "$r"
  stop_server
  rm -rf "$data"
}

inproc_round() {
  local r=$1
  timeout "$STEP_LIMIT" "$inproc_bin" --n "$N" --dim "$DIM" --queries "$NQ" --seed "$SEED" \
    --threads "$THREADS" --seconds "$DURATION" --batch "$BATCH" --ef "$EF" --k "$K" \
    --warmup "$WARMUP" --sync full --write "$INPROC_WRITE" --tmp "$work" | record "$r"
}

echo "# vexfs-server benchmark: n=$N dim=$DIM queries=$NQ seed=$SEED rounds=$ROUNDS" \
  "server --threads $THREADS, wrk -t $WRK_THREADS -c $CONNS -d ${DURATION}s, batch $BATCH," \
  "k=$K ef=$EF; $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg); commit" \
  "$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?'), server/library built $built"
if ((N * DIM * 4 < 20000 * 1024)); then
  echo "# note: below 20000 KiB of vectors the server searches exactly (server/qdrant_search.c);" \
    "inproc does the same (--exact auto), so this measures exact scans, not HNSW"
fi
timeout 300 "$load_bin" bodies --n "$N" --dim "$DIM" --queries "$NQ" --seed "$SEED" --k "$K" \
  --ef "$EF" --out "$work/queries.jsonl"

for ((r = 1; r <= ROUNDS; r++)); do
  if ((r % 2)); then
    server_round "$r"
    inproc_round "$r"
  else
    inproc_round "$r"
    server_round "$r"
  fi
done

# The table. Lines are `name key=value ... round=R`.
awk -v rounds="$ROUNDS" -v n="$N" -v dim="$DIM" -v nq="$NQ" -v conns="$CONNS" -v threads="$THREADS" \
  -v batch="$BATCH" -v k="$K" -v ef="$EF" -v load="$(cut -d' ' -f1-3 /proc/loadavg)" '
function val(key,   i, kv) {
  for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == key) return kv[2] + 0 }
  return ""
}
function median(a,   m, i, j, t, b) {
  m = 0
  for (i = 1; i <= rounds; i++) if ((i in a) && a[i] != "") b[++m] = a[i]
  for (i = 2; i <= m; i++) { t = b[i]; for (j = i - 1; j >= 1 && b[j] > t; j--) b[j + 1] = b[j]; b[j + 1] = t }
  if (m == 0) return "nan"
  return m % 2 ? b[(m + 1) / 2] : (b[m / 2] + b[m / 2 + 1]) / 2
}
{
  r = val("round")
  if ($1 == "wrk_search" && val("conns") == conns) { sq[r] = val("rps"); sp50[r] = val("p50_us"); sp99[r] = val("p99_us") }
  if ($1 == "wrk_search" && val("conns") == 1) { w1p50[r] = val("p50_us") }
  if ($1 == "inproc_search") { iq[r] = val("qps"); ip50[r] = val("p50_us"); ip99[r] = val("p99_us") }
  if ($1 == "http_latency1") { s1p50[r] = val("p50_us"); s1p99[r] = val("p99_us"); stime[r] = val("server_time_p50_us") }
  if ($1 == "inproc_latency1") { i1p50[r] = val("p50_us"); i1p99[r] = val("p99_us") }
  if ($1 == "http_upsert") su[r] = val("points_per_s")
  if ($1 == "inproc_upsert") iu[r] = val("points_per_s")
  if ($1 == "server_cpu" && $2 == "phase=latency1") scpu1[r] = val("cpu_us_per_request")
  if ($1 == "server_cpu" && $2 == "phase=search" conns) scpuq[r] = val("cpu_us_per_request")
  if ($1 == "inproc_latency1") icpu1[r] = val("cpu_us_per_query")
  if ($1 == "inproc_search") icpuq[r] = val("cpu_us_per_query")
  if ($1 == "http_recall") srec[r] = val("recall")
  if ($1 == "inproc_recall") irec[r] = val("recall")
}
END {
  for (r = 1; r <= rounds; r++) {
    if ((r in sq) && (r in iq) && iq[r] > 0) qr[r] = sq[r] / iq[r]
    if ((r in s1p50) && (r in i1p50)) ov[r] = s1p50[r] - i1p50[r]
    if ((r in w1p50) && (r in i1p50)) wov[r] = w1p50[r] - i1p50[r]
    if ((r in su) && (r in iu) && iu[r] > 0) ur[r] = su[r] / iu[r]
  }
  q = median(qr); o = median(ov); u = median(ur)
  printf "\n## vexfs-server vs in-process: n=%d d=%d, %d queries, k=%d ef=%d, %d rounds (load at the end: %s)\n\n", n, dim, nq, k, ef, rounds, load
  printf "| measure | server | in-process | server vs in-process | target | met |\n|---|---|---|---|---|---|\n"
  printf "| search QPS, %d connections / %d threads | %.0f | %.0f | %.2fx | >= 0.7x | %s |\n", conns, threads, median(sq), median(iq), q, (q >= 0.7 ? "yes" : "no")
  printf "| p50 us, 1 connection / 1 thread | %.1f | %.1f | %+.1f us | <= 100 us | %s |\n", median(s1p50), median(i1p50), o, (o <= 100 ? "yes" : "no")
  printf "| upsert points/s, %d per call, sync full | %.0f | %.0f | %.2fx | >= 0.6x | %s |\n", batch, median(su), median(iu), u, (u >= 0.6 ? "yes" : "no")
  printf "| CPU us per search, 1 connection / 1 thread | %.1f | %.1f | %+.1f us | | |\n", median(scpu1), median(icpu1), median(scpu1) - median(icpu1)
  printf "| CPU us per search, %d connections / %d threads | %.1f | %.1f | %+.1f us | | |\n", conns, threads, median(scpuq), median(icpuq), median(scpuq) - median(icpuq)
  printf "\nalso (medians): p99 us 1 connection / 1 thread: server %.1f, in-process %.1f;", median(s1p99), median(i1p99)
  printf " p50/p99 us %d connections: server %.1f/%.1f; in-process %d threads %.1f/%.1f;", conns, median(sp50), median(sp99), threads, median(ip50), median(ip99)
  printf " wrk 1 connection p50 %.1f us (overhead %+.1f us); the server'"'"'s own time per search (its answers'"'"' \"time\": body parsed, searched, result built), p50 %.1f us;", median(w1p50), median(wov), median(stime)
  printf " recall@%d server %.4f, in-process %.4f\n", k, median(srec), median(irec)
  printf "\nsummary search_qps_ratio=%.3f p50_overhead_us=%.1f upsert_ratio=%.3f rounds=%d\n", q, o, u, rounds
}' "$results"

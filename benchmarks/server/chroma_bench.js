'use strict';
// vexfs-server against a real Chroma server (Chroma 1.0, `chroma run` of the chromadb 3.0.3 npm
// package), driven by the same chromadb 3.5 client code, on one machine, in interleaved rounds.
//
//   node benchmarks/server/chroma_bench.js     (benchmarks/server/run_chroma.sh sets it up)
//
// Each round, for each server in turn (vexfs-server first in odd rounds): a fresh server on a
// free loopback port with a fresh data directory (vexfs-server --data, sync full; chroma run
// --path), one collection (l2, Chroma's HNSW defaults on both: M 16, ef_construction 100,
// ef_search 100), then
//   add:        N vectors of DIM with metadata, BATCH per add call, one after another: vectors/s;
//   sequential: NQ queries of k=K one after another, unfiltered, then with a where admitting
//               about 10% ({"category": 3}): queries/s, p50, p99 (ms), recall@K against exact
//               answers computed here;
//   concurrent: the same NQ queries from CONC clients at once (each its own ChromaClient, all
//               in this process), unfiltered and filtered: queries/s.
// WARMUP untimed queries come before each timed phase. Then a table of medians over the rounds:
// each figure per server and the ratio vexfs/Chroma of each round, medianed (for the servers'
// CPU time per operation, from /proc, Chroma/vexfs: how many times less CPU vexfs-server spent;
// the client's own CPU, the same code for both, is not in it). Every raw line is printed as it
// comes.
//
// Data: a mixture of CLUSTERS Gaussian clusters (xorshift seeded by SEED), as embeddings of
// texts on a few topics are; queries are drawn the same way (not stored vectors).
//
// Environment: N=50000 DIM=384 NQ=1000 K=10 BATCH=1000 CONC=16 ROUNDS=3 WARMUP=50 CLUSTERS=64
// SEED=1 VEXFS_SERVER=<repo>/build/server/vexfs-server CHROMA_PREFIX=<dir with chromadb@3.0.3>
// CLIENT_PREFIX=<dir with chromadb@3.5.0> PLOT=<svg file> (gnuplot; none when unset)
// TMPDIR (data directories; both servers on the same file system).
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const env = (k, d) => (process.env[k] === undefined ? d : Number(process.env[k]));
const N = env('N', 50000), DIM = env('DIM', 384), NQ = env('NQ', 1000), K = env('K', 10);
const BATCH = env('BATCH', 1000), CONC = env('CONC', 16), ROUNDS = env('ROUNDS', 3);
const WARMUP = env('WARMUP', 50), CLUSTERS = env('CLUSTERS', 64), SEED = env('SEED', 1);
const ROOT = path.resolve(__dirname, '..', '..');
const VEXFS = process.env.VEXFS_SERVER || path.join(ROOT, 'build', 'server', 'vexfs-server');
const CHROMA_PREFIX = process.env.CHROMA_PREFIX || path.join(__dirname, '.npm', 'chroma-server');
const CLIENT_PREFIX = process.env.CLIENT_PREFIX || path.join(__dirname, '.npm', 'chroma-client');
const { ChromaClient } = require(path.join(CLIENT_PREFIX, 'node_modules', 'chromadb'));
const WHERE = { category: 3 }; // i % 10 == 3: a tenth of the records

function rng(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s / 2 ** 32;
  };
}

function gaussian(rand) {
  const u = Math.max(rand(), 1e-12), v = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

function makeData() {
  const rand = rng(SEED);
  const centers = Array.from({ length: CLUSTERS }, () => Float32Array.from({ length: DIM }, () => gaussian(rand)));
  const draw = () => {
    const c = centers[Math.floor(rand() * CLUSTERS)];
    return Float32Array.from(c, (x) => x + 0.6 * gaussian(rand));
  };
  const vectors = Array.from({ length: N }, draw);
  const queries = Array.from({ length: NQ }, draw);
  const metadatas = vectors.map((_, i) => ({ category: i % 10, group: `g${i % 100}`, price: (i % 1000) / 10 }));
  return { vectors, queries, metadatas, ids: vectors.map((_, i) => `doc-${i}`) };
}

// exact k nearest (squared L2) of each query among the rows that admit
function exactTopK(vectors, queries, admit) {
  const rows = vectors.map((v, i) => i).filter(admit);
  return queries.map((q) => {
    const best = []; // [dist, i], ascending, at most K
    for (const i of rows) {
      const v = vectors[i];
      let d = 0;
      for (let j = 0; j < DIM; j++) { const t = v[j] - q[j]; d += t * t; }
      if (best.length === K && d >= best[K - 1][0]) continue;
      let at = best.length;
      while (at > 0 && best[at - 1][0] > d) at--;
      best.splice(at, 0, [d, i]);
      if (best.length > K) best.pop();
    }
    return new Set(best.map(([, i]) => `doc-${i}`));
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitHeartbeat(port, proc, what) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`${what} exited with ${proc.exitCode}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/api/v2/heartbeat`);
      if (res.ok) return;
    } catch { /* not listening yet */ }
    await sleep(100);
  }
  throw new Error(`${what}: no heartbeat within 60 s`);
}

async function startServer(kind) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `bench-${kind}-`));
  const port = await freePort();
  const proc = kind === 'vexfs'
    ? spawn(VEXFS, ['--host', '127.0.0.1', '--port', String(port), '--data', dir], { stdio: ['ignore', 'ignore', 'inherit'] })
    : spawn(path.join(CHROMA_PREFIX, 'node_modules', '.bin', 'chroma'),
      ['run', '--path', dir, '--host', '127.0.0.1', '--port', String(port)], { stdio: ['ignore', 'ignore', 'ignore'] });
  await waitHeartbeat(port, proc, kind);
  return {
    port,
    proc,
    cpuSeconds() { // the server's user + system time so far (/proc)
      const f = fs.readFileSync(`/proc/${proc.pid}/stat`, 'utf8').split(') ')[1].split(' ');
      return (Number(f[11]) + Number(f[12])) / 100;
    },
    async stop() {
      proc.kill('SIGTERM');
      const gone = new Promise((r) => proc.once('exit', r));
      if (await Promise.race([gone.then(() => true), sleep(30_000).then(() => false)]) === false) {
        proc.kill('SIGKILL');
        await gone;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };

function recall(results, truth) {
  let hit = 0;
  results.forEach((ids, q) => ids.forEach((id) => { if (truth[q].has(id)) hit++; }));
  return hit / (truth.length * K);
}

async function sequential(server, coll, data, where, truth) {
  for (let i = 0; i < WARMUP; i++) await coll.query({ queryEmbeddings: [Array.from(data.queries[i % NQ])], nResults: K, where, include: [] });
  const lat = [];
  const results = [];
  const cpu0 = server.cpuSeconds();
  const t0 = process.hrtime.bigint();
  for (const q of data.queries) {
    const s = process.hrtime.bigint();
    const r = await coll.query({ queryEmbeddings: [Array.from(q)], nResults: K, where, include: ['distances'] });
    lat.push(Number(process.hrtime.bigint() - s) / 1e6);
    results.push(r.ids[0]);
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpuMs = (server.cpuSeconds() - cpu0) * 1000 / NQ;
  lat.sort((a, b) => a - b);
  return { qps: NQ / secs, p50: percentile(lat, 0.5), p99: percentile(lat, 0.99), recall: recall(results, truth), cpuMs };
}

async function concurrent(server, colls, data, where) {
  let next = 0;
  const worker = async (coll) => {
    for (let i; (i = next++) < NQ;) await coll.query({ queryEmbeddings: [Array.from(data.queries[i])], nResults: K, where, include: ['distances'] });
  };
  next = NQ - Math.min(NQ, WARMUP);
  await Promise.all(colls.map(worker)); // warm-up: the last WARMUP queries
  next = 0;
  const cpu0 = server.cpuSeconds();
  const t0 = process.hrtime.bigint();
  await Promise.all(colls.map(worker));
  return { qps: NQ / (Number(process.hrtime.bigint() - t0) / 1e9), cpuMs: (server.cpuSeconds() - cpu0) * 1000 / NQ };
}

async function runOne(kind, data, truth, round) {
  const server = await startServer(kind);
  try {
    const client = new ChromaClient({ host: '127.0.0.1', port: server.port, ssl: false });
    const coll = await client.createCollection({ name: 'bench', embeddingFunction: null,
      configuration: { hnsw: { space: 'l2', ef_construction: 100, ef_search: 100, max_neighbors: 16 } } });
    const cpu0 = server.cpuSeconds();
    const t0 = process.hrtime.bigint();
    for (let at = 0; at < N; at += BATCH) {
      const end = Math.min(N, at + BATCH);
      await coll.add({ ids: data.ids.slice(at, end), embeddings: data.vectors.slice(at, end).map((v) => Array.from(v)),
        metadatas: data.metadatas.slice(at, end) });
    }
    const addSecs = Number(process.hrtime.bigint() - t0) / 1e9;
    const count = await coll.count();
    if (count !== N) throw new Error(`${kind}: ${count} records after adding ${N}`);
    const out = { add: N / addSecs, add_cpu_us: (server.cpuSeconds() - cpu0) * 1e6 / N };
    console.log(`${kind} add vectors_per_s=${out.add.toFixed(0)} server_cpu_us_per_vector=${out.add_cpu_us.toFixed(1)} round=${round}`);
    for (const [name, where, t] of [['unfiltered', undefined, truth.all], ['filtered', WHERE, truth.filtered]]) {
      const s = await sequential(server, coll, data, where, t);
      out[`seq_${name}`] = s;
      console.log(`${kind} sequential ${name} qps=${s.qps.toFixed(1)} p50_ms=${s.p50.toFixed(3)} p99_ms=${s.p99.toFixed(3)} recall=${s.recall.toFixed(4)} server_cpu_ms_per_query=${s.cpuMs.toFixed(3)} round=${round}`);
    }
    const clients = await Promise.all(Array.from({ length: CONC }, async () =>
      (new ChromaClient({ host: '127.0.0.1', port: server.port, ssl: false })).getCollection({ name: 'bench', embeddingFunction: null })));
    for (const [name, where] of [['unfiltered', undefined], ['filtered', WHERE]]) {
      const c = await concurrent(server, clients, data, where);
      out[`conc_${name}`] = c;
      console.log(`${kind} concurrent(${CONC}) ${name} qps=${c.qps.toFixed(1)} server_cpu_ms_per_query=${c.cpuMs.toFixed(3)} round=${round}`);
    }
    return out;
  } finally {
    await server.stop();
  }
}

function table(rounds) {
  // ratio 'x': vexfs / Chroma (throughput: more is better); 'less': Chroma / vexfs (times less)
  const rows = [
    ['add (vectors/s)', (r) => r.add, 'x'],
    ['  server CPU per vector (µs)', (r) => r.add_cpu_us, 'less'],
    ['sequential unfiltered (queries/s)', (r) => r.seq_unfiltered.qps, 'x'],
    ['  p50 (ms)', (r) => r.seq_unfiltered.p50, ''],
    ['  p99 (ms)', (r) => r.seq_unfiltered.p99, ''],
    ['  recall@10', (r) => r.seq_unfiltered.recall, ''],
    ['  server CPU per query (ms)', (r) => r.seq_unfiltered.cpuMs, 'less'],
    ['sequential filtered 10% (queries/s)', (r) => r.seq_filtered.qps, 'x'],
    ['  p50 (ms)', (r) => r.seq_filtered.p50, ''],
    ['  p99 (ms)', (r) => r.seq_filtered.p99, ''],
    ['  recall@10', (r) => r.seq_filtered.recall, ''],
    ['  server CPU per query (ms)', (r) => r.seq_filtered.cpuMs, 'less'],
    [`concurrent ${CONC} unfiltered (queries/s)`, (r) => r.conc_unfiltered.qps, 'x'],
    ['  server CPU per query (ms)', (r) => r.conc_unfiltered.cpuMs, 'less'],
    [`concurrent ${CONC} filtered (queries/s)`, (r) => r.conc_filtered.qps, 'x'],
    ['  server CPU per query (ms)', (r) => r.conc_filtered.cpuMs, 'less'],
  ];
  const fmt = (x) => (x >= 100 ? x.toFixed(0) : x >= 1 ? x.toFixed(2) : x.toFixed(4));
  console.log(`\nmedians of ${ROUNDS} rounds: N=${N} DIM=${DIM} NQ=${NQ} K=${K} BATCH=${BATCH} CONC=${CONC}`);
  console.log('| | vexfs-server | Chroma 1.0 | vexfs/Chroma |');
  console.log('|---|---|---|---|');
  const plot = [];
  for (const [name, get, ratio] of rows) {
    const v = median(rounds.map((r) => get(r.vexfs))), c = median(rounds.map((r) => get(r.chroma)));
    const q = ratio === 'x' ? `${median(rounds.map((r) => get(r.vexfs) / get(r.chroma))).toFixed(2)}x`
      : ratio === 'less' ? `${median(rounds.map((r) => get(r.chroma) / get(r.vexfs))).toFixed(2)}x less` : '';
    console.log(`| ${name} | ${fmt(v)} | ${fmt(c)} | ${q} |`);
    if (ratio === 'x') plot.push([name.replace(/ \(.*\)/, ''), v, c]);
  }
  return plot;
}

function drawPlot(plot, file) {
  const dat = path.join(os.tmpdir(), `chroma-bench-${process.pid}.dat`);
  fs.writeFileSync(dat, plot.map(([n, v, c]) => `"${n}" ${v} ${c}`).join('\n') + '\n');
  const script = `set terminal svg size 900,420 font "sans,11"; set output "${file}";
set title "vexfs-server vs Chroma 1.0: ${N} x ${DIM}, k=${K} (medians of ${ROUNDS} rounds; log scale)";
set style data histograms; set style histogram clustered gap 1; set style fill solid 0.8 border -1;
set logscale y; set ylabel "per second"; set xtics rotate by -15 scale 0; set key top right; set grid ytics;
plot "${dat}" using 2:xtic(1) title "vexfs-server" lc rgb "#1f77b4", "" using 3 title "Chroma 1.0" lc rgb "#ff7f0e"`;
  const r = spawnSync('gnuplot', [], { input: script, encoding: 'utf8' });
  fs.rmSync(dat, { force: true });
  if (r.status !== 0) console.error(`gnuplot failed: ${r.stderr}`);
  else console.log(`plot: ${file}`);
}

async function main() {
  const data = makeData();
  const truth = {
    all: exactTopK(data.vectors, data.queries, () => true),
    filtered: exactTopK(data.vectors, data.queries, (i) => data.metadatas[i].category === WHERE.category),
  };
  const rounds = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const order = round % 2 ? ['vexfs', 'chroma'] : ['chroma', 'vexfs'];
    const r = {};
    for (const kind of order) r[kind] = await runOne(kind, data, truth, round);
    rounds.push(r);
  }
  const plot = table(rounds);
  if (process.env.PLOT) drawPlot(plot, process.env.PLOT);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

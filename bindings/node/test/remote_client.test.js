'use strict';
// node --test suite for the remote client (VexFSClient, remote.js) against a real vexfs-server:
// the same answers as the embedded addon on the same data (ids, float32 distances, metadata),
// the reference's TypeScript SDK calls, errors, keep-alive, BigInt ids, and running without the
// addon. The server: $VEXFS_SERVER, else build/server/vexfs-server at the repository root,
// started on 127.0.0.1 with --port 0 and stopped (SIGTERM, exit 0) after each test. Skipped only
// when that binary does not exist.
const test = require('node:test');
const assert = require('node:assert/strict');
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const vexfs = require('..');

const { VexFSClient, VexFSError, VexfsError } = vexfs;
const ROOT = path.resolve(__dirname, '..', '..', '..');
const BINARY = process.env.VEXFS_SERVER || path.join(ROOT, 'build', 'server', 'vexfs-server');
const skip = fs.existsSync(BINARY) ? false : `no vexfs-server binary at ${BINARY} (build it, or set $VEXFS_SERVER)`;

/** Starts a server; resolves with {url, port, stop()} once it printed its port. */
function startServer(args = []) {
  const env = { ...process.env };
  delete env.VEXFS_API_KEY;
  const proc = spawn(BINARY, ['--host', '127.0.0.1', '--port', '0', ...args],
    { stdio: ['ignore', 'pipe', 'pipe'], env });
  let stderr = '';
  proc.stderr.on('data', (s) => { stderr = (stderr + s).slice(-4000); });
  const exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
    const result = await exited;
    clearTimeout(timer);
    assert.equal(result.code, 0, `vexfs-server did not exit 0 on SIGTERM: ${JSON.stringify(result)} ${stderr}`);
  };
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`no listening line: ${out} ${stderr}`)); }, 10_000);
    proc.stdout.on('data', (s) => {
      out += s;
      const m = /listening on (https?):\/\/\S+:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        const port = Number(m[2]);
        resolve({ url: `${m[1]}://127.0.0.1:${port}`, port, stop });
      }
    });
    proc.once('exit', () => { clearTimeout(timer); reject(new Error(`vexfs-server exited: ${stderr}`)); });
  });
}

async function withServer(args, fn) {
  const server = await startServer(args);
  try {
    await fn(server);
  } finally {
    await server.stop();
  }
}

// n * dim floats in [-0.5, 0.5), the same on every run (a 32-bit LCG)
function random(n, dim, seed) {
  const next = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5;
  return Float32Array.from({ length: n * dim }, next);
}

const CATEGORIES = ['tech', 'food', 'art'];
const metadataOf = (i) => ({ n: i, category: CATEGORIES[i % 3], price: i % 17 });

/** The client-side ports of TCP connections to 127.0.0.1:port, any state (TIME_WAIT too). */
function connectionsTo(port) {
  const ports = new Set();
  for (const line of fs.readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 3) continue;
    const local = parseInt(f[1].split(':')[1], 16), remote = parseInt(f[2].split(':')[1], 16);
    if (remote === port) ports.add(local);
    else if (local === port && remote !== 0) ports.add(remote);
  }
  return ports;
}

async function rejects(promise, fields) {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof VexFSError && e instanceof VexfsError && e instanceof Error, String(e));
    for (const [k, v] of Object.entries(fields)) {
      if (v instanceof RegExp) assert.match(e[k], v, `${k} of ${e.message}`);
      else assert.equal(e[k], v, `${k} of ${e.message}`);
    }
    return e;
  }
  assert.fail(`expected a VexFSError ${JSON.stringify(fields)}`);
}

for (const [metric, toScore] of [['l2', (d) => 1 / (1 + d)], ['ip', (d) => 1 - d]]) {
  test(`the same answers as the embedded addon (${metric})`, { skip }, () => withServer([], async ({ url }) => {
    const n = 300, dim = 24;
    const vectors = random(n, dim, 5);
    const metadata = Array.from({ length: n }, (_, i) => metadataOf(i));
    const local = new vexfs.Collection({ dim, index: 'flat', metric });
    const client = new VexFSClient({ endpoint: url });
    const col = await client.createCollection({ name: `same_${metric}`, dimension: dim, algorithm: 'flat', metric });
    assert.ok(col instanceof vexfs.RemoteCollection);
    assert.equal(col.dimension, dim);
    assert.equal(col.metric, metric);

    const assigned = local.batchInsert({ vectors: vectors.subarray(0, 200 * dim), metadata: metadata.slice(0, 200) });
    const inserted = await col.batchInsert({ vectors: vectors.subarray(0, 200 * dim), metadata: metadata.slice(0, 200) });
    assert.deepEqual(inserted.ids.map(BigInt), Array.from(assigned));
    assert.equal(inserted.count, 200);
    assert.equal(inserted.performanceStats.simdIsa, vexfs.simdIsa());
    const rows = Array.from({ length: 100 }, (_, i) => Array.from(vectors.subarray((200 + i) * dim, (201 + i) * dim)));
    local.add(Array.from({ length: 100 }, (_, i) => 1000 + i), vectors.subarray(200 * dim), metadata.slice(200));
    const more = await col.insertBatch({ vectors: rows, metadata: metadata.slice(200), ids: rows.map((_, i) => 1000 + i), batchSize: 30 });
    assert.deepEqual(more.ids, rows.map((_, i) => 1000 + i));
    assert.equal(await col.count(), n);

    const queries = random(10, dim, 6);
    const filters = [
      [null, null],
      [{ category: 'tech' }, { must: [{ key: 'category', match: { value: 'tech' } }] }],
      [{ must: [{ key: 'price', range: { gte: 3, lt: 9 } }] }, { must: [{ key: 'price', range: { gte: 3, lt: 9 } }] }],
    ];
    for (let q = 0; q < 10; q++) {
      const query = queries.subarray(q * dim, (q + 1) * dim);
      for (const [theirs, ours] of filters) {
        const want = local.search(query, 12, { filter: ours });
        const got = await col.search({ vector: query, limit: 12, filter: theirs });
        assert.equal(got.length, want.ids.length);
        assert.ok(got.length > 0);
        got.forEach((hit, i) => {
          assert.equal(BigInt(hit.id), want.ids[i]);
          assert.equal(hit.distance, want.distances[i]); // float32, to the last bit
          assert.equal(hit.score, toScore(want.distances[i]));
          assert.deepEqual(hit.metadata, local.getPayload(want.ids[i]));
        });
      }
    }
    const several = await col.search([Array.from(queries.subarray(0, dim)), Array.from(queries.subarray(dim, 2 * dim))], 5);
    assert.equal(several.length, 2);
    assert.deepEqual(several[1], await col.search(queries.subarray(dim, 2 * dim), 5));
    for (const id of [0, 17, 199, 1000, 1099]) {
      assert.deepEqual(await col.get(id), local.get(id));
      assert.deepEqual(await col.getMetadata(id), local.getPayload(id));
    }
    await col.delete([0, 1000]);
    await col.delete(17);
    local.remove([0, 1000, 17]);
    assert.equal(await col.count(), local.count());
    const stats = await col.getStats();
    assert.equal(stats.vectorCount, n - 3);
    assert.equal(stats.searchCount, 10 * 3 + 2 + 1);
    assert.equal(stats.insertCount, n);
    local.close();
  }));
}

test('the reference TypeScript SDK calls, as written there', { skip }, () => withServer([], async ({ url }) => {
  const performanceConfig = {
    enableMemoryPools: true, memoryPoolSize: '4GB', enableSIMD: true, enableStackOptimization: true,
    enableEnhancedBridge: true, targets: { fuseOpsPerSec: 4125, vectorOpsPerSec: 2120, semanticOpsPerSec: 648 },
  };
  const client = new VexFSClient({ endpoint: url, performanceConfig, enableMonitoring: true });
  const collection = await client.createCollection({
    name: 'performance_optimized', dimension: 384, algorithm: 'hnsw',
    performanceConfig: { optimizationLevel: 'maximum', memoryPoolSize: '2GB', enableSIMD: true, targetOpsPerSec: 2000 },
  });
  const vectors = Array.from({ length: 1000 }, () => Array.from({ length: 384 }, () => Math.random()));
  const metadata = vectors.map((_, i) => ({ id: i, type: 'test' }));
  const results = await collection.batchInsert({
    vectors, metadata,
    performanceOptions: { useMemoryPools: true, enableSIMD: true, batchSize: 100, parallelProcessing: true },
  });
  assert.deepEqual(results.ids, Array.from({ length: 1000 }, (_, i) => i));
  assert.ok(results.performanceStats.memoryPoolHitRate >= 0 && results.performanceStats.memoryPoolHitRate <= 1);
  assert.equal(results.performanceStats.simdUsed, vexfs.simdIsa() !== 'scalar');

  const hits = await collection.search({ vector: vectors[7], limit: 10 });
  assert.equal(hits[0].id, 7);
  assert.equal(hits[0].metadata.id, 7);
  assert.equal(hits[0].distance, 0);
  assert.equal(await collection.insert({ vector: vectors[0], metadata: { id: 1000 } }), 1000);

  await new Promise((resolve) => setTimeout(resolve, 1200)); // sampled once a second
  const metrics = await client.getPerformanceMetrics();
  assert.ok(metrics.vectorOpsPerSec >= 0);
  assert.ok(metrics.memoryPoolHitRate >= 0 && metrics.memoryPoolHitRate <= 1);
  assert.equal(metrics.simdAccelerationActive, vexfs.simdIsa() !== 'scalar');
  assert.equal(metrics.simdIsa, vexfs.simdIsa());
  assert.ok(metrics.raw.vector_operations.inserts >= 1001);
  const history = await client.getPerformanceHistory({ duration: '1m', interval: '1s' });
  assert.equal(history.dataPoints, history.metrics.length);
  assert.ok(history.dataPoints >= 1);
  const stats = await client.getStats();
  assert.equal(stats.collectionCount, 1);
  assert.equal(stats.vectorCount, 1001);
  assert.deepEqual(await client.listCollections(), ['performance_optimized']);
  const again = await client.getCollection('performance_optimized');
  assert.equal(again.algorithm, 'hnsw');
  assert.equal(again.parameters.m, 16);
  await client.deleteCollection('performance_optimized');
  assert.deepEqual(await client.listCollections(), []);
}));

test('errors: status, code and apiCode', { skip }, () => withServer(['--api-key', 'k3y'], async ({ url }) => {
  for (const apiKey of [undefined, 'wrong', 'k3y-']) {
    await rejects(new VexFSClient({ endpoint: url, apiKey }).listCollections(),
      { code: 'VEXFS_E_AUTH', status: 401, apiCode: 'API_002', endpoint: url, message: /api-key/ });
  }
  const client = new VexFSClient({ endpoint: url + '/api/v1', apiKey: 'k3y' });
  await rejects(client.getCollection('missing'), { code: 'VEXFS_E_NOT_FOUND', status: 404, apiCode: 'API_005', message: /missing/ });
  await rejects(client.deleteCollection('missing'), { code: 'VEXFS_E_NOT_FOUND', status: 404 });
  const col = await client.createCollection({ name: 'e', dimension: 3 });
  await rejects(client.createCollection({ name: 'e', dimension: 3 }), { code: 'VEXFS_E_EXISTS', status: 409, apiCode: 'API_006' });
  await rejects(client.createCollection({ name: 'x', dimension: 3, parameters: { mm: 1 } }), { code: 'VEXFS_E_INVALID', status: 400, apiCode: 'API_001', message: /mm/ });
  await col.batchInsert({ vectors: [[1, 0, 0], [0, 1, 0]] });
  await rejects(col.insert({ vector: [1, 1, 1], id: 1 }), { code: 'VEXFS_E_EXISTS', status: 409 });
  await rejects(col.get(99), { code: 'VEXFS_E_NOT_FOUND', status: 404, apiCode: 'API_005' });
  await rejects(col.delete([0, 99]), { code: 'VEXFS_E_NOT_FOUND', status: 404 });
  assert.equal(await col.count(), 2); // all or nothing
  await rejects(col.search({ vector: [1, 2, 3], filter: { must: [{ bogus: 1 }] } }), { code: 'VEXFS_E_INVALID', status: 400 });
  // checked before sending, with the embedded addon's codes
  await rejects(col.insert([1, 2]), { code: 'VEXFS_E_DIMENSION', status: 0 });
  await rejects(col.search([1, 2, 3, 4]), { code: 'VEXFS_E_DIMENSION' });
  await rejects(col.batchInsert({ vectors: [[1, 2]] }), { code: 'VEXFS_E_INVALID' });
  await rejects(col.insert([1, 2, NaN]), { code: 'VEXFS_E_INVALID' });
  await rejects(col.search([1, 2, 3], 0), { code: 'VEXFS_E_INVALID' });
  await rejects(col.get(-1), { code: 'VEXFS_E_INVALID' });
  await rejects(col.get(2n ** 64n - 1n), { code: 'VEXFS_E_INVALID' });
  await rejects(col.batchInsert({ vectors: [[1, 2, 3]], performanceOptions: { turbo: true } }), { code: 'VEXFS_E_INVALID', message: /turbo/ });
  // only the server can tell: the collection was made again elsewhere with another dimension
  await client.deleteCollection('e');
  await rejects(col.search([1, 2, 3]), { code: 'VEXFS_E_NOT_FOUND', status: 404 });
  await client.createCollection({ name: 'e', dimension: 5 });
  await rejects(col.insert([1, 2, 3]), { code: 'VEXFS_E_INVALID', status: 400, apiCode: 'API_006', message: /dimension/ });
  client.close();
  await rejects(client.listCollections(), { code: 'VEXFS_E_INVALID', message: /closed/ });
  assert.throws(() => new VexFSClient({ endpoint: 'localhost:6333' }), { code: 'VEXFS_E_INVALID' });
  assert.throws(() => new VexFSClient({ endpoint: url, apiKey: 'a\nb' }), { code: 'VEXFS_E_INVALID' });
}));

test('server down, and a server that does not answer', { skip }, async () => {
  const server = await startServer();
  const client = new VexFSClient({ endpoint: server.url });
  const col = await client.createCollection({ name: 'd', dimension: 2 });
  await server.stop();
  await rejects(col.search([1, 2]), { code: 'VEXFS_E_CONNECTION', status: 0, endpoint: server.url, message: new RegExp(`cannot reach vexfs-server at ${server.url}`) });

  const sockets = [];
  const silent = net.createServer((s) => sockets.push(s)); // accepts, never answers
  await new Promise((resolve) => silent.listen(0, '127.0.0.1', resolve));
  try {
    const started = Date.now();
    const slow = new VexFSClient({ endpoint: `http://127.0.0.1:${silent.address().port}`, timeoutMs: 300 });
    await rejects(slow.listCollections(), { code: 'VEXFS_E_TIMEOUT', message: /within 300 ms/ });
    assert.ok(Date.now() - started >= 250);
  } finally {
    for (const s of sockets) s.destroy();
    silent.close();
  }
});

test('keep-alive: many calls over one connection; concurrent calls a few', { skip }, () => withServer([], async ({ url, port }) => {
  const before = connectionsTo(port);
  const client = new VexFSClient({ endpoint: url });
  const col = await client.createCollection({ name: 'ka', dimension: 4 });
  await col.batchInsert({ vectors: [[1, 0, 0, 0], [0, 1, 0, 0]] });
  for (let i = 0; i < 150; i++) assert.equal((await col.search([1, 0, 0, 0], 1))[0].id, 0);
  // fetch (undici) opens a second connection for the second call (the first one's socket is
  // handed back to its pool a moment after the answer), and from then on reuses those two
  const opened = [...connectionsTo(port)].filter((p) => !before.has(p));
  assert.ok(opened.length >= 1 && opened.length <= 2, `connections opened for 152 calls in a row: ${opened.length}`);
  const answers = await Promise.all(Array.from({ length: 32 }, (_, i) => col.search([0, 1, 0, 0], 2).then((r) => [i, r])));
  for (const [, r] of answers) assert.deepEqual(r.map((h) => h.id), [1, 0]);
  const after = [...connectionsTo(port)].filter((p) => !before.has(p));
  assert.ok(after.length <= 33, `connections for 32 concurrent calls: ${after.length}`);
}));

test('ids above 2^53 are exact BigInts both ways', { skip }, () => withServer([], async ({ url }) => {
  const client = new VexFSClient({ endpoint: url });
  const col = await client.createCollection({ name: 'big', dimension: 2, algorithm: 'flat' });
  const ids = [2n ** 64n - 2n, 2n ** 63n, 2n ** 53n + 1n, 2n ** 53n - 1n];
  const r = await col.batchInsert({ vectors: [[1, 0], [0, 1], [1, 1], [2, 2]], ids, metadata: [{ big: 1 }, null, null, { n: 12345678901234567890n }] });
  assert.deepEqual(r.ids, [2n ** 64n - 2n, 2n ** 63n, 2n ** 53n + 1n, Number.MAX_SAFE_INTEGER]);
  const hits = await col.search([1, 0.9], 4);
  assert.deepEqual(hits.map((h) => h.id), [2n ** 53n + 1n, 2n ** 64n - 2n, 2n ** 63n, Number.MAX_SAFE_INTEGER]);
  assert.deepEqual(await col.get(2n ** 64n - 2n), new Float32Array([1, 0]));
  assert.deepEqual(await col.getMetadata(Number.MAX_SAFE_INTEGER), { n: 12345678901234567890n });
  await col.delete([2n ** 63n]);
  assert.equal(await col.count(), 3);
}));

test('the remote client runs without the native addon', { skip }, () => withServer([], async ({ url }) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vexfs-remote-only-'));
  try {
    for (const f of ['index.js', 'remote.js', 'errors.js', 'package.json'])
      fs.copyFileSync(path.join(__dirname, '..', f), path.join(dir, f)); // no build/Release here
    const script = `
      const vexfs = require(${JSON.stringify(dir)});
      (async () => {
        const client = new vexfs.VexFSClient({ endpoint: ${JSON.stringify(url)} });
        const col = await client.createCollection({ name: 'r', dimension: 2 });
        await col.batchInsert({ vectors: [[1, 2], [3, 4]] });
        const hits = await col.search([3, 4], 1);
        let addon = 'loaded';
        try { new vexfs.Collection({ dim: 2 }); } catch (e) { addon = e.code; }
        console.log(JSON.stringify({ id: hits[0].id, addon }));
      })().catch((e) => { console.error(e); process.exit(1); });`;
    const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    assert.deepEqual(JSON.parse(out), { id: 1, addon: 'MODULE_NOT_FOUND' });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}));

test('a connection the server closed while idle is not reused', { skip }, () => withServer(['--idle-timeout', '1'], async ({ url }) => {
  const client = new VexFSClient({ endpoint: url });
  const col = await client.createCollection({ name: 'idle', dimension: 2 });
  await col.insert([1, 2]);
  for (let round = 0; round < 3; round++) {
    await new Promise((resolve) => setTimeout(resolve, 1600)); // the server closes it after 1 s
    assert.equal((await col.search([1, 2], 1))[0].id, 0);
  }
  assert.equal(await col.insert([3, 4]), 1);
}));

'use strict';
// node --test suite for the vexfs addon: contract, errors, async work and the event loop,
// finalizers, payloads and filters.
const test = require('node:test');
const assert = require('node:assert/strict');
const vexfs = require('..');

function random(n, dim, seed = 1) {
  const out = new Float32Array(n * dim);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < out.length; i++) { // xorshift32
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = s / 4294967296 - 0.5;
  }
  return out;
}

test('module: version, SIMD level, SDK functions', () => {
  assert.match(vexfs.version, /^\d+\.\d+\.\d+$/);
  assert.ok(['scalar', 'avx2', 'avx2vnni', 'avx512', 'avx512vnni', 'neon'].includes(vexfs.simdIsa()));
  const c = vexfs.createCollection({ dim: 2 });
  assert.ok(c instanceof vexfs.Collection);
  assert.equal(typeof vexfs.getPerformanceMetrics().searches, 'number');
  c.close();
});

for (const index of ['flat', 'hnsw', 'lsh', 'ivf']) {
  test(`contract (${index}): each vector finds itself; get, remove, count`, () => {
    const dim = 16, n = 500;
    const v = random(n, dim);
    const c = new vexfs.Collection({ dim, index, metric: 'l2' });
    const ids = BigUint64Array.from({ length: n }, (_, i) => BigInt(i * 3));
    c.add(ids, v);
    assert.equal(c.count(), n);
    for (let i = 0; i < n; i += 50) {
      const r = c.search(v.subarray(i * dim, (i + 1) * dim), 5);
      assert.equal(r.ids[0], BigInt(i * 3));
      assert.equal(r.distances[0], 0);
      assert.ok(r.distances[1] >= r.distances[0]);
    }
    assert.deepEqual(Array.from(c.get(3n)), Array.from(v.subarray(dim, 2 * dim)));
    c.remove([0, 3]);
    assert.equal(c.count(), n - 2);
    const r = c.search(v.subarray(0, dim), 3);
    assert.ok(!Array.from(r.ids).includes(0n));
    c.close();
  });
}

test('batch search: nq*k results, padded, with counts', () => {
  const c = new vexfs.Collection({ dim: 2, index: 'flat' });
  c.add([1, 2], new Float32Array([0, 0, 1, 1]));
  const r = c.search(new Float32Array([0, 0, 1, 1]), 3);
  assert.equal(r.ids.length, 6);
  assert.deepEqual(Array.from(r.counts), [2, 2]);
  assert.equal(r.ids[2], vexfs.NO_ID);
  assert.equal(r.distances[2], Infinity);
  assert.equal(r.ids[3], 2n);
});

test('errors are VexfsError with the status name and the library message', () => {
  const c = new vexfs.Collection({ dim: 4 });
  c.add([1], new Float32Array(4));
  const expect = (fn, code, pattern) =>
    assert.throws(fn, (e) => e instanceof vexfs.VexfsError && e.code === code && pattern.test(e.message));
  expect(() => c.add([1], new Float32Array(4)), 'VEXFS_E_EXISTS', /id 1 is already/);
  expect(() => c.add([2], new Float32Array([1, NaN, 0, 0])), 'VEXFS_E_INVALID', /NaN/);
  expect(() => c.add([2, 3], new Float32Array(4)), 'VEXFS_E_DIMENSION', /2 ids need 8 floats/);
  expect(() => c.add([-1], new Float32Array(4)), 'VEXFS_E_INVALID', /ids\[0\]/);
  expect(() => c.search(new Float32Array(4), 0), 'VEXFS_E_INVALID', /k must be an integer 1\.\.16777216, not 0/);
  expect(() => c.search(new Float32Array(3), 1), 'VEXFS_E_DIMENSION', /multiple of dim/);
  expect(() => c.remove([7]), 'VEXFS_E_NOT_FOUND', /id 7/);
  expect(() => c.get(7), 'VEXFS_E_NOT_FOUND', /id 7/);
  expect(() => c.search(new Float32Array(4), 1, { filter: { must: [{ key: 'a', range: { gt: 'x' } }] } }),
    'VEXFS_E_INVALID', /filter\.must\[0\]\.range\.gt: expected a number/);
  expect(() => new vexfs.Collection({ dim: 4, index: 'annoy' }), 'VEXFS_E_INVALID', /index must be one of/);
  expect(() => new vexfs.Collection({ dim: 4, metric: 'hamming' }), 'VEXFS_E_INVALID', /metric/);
  expect(() => new vexfs.Collection({ dim: 0 }), 'VEXFS_E_INVALID', /dim/);
  assert.equal(c.count(), 1);
  c.close();
  expect(() => c.count(), 'VEXFS_E_STATE', /closed/);
  c.close(); // twice is fine
});

test('async: addAsync and searchAsync resolve, and failures reject', async () => {
  const dim = 8, n = 2000;
  const v = random(n, dim, 5);
  const c = new vexfs.Collection({ dim, index: 'hnsw' });
  await c.addAsync(BigUint64Array.from({ length: n }, (_, i) => BigInt(i)), v);
  assert.equal(c.count(), n);
  const r = await c.searchAsync(v.subarray(0, dim), 3);
  assert.equal(r.ids[0], 0n);
  assert.throws(() => c.searchAsync(v.subarray(0, dim), 0), (e) => e.code === 'VEXFS_E_INVALID'); // checked first
  await assert.rejects(c.searchAsync(v.subarray(0, dim), 1, { filter: '{"must": 1}' }),
    (e) => e.code === 'VEXFS_E_INVALID'); // the library's refusal
  await assert.rejects(c.addAsync([0], v.subarray(0, dim)), (e) => e.code === 'VEXFS_E_EXISTS');
  const pending = c.searchAsync(v, 1);
  assert.throws(() => c.close(), (e) => e.code === 'VEXFS_E_STATE'); // not while work runs
  await pending;
  c.close();
});

test('the event loop keeps turning during a large searchAsync (timer drift)', async (t) => {
  const dim = 256, n = 20000, nq = 400;
  const c = new vexfs.Collection({ dim, index: 'flat', threads: 1 });
  c.add(BigUint64Array.from({ length: n }, (_, i) => BigInt(i)), random(n, dim, 9));
  const queries = random(nq, dim, 10);
  // a 1 ms interval timer: its drift is the longest gap between two of its callbacks
  let ticks = 0, last = performance.now(), drift = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    drift = Math.max(drift, now - last);
    last = now;
    ticks++;
  }, 1);
  const settle = () => new Promise((resolve) => setTimeout(resolve, 5));
  const restart = () => { ticks = 0; drift = 0; last = performance.now(); };
  await settle();
  // the same work done synchronously blocks the loop: no timer fires during it, and the first
  // one after it is late by the whole call
  restart();
  const t0 = performance.now();
  c.search(queries, 10, { threads: 1 });
  const syncMs = performance.now() - t0;
  const ticksDuringSync = ticks;
  await settle();
  const syncDrift = drift;
  // asynchronously the loop runs: timers keep firing while the promise is pending
  restart();
  const t1 = performance.now();
  const r = await c.searchAsync(queries, 10, { threads: 1 });
  const asyncMs = performance.now() - t1;
  const asyncDrift = Math.max(drift, performance.now() - last);
  const ticksDuringAsync = ticks;
  clearInterval(timer);
  assert.equal(r.ids.length, nq * 10);
  t.diagnostic(`sync ${syncMs.toFixed(0)} ms, timer drift ${syncDrift.toFixed(1)} ms; ` +
    `async ${asyncMs.toFixed(0)} ms, ${ticksDuringAsync} ticks, drift ${asyncDrift.toFixed(1)} ms`);
  assert.equal(ticksDuringSync, 0);
  assert.ok(syncDrift >= syncMs, 'the blocked timer fired late by the whole sync call');
  assert.ok(ticksDuringAsync > 0, `no timer fired during ${asyncMs.toFixed(0)} ms of searchAsync`);
  assert.ok(asyncDrift < syncDrift, 'the loop stalled as long during searchAsync as during search');
  c.close();
});

test('collections are freed by their finalizer when garbage-collected', async () => {
  assert.ok(global.gc, 'run with --expose-gc');
  const before = vexfs.metrics().vectors;
  (() => {
    for (let i = 0; i < 5; i++) {
      const c = new vexfs.Collection({ dim: 4 });
      c.add([1, 2, 3], new Float32Array(12));
    }
  })();
  assert.equal(vexfs.metrics().vectors, before + 15);
  for (let i = 0; i < 10 && vexfs.metrics().vectors > before; i++) {
    global.gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  assert.equal(vexfs.metrics().vectors, before);
});

test('payloads, filters and payload indexes', () => {
  const c = new vexfs.Collection({ dim: 2, index: 'flat' });
  const docs = [{ category: 'tech', price: 10 }, { category: 'food', price: 25.5 }, null,
    { category: 'tech', price: 40, tags: ['a'] }];
  c.add([1, 2, 3, 4], new Float32Array([0, 0, 1, 0, 2, 0, 3, 0]), docs);
  assert.deepEqual(c.getPayload(1), docs[0]);
  assert.equal(c.getPayload(3), null);
  const tech = { must: [{ key: 'category', match: { value: 'tech' } }] };
  assert.deepEqual(Array.from(c.search([0, 0], 10, { filter: tech }).ids), [1n, 4n]);
  c.createPayloadIndex('price', 'numeric');
  const cheap = { must: [{ key: 'price', range: { lt: 30 } }] };
  assert.deepEqual(Array.from(c.search([0, 0], 10, { filter: cheap }).ids), [1n, 2n]);
  c.setPayload(1, { price: 99 }, { merge: true });
  assert.deepEqual(c.getPayload(1), { category: 'tech', price: 99 });
  assert.deepEqual(Array.from(c.search([0, 0], 10, { filter: cheap }).ids), [2n]);
  assert.throws(() => c.add([5], new Float32Array(2), ['[1]']), (e) => /row 0: payload must be a JSON object/.test(e.message));
  assert.throws(() => c.createPayloadIndex('price', 'numeric'), (e) => e.code === 'VEXFS_E_EXISTS');
  const ids = c.batchInsert({ vectors: [[5, 0], [6, 0]], metadata: [{ category: 'tech' }, null] });
  assert.equal(ids.length, 2);
  assert.equal(c.count(), 6);
  assert.deepEqual(c.getPayload(ids[0]), { category: 'tech' });
  c.close();
});

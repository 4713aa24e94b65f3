'use strict';
// Coded storage ('f16', 'sq8', 'sq4') through the Node addon: FLAT and HNSW only; with an exact
// copy a flat search answers as its F32 twin; without one (rerank 'none') get() returns the
// decoded vector, the metrics say whether the codes are lossless, and the codes persist.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const vexfs = require('..');

function expectCode(fn, code, pattern) {
  assert.throws(fn, (e) => e instanceof vexfs.VexfsError && e.code === code && pattern.test(e.message));
}

function pixels(n, dim, seed) { // integers 0..255
  const out = new Float32Array(n * dim);
  let s = seed;
  for (let i = 0; i < out.length; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    out[i] = Math.floor((s / 2147483648) * 256);
  }
  return out;
}

const ids = (n) => Array.from({ length: n }, (_, i) => i);

test('coded storage: FLAT and HNSW only; none needs a coded storage', () => {
  for (const index of ['auto', 'lsh', 'ivf'])
    expectCode(() => new vexfs.Collection({ dim: 4, index, storage: 'f16' }), 'VEXFS_E_INVALID', /FLAT and HNSW/);
  expectCode(() => new vexfs.Collection({ dim: 4, index: 'flat', rerank: 'none' }), 'VEXFS_E_INVALID', /NONE/);
  expectCode(() => new vexfs.Collection({ dim: 4, index: 'flat', storage: 2 }), 'VEXFS_E_INVALID', /storage/);
});

for (const storage of ['f16', 'sq8', 'sq4']) {
  test(`${storage} without a copy: get() decodes, lossless is reported, codes persist`, () => {
    const dim = 20, n = 400, data = pixels(n, dim, 3);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vexfs-storage-'));
    try {
      let db = new vexfs.Database(dir);
      const c = db.createCollection('c', { dim, index: 'hnsw', storage, rerank: 'none', threads: 1 });
      c.add(ids(n), data);
      const lossless = storage !== 'sq4';
      assert.deepEqual(c.metrics().codes, { storage, lossless });
      const got = c.get(9), want = data.subarray(9 * dim, 10 * dim);
      for (let d = 0; d < dim; d++)
        assert.ok(lossless ? got[d] === want[d] : Math.abs(got[d] - want[d]) <= 8.5);
      const before = c.search(data.subarray(0, 3 * dim), 4);
      db.checkpoint();
      db.close();
      db = new vexfs.Database(dir);
      const again = db.getCollection('c');
      assert.equal(again.config().storage, storage);
      const after = again.search(data.subarray(0, 3 * dim), 4);
      assert.deepEqual([...after.ids], [...before.ids]);
      assert.deepEqual([...after.distances], [...before.distances]);
      assert.deepEqual([...again.get(9)], [...got]);
      db.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('sq4 with an exact copy: a flat search answers as the F32 twin', () => {
  const dim = 16, n = 1500, data = pixels(n, dim, 8).map((v) => v / 255 - 0.5);
  const twin = new vexfs.Collection({ dim, index: 'flat', threads: 1 });
  const coded = new vexfs.Collection({ dim, index: 'flat', storage: 'sq4', threads: 1 });
  twin.add(ids(n), data);
  coded.add(ids(n), data);
  const q = data.subarray(0, 4 * dim).map((v) => v + 0.01);
  const want = twin.search(q, 5), got = coded.search(q, 5);
  assert.deepEqual([...got.ids], [...want.ids]);
  assert.deepEqual([...got.distances], [...want.distances]);
});

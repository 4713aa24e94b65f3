'use strict';
// LSH and IVF options through the Node addon: names, types, defaults, read-back, persistence.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const vexfs = require('..');

const OPTIONS = { lshTables: 6, lshBits: 12, lshProbes: 3, lshBucketWidth: 2.5,
  lshProjection: 'learned', ivfNlist: 40, nprobe: 7, ivfCodes: 'sq8' };
const pickOptions = (cfg) => Object.fromEntries(Object.keys(OPTIONS).map((k) => [k, cfg[k]]));

function expectCode(fn, code, pattern) {
  assert.throws(fn, (e) => e instanceof vexfs.VexfsError && e.code === code && pattern.test(e.message));
}

test('defaults read back as chosen-by-the-index', () => {
  const c = new vexfs.Collection({ dim: 4, index: 'hnsw' });
  assert.deepEqual(pickOptions(c.config()), { lshTables: 0, lshBits: 0, lshProbes: 0,
    lshBucketWidth: 0, lshProjection: 'random', ivfNlist: 0, nprobe: 0, ivfCodes: 'f32' });
  c.close();
});

test('options are kept and persist', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vexfs-options-'));
  try {
    let db = new vexfs.Database(dir);
    assert.deepEqual(pickOptions(db.createCollection('c', { dim: 4, index: 'hnsw', ...OPTIONS }).config()), OPTIONS);
    db.close();
    db = new vexfs.Database(dir);
    assert.deepEqual(pickOptions(db.getCollection('c').config()), OPTIONS);
    db.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('wrong types and ranges are refused with the option named', () => {
  // types are checked by the addon (the JavaScript name), ranges by the library (the C field)
  const bad = [['lshTables', -1, /lshTables/], ['lshTables', 1.5, /lshTables/], ['lshBits', true, /lshBits/],
    ['lshBucketWidth', 'wide', /lshBucketWidth/], ['lshBucketWidth', 10n, /lshBucketWidth/],
    ['ivfNlist', '10', /ivfNlist/], ['nprobe', 2 ** 32, /nprobe/], ['lshTables', 257, /lsh_tables/],
    ['lshBits', 65, /lsh_bits/], ['lshBucketWidth', -1, /lsh_bucket_width/],
    ['lshBucketWidth', NaN, /lsh_bucket_width/], ['lshBucketWidth', Infinity, /lsh_bucket_width/],
    ['ivfNlist', 65537, /ivf_nlist/], ['lshProjection', 'pca', /lshProjection/], ['ivfCodes', 'pq', /ivfCodes/]];
  for (const [name, value, says] of bad)
    expectCode(() => new vexfs.Collection({ dim: 4, [name]: value }), 'VEXFS_E_INVALID', says);
});

test('search knobs are checked', () => {
  const c = new vexfs.Collection({ dim: 4, index: 'flat' });
  c.add([1], new Float32Array([1, 0, 0, 0]));
  assert.deepEqual([...c.search(new Float32Array(4), 1, { probes: 3, nprobe: 5 }).ids], [1n]);
  for (const bad of [-1, 2 ** 32, 1.5, '3']) {
    expectCode(() => c.search(new Float32Array(4), 1, { probes: bad }), 'VEXFS_E_INVALID', /probes/);
    expectCode(() => c.search(new Float32Array(4), 1, { nprobe: bad }), 'VEXFS_E_INVALID', /nprobe/);
  }
  c.close();
});

test('exact: true answers as a flat collection, whatever the index', () => {
  const n = 2000;
  const rows = new Float32Array(n * 8).map((_, i) => Math.sin(i * 12.9898) * 0.5 + 0.5);
  const queries = rows.slice(0, 8 * 6).map((x) => x + 0.01);
  const ids = BigUint64Array.from({ length: n }, (_, i) => BigInt(i));
  const flat = new vexfs.Collection({ dim: 8, index: 'flat' });
  const ivf = new vexfs.Collection({ dim: 8, index: 'ivf', nprobe: 1 });
  flat.add(ids, rows);
  ivf.add(ids, rows);
  const want = flat.search(queries, 10);
  const got = ivf.search(queries, 10, { exact: true });
  assert.deepEqual(Array.from(got.ids), Array.from(want.ids));
  assert.deepEqual(Array.from(got.distances), Array.from(want.distances));
  assert.throws(() => ivf.search(queries, 10, { exact: 1 }), { code: 'VEXFS_E_INVALID' });
});

'use strict';
// rerank 'mapped' through the Node addon: a Database's collections only, the same answers as an
// in-memory twin after a checkpoint moved the rows to the database's row file, persisted.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const vexfs = require('..');

function expectCode(fn, code, pattern) {
  assert.throws(fn, (e) => e instanceof vexfs.VexfsError && e.code === code && pattern.test(e.message));
}

function rows(n, dim, seed) {
  const out = new Float32Array(n * dim);
  let s = seed;
  for (let i = 0; i < out.length; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    out[i] = s / 2147483648;
  }
  return out;
}

test('mapped needs a database with a directory; wrong names are refused', () => {
  expectCode(() => new vexfs.Collection({ dim: 4, rerank: 'mapped' }), 'VEXFS_E_INVALID',
    /vexfs_db_create_collection/);
  const mem = new vexfs.Database(null);
  expectCode(() => mem.createCollection('c', { dim: 4, rerank: 'mapped' }), 'VEXFS_E_INVALID', /directory/);
  mem.close();
  expectCode(() => new vexfs.Collection({ dim: 4, rerank: 'disk' }), 'VEXFS_E_INVALID', /rerank/);
  expectCode(() => new vexfs.Collection({ dim: 4, storage: 'int8' }), 'VEXFS_E_INVALID', /storage/);
  expectCode(() => new vexfs.Collection({ dim: 4, storage: 'sq8' }), 'VEXFS_E_INVALID', /FLAT and HNSW/);
});

test('a mapped collection answers as its in-memory twin and persists', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vexfs-mapped-'));
  try {
    const dim = 16, n = 800, data = rows(n, dim, 7), queries = rows(5, dim, 9);
    const ids = Array.from({ length: n }, (_, i) => i);
    let db = new vexfs.Database(dir);
    const m = db.createCollection('m', { dim, index: 'hnsw', rerank: 'mapped', threads: 1 });
    const p = db.createCollection('p', { dim, index: 'hnsw', threads: 1 });
    m.add(ids, data);
    p.add(ids, data);
    db.checkpoint();
    assert.equal(m.config().rerank, 'mapped');
    assert.equal(p.config().rerank, 'in_memory');
    const want = p.search(queries, 6), got = m.search(queries, 6);
    assert.deepEqual([...got.ids], [...want.ids]);
    assert.deepEqual([...got.distances], [...want.distances]);
    db.close();
    db = new vexfs.Database(dir);
    const again = db.getCollection('m').search(queries, 6);
    assert.deepEqual([...again.ids], [...want.ids]);
    assert.deepEqual([...again.distances], [...want.distances]);
    assert.ok(fs.readdirSync(dir).some((f) => /^rows-.*\.vxr$/.test(f)));
    db.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

'use strict';
// node --test suite for vexfs.Database: persistence round trips, the writer lock, read-only
// handles, the lifetime of the collections a database hands out, and finalizers.
const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const vexfs = require('..');

function tempDir() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vexfs-node-'));
  test.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function rows(n, dim) {
  return Float32Array.from({ length: n * dim }, (_, i) => Math.sin(i * 12.9898) * 0.5);
}

function state(c, queries) {
  const ids = c.ids();
  return {
    config: c.config(),
    ids: Array.from(ids),
    vectors: Array.from(ids, (id) => Array.from(c.get(id))),
    payloads: Array.from(ids, (id) => c.getPayload(id)),
    search: c.search(queries, 5),
    filtered: c.search(queries, 5, { filter: { must: [{ key: 'tag', match: { value: 'even' } }] } }),
  };
}

test('round trip: every collection, vector, payload and graph comes back after reopening', () => {
  const dir = path.join(tempDir(), 'db');
  const queries = rows(4, 8);
  let db = new vexfs.Database(dir);
  const docs = db.createCollection('docs', { dim: 8, metric: 'cosine', index: 'hnsw', m: 8, efConstruction: 50, seed: 3 });
  const n = 300;
  docs.add(BigUint64Array.from({ length: n }, (_, i) => BigInt(i) * 1000n), rows(n, 8),
    Array.from({ length: n }, (_, i) => ({ tag: i % 2 ? 'odd' : 'even', i })));
  docs.createPayloadIndex('tag');
  docs.remove([0, 5000, 17000]);
  docs.setPayload(1000, { tag: 'even', moved: true });
  const plain = db.createCollection('plain', { dim: 2, index: 'flat' });
  plain.add([2n ** 63n], new Float32Array([1, 2]));
  const before = state(docs, queries);
  assert.deepEqual(db.listCollections(), ['docs', 'plain']);
  db.close();
  db.close(); // idempotent
  assert.throws(() => docs.count(), { code: 'VEXFS_E_STATE' });
  assert.throws(() => db.listCollections(), { code: 'VEXFS_E_STATE' });

  db = new vexfs.Database(dir);
  const again = db.getCollection('docs');
  assert.equal(again.name, 'docs');
  assert.deepEqual(state(again, queries), before);
  assert.deepEqual(Array.from(db.getCollection('plain').get(2n ** 63n)), [1, 2]);
  assert.equal(db.getCollection('docs'), again); // one object per name
  db.close();
});

test('a process that exits without closing loses no acknowledged call', () => {
  const dir = path.join(tempDir(), 'db');
  const script = `
    const vexfs = require(${JSON.stringify(path.resolve(__dirname, '..'))});
    const db = new vexfs.Database(${JSON.stringify(dir)}, { checkpointBytes: 0 });
    const c = db.createCollection('c', { dim: 2, index: 'flat' });
    for (let i = 0; i < 40; i++) c.add([i], new Float32Array([i, -i]), [{ i }]);
    c.remove([3]);
    process.reallyExit(0); // no close, no finalizers
  `;
  execFileSync(process.execPath, ['-e', script]);
  const db = new vexfs.Database(dir);
  const c = db.getCollection('c');
  assert.deepEqual(Array.from(c.ids(), Number), Array.from({ length: 40 }, (_, i) => i).filter((i) => i !== 3));
  assert.deepEqual(c.getPayload(39), { i: 39 });
  db.close();
});

test('one writer per directory; read-only handles share it', () => {
  const dir = path.join(tempDir(), 'db');
  const db = new vexfs.Database(dir);
  db.createCollection('c', { dim: 2 }).add([1], new Float32Array([1, 2]));
  assert.throws(() => new vexfs.Database(dir), { code: 'VEXFS_E_BUSY' });
  assert.throws(() => new vexfs.Database(dir, { readOnly: true }), { code: 'VEXFS_E_BUSY' });
  db.close();
  const r1 = new vexfs.Database(dir, { readOnly: true });
  const r2 = new vexfs.Database(dir, { readOnly: true });
  const c = r1.getCollection('c');
  assert.deepEqual(Array.from(c.get(1)), [1, 2]);
  assert.throws(() => c.add([2], new Float32Array([3, 4])), { code: 'VEXFS_E_READONLY' });
  assert.throws(() => r2.createCollection('d', { dim: 2 }), { code: 'VEXFS_E_READONLY' });
  assert.throws(() => r2.dropCollection('c'), { code: 'VEXFS_E_READONLY' });
  r1.close();
  r2.close();
  assert.throws(() => new vexfs.Database(path.join(dir, 'missing'), { readOnly: true }), { code: 'VEXFS_E_IO' });
  assert.throws(() => new vexfs.Database(dir, { sync: 'sometimes' }), { code: 'VEXFS_E_INVALID' });
});

test('dropped collections stop working; names are checked; in-memory databases write nothing', async () => {
  const db = new vexfs.Database(); // in memory
  const c = db.createCollection('a', { dim: 2 });
  c.add([1], new Float32Array([0, 1]));
  assert.throws(() => db.createCollection('a', { dim: 2 }), { code: 'VEXFS_E_EXISTS' });
  for (const bad of ['', 'a/b', '../x', '.hidden', 'x'.repeat(129)])
    assert.throws(() => db.createCollection(bad, { dim: 2 }), { code: 'VEXFS_E_INVALID' }, bad);
  assert.throws(() => db.getCollection('nope'), { code: 'VEXFS_E_NOT_FOUND' });
  c.close(); // lets go of this object only
  assert.equal(db.getCollection('a').count(), 1);
  const pending = db.getCollection('a').searchAsync(rows(2000, 2), 10);
  assert.throws(() => db.close(), { code: 'VEXFS_E_STATE' }); // an async call is running
  assert.throws(() => db.dropCollection('a'), { code: 'VEXFS_E_STATE' });
  await pending;
  const a = db.getCollection('a');
  db.dropCollection('a');
  assert.throws(() => a.search(new Float32Array([0, 1]), 1), { code: 'VEXFS_E_STATE' });
  assert.throws(() => db.dropCollection('a'), { code: 'VEXFS_E_NOT_FOUND' });
  const b = db.createCollection('b', { dim: 2 });
  assert.deepEqual(Array.from(b.batchInsert({ vectors: [[1, 1], [2, 2]] })), [0n, 1n]);
  b.add([2n, 9n], new Float32Array(4)); // explicit ids past the assigned ones
  assert.deepEqual(Array.from(b.batchInsert({ vectors: [[3, 3]] })), [10n]);
  db.close();
});

test('an unreachable database is closed (and checkpointed) by its finalizer', async () => {
  assert.ok(global.gc, 'run with --expose-gc');
  const dir = path.join(tempDir(), 'db');
  (() => {
    const db = new vexfs.Database(dir);
    db.createCollection('c', { dim: 2 }).add([7], new Float32Array([7, 7]));
  })();
  let reopened = null;
  for (let i = 0; i < 20 && !reopened; i++) {
    global.gc();
    await new Promise((resolve) => setImmediate(resolve));
    try {
      reopened = new vexfs.Database(dir);
    } catch (e) {
      if (e.code !== 'VEXFS_E_BUSY') throw e; // not collected yet
    }
  }
  assert.ok(reopened, 'the finalizer released the lock');
  assert.deepEqual(Array.from(reopened.getCollection('c').ids()), [7n]);
  assert.ok(!fs.readdirSync(dir).includes('snapshot.tmp'));
  reopened.close();
});

test('upsert replaces present ids and survives reopening', () => {
  const dir = path.join(tempDir(), 'db');
  let db = new vexfs.Database(dir);
  const c = db.createCollection('u', { dim: 2, index: 'flat' });
  c.add([1, 2, 3], [[1, 1], [2, 2], [3, 3]], [{ v: 1 }, { v: 1 }, { v: 1 }]);
  c.upsert([2, 9], [[20, 20], [9, 9]], [null, { v: 9 }]);
  assert.throws(() => c.upsert([3, 3], [[0, 0], [1, 1]]), { code: 'VEXFS_E_INVALID' });
  assert.equal(c.count(), 4);
  assert.equal(c.getPayload(2), null);
  db.close();
  db = new vexfs.Database(dir);
  const again = db.getCollection('u');
  assert.deepEqual(Array.from(again.ids()), [1n, 2n, 3n, 9n]);
  assert.deepEqual(Array.from(again.get(2)), [20, 20]);
  assert.deepEqual(again.getPayload(9), { v: 9 });
  assert.deepEqual(Array.from(again.get(3)), [3, 3]);
  db.close();
});

'use strict';
// node --test suite: arguments the addon cannot pass to C exactly throw VexfsError
// VEXFS_E_INVALID (synchronously, also from the async calls) and leave the collection as it was:
// ids that are not integers 0..2^64-2 (Numbers above 2^53-1 are not exact), integers outside
// their C type, vectors that are not rows of numbers, strings with NUL.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { inspect } = require('node:util');
const vexfs = require('..');

const DIM = 3;
const NO_ID = 2n ** 64n - 1n;
const BAD_IDS = [-1, -2, 1.5, 3.5, NaN, Infinity, 2 ** 53, 2 ** 64, -1n, NO_ID, 2n ** 64n, '7',
  true, null, undefined, {}];
const BAD_U32 = [-1, 1.5, 2 ** 32, 2 ** 32 + 3, NaN, '5', true, null, -1n, 2n ** 32n];
const BAD_VECTORS = [[[1, 2, 3, 4], [5, 6]], [[1, 2], [3, 4, 5], [6]], ['1', '2', '3'],
  [true, false, true], [1, null, 3], [1, undefined, 3], [[[1, 2, 3]]], [1n, 2n, 3n],
  [[1, 2, 3], 4], [{}, 1, 2], 'abc', new Float64Array(3), null];
const NUL_JSON = '{"a":1}\u0000junk';

const rows = (n) => Float32Array.from({ length: n * DIM }, (_, i) => i / 7);
const show = (x) => inspect(x, { breakLength: Infinity });

/** A collection holding ids 1, 2, 3 with payloads: standalone, or in an in-memory database
 * (closed with it). */
function collection(kind = 'standalone') {
  const db = kind === 'database' ? new vexfs.Database() : null;
  const c = db ? db.createCollection('docs', { dim: DIM, index: 'flat' })
    : new vexfs.Collection({ dim: DIM, index: 'flat' });
  c.add([1, 2, 3], rows(3), [{ n: 1 }, { n: 2 }, null]);
  if (db) c.close = () => db.close();
  return c;
}

/** What a refused call must leave as it was: ids, vectors, payloads. */
function state(c) {
  const ids = Array.from(c.ids());
  return { ids, vectors: ids.map((id) => Array.from(c.get(id))), payloads: ids.map((id) => c.getPayload(id)) };
}

/** fn() throws VexfsError VEXFS_E_INVALID (matching pattern) and leaves c as it was. */
function refused(c, fn, pattern = /./) {
  const before = state(c);
  assert.throws(fn, (e) => e instanceof vexfs.VexfsError && e.code === 'VEXFS_E_INVALID' &&
    pattern.test(e.message), `expected VEXFS_E_INVALID matching ${pattern}`);
  assert.deepEqual(state(c), before);
}

for (const [kind, bad] of ['standalone', 'database'].flatMap((k) => BAD_IDS.map((b) => [k, b]))) {
  test(`id ${show(bad)} is refused by every call that takes ids (${kind})`, () => {
    const c = collection(kind);
    refused(c, () => c.get(bad), /^id must be an integer 0\.\.18446744073709551614/);
    refused(c, () => c.getPayload(bad));
    refused(c, () => c.setPayload(bad, { x: 1 }));
    refused(c, () => c.setPayload(bad, null));
    refused(c, () => c.remove([bad]), /^ids\[0\] must be/);
    refused(c, () => c.remove([4, bad]), /^ids\[1\] must be/);
    refused(c, () => c.add([4, bad], rows(2)), /^ids\[1\]/);
    refused(c, () => c.batchInsert([4, bad], rows(2)));
    refused(c, () => c.batchInsert({ vectors: rows(2), ids: [4, bad] }));
    refused(c, () => c.addAsync([4, bad], rows(2)));
    c.close();
  });
}

test('the reserved id in a BigUint64Array is refused, and messages name the value', () => {
  const c = collection();
  const withReserved = new BigUint64Array([4n, NO_ID]);
  refused(c, () => c.add(withReserved, rows(2)), /^ids\[1\] must be an integer 0\.\.18446744073709551614 \(a BigInt above 2\^53 - 1\), not 18446744073709551615n$/);
  refused(c, () => c.addAsync(withReserved, rows(2)), /^ids\[1\]/);
  refused(c, () => c.remove(withReserved), /^ids\[1\]/);
  refused(c, () => c.get(NO_ID), /not 18446744073709551615n$/); // the process lives on
  refused(c, () => c.get(-1), /, not -1$/);
  refused(c, () => c.get(2 ** 53), /, not 9007199254740992$/);
  c.close();
});

test('ids at the edges of what is exact are taken', () => {
  const c = new vexfs.Collection({ dim: DIM, index: 'flat' });
  const big = [0, 2 ** 53 - 1, 2n ** 63n + 1n, NO_ID - 1n];
  c.add(big, rows(4), [null, null, { big: true }, null]);
  assert.deepEqual(Array.from(c.ids()), [0n, 2n ** 53n - 1n, 2n ** 63n + 1n, NO_ID - 1n]);
  assert.deepEqual(c.getPayload(2n ** 63n + 1n), { big: true });
  assert.deepEqual(Array.from(c.get(NO_ID - 1n)), Array.from(rows(4).subarray(9, 12)));
  assert.deepEqual(Array.from(c.batchInsert({ vectors: rows(1), ids: [7n] })), [7n]);
  c.remove(new BigUint64Array([2n ** 63n + 1n]));
  assert.equal(c.count(), 4);
  c.close();
});

for (const bad of [...BAD_U32, 0, 2 ** 24 + 1]) {
  test(`k ${show(bad)} is refused by search and searchAsync`, () => {
    const c = collection();
    const one = rows(1), two = rows(2);
    for (const queries of [one, two, Array.from(one)]) {
      refused(c, () => c.search(queries, bad), /^k must be an integer 1\.\.16777216/);
      refused(c, () => c.searchAsync(queries, bad), /^k must be/);
    }
    c.close();
  });
}

test('k, ef and threads take exact integers, BigInts too', () => {
  const c = collection();
  assert.equal(c.search(rows(1), 2n).ids.length, 2);
  assert.equal(c.search(rows(1), 2, { ef: 0, threads: 1n }).ids.length, 2);
  c.close();
});

for (const name of ['ef', 'threads']) {
  test(`${name} must fit uint32 in search and searchAsync`, () => {
    const c = collection();
    for (const bad of BAD_U32) {
      refused(c, () => c.search(rows(1), 1, { [name]: bad }), new RegExp(`^${name} must be an integer 0\\.\\.4294967295`));
      refused(c, () => c.searchAsync(rows(2), 1, { [name]: bad }), new RegExp(`^${name} must be`));
    }
    c.close();
  });
}

for (const field of ['dim', 'm', 'efConstruction', 'efSearch', 'threads']) {
  test(`collection option ${field} must fit uint32, standalone and in a database`, () => {
    const db = new vexfs.Database();
    for (const bad of BAD_U32) {
      const options = { dim: DIM, [field]: bad };
      const pattern = new RegExp(`^${field} must be an integer 0\\.\\.4294967295, not `);
      assert.throws(() => new vexfs.Collection(options), (e) => e.code === 'VEXFS_E_INVALID' && pattern.test(e.message));
      assert.throws(() => db.createCollection('c', options), (e) => e.code === 'VEXFS_E_INVALID' && pattern.test(e.message));
    }
    assert.deepEqual(db.listCollections(), []);
    db.close();
  });
}

test('dim 2^32+4 does not become 4', () => {
  assert.throws(() => new vexfs.Collection({ dim: 2 ** 32 + 4 }),
    (e) => e.code === 'VEXFS_E_INVALID' && /^dim must be an integer 0\.\.4294967295, not 4294967300$/.test(e.message));
});

test('a seed is any uint64, and config() reads it back exactly', () => {
  for (const bad of [-1, 1.5, 2 ** 53, 2n ** 64n, '1'])
    assert.throws(() => new vexfs.Collection({ dim: DIM, seed: bad }),
      (e) => e.code === 'VEXFS_E_INVALID' && /^seed must be an integer 0\.\.18446744073709551615/.test(e.message));
  assert.equal(new vexfs.Collection({ dim: DIM, seed: 7 }).config().seed, 7);
  assert.equal(new vexfs.Collection({ dim: DIM, seed: 2 ** 53 - 1 }).config().seed, 2 ** 53 - 1);
  assert.equal(new vexfs.Collection({ dim: DIM, seed: NO_ID }).config().seed, NO_ID);
});

test('checkpointBytes must fit uint64; a BigInt is taken', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vexfs-node-types-'));
  try {
    for (const bad of [-1, 1.5, 2 ** 53, '64', true])
      assert.throws(() => new vexfs.Database(path.join(dir, 'db'), { checkpointBytes: bad }),
        (e) => e.code === 'VEXFS_E_INVALID' && /^checkpointBytes must be an integer/.test(e.message));
    assert.deepEqual(fs.readdirSync(dir), []);
    new vexfs.Database(path.join(dir, 'db'), { checkpointBytes: 2n ** 40n }).close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

for (const bad of BAD_VECTORS) {
  test(`vectors ${show(bad)} are refused, not coerced`, () => {
    const c = collection();
    refused(c, () => c.add([4, 5], bad));
    refused(c, () => c.batchInsert({ vectors: bad }));
    refused(c, () => c.addAsync([4, 5], bad));
    refused(c, () => c.search(bad, 1));
    refused(c, () => c.searchAsync(bad, 1));
    c.close();
  });
}

test('numbers and rows of numbers are rounded to float32 once', () => {
  const c = new vexfs.Collection({ dim: DIM, index: 'flat' });
  c.add([1, 2], [[1, 2, 3], [0.1, 0.2, 0.3]]);
  c.add([3], [4, 5, 6]);
  assert.deepEqual(Array.from(c.get(2)), Array.from(Float32Array.of(0.1, 0.2, 0.3)));
  assert.deepEqual(Array.from(c.search([4, 5, 6], 1).ids), [3n]);
  assert.deepEqual(Array.from(c.search([[1, 2, 3], [4, 5, 6]], 1).ids), [1n, 3n]);
  assert.throws(() => c.batchInsert({ vectors: new Float32Array(4) }), (e) => e.code === 'VEXFS_E_DIMENSION');
  c.close();
});

test('strings with NUL are refused, not cut', () => {
  const c = collection();
  refused(c, () => c.add([4], rows(1), [NUL_JSON]), /^payloads\[0\] contains a NUL character at byte 7/);
  refused(c, () => c.setPayload(1, NUL_JSON), /^payload contains a NUL/);
  refused(c, () => c.setPayload(1, NUL_JSON, { merge: true }), /NUL/);
  refused(c, () => c.search(rows(1), 1, { filter: '{}\u0000' }), /^filter contains a NUL/);
  refused(c, () => c.searchAsync(rows(2), 1, { filter: '{}\u0000' }), /^filter contains a NUL/);
  refused(c, () => c.createPayloadIndex('n\u0000x', 'numeric'), /^key contains a NUL/);
  c.createPayloadIndex('n', 'numeric');
  refused(c, () => c.dropPayloadIndex('n\u0000x', 'numeric'), /^key contains a NUL/);
  c.dropPayloadIndex('n', 'numeric'); // "n" was still there
  refused(c, () => c.createPayloadIndex(7), /^key must be a string/);
  c.close();

  const db = new vexfs.Database();
  db.createCollection('docs', { dim: DIM });
  for (const fn of [() => db.createCollection('docs\u0000x', { dim: DIM }), () => db.getCollection('docs\u0000x'),
    () => db.dropCollection('docs\u0000x'), () => db.createCollection(7, { dim: DIM })])
    assert.throws(fn, (e) => e.code === 'VEXFS_E_INVALID' && /^name /.test(e.message));
  assert.deepEqual(db.listCollections(), ['docs']);
  db.close();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vexfs-node-types-'));
  try {
    assert.throws(() => new vexfs.Database(path.join(dir, 'db\u0000x')),
      (e) => e.code === 'VEXFS_E_INVALID' && /^path contains a NUL/.test(e.message));
    assert.throws(() => new vexfs.Database(7), (e) => e.code === 'VEXFS_E_INVALID' && /^path must be a string/.test(e.message));
    assert.deepEqual(fs.readdirSync(dir), []);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('NUL inside an object payload round-trips (JSON escapes it)', () => {
  const c = new vexfs.Collection({ dim: DIM });
  c.add([1], rows(1), [{ s: 'a\u0000b' }]);
  assert.deepEqual(c.getPayload(1), { s: 'a\u0000b' });
  c.close();
});

test('payloads must be an array with one entry per id', () => {
  const c = collection();
  refused(c, () => c.add([4, 5], rows(2), [{ a: 1 }]), /^1 payloads for 2 ids$/);
  refused(c, () => c.add([4], rows(1), { a: 1 }), /^payloads must be an array$/);
  c.close();
});

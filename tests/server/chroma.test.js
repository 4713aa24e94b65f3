'use strict';
// Chroma's API (/api/v2) through the official chromadb 3.5 client, checked against exact answers
// computed here: a whole create/add/upsert/query-with-where/get/update/delete cycle in each space,
// every where operator against a plain evaluation of it, the errors a Chroma client sees, and the
// collections and records surviving a restart.
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { ChromaClient } = require('chromadb');
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { ROOT, startServer, makeDataDir, removeDataDir, http } = require('./server_util.js');

// the metadata indexes are checked in the database itself, as vexctl sees it
const VEXCTL = process.env.VEXCTL || path.join(ROOT, 'build', 'tools', 'vexctl', 'vexctl');

const DIM = 8;

// xorshift32: the same data on every run
function rng(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}

function records(n, seed, prefix = 'r') {
  const rand = rng(seed);
  const out = { ids: [], embeddings: [], metadatas: [], documents: [] };
  for (let i = 0; i < n; i++) {
    out.ids.push(`${prefix}${i}`);
    out.embeddings.push(Array.from({ length: DIM }, () => Math.fround(rand() * 2 - 1)));
    const m = { cat: i % 10, price: i * 1.5, parity: i % 2 ? 'odd' : 'even', tags: [`t${i % 3}`, `u${i % 4}`] };
    if (i % 7 === 0) delete m.cat; // records without the key, for $ne / $nin
    if (i % 5 === 0) m.flag = i % 10 === 0;
    out.metadatas.push(m);
    out.documents.push(`document ${i}`);
  }
  return out;
}

// the library's distances, in float32 as it computes them (close enough: compared with a tolerance)
const spaces = {
  l2: (a, b) => a.reduce((s, x, i) => s + (x - b[i]) ** 2, 0),
  ip: (a, b) => 1 - a.reduce((s, x, i) => s + x * b[i], 0),
  cosine: (a, b) => {
    const dot = a.reduce((s, x, i) => s + x * b[i], 0);
    const na = Math.sqrt(a.reduce((s, x) => s + x * x, 0));
    const nb = Math.sqrt(b.reduce((s, x) => s + x * x, 0));
    return 1 - dot / (na * nb);
  },
};

// a where clause evaluated as Chroma defines it ($ne / $nin admit records without the key)
function admits(where, m) {
  return Object.entries(where).every(([key, cond]) => {
    if (key === '$and') return cond.every((c) => admits(c, m));
    if (key === '$or') return cond.some((c) => admits(c, m));
    const v = m ? m[key] : undefined;
    const has = v !== undefined;
    const eq = (x) => (Array.isArray(v) ? v.includes(x) : v === x);
    if (typeof cond !== 'object') return has && eq(cond);
    const [[op, x]] = Object.entries(cond);
    switch (op) {
      case '$eq': return has && eq(x);
      case '$ne': return !(has && eq(x));
      case '$gt': return has && typeof v === 'number' && v > x;
      case '$gte': return has && typeof v === 'number' && v >= x;
      case '$lt': return has && typeof v === 'number' && v < x;
      case '$lte': return has && typeof v === 'number' && v <= x;
      case '$in': return has && x.some(eq);
      case '$nin': return !(has && x.some(eq));
      case '$contains': return has && eq(x);
      case '$not_contains': return !(has && eq(x));
      default: throw new Error(op);
    }
  });
}

// the exact k nearest of the stored records (a map id -> {embedding, metadata}) admitted by where
function exact(store, q, k, space, where) {
  return [...store.entries()]
    .filter(([, r]) => !where || admits(where, r.metadata))
    .map(([id, r]) => ({ id, d: spaces[space](q, r.embedding) }))
    .sort((a, b) => a.d - b.d) // stable: ties in order of insertion, as the library's ids are
    .slice(0, k);
}

function assertQuery(result, expected, what) {
  assert.deepEqual(result.ids[0], expected.map((e) => e.id), what);
  result.distances[0].forEach((d, i) =>
    assert.ok(Math.abs(d - expected[i].d) <= 1e-4 * Math.max(1, Math.abs(expected[i].d)),
      `${what}: distance ${i}: ${d} vs ${expected[i].d}`));
}

// embeddings come back as the shortest text that reads back as the same float32
const f32 = (rows) => rows.map((r) => r.map(Math.fround));

function client(server) {
  return new ChromaClient({ host: '127.0.0.1', port: server.port, ssl: false });
}

function storeOf(batch) {
  const store = new Map();
  batch.ids.forEach((id, i) => store.set(id, {
    embedding: batch.embeddings[i], metadata: batch.metadatas[i], document: batch.documents[i] }));
  return store;
}

describe('Chroma API through the chromadb 3.5 client', () => {
  let server;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    if (server) await server.stop();
  });

  test('system routes: heartbeat, version, identity, pre-flight checks', async () => {
    const c = client(server);
    const beat = await c.heartbeat();
    assert.ok(Math.abs(beat / 1e6 - Date.now()) < 60_000, `heartbeat ${beat}`);
    assert.equal(typeof (await c.version()), 'string');
    assert.deepEqual(await c.getUserIdentity(),
      { user_id: '', tenant: 'default_tenant', databases: ['default_database'] });
    const checks = await c.getPreflightChecks();
    assert.ok(checks.max_batch_size >= 1000, JSON.stringify(checks));
  });

  for (const space of ['l2', 'cosine', 'ip']) {
    test(`${space}: create, add, query with and without where, get, upsert, update, delete`, async () => {
      const c = client(server);
      const name = `cycle-${space}`;
      const coll = await c.createCollection({ name, embeddingFunction: null,
        configuration: { hnsw: { space } }, metadata: { owner: 'tests', version: 3 } });
      assert.equal(coll.name, name);
      assert.deepEqual(coll.metadata, { owner: 'tests', version: 3 });
      assert.equal(coll.configuration.hnsw.space, space);

      const batch = records(300, 7);
      const half = (f) => [f.slice(0, 150), f.slice(150)];
      for (const part of [0, 1]) {
        await coll.add({ ids: half(batch.ids)[part], embeddings: half(batch.embeddings)[part],
          metadatas: half(batch.metadatas)[part], documents: half(batch.documents)[part] });
      }
      const store = storeOf(batch);
      assert.equal(await coll.count(), 300);
      // adding ids already stored changes nothing (Chroma skips them)
      await coll.add({ ids: ['r0'], embeddings: [new Array(DIM).fill(9)], documents: ['other'] });
      assert.deepEqual((await coll.get({ ids: ['r0'] })).documents, ['document 0']);

      const rand = rng(99);
      const queries = Array.from({ length: 5 }, () => Array.from({ length: DIM }, () => rand() * 2 - 1));
      for (const q of queries) {
        const r = await coll.query({ queryEmbeddings: [q], nResults: 10,
          include: ['distances', 'metadatas', 'documents'] });
        const want = exact(store, q, 10, space);
        assertQuery(r, want, `${space} unfiltered`);
        assert.deepEqual(r.documents[0], want.map((e) => store.get(e.id).document));
        assert.deepEqual(r.metadatas[0], want.map((e) => store.get(e.id).metadata));
        // about 10% admitted
        const where = { $and: [{ cat: { $in: [3] } }, { price: { $gte: 0 } }] };
        const f = await coll.query({ queryEmbeddings: [q], nResults: 10, where });
        assertQuery(f, exact(store, q, 10, space, where), `${space} where`);
      }
      // several queries at once, and a where admitting fewer than n_results
      const many = await coll.query({ queryEmbeddings: queries, nResults: 3, where: { price: { $lt: 3 } } });
      assert.equal(many.ids.length, queries.length);
      queries.forEach((q, i) => assert.deepEqual(many.ids[i],
        exact(store, q, 3, space, { price: { $lt: 3 } }).map((e) => e.id)));
      // ids restrict a query
      const only = await coll.query({ queryEmbeddings: [queries[0]], nResults: 10, ids: ['r5', 'r6', 'nope'] });
      assert.deepEqual([...only.ids[0]].sort(), ['r5', 'r6']);

      // get: by ids (in storage order), by where with offset and limit, with embeddings
      const got = await coll.get({ ids: ['r9', 'r2'], include: ['embeddings', 'metadatas', 'documents'] });
      assert.deepEqual(got.ids, ['r2', 'r9']);
      assert.deepEqual(f32(got.embeddings), [batch.embeddings[2], batch.embeddings[9]]);
      assert.deepEqual(got.metadatas, [batch.metadatas[2], batch.metadatas[9]]);
      const page = await coll.get({ where: { parity: 'odd' }, offset: 10, limit: 5 });
      assert.deepEqual(page.ids, batch.ids.filter((_, i) => i % 2).slice(10, 15));

      // upsert: r1 changes (vector, metadata merged), new1 is added
      const moved = new Array(DIM).fill(0.25);
      await coll.upsert({ ids: ['r1', 'new1'], embeddings: [moved, moved],
        metadatas: [{ price: 1000, extra: 'yes' }, { cat: 42 }], documents: ['moved', 'new'] });
      const up = await coll.get({ ids: ['r1', 'new1'], include: ['embeddings', 'metadatas', 'documents'] });
      assert.deepEqual(up.ids, ['r1', 'new1']);
      assert.deepEqual(up.metadatas[0], { ...batch.metadatas[1], price: 1000, extra: 'yes' });
      assert.deepEqual(up.metadatas[1], { cat: 42 });
      assert.deepEqual(up.documents, ['moved', 'new']);
      assert.deepEqual(f32(up.embeddings), [moved, moved]);
      assert.equal(await coll.count(), 301);
      store.set('r1', { embedding: moved, metadata: up.metadatas[0] });
      store.set('new1', { embedding: moved, metadata: { cat: 42 } });
      const near = await coll.query({ queryEmbeddings: [moved], nResults: 5, include: ['distances'] });
      assertQuery(near, exact(store, moved, 5, space), `${space} after the upsert`);

      // update: metadata merged, vector kept; ids not stored are skipped
      await coll.update({ ids: ['r3', 'ghost'], metadatas: [{ price: -1 }, { price: -2 }] });
      const u = await coll.get({ ids: ['r3'], include: ['metadatas', 'embeddings'] });
      assert.deepEqual(u.metadatas, [{ ...batch.metadatas[3], price: -1 }]);
      assert.deepEqual(f32(u.embeddings), [batch.embeddings[3]]);
      assert.equal(await coll.count(), 301);

      // delete by ids, then by where
      assert.equal((await coll.delete({ ids: ['r4', 'ghost'] })).deleted, 1);
      const nine = batch.ids.filter((_, i) => admits({ cat: 9 }, batch.metadatas[i])).length;
      const gone = await coll.delete({ where: { cat: 9 } });
      assert.equal(gone.deleted, nine);
      assert.equal(await coll.count(), 300 - nine);
      assert.deepEqual((await coll.get({ where: { cat: 9 } })).ids, []);
      assert.deepEqual((await coll.get({ ids: ['r4'] })).ids, []);
      await c.deleteCollection({ name });
    });
  }

  test('every where operator admits exactly what Chroma\'s definition does', async () => {
    const c = client(server);
    const coll = await c.createCollection({ name: 'where-ops', embeddingFunction: null });
    const batch = records(120, 3);
    await coll.add(batch);
    const wheres = [
      { cat: 3 }, { cat: { $eq: 3 } }, { cat: { $ne: 3 } }, { price: { $gt: 90 } },
      { price: { $gte: 90 } }, { price: { $lt: 6 } }, { price: { $lte: 6 } },
      { cat: { $in: [1, 2] } }, { cat: { $nin: [1, 2] } }, { parity: { $in: ['odd'] } },
      { flag: true }, { flag: { $ne: true } }, { tags: { $contains: 't1' } },
      { tags: { $not_contains: 'u0' } },
      { $or: [{ cat: 1 }, { parity: 'even' }] },
      { $and: [{ cat: { $gte: 2 } }, { $or: [{ price: { $lt: 30 } }, { flag: false }] }] },
    ];
    for (const where of wheres) {
      const got = await coll.get({ where, include: [] });
      const want = batch.ids.filter((_, i) => admits(where, batch.metadatas[i]));
      assert.deepEqual(got.ids, want, JSON.stringify(where));
    }
    await c.deleteCollection({ name: 'where-ops' });
  });

  test('concurrent first adds make one collection and lose no record', async () => {
    const c = client(server);
    const coll = await c.createCollection({ name: 'racy', embeddingFunction: null });
    const parts = Array.from({ length: 8 }, (_, p) => records(40, 100 + p, `p${p}-`));
    await Promise.all(parts.map((part) => coll.add(part)));
    assert.equal(await coll.count(), 320);
    const all = await coll.get({ include: ['documents'] });
    assert.deepEqual([...all.ids].sort(), parts.flatMap((p) => p.ids).sort());
    // and concurrent upserts of the same ids end with one record each
    await Promise.all(parts.map((part) => coll.upsert({ ids: parts[0].ids, embeddings: part.embeddings })));
    assert.equal(await coll.count(), 320);
    await c.deleteCollection({ name: 'racy' });
  });

  test('a collection described to many clients at once reads the same to each', async () => {
    // (json-c caches an object's text inside it: shared objects written at once came out torn)
    const c = client(server);
    const metadata = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`key${i}`, `value ${i}`]));
    await c.createCollection({ name: 'described', embeddingFunction: null, metadata,
      configuration: { hnsw: { space: 'ip', ef_search: 33 } } });
    const path = '/api/v2/tenants/default_tenant/databases/default_database/collections/described';
    for (let round = 0; round < 10; round++) {
      const answers = await Promise.all(Array.from({ length: 32 }, () => http(server.url, 'GET', path)));
      for (const a of answers) {
        const o = JSON.parse(a.text);
        assert.deepEqual([o.metadata, o.configuration_json.hnsw.space, o.configuration_json.hnsw.ef_search],
          [metadata, 'ip', 33]);
      }
    }
    await c.deleteCollection({ name: 'described' });
  });

  test('collections: get_or_create, list, count, rename, metadata, delete', async () => {
    const c = client(server);
    const a = await c.getOrCreateCollection({ name: 'alpha', embeddingFunction: null, metadata: { x: 1 } });
    const again = await c.getOrCreateCollection({ name: 'alpha', embeddingFunction: null });
    assert.equal(again.id, a.id);
    await assert.rejects(c.createCollection({ name: 'alpha', embeddingFunction: null }),
      { name: 'ChromaUniqueError' });
    const b = await c.createCollection({ name: 'beta', embeddingFunction: null });
    assert.deepEqual((await c.listCollections()).map((x) => x.name), ['alpha', 'beta']);
    assert.equal(await c.countCollections(), 2);
    await b.add({ ids: ['1'], embeddings: [[1, 2, 3]] });
    await b.modify({ name: 'gamma', metadata: { renamed: true } });
    const g = await c.getCollection({ name: 'gamma', embeddingFunction: null });
    assert.equal(g.id, b.id);
    assert.deepEqual(g.metadata, { renamed: true });
    assert.equal(await g.count(), 1);
    await assert.rejects(c.getCollection({ name: 'beta', embeddingFunction: null }), { name: 'ChromaNotFoundError' });
    await c.deleteCollection({ name: 'alpha' });
    await c.deleteCollection({ name: 'gamma' });
    assert.equal(await c.countCollections(), 0);
    await assert.rejects(c.deleteCollection({ name: 'gamma' }), { name: 'ChromaNotFoundError' });
  });
});

describe('Chroma API: errors as raw HTTP sees them', () => {
  let server;
  let base;
  let id;
  before(async () => {
    server = await startServer();
    const res = await http(server.url, 'POST', '/api/v2/tenants/default_tenant/databases/default_database/collections',
      { name: 'errs' });
    assert.equal(res.status, 200, res.text);
    id = JSON.parse(res.text).id;
    base = `/api/v2/tenants/default_tenant/databases/default_database/collections/${id}`;
    const add = await http(server.url, 'POST', `${base}/add`,
      { ids: ['a', 'b'], embeddings: [[1, 0], [0, 1]], metadatas: [{ k: 1, gone: 'x' }, null] });
    assert.equal(add.status, 201, add.text);
  });
  after(async () => {
    if (server) await server.stop();
  });

  async function fails(method, path, body, status, kind, pattern) {
    const res = await http(server.url, method, path, body);
    assert.equal(res.status, status, `${method} ${path} ${JSON.stringify(body)}: ${res.text}`);
    const err = JSON.parse(res.text);
    assert.equal(err.error, kind, res.text);
    assert.match(err.message, pattern);
  }

  test('bad requests get 400 InvalidArgumentError naming the problem', async () => {
    await fails('POST', `${base}/add`, { ids: ['c'], embeddings: [[1, 2, 3]] }, 400, 'InvalidArgumentError', /dimension of 2, got 3/);
    await fails('POST', `${base}/add`, { ids: ['c', 'c'], embeddings: [[1, 2], [1, 2]] }, 400, 'InvalidArgumentError', /unique.*c/);
    await fails('POST', `${base}/add`, { ids: ['c'] }, 400, 'InvalidArgumentError', /embeddings/);
    await fails('POST', `${base}/add`, { ids: ['c'], embeddings: [[1, 2]], metadatas: [{ 'chroma:x': 1 }] }, 400, 'InvalidArgumentError', /reserved/);
    await fails('POST', `${base}/add`, { ids: ['c'], embeddings: [[1, 2]], metadatas: [{ o: { nested: 1 } }] }, 400, 'InvalidArgumentError', /string, number or boolean/);
    await fails('POST', `${base}/add`, { ids: ['c', 'd'], embeddings: [[1, 2]] }, 400, 'InvalidArgumentError', /2 entries/);
    await fails('POST', `${base}/add`, { ids: [''], embeddings: [[1, 2]] }, 400, 'InvalidArgumentError', /non-empty string/);
    await fails('POST', `${base}/query`, { query_embeddings: [[1, 0]], where: { k: { $regex: 'x' } } }, 400, 'InvalidArgumentError', /unsupported operator \$regex/);
    await fails('POST', `${base}/query`, { query_embeddings: [[1, 0]], where: { k: { $gt: 'x' } } }, 400, 'InvalidArgumentError', /takes a number/);
    await fails('POST', `${base}/query`, { query_embeddings: [[1, 0]], where: { $and: [] } }, 400, 'InvalidArgumentError', /non-empty list/);
    await fails('POST', `${base}/query`, { query_embeddings: [[1, 0]], where_document: { $contains: 'x' } }, 400, 'InvalidArgumentError', /where_document is not supported/);
    await fails('POST', `${base}/query`, { query_texts: ['hello'] }, 400, 'InvalidArgumentError', /embedding function/);
    await fails('POST', `${base}/query`, { query_embeddings: [[1, 0, 0]] }, 400, 'InvalidArgumentError', /dimension of 2, got 3/);
    await fails('POST', `${base}/query`, { query_embeddings: [[1, 0]], include: ['vectors'] }, 400, 'InvalidArgumentError', /unknown field/);
    await fails('POST', `${base}/get`, { include: ['distances'] }, 400, 'InvalidArgumentError', /unknown field/);
    await fails('POST', `${base}/query`, { query_embeddings: [[1, 0]], ids: [1] }, 400, 'InvalidArgumentError', /ids\[0\]/);
    await fails('POST', `${base}/get`, { ids: 'a' }, 400, 'InvalidArgumentError', /ids/);
    await fails('POST', `${base}/query`, { query_embeddings: [[1, 0]], n_results: 0 }, 400, 'InvalidArgumentError', /n_results/);
    await fails('POST', `${base}/query`, { query_embeddings: [[1, 0]], n_results: -1 }, 400, 'InvalidArgumentError', /n_results/);
    await fails('POST', `${base}/query`, { query_embeddings: [] }, 400, 'InvalidArgumentError', /query_embeddings/);
    await fails('POST', '/api/v2/tenants/default_tenant/databases/default_database/collections', { name: 'x' }, 400, 'InvalidArgumentError', /3 to 512/);
    await fails('POST', '/api/v2/tenants/default_tenant/databases/default_database/collections',
      { name: 'spacey', configuration: { hnsw: { space: 'manhattan' } } }, 400, 'InvalidArgumentError', /space/);
  });

  test('missing things get 404 NotFoundError, taken names 409 UniqueConstraintError', async () => {
    await fails('POST', '/api/v2/tenants/default_tenant/databases/default_database/collections/00000000-0000-4000-8000-000000000000/get', {}, 404, 'NotFoundError', /does not exist/);
    await fails('GET', '/api/v2/tenants/default_tenant/databases/default_database/collections/nothere', undefined, 404, 'NotFoundError', /nothere/);
    await fails('GET', '/api/v2/tenants/other/databases/default_database/collections', undefined, 404, 'NotFoundError', /Tenant \[other\]/);
    await fails('GET', '/api/v2/tenants/default_tenant/databases/other/collections', undefined, 404, 'NotFoundError', /Database \[other\]/);
    await fails('POST', '/api/v2/tenants/default_tenant/databases/default_database/collections', { name: 'errs' }, 409, 'UniqueConstraintError', /already exists/);
    await fails('GET', '/api/v2/nothing', undefined, 404, 'NotFoundError', /Not found/);
  });

  test('an upsert\'s null metadata value removes the key; documents and URIs are kept', async () => {
    const up = await http(server.url, 'POST', `${base}/upsert`,
      { ids: ['a'], embeddings: [[2, 0]], metadatas: [{ gone: null, k: 5 }], uris: ['s3://a'] });
    assert.equal(up.status, 200, up.text);
    const got = JSON.parse((await http(server.url, 'POST', `${base}/get`,
      { ids: ['a', 'b'], include: ['metadatas', 'uris', 'documents'] })).text);
    assert.deepEqual(got.metadatas, [{ k: 5 }, null]);
    assert.deepEqual(got.uris, ['s3://a', null]);
    assert.deepEqual(got.documents, [null, null]);
    assert.equal(got.embeddings, null);
    const count = await http(server.url, 'GET', `${base}/count`);
    assert.equal(count.text, '2');
    // a delete naming no records deletes none (as Chroma's does)
    const none = await http(server.url, 'POST', `${base}/delete`, {});
    assert.deepEqual([none.status, JSON.parse(none.text)], [200, { deleted: 0 }]);
    assert.equal((await http(server.url, 'GET', `${base}/count`)).text, '2');
  });

  test('what an attack review found: each holds', async () => {
    // a new_configuration that is not an object (crashed the server once)
    await fails('PUT', base, { new_configuration: 5 }, 400, 'InvalidArgumentError', /new_configuration/);
    // \u0000 in ids or documents (the C strings would have cut them)
    await fails('POST', `${base}/add`, { ids: ['x\u0000y'], embeddings: [[1, 2]] }, 400, 'InvalidArgumentError', /u0000/);
    await fails('POST', `${base}/add`, { ids: ['x'], embeddings: [[1, 2]], documents: ['d\u0000e'] }, 400, 'InvalidArgumentError', /u0000/);
    // keys the library would read as paths
    await fails('POST', `${base}/get`, { where: { 'a[]': 'q' } }, 400, 'InvalidArgumentError', /path/);
    // every query's length is checked before the table is sized
    await fails('POST', `${base}/query`, { query_embeddings: [[1, 0], [1, 0, 0]] }, 400, 'InvalidArgumentError', /query_embeddings\[1\]/);
    // lists of numbers in a configuration are kept as they are
    const made = await http(server.url, 'POST', '/api/v2/tenants/default_tenant/databases/default_database/collections',
      { name: 'confkeep', configuration: { embedding_function: { name: 'custom', config: { vector: [1, 2, 3] } } } });
    assert.deepEqual(JSON.parse(made.text).configuration_json.embedding_function.config, { vector: [1, 2, 3] });
    const cbase = `/api/v2/tenants/default_tenant/databases/default_database/collections/${JSON.parse(made.text).id}`;
    // the space cannot change; ef_search can, and the configuration says so
    await fails('PUT', cbase, { new_metadata: { 'hnsw:space': 'ip' } }, 400, 'InvalidArgumentError', /hnsw:space/);
    assert.equal((await http(server.url, 'PUT', cbase, { new_configuration: { hnsw: { ef_search: 7 } } })).status, 200);
    const after = await http(server.url, 'GET', '/api/v2/tenants/default_tenant/databases/default_database/collections/confkeep');
    assert.equal(JSON.parse(after.text).configuration_json.hnsw.ef_search, 7);
    // an update or a refused add does not fix the dimension of a collection without records
    assert.equal((await http(server.url, 'POST', `${cbase}/update`, { ids: ['a'], embeddings: [[1, 2, 3]] })).status, 200);
    await fails('POST', `${cbase}/add`, { ids: ['a'], embeddings: [[1e39, 0, 0]] }, 400, 'InvalidArgumentError', /finite/);
    assert.equal(JSON.parse((await http(server.url, 'GET',
      '/api/v2/tenants/default_tenant/databases/default_database/collections/confkeep')).text).dimension, null);
    assert.equal((await http(server.url, 'POST', `${cbase}/add`, { ids: ['a'], embeddings: [[1, 2]] })).status, 201);
    // a point written through Qdrant's view is never overwritten by a record given a fresh id
    const made2 = JSON.parse(made.text).id;
    assert.equal((await http(server.url, 'PUT', `/collections/${made2}/points?wait=true`,
      { points: [{ id: 1, vector: [5, 5], payload: { foo: 1 } }, { id: 2, vector: [6, 6] }] })).status, 200);
    assert.equal((await http(server.url, 'POST', `${cbase}/upsert`, { ids: ['b'], embeddings: [[3, 3]] })).status, 200);
    const q = JSON.parse((await http(server.url, 'POST', `/collections/${made2}/points`,
      { ids: [1], with_payload: true })).text);
    assert.deepEqual(q.result[0].payload, { foo: 1 });
    assert.equal((await http(server.url, 'GET', `${cbase}/count`)).text, '4');
    // a tiny request asking for a huge answer is refused, not served from gigabytes
    const big = 'x'.repeat(4 << 20);
    assert.equal((await http(server.url, 'POST', `${cbase}/upsert`, { ids: ['big'], embeddings: [[0, 0]], documents: [big] })).status, 200);
    await fails('POST', `${cbase}/query`, { query_embeddings: Array(20).fill([0, 0]), n_results: 1, include: ['documents'] },
      400, 'InvalidArgumentError', /MiB/);
  });

  test('embeddings as base64 of little-endian float32s (the client sends them so: pre-flight-checks)', async () => {
    const checks = JSON.parse((await http(server.url, 'GET', '/api/v2/pre-flight-checks')).text);
    assert.equal(checks.supports_base64_encoding, true);
    const b64 = (xs) => Buffer.from(new Float32Array(xs).buffer).toString('base64');
    assert.equal((await http(server.url, 'POST', `${base}/upsert`, { ids: ['e64'], embeddings: [b64([0.25, -3])] })).status, 200);
    const got = JSON.parse((await http(server.url, 'POST', `${base}/get`, { ids: ['e64'], include: ['embeddings'] })).text);
    assert.deepEqual(got.embeddings, [[0.25, -3]]);
    await fails('POST', `${base}/upsert`, { ids: ['e64'], embeddings: [b64([1, 2, 3])] }, 400, 'InvalidArgumentError', /dimension of 2, got 3/);
    await fails('POST', `${base}/upsert`, { ids: ['e64'], embeddings: ['!!!!!!!!!!!='] }, 400, 'InvalidArgumentError', /base64/);
    await fails('POST', `${base}/upsert`, { ids: ['e64'], embeddings: ['AAAA'] }, 400, 'InvalidArgumentError', /embeddings\[0\]/);
    await fails('POST', `${base}/upsert`, { ids: ['e64'], embeddings: [b64([NaN, 1])] }, 400, 'InvalidArgumentError', /finite/);
    assert.equal((await http(server.url, 'POST', `${base}/delete`, { ids: ['e64'] })).status, 200);
  });

  test('an update with some embeddings null keeps those records\' vectors and replaces the others', async () => {
    const mk = await http(server.url, 'POST', '/api/v2/tenants/default_tenant/databases/default_database/collections', { name: 'partial' });
    const pbase = `/api/v2/tenants/default_tenant/databases/default_database/collections/${JSON.parse(mk.text).id}`;
    assert.equal((await http(server.url, 'POST', `${pbase}/add`, { ids: ['a', 'b', 'c', 'd'],
      embeddings: [[1, 1], [2, 2], [3, 3], [4, 4]] })).status, 201);
    assert.equal((await http(server.url, 'POST', `${pbase}/update`, { ids: ['a', 'b', 'ghost', 'c', 'd'],
      embeddings: [null, [9, 9], [7, 7], null, [8, 8]] })).status, 200);
    const got = JSON.parse((await http(server.url, 'POST', `${pbase}/get`, { include: ['embeddings'] })).text);
    assert.deepEqual([got.ids, got.embeddings], [['a', 'b', 'c', 'd'], [[1, 1], [9, 9], [3, 3], [8, 8]]]);
  });

  test('fractional numbers and booleans in where (the library matches integers and strings)', async () => {
    const mk = await http(server.url, 'POST', '/api/v2/tenants/default_tenant/databases/default_database/collections', { name: 'floats' });
    const fbase = `/api/v2/tenants/default_tenant/databases/default_database/collections/${JSON.parse(mk.text).id}`;
    await http(server.url, 'POST', `${fbase}/add`, { ids: ['p', 'q', 'r'], embeddings: [[1], [2], [3]],
      metadatas: [{ f: 1.5, b: true }, { f: 2, b: false }, { g: 1 }] });
    const ids = async (where) => JSON.parse((await http(server.url, 'POST', `${fbase}/get`, { where })).text).ids;
    assert.deepEqual(await ids({ f: 1.5 }), ['p']);
    assert.deepEqual(await ids({ f: { $ne: 1.5 } }), ['q', 'r']);
    assert.deepEqual(await ids({ f: { $in: [1.5, 2] } }), ['p', 'q']);
    assert.deepEqual(await ids({ f: { $nin: [2.0] } }), ['p', 'r']);
    assert.deepEqual(await ids({ b: { $in: [true] } }), ['p']);
    assert.deepEqual(await ids({ b: { $nin: [true] } }), ['q', 'r']);
  });

  test('n_results past the records stored gives them all', async () => {
    const res = await http(server.url, 'POST', `${base}/query`,
      { query_embeddings: [[1, 0], [0, 1]], n_results: 1000000, include: ['distances'] });
    assert.equal(res.status, 200, res.text);
    const r = JSON.parse(res.text);
    assert.deepEqual(r.ids, [['a', 'b'], ['b', 'a']]);
    assert.equal(r.metadatas, null);
  });

  test('several keys in one where object must all match (the client allows one; the server both)', async () => {
    const res = await http(server.url, 'POST', `${base}/get`, { where: { k: 5, missing: { $ne: 1 } } });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(JSON.parse(res.text).ids, ['a']);
    const none = await http(server.url, 'POST', `${base}/get`, { where: { k: 5, other: 1 } });
    assert.deepEqual(JSON.parse(none.text).ids, []);
  });
});

describe('Chroma API: durable', () => {
  test('collections, their ids, names, metadata and records survive a restart', async () => {
    const dir = makeDataDir();
    let server = await startServer({ data: dir });
    try {
      const c = client(server);
      const coll = await c.createCollection({ name: 'keep', embeddingFunction: null,
        configuration: { hnsw: { space: 'cosine', ef_search: 50 } }, metadata: { a: 'b' } });
      const empty = await c.createCollection({ name: 'empty', embeddingFunction: null });
      const batch = records(50, 11);
      await coll.add(batch);
      await coll.modify({ name: 'kept' });
      const before = await coll.query({ queryEmbeddings: [batch.embeddings[7]], nResults: 5 });
      await server.stop();
      // every metadata key a where can name got its payload indexes, as Chroma indexes each key
      const info = spawnSync(VEXCTL, ['info', dir, coll.id, '--json'], { encoding: 'utf8' });
      assert.equal(info.status, 0, info.stderr);
      const indexes = JSON.parse(info.stdout).collections[0].payload_indexes.map((i) => `${i.key}:${i.kind}`);
      assert.deepEqual(indexes.sort(), ['cat:keyword', 'cat:numeric', 'chroma:id:keyword', 'flag:keyword',
        'parity:keyword', 'price:keyword', 'price:numeric', 'tags:keyword']); // (price 3 is an integer)
      server = await startServer({ data: dir });
      const c2 = client(server);
      const again = await c2.getCollection({ name: 'kept', embeddingFunction: null });
      assert.equal(again.id, coll.id);
      assert.deepEqual(again.metadata, { a: 'b' });
      assert.equal(again.configuration.hnsw.space, 'cosine');
      assert.equal(await again.count(), 50);
      const after = await again.query({ queryEmbeddings: [batch.embeddings[7]], nResults: 5 });
      assert.deepEqual(after.ids, before.ids);
      assert.deepEqual(after.documents, before.documents);
      assert.equal((await c2.getCollection({ name: 'empty', embeddingFunction: null })).id, empty.id);
      // the first add after a restart takes ids past those stored
      await again.add({ ids: ['late'], embeddings: [batch.embeddings[0]], documents: ['late one'] });
      assert.deepEqual((await again.get({ ids: ['late', 'r0'] })).documents, ['document 0', 'late one']);
    } finally {
      await server.stop();
      removeDataDir(dir);
    }
  });
});

'use strict';
// The Query API through the next client, @qdrant/js-client-rest 1.19 (installed under the alias
// qdrant-js-client-1.19: it names Node 22, and its query calls run on Node 20): query by vector,
// by point id (left out of its own results), with a filter, and queryBatch, against brute force.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { QdrantClient } = require('qdrant-js-client-1.19');
const { startServer, rng } = require('./server_util.js');

const DIM = 6;
const N = 80;
const NAME = 'q119';

let server;
let client;
const points = [];

function distance(a, b) {
  return Math.sqrt(a.reduce((s, x, k) => s + (x - b[k]) ** 2, 0));
}

// The k nearest stored points to q (euclidean), those `admit` accepts, `skip` left out.
function nearest(q, k, admit = () => true, skip = null) {
  return points
    .filter((p) => p.id !== skip && admit(p))
    .map((p) => ({ id: p.id, score: distance(q, p.vector) }))
    .sort((a, b) => a.score - b.score || a.id - b.id)
    .slice(0, k);
}

function assertSame(got, want) {
  assert.deepEqual(got.map((p) => p.id), want.map((p) => p.id));
  for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i].score - want[i].score) < 1e-4);
}

before(async () => {
  server = await startServer();
  client = new QdrantClient({ url: server.url, checkCompatibility: false });
  const r = rng(119);
  for (let i = 0; i < N; i++) {
    points.push({ id: i + 1, vector: Array.from({ length: DIM }, () => Math.fround(r() * 2 - 1)),
      payload: { odd: i % 2 === 1 } });
  }
  await client.createCollection(NAME, { vectors: { size: DIM, distance: 'Euclid' } });
  await client.upsert(NAME, { wait: true, points });
});

after(async () => {
  if (server) await server.stop();
});

describe('query API with client 1.19', () => {
  test('query by vector, and {nearest: vector}', async () => {
    const q = points[3].vector.map((x) => x + 0.01);
    const plain = await client.query(NAME, { query: q, limit: 7 });
    assertSame(plain.points, nearest(q, 7));
    const wrapped = await client.query(NAME, { query: { nearest: q }, limit: 7 });
    assertSame(wrapped.points, nearest(q, 7));
  });

  test('query by point id leaves the point out', async () => {
    const res = await client.query(NAME, { query: 10, limit: 5 });
    assertSame(res.points, nearest(points[9].vector, 5, undefined, 10));
  });

  test('query with a filter and payloads', async () => {
    const q = points[0].vector;
    const res = await client.query(NAME, { query: q, limit: 6, with_payload: true,
      filter: { must: [{ key: 'odd', match: { value: true } }] } });
    assertSame(res.points, nearest(q, 6, (p) => p.payload.odd));
    for (const p of res.points) assert.deepEqual(p.payload, { odd: true });
  });

  test('queryBatch answers each query', async () => {
    const qs = [points[5].vector, points[50].vector];
    const res = await client.queryBatch(NAME, { searches: qs.map((q) => ({ query: q, limit: 4 })) });
    assert.equal(res.length, 2);
    res.forEach((r, i) => assertSame(r.points, nearest(qs[i], 4)));
  });
});

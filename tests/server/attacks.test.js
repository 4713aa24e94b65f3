'use strict';
// Regressions of what an attack on the server found: each case failed before its fix (a crash,
// a lost or changed point, lax input taken, a wrong answer). Raw HTTP, exact answers.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { startServer, http } = require('./server_util.js');

let server;
let req;

before(async () => {
  server = await startServer();
  req = (method, path, body) => http(server.url, method, path, body);
});
after(async () => {
  if (server) await server.stop();
});

async function collection(name, distance = 'Euclid', size = 2) {
  const res = await req('PUT', `/collections/${name}`, { vectors: { size, distance } });
  assert.equal(res.status, 200, res.text);
}

async function upsert(name, points) {
  return req('PUT', `/collections/${name}/points?wait=true`, { points });
}

async function scrollAll(name) {
  const res = await req('POST', `/collections/${name}/points/scroll`, { limit: 10000, with_payload: true, with_vector: true });
  assert.equal(res.status, 200, res.text);
  return res.json.result.points;
}

test('with_payload naming both include and exclude, or a bad list, is a 400 (it crashed)', async () => {
  await collection('sel');
  assert.equal((await upsert('sel', [{ id: 1, vector: [1, 2], payload: { a: 1 } }])).status, 200);
  for (const bad of [{ include: ['a'], exclude: [null] }, { exclude: 5 }, { include: 'x' }, {}, { include: ['a'], other: 1 }]) {
    const res = await req('POST', '/collections/sel/points/scroll', { with_payload: bad });
    assert.equal(res.status, 400, `${JSON.stringify(bad)}: ${res.text}`);
  }
  const ok = await req('POST', '/collections/sel/points/scroll', { with_payload: { exclude: ['a'] } });
  assert.deepEqual(ok.json.result.points[0].payload, {});
});

test('a UUID and a number near the top of the id range in one batch are two points', async () => {
  await collection('mix');
  const uuid = '550e8400-e29b-41d4-a716-446655440000';
  const top = '18446744073709551614'; // 2^64 - 2: the first id a UUID would get
  const body = `{"points":[{"id":"${uuid}","vector":[1,0],"payload":{"who":"uuid"}},` +
    `{"id":${top},"vector":[0,1],"payload":{"who":"number"}}]}`;
  const res = await req('PUT', '/collections/mix/points?wait=true', body);
  assert.equal(res.status, 200, res.text);
  const count = await req('POST', '/collections/mix/points/count', {});
  assert.equal(count.json.result.count, 2);
  const one = await req('GET', `/collections/mix/points/${top}`);
  assert.equal(one.status, 200, one.text);
  assert.deepEqual(one.json.result.payload, { who: 'number' });
  const two = await req('GET', `/collections/mix/points/${uuid}`);
  assert.deepEqual(two.json.result.payload, { who: 'uuid' });
});

test('concurrent upserts of numbers near the top and new UUIDs: no two points share an id', async () => {
  await collection('race');
  const top = 18446744073709551614n;
  const acknowledged = new Map(); // id text -> its vector
  await Promise.all(Array.from({ length: 8 }, async (_, w) => {
    for (let b = 0; b < 6; b++) {
      const points = [];
      for (let i = 0; i < 5; i++) {
        const numeric = (w + b + i) % 2 === 0;
        const id = numeric ? (top - BigInt(w * 100 + b * 10 + i)).toString() : `"${crypto.randomUUID()}"`;
        points.push({ id, vector: [w, b * 10 + i] });
      }
      const body = `{"points":[${points.map((p) => `{"id":${p.id},"vector":[${p.vector}]}`).join(',')}]}`;
      const res = await req('PUT', '/collections/race/points?wait=true', body);
      if (res.status === 200) {
        for (const p of points) acknowledged.set(p.id.replace(/"/g, ''), p.vector);
      } else { // a number a UUID was given meanwhile: refused whole, as it must be
        assert.equal(res.status, 400, res.text);
        assert.match(res.json.status.error, /taken by a UUID point/);
      }
    }
  }));
  assert.ok(acknowledged.size > 0);
  const count = await req('POST', '/collections/race/points/count', {});
  assert.equal(count.json.result.count, acknowledged.size);
  for (const [id, vector] of acknowledged) { // ids above 2^53 stay exact in the path
    const one = await req('POST', '/collections/race/points', `{"ids":[${/^\d+$/.test(id) ? id : `"${id}"`}],"with_vector":true}`);
    assert.deepEqual(one.json.result[0].vector, vector, `point ${id}`);
  }
});

test('lax JSON is refused: NUL, control characters, NaN, Infinity, 1e400, lone surrogates, NUL in keys', async () => {
  await collection('lax');
  const cases = [
    '{"limit":1}\u0000garbage',
    '{"points":[{"id":1,"vector":[1,2],"payload":{"s":"x\u0001y"}}]}',
    '{"points":[{"id":1,"vector":[NaN,2]}]}',
    '{"points":[{"id":1,"vector":[Infinity,2]}]}',
    '{"points":[{"id":1,"vector":[1,2],"payload":{"x":1e400}}]}',
    '{"points":[{"id":1,"vector":[1,2],"payload":{"a\\u0000secret":1}}]}',
    '{"points":[{"id":1,"vector":[1,2],"payload":{"s":"\\ud800"}}]}',
    "{'points':[]}",
  ];
  for (const body of cases) {
    const res = await req('PUT', '/collections/lax/points?wait=true', body);
    assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.text}`);
  }
  assert.equal((await req('POST', '/collections/lax/points/count', {})).json.result.count, 0);
  // what is valid passes exactly: the extreme integers, escapes, a surrogate pair
  const good = '{"points":[{"id":1,"vector":[1,2],"payload":{"u":18446744073709551615,"i":-9223372036854775808,"s":"\\ud83d\\ude00\\u0001"}}]}';
  assert.equal((await req('PUT', '/collections/lax/points?wait=true', good)).status, 200);
  const got = await req('GET', '/collections/lax/points/1');
  assert.match(got.text, /"u":18446744073709551615/);
  assert.match(got.text, /"i":-9223372036854775808/);
  assert.equal(got.json.result.payload.s, '\u{1F600}\u0001');
  // integers wider than 64 bits are read as doubles (as Qdrant reads them), never saturated
  const wide = '{"points":[{"id":2,"vector":[1,2],"payload":{"x":99999999999999999999,"y":-9223372036854775809}}]}';
  assert.equal((await req('PUT', '/collections/lax/points?wait=true', wide)).status, 200);
  const two = await req('POST', '/collections/lax/points', { ids: [2], with_vector: true });
  assert.equal(two.json.result[0].payload.x, 1e20);
  assert.equal(two.json.result[0].payload.y, -9223372036854775809);
});

test('payloads nested 40 deep keep working with selectors and key deletes', async () => {
  await collection('deep');
  let deep = 1;
  for (let i = 0; i < 40; i++) deep = [deep];
  assert.equal((await upsert('deep', [{ id: 1, vector: [1, 2], payload: { deep, b: 1 } }])).status, 200);
  const sel = await req('POST', '/collections/deep/points', { ids: [1], with_payload: ['b'] });
  assert.deepEqual(sel.json.result[0].payload, { b: 1 });
  const ex = await req('POST', '/collections/deep/points', { ids: [1], with_payload: { exclude: ['deep'] } });
  assert.deepEqual(ex.json.result[0].payload, { b: 1 });
  const del = await req('POST', '/collections/deep/points/payload/delete?wait=true', { keys: ['b'], points: [1] });
  assert.equal(del.status, 200, del.text);
  const after = await req('GET', '/collections/deep/points/1');
  assert.deepEqual(after.json.result.payload, { deep });
});

test('changing and dropping field index types leaves no index behind', async () => {
  await collection('idx');
  for (let round = 0; round < 70; round++) {
    for (const type of ['keyword', 'float', 'integer']) {
      const res = await req('PUT', '/collections/idx/index', { field_name: `f${round}`, field_schema: type });
      assert.equal(res.status, 200, `round ${round} ${type}: ${res.text}`);
    }
    const drop = await req('DELETE', `/collections/idx/index/f${round}`);
    assert.equal(drop.status, 200, drop.text);
  }
  const info = await req('GET', '/collections/idx');
  assert.deepEqual(info.json.result.payload_schema, {});
});

test('dotted keys: delete and select nested values; payload writes to a missing id are 404', async () => {
  await collection('dots');
  assert.equal((await upsert('dots', [{ id: 1, vector: [1, 2], payload: { a: 1, b: { c: 2, d: 3 } } }])).status, 200);
  const sel = await req('POST', '/collections/dots/points', { ids: [1], with_payload: ['b.c'] });
  assert.deepEqual(sel.json.result[0].payload, { b: { c: 2 } });
  const ex = await req('POST', '/collections/dots/points', { ids: [1], with_payload: { exclude: ['b.d'] } });
  assert.deepEqual(ex.json.result[0].payload, { a: 1, b: { c: 2 } });
  assert.equal((await req('POST', '/collections/dots/points/payload/delete?wait=true', { keys: ['b.c'], points: [1] })).status, 200);
  assert.deepEqual((await req('GET', '/collections/dots/points/1')).json.result.payload, { a: 1, b: { d: 3 } });
  for (const [method, route, body] of [
    ['POST', 'payload', { payload: { x: 1 }, points: [1, 99] }],
    ['PUT', 'payload', { payload: { x: 1 }, points: [99] }],
    ['POST', 'payload/delete', { keys: ['a'], points: [99] }],
    ['POST', 'payload/clear', { points: [99] }],
  ]) {
    const res = await req(method, `/collections/dots/points/${route}?wait=true`, body);
    assert.equal(res.status, 404, `${method} ${route}: ${res.text}`);
  }
  assert.deepEqual((await req('GET', '/collections/dots/points/1')).json.result.payload, { a: 1, b: { d: 3 } });
});

test('cosine vectors of tiny and huge norms are stored at unit length', async () => {
  await collection('tiny', 'Cosine', 3);
  const res = await upsert('tiny', [{ id: 1, vector: [1e-40, 0, 0] }, { id: 2, vector: [0, 3e19, 4e19] }]);
  assert.equal(res.status, 200, res.text);
  const pts = await scrollAll('tiny');
  assert.deepEqual(pts.map((p) => p.vector), [[1, 0, 0], [0, 0.6, 0.8].map(Math.fround).map((x) => Number(x.toPrecision(9)))]);
});

test('UUIDs braced and as URNs name the same point; "+5" is no id', async () => {
  await collection('forms');
  const uuid = '6ba7b810-9dad-11d1-80b4-00c04fd430c8';
  assert.equal((await upsert('forms', [{ id: `{${uuid.toUpperCase()}}`, vector: [1, 2], payload: { n: 1 } }])).status, 200);
  assert.equal((await upsert('forms', [{ id: `urn:uuid:${uuid}`, vector: [3, 4], payload: { n: 2 } }])).status, 200);
  const pts = await scrollAll('forms');
  assert.deepEqual(pts.map((p) => [p.id, p.payload]), [[uuid, { n: 2 }]]);
  assert.equal((await upsert('forms', [{ id: 5, vector: [1, 1] }])).status, 200);
  for (const path of ['+5', '%205', '5x']) {
    const res = await req('GET', `/collections/forms/points/${path}`);
    assert.equal(res.status, 400, `${path}: ${res.text}`);
  }
});

test('vectors read past json-c: payload and filter lists stay data, placeholders cannot be forged', async () => {
  await collection('lift', 'Euclid', 3);
  const payload = { vector: [1, 2, 3], vectors: [[4, 5]], query: [6], nested: { nearest: [7.5] } };
  assert.equal((await upsert('lift', [{ id: 1, vector: [1, 2, 3], payload }])).status, 200);
  const got = await req('POST', '/collections/lift/points', { ids: [1], with_payload: true, with_vector: true });
  assert.deepEqual(got.json.result[0].payload, payload);
  assert.deepEqual(got.json.result[0].vector, [1, 2, 3]);
  const filtered = await req('POST', '/collections/lift/points/search',
    { vector: [1, 2, 3], filter: { must: [{ key: 'vector', match: { any: [2, 9] } }] } });
  assert.deepEqual(filtered.json.result.map((p) => p.id), [1]);
  const batch = await req('PUT', '/collections/lift/points?wait=true',
    { batch: { ids: [2, 3], vectors: [[0, 0, 1], [0, 1e-3, 2]], payloads: [{ v: [1] }, null] } });
  assert.equal(batch.status, 200, batch.text);
  const two = await req('POST', '/collections/lift/points', { ids: [2, 3], with_payload: true, with_vector: true });
  assert.deepEqual(two.json.result.map((p) => [p.vector, p.payload]), [[[0, 0, 1], { v: [1] }], [[0, Math.fround(1e-3), 2].map((x) => Number(x.toPrecision(9))), {}]]);
  for (const forged of ['\u0001' + '0'.repeat(16) + ':0', '\u00010000000000000000:0']) {
    const res = await req('POST', '/collections/lift/points/search', { vector: forged });
    assert.equal(res.status, 400, res.text);
  }
  const mixed = await req('POST', '/collections/lift/points/search', { vector: [1, null, 3] });
  assert.equal(mixed.status, 400, mixed.text);
});

test('a batch of many new UUIDs, each given twice, makes one point per UUID, the later winning', async () => {
  await collection('manyuuid');
  const uuids = Array.from({ length: 3000 }, () => crypto.randomUUID());
  const points = [];
  for (const [round, tag] of [[0, 'first'], [1, 'later']])
    uuids.forEach((id, i) => points.push({ id: round ? id.toUpperCase() : id, vector: [i, round], payload: { tag } }));
  const res = await upsert('manyuuid', points);
  assert.equal(res.status, 200, res.text);
  assert.equal((await req('POST', '/collections/manyuuid/points/count', {})).json.result.count, uuids.length);
  const got = await req('POST', '/collections/manyuuid/points', { ids: uuids.slice(0, 50), with_vector: true });
  got.json.result.forEach((p, i) => {
    assert.equal(p.id, uuids[i]);
    assert.deepEqual(p.payload, { tag: 'later' });
    assert.deepEqual(p.vector, [i, 1]);
  });
});

test('a search with the largest limit answers every point, allocating for those only', async () => {
  await collection('hugelimit');
  assert.equal((await upsert('hugelimit', [1, 2, 3].map((id) => ({ id, vector: [id, 0] })))).status, 200);
  const res = await req('POST', '/collections/hugelimit/points/search', { vector: [0, 0], limit: 16777214 });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.json.result.map((p) => p.id), [1, 2, 3]);
  const none = await req('POST', '/collections/lax/points/search', { vector: [0, 0], limit: 5, offset: 100 });
  assert.equal(none.status, 200, none.text);
});

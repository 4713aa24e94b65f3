'use strict';
// Error answers over raw HTTP: each bad request gets its status and Qdrant's error envelope
// {"status":{"error":"…"},"time":…}, and is followed by a good request to show the server still
// serves and the bad one changed nothing.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startServer, http } = require('./server_util.js');

const C = 'errs';
const VEC = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8];
let server;
let req;

before(async () => {
  server = await startServer();
  req = (method, path, body, headers) => http(server.url, method, path, body, headers);
  const made = await req('PUT', `/collections/${C}`, { vectors: { size: 8, distance: 'Cosine' } });
  assert.equal(made.status, 200, made.text);
  const up = await req('PUT', `/collections/${C}/points?wait=true`, { points: THREE });
  assert.equal(up.status, 200, up.text);
});
after(async () => {
  if (server) await server.stop();
});

function assertError(res, status, label, mentions) {
  assert.equal(res.status, status, `${label}: expected ${status}, got ${res.status} ${res.text.slice(0, 500)}`);
  assert.ok(res.json && typeof res.json === 'object', `${label}: the body is no JSON object: ${res.text.slice(0, 500)}`);
  assert.ok(res.json.status && typeof res.json.status.error === 'string' && res.json.status.error.length > 0,
    `${label}: no status.error string: ${res.text.slice(0, 500)}`);
  assert.equal(typeof res.json.time, 'number', `${label}: no time: ${res.text.slice(0, 500)}`);
  assert.equal(res.json.result, undefined, `${label}: an error with a result`);
  assert.match(res.headers.get('content-type') || '', /application\/json/, `${label}: content-type`);
  if (mentions) assert.match(res.json.status.error, mentions, `${label}: the message should name it`);
}

const THREE = [1, 2, 3].map((id) => ({ id, vector: VEC.map((x) => x * id + id), payload: { k: id } }));

// The good request after each bad one: the collection is there, with its three points as they
// were. A change is a problem of the case, and is undone so that the next case starts clean.
async function stillServes(label) {
  const res = await req('POST', `/collections/${C}/points/scroll`, { limit: 100, with_payload: true });
  assert.equal(res.status, 200, `${label}: the server no longer serves: ${res.status} ${res.text}`);
  assert.equal(res.json.status, 'ok');
  assert.equal(typeof res.json.time, 'number');
  const now = res.json.result.points.map((p) => ({ id: p.id, payload: p.payload }));
  const want = THREE.map((p) => ({ id: p.id, payload: p.payload }));
  try {
    assert.deepEqual(now, want);
  } catch {
    problems.push(`${label}: the bad request changed the collection, now ${JSON.stringify(now)}`);
    await req('POST', `/collections/${C}/points/delete?wait=true`, { filter: { must_not: [{ has_id: [1, 2, 3] }] } });
    await req('PUT', `/collections/${C}/points?wait=true`, { points: THREE });
  }
}

// Each test checks all its cases and then fails with the list of those that went wrong.
let problems = [];
function check(name, fn) {
  test(name, async () => {
    problems = [];
    await fn();
    if (problems.length) assert.fail(`${problems.length} case(s) wrong:\n  ${problems.join('\n  ')}`);
  });
}

async function expectError(label, method, path, body, status, mentions) {
  const res = await req(method, path, body);
  try {
    assertError(res, status, `${label} (${method} ${path})`, mentions);
  } catch (err) {
    problems.push(err.message.split('\n')[0]);
  }
  await stillServes(label);
}

test('success envelope: result, status "ok", time', async () => {
  const res = await req('GET', `/collections/${C}`);
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.status, 'ok');
  assert.equal(typeof res.json.time, 'number');
  assert.equal(res.json.result.points_count, 3);
  assert.match(res.headers.get('content-type') || '', /application\/json/);
});

check('404: unknown collection, on every kind of route', async () => {
  const routes = [
    ['GET', '/collections/nope'],
    ['PUT', '/collections/nope/points', { points: [{ id: 1, vector: VEC }] }],
    ['POST', '/collections/nope/points', { ids: [1] }],
    ['GET', '/collections/nope/points/1'],
    ['POST', '/collections/nope/points/search', { vector: VEC, limit: 3 }],
    ['POST', '/collections/nope/points/search/batch', { searches: [{ vector: VEC, limit: 3 }] }],
    ['POST', '/collections/nope/points/query', { query: VEC }],
    ['POST', '/collections/nope/points/query/batch', { searches: [{ query: VEC }] }],
    ['POST', '/collections/nope/points/scroll', { limit: 3 }],
    ['POST', '/collections/nope/points/count', {}],
    ['POST', '/collections/nope/points/delete', { points: [1] }],
    ['POST', '/collections/nope/points/payload', { payload: { a: 1 }, points: [1] }],
    ['PUT', '/collections/nope/points/payload', { payload: { a: 1 }, points: [1] }],
    ['POST', '/collections/nope/points/payload/delete', { keys: ['a'], points: [1] }],
    ['POST', '/collections/nope/points/payload/clear', { points: [1] }],
    ['PUT', '/collections/nope/index', { field_name: 'a', field_schema: 'keyword' }],
  ];
  for (const [method, path, body] of routes) await expectError('unknown collection', method, path, body, 404);
  const exists = await req('GET', '/collections/nope/exists');
  assert.equal(exists.status, 200, exists.text);
  assert.deepEqual(exists.json.result, { exists: false });
});

check('404: unknown point (numeric and UUID); query by an unknown point id', async () => {
  await expectError('unknown point', 'GET', `/collections/${C}/points/4`, undefined, 404);
  await expectError('unknown UUID point', 'GET', `/collections/${C}/points/6f3b3a2e-1d7c-4e8a-9b0f-2a4c6e8d0b1f`, undefined, 404);
  await expectError('query by unknown id', 'POST', `/collections/${C}/points/query`, { query: 77 }, 404);
});

check('404: unknown route', async () => {
  for (const [method, path] of [['GET', '/nope'], ['GET', `/collections/${C}/nope`],
    ['POST', `/collections/${C}/points/search/nope`], ['GET', `/collections/${C}/points/1/nope`]]) {
    const res = await req(method, path, method === 'POST' ? {} : undefined);
    if (res.status !== 404) problems.push(`${method} ${path}: expected 404, got ${res.status} ${res.text.slice(0, 300)}`);
    await stillServes(`${method} ${path}`);
  }
});

check('409: creating a collection twice', async () => {
  await expectError('create twice', 'PUT', `/collections/${C}`, { vectors: { size: 8, distance: 'Cosine' } }, 409);
  await expectError('create twice, other parameters', 'PUT', `/collections/${C}`, { vectors: { size: 4, distance: 'Dot' } }, 409);
  const info = await req('GET', `/collections/${C}`);
  assert.equal(info.json.result.config.params.vectors.size, 8);
  assert.equal(info.json.result.config.params.vectors.distance, 'Cosine');
});

check('400: malformed JSON', async () => {
  const bodies = [
    ['cut short', '{"points": [{"id": 9, "vector": [1,2,3'],
    ['not JSON', 'hello'],
    ['trailing garbage', `{"points":[{"id":9,"vector":${JSON.stringify(VEC)}}]} xyz`],
    ['single-quoted strings', `{'points':[{'id':9,'vector':${JSON.stringify(VEC)}}]}`],
    ['a trailing comma in an array', `{"points":[{"id":9,"vector":${JSON.stringify(VEC).slice(0, -1)},]}]}`],
    ['a trailing comma in an object', `{"points":[{"id":9,"vector":${JSON.stringify(VEC)},}]}`],
    ['a comment', `{"points":/* note */[{"id":9,"vector":${JSON.stringify(VEC)}}]}`],
    ['two JSON values', `{"points":[{"id":9,"vector":${JSON.stringify(VEC)}}]}{"points":[]}`],
    ['empty body', ''],
  ];
  for (const [label, body] of bodies) {
    await expectError(`upsert, ${label}`, 'PUT', `/collections/${C}/points?wait=true`, body, 400);
    await expectError(`search, ${label}`, 'POST', `/collections/${C}/points/search`, body, 400);
  }
  const badUtf8 = Buffer.concat([Buffer.from(`{"points":[{"id":9,"vector":${JSON.stringify(VEC)},"payload":{"s":"`),
    Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}}]}')]);
  await expectError('invalid UTF-8 in a payload string', 'PUT', `/collections/${C}/points?wait=true`, badUtf8, 400);
  await expectError('create collection, malformed', 'PUT', '/collections/made_of_garbage', '{"vectors": {"size": 8,', 400);
  const gone = await req('GET', '/collections/made_of_garbage');
  assert.equal(gone.status, 404, gone.text);
});

check('400: JSON of the wrong shape', async () => {
  const p = `/collections/${C}/points?wait=true`;
  await expectError('body is an array', 'PUT', p, '[]', 400);
  await expectError('points is a number', 'PUT', p, { points: 5 }, 400);
  await expectError('neither points nor batch', 'PUT', p, { pts: [] }, 400);
  await expectError('point without a vector', 'PUT', p, { points: [{ id: 9 }] }, 400);
  await expectError('payload is a number', 'PUT', p, { points: [{ id: 9, vector: VEC, payload: 5 }] }, 400);
  await expectError('batch of mismatched lengths', 'PUT', p, { batch: { ids: [9, 10], vectors: [VEC] } }, 400);
  await expectError('search without a vector', 'POST', `/collections/${C}/points/search`, { limit: 3 }, 400);
  await expectError('search limit is a string', 'POST', `/collections/${C}/points/search`, { vector: VEC, limit: 'ten' }, 400);
  await expectError('search negative limit', 'POST', `/collections/${C}/points/search`, { vector: VEC, limit: -1 }, 400);
  await expectError('filter is a string', 'POST', `/collections/${C}/points/count`, { filter: 'all' }, 400);
  await expectError('must is a number', 'POST', `/collections/${C}/points/count`, { filter: { must: 5 } }, 400);
  await expectError('condition of no known kind', 'POST', `/collections/${C}/points/count`, { filter: { must: [{ key: 'k', frobnicate: 1 }] } }, 400);
  await expectError('index: unknown field_schema', 'PUT', `/collections/${C}/index`, { field_name: 'k', field_schema: 'hologram' }, 400);
});

check('400: bad point ids', async () => {
  const p = `/collections/${C}/points?wait=true`;
  for (const id of ['-1', '1.5', '"not-a-uuid"', '"5"', '""', 'true', 'null', '[1]', '18446744073709551616']) {
    await expectError(`id ${id}`, 'PUT', p, `{"points":[{"id":${id},"vector":${JSON.stringify(VEC)}}]}`, 400);
  }
  await expectError('retrieve with a bad id', 'POST', `/collections/${C}/points`, '{"ids":[-5]}', 400);
});

check('400: wrong dimension', async () => {
  await expectError('upsert 7 values', 'PUT', `/collections/${C}/points?wait=true`, { points: [{ id: 9, vector: VEC.slice(1) }] }, 400);
  await expectError('upsert 9 values', 'PUT', `/collections/${C}/points?wait=true`, { points: [{ id: 9, vector: [...VEC, 1] }] }, 400);
  await expectError('batch, one wrong', 'PUT', `/collections/${C}/points?wait=true`,
    { batch: { ids: [9, 10], vectors: [VEC, VEC.slice(2)] } }, 400);
  await expectError('list, one wrong of two', 'PUT', `/collections/${C}/points?wait=true`,
    { points: [{ id: 9, vector: VEC }, { id: 10, vector: [1] }] }, 400);
  await expectError('empty vector', 'PUT', `/collections/${C}/points?wait=true`, { points: [{ id: 9, vector: [] }] }, 400);
  await expectError('search 3 values', 'POST', `/collections/${C}/points/search`, { vector: [1, 2, 3], limit: 3 }, 400);
  await expectError('query 3 values', 'POST', `/collections/${C}/points/query`, { query: [1, 2, 3] }, 400);
});

check('400: NaN, infinities, strings and nulls in vectors', async () => {
  const bad = ['NaN', 'Infinity', '-Infinity', '1e999', '"0.5"', 'null', '[0.5]', '{}', 'true'];
  for (const x of bad) {
    const v = `[${x},0.2,0.3,0.4,0.5,0.6,0.7,0.8]`;
    await expectError(`upsert with ${x}`, 'PUT', `/collections/${C}/points?wait=true`, `{"points":[{"id":9,"vector":${v}}]}`, 400);
    await expectError(`search with ${x}`, 'POST', `/collections/${C}/points/search`, `{"vector":${v},"limit":3}`, 400);
  }
});

check('400: collection parameters', async () => {
  await expectError('unknown distance', 'PUT', '/collections/bad1', { vectors: { size: 8, distance: 'Bogus' } }, 400);
  await expectError('size 0', 'PUT', '/collections/bad2', { vectors: { size: 0, distance: 'Dot' } }, 400);
  await expectError('size negative', 'PUT', '/collections/bad3', { vectors: { size: -8, distance: 'Dot' } }, 400);
  await expectError('size a string', 'PUT', '/collections/bad4', { vectors: { size: 'eight', distance: 'Dot' } }, 400);
  await expectError('no vectors', 'PUT', '/collections/bad5', {}, 400);
  for (const name of ['bad1', 'bad2', 'bad3', 'bad4', 'bad5']) {
    const res = await req('GET', `/collections/${name}`);
    assert.equal(res.status, 404, `${name} was made: ${res.text}`);
  }
});

check('400: deep nesting', async () => {
  const deep = (n) => '['.repeat(n) + ']'.repeat(n);
  const deepObject = (n) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
  await expectError('10000 nested arrays as a vector', 'PUT', `/collections/${C}/points?wait=true`,
    `{"points":[{"id":9,"vector":${deep(10000)}}]}`, 400);
  await expectError('10000 nested arrays as the body', 'POST', `/collections/${C}/points/search`, deep(10000), 400);
  await expectError('10000 nested objects in a payload', 'PUT', `/collections/${C}/points?wait=true`,
    `{"points":[{"id":9,"vector":${JSON.stringify(VEC)},"payload":${deepObject(10000)}}]}`, 400);
  const nestedFilter = '{"must":['.repeat(5000) + ']}'.repeat(5000);
  await expectError('5000 nested filters', 'POST', `/collections/${C}/points/count`, `{"filter":${nestedFilter}}`, 400);
});

check('400: unsupported filter conditions name the condition', async () => {
  const cases = [
    ['full-text match', { key: 'k', match: { text: 'hello' } }, /text/],
    ['geo_radius', { key: 'loc', geo_radius: { center: { lon: 13.4, lat: 52.5 }, radius: 1000 } }, /geo_radius/],
    ['geo_bounding_box', { key: 'loc', geo_bounding_box: { top_left: { lon: 13, lat: 53 }, bottom_right: { lon: 14, lat: 52 } } }, /geo_bounding_box/],
    ['geo_polygon', { key: 'loc', geo_polygon: { exterior: { points: [{ lon: 13, lat: 52 }, { lon: 14, lat: 52 }, { lon: 14, lat: 53 }, { lon: 13, lat: 52 }] } } }, /geo_polygon/],
    ['datetime range', { key: 'when', range: { gt: '2023-02-08T10:49:00Z' } }, /datetime/i],
  ];
  for (const [label, cond, mentions] of cases) {
    await expectError(`${label}, count`, 'POST', `/collections/${C}/points/count`, { filter: { must: [cond] } }, 400, mentions);
    await expectError(`${label}, search`, 'POST', `/collections/${C}/points/search`, { vector: VEC, limit: 3, filter: { should: [cond] } }, 400, mentions);
    await expectError(`${label}, delete`, 'POST', `/collections/${C}/points/delete?wait=true`, { filter: { must_not: [cond] } }, 400, mentions);
  }
});

'use strict';
// vexfs-server driven by Qdrant's own JS client (@qdrant/js-client-rest 1.18): collections,
// both upsert forms, numeric and UUID ids, search/query (plain, filtered, offset, threshold,
// batch, by point id) against brute force computed here, scroll, retrieve, count, payload
// operations, payload indexes, deletes, overwrites and large ids.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { QdrantClient } = require('@qdrant/js-client-rest');
const { startServer, http, rng } = require('./server_util.js');

const DIM = 8;
const N_NUM = 120; // numeric ids 5, 12, 19, ... (7i + 5)
const N_UUID = 8;
const METRICS = ['Cosine', 'Euclid', 'Dot'];
const NAME = { Cosine: 'cos8', Euclid: 'euc8', Dot: 'dot8' };
const TOL = 1e-4;

// ---- data ---------------------------------------------------------------------------------

const TAGS = ['a', 'b', 'c', 'd'];
function payloadFor(i) {
  const p = {
    group: ['red', 'green', 'blue'][i % 3],
    name: `p${i}`,
    f: i * 0.25,
    flag: i % 2 === 0,
    tags: TAGS.filter((_, k) => (i >> k) & 1),
    nested: { i, even: i % 2 === 0 },
  };
  if (i % 7 !== 6) p.n = i; // missing on every 7th point
  switch (i % 5) { // opt: missing, null, [], a value, an array
    case 0: break;
    case 1: p.opt = null; break;
    case 2: p.opt = []; break;
    case 3: p.opt = 'x'; break;
    default: p.opt = ['y', 'z'];
  }
  return p;
}

function randomVector(r) {
  return Array.from({ length: DIM }, () => Math.fround(r() * 2 - 1));
}

function makePoints(seed, nNum = N_NUM, nUuid = N_UUID) {
  const r = rng(seed);
  const points = [];
  for (let i = 0; i < nNum + nUuid; i++) {
    const id = i < nNum ? 7 * i + 5 : crypto.randomUUID();
    points.push({ id, vector: randomVector(r), payload: payloadFor(i) });
  }
  return points;
}

function shuffled(list, seed) {
  const r = rng(seed);
  const out = list.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

// ---- brute force --------------------------------------------------------------------------

const dot = (a, b) => a.reduce((s, x, k) => s + x * b[k], 0);
const norm = (a) => Math.sqrt(dot(a, a));
const normalized = (a) => a.map((x) => x / norm(a));

function score(metric, q, v) {
  if (metric === 'Cosine') return dot(q, v) / (norm(q) * norm(v));
  if (metric === 'Dot') return dot(q, v);
  return Math.sqrt(q.reduce((s, x, k) => s + (x - v[k]) ** 2, 0));
}
const better = (metric) => (metric === 'Euclid' ? (a, b) => a - b : (a, b) => b - a);
const passes = (metric, s, threshold) => (metric === 'Euclid' ? s <= threshold : s >= threshold);

// The stored form of a vector: Cosine collections keep it normalized, as Qdrant does.
const stored = (metric, v) => (metric === 'Cosine' ? normalized(v) : v);

const key = (id) => String(id);

// The expected answer to a search: sorted by score, filtered, thresholded, offset and limited.
function bruteForce(metric, points, q, { filter = () => true, limit = 10, offset = 0, threshold,
  exclude } = {}) {
  let scored = points
    .filter((p) => filter(p) && key(p.id) !== key(exclude))
    .map((p) => ({ id: p.id, score: score(metric, q, p.vector) }))
    .sort((a, b) => better(metric)(a.score, b.score));
  if (threshold !== undefined) scored = scored.filter((s) => passes(metric, s.score, threshold));
  return scored.slice(offset, offset + limit);
}

const show = (list) => JSON.stringify(list.map((p) => [p.id, Number(p.score.toFixed(6))]));

// Compares a search answer to brute force. A rank holds the expected id, or (only where two
// points' exact scores are within TOL of each other) another point with that same score; every
// returned score must be the point's exact score, every point must pass the filter.
function assertRanking(actual, spec, points, label) {
  const { metric, q, filter = () => true, exclude } = spec;
  const expected = bruteForce(metric, points, q, spec);
  const msg = `${label}\n  expected ${show(expected)}\n  got      ${show(actual)}`;
  assert.ok(Array.isArray(actual), `${label}: not a list: ${JSON.stringify(actual)}`);
  assert.equal(actual.length, expected.length, msg);
  const byId = new Map(points.map((p) => [key(p.id), p]));
  const seen = new Set();
  actual.forEach((a, i) => {
    const p = byId.get(key(a.id));
    assert.ok(p, `${msg}\n  rank ${i}: id ${a.id} is no point of the collection`);
    assert.ok(!seen.has(key(a.id)), `${msg}\n  rank ${i}: id ${a.id} twice`);
    seen.add(key(a.id));
    assert.ok(filter(p) && key(a.id) !== key(exclude), `${msg}\n  rank ${i}: id ${a.id} fails the filter`);
    const exact = score(metric, q, p.vector);
    assert.ok(Math.abs(a.score - exact) < TOL, `${msg}\n  rank ${i}: id ${a.id} score ${a.score}, exact ${exact}`);
    assert.ok(Math.abs(a.score - expected[i].score) < TOL, `${msg}\n  rank ${i}: id ${a.id} is not the expected ${expected[i].id}`);
    if (spec.withPayload === true) assert.deepEqual(a.payload, p.payload, `${label}: payload of ${a.id}`);
    if (Array.isArray(spec.withPayload)) {
      const want = Object.fromEntries(spec.withPayload.filter((k) => k in p.payload).map((k) => [k, p.payload[k]]));
      assert.deepEqual(a.payload, want, `${label}: payload of ${a.id} with keys ${spec.withPayload}`);
    }
    if (spec.withPayload === false) assert.ok(a.payload == null, `${label}: payload given unasked: ${JSON.stringify(a.payload)}`);
    if (spec.withVector) assertVector(a.vector, stored(metric, p.vector), `${label}: vector of ${a.id}`);
    if (spec.withVector === false) assert.ok(a.vector == null, `${label}: vector given unasked`);
  });
}

function assertVector(actual, expected, label) {
  assert.ok(Array.isArray(actual) && actual.length === expected.length,
    `${label}: ${JSON.stringify(actual)}`);
  actual.forEach((x, k) => assert.ok(Math.abs(x - expected[k]) < 1e-5,
    `${label}: component ${k} is ${x}, expected ${expected[k]}`));
}

// A threshold halfway across the widest gap between ranks 3..8 of the unfiltered ranking, and
// how many points pass it.
function thresholdFor(metric, points, q) {
  const all = bruteForce(metric, points, q, { limit: points.length });
  let best = 3;
  for (let j = 4; j <= 8; j++) {
    if (Math.abs(all[j].score - all[j - 1].score) > Math.abs(all[best].score - all[best - 1].score)) best = j;
  }
  return { threshold: (all[best].score + all[best - 1].score) / 2, passing: best };
}

// The order scroll promises: numeric ids ascending, then UUIDs ascending.
function scrollOrder(ids) {
  const nums = ids.filter((id) => typeof id === 'number').sort((a, b) => a - b);
  const uuids = ids.filter((id) => typeof id === 'string').sort();
  return [...nums, ...uuids];
}

// ---- filters: the request and the same condition in JS ------------------------------------

const hasValue = (p, k) => k in p.payload && p.payload[k] !== null &&
  !(Array.isArray(p.payload[k]) && p.payload[k].length === 0);

function filterCases(points) {
  const someIds = [points[3].id, points[10].id, points[N_NUM].id, points[N_NUM + 2].id, 999999];
  const idSet = new Set(someIds.map(key));
  return [
    ['match keyword', { must: [{ key: 'group', match: { value: 'red' } }] },
      (p) => p.payload.group === 'red'],
    ['match integer', { must: [{ key: 'n', match: { value: 42 } }] }, (p) => p.payload.n === 42],
    ['match bool', { must: [{ key: 'flag', match: { value: false } }] },
      (p) => p.payload.flag === false],
    ['match a value in an array', { must: [{ key: 'tags', match: { value: 'c' } }] },
      (p) => p.payload.tags.includes('c')],
    ['match any keyword', { must: [{ key: 'group', match: { any: ['red', 'blue'] } }] },
      (p) => ['red', 'blue'].includes(p.payload.group)],
    ['match any integer', { must: [{ key: 'n', match: { any: [1, 2, 3, 50, 1000] } }] },
      (p) => [1, 2, 3, 50, 1000].includes(p.payload.n)],
    ['match except', { must: [{ key: 'group', match: { except: ['red', 'green'] } }] },
      (p) => p.payload.group === 'blue'],
    ['range gte/lt on floats', { must: [{ key: 'f', range: { gte: 5, lt: 12.5 } }] },
      (p) => p.payload.f >= 5 && p.payload.f < 12.5],
    ['range gt/lte skips points without the key', { must: [{ key: 'n', range: { gt: 10, lte: 40 } }] },
      (p) => typeof p.payload.n === 'number' && p.payload.n > 10 && p.payload.n <= 40],
    ['must_not range keeps points without the key', { must_not: [{ key: 'n', range: { gte: 20 } }] },
      (p) => !(typeof p.payload.n === 'number' && p.payload.n >= 20)],
    ['range matching nothing', { must: [{ key: 'f', range: { gt: 1e9 } }] }, () => false],
    ['is_empty (missing, null, [])', { must: [{ is_empty: { key: 'opt' } }] }, (p) => !hasValue(p, 'opt')],
    ['must_not is_empty', { must_not: [{ is_empty: { key: 'opt' } }] }, (p) => hasValue(p, 'opt')],
    ['is_null', { must: [{ is_null: { key: 'opt' } }] }, (p) => p.payload.opt === null],
    ['has_id (numeric, UUID, absent)', { must: [{ has_id: someIds }] }, (p) => idSet.has(key(p.id))],
    ['must_not has_id', { must_not: [{ has_id: someIds }] }, (p) => !idSet.has(key(p.id))],
    ['values_count', { must: [{ key: 'tags', values_count: { gte: 2, lt: 4 } }] },
      (p) => p.payload.tags.length >= 2 && p.payload.tags.length < 4],
    ['should', { should: [{ key: 'group', match: { value: 'red' } }, { key: 'flag', match: { value: true } }] },
      (p) => p.payload.group === 'red' || p.payload.flag],
    ['must + should + must_not', {
      must: [{ key: 'f', range: { lt: 25 } }],
      should: [{ key: 'tags', match: { value: 'a' } }, { key: 'tags', match: { value: 'd' } }],
      must_not: [{ key: 'group', match: { value: 'green' } }],
    }, (p) => p.payload.f < 25 && (p.payload.tags.includes('a') || p.payload.tags.includes('d')) &&
      p.payload.group !== 'green'],
    ['nested filters', {
      must: [
        { should: [{ key: 'group', match: { value: 'blue' } }, { key: 'n', range: { lt: 10 } }] },
        { must_not: [{ key: 'flag', match: { value: true } }, { is_null: { key: 'opt' } }] },
      ],
    }, (p) => (p.payload.group === 'blue' || (typeof p.payload.n === 'number' && p.payload.n < 10)) &&
      !(p.payload.flag === true || p.payload.opt === null)],
    ['must as a single condition, not a list', { must: { key: 'group', match: { value: 'green' } } },
      (p) => p.payload.group === 'green'],
    ['empty filter', {}, () => true],
  ];
}

// ---- the tests ----------------------------------------------------------------------------

let server;
let client;
const data = {}; // metric -> points
const queries = {}; // metric -> query vectors
before(async () => {
  server = await startServer();
  client = new QdrantClient({ url: server.url, checkCompatibility: false });
  METRICS.forEach((m, k) => {
    data[m] = makePoints(100 + k);
    const r = rng(200 + k);
    queries[m] = Array.from({ length: 6 }, () => randomVector(r));
  });
});
after(async () => {
  if (server) await server.stop();
});

describe('server information', () => {
  test('versionInfo() (GET /): a title and a version the client\'s compatibility check accepts', async () => {
    const info = await client.versionInfo();
    assert.equal(typeof info.title, 'string');
    assert.match(info.version, /^\d+\.\d+\.\d+/);
    const warnings = [];
    const warn = console.warn;
    console.warn = (...args) => warnings.push(args.join(' '));
    try {
      const checking = new QdrantClient({ url: server.url, checkCompatibility: true });
      await checking.versionInfo(); // answered after the check's own request to GET /
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      console.warn = warn;
    }
    assert.deepEqual(warnings, [], `server version ${info.version}`);
  });

  test('healthz, livez and readyz answer 200', async () => {
    for (const path of ['/healthz', '/livez', '/readyz']) {
      const res = await http(server.url, 'GET', path);
      assert.equal(res.status, 200, `${path}: ${res.text}`);
    }
  });
});

describe('collections', () => {
  test('createCollection: Cosine, Euclid and Dot, 8 dimensions', async () => {
    for (const m of METRICS) {
      assert.equal(await client.createCollection(NAME[m], { vectors: { size: DIM, distance: m } }), true);
    }
  });

  test('collectionExists', async () => {
    for (const m of METRICS) assert.deepEqual(await client.collectionExists(NAME[m]), { exists: true });
    assert.deepEqual(await client.collectionExists('no_such_collection'), { exists: false });
  });

  test('getCollections lists exactly the collections made', async () => {
    const { collections } = await client.getCollections();
    assert.deepEqual(collections.map((c) => c.name).sort(), Object.values(NAME).sort());
  });

  test('getCollection of an empty collection', async () => {
    for (const m of METRICS) {
      const info = await client.getCollection(NAME[m]);
      assert.equal(info.points_count, 0);
      assert.equal(info.config.params.vectors.size, DIM);
      assert.equal(info.config.params.vectors.distance, m);
    }
  });
});

describe('upsert', () => {
  test('list form and batch form, numeric and UUID ids, with payloads', async () => {
    for (const m of METRICS) {
      const order = shuffled(data[m], 7); // not in id order
      const half = order.length >> 1;
      for (let i = 0; i < half; i += 25) {
        const res = await client.upsert(NAME[m], { wait: true, points: order.slice(i, Math.min(i + 25, half)) });
        assert.equal(res.status, 'completed');
      }
      for (let i = half; i < order.length; i += 25) {
        const chunk = order.slice(i, i + 25);
        const res = await client.upsert(NAME[m], {
          wait: true,
          batch: { ids: chunk.map((p) => p.id), vectors: chunk.map((p) => p.vector),
            payloads: chunk.map((p) => p.payload) },
        });
        assert.equal(res.status, 'completed');
      }
    }
  });

  test('getCollection counts the points', async () => {
    for (const m of METRICS) {
      const info = await client.getCollection(NAME[m]);
      assert.equal(info.points_count, N_NUM + N_UUID);
      assert.equal(info.config.params.vectors.size, DIM);
      assert.equal(info.config.params.vectors.distance, m);
    }
  });

  test('retrieve gives every point its payload and vector (Cosine: normalized)', async () => {
    for (const m of METRICS) {
      const ids = data[m].map((p) => p.id);
      const got = await client.retrieve(NAME[m], { ids, with_payload: true, with_vector: true });
      assert.equal(got.length, ids.length);
      const byId = new Map(got.map((p) => [key(p.id), p]));
      for (const p of data[m]) {
        const g = byId.get(key(p.id));
        assert.ok(g, `${m}: point ${p.id} not retrieved`);
        assert.deepEqual(g.payload, p.payload, `${m}: payload of ${p.id}`);
        assertVector(g.vector, stored(m, p.vector), `${m}: vector of ${p.id}`);
      }
    }
  });

  test('retrieve: only the ids asked for, absent ones left out; with_payload and with_vector off', async () => {
    const points = data.Euclid;
    const ask = [points[0], points[50], points[N_NUM + 1]];
    const got = await client.retrieve(NAME.Euclid, { ids: [...ask.map((p) => p.id), 4, 999999],
      with_payload: false, with_vector: false });
    assert.deepEqual(got.map((p) => key(p.id)).sort(), ask.map((p) => key(p.id)).sort());
    for (const g of got) {
      assert.ok(g.payload == null, `payload given unasked: ${JSON.stringify(g.payload)}`);
      assert.ok(g.vector == null, 'vector given unasked');
    }
  });

  test('GET /collections/{c}/points/{id}, numeric and UUID', async () => {
    for (const p of [data.Dot[7], data.Dot[N_NUM + 3]]) {
      const res = await http(server.url, 'GET', `/collections/${NAME.Dot}/points/${p.id}`);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.json.status, 'ok');
      assert.equal(typeof res.json.time, 'number');
      assert.equal(key(res.json.result.id), key(p.id));
      assert.deepEqual(res.json.result.payload, p.payload);
    }
  });
});

describe('search and query against brute force', () => {
  for (const m of METRICS) {
    const spec = (extra) => ({ metric: m, ...extra });

    test(`${m}: search, plain`, async () => {
      for (const q of queries[m]) {
        const got = await client.search(NAME[m], { vector: q, limit: 10 });
        assertRanking(got, spec({ q, limit: 10, withPayload: true, withVector: false }), data[m], `${m} search`);
      }
    });

    test(`${m}: search with filters`, async () => {
      const cases = filterCases(data[m]);
      for (const [name, filter, pred] of cases.filter((c) => ['match keyword', 'range gte/lt on floats',
        'must + should + must_not', 'has_id (numeric, UUID, absent)', 'is_empty (missing, null, [])',
        'nested filters'].includes(c[0]))) {
        const q = queries[m][0];
        const got = await client.search(NAME[m], { vector: q, limit: 8, filter });
        assertRanking(got, spec({ q, limit: 8, filter: pred, withPayload: true }), data[m], `${m} search, filter ${name}`);
      }
    });

    test(`${m}: search with offset`, async () => {
      const q = queries[m][1];
      const got = await client.search(NAME[m], { vector: q, limit: 5, offset: 5 });
      assertRanking(got, spec({ q, limit: 5, offset: 5 }), data[m], `${m} search offset 5 limit 5`);
      const far = await client.search(NAME[m], { vector: q, limit: 10, offset: data[m].length - 3 });
      assertRanking(far, spec({ q, limit: 10, offset: data[m].length - 3 }), data[m], `${m} search offset past the end`);
    });

    test(`${m}: search with score_threshold`, async () => {
      const q = queries[m][2];
      const { threshold, passing } = thresholdFor(m, data[m], q);
      const got = await client.search(NAME[m], { vector: q, limit: 20, score_threshold: threshold });
      assert.equal(got.length, passing, `threshold ${threshold}: ${show(got)}`);
      assertRanking(got, spec({ q, limit: 20, threshold }), data[m], `${m} search score_threshold ${threshold}`);
    });

    test(`${m}: search with with_payload keys and with_vector`, async () => {
      const q = queries[m][3];
      const got = await client.search(NAME[m], { vector: q, limit: 4, with_payload: ['group', 'n'], with_vector: true });
      assertRanking(got, spec({ q, limit: 4, withPayload: ['group', 'n'], withVector: true }), data[m], `${m} search keys`);
      const none = await client.search(NAME[m], { vector: q, limit: 4, with_payload: false });
      assertRanking(none, spec({ q, limit: 4, withPayload: false }), data[m], `${m} search without payload`);
    });

    test(`${m}: searchBatch`, async () => {
      const f = filterCases(data[m]).find((c) => c[0] === 'should');
      const searches = [
        { vector: queries[m][0], limit: 5 },
        { vector: queries[m][4], limit: 7, filter: f[1], with_payload: true },
        { vector: queries[m][5], limit: 3, offset: 2 },
      ];
      const got = await client.searchBatch(NAME[m], { searches });
      assert.equal(got.length, 3);
      assertRanking(got[0], spec({ q: queries[m][0], limit: 5 }), data[m], `${m} searchBatch[0]`);
      assertRanking(got[1], spec({ q: queries[m][4], limit: 7, filter: f[2], withPayload: true }), data[m], `${m} searchBatch[1]`);
      assertRanking(got[2], spec({ q: queries[m][5], limit: 3, offset: 2 }), data[m], `${m} searchBatch[2]`);
    });

    test(`${m}: query by vector, with and without filter`, async () => {
      const q = queries[m][4];
      const plain = await client.query(NAME[m], { query: q, limit: 10, with_payload: true });
      assertRanking(plain.points, spec({ q, limit: 10, withPayload: true }), data[m], `${m} query`);
      const defaultLimit = await client.query(NAME[m], { query: q });
      assertRanking(defaultLimit.points, spec({ q, limit: 10 }), data[m], `${m} query, default limit 10`);
      for (const [name, filter, pred] of filterCases(data[m]).filter((c) => ['match any keyword',
        'values_count', 'must_not range keeps points without the key', 'is_null'].includes(c[0]))) {
        const got = await client.query(NAME[m], { query: q, limit: 6, filter, with_payload: true });
        assertRanking(got.points, spec({ q, limit: 6, filter: pred, withPayload: true }), data[m], `${m} query, filter ${name}`);
      }
    });

    test(`${m}: query with offset, score_threshold, with_vector, with_payload keys`, async () => {
      const q = queries[m][5];
      const got = await client.query(NAME[m], { query: q, limit: 4, offset: 3, with_vector: true });
      assertRanking(got.points, spec({ q, limit: 4, offset: 3, withVector: true }), data[m], `${m} query offset`);
      const keys = await client.query(NAME[m], { query: q, limit: 4, with_payload: ['name', 'opt', 'nested'] });
      assertRanking(keys.points, spec({ q, limit: 4, withPayload: ['name', 'opt', 'nested'] }), data[m], `${m} query payload keys`);
      const { threshold, passing } = thresholdFor(m, data[m], q);
      const thr = await client.query(NAME[m], { query: q, limit: 50, score_threshold: threshold });
      assert.equal(thr.points.length, passing, `threshold ${threshold}: ${show(thr.points)}`);
      assertRanking(thr.points, spec({ q, limit: 50, threshold }), data[m], `${m} query score_threshold`);
    });

    test(`${m}: query by point id (numeric and UUID) leaves that point out`, async () => {
      for (const p of [data[m][17], data[m][N_NUM + 5]]) {
        const got = await client.query(NAME[m], { query: p.id, limit: 6, with_payload: true });
        assertRanking(got.points, spec({ q: p.vector, limit: 6, exclude: p.id, withPayload: true }), data[m],
          `${m} query by id ${p.id}`);
      }
      const p = data[m][40];
      const f = filterCases(data[m]).find((c) => c[0] === 'match bool');
      const got = await client.query(NAME[m], { query: p.id, limit: 5, filter: f[1] });
      assertRanking(got.points, spec({ q: p.vector, limit: 5, exclude: p.id, filter: f[2] }), data[m],
        `${m} query by id ${p.id} with filter`);
    });

    test(`${m}: queryBatch`, async () => {
      const f = filterCases(data[m]).find((c) => c[0] === 'range gte/lt on floats');
      const byId = data[m][N_NUM + 1];
      const searches = [
        { query: queries[m][1], limit: 4 },
        { query: byId.id, limit: 3 },
        { query: queries[m][2], limit: 5, filter: f[1], with_payload: true },
      ];
      const got = await client.queryBatch(NAME[m], { searches });
      assert.equal(got.length, 3);
      assertRanking(got[0].points, spec({ q: queries[m][1], limit: 4 }), data[m], `${m} queryBatch[0]`);
      assertRanking(got[1].points, spec({ q: byId.vector, limit: 3, exclude: byId.id }), data[m], `${m} queryBatch[1]`);
      assertRanking(got[2].points, spec({ q: queries[m][2], limit: 5, filter: f[2], withPayload: true }), data[m],
        `${m} queryBatch[2]`);
    });
  }
});

describe('scroll, count and filters', () => {
  const m = 'Cosine';

  // Pages through a scroll, checking that each next_page_offset is the first id of the next
  // page; returns the ids in the order seen and the number of pages.
  async function scrollPages(name, request, pageLimit) {
    const seen = [];
    let offset;
    let expectFirst;
    for (let pages = 1; ; pages++) {
      assert.ok(pages <= 100, 'more than 100 pages');
      const page = await client.scroll(name, { ...request, limit: pageLimit, offset });
      assert.ok(page.points.length <= pageLimit, `a page of ${page.points.length}`);
      if (expectFirst !== undefined) {
        assert.ok(page.points.length > 0, 'an empty page after a next_page_offset');
        assert.equal(key(page.points[0].id), key(expectFirst), 'next_page_offset is the first id of the next page');
      }
      seen.push(...page.points);
      if (page.next_page_offset == null) return { seen, pages };
      assert.equal(page.points.length, pageLimit, 'a short page that has a next page');
      offset = expectFirst = page.next_page_offset;
    }
  }

  test('scroll with a small limit following next_page_offset visits every point exactly once', async () => {
    const points = data[m];
    const byId = new Map(points.map((p) => [key(p.id), p]));
    const { seen, pages } = await scrollPages(NAME[m], { with_payload: true, with_vector: false }, 7);
    const ids = seen.map((p) => key(p.id));
    assert.equal(new Set(ids).size, ids.length, `an id seen twice: ${ids}`);
    assert.deepEqual([...ids].sort(), points.map((p) => key(p.id)).sort());
    for (const p of seen) {
      assert.deepEqual(p.payload, byId.get(key(p.id)).payload, `payload of ${p.id}`);
      assert.ok(p.vector == null, 'vector given unasked');
    }
    assert.equal(pages, Math.ceil(points.length / 7));
  });

  test('scroll order: numeric ids ascending, then UUIDs ascending', async () => {
    const want = scrollOrder(data[m].map((p) => p.id)).map(key);
    const whole = await client.scroll(NAME[m], { limit: 1000, with_payload: false });
    assert.deepEqual(whole.points.map((p) => key(p.id)), want, 'one page');
    const { seen } = await scrollPages(NAME[m], { with_payload: false }, 7);
    assert.deepEqual(seen.map((p) => key(p.id)), want, 'pages of 7');
  });

  test('scroll with_vector and a limit larger than the collection', async () => {
    const page = await client.scroll(NAME[m], { limit: 1000, with_payload: false, with_vector: true });
    assert.deepEqual(page.points.map((p) => key(p.id)).sort(), data[m].map((p) => key(p.id)).sort());
    assert.ok(page.next_page_offset == null);
    const byId = new Map(data[m].map((p) => [key(p.id), p]));
    for (const p of page.points) {
      assertVector(p.vector, stored(m, byId.get(key(p.id)).vector), `vector of ${p.id}`);
      assert.ok(p.payload == null);
    }
  });

  async function checkFilters(label) {
    for (const [name, filter, pred] of filterCases(data[m])) {
      const want = scrollOrder(data[m].filter(pred).map((p) => p.id)).map(key);
      const { count } = await client.count(NAME[m], { filter, exact: true });
      assert.equal(count, want.length, `${label}count, filter ${name}: ${JSON.stringify(filter)}`);
      const page = await client.scroll(NAME[m], { filter, limit: 1000, with_payload: false });
      assert.deepEqual(page.points.map((p) => key(p.id)).sort(), [...want].sort(),
        `${label}scroll, filter ${name}: ${JSON.stringify(filter)}`);
    }
  }

  test('count and scroll with every kind of filter give the exact sets', async () => {
    await checkFilters('');
  });

  test('count without a filter', async () => {
    assert.deepEqual(await client.count(NAME[m], { exact: true }), { count: N_NUM + N_UUID });
  });

  test('scroll with a filter, page by page', async () => {
    const [, filter, pred] = filterCases(data[m]).find((c) => c[0] === 'should');
    const want = data[m].filter(pred).map((p) => key(p.id)).sort();
    const { seen } = await scrollPages(NAME[m], { filter }, 9);
    const ids = seen.map((p) => key(p.id));
    assert.equal(new Set(ids).size, ids.length, `an id seen twice: ${ids}`);
    assert.deepEqual(ids.sort(), want);
  });

  test('createPayloadIndex: payload_schema lists them, filters answer the same', async () => {
    const fields = { group: 'keyword', n: 'integer', f: 'float', flag: 'bool' };
    for (const [field_name, field_schema] of Object.entries(fields)) {
      const res = await client.createPayloadIndex(NAME[m], { field_name, field_schema, wait: true });
      assert.equal(res.status, 'completed');
    }
    const info = await client.getCollection(NAME[m]);
    for (const [field, type] of Object.entries(fields)) {
      assert.ok(info.payload_schema && info.payload_schema[field], `payload_schema: ${JSON.stringify(info.payload_schema)}`);
      assert.equal(info.payload_schema[field].data_type, type);
      assert.equal(info.payload_schema[field].points, data[m].filter((p) => field in p.payload).length,
        `payload_schema.${field}.points`);
    }
    assert.deepEqual(Object.keys(info.payload_schema).sort(), Object.keys(fields).sort());
    await checkFilters('with indexes: ');
  });

  test('deletePayloadIndex', async () => {
    const res = await client.deletePayloadIndex(NAME[m], 'n', { wait: true });
    assert.equal(res.status, 'completed');
    const info = await client.getCollection(NAME[m]);
    assert.deepEqual(Object.keys(info.payload_schema).sort(), ['f', 'flag', 'group']);
    await checkFilters('after deleting the index on n: ');
  });
});

describe('payload updates, overwrites and deletes', () => {
  const name = 'mut';
  const m = 'Dot';
  let points; // the model: what the collection should hold
  const model = new Map();

  async function assertModel(label) {
    const page = await client.scroll(name, { limit: 1000, with_payload: true, with_vector: true });
    const want = [...model.values()].map((p) => key(p.id)).sort();
    assert.deepEqual(page.points.map((p) => key(p.id)).sort(), want, `${label}: ids`);
    for (const p of page.points) {
      const w = model.get(key(p.id));
      assert.deepEqual(p.payload, w.payload, `${label}: payload of ${p.id}`);
      assertVector(p.vector, w.vector, `${label}: vector of ${p.id}`);
    }
    const { count } = await client.count(name, { exact: true });
    assert.equal(count, model.size, `${label}: count`);
    assert.equal((await client.getCollection(name)).points_count, model.size, `${label}: points_count`);
  }

  before(async () => {
    points = makePoints(300, 40, 3);
    for (const p of points) model.set(key(p.id), structuredClone(p));
  });

  test('set up: a Dot collection of 43 points', async () => {
    assert.equal(await client.createCollection(name, { vectors: { size: DIM, distance: m } }), true);
    await client.upsert(name, { wait: true, points });
    await assertModel('after upsert');
  });

  test('setPayload merges keys, by ids and by filter', async () => {
    const ids = [points[1].id, points[2].id, points[40].id];
    let res = await client.setPayload(name, { payload: { color: 'pink', n: 999 }, points: ids, wait: true });
    assert.equal(res.status, 'completed');
    for (const id of ids) Object.assign(model.get(key(id)).payload, { color: 'pink', n: 999 });
    res = await client.setPayload(name, { payload: { tagged: true },
      filter: { must: [{ key: 'group', match: { value: 'red' } }] }, wait: true });
    assert.equal(res.status, 'completed');
    for (const p of model.values()) if (p.payload.group === 'red') p.payload.tagged = true;
    await assertModel('after setPayload');
  });

  test('overwritePayload replaces the whole payload', async () => {
    const id = points[3].id;
    await client.overwritePayload(name, { payload: { only: 1, list: [1, 'two', null, { x: 3.5 }] }, points: [id], wait: true });
    model.get(key(id)).payload = { only: 1, list: [1, 'two', null, { x: 3.5 }] };
    const [got] = await client.retrieve(name, { ids: [id] });
    assert.deepEqual(got.payload, { only: 1, list: [1, 'two', null, { x: 3.5 }] });
    await assertModel('after overwritePayload');
  });

  test('deletePayload removes keys, by ids and by filter', async () => {
    const ids = [points[4].id, points[5].id, points[41].id];
    await client.deletePayload(name, { keys: ['group', 'n', 'no_such_key'], points: ids, wait: true });
    for (const id of ids) {
      delete model.get(key(id)).payload.group;
      delete model.get(key(id)).payload.n;
    }
    await client.deletePayload(name, { keys: ['flag'], filter: { must: [{ has_id: [points[6].id, points[7].id] }] }, wait: true });
    delete model.get(key(points[6].id)).payload.flag;
    delete model.get(key(points[7].id)).payload.flag;
    const got = await client.retrieve(name, { ids: [points[4].id] });
    assert.equal('group' in got[0].payload, false);
    assert.equal('n' in got[0].payload, false);
    await assertModel('after deletePayload');
  });

  test('clearPayload empties the payload', async () => {
    const ids = [points[8].id, points[42].id];
    await client.clearPayload(name, { points: ids, wait: true });
    for (const id of ids) model.get(key(id)).payload = {};
    const got = await client.retrieve(name, { ids });
    for (const g of got) assert.deepEqual(g.payload, {});
    await assertModel('after clearPayload');
  });

  test('upsert of an existing id overwrites its vector and payload', async () => {
    const id = points[9].id;
    const vector = [1, 2, 3, 4, -4, -3, -2, -1];
    await client.upsert(name, { wait: true, points: [{ id, vector, payload: { fresh: true } }] });
    model.set(key(id), { id, vector, payload: { fresh: true } });
    const [got] = await client.retrieve(name, { ids: [id], with_vector: true });
    assert.deepEqual(got.payload, { fresh: true });
    assertVector(got.vector, vector, 'overwritten vector');
    const top = await client.search(name, { vector, limit: 1 });
    assert.equal(key(top[0].id), key(id));
    assert.ok(Math.abs(top[0].score - dot(vector, vector)) < TOL, `score ${top[0].score}`);
    await assertModel('after the overwrite');
  });

  test('delete by ids (absent ones are no error)', async () => {
    const ids = [points[10].id, points[11].id, 999999, crypto.randomUUID()];
    const res = await client.delete(name, { points: ids, wait: true });
    assert.equal(res.status, 'completed');
    model.delete(key(points[10].id));
    model.delete(key(points[11].id));
    assert.deepEqual(await client.retrieve(name, { ids: [points[10].id] }), []);
    const one = await http(server.url, 'GET', `/collections/${name}/points/${points[10].id}`);
    assert.equal(one.status, 404, one.text);
    await assertModel('after delete by ids');
  });

  test('delete by filter', async () => {
    const filter = { must: [{ key: 'group', match: { value: 'blue' } }], must_not: [{ key: 'f', range: { gt: 6 } }] };
    const res = await client.delete(name, { filter, wait: true });
    assert.equal(res.status, 'completed');
    for (const [k, p] of [...model]) if (p.payload.group === 'blue' && !(p.payload.f > 6)) model.delete(k);
    assert.equal((await client.count(name, { filter, exact: true })).count, 0);
    await assertModel('after delete by filter');
  });

  test('search on the changed collection matches brute force', async () => {
    const q = queries.Dot[0];
    const now = [...model.values()];
    const got = await client.search(name, { vector: q, limit: 10 });
    assertRanking(got, { metric: m, q, limit: 10, withPayload: true }, now, 'search after changes');
  });

  test('deleteCollection', async () => {
    assert.equal(await client.deleteCollection(name), true);
    assert.deepEqual(await client.collectionExists(name), { exists: false });
    const { collections } = await client.getCollections();
    assert.equal(collections.some((c) => c.name === name), false);
    const res = await http(server.url, 'POST', `/collections/${name}/points/count`, {});
    assert.equal(res.status, 404, res.text);
  });
});

describe('payload values', () => {
  const name = 'values';

  test('strings (unicode, escapes, NUL), 64-bit integers and floats come back exactly', async () => {
    await client.createCollection(name, { vectors: { size: 2, distance: 'Dot' } });
    const payload = {
      unicode: 'é ü 漢字 🙂 \u2028',
      escapes: 'quote " backslash \\ slash / tab \t newline \n cr \r bell \u0007',
      nul: 'a\u0000b',
      'key with spaces and ü': 1,
      '': 'empty key',
      ints: [0, -1, 2147483648, -2147483649, 9007199254740991, -9007199254740991],
      floats: [0.1, -2.5e-8, 1.7976931348623157e308, 5e-324, 123456.789],
      deep: { a: [{ b: [null, true, false, { c: [] }] }, {}] },
    };
    await client.upsert(name, { wait: true, points: [{ id: 1, vector: [1, 2], payload }] });
    const [got] = await client.retrieve(name, { ids: [1] });
    assert.deepEqual(got.payload, payload);
    const res = await http(server.url, 'GET', `/collections/${name}/points/1`);
    assert.deepEqual(res.json.result.payload, payload);
  });

  test('integers beyond 2^53 in a payload keep every digit (raw JSON)', async () => {
    const body = '{"points":[{"id":2,"vector":[1,2],"payload":{"big":9223372036854775807,"neg":-9223372036854775808,"odd":9007199254740993}}]}';
    const up = await http(server.url, 'PUT', `/collections/${name}/points?wait=true`, body);
    assert.equal(up.status, 200, up.text);
    const res = await http(server.url, 'GET', `/collections/${name}/points/2`);
    assert.match(res.text, /"big"\s*:\s*9223372036854775807[,}\s]/, res.text);
    assert.match(res.text, /"neg"\s*:\s*-9223372036854775808[,}\s]/, res.text);
    assert.match(res.text, /"odd"\s*:\s*9007199254740993[,}\s]/, res.text);
  });

  test('batch upsert without payloads: empty payloads', async () => {
    await client.upsert(name, { wait: true, batch: { ids: [3, 4], vectors: [[1, 0], [0, 1]] } });
    const got = await client.retrieve(name, { ids: [3, 4] });
    assert.equal(got.length, 2);
    for (const g of got) assert.deepEqual(g.payload, {});
  });
});

describe('concurrent clients', () => {
  const name = 'conc';

  test('8 writers and 4 readers at once: the end state is exact', async () => {
    await client.createCollection(name, { vectors: { size: DIM, distance: 'Euclid' } });
    const r = rng(77);
    const points = Array.from({ length: 8 * 150 }, (_, i) => ({ id: i + 1, vector: randomVector(r), payload: { w: i % 8, i } }));
    const writers = Array.from({ length: 8 }, async (_, w) => {
      const mine = points.filter((p) => p.payload.w === w);
      for (let i = 0; i < mine.length; i += 15) {
        const res = await client.upsert(name, { wait: true, points: mine.slice(i, i + 15) });
        assert.equal(res.status, 'completed');
      }
    });
    let stop = false;
    const readers = Array.from({ length: 4 }, async (_, k) => {
      let n = 0;
      while (!stop && n < 500) {
        n++;
        const q = queries.Euclid[k];
        const got = await client.search(name, { vector: q, limit: 5 });
        assert.ok(got.length <= 5);
        const { count } = await client.count(name, { exact: true });
        assert.ok(count >= 0 && count <= points.length);
      }
    });
    await Promise.all(writers);
    stop = true;
    await Promise.all(readers);
    assert.equal((await client.count(name, { exact: true })).count, points.length);
    const got = await client.retrieve(name, { ids: points.map((p) => p.id), with_vector: true });
    const byId = new Map(got.map((p) => [p.id, p]));
    for (const p of points) {
      const g = byId.get(p.id);
      assert.ok(g, `point ${p.id} missing`);
      assert.deepEqual(g.payload, p.payload);
      assertVector(g.vector, p.vector, `vector of ${p.id}`);
    }
    const q = queries.Euclid[0];
    assertRanking(await client.search(name, { vector: q, limit: 10 }), { metric: 'Euclid', q, limit: 10, withPayload: true },
      points, 'search after the concurrent writes');
  });

  test('concurrent overwrites of the same ids: each point ends whole, as one of the writes', async () => {
    const ids = Array.from({ length: 20 }, (_, i) => 10_001 + i);
    const version = (v) => ids.map((id) => ({ id, vector: Array(DIM).fill(v), payload: { v } }));
    await Promise.all(Array.from({ length: 6 }, (_, v) => client.upsert(name, { wait: true, points: version(v + 1) })));
    const got = await client.retrieve(name, { ids, with_vector: true });
    assert.equal(got.length, ids.length);
    for (const g of got) {
      const v = g.payload.v;
      assert.ok(Number.isInteger(v) && v >= 1 && v <= 6, JSON.stringify(g.payload));
      assertVector(g.vector, Array(DIM).fill(v), `point ${g.id}: vector and payload from one write`);
    }
  });
});

describe('large ids', () => {
  const name = 'bigids';
  const U64_MAX = '18446744073709551615';

  test('2^53-1 as a number through the client', async () => {
    await client.createCollection(name, { vectors: { size: DIM, distance: 'Euclid' } });
    const big = Number.MAX_SAFE_INTEGER;
    await client.upsert(name, { wait: true, points: [
      { id: big, vector: [1, 0, 0, 0, 0, 0, 0, 0], payload: { big: true } },
      { id: 0, vector: [0, 0, 0, 0, 0, 0, 0, 1], payload: { zero: true } },
    ] });
    const got = await client.retrieve(name, { ids: [big, 0] });
    assert.deepEqual(got.map((p) => p.id).sort((a, b) => a - b), [0, big]);
    const page = await client.scroll(name, { limit: 10 });
    assert.deepEqual(page.points.map((p) => p.id), [0, big]);
    const top = await client.search(name, { vector: [1, 0, 0, 0, 0, 0, 0, 0], limit: 1 });
    assert.equal(top[0].id, big);
    assert.ok(Math.abs(top[0].score) < TOL);
  });

  // Ids beyond 2^53 go as raw JSON: the client on Node 20 cannot send a BigInt (JSON.rawJSON
  // comes with Node 21), and JSON.parse would round them; the answers are read as text.
  async function rawRoundTrip(idText, tag) {
    const body = `{"points":[{"id":${idText},"vector":[0,1,0,0,0,0,0,0],"payload":{"${tag}":true}}]}`;
    const up = await http(server.url, 'PUT', `/collections/${name}/points?wait=true`, body);
    assert.equal(up.status, 200, `PUT ${body}: ${up.text}`);
    const one = await http(server.url, 'GET', `/collections/${name}/points/${idText}`);
    assert.equal(one.status, 200, one.text);
    assert.match(one.text, new RegExp(`"id"\\s*:\\s*${idText}[,}\\s]`));
    assert.deepEqual(one.json.result.payload, { [tag]: true });
    const got = await http(server.url, 'POST', `/collections/${name}/points`, `{"ids":[${idText}]}`);
    assert.match(got.text, new RegExp(`"id"\\s*:\\s*${idText}[,}\\s]`));
    if ('rawJSON' in JSON) { // Node 21+: the client sends and parses BigInt ids
      const viaClient = await client.retrieve(name, { ids: [BigInt(idText)] });
      assert.equal(viaClient[0].id, BigInt(idText));
    }
  }

  test('2^64-2 in raw JSON; scroll puts it after 2^53-1', async () => {
    await rawRoundTrip('18446744073709551614', 'nearmax');
    const page = await http(server.url, 'POST', `/collections/${name}/points/scroll`, { limit: 10 });
    assert.equal(page.status, 200, page.text);
    const ids = [...page.text.matchAll(/"id"\s*:\s*(\d+)/g)].map((x) => x[1]);
    assert.deepEqual(ids, ['0', String(Number.MAX_SAFE_INTEGER), '18446744073709551614']);
  });

  // libvexfs reserves UINT64_MAX (its "no result" id): a clear 400 naming the id, nothing written
  test('2^64-1 is refused with a message naming it', async () => {
    const before = (await client.count(name, { exact: true })).count;
    const body = `{"points":[{"id":${U64_MAX},"vector":[0,1,0,0,0,0,0,0]}]}`;
    const up = await http(server.url, 'PUT', `/collections/${name}/points?wait=true`, body);
    assert.equal(up.status, 400, up.text);
    assert.match(up.json.status.error, new RegExp(U64_MAX));
    assert.equal((await client.count(name, { exact: true })).count, before);
  });

  test('2^64 is refused', async () => {
    const before = (await client.count(name, { exact: true })).count;
    const body = '{"points":[{"id":18446744073709551616,"vector":[0,1,0,0,0,0,0,0]}]}';
    const up = await http(server.url, 'PUT', `/collections/${name}/points?wait=true`, body);
    assert.equal(up.status, 400, up.text);
    assert.equal((await client.count(name, { exact: true })).count, before);
  });
});

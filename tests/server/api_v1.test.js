'use strict';
// The earlier VexFS REST API, /api/v1 (reference 000's "REST API" and "Performance Monitoring
// API"): collections, vectors and searches against exact answers for each metric, the filter
// shorthand and Qdrant filters, errors with their status and API_00x code, the routes that do
// not apply to a library (404), the sampler's figures moving after traffic, the API key, and one
// catalog shared with Qdrant's routes.
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startServer, http, sleep } = require('./server_util.js');

const f32 = Math.fround;

function ok(res, label) {
  assert.equal(res.status, 200, `${label || ''}: ${res.status} ${res.text.slice(0, 500)}`);
  assert.ok(res.json && typeof res.json === 'object', res.text);
  assert.equal(res.json.error, undefined, res.text);
  assert.match(res.headers.get('content-type') || '', /application\/json/);
  return res.json;
}

// An /api/v1 error: its status, {"error": {"code", "type", "message"}} and nothing else.
function fails(res, status, code, label, mentions) {
  const what = `${label}: expected ${status} ${code}, got ${res.status} ${res.text.slice(0, 400)}`;
  assert.equal(res.status, status, what);
  assert.ok(res.json && res.json.error, what);
  assert.deepEqual(Object.keys(res.json), ['error'], what);
  assert.equal(res.json.error.code, code, what);
  assert.equal(typeof res.json.error.type, 'string', what);
  assert.ok(res.json.error.type.length > 0, what);
  assert.equal(typeof res.json.error.message, 'string', what);
  if (mentions) assert.match(res.json.error.message, mentions, what);
}

// Hits as [id, distance] with distances as the float the server computed.
function hits(json) {
  return json.results.map((h) => [h.id, f32(h.distance)]);
}

// Starts a server for the enclosing describe() and stops it after; s.req(method, path, body).
function serve(options) {
  const s = {};
  before(async () => {
    s.server = await startServer(options);
    s.url = s.server.url;
    s.req = (method, path, body, headers) => http(s.url, method, path, body, headers);
  });
  after(async () => {
    if (s.server) await s.server.stop();
  });
  return s;
}

describe('/api/v1 collections, vectors and search', () => {
  const s = serve();
  const req = (...a) => s.req(...a);

  test('create, get, list (sorted, paged), delete', async () => {
    const made = ok(await req('POST', '/api/v1/collections', {
      name: 'docs', dimension: 3, algorithm: 'hnsw', metric: 'cosine',
      parameters: { m: 8, ef_construction: 100, ef_search: 50, max_m: 16, ml: 0.5 },
      performance_config: { optimization_level: 'maximum', memory_pool_size: '4GB', enable_simd: true },
    }));
    assert.equal(made.id, 'docs');
    assert.equal(made.name, 'docs');
    assert.equal(made.dimension, 3);
    assert.equal(made.algorithm, 'hnsw');
    assert.equal(made.metric, 'cosine');
    assert.equal(made.status, 'active');
    assert.equal(made.vector_count, 0);
    assert.deepEqual(made.parameters, { m: 8, ef_construction: 100, ef_search: 50 });
    assert.equal(typeof made.performance_config.simd_type, 'string');
    assert.equal(made.performance_config.simd_enabled, made.performance_config.simd_type !== 'scalar');
    assert.equal(made.created_at, undefined);
    assert.equal(made.performance_metrics, undefined);

    const lsh = ok(await req('POST', '/api/v1/collections', {
      name: 'alpha', dimension: 4, algorithm: 'lsh', distance: 'l2',
      parameters: { num_tables: 4, num_functions: 8, bucket_size: 0.5, projection_type: 'learned', ef_search: 20 },
    }));
    assert.deepEqual(lsh.parameters, { ef_search: 20, num_tables: 4, num_functions: 8, bucket_size: 0.5, projection_type: 'learned' });
    assert.equal(lsh.metric, 'l2');
    const ivf = ok(await req('POST', '/api/v1/collections', {
      name: 'beta', dimension: 2, algorithm: 'ivf', parameters: { nlist: 4, nprobe: 2, codes: 'sq8' },
    }));
    assert.deepEqual(ivf.parameters, { nlist: 4, nprobe: 2, codes: 'sq8' });
    const hnsw = ok(await req('POST', '/api/v1/collections', {
      name: 'gamma', dimension: 2, hnsw_config: { m: 12, ef_construction: 64, ef_search: 32, max_connections: 24 },
    }));
    assert.equal(hnsw.algorithm, 'hnsw');
    assert.equal(hnsw.metric, 'l2');
    assert.deepEqual(hnsw.parameters, { m: 12, ef_construction: 64, ef_search: 32 });

    const got = ok(await req('GET', '/api/v1/collections/docs'));
    assert.deepEqual(got, made);
    const list = ok(await req('GET', '/api/v1/collections'));
    assert.deepEqual(list.collections.map((c) => c.name), ['alpha', 'beta', 'docs', 'gamma']);
    assert.equal(list.total, 4);
    assert.equal(list.page, 1);
    const page = ok(await req('GET', '/api/v1/collections?page=2&per_page=3'));
    assert.deepEqual(page.collections.map((c) => c.name), ['gamma']);
    assert.equal(page.total, 4);
    assert.equal(page.per_page, 3);

    for (const name of ['alpha', 'beta', 'gamma']) {
      assert.deepEqual(ok(await req('DELETE', `/api/v1/collections/${name}`)), { deleted: true, name });
    }
    fails(await req('GET', '/api/v1/collections/alpha'), 404, 'API_005', 'dropped');
    fails(await req('DELETE', '/api/v1/collections/alpha'), 404, 'API_005', 'dropped twice');
    assert.deepEqual(ok(await req('GET', '/api/v1/collections')).collections.map((c) => c.name), ['docs']);
  });

  test('l2: one and batch insert, ids given and assigned, get, exact search', async () => {
    ok(await req('POST', '/api/v1/collections', { name: 'l2', dimension: 2, algorithm: 'flat', metric: 'l2' }));
    const one = ok(await req('POST', '/api/v1/collections/l2/vectors', {
      vector: [0, 0], metadata: { cat: 'a', n: 0 }, performance_options: { use_memory_pools: true, priority: 'high' },
    }));
    assert.equal(one.id, 0);
    assert.equal(one.collection_id, 'l2');
    assert.deepEqual(one.metadata, { cat: 'a', n: 0 });
    assert.equal(typeof one.performance_stats.processing_time_ms, 'number');
    assert.equal(typeof one.performance_stats.simd_acceleration_used, 'boolean');
    const batch = ok(await req('POST', '/api/v1/collections/l2/vectors/batch', {
      vectors: [
        { vector: [1, 0], metadata: { cat: 'b', n: 1 } },
        { vector: [0, 2], metadata: { cat: 'a', n: 2 } },
        { vector: [3, 3] },
      ],
      performance_options: { batch_size: 100, parallel_processing: true, target_ops_per_sec: 2000 },
    }));
    assert.equal(batch.inserted, 3);
    assert.equal(batch.failed, 0);
    assert.deepEqual(batch.vector_ids, [1, 2, 3]);
    assert.ok(batch.performance_stats.ops_per_sec > 0);
    assert.equal(ok(await req('POST', '/api/v1/collections/l2/vectors', { vector: [5, 5], id: 100 })).id, 100);
    assert.equal(ok(await req('POST', '/api/v1/collections/l2/vectors', { vector: [-1, -1] })).id, 101);
    const given = ok(await req('POST', '/api/v1/collections/l2/vectors/batch', {
      vectors: [{ vector: [9, 9], id: 7 }, { vector: [8, 8], id: 6 }],
    }));
    assert.deepEqual(given.vector_ids, [7, 6]);
    assert.deepEqual(ok(await req('GET', '/api/v1/collections/l2/vectors/2')),
      { id: 2, vector: [0, 2], metadata: { cat: 'a', n: 2 } });
    assert.deepEqual(ok(await req('GET', '/api/v1/collections/l2/vectors/3')), { id: 3, vector: [3, 3], metadata: null });
    assert.equal(ok(await req('GET', '/api/v1/collections/l2')).vector_count, 8);

    // [1, 0.5]: squared distances 1.25 (id 0), 0.25 (1), 3.25 (2), 10.25 (3), all exact in float
    const found = ok(await req('POST', '/api/v1/collections/l2/search', { vector: [1, 0.5], limit: 4 }));
    assert.deepEqual(hits(found), [[1, 0.25], [0, 1.25], [2, 3.25], [101, 6.25]]);
    assert.equal(found.total_results, 4);
    assert.deepEqual(found.results.map((h) => f32(h.score)), [0.25, 1.25, 3.25, 6.25].map((d) => f32(1 / (1 + d))));
    assert.deepEqual(found.results[0].metadata, { cat: 'b', n: 1 });
    assert.equal(found.results[3].metadata, null);
    assert.equal(typeof found.performance_stats.search_time_ms, 'number');
    // k is limit's alias; a limit past the points gives them all
    assert.equal(ok(await req('POST', '/api/v1/collections/l2/search', { vector: [1, 0.5], k: 2 })).results.length, 2);
    assert.equal(ok(await req('POST', '/api/v1/collections/l2/search', { vector: [1, 0.5], limit: 1000000 })).total_results, 8);
    // the default limit is 10
    assert.equal(ok(await req('POST', '/api/v1/collections/l2/search', { vector: [0, 0] })).results.length, 8);
  });

  test('filters: the shorthand and a Qdrant filter', async () => {
    const search = (body) => req('POST', '/api/v1/collections/l2/search', { vector: [1, 0.5], limit: 10, ...body });
    assert.deepEqual(hits(ok(await search({ filters: { cat: 'a' } }))), [[0, 1.25], [2, 3.25]]);
    assert.deepEqual(hits(ok(await search({ filters: { cat: 'a', n: 2 } }))), [[2, 3.25]]);
    assert.deepEqual(hits(ok(await search({ filters: { cat: 'zzz' } }))), []);
    assert.deepEqual(hits(ok(await search({ filters: { must: [{ key: 'n', range: { gte: 1 } }] } }))), [[1, 0.25], [2, 3.25]]);
    assert.deepEqual(hits(ok(await search({ filter: { must_not: [{ key: 'cat', match: { value: 'a' } }] } }))).map((h) => h[0]),
      [1, 101, 3, 100, 6, 7]);
    assert.deepEqual(hits(ok(await search({ filters: { must: [{ has_id: [3, 100] }] } }))), [[3, 10.25], [100, 36.25]]);
    assert.equal(ok(await search({ filters: {} })).results.length, 8);
    fails(await search({ filters: { must: [{ key: 'loc', geo_radius: { center: { lon: 0, lat: 0 }, radius: 1 } }] } }),
      400, 'API_001', 'geo filter', /not supported/);
    fails(await search({ filters: { must: 3 } }), 400, 'API_001', 'malformed filter');
    fails(await search({ filters: 'cat' }), 400, 'API_001', 'filters a string');
    fails(await search({ filters: { cat: 'a' }, filter: { cat: 'a' } }), 400, 'API_001', 'both filters and filter');
  });

  test('ip and cosine: exact order and distances', async () => {
    ok(await req('POST', '/api/v1/collections', { name: 'ip', dimension: 2, algorithm: 'flat', metric: 'ip' }));
    ok(await req('POST', '/api/v1/collections/ip/vectors/batch', {
      vectors: [{ vector: [1, 0], id: 10 }, { vector: [0, 1], id: 11 }, { vector: [2, 1], id: 12 }],
    }));
    // dots with [1, 2]: 1, 2, 4; distances 1 - dot
    const ip = ok(await req('POST', '/api/v1/collections/ip/search', { vector: [1, 2], limit: 3 }));
    assert.deepEqual(hits(ip), [[12, -3], [11, -1], [10, 0]]);
    assert.deepEqual(ip.results.map((h) => h.score), [4, 2, 1]);

    ok(await req('POST', '/api/v1/collections', { name: 'cos', dimension: 2, algorithm: 'hnsw', metric: 'cosine' }));
    ok(await req('POST', '/api/v1/collections/cos/vectors/batch', {
      vectors: [{ vector: [3, 0], id: 20 }, { vector: [1, 1], id: 21 }, { vector: [0, 5], id: 22 }],
    }));
    const cos = ok(await req('POST', '/api/v1/collections/cos/search', { vector: [2, 0], limit: 3 }));
    assert.deepEqual(cos.results.map((h) => h.id), [20, 21, 22]);
    const want = [0, 1 - Math.SQRT1_2, 1];
    cos.results.forEach((h, i) => {
      assert.ok(Math.abs(h.distance - want[i]) < 1e-6, `distance ${h.distance}, want ${want[i]}`);
      assert.ok(Math.abs(h.score - (1 - want[i])) < 1e-6, `score ${h.score}`);
    });
    // stored unit length, as through Qdrant's routes
    const v = ok(await req('GET', '/api/v1/collections/cos/vectors/20')).vector;
    assert.deepEqual(v, [1, 0]);
  });

  test('delete one and a list (all or nothing); get_stats', async () => {
    assert.deepEqual(ok(await req('DELETE', '/api/v1/collections/l2/vectors/100')), { deleted: 1, ids: [100] });
    fails(await req('GET', '/api/v1/collections/l2/vectors/100'), 404, 'API_005', 'deleted vector');
    fails(await req('DELETE', '/api/v1/collections/l2/vectors/100'), 404, 'API_005', 'deleted twice');
    fails(await req('POST', '/api/v1/collections/l2/vectors/delete', { ids: [6, 555] }), 404, 'API_005', 'one missing');
    ok(await req('GET', '/api/v1/collections/l2/vectors/6'), 'all or nothing: 6 stays');
    fails(await req('POST', '/api/v1/collections/l2/vectors/delete', { ids: [6, 6] }), 400, 'API_006', 'a repeated id');
    fails(await req('POST', '/api/v1/collections/l2/vectors/delete', { ids: ['6'] }), 400, 'API_001', 'a string id');
    fails(await req('POST', '/api/v1/collections/l2/vectors/delete', { id: [6] }), 400, 'API_001', 'unknown key');
    assert.deepEqual(ok(await req('POST', '/api/v1/collections/l2/vectors/delete', { ids: [6, 7] })), { deleted: 2, ids: [6, 7] });
    const stats = ok(await req('GET', '/api/v1/collections/l2/stats'));
    assert.equal(stats.name, 'l2');
    assert.equal(stats.vector_count, 5);
    assert.equal(stats.dimension, 2);
    assert.equal(stats.algorithm, 'flat');
    assert.equal(stats.metric, 'l2');
    assert.equal(stats.insert_count, 8);
    assert.equal(stats.search_count, 11, "the 4 and 7 searches above that succeeded");
    assert.ok(stats.index_size_mb > 0);
    assert.equal(typeof stats.p95_search_time_ms, 'number');
    for (const k of ['vectors', 'index', 'payloads', 'pool', 'mapped']) assert.equal(typeof stats.memory_bytes[k], 'number');
    const all = ok(await req('GET', '/api/v1/stats'));
    assert.equal(all.collection_count, 4);
    assert.equal(all.vector_count, 5 + 3 + 3);
    assert.ok(all.cache_hits + all.cache_misses > 0);
    assert.ok(all.memory_usage_mb > 0);
  });

  test('the same collections through Qdrant\'s routes', async () => {
    const info = await req('GET', '/collections/l2');
    assert.equal(info.status, 200, info.text);
    assert.equal(info.json.result.points_count, 5);
    assert.equal(info.json.result.config.params.vectors.distance, 'Euclid');
    const up = await req('PUT', '/collections/l2/points?wait=true', { points: [{ id: 50, vector: [1, 0.5], payload: { cat: 'q' } }] });
    assert.equal(up.status, 200, up.text);
    assert.deepEqual(ok(await req('GET', '/api/v1/collections/l2/vectors/50')), { id: 50, vector: [1, 0.5], metadata: { cat: 'q' } });
    assert.deepEqual(hits(ok(await req('POST', '/api/v1/collections/l2/search', { vector: [1, 0.5], limit: 1 }))), [[50, 0]]);
    // ids given through Qdrant's routes are skipped by those /api/v1 gives
    assert.equal(ok(await req('POST', '/api/v1/collections/l2/vectors', { vector: [4, 4] })).id, 102);
    const made = await req('PUT', '/collections/fromq', { vectors: { size: 2, distance: 'Dot' } });
    assert.equal(made.status, 200, made.text);
    const seen = ok(await req('GET', '/api/v1/collections/fromq'));
    assert.equal(seen.metric, 'ip');
    assert.equal(seen.dimension, 2);
    // a Qdrant error keeps Qdrant's envelope
    const missing = await req('GET', '/collections/nope');
    assert.equal(missing.status, 404);
    assert.equal(typeof missing.json.status.error, 'string');
    ok(await req('DELETE', '/api/v1/collections/fromq'));
    assert.equal((await req('GET', '/collections/fromq')).status, 404);
  });

  test('bad input: the status and API_00x code of each', async () => {
    const post = (path, body) => req('POST', path, body);
    const C = '/api/v1/collections';
    const before = ok(await req('GET', `${C}/l2`)).vector_count;
    const cases = [
      [post(C, '{"name": '), 400, 'API_001', 'malformed JSON'],
      [post(C, [1, 2]), 400, 'API_001', 'an array body'],
      [post(C, { dimension: 2 }), 400, 'API_001', 'no name'],
      [post(C, { name: 5, dimension: 2 }), 400, 'API_001', 'a number name'],
      [post(C, { name: 'bad name!', dimension: 2 }), 400, 'API_006', 'a bad name'],
      [post(C, { name: '__vexfs.x', dimension: 2 }), 400, 'API_006', 'a reserved name'],
      [post(C, { name: 'x' }), 400, 'API_001', 'no dimension'],
      [post(C, { name: 'x', dimension: '3' }), 400, 'API_001', 'a string dimension'],
      [post(C, { name: 'x', dimension: 2.5 }), 400, 'API_001', 'a fractional dimension'],
      [post(C, { name: 'x', dimension: -1 }), 400, 'API_001', 'a negative dimension'],
      [post(C, { name: 'x', dimension: 0 }), 400, 'API_006', 'dimension 0'],
      [post(C, { name: 'x', dimension: 70000 }), 400, 'API_006', 'dimension too large'],
      [post(C, { name: 'x', dimension: 2, algorithm: 'kd-tree' }), 400, 'API_006', 'an unknown algorithm'],
      [post(C, { name: 'x', dimension: 2, algorithm: 3 }), 400, 'API_001', 'a number algorithm'],
      [post(C, { name: 'x', dimension: 2, metric: 'manhattan' }), 400, 'API_006', 'an unknown metric'],
      [post(C, { name: 'x', dimension: 2, metric: 'l2', distance: 'ip' }), 400, 'API_001', 'metric and distance differ'],
      [post(C, { name: 'x', dimension: 2, colour: 'red' }), 400, 'API_001', 'an unknown key'],
      [post(C, { name: 'x', dimension: 2, performance_config: { turbo: true } }), 400, 'API_001', 'an unknown performance_config key'],
      [post(C, { name: 'x', dimension: 2, performance_config: 5 }), 400, 'API_001', 'performance_config a number'],
      [post(C, { name: 'x', dimension: 2, parameters: { num_tables: 4 } }), 400, 'API_001', 'an lsh parameter for hnsw'],
      [post(C, { name: 'x', dimension: 2, algorithm: 'flat', parameters: { m: 4 } }), 400, 'API_001', 'a parameter for flat'],
      [post(C, { name: 'x', dimension: 2, parameters: { m: 'many' } }), 400, 'API_001', 'a string m'],
      [post(C, { name: 'x', dimension: 2, parameters: { ef_construction: 0 } }), 400, 'API_006', 'ef_construction 0 (the library refuses it)'],
      [post(C, { name: 'x', dimension: 2, algorithm: 'lsh', parameters: { projection_type: 'fancy' } }), 400, 'API_006', 'an unknown projection'],
      [post(C, { name: 'x', dimension: 2, algorithm: 'flat', hnsw_config: { m: 4 } }), 400, 'API_001', 'hnsw_config for flat'],
      [post(C, { name: 'l2', dimension: 2 }), 409, 'API_006', 'a duplicate collection'],
      [post(`${C}/l2/vectors`, { vector: [1, 2, 3] }), 400, 'API_006', 'a wrong dimension'],
      [post(`${C}/l2/vectors`, { vector: 'x' }), 400, 'API_001', 'a string vector'],
      [post(`${C}/l2/vectors`, { vector: [1, 'a'] }), 400, 'API_001', 'a string coordinate'],
      [post(`${C}/l2/vectors`, '{"vector": [1, NaN]}'), 400, 'API_001', 'NaN'],
      [post(`${C}/l2/vectors`, { vector: [1, 1e39] }), 400, 'API_001', 'a coordinate past float'],
      [post(`${C}/l2/vectors`, { metadata: {} }), 400, 'API_001', 'no vector'],
      [post(`${C}/l2/vectors`, { vector: [1, 2], id: -1 }), 400, 'API_001', 'a negative id'],
      [post(`${C}/l2/vectors`, { vector: [1, 2], id: '5' }), 400, 'API_001', 'a string id'],
      [post(`${C}/l2/vectors`, { vector: [1, 2], id: 0 }), 409, 'API_006', 'an id already stored'],
      [post(`${C}/l2/vectors`, { vector: [1, 2], metadata: [1] }), 400, 'API_001', 'metadata a list'],
      [post(`${C}/l2/vectors`, { vector: [1, 2], extra: 1 }), 400, 'API_001', 'an unknown key'],
      [post(`${C}/l2/vectors`, { vector: [1, 2], performance_options: { warp: 9 } }), 400, 'API_001', 'an unknown option'],
      [post(`${C}/nope/vectors`, { vector: [1, 2] }), 404, 'API_005', 'an unknown collection'],
      [post(`${C}/l2/vectors/batch`, { vectors: [{ vector: [1, 2], id: 30 }, { vector: [1, 2] }] }), 400, 'API_001', 'ids on some rows only'],
      [post(`${C}/l2/vectors/batch`, { vectors: [{ vector: [1, 2], id: 31 }, { vector: [1, 2], id: 31 }] }), 400, 'API_006', 'an id twice in a batch'],
      [post(`${C}/l2/vectors/batch`, { vectors: [{ vector: [1, 2] }, { vector: [1] }] }), 400, 'API_006', 'a bad row in a batch'],
      [post(`${C}/l2/vectors/batch`, { vectors: { vector: [1, 2] } }), 400, 'API_001', 'vectors an object'],
      [post(`${C}/l2/vectors/batch`, { vectors: [[1, 2]] }), 400, 'API_001', 'a bare vector in a batch'],
      [post(`${C}/l2/search`, { vector: [1, 2], limit: 1e9 }), 400, 'API_001', 'a huge limit'],
      [post(`${C}/l2/search`, { vector: [1, 2], limit: 0 }), 400, 'API_006', 'limit 0'],
      [post(`${C}/l2/search`, { vector: [1, 2], limit: '5' }), 400, 'API_001', 'a string limit'],
      [post(`${C}/l2/search`, { vector: [1, 2], limit: 5, k: 6 }), 400, 'API_001', 'limit and k differ'],
      [post(`${C}/l2/search`, { vector: [1, 2, 3] }), 400, 'API_006', 'a query of another dimension'],
      [post(`${C}/l2/search`, { limit: 3 }), 400, 'API_001', 'no query vector'],
      [post(`${C}/l2/search`, { vector: [1, 2], ef: -3 }), 400, 'API_001', 'a negative ef'],
      [post(`${C}/l2/search`, { vector: [1, 2], sort: 'asc' }), 400, 'API_001', 'an unknown search key'],
      [post(`${C}/nope/search`, { vector: [1, 2] }), 404, 'API_005', 'search of an unknown collection'],
      [req('GET', `${C}/l2/vectors/abc`), 400, 'API_001', 'a non-numeric id'],
      [req('GET', `${C}/l2/vectors/18446744073709551615`), 400, 'API_001', 'the reserved id'],
      [req('GET', `${C}/l2/vectors/424242`), 404, 'API_005', 'a missing vector'],
      [req('GET', `${C}?include_performance=maybe`), 400, 'API_001', 'include_performance=maybe'],
      [req('GET', `${C}?per_page=0`), 400, 'API_001', 'per_page=0'],
      [req('GET', `${C}/nope`), 404, 'API_005', 'get an unknown collection'],
      [req('GET', `${C}/nope/stats`), 404, 'API_005', 'stats of an unknown collection'],
      [req('PUT', C, {}), 405, 'API_001', 'a method the path lacks'],
      [req('GET', '/api/v1/nothing/here'), 404, 'API_005', 'an unknown path'],
      [post('/api/v1/performance/configure', { memory_pools: { huge_pages: true } }), 400, 'API_001', 'an unknown configure key'],
      [post('/api/v1/performance/configure', { turbo: {} }), 400, 'API_001', 'an unknown configure section'],
    ];
    for (const [pending, status, code, label] of cases) fails(await pending, status, code, label);
    assert.equal(ok(await req('GET', `${C}/l2`)).vector_count, before, 'a failed insert changed the collection');
    assert.equal((await req('GET', `${C}/x`)).status, 404, 'a failed create made the collection');
  });

  test('history: durations and intervals checked', async () => {
    for (const q of ['duration=2x', 'duration=0s', 'duration=25h', 'duration=1h&interval=2h', 'interval=0m',
      'duration=1h&interval=1', 'duration=2h&interval=30s', 'duration=-1h', 'duration=1.5h', 'duration=1h30m']) {
      fails(await req('GET', `/api/v1/performance/metrics/history?${q}`), 400, 'API_001', q);
    }
    for (const q of ['duration=30s&interval=1s', 'duration=5m&interval=30s', 'duration=24h&interval=1h', 'duration=2h&interval=1m', '']) {
      const h = ok(await req('GET', `/api/v1/performance/metrics/history?${q}`), q);
      assert.equal(h.data_points, h.metrics.length, q);
    }
    const h = ok(await req('GET', '/api/v1/performance/metrics/history'));
    assert.equal(h.duration, '1h');
    assert.equal(h.interval, '1m');
  });

  test('routes that do not apply to a library: 404 saying so', async () => {
    const routes = [
      ['GET', 'stack/usage'], ['GET', 'stack/violations'], ['POST', 'stack/configure'],
      ['GET', 'bridge/latency'], ['GET', 'bridge/throughput'], ['POST', 'bridge/optimize'],
      ['POST', 'memory-pools/configure'], ['POST', 'memory-pools/optimize'],
      ['POST', 'simd/enable'], ['POST', 'simd/benchmark'],
    ];
    for (const [method, path] of routes) {
      fails(await req(method, `/api/v1/performance/${path}`, method === 'POST' ? {} : undefined), 404, 'API_005',
        `${method} ${path}`, /does not apply to vexfs-server/);
    }
  });

  test('memory pools, SIMD and configure report the library\'s own figures', async () => {
    const status = ok(await req('GET', '/api/v1/performance/memory-pools/status'));
    assert.equal(status.enabled, true);
    assert.equal(status.tiers.length, status.tier_count);
    assert.ok(status.tier_count >= 1);
    assert.ok(status.hit_rate >= 0 && status.hit_rate <= 1);
    assert.equal(status.bytes_reserved, status.tiers.reduce((s, t) => s + t.bytes_reserved, 0));
    for (const t of status.tiers) assert.ok(t.utilization >= 0 && t.utilization <= 1);
    const metrics = ok(await req('GET', '/api/v1/performance/memory-pools/metrics'));
    assert.equal(metrics.tiers.length, metrics.tier_count);
    assert.equal(metrics.requests, metrics.tiers.reduce((s, t) => s + t.requests, 0));
    assert.ok(metrics.requests > 0, 'the searches above used the pool');
    assert.deepEqual(metrics.tiers.map((t) => t.block_size), status.tiers.map((t) => t.block_size));

    const caps = ok(await req('GET', '/api/v1/performance/simd/capabilities'));
    const simd = ok(await req('GET', '/api/v1/performance/simd/status'));
    assert.ok(['scalar', 'avx2', 'avx2vnni', 'avx512', 'avx512vnni', 'neon'].includes(simd.type), simd.type);
    assert.equal(simd.enabled, simd.type !== 'scalar');
    assert.equal(caps.type, simd.type);
    assert.ok(simd.distance_computations > 0);
    if (caps.architecture === 'x86_64') {
      if (simd.type.startsWith('avx2')) assert.equal(caps.cpu_features.avx2, true);
      if (simd.type.startsWith('avx512')) assert.equal(caps.cpu_features.avx512f, true);
    }

    const conf = ok(await req('POST', '/api/v1/performance/configure', {
      memory_pools: { small_buffer_count: 256, target_hit_rate: 0.95 },
      simd_acceleration: { enable_avx2: true, auto_detect: true },
      stack_optimization: { fuse_stack_limit: 3072 },
      bridge_communication: { batch_size: 100 },
    }));
    assert.equal(conf.status, 'unchanged');
    assert.deepEqual(conf.applied_config, {});
    assert.deepEqual(Object.keys(conf.not_applied).sort(),
      ['bridge_communication', 'memory_pools', 'simd_acceleration', 'stack_optimization']);
    assert.equal(conf.restart_required, false);
    assert.equal(conf.current.simd_acceleration.type, simd.type);
  });
});

describe('/api/v1 performance figures move with traffic', () => {
  const s = serve();
  const req = (...a) => s.req(...a);

  test('realtime, history and include_performance after inserts and searches', async () => {
    const idle = ok(await req('GET', '/api/v1/performance/metrics/realtime'));
    assert.match(idle.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(idle.vectors, 0);
    assert.equal(idle.vector_operations.searches, 0);
    for (const k of ['fuse_operations', 'semantic_operations', 'stack_optimization', 'bridge_communication']) {
      assert.equal(idle[k], undefined, `${k} has no meaning here`);
    }
    ok(await req('POST', '/api/v1/collections', { name: 'busy', dimension: 4, algorithm: 'flat' }));
    const rows = Array.from({ length: 200 }, (_, i) => ({ vector: [i, i % 7, i % 3, 1] }));
    ok(await req('POST', '/api/v1/collections/busy/vectors/batch', { vectors: rows }));
    for (let i = 0; i < 40; i++) ok(await req('POST', '/api/v1/collections/busy/search', { vector: [i, 1, 1, 1], limit: 5 }));
    await sleep(1300); // a sample after the traffic

    const now = ok(await req('GET', '/api/v1/performance/metrics/realtime'));
    assert.equal(now.vectors, 200);
    assert.equal(now.vector_operations.searches, 40);
    assert.equal(now.vector_operations.inserts, 201, 'the 200 and the companion\'s schema row');
    assert.ok(now.vector_operations.search_latency_p50_ms > 0);
    const ops = now.vector_operations;
    assert.ok(ops.search_latency_p95_ms >= ops.search_latency_p50_ms && ops.search_latency_p99_ms >= ops.search_latency_p95_ms);
    assert.ok(now.memory_pools.hit_rate >= 0 && now.memory_pools.hit_rate <= 1);

    const h = ok(await req('GET', '/api/v1/performance/metrics/history?duration=1m&interval=1s'));
    assert.equal(h.data_points, h.metrics.length);
    assert.ok(h.data_points >= 1);
    const stamps = h.metrics.map((r) => Date.parse(r.timestamp));
    assert.deepEqual([...stamps].sort((a, b) => a - b), stamps, 'oldest first');
    for (const r of h.metrics) {
      assert.deepEqual(Object.keys(r), ['timestamp', 'vector_ops_per_sec', 'search_ops_per_sec', 'insert_ops_per_sec',
        'search_latency_p50_ms', 'search_latency_p95_ms', 'search_latency_p99_ms', 'memory_pool_hit_rate',
        'vectors', 'simd_acceleration_active', 'simd_isa']);
      assert.equal(Date.parse(r.timestamp) % 1000, 0, 'a bucket starts on a whole second');
    }
    // every insert and search is in some row's rate: rates x 1 s sum to the counts
    const searched = h.metrics.reduce((s, r) => s + r.search_ops_per_sec, 0);
    const inserted = h.metrics.reduce((s, r) => s + r.insert_ops_per_sec, 0);
    assert.ok(searched > 0 && inserted > 0, JSON.stringify(h.metrics));
    assert.equal(h.metrics[h.metrics.length - 1].vectors, 200);
    // one bucket for the whole minute: the average of the 1 s rows
    const minute = ok(await req('GET', '/api/v1/performance/metrics/history?duration=1m&interval=1m'));
    assert.ok(minute.data_points >= 1 && minute.data_points <= 2, JSON.stringify(minute));
    assert.ok(minute.metrics.some((r) => r.search_ops_per_sec > 0));

    const listed = ok(await req('GET', '/api/v1/collections?include_performance=true')).collections[0];
    assert.equal(listed.performance_metrics.searches, 40);
    assert.equal(listed.performance_metrics.inserts, 200);
    assert.ok(listed.performance_metrics.p50_latency_ms > 0);
    assert.equal(typeof listed.performance_metrics.simd_acceleration_active, 'boolean');
    assert.equal(listed.performance_metrics.stack_violations, undefined);
    const one = ok(await req('GET', '/api/v1/collections/busy?include_performance=true'));
    assert.equal(one.performance_metrics.searches, 40);

    await sleep(1300); // quiet: the latest sample's rates fall to 0
    const later = ok(await req('GET', '/api/v1/performance/metrics/realtime'));
    assert.equal(later.vector_operations.search_ops_per_sec, 0);
    assert.equal(later.vector_operations.ops_per_sec, 0);
    assert.ok(Date.parse(later.timestamp) > Date.parse(now.timestamp));
  });
});

describe('/api/v1 behind an API key', () => {
  const KEY = 'v1-secret-key';
  const s = serve({ args: ['--api-key', KEY] });

  test('refused with API_002 without the key or with a wrong one, served with it', async () => {
    fails(await http(s.url, 'GET', '/api/v1/collections'), 401, 'API_002', 'no key');
    fails(await http(s.url, 'POST', '/api/v1/collections', { name: 'k', dimension: 2 },
      { authorization: 'Bearer wrong' }), 401, 'API_002', 'a wrong key');
    fails(await http(s.url, 'GET', '/api/v1/performance/metrics/realtime', undefined, { 'api-key': 'nope' }),
      401, 'API_002', 'a wrong api-key');
    fails(await http(s.url, 'GET', '/api/v1/performance/stack/usage'), 401, 'API_002', 'a 404 route, no key');
    assert.equal((await http(s.url, 'GET', '/api/v1/collections/k')).status, 401);
    ok(await http(s.url, 'POST', '/api/v1/collections', { name: 'k', dimension: 2 }, { authorization: `Bearer ${KEY}` }));
    ok(await http(s.url, 'GET', '/api/v1/collections/k', undefined, { 'api-key': KEY }));
    // Qdrant's routes keep their envelope
    const q = await http(s.url, 'GET', '/collections');
    assert.equal(q.status, 401);
    assert.equal(typeof q.json.status.error, 'string');
  });
});

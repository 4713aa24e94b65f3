'use strict';
// GET /metrics: the library's Prometheus text for every collection in one scrape, which
// `promtool check metrics` (Debian's prometheus package, installed by the test setup) accepts:
// each family declared once, every collection's samples under it, the figures the work done
// implies, nothing of the server's companion collections, and behind the API key.
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const { startServer, http } = require('./server_util.js');

// sample lines as {name, labels: {k: v}, value}
function samples(text) {
  return text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(l);
    assert.ok(m, `not a sample line: ${l}`);
    const labels = {};
    for (const [, k, v] of (m[2] || '').matchAll(/([a-zA-Z_]\w*)="([^"]*)"/g)) labels[k] = v;
    return { name: m[1], labels, value: Number(m[3]) };
  });
}

function value(list, name, collection) {
  const hit = list.filter((s) => s.name === name && s.labels.collection === collection);
  assert.equal(hit.length, 1, `${name}{collection="${collection}"}: ${hit.length} samples`);
  return hit[0].value;
}

describe('GET /metrics', () => {
  let server;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    if (server) await server.stop();
  });

  test('without collections: 200 and an empty exposition', async () => {
    const res = await http(server.url, 'GET', '/metrics');
    assert.equal(res.status, 200, res.text);
    assert.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
    assert.equal(res.text, '');
  });

  test('two collections: one family each, every collection\'s samples, promtool accepts it', async () => {
    const make = (name, distance, points) => async () => {
      assert.equal((await http(server.url, 'PUT', `/collections/${name}`,
        { vectors: { size: 2, distance } })).status, 200);
      const up = await http(server.url, 'PUT', `/collections/${name}/points?wait=true`, { points });
      assert.equal(up.status, 200, up.text);
    };
    await make('alpha', 'Dot', [1, 2, 3, 4].map((id) => ({ id, vector: [id, 1] })))();
    // a UUID id: the server's companion collection gets a row, which must not show
    await make('beta-2', 'Euclid', [{ id: 7, vector: [0, 1] }, { id: 8, vector: [1, 0] },
      { id: '5c56c793-69f3-4fbf-87e6-c4bf54c28c26', vector: [1, 1] }])();
    for (let i = 0; i < 2; i++) {
      const res = await http(server.url, 'POST', '/collections/alpha/points/search', { vector: [1, 0], limit: 2 });
      assert.equal(res.status, 200, res.text);
    }
    const res = await http(server.url, 'GET', '/metrics');
    assert.equal(res.status, 200, res.text);
    const check = spawnSync('promtool', ['check', 'metrics'], { input: res.text, encoding: 'utf8' });
    assert.equal(check.status, 0, `promtool: ${check.stdout}${check.stderr}\n${res.text}`);
    const declared = res.text.split('\n').filter((l) => l.startsWith('# TYPE ')).map((l) => l.split(' ')[2]);
    assert.equal(new Set(declared).size, declared.length, `a family declared twice: ${declared}`);
    assert.ok(declared.includes('vexfs_vectors'), declared.join(' '));
    const list = samples(res.text);
    assert.deepEqual([...new Set(list.map((s) => s.labels.collection))].sort(), ['alpha', 'beta-2']);
    assert.equal(value(list, 'vexfs_vectors', 'alpha'), 4);
    assert.equal(value(list, 'vexfs_vectors', 'beta-2'), 3);
    assert.equal(value(list, 'vexfs_inserts_total', 'alpha'), 4);
    assert.equal(value(list, 'vexfs_searches_total', 'alpha'), 2);
    assert.equal(value(list, 'vexfs_searches_total', 'beta-2'), 0);
    assert.ok(!res.text.includes('__vexfs'), 'a companion collection shows');
  });

  test('a dropped collection\'s samples go with it', async () => {
    assert.equal((await http(server.url, 'DELETE', '/collections/beta-2')).status, 200);
    const res = await http(server.url, 'GET', '/metrics');
    assert.equal(res.status, 200, res.text);
    const names = new Set(samples(res.text).map((s) => s.labels.collection));
    assert.deepEqual([...names], ['alpha']);
  });
});

describe('GET /metrics with --api-key', () => {
  test('is 401 without the key, 200 with it', async () => {
    const server = await startServer({ args: ['--api-key', 'm3trics'] });
    try {
      assert.equal((await http(server.url, 'GET', '/metrics')).status, 401);
      const res = await http(server.url, 'GET', '/metrics', undefined, { 'api-key': 'm3trics' });
      assert.equal(res.status, 200, res.text);
    } finally {
      await server.stop();
    }
  });
});

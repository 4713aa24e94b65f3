'use strict';
// --data DIR: what a 200 answer promises survives kill -9 while upserts are in flight, and a
// SIGTERM shutdown exits 0 with everything there on restart.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { startServer, makeDataDir, removeDataDir, http, rng, sleep, exited, withTimeout } = require('./server_util.js');

const DIM = 8;
const C = 'durable';
const BATCH = 50;

function pointFor(id, r) {
  return {
    id,
    vector: Array.from({ length: DIM }, () => Math.fround(r() * 2 - 1)),
    payload: { id, word: `w${id}`, even: id % 2 === 0, list: [id, id * 2], nested: { x: id / 4 } },
  };
}

async function scrollAll(url, name, withVector) {
  const points = [];
  let offset;
  for (let pages = 0; pages < 1000; pages++) {
    const res = await http(url, 'POST', `/collections/${name}/points/scroll`,
      { limit: 500, offset, with_payload: true, with_vector: withVector });
    assert.equal(res.status, 200, res.text);
    points.push(...res.json.result.points);
    offset = res.json.result.next_page_offset;
    if (offset == null) return points;
  }
  throw new Error('scroll: more than 1000 pages');
}

// Checks that every acknowledged point is there, as written, and that nothing else is but
// (some of) the points of requests that got no answer.
async function assertSurvived(url, acked, unanswered, label) {
  const res = await http(url, 'GET', `/collections/${C}`);
  assert.equal(res.status, 200, `${label}: the collection is gone: ${res.text}`);
  assert.equal(res.json.result.config.params.vectors.size, DIM);
  assert.equal(res.json.result.config.params.vectors.distance, 'Euclid');
  const points = await scrollAll(url, C, true);
  const got = new Map(points.map((p) => [p.id, p]));
  let missing = 0;
  const firstMissing = [];
  for (const p of acked.values()) {
    const g = got.get(p.id);
    if (!g) {
      missing++;
      if (firstMissing.length < 10) firstMissing.push(p.id);
      continue;
    }
    assert.deepEqual(g.payload, p.payload, `${label}: payload of ${p.id}`);
    g.vector.forEach((x, k) => assert.ok(Math.abs(x - p.vector[k]) < 1e-6, `${label}: vector of ${p.id}`));
  }
  assert.equal(missing, 0, `${label}: ${missing} of ${acked.size} acknowledged points lost, e.g. ${firstMissing}`);
  for (const id of got.keys()) {
    assert.ok(acked.has(id) || unanswered.has(id), `${label}: point ${id} was never sent`);
  }
  const count = await http(url, 'POST', `/collections/${C}/points/count`, { exact: true });
  assert.equal(count.json.result.count, got.size, `${label}: count and scroll disagree`);
  assert.equal(res.json.result.points_count, got.size, `${label}: points_count and scroll disagree`);
}

// Upserts batches from `writers` concurrent loops until stop() is called; resolves with the
// points of the requests answered 200 and of those that got no answer (or an error).
function writeLoop(url, firstId, seed, writers = 4) {
  const r = rng(seed);
  const acked = new Map();
  const unanswered = new Map();
  let nextId = firstId;
  let stopped = false;
  let batches = 0;
  let onBatch = () => {};
  async function writer() {
    while (!stopped) {
      const points = Array.from({ length: BATCH }, () => pointFor(nextId++, r));
      for (const p of points) unanswered.set(p.id, p);
      let ok = false;
      try {
        const res = await http(url, 'PUT', `/collections/${C}/points?wait=true`, { points }, {}, 5000);
        ok = res.status === 200;
        if (!ok && !stopped) throw new Error(`upsert answered ${res.status} ${res.text}`);
      } catch (err) {
        if (!stopped) throw err;
      }
      if (ok) {
        for (const p of points) {
          unanswered.delete(p.id);
          acked.set(p.id, p);
        }
        batches++;
        onBatch();
      }
    }
  }
  const running = Promise.all(Array.from({ length: writers }, writer));
  return {
    acked,
    unanswered,
    // resolves once n more batches were acknowledged (10 s at most)
    waitFor: (n) => new Promise((resolve, reject) => {
      const target = batches + n;
      const timer = setTimeout(() => reject(new Error(`only ${batches} batches in 10 s`)), 10_000);
      onBatch = () => {
        if (batches >= target) {
          clearTimeout(timer);
          onBatch = () => {};
          resolve();
        }
      };
    }),
    // no new requests from here on; those in flight stay in flight
    halt: () => {
      stopped = true;
    },
    stop: async () => {
      stopped = true;
      await running;
    },
    running,
  };
}

async function createCollection(url) {
  const res = await http(url, 'PUT', `/collections/${C}`, { vectors: { size: DIM, distance: 'Euclid' } });
  assert.equal(res.status, 200, res.text);
}

test('kill -9 during upserts: every acknowledged point survives, twice over', async () => {
  const dir = makeDataDir();
  let server;
  try {
    server = await startServer({ data: dir });
    await createCollection(server.url);
    const acked = new Map();
    const unanswered = new Map();
    for (let round = 0; round < 2; round++) {
      const loop = writeLoop(server.url, 1 + round * 1_000_000, 11 + round);
      loop.running.catch(() => {}); // its error, if any, comes from stop()
      await loop.waitFor(30);
      // the writers are mid-request here: each sends its next batch as soon as the last is
      // answered. halt() only keeps them from starting more once the server is gone.
      loop.halt();
      const { signal } = await server.kill9();
      assert.equal(signal, 'SIGKILL');
      await loop.stop();
      for (const [id, p] of loop.acked) acked.set(id, p);
      for (const [id, p] of loop.unanswered) unanswered.set(id, p);
      assert.ok(loop.acked.size >= 30 * BATCH);
      server = await startServer({ data: dir });
      await assertSurvived(server.url, acked, unanswered, `after kill -9 number ${round + 1}`);
    }
    // and it takes writes after recovery
    const more = writeLoop(server.url, 5_000_000, 99, 1);
    await more.waitFor(3);
    await more.stop();
    for (const [id, p] of more.acked) acked.set(id, p);
    await assertSurvived(server.url, acked, new Map([...unanswered, ...more.unanswered]), 'after recovery');
  } finally {
    if (server) await server.stop();
    removeDataDir(dir);
  }
});

async function sigtermScenario(args) {
  const dir = makeDataDir();
  let server;
  try {
    server = await startServer({ data: dir, args });
    const url = server.url;
    await createCollection(url);
    const r = rng(5);
    const acked = new Map();
    const all = Array.from({ length: 600 }, (_, i) => pointFor(i + 1, r));
    for (let i = 0; i < 400; i += 100) {
      const res = await http(url, 'PUT', `/collections/${C}/points?wait=true`, { points: all.slice(i, i + 100) });
      assert.equal(res.status, 200, res.text);
      for (const p of all.slice(i, i + 100)) acked.set(p.id, p);
    }
    // wait=false: answered before it is applied, and still there after a clean shutdown
    const res = await http(url, 'PUT', `/collections/${C}/points?wait=false`, { points: all.slice(400, 500) });
    assert.equal(res.status, 200, res.text);
    assert.ok(['acknowledged', 'completed'].includes(res.json.result.status), res.text);
    for (const p of all.slice(400, 500)) acked.set(p.id, p);
    // payload change, deletes and a payload index, to be there after the restart too
    let op = await http(url, 'POST', `/collections/${C}/points/payload?wait=true`, { payload: { marked: 1 }, points: [1, 2, 3] });
    assert.equal(op.status, 200, op.text);
    for (const id of [1, 2, 3]) acked.get(id).payload.marked = 1;
    op = await http(url, 'POST', `/collections/${C}/points/delete?wait=true`, { points: [4, 5, 6] });
    assert.equal(op.status, 200, op.text);
    for (const id of [4, 5, 6]) acked.delete(id);
    op = await http(url, 'POST', `/collections/${C}/points/delete?wait=true`,
      { filter: { must: [{ key: 'id', range: { gt: 380, lte: 390 } }] } });
    assert.equal(op.status, 200, op.text);
    for (let id = 381; id <= 390; id++) acked.delete(id);
    op = await http(url, 'PUT', `/collections/${C}/index?wait=true`, { field_name: 'word', field_schema: 'keyword' });
    assert.equal(op.status, 200, op.text);
    // upserts in flight when SIGTERM comes: those answered 200 must be there
    const unanswered = new Map(all.slice(500).map((p) => [p.id, p]));
    const inflight = [];
    for (let i = 500; i < 600; i += 10) {
      const chunk = all.slice(i, i + 10);
      inflight.push(http(url, 'PUT', `/collections/${C}/points?wait=true`, { points: chunk }, {}, 10_000)
        .then((res) => {
          if (res.status === 200) {
            for (const p of chunk) {
              acked.set(p.id, p);
              unanswered.delete(p.id);
            }
          }
        }, () => {}));
    }
    await sleep(5);
    const exit = await server.stop();
    await Promise.all(inflight);
    assert.deepEqual(exit, { code: 0, signal: null }, `stderr: ${server.stderr().slice(-2000)}`);

    server = await startServer({ data: dir, args });
    await assertSurvived(server.url, acked, unanswered, 'after SIGTERM');
    const info = await http(server.url, 'GET', `/collections/${C}`);
    assert.equal(info.json.result.payload_schema?.word?.data_type, 'keyword',
      `payload index lost: ${JSON.stringify(info.json.result.payload_schema)}`);
    const deleted = await http(server.url, 'POST', `/collections/${C}/points`, { ids: [4, 5, 6, 385] });
    assert.deepEqual(deleted.json.result, []);
    const count = await http(server.url, 'POST', `/collections/${C}/points/count`,
      { filter: { must: [{ key: 'marked', match: { value: 1 } }] }, exact: true });
    assert.equal(count.json.result.count, 3);
    const second = await server.stop();
    assert.deepEqual(second, { code: 0, signal: null });
    // a third start on the same directory: still all there (the shutdown's checkpoint reloads)
    server = await startServer({ data: dir, args });
    await assertSurvived(server.url, acked, unanswered, 'after a second SIGTERM');
  } finally {
    if (server) await server.stop();
    removeDataDir(dir);
  }
}

test('SIGTERM: exit code 0, and everything is there on restart', () => sigtermScenario([]));

test('SIGTERM with --sync off: the shutdown still saves everything', () => sigtermScenario(['--sync', 'off']));

test('kill -9 with --sync normal: every acknowledged point survives a process crash', async () => {
  const dir = makeDataDir();
  let server;
  try {
    server = await startServer({ data: dir, args: ['--sync', 'normal'] });
    await createCollection(server.url);
    const loop = writeLoop(server.url, 1, 21);
    loop.running.catch(() => {});
    await loop.waitFor(20);
    loop.halt();
    await server.kill9();
    await loop.stop();
    server = await startServer({ data: dir, args: ['--sync', 'normal'] });
    await assertSurvived(server.url, loop.acked, loop.unanswered, 'after kill -9 (--sync normal)');
  } finally {
    if (server) await server.stop();
    removeDataDir(dir);
  }
});

test('SIGTERM with upserts in flight, 16 times: exit 0 each time, the answered ones kept', async () => {
  const outcomes = [];
  for (let round = 0; round < 16; round++) {
    const dir = makeDataDir();
    let server;
    try {
      server = await startServer({ data: dir });
      await createCollection(server.url);
      const r = rng(1000 + round);
      const acked = new Map();
      const unanswered = new Map();
      const requests = Array.from({ length: 16 }, (_, k) => {
        const points = Array.from({ length: 200 }, (_, j) => pointFor(k * 1000 + j + 1, r));
        for (const p of points) unanswered.set(p.id, p);
        return http(server.url, 'PUT', `/collections/${C}/points?wait=true`, { points }, {}, 10_000).then((res) => {
          if (res.status !== 200) return;
          for (const p of points) {
            unanswered.delete(p.id);
            acked.set(p.id, p);
          }
        }, () => {});
      });
      await sleep(round % 6); // SIGTERM at 0-5 ms: before, while and after the requests arrive
      const exit = await server.stop();
      await Promise.all(requests);
      outcomes.push(`${exit.code}/${exit.signal}`);
      if (exit.code !== 0) {
        assert.fail(`round ${round + 1}: exit ${JSON.stringify(exit)} (${outcomes.join(' ')}); ` +
          `stderr: ${server.stderr().slice(-1500)}`);
      }
      server = await startServer({ data: dir });
      await assertSurvived(server.url, acked, unanswered, `round ${round + 1}`);
    } finally {
      if (server) await server.stop();
      removeDataDir(dir);
    }
  }
});

test('SIGINT also shuts down cleanly', async () => {
  const server = await startServer({ data: true });
  try {
    await createCollection(server.url);
    server.proc.kill('SIGINT');
    const result = await withTimeout(exited(server.proc), 10_000);
    assert.deepEqual(result, { code: 0, signal: null });
  } finally {
    await server.stop();
  }
});

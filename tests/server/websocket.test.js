'use strict';
// GET /ws/performance: the WebSocket stream of performance samples. The client is undici's
// WebSocket (the one Node 20 ships behind --experimental-websocket, which a plain
// `node --test tests/server/` does not turn on); what a browser-style client cannot do (send
// pings, never read) goes through a raw socket that does the handshake and masks its frames by
// hand. One test runs over TLS (wss), where libmicrohttpd relays the upgraded stream through a
// socket pair. Counts over time windows have generous bounds: only the order of magnitude of the
// interval is checked.
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { Agent, WebSocket } = require('undici');
const { startServer, http, sleep } = require('./server_util.js');

const PATH = '/ws/performance';
const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

// A WebSocket with its messages collected (parsed) and its close awaited.
function connect(url, headers, dispatcher) {
  const ws = new WebSocket(url.replace(/^http/, 'ws') + PATH, { headers, dispatcher });
  const client = { ws, messages: [] };
  client.opened = new Promise((resolve, reject) => {
    ws.addEventListener('open', resolve, { once: true });
    ws.addEventListener('error', () => reject(new Error('the WebSocket did not open')), { once: true });
  });
  client.closed = new Promise((resolve) => {
    ws.addEventListener('close', (e) => resolve({ code: e.code, reason: e.reason, wasClean: e.wasClean }));
  });
  client.closed.catch(() => {});
  ws.addEventListener('message', (e) => client.messages.push(JSON.parse(String(e.data))));
  client.send = (m) => ws.send(typeof m === 'string' ? m : JSON.stringify(m));
  // the first message from index `from` on that pred accepts, within ms
  client.next = async (pred, from = 0, ms = 5000) => {
    const end = Date.now() + ms;
    for (;;) {
      const hit = client.messages.slice(from).find(pred);
      if (hit) return hit;
      if (Date.now() > end) {
        throw new Error(`no such message within ${ms} ms; got ${JSON.stringify(client.messages.slice(from, from + 5))}`);
      }
      await sleep(20);
    }
  };
  return client;
}

async function subscribed(url, interval, channels = ['performance_metrics']) {
  const c = connect(url);
  await c.opened;
  c.send({ type: 'subscribe', channels, interval });
  await c.next((m) => m.type === 'subscribed');
  return c;
}

const samples = (c, from = 0) => c.messages.slice(from).filter((m) => m.type === 'performance_metrics');

// A WebSocket client frame: FIN, opcode, masked payload.
function frame(opcode, payload = Buffer.alloc(0)) {
  const mask = crypto.randomBytes(4);
  const n = payload.length;
  const head = n < 126 ? Buffer.from([0x80 | opcode, 0x80 | n])
    : Buffer.from([0x80 | opcode, 0x80 | 126, n >> 8, n & 255]);
  const body = Buffer.from(payload);
  for (let i = 0; i < n; i++) body[i] ^= mask[i % 4];
  return Buffer.concat([head, mask, body]);
}

// A raw socket through the handshake: {socket, head (the answer's header), rest (bytes after it)}.
function rawHandshake(port, extraHeaders = '') {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let got = Buffer.alloc(0);
    const onData = (d) => {
      got = Buffer.concat([got, d]);
      const end = got.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      socket.pause();
      resolve({ socket, head: got.subarray(0, end).toString(), rest: got.subarray(end + 4) });
    };
    socket.on('data', onData);
    socket.on('error', reject);
    socket.write(`GET ${PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\n` +
      `${extraHeaders}\r\n`);
  });
}

const handshake = (extra = {}) => ({
  Upgrade: 'websocket', Connection: 'Upgrade', 'Sec-WebSocket-Version': '13',
  'Sec-WebSocket-Key': crypto.randomBytes(16).toString('base64'), ...extra,
});

// A handshake that is to fail: the answer's text (header and body), as the server sent it.
function rawGet(port, headers) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (d) => {
      text += d;
      const end = text.indexOf('\r\n\r\n');
      const length = /content-length: (\d+)/i.exec(text);
      if (end >= 0 && length && text.length >= end + 4 + Number(length[1])) {
        socket.destroy();
        resolve(text);
      }
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(text));
    const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    socket.write(`GET ${PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\n${lines}\r\n`);
  });
}

describe('GET /ws/performance', () => {
  let server;
  before(async () => {
    server = await startServer({ args: ['--log-level', 'info'] }); // which says who was dropped
  });
  after(async () => {
    if (server) await server.stop();
  });

  test('without the upgrade headers: 426 and a JSON message; a bad key 400; version 8 426; POST 405', async () => {
    const plain = await http(server.url, 'GET', PATH);
    assert.equal(plain.status, 426, plain.text);
    assert.equal(plain.headers.get('upgrade'), 'websocket');
    assert.match(plain.json.status.error, /WebSocket.*Upgrade: websocket/);
    const badKey = await rawGet(server.port, handshake({ 'Sec-WebSocket-Key': 'c2hvcnQ=' }));
    assert.match(badKey, /^HTTP\/1\.1 400 /);
    assert.match(badKey, /Sec-WebSocket-Key must be the base64 of 16 bytes/);
    const v8 = await rawGet(server.port, handshake({ 'Sec-WebSocket-Version': '8' }));
    assert.match(v8, /^HTTP\/1\.1 426 /);
    assert.match(v8, /Sec-WebSocket-Version: 13/i);
    const post = await http(server.url, 'POST', PATH, {});
    assert.equal(post.status, 405, post.text);
  });

  test('subscribe: an ack, then performance_metrics at about the interval, in the reference\'s shape', async () => {
    const c = await subscribed(server.url, 200);
    assert.deepEqual(c.messages[0], { type: 'subscribed', channels: ['performance_metrics'], interval: 200 });
    const from = c.messages.length;
    await sleep(2000);
    const got = samples(c, from);
    assert.ok(got.length >= 4 && got.length <= 16, `${got.length} samples in 2 s at 200 ms`);
    for (const m of got) {
      assert.match(m.timestamp, ISO_MS);
      const k = m.metrics;
      for (const key of ['vector_ops_per_sec', 'search_ops_per_sec', 'insert_ops_per_sec',
        'search_latency_p50_ms', 'search_latency_p95_ms', 'search_latency_p99_ms', 'memory_pool_hit_rate',
        'vectors']) {
        assert.equal(typeof k[key], 'number', `${key} in ${JSON.stringify(k)}`);
      }
      assert.equal(typeof k.simd_acceleration_active, 'boolean');
      assert.ok(k.memory_pool_hit_rate >= 0 && k.memory_pool_hit_rate <= 1);
    }
    const stamps = got.map((m) => Date.parse(m.timestamp));
    for (let i = 1; i < stamps.length; i++) assert.ok(stamps[i] >= stamps[i - 1], 'timestamps go back');
    c.ws.close();
    await c.closed;
  });

  test('the figures move with upserts and searches through the REST API', async () => {
    const c = await subscribed(server.url, 100);
    const first = await c.next((m) => m.type === 'performance_metrics');
    assert.equal(first.metrics.vectors, 0);
    assert.equal((await http(server.url, 'PUT', '/collections/moving', { vectors: { size: 4, distance: 'Euclid' } })).status, 200);
    const points = Array.from({ length: 50 }, (_, i) => ({ id: i + 1, vector: [i, i % 7, i % 3, 1] }));
    const up = await http(server.url, 'PUT', '/collections/moving/points?wait=true', { points });
    assert.equal(up.status, 200, up.text);
    const from = c.messages.length;
    const end = Date.now() + 2500;
    while (Date.now() < end) {
      const res = await http(server.url, 'POST', '/collections/moving/points/search', { vector: [3, 3, 1, 1], limit: 5 });
      assert.equal(res.status, 200, res.text);
    }
    const moved = await c.next((m) => m.type === 'performance_metrics' && m.metrics.vectors === 50 &&
      m.metrics.search_ops_per_sec > 0 && m.metrics.vector_ops_per_sec > 0 &&
      m.metrics.search_latency_p50_ms > 0, from);
    assert.ok(moved.metrics.search_latency_p99_ms >= moved.metrics.search_latency_p50_ms);
    c.ws.close();
    await c.closed;
  });

  test('unsubscribe stops the samples; a subscription to optimization_events alone sends none', async () => {
    const c = await subscribed(server.url, 100);
    await c.next((m) => m.type === 'performance_metrics');
    c.send({ type: 'unsubscribe' });
    await c.next((m) => m.type === 'unsubscribed');
    const after = c.messages.length;
    await sleep(800);
    assert.equal(samples(c, after).length, 0, 'samples after the unsubscribe');
    c.send({ type: 'subscribe', channels: ['optimization_events'], interval: 100 });
    await c.next((m) => m.type === 'subscribed', after);
    const quiet = c.messages.length;
    await sleep(600);
    assert.equal(samples(c, quiet).length, 0);
    c.ws.close();
    await c.closed;
  });

  test('bad messages get error frames and the stream stays open; a message over 64 KiB closes 1009', async () => {
    const c = connect(server.url);
    await c.opened;
    const bad = [
      ['{"type": "subscribe", ', /malformed JSON/],
      ['[1, 2]', /string `type`/],
      [{ type: 'dance' }, /unknown message type "dance"/],
      [{ type: 'subscribe', channels: ['performance_metrics', 'gossip'], interval: 1000 }, /unknown channel "gossip"/],
      [{ type: 'subscribe', interval: 1000 }, /`channels`/],
      [{ type: 'subscribe', channels: ['performance_metrics'], interval: 50 }, /`interval` must be an integer from 100 to 60000/],
      [{ type: 'subscribe', channels: ['performance_metrics'], interval: 600000 }, /`interval`/],
      [{ type: 'subscribe', channels: ['performance_metrics'], interval: '1000' }, /`interval`/],
    ];
    for (const [message, why] of bad) {
      const from = c.messages.length;
      c.send(message);
      const err = await c.next((m) => m.type === 'error', from);
      assert.match(err.message, why);
    }
    const from = c.messages.length;
    c.ws.send(new Uint8Array([1, 2, 3]));
    assert.match((await c.next((m) => m.type === 'error', from)).message, /binary/);
    assert.equal(samples(c).length, 0, 'a failed subscribe subscribed');
    c.send({ type: 'subscribe', channels: ['performance_metrics'], interval: 100 });
    await c.next((m) => m.type === 'performance_metrics');
    c.send(JSON.stringify({ type: 'subscribe', pad: 'x'.repeat(100 * 1024) }));
    const closed = await c.closed;
    assert.equal(closed.code, 1009);
  });

  test('a client\'s close is answered; a ping gets its pong', async () => {
    const c = await subscribed(server.url, 100);
    c.ws.close(1000, 'done');
    const closed = await c.closed;
    assert.equal(closed.code, 1000);
    assert.ok(closed.wasClean);

    const { socket, head, rest } = await rawHandshake(server.port);
    assert.match(head, /^HTTP\/1\.1 101 /);
    let got = rest;
    socket.on('data', (d) => {
      got = Buffer.concat([got, d]);
    });
    socket.resume();
    socket.write(frame(0x9, Buffer.from('are you there')));
    const end = Date.now() + 3000;
    while (got.length < 15 && Date.now() < end) await sleep(20);
    assert.equal(got[0], 0x8a, 'a pong frame');
    assert.equal(got.subarray(2, 2 + got[1]).toString(), 'are you there');
    socket.write(frame(0x8, Buffer.from([0x03, 0xe8])));
    await new Promise((resolve) => socket.on('close', resolve));
    assert.equal(got[got.length - 4], 0x88, 'a close frame answered the close');
  });

  test('a client that never reads is dropped; another keeps its stream and HTTP is answered', async () => {
    const good = await subscribed(server.url, 100);
    const { socket } = await rawHandshake(server.port);
    socket.write(frame(0x1, Buffer.from(JSON.stringify({ type: 'subscribe', channels: ['performance_metrics'], interval: 100 }))));
    let closed = false;
    socket.on('error', () => {});
    socket.on('close', () => {
      closed = true;
    });
    // it never reads, and makes the server owe it pongs: 8 MiB of pings at most
    const pings = Buffer.concat(Array.from({ length: 500 }, () => frame(0x9, Buffer.alloc(125, 7))));
    const from = good.messages.length;
    let sent = 0;
    const started = Date.now();
    while (!closed && sent < 8 * 1024 * 1024 && Date.now() - started < 20000) {
      if (!socket.write(pings)) await new Promise((resolve) => {
        const t = setTimeout(resolve, 200);
        socket.once('drain', () => {
          clearTimeout(t);
          resolve();
        });
      });
      sent += pings.length;
      const health = await http(server.url, 'GET', '/healthz');
      assert.equal(health.status, 200);
    }
    const end = Date.now() + 10000;
    while (!closed && Date.now() < end) {
      socket.write(pings);
      await sleep(50);
    }
    assert.ok(closed, `the reader that never reads is still connected after ${sent} bytes of pings`);
    assert.match(server.stderr(), /websocket: dropped a client owed more than 1048576 bytes/);
    const stats = await http(server.url, 'GET', '/collections');
    assert.equal(stats.status, 200);
    await sleep(500);
    assert.ok(samples(good, from).length >= 2, 'the other client got no samples meanwhile');
    assert.equal(good.ws.readyState, WebSocket.OPEN);
    good.ws.close();
    await good.closed;
  });
});

describe('GET /ws/performance: limits, API key, stop', () => {
  test('behind the API key: refused without it, served with it', async () => {
    const server = await startServer({ args: ['--api-key', 'sesame'] });
    try {
      const refused = await rawGet(server.port, handshake());
      assert.match(refused, /^HTTP\/1\.1 401 /);
      const bare = connect(server.url);
      await assert.rejects(bare.opened);
      const c = connect(server.url, { 'api-key': 'sesame' });
      await c.opened;
      c.send({ type: 'subscribe', channels: ['performance_metrics'], interval: 100 });
      await c.next((m) => m.type === 'performance_metrics');
      c.ws.close();
      await c.closed;
    } finally {
      await server.stop();
    }
  });

  test('past --max-websockets: 503 before any upgrade; a closed one frees its place', async () => {
    const server = await startServer({ args: ['--max-websockets', '2'] });
    try {
      const a = await subscribed(server.url, 1000);
      const b = await subscribed(server.url, 1000);
      const third = await rawGet(server.port, handshake());
      assert.match(third, /^HTTP\/1\.1 503 /);
      assert.match(third, /--max-websockets/);
      a.ws.close();
      await a.closed;
      let opened = null;
      for (let i = 0; i < 50 && !opened; i++) { // the place comes back once the server let go
        const c = connect(server.url);
        try {
          await c.opened;
          opened = c;
        } catch {
          await sleep(50);
        }
      }
      assert.ok(opened, 'no place came back');
      opened.ws.close();
      b.ws.close();
      await Promise.all([opened.closed, b.closed]);
    } finally {
      await server.stop();
    }
  });

  test('SIGTERM with open WebSockets: each gets close 1001, the server exits 0 promptly', async () => {
    const server = await startServer();
    const clients = [await subscribed(server.url, 100), await subscribed(server.url, 100)];
    const silent = await rawHandshake(server.port); // never reads, never answers the close
    silent.socket.on('error', () => {});
    const started = Date.now();
    const result = await server.stop();
    assert.equal(result.code, 0);
    assert.ok(Date.now() - started < 5000, `stopping took ${Date.now() - started} ms`);
    for (const c of clients) assert.equal((await c.closed).code, 1001);
    silent.socket.destroy();
  });

  test('over TLS (wss): the stream, and close 1001 on SIGTERM', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vexfs-wss-'));
    let server;
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2',
        '-subj', '/CN=127.0.0.1', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')],
      { stdio: 'ignore' });
      server = await startServer({ args: ['--tls-cert', path.join(dir, 'cert.pem'), '--tls-key', path.join(dir, 'key.pem')] });
      const c = connect(server.url, undefined, new Agent({ connect: { rejectUnauthorized: false } }));
      await c.opened;
      c.send({ type: 'subscribe', channels: ['performance_metrics'], interval: 100 });
      await c.next((m) => m.type === 'performance_metrics' && ISO_MS.test(m.timestamp));
      assert.equal((await server.stop()).code, 0);
      assert.equal((await c.closed).code, 1001);
    } finally {
      if (server) await server.stop(); // once stopped, the same result again
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

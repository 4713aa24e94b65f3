'use strict';
// API keys, refusing to listen on every interface without one, the body size limit, slow
// clients (a stalled request blocks nobody, the idle timeout closes it), the connection limit,
// collection names that could reach outside the data directory, request logs, and TLS.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const nodeHttp = require('node:http');
const https = require('node:https');
const { QdrantClient } = require('@qdrant/js-client-rest');
const { startServer, runServerExpectingExit, makeDataDir, removeDataDir, http, sleep, withTimeout } =
  require('./server_util.js');

const COLLECTION = { vectors: { size: 4, distance: 'Dot' } };

// Opens a socket to port, writes data, and resolves with what came back once the server closed
// the connection or waitMs passed: {text, closed}.
function rawExchange(port, data, waitMs) {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    let text = '';
    let closed = false;
    const timer = setTimeout(() => {
      sock.destroy();
      resolve({ text, closed });
    }, waitMs);
    sock.setEncoding('latin1');
    sock.on('data', (s) => {
      text += s;
    });
    sock.on('error', () => {}); // a reset counts as closed
    sock.on('close', () => {
      closed = true;
      clearTimeout(timer);
      resolve({ text, closed });
    });
    sock.on('connect', () => sock.write(data));
  });
}

// A socket that sends a partial request and then nothing: resolves with {sock, closedAt} where
// closedAt is a promise of the time (ms since the stall began) the server closed it.
function stall(port, partial) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    const timer = setTimeout(() => reject(new Error('cannot connect')), 5000);
    sock.on('error', () => {});
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.write(partial);
      const start = Date.now();
      const closedAt = new Promise((res) => sock.once('close', () => res(Date.now() - start)));
      resolve({ sock, closedAt });
    });
  });
}

const HALF_HEADERS = 'GET /collections HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ';
const HALF_BODY = 'PUT /collections/slow HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
  'Content-Length: 200\r\n\r\n{"vectors": {"size": ';

describe('--api-key', () => {
  let server;
  before(async () => {
    server = await startServer({ args: ['--api-key', 'secret'] });
  });
  after(async () => {
    if (server) await server.stop();
  });

  test('no key: 401 on reads, writes and malformed bodies alike', async () => {
    const cases = [
      ['GET', '/collections'],
      ['PUT', '/collections/k1', COLLECTION],
      ['GET', '/collections/k1'],
      ['POST', '/collections/k1/points/search', { vector: [1, 2, 3, 4], limit: 1 }],
      ['PUT', '/collections/k1/points', '{"points": [garbage'],
      ['DELETE', '/collections/k1'],
    ];
    for (const [method, path, body] of cases) {
      const res = await http(server.url, method, path, body);
      assert.equal(res.status, 401, `${method} ${path} without a key: ${res.status} ${res.text}`);
    }
  });

  test('wrong keys: 401', async () => {
    const wrong = [
      { 'api-key': 'secre' }, { 'api-key': 'secret2' }, { 'api-key': 'SECRET' }, { 'api-key': '' },
      { authorization: 'Bearer secre' }, { authorization: 'Bearer secret2' },
      { authorization: 'Basic secret' }, { authorization: 'secret' }, { authorization: 'Bearer' },
    ];
    for (const headers of wrong) {
      const res = await http(server.url, 'PUT', '/collections/k2', COLLECTION, headers);
      assert.equal(res.status, 401, `${JSON.stringify(headers)}: ${res.status} ${res.text}`);
    }
  });

  test('nothing was made by the refused requests', async () => {
    const res = await http(server.url, 'GET', '/collections', undefined, { 'api-key': 'secret' });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json.result.collections, []);
  });

  test('api-key header and Authorization: Bearer: 200', async () => {
    let res = await http(server.url, 'PUT', '/collections/k3', COLLECTION, { 'api-key': 'secret' });
    assert.equal(res.status, 200, res.text);
    res = await http(server.url, 'GET', '/collections/k3', undefined, { authorization: 'Bearer secret' });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.result.config.params.vectors.size, 4);
  });

  test('the Qdrant client with apiKey', async () => {
    const client = new QdrantClient({ url: server.url, apiKey: 'secret', checkCompatibility: false });
    const { collections } = await client.getCollections();
    assert.deepEqual(collections.map((c) => c.name), ['k3']);
    const anonymous = new QdrantClient({ url: server.url, checkCompatibility: false });
    await assert.rejects(anonymous.getCollections(), (err) => err.status === 401);
  });
});

test('the key from VEXFS_API_KEY', async () => {
  const server = await startServer({ env: { VEXFS_API_KEY: 'from-env' } });
  try {
    let res = await http(server.url, 'GET', '/collections');
    assert.equal(res.status, 401, res.text);
    res = await http(server.url, 'GET', '/collections', undefined, { 'api-key': 'secret' });
    assert.equal(res.status, 401, res.text);
    res = await http(server.url, 'GET', '/collections', undefined, { 'api-key': 'from-env' });
    assert.equal(res.status, 200, res.text);
  } finally {
    await server.stop();
  }
});

describe('--host 0.0.0.0', () => {
  test('without a key: refuses to start, non-zero exit, says why on stderr', async () => {
    const r = await runServerExpectingExit(['--host', '0.0.0.0', '--port', '0']);
    assert.equal(r.stillRunning, false, `still running after 10 s; stdout: ${r.stdout}`);
    assert.equal(r.listening, false, `it listened: ${r.stdout}`);
    assert.ok(r.code !== 0 && r.code !== null, `exit code ${r.code}, signal ${r.signal}`);
    assert.ok(r.stderr.trim().length > 0, 'nothing on stderr');
  });

  test('with --insecure: starts and serves', async () => {
    const server = await startServer({ host: '0.0.0.0', args: ['--insecure'] });
    try {
      const res = await http(server.url, 'GET', '/collections');
      assert.equal(res.status, 200, res.text);
    } finally {
      await server.stop();
    }
  });

  test('with --api-key: starts and asks for the key', async () => {
    const server = await startServer({ host: '0.0.0.0', args: ['--api-key', 'k'] });
    try {
      assert.equal((await http(server.url, 'GET', '/collections')).status, 401);
      assert.equal((await http(server.url, 'GET', '/collections', undefined, { 'api-key': 'k' })).status, 200);
    } finally {
      await server.stop();
    }
  });
});

describe('--max-body 1024', () => {
  let server;
  before(async () => {
    server = await startServer({ args: ['--max-body', '1024'] });
    const res = await http(server.url, 'PUT', '/collections/small', COLLECTION);
    assert.equal(res.status, 200, res.text);
  });
  after(async () => {
    if (server) await server.stop();
  });

  function pointsBody(bytes) { // a valid upsert of about that many bytes
    const points = [];
    let id = 1;
    while (JSON.stringify({ points }).length < bytes - 60) points.push({ id: id++, vector: [0.25, 0.5, 0.75, 1] });
    return JSON.stringify({ points });
  }

  async function count() {
    const res = await http(server.url, 'POST', '/collections/small/points/count', { exact: true });
    assert.equal(res.status, 200, `the server no longer serves: ${res.status} ${res.text}`);
    return res.json.result.count;
  }

  test('a 900-byte body is taken', async () => {
    const body = pointsBody(900);
    assert.ok(body.length > 800 && body.length <= 1024, `${body.length}`);
    const res = await http(server.url, 'PUT', '/collections/small/points?wait=true', body);
    assert.equal(res.status, 200, res.text);
    assert.equal(await count(), JSON.parse(body).points.length);
  });

  test('a 4 KiB body (Content-Length): 413, and the server still serves', async () => {
    const before = await count();
    const body = JSON.stringify({ points: [{ id: 1000, vector: [1, 2, 3, 4], payload: { pad: 'x'.repeat(4096) } }] });
    const res = await http(server.url, 'PUT', '/collections/small/points?wait=true', body);
    assert.equal(res.status, 413, `${res.status} ${res.text}`);
    assert.equal(typeof res.json?.status?.error, 'string', `no error envelope: ${res.text}`);
    assert.equal(await count(), before);
  });

  function chunked(chunks) { // PUT points with Transfer-Encoding: chunked
    return new Promise((resolve, reject) => {
      const r = nodeHttp.request({ host: '127.0.0.1', port: server.port, method: 'PUT',
        path: '/collections/small/points?wait=true',
        headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (s) => {
          text += s;
        });
        response.on('end', () => resolve({ status: response.statusCode, text }));
        response.on('error', () => resolve({ status: response.statusCode, text }));
      });
      r.on('error', (err) => reject(new Error(`no answer: ${err.message}`)));
      r.setTimeout(10_000, () => r.destroy(new Error('timeout')));
      for (const c of chunks) r.write(c);
      r.end();
    });
  }

  test('a small chunked body (no Content-Length) is taken', async () => {
    const before = await count();
    const res = await chunked(['{"points":[{"id":1002,', '"vector":[1,2,3,4]}]}']);
    assert.equal(res.status, 200, `${res.status} ${res.text}`);
    assert.equal(await count(), before + 1);
  });

  test('a 4 KiB chunked body (no Content-Length): 413', async () => {
    const before = await count();
    const res = await chunked(['{"points":[{"id":1001,"vector":[1,2,3,4],"payload":{"pad":"',
      ...Array.from({ length: 4 }, () => 'y'.repeat(1024)), '"}}]}']);
    assert.equal(res.status, 413, `${res.status} ${res.text}`);
    assert.equal(await count(), before);
  });

  test('Content-Length of 1 GiB is refused before the body comes', async () => {
    const { text } = await rawExchange(server.port, 'PUT /collections/small/points HTTP/1.1\r\nHost: x\r\n' +
      'Content-Type: application/json\r\nContent-Length: 1073741824\r\n\r\n{"points":[', 5000);
    assert.match(text, /^HTTP\/1\.[01] 413/, `answer within 5 s: ${JSON.stringify(text.slice(0, 200))}`);
    assert.ok(await count() >= 0);
  });
});

describe('slow clients', () => {
  test('stalled requests do not hold up others', async () => {
    const server = await startServer({ args: ['--threads', '2'] });
    const stalled = [];
    try {
      for (let i = 0; i < 8; i++) stalled.push(await stall(server.port, i % 2 ? HALF_BODY : HALF_HEADERS));
      const t0 = Date.now();
      for (let i = 0; i < 10; i++) {
        const res = await http(server.url, 'GET', '/collections', undefined, {}, 3000);
        assert.equal(res.status, 200, res.text);
      }
      const parallel = await Promise.all(Array.from({ length: 10 }, () =>
        http(server.url, 'PUT', '/collections/slowtest', COLLECTION, {}, 3000).then((r) => r.status)));
      assert.equal(parallel.filter((s) => s === 200).length, 1, `${parallel}`);
      assert.equal(parallel.filter((s) => s === 409).length, 9, `${parallel}`);
      assert.ok(Date.now() - t0 < 5000, `20 requests took ${Date.now() - t0} ms beside 8 stalled sockets`);
    } finally {
      for (const s of stalled) s.sock.destroy();
      await server.stop();
    }
  });

  test('--idle-timeout 2 closes stalled sockets within 10 s; the server serves on', async () => {
    const server = await startServer({ args: ['--idle-timeout', '2'] });
    const stalled = [];
    try {
      for (let i = 0; i < 4; i++) stalled.push(await stall(server.port, i % 2 ? HALF_BODY : HALF_HEADERS));
      stalled.push(await stall(server.port, '')); // connected, sent nothing
      const times = await withTimeout(Promise.all(stalled.map((s) => s.closedAt)), 10_000);
      assert.ok(times !== null, 'a stalled socket was still open after 10 s');
      for (const t of times) assert.ok(t >= 1000, `closed after ${t} ms, before the 2 s idle timeout`);
      const res = await http(server.url, 'GET', '/collections');
      assert.equal(res.status, 200, res.text);
    } finally {
      for (const s of stalled) s.sock.destroy();
      await server.stop();
    }
  });

  test('--idle-timeout 2 leaves a keep-alive connection that is used alone', async () => {
    const server = await startServer({ args: ['--idle-timeout', '2'] });
    try {
      // one connection, a request every 500 ms for 3 s: longer than the timeout in all, never idle
      const agent = new nodeHttp.Agent({ keepAlive: true, maxSockets: 1 });
      const sockets = new Set();
      for (let i = 0; i < 6; i++) {
        const status = await new Promise((resolve, reject) => {
          const r = nodeHttp.get({ host: '127.0.0.1', port: server.port, path: '/collections', agent }, (res) => {
            sockets.add(res.socket);
            res.resume();
            res.on('end', () => resolve(res.statusCode));
          });
          r.on('error', reject);
          r.setTimeout(3000, () => r.destroy(new Error('timeout')));
        });
        assert.equal(status, 200);
        await sleep(500);
      }
      agent.destroy();
      assert.equal(sockets.size, 1, `${sockets.size} connections for 6 requests`);
    } finally {
      await server.stop();
    }
  });
});

describe('--max-connections', () => {
  test('4: a fifth connection is not served while four are open, and service resumes after', async () => {
    const server = await startServer({ args: ['--max-connections', '4'] });
    const held = [];
    try {
      for (let i = 0; i < 4; i++) held.push(await stall(server.port, HALF_HEADERS));
      await sleep(100);
      let fifthStatus = 'pending';
      const fifth = http(server.url, 'GET', '/collections', undefined, {}, 5000).then(
        (res) => { fifthStatus = res.status; }, (err) => { fifthStatus = `error ${err.message}`; });
      await sleep(1000);
      assert.notEqual(fifthStatus, 200, 'a fifth connection was served beside four');
      for (const h of held) h.sock.destroy();
      await fifth; // served now (it waited) or refused before (either is fine)
      const res = await http(server.url, 'GET', '/collections', undefined, {}, 3000);
      assert.equal(res.status, 200, res.text);
    } finally {
      for (const h of held) h.sock.destroy();
      await server.stop();
    }
  });
});

describe('--busy-poll-us', () => {
  // Requests a worker answers (a create, an upsert, a listing) are resumed on the polling thread:
  // each must come back promptly whether that thread polls or sleeps when the worker finishes.
  for (const [busy, threads] of [['0', '1'], ['0', '2'], ['1000', '2']]) {
    test(`${busy} with --threads ${threads}: worker-answered and light requests alike are served at once`, async () => {
      const server = await startServer({ args: ['--busy-poll-us', busy, '--threads', threads] });
      try {
        const t0 = Date.now();
        assert.equal((await http(server.url, 'PUT', '/collections/bp', COLLECTION, {}, 3000)).status, 200);
        for (let i = 0; i < 20; i++) {
          const up = await http(server.url, 'PUT', '/collections/bp/points?wait=true',
            { points: [{ id: i, vector: [i, 1, 0, 0] }] }, {}, 3000);
          assert.equal(up.status, 200, up.text);
          assert.equal((await http(server.url, 'GET', '/collections', undefined, {}, 3000)).status, 200);
          const found = await http(server.url, 'POST', '/collections/bp/points/search',
            { vector: [1, 0, 0, 0], limit: 1 }, {}, 3000);
          assert.equal(found.status, 200, found.text);
          assert.equal(found.json.result[0].id, i, found.text); // Dot: the largest first coordinate
        }
        assert.ok(Date.now() - t0 < 10000, `61 requests took ${Date.now() - t0} ms`);
      } finally {
        await server.stop();
      }
    });
  }

  test('SIGTERM amid a stream of one-request connections: it stops, exit 0', async () => {
    // every round of a polling thread sees a connection close: the stop must still get through
    const server = await startServer({ args: ['--threads', '2'] });
    let go = true;
    let served = 0;
    const loops = Array.from({ length: 4 }, async () => {
      while (go) {
        try {
          const res = await http(server.url, 'GET', '/healthz', undefined, { connection: 'close' }, 2000);
          if (res.status === 200) served++;
        } catch {
          await sleep(5); // refused once it stops listening
        }
      }
    });
    try {
      await sleep(500);
      assert.ok(served > 0, 'nothing served before the stop');
      await server.stop(); // throws unless it exits 0 on SIGTERM within 10 s
    } finally {
      go = false;
      await Promise.all(loops);
      await server.stop();
    }
  });

  test('a bad value is a usage error naming the option', async () => {
    for (const bad of ['-1', 'abc', '1000001']) {
      const r = await runServerExpectingExit(['--busy-poll-us', bad, '--port', '0']);
      assert.equal(r.listening, false, `it listened with --busy-poll-us ${bad}`);
      assert.equal(r.code, 2, `--busy-poll-us ${bad}: exit ${r.code}, signal ${r.signal}`);
      assert.match(r.stderr, /--busy-poll-us: bad value/);
    }
  });
});

describe('collection names', () => {
  // Names that must not become files outside --data DIR (or anywhere): sent on a raw socket,
  // since fetch would resolve the dot segments itself.
  // [as sent, label, answers allowed]: a name whose %2F decodes to a second path segment may
  // also miss every route (404)
  const BAD = [
    ['..', '..', ['400']], ['.', '.', ['400']], ['%2E%2E', '.. encoded', ['400']],
    ['..%2F..%2Fescaped', '../../escaped', ['400', '404']], ['a%2Fb', 'a/b', ['400', '404']],
    ['a%5Cb', 'a\\b', ['400']], ['a%00b', 'a NUL b', ['400']], ['x'.repeat(300), '300 characters', ['400']],
  ];
  let parent;
  let server;
  before(async () => {
    parent = makeDataDir();
    server = await startServer({ data: path.join(parent, 'data') });
  });
  after(async () => {
    if (server) await server.stop();
    removeDataDir(parent);
  });

  test('PUT /collections/<bad name>: 400, nothing made, nothing written outside the data directory', async () => {
    const wrong = [];
    for (const [raw, label, allowed] of BAD) {
      const body = JSON.stringify(COLLECTION);
      const { text } = await rawExchange(server.port, `PUT /collections/${raw} HTTP/1.1\r\nHost: x\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`, 5000);
      const status = (/^HTTP\/1\.[01] (\d+)/.exec(text) || [])[1];
      if (!allowed.includes(status)) wrong.push(`${label}: ${JSON.stringify(text.split('\r\n')[0])} ${text.slice(text.indexOf('\r\n\r\n') + 4, 300)}`);
    }
    const list = await http(server.url, 'GET', '/collections');
    assert.equal(list.status, 200, list.text);
    const outside = fs.readdirSync(parent).filter((f) => f !== 'data');
    assert.deepEqual({ wrong, made: list.json.result.collections, outside }, { wrong: [], made: [], outside: [] });
  });

  test('ordinary names with dashes, underscores, dots and digits work', async () => {
    for (const name of ['my-collection_1', 'v2.0', 'UPPER', '9']) {
      const res = await http(server.url, 'PUT', `/collections/${name}`, COLLECTION);
      assert.equal(res.status, 200, `${name}: ${res.text}`);
      const info = await http(server.url, 'GET', `/collections/${name}`);
      assert.equal(info.status, 200, `${name}: ${info.text}`);
    }
  });
});

describe('--log-level', () => {
  test('info: a line per request on stderr, naming method, path and status; never the API key', async () => {
    const server = await startServer({ args: ['--log-level', 'info', '--api-key', 'k3y-that-must-not-leak'] });
    try {
      await http(server.url, 'GET', '/collections/logged_name', undefined, { 'api-key': 'k3y-that-must-not-leak' });
      await http(server.url, 'GET', '/collections', undefined, { authorization: 'Bearer k3y-that-must-not-leak' });
      await http(server.url, 'GET', '/collections', undefined, { 'api-key': 'wrong-k3y-in-log' });
      let line;
      for (let i = 0; i < 40 && !line; i++) {
        line = server.stderr().split('\n').find((l) => l.includes('/collections/logged_name'));
        if (!line) await sleep(50);
      }
      assert.ok(line, `no log line; stderr: ${server.stderr()}`);
      assert.match(line, /GET/);
      assert.match(line, /404/);
      await sleep(100);
      assert.equal(server.stderr().includes('k3y-that-must-not-leak'), false, 'the API key is in the log');
      assert.equal(server.stderr().includes('wrong-k3y-in-log'), false, 'a presented key is in the log');
    } finally {
      await server.stop();
    }
  });

  test('off: no request lines', async () => {
    const server = await startServer({ args: ['--log-level', 'off'] });
    try {
      await http(server.url, 'GET', '/collections/logged_name');
      await sleep(200);
      assert.equal(server.stderr().includes('logged_name'), false, server.stderr());
    } finally {
      await server.stop();
    }
  });
});

describe('--tls-cert, --tls-key', () => {
  let dir;
  let server;
  let ca;
  before(async () => {
    dir = makeDataDir();
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
      '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' });
    ca = fs.readFileSync(path.join(dir, 'cert.pem'));
    server = await startServer({ args: ['--tls-cert', path.join(dir, 'cert.pem'), '--tls-key', path.join(dir, 'key.pem'),
      '--api-key', 'tls-key'] });
  });
  after(async () => {
    if (server) await server.stop();
    removeDataDir(dir);
  });

  function get(pathName, headers) {
    return new Promise((resolve, reject) => {
      const r = https.get({ host: '127.0.0.1', port: server.port, path: pathName, ca, headers }, (res) => {
        let text = '';
        res.on('data', (c) => {
          text += c;
        });
        res.on('end', () => resolve({ status: res.statusCode, text }));
      });
      r.on('error', reject);
      r.setTimeout(5000, () => r.destroy(new Error('timeout')));
    });
  }

  test('the listening line says https, and HTTPS requests are served', async () => {
    assert.equal(server.scheme, 'https', server.line);
    const res = await get('/collections', { 'api-key': 'tls-key' });
    assert.equal(res.status, 200, res.text);
    assert.equal((await get('/collections', {})).status, 401);
  });

  test('plain HTTP on the TLS port gets no answer served', async () => {
    const { text } = await rawExchange(server.port, 'GET /collections HTTP/1.1\r\nHost: x\r\napi-key: tls-key\r\n\r\n', 3000);
    assert.doesNotMatch(text, /^HTTP\/1\.[01] 200/);
    const res = await get('/collections', { 'api-key': 'tls-key' });
    assert.equal(res.status, 200, res.text);
  });
});

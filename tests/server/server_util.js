'use strict';
// Starts and stops vexfs-server for the tests in this folder (node --test tests/server/).
// The binary: $VEXFS_SERVER, else build/server/vexfs-server under the repository root.
// Every server is started on 127.0.0.1 (unless a host is given) with --port 0; the port comes
// from the one line the server prints on start. Every test file stops its servers in after() or
// finally; a process left running when the test process exits is killed with SIGKILL here.

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');
const BINARY = process.env.VEXFS_SERVER || path.join(ROOT, 'build', 'server', 'vexfs-server');
const LISTENING = /listening on (https?):\/\/([^\s]+):(\d+)/;
const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 10_000;
const KEEP = 64 * 1024; // of stderr, for failure messages

const running = new Set();
process.on('exit', () => {
  for (const proc of running) {
    try {
      proc.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});

function makeDataDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'vexfs-server-test-'));
}

function removeDataDir(dir) {
  fs.rmSync(dir, { recursive: true, force: true });
}

function tail(s) {
  return s.length > 4000 ? '…' + s.slice(-4000) : s;
}

// Resolves with {code, signal} once proc has exited (at once when it already has).
function exited(proc) {
  if (proc.exitCode !== null || proc.signalCode !== null) {
    return Promise.resolve({ code: proc.exitCode, signal: proc.signalCode });
  }
  return new Promise((resolve) => {
    proc.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

function withTimeout(promise, ms) {
  let timer;
  return Promise.race([
    promise,
    new Promise((resolve) => {
      timer = setTimeout(() => resolve(null), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

// The test process's environment, less an inherited VEXFS_API_KEY (only a test sets one).
function serverEnv(extra) {
  const env = { ...process.env };
  delete env.VEXFS_API_KEY;
  return { ...env, ...extra };
}

function spawnServer(args, env) {
  const proc = spawn(BINARY, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: serverEnv(env),
  });
  running.add(proc);
  proc.once('exit', () => running.delete(proc));
  proc.on('error', () => {}); // reported by the callers' own listeners
  const out = { stdout: '', stderr: '' };
  proc.stdout.setEncoding('utf8');
  proc.stderr.setEncoding('utf8');
  proc.stdout.on('data', (s) => {
    out.stdout = (out.stdout + s).slice(-KEEP);
  });
  proc.stderr.on('data', (s) => {
    out.stderr = (out.stderr + s).slice(-KEEP);
  });
  return { proc, out };
}

/**
 * Starts a server and waits (10 s at most) for its "listening" line.
 *   args: extra command-line arguments
 *   data: true for a fresh temporary data directory (removed by stop()/kill9()), a path for that
 *         directory (left in place: the caller owns it), absent for an in-memory server
 *   host: --host (default 127.0.0.1); the url returned always connects to 127.0.0.1
 *   env:  extra environment variables
 * Returns {url, port, host, scheme, version, line, proc, dataDir, stderr(), stop(), kill9()}.
 * stop() sends SIGTERM and waits for the exit (SIGKILL after 10 s), rejecting unless the server
 * exited 0; kill9() sends SIGKILL. Both resolve with {code, signal} and are safe to call more
 * than once.
 */
async function startServer({ args = [], data, host = '127.0.0.1', env = {} } = {}) {
  let dataDir;
  let ownDir = false;
  if (data === true) {
    dataDir = makeDataDir();
    ownDir = true;
  } else if (typeof data === 'string') {
    dataDir = data;
  }
  const argv = ['--host', host, '--port', '0', ...(dataDir ? ['--data', dataDir] : []), ...args];
  const { proc, out } = spawnServer(argv, env);
  const cleanup = () => {
    if (ownDir) removeDataDir(dataDir);
  };

  const line = await new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => {
      done();
      proc.kill('SIGKILL');
      reject(new Error(`vexfs-server ${argv.join(' ')}: no "listening" line within ` +
        `${START_TIMEOUT_MS} ms; stdout: ${tail(out.stdout)} stderr: ${tail(out.stderr)}`));
    }, START_TIMEOUT_MS);
    const onData = (s) => {
      buf += s;
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        done();
        resolve(buf.slice(0, nl));
      }
    };
    const onExit = (code, signal) => {
      done();
      // 'exit' can come before the last of stderr: give it a moment
      setTimeout(() => reject(new Error(`vexfs-server ${argv.join(' ')} exited (code ${code}, ` +
        `signal ${signal}) before listening; stdout: ${tail(out.stdout)} stderr: ` +
        `${tail(out.stderr)}`)), 50);
    };
    const onError = (err) => {
      done();
      reject(new Error(`cannot start ${BINARY}: ${err.message}`));
    };
    function done() {
      clearTimeout(timer);
      proc.stdout.off('data', onData);
      proc.off('exit', onExit);
      proc.off('error', onError);
    }
    proc.stdout.on('data', onData);
    proc.once('exit', onExit);
    proc.once('error', onError);
  }).catch((err) => {
    cleanup();
    throw err;
  });

  const m = LISTENING.exec(line);
  if (!m) {
    proc.kill('SIGKILL');
    await exited(proc);
    cleanup();
    throw new Error(`unexpected first line from vexfs-server: ${JSON.stringify(line)}`);
  }
  const scheme = m[1];
  const port = Number(m[3]);
  const version = (/^vexfs-server (\S+) /.exec(line) || [])[1];

  let stopping = null;
  async function finish(signal, graceMs) {
    if (!stopping) {
      stopping = (async () => {
        if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
        let result = await withTimeout(exited(proc), graceMs);
        if (result === null) {
          proc.kill('SIGKILL');
          result = await exited(proc);
          result.forced = true;
        }
        cleanup();
        return result;
      })();
    }
    return stopping;
  }

  return {
    url: `${scheme}://127.0.0.1:${port}`,
    port,
    host,
    scheme,
    version,
    line,
    proc,
    dataDir,
    stderr: () => out.stderr,
    // an orderly stop must exit 0: under ASan a leak or an error at exit fails the test here
    stop: async () => {
      const result = await finish('SIGTERM', STOP_TIMEOUT_MS);
      if (result.code !== 0 || result.forced) {
        throw new Error(`vexfs-server did not stop cleanly on SIGTERM (code ${result.code}, signal ` +
          `${result.signal}${result.forced ? ', killed after 10 s' : ''}); stderr: ${tail(out.stderr)}`);
      }
      return result;
    },
    kill9: () => finish('SIGKILL', STOP_TIMEOUT_MS),
  };
}

/**
 * Runs the server with arguments that should make it refuse to start: resolves with
 * {code, signal, stdout, stderr, listening} once it exits (or, when it is still running after
 * timeoutMs, kills it and resolves with listening telling whether it printed its line).
 */
async function runServerExpectingExit(args, { env = {}, timeoutMs = START_TIMEOUT_MS } = {}) {
  const { proc, out } = spawnServer(args, env);
  const spawnError = new Promise((resolve) => proc.once('error', resolve));
  let result = await withTimeout(Promise.race([exited(proc), spawnError.then((e) => {
    throw new Error(`cannot start ${BINARY}: ${e.message}`);
  })]), timeoutMs);
  let stillRunning = false;
  if (result === null) {
    stillRunning = true;
    proc.kill('SIGKILL');
    result = await exited(proc);
  }
  await new Promise((resolve) => setTimeout(resolve, 50)); // the rest of stdout/stderr
  return { ...result, stillRunning, stdout: out.stdout, stderr: out.stderr,
    listening: LISTENING.test(out.stdout) };
}

/**
 * A raw HTTP request with fetch: body is sent as is when a string or Buffer, as JSON otherwise.
 * Resolves with {status, headers, text, json} (json undefined when the body is not JSON).
 */
async function http(base, method, urlPath, body, headers = {}, timeoutMs = 10_000) {
  const init = { method, headers: { ...headers }, signal: AbortSignal.timeout(timeoutMs) };
  if (body !== undefined) {
    init.body = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
    if (!Object.keys(init.headers).some((h) => h.toLowerCase() === 'content-type')) {
      init.headers['content-type'] = 'application/json';
    }
  }
  const res = await fetch(base + urlPath, init);
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

// A seeded PRNG (mulberry32) in [0, 1): the tests' data is the same on every run.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

module.exports = {
  ROOT,
  BINARY,
  LISTENING,
  startServer,
  runServerExpectingExit,
  makeDataDir,
  removeDataDir,
  exited,
  withTimeout,
  http,
  rng,
  sleep,
};

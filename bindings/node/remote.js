'use strict';
// VexFSClient: the VexFS TypeScript SDK's calls (reference 000, "TypeScript SDK") answered by a
// vexfs-server over its /api/v1 routes, with the global fetch of Node 18+ (undici: keep-alive
// connections, reused between calls). It does not load the native addon: require('vexfs/remote')
// works where the addon is not built.
//
//   const { VexFSClient } = require('vexfs');
//   const client = new VexFSClient({ endpoint: 'http://localhost:6333', apiKey: '...' });
//   const docs = await client.createCollection({ name: 'docs', dimension: 384 });
//   const { ids } = await docs.batchInsert({ vectors, metadata });
//   for (const hit of await docs.search({ vector: q, limit: 10, filter: { category: 'tech' } }))
//     console.log(hit.id, hit.score, hit.distance, hit.metadata);
//
// Ids are numbers up to 2^53 - 1 and BigInts above (exact both ways: answers are parsed so that a
// large integer is not rounded). Errors are VexFSError (a VexfsError): `code` as the embedded
// library names it, `status` the HTTP status, `apiCode` the server's API_00x.
const { VexFSError } = require('./errors');

const API_PREFIX = '/api/v1';
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MAX_ID = 0xfffffffffffffffen; // 2^64 - 2: 2^64 - 1 marks no vector
const MAX_K = 1 << 24;

// The library's status texts (vexfs_status_string), with which the server begins the message of
// a library failure, and the status names they stand for.
const LIBRARY_TEXTS = [
  ['invalid argument', 'VEXFS_E_INVALID'], ['out of memory', 'VEXFS_E_NOMEM'],
  ['dimension mismatch', 'VEXFS_E_DIMENSION'], ['not found', 'VEXFS_E_NOT_FOUND'],
  ['already exists', 'VEXFS_E_EXISTS'], ['I/O error', 'VEXFS_E_IO'],
  ['data is corrupt', 'VEXFS_E_CORRUPT'], ['not supported', 'VEXFS_E_UNSUPPORTED'],
  ['read-only', 'VEXFS_E_READONLY'], ['not allowed in the current state', 'VEXFS_E_STATE'],
  ['database is busy', 'VEXFS_E_BUSY'],
];
// The /api/v1 codes (reference 000, "Error Codes") and HTTP statuses, where the message names no
// library status.
const BY_CODE = {
  API_001: 'VEXFS_E_INVALID', API_002: 'VEXFS_E_AUTH', API_003: 'VEXFS_E_AUTH',
  API_004: 'VEXFS_E_BUSY', API_005: 'VEXFS_E_NOT_FOUND', API_006: 'VEXFS_E_INVALID',
  API_007: 'VEXFS_E_UNKNOWN', API_008: 'VEXFS_E_BUSY',
};
const BY_STATUS = {
  400: 'VEXFS_E_INVALID', 401: 'VEXFS_E_AUTH', 403: 'VEXFS_E_AUTH', 404: 'VEXFS_E_NOT_FOUND',
  409: 'VEXFS_E_EXISTS', 413: 'VEXFS_E_INVALID', 429: 'VEXFS_E_BUSY', 503: 'VEXFS_E_BUSY',
};
// The SDK's camelCase performance options (reference 000) and the server's names. They change
// nothing (the library always pools and uses the widest SIMD), batchSize aside: batchInsert
// splits by it. An unknown one is an error, as in the Python client.
const ADVISORY = {
  optimizationLevel: 'optimization_level', memoryPoolSize: 'memory_pool_size',
  enableSIMD: 'enable_simd', enableStackOptimization: 'enable_stack_optimization',
  enableEnhancedBridge: 'enable_enhanced_bridge', targetOpsPerSec: 'target_ops_per_sec',
  useMemoryPools: 'use_memory_pools', parallelProcessing: 'parallel_processing',
  batchProcessing: 'batch_processing', priority: 'priority', lowLatencyMode: 'low_latency_mode',
  cacheResults: 'cache_results', batchSize: 'batch_size',
};
const ALGORITHMS = ['hnsw', 'flat', 'auto', 'lsh', 'ivf'];
const METRICS = ['l2', 'ip', 'cosine'];

function invalid(message) {
  return new VexFSError(message, { code: 'VEXFS_E_INVALID' });
}

function advisory(options, what) {
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object' || Array.isArray(options))
    throw invalid(`${what} must be an object`);
  const out = {};
  for (const [key, value] of Object.entries(options)) {
    const theirs = ADVISORY[key] || (Object.values(ADVISORY).includes(key) ? key : null);
    if (!theirs)
      throw invalid(`${what}: unknown option ${JSON.stringify(key)}; known: ${Object.keys(ADVISORY).join(', ')}`);
    out[theirs] = value;
  }
  return out;
}

/** An id as a JSON-ready value (a Number, or a BigInt kept exact): an integer 0..2^64 - 2. */
function checkId(value, what = 'id') {
  if (typeof value === 'bigint') {
    if (value >= 0n && value <= MAX_ID) return value <= MAX_SAFE ? Number(value) : value;
  } else if (Number.isSafeInteger(value) && value >= 0) {
    return value;
  }
  throw invalid(`${what} must be an integer 0..2^64 - 2 (a BigInt above 2^53 - 1), not ${String(value)}`);
}

function checkIds(ids, what = 'ids') {
  if (!(Array.isArray(ids) || ids instanceof BigUint64Array))
    throw invalid(`${what} must be an array of ids or a BigUint64Array`);
  return Array.from(ids, (v, i) => checkId(v, `${what}[${i}]`));
}

function checkInteger(value, what, low, high) {
  if (!Number.isSafeInteger(value) || value < low || value > high)
    throw invalid(`${what} must be an integer ${low}..${high}, not ${String(value)}`);
  return value;
}

const isNumber = (x) => typeof x === 'number';

/** Vectors as rows of dim finite numbers: a Float32Array or number[] of n * dim, or rows. */
function toRows(v, dim) {
  let flat;
  if (v instanceof Float32Array || v instanceof Float64Array) {
    flat = v;
  } else if (Array.isArray(v) && v.every(isNumber)) {
    flat = v;
  } else if (Array.isArray(v)) {
    v.forEach((row, i) => {
      const ok = (Array.isArray(row) && row.every(isNumber)) || row instanceof Float32Array;
      if (!ok || row.length !== dim)
        throw invalid(`vectors must be numbers or rows of ${dim} numbers; row ${i} is not`);
    });
    return v.map((row, i) => finite(Array.from(row, Math.fround), i));
  } else {
    throw invalid('vectors must be a Float32Array or an array of numbers (or of rows of them)');
  }
  if (flat.length === 0 || flat.length % dim)
    throw new VexFSError(`vectors must hold rows of ${dim} floats, got ${flat.length}`, { code: 'VEXFS_E_DIMENSION' });
  const rows = [];
  for (let at = 0; at < flat.length; at += dim)
    rows.push(finite(Array.from(flat.subarray ? flat.subarray(at, at + dim) : flat.slice(at, at + dim), Math.fround), rows.length));
  return rows;
}

function finite(row, i) {
  if (!row.every(Number.isFinite)) throw invalid(`vectors: row ${i} holds a NaN or infinite value`);
  return row;
}

// JSON with exact 64-bit ids. Out: BigInts are written as integers. In: integers beyond 2^53 - 1
// become BigInts (JSON.parse would round them), found by a scan outside strings.
const BIG_MARK = '\u0000vexfs-bigint:';

function stringify(value) {
  const text = JSON.stringify(value, (key, v) => (typeof v === 'bigint' ? BIG_MARK + v : v));
  return text.includes('\\u0000vexfs-bigint:')
    ? text.replace(/"\\u0000vexfs-bigint:(\d+)"/g, '$1') : text;
}

function parse(text) {
  if (!/\d{16}/.test(text)) return JSON.parse(text);
  let out = '', from = 0, inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
    } else if ((c >= '0' && c <= '9') || c === '-') {
      let j = i + 1;
      while (j < text.length && text[j] >= '0' && text[j] <= '9') j++;
      const isInteger = !(j < text.length && (text[j] === '.' || text[j] === 'e' || text[j] === 'E'));
      if (isInteger && j - i >= 16 && BigInt(text.slice(i, j)) > MAX_SAFE) {
        out += text.slice(from, i) + '"\\u0000vexfs-bigint:' + text.slice(i, j) + '"'; // JSON's escape of BIG_MARK
        from = j;
      }
      i = j - 1;
    }
  }
  out += text.slice(from);
  return JSON.parse(out, (key, v) => (typeof v === 'string' && v.startsWith(BIG_MARK)
    ? BigInt(v.slice(BIG_MARK.length)) : v));
}

function errorFor(status, answer, endpoint) {
  let code = null, message = null;
  if (answer && typeof answer === 'object') {
    if (answer.error && typeof answer.error === 'object') ({ code = null, message = null } = answer.error);
    else if (answer.status && typeof answer.status === 'object') message = answer.status.error;
  }
  if (typeof message !== 'string' || !message)
    message = typeof answer === 'string' && answer ? answer : `HTTP ${status}`;
  let name = null;
  if (status === 409) name = 'VEXFS_E_EXISTS';
  else if ((status !== 401 && status !== 403) || message.startsWith('read-only'))
    name = (LIBRARY_TEXTS.find(([text]) => message.startsWith(text + ':')) || [])[1] || null;
  name = name || BY_CODE[code] || BY_STATUS[status] || 'VEXFS_E_UNKNOWN';
  return new VexFSError(message, { code: name, status, apiCode: code, endpoint });
}

/** A similarity from a distance, larger nearer (as the embedded SDK layer scores). */
const SCORES = {
  l2: (d) => 1 / (1 + d),
  ip: (d) => 1 - d,
  cosine: (d) => 1 - d,
};

class VexFSClient {
  /**
   * @param {{endpoint: string, apiKey?: string, timeoutMs?: number, headers?: object,
   *          performanceConfig?: object, enableMonitoring?: boolean}} options
   * endpoint: http(s)://host:port (a path is kept as a prefix; a trailing /api/v1 is allowed).
   * apiKey: sent as `Authorization: Bearer`. timeoutMs: per request (default 60000).
   * performanceConfig and enableMonitoring (the reference's) are accepted and change nothing.
   */
  constructor({ endpoint, apiKey = null, timeoutMs = 60000, headers = {} } = {}) {
    let url;
    try {
      url = new URL(endpoint);
    } catch {
      throw invalid(`endpoint must be an http:// or https:// URL such as 'http://localhost:6333', not ${JSON.stringify(endpoint)}`);
    }
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.search || url.hash || url.username)
      throw invalid(`endpoint must be an http:// or https:// URL with scheme, host, port and path only, not ${JSON.stringify(endpoint)}`);
    if (apiKey !== null && (typeof apiKey !== 'string' || !apiKey || /[\r\n\0]/.test(apiKey)))
      throw invalid('apiKey must be a non-empty string on one line');
    if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs)) throw invalid('timeoutMs must be a number > 0');
    let path = url.pathname.replace(/\/+$/, '');
    if (path.endsWith(API_PREFIX)) path = path.slice(0, -API_PREFIX.length);
    this.endpoint = url.origin + path;
    this._base = this.endpoint + API_PREFIX;
    this._headers = { accept: 'application/json', ...headers };
    if (apiKey) this._headers.authorization = `Bearer ${apiKey}`;
    this._timeoutMs = timeoutMs;
    this._closed = false;
  }

  /** One request below /api/v1: the decoded answer of a 2xx, else a VexFSError. */
  async _call(method, path, body, query) {
    if (this._closed) throw invalid('the client is closed');
    let url = this._base + path;
    if (query) url += '?' + new URLSearchParams(query).toString();
    const init = { method, headers: { ...this._headers }, signal: AbortSignal.timeout(this._timeoutMs) };
    if (body !== undefined) {
      init.body = stringify(body);
      init.headers['content-type'] = 'application/json';
    }
    let response, text;
    try {
      response = await fetch(url, init);
      text = await response.text();
    } catch (e) {
      if (e && (e.name === 'TimeoutError' || e.name === 'AbortError'))
        throw new VexFSError(`vexfs-server at ${this.endpoint}: no answer to ${method} ${url} within ${this._timeoutMs} ms`, { code: 'VEXFS_E_TIMEOUT', endpoint: this.endpoint, cause: e });
      const why = e && e.cause ? `${e.cause.code || ''} ${e.cause.message || e.cause}`.trim() : String(e && e.message);
      throw new VexFSError(`cannot reach vexfs-server at ${this.endpoint} (${why})`, { code: 'VEXFS_E_CONNECTION', endpoint: this.endpoint, cause: e });
    }
    let answer = text;
    if ((response.headers.get('content-type') || '').includes('json') && text) {
      try {
        answer = parse(text);
      } catch {
        // left as text
      }
    }
    if (response.status >= 400) throw errorFor(response.status, answer, this.endpoint);
    if (!answer || typeof answer !== 'object')
      throw new VexFSError(`vexfs-server at ${this.endpoint} answered HTTP ${response.status} with ${JSON.stringify(String(text).slice(0, 200))}, not a JSON object`, { code: 'VEXFS_E_UNKNOWN', status: response.status, endpoint: this.endpoint });
    return answer;
  }

  /**
   * Creates a collection: {name, dimension, algorithm = 'hnsw' (or 'flat', 'auto', 'lsh', 'ivf'),
   * metric = 'l2' (or 'ip', 'cosine'), parameters (the Python SDK's names: m, efConstruction /
   * ef_construction, ef_search, num_tables, ...), hnswConfig, performanceConfig}.
   */
  async createCollection({ name, dimension, algorithm = 'hnsw', metric = 'l2', parameters = null,
    hnswConfig = null, performanceConfig = null } = {}) {
    if (typeof name !== 'string' || !name) throw invalid('name must be a non-empty string');
    checkInteger(dimension, 'dimension', 1, 2 ** 32 - 1);
    if (!ALGORITHMS.includes(algorithm)) throw invalid(`algorithm must be one of ${ALGORITHMS.join(', ')}, not ${JSON.stringify(algorithm)}`);
    if (!METRICS.includes(metric)) throw invalid(`metric must be one of ${METRICS.join(', ')}, not ${JSON.stringify(metric)}`);
    const body = { name, dimension, algorithm, metric };
    if (parameters) body.parameters = snakeKeys(parameters);
    if (hnswConfig) body.hnsw_config = snakeKeys(hnswConfig);
    const perf = advisory(performanceConfig, 'performanceConfig');
    if (Object.keys(perf).length) body.performance_config = perf;
    return new RemoteCollection(this, await this._call('POST', '/collections', body));
  }

  /** The collection called name (VEXFS_E_NOT_FOUND when there is none). */
  async getCollection(name) {
    return new RemoteCollection(this, await this._call('GET', '/collections/' + encodeURIComponent(name)));
  }

  /** The collections' names, sorted. */
  async listCollections() {
    const names = [];
    for (let page = 1; ; page++) {
      const a = await this._call('GET', '/collections', undefined, { page, per_page: 1000 });
      names.push(...a.collections.map((c) => c.name));
      if (!a.collections.length || names.length >= a.total) return names.sort();
    }
  }

  /** Deletes the collection and its data (VEXFS_E_NOT_FOUND when there is none). */
  async deleteCollection(name) {
    await this._call('DELETE', '/collections/' + encodeURIComponent(name));
  }

  /** The server's real-time figures (sampled once a second); raw: the answer as it came. */
  async getPerformanceMetrics() {
    const m = await this._call('GET', '/performance/metrics/realtime');
    const ops = m.vector_operations || {}, pools = m.memory_pools || {}, simd = m.simd_acceleration || {};
    const num = (v) => (typeof v === 'number' ? v : NaN);
    return {
      timestamp: m.timestamp,
      vectorOpsPerSec: num(ops.ops_per_sec),
      searchOpsPerSec: num(ops.search_ops_per_sec),
      insertOpsPerSec: num(ops.insert_ops_per_sec),
      avgLatencyMs: num(ops.avg_latency_ms),
      searchLatencyP50Ms: num(ops.search_latency_p50_ms),
      searchLatencyP95Ms: num(ops.search_latency_p95_ms),
      searchLatencyP99Ms: num(ops.search_latency_p99_ms),
      memoryPoolHitRate: num(pools.hit_rate),
      simdAccelerationActive: !!simd.enabled,
      simdIsa: simd.type || '',
      vectors: m.vectors,
      raw: m,
    };
  }

  /** The sampled figures of the last `duration`, averaged over `interval` ("30s", "5m", "1h"). */
  async getPerformanceHistory({ duration = '1h', interval = '1m' } = {}) {
    const h = await this._call('GET', '/performance/metrics/history', undefined, { duration, interval });
    return {
      duration: h.duration, interval: h.interval, dataPoints: h.data_points,
      metrics: h.metrics.map((r) => ({
        timestamp: r.timestamp, vectorOpsPerSec: r.vector_ops_per_sec,
        searchOpsPerSec: r.search_ops_per_sec, insertOpsPerSec: r.insert_ops_per_sec,
        memoryPoolHitRate: r.memory_pool_hit_rate, simdAccelerationActive: r.simd_acceleration_active,
        raw: r,
      })),
    };
  }

  /** Counts and memory of the server (every collection it serves). */
  async getStats() {
    const s = await this._call('GET', '/stats');
    return {
      collectionCount: s.collection_count, vectorCount: s.vector_count,
      memoryUsageMb: s.memory_usage_mb, avgSearchTimeMs: s.avg_search_time_ms,
      cacheHits: s.cache_hits, cacheMisses: s.cache_misses, memoryBytes: s.memory_bytes,
    };
  }

  /** Later calls throw VEXFS_E_INVALID; fetch's pooled connections close when idle. */
  close() { this._closed = true; }
}

/** snake_case keys of an SDK object given in camelCase (efConstruction -> ef_construction). */
function snakeKeys(o) {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw invalid('parameters must be an object');
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase()), v]));
}

function searchArgs(vectorOrOptions, limit, options) {
  if (vectorOrOptions && typeof vectorOrOptions === 'object' && !Array.isArray(vectorOrOptions) &&
      !ArrayBuffer.isView(vectorOrOptions))
    return vectorOrOptions;
  return { ...(options || {}), vector: vectorOrOptions, limit: limit === undefined ? 10 : limit };
}

class RemoteCollection {
  constructor(client, info) {
    this._client = client;
    this.name = info.name;
    this.dimension = info.dimension;
    this.dim = info.dimension;
    this.metric = info.metric;
    this.algorithm = info.algorithm;
    this.parameters = info.parameters || {};
    this._ef = 0;
  }

  _call(method, tail, body, query) {
    return this._client._call(method, '/collections/' + encodeURIComponent(this.name) + tail, body, query);
  }

  /** The number of vectors. */
  async count() {
    return (await this._client._call('GET', '/collections/' + encodeURIComponent(this.name))).vector_count;
  }

  /**
   * Inserts one vector: insert({vector, metadata, id}) or insert(vector, metadata?, id?); the id
   * is assigned (one past the largest present) when not given. Resolves with the id.
   */
  async insert(vectorOrDoc, metadata, id) {
    const doc = vectorOrDoc && !Array.isArray(vectorOrDoc) && !ArrayBuffer.isView(vectorOrDoc)
      ? vectorOrDoc : { vector: vectorOrDoc, metadata, id };
    const rows = toRows(doc.vector, this.dimension);
    if (rows.length !== 1)
      throw new VexFSError(`insert takes one vector of ${this.dimension} floats`, { code: 'VEXFS_E_DIMENSION' });
    const { ids } = await this._insert(rows, doc.metadata == null ? null : [doc.metadata],
      doc.id == null ? null : [doc.id]);
    return ids[0];
  }

  /**
   * Inserts vectors (rows, or a Float32Array of n * dimension), all or nothing; metadata one per
   * row (or null entries); ids given or assigned. performanceOptions: the SDK's (batchSize
   * splits the batch as insertBatch does). Resolves with {ids, count, performanceStats}.
   */
  async batchInsert({ vectors, metadata = null, ids = null, performanceOptions = null } = {}) {
    const options = advisory(performanceOptions, 'performanceOptions');
    if (options.batch_size !== undefined)
      return this.insertBatch({ vectors, metadata, ids, batchSize: options.batch_size });
    return this._insert(toRows(vectors, this.dimension), metadata, ids);
  }

  /**
   * Inserts in calls of batchSize vectors (each all or nothing; calls before a failing one stay
   * inserted). Resolves with {ids, count, performanceStats} of them all.
   */
  async insertBatch({ vectors, metadata = null, ids = null, batchSize = 1000 } = {}) {
    checkInteger(batchSize, 'batchSize', 1, Number.MAX_SAFE_INTEGER);
    const rows = toRows(vectors, this.dimension);
    const checked = ids === null ? null : checkIds(ids);
    if (metadata !== null && (!Array.isArray(metadata) || metadata.length !== rows.length))
      throw invalid(`${Array.isArray(metadata) ? metadata.length : 'no'} metadata entries for ${rows.length} vectors`);
    if (checked && checked.length !== rows.length) throw invalid(`${checked.length} ids for ${rows.length} vectors`);
    const all = [];
    let last = null;
    for (let at = 0; at < rows.length; at += batchSize) {
      last = await this._insert(rows.slice(at, at + batchSize),
        metadata && metadata.slice(at, at + batchSize), checked && checked.slice(at, at + batchSize));
      all.push(...last.ids);
    }
    return { ids: all, count: all.length, performanceStats: last ? last.performanceStats : null };
  }

  async _insert(rows, metadata, ids) {
    if (metadata !== null && (!Array.isArray(metadata) || metadata.length !== rows.length))
      throw invalid(`${Array.isArray(metadata) ? metadata.length : 'no'} metadata entries for ${rows.length} vectors`);
    const checked = ids === null ? null : checkIds(ids);
    if (checked && checked.length !== rows.length) throw invalid(`${checked.length} ids for ${rows.length} vectors`);
    const items = rows.map((vector, i) => {
      const item = { vector };
      const m = metadata && metadata[i];
      if (m !== null && m !== undefined) {
        if (typeof m !== 'object' || Array.isArray(m)) throw invalid(`metadata[${i}] must be an object`);
        item.metadata = m;
      }
      if (checked) item.id = checked[i];
      return item;
    });
    const a = await this._call('POST', '/vectors/batch', { vectors: items });
    const s = a.performance_stats || {};
    return {
      ids: a.vector_ids, count: a.inserted,
      performanceStats: {
        memoryPoolHitRate: s.memory_pool_hit_rate, simdUsed: !!s.simd_acceleration_used,
        simdIsa: s.simd_isa || '', totalTimeMs: s.total_time_ms, opsPerSec: s.ops_per_sec,
      },
    };
  }

  /**
   * The limit nearest vectors (those the filter admits), nearest first, as {id, distance, score,
   * metadata}: search({vector, limit = 10, filter, ef, performanceOptions}) or
   * search(vector, limit?, {filter, ef}). Rows of several queries give one array per query.
   * filter: a Qdrant-style filter, or {key: value, ...} meaning every key matches its value.
   */
  async search(vectorOrOptions, limit, options) {
    const { vector, limit: k = 10, filter = null, ef = null, performanceOptions = null } =
      searchArgs(vectorOrOptions, limit, options);
    checkInteger(k, 'limit', 1, MAX_K);
    advisory(performanceOptions, 'performanceOptions');
    const useEf = ef === null || ef === undefined ? this._ef : checkInteger(ef, 'ef', 0, 2 ** 32 - 1);
    let f = filter;
    if (typeof f === 'string') f = JSON.parse(f);
    if (f !== null && (typeof f !== 'object' || Array.isArray(f))) throw invalid('filter must be an object');
    const several = Array.isArray(vector) && vector.length > 0 && !vector.every(isNumber);
    const rows = toRows(vector, this.dimension);
    if (!several && rows.length !== 1)
      throw invalid(`expected one vector of ${this.dimension} floats, got ${rows.length * this.dimension}`);
    const toScore = SCORES[this.metric] || SCORES.l2;
    const out = [];
    for (const row of rows) {
      const body = { vector: row, limit: k };
      if (f) body.filter = f;
      if (useEf) body.ef = useEf;
      const a = await this._call('POST', '/search', body);
      out.push(a.results.map((h) => {
        const distance = Math.fround(h.distance);
        return { id: h.id, distance, score: toScore(distance), metadata: h.metadata ?? null };
      }));
    }
    return several ? out : out[0];
  }

  /** The candidate-list size later searches use (the collection's ef_search until then). */
  configureSearch(efSearch) { this._ef = checkInteger(efSearch, 'efSearch', 1, 2 ** 32 - 1); }

  async _vector(id) {
    const checked = checkId(id);
    return this._call('GET', '/vectors/' + String(checked));
  }

  /** The vector stored under id, as a Float32Array. */
  async get(id) { return Float32Array.from((await this._vector(id)).vector); }

  /** The metadata stored with id (null when it has none). */
  async getMetadata(id) { return (await this._vector(id)).metadata ?? null; }

  /** Removes ids (one, or an array), all or nothing. */
  async delete(ids) {
    const list = Array.isArray(ids) || ids instanceof BigUint64Array ? checkIds(ids) : [checkId(ids)];
    await this._call('POST', '/vectors/delete', { ids: list });
  }

  /** Counts, memory and search latency of this collection. */
  async getStats() {
    const s = await this._call('GET', '/stats');
    return {
      name: s.name, vectorCount: s.vector_count, dimension: s.dimension, algorithm: s.algorithm,
      metric: s.metric, indexSizeMb: s.index_size_mb, insertCount: s.insert_count,
      searchCount: s.search_count, avgSearchTimeMs: s.avg_search_time_ms,
      p95SearchTimeMs: s.p95_search_time_ms, memoryBytes: s.memory_bytes,
    };
  }
}

module.exports = { VexFSClient, RemoteCollection, VexFSError };

'use strict';
// vexfs for Node: a thin layer over the Node-API addon (build/Release/vexfs.node, made by
// `npm run build`). Typed arrays cross into C without copies; addAsync/searchAsync run on the
// libuv thread pool. VexFSClient (remote.js) is the same SDK answered by a vexfs-server.
const path = require('node:path');

const { VexfsError, VexFSError } = require('./errors');
const remote = require('./remote');

// The addon loads on first use, so that a program using only the remote client (VexFSClient,
// also require('vexfs/remote')) runs where the addon is not built.
let loaded = null;
function addon() {
  if (!loaded) {
    loaded = require(path.join(__dirname, 'build', 'Release', 'vexfs.node'));
    loaded.setErrorClass(VexfsError);
  }
  return loaded;
}

const METRICS = { l2: 1, ip: 2, cosine: 3 };
const INDEXES = { auto: 0, flat: 1, hnsw: 2, lsh: 3, ivf: 4 };
const PROJECTIONS = { random: 0, learned: 1 };
const IVF_CODES = { f32: 0, sq8: 1 };
const STORAGES = { f32: 0, f16: 1, sq8: 2, sq4: 3 };
const RERANKS = { in_memory: 0, mapped: 1, none: 2 };
const PAYLOAD_INDEXES = { keyword: 1, numeric: 2 };
const NO_ID = 0xffffffffffffffffn;

function invalid(message) {
  return new VexfsError(message, 'VEXFS_E_INVALID');
}

function pick(table, value, what) {
  if (!Object.prototype.hasOwnProperty.call(table, value))
    throw invalid(`${what} must be one of ${Object.keys(table).join(', ')}, not ${JSON.stringify(value)}`);
  return table[value];
}

function toJson(value, what) {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (typeof value !== 'object' || Array.isArray(value)) throw invalid(`${what} must be an object`);
  return JSON.stringify(value);
}

const isNumber = (x) => typeof x === 'number';

/**
 * Vectors as one Float32Array: itself, an array of numbers (rounded to float32), or rows of dim
 * numbers each. Anything else (strings, booleans, null, BigInts, ragged or deeper rows) is
 * refused rather than coerced by Float32Array.from.
 */
function toFloats(v, dim) {
  if (v instanceof Float32Array) return v;
  if (!Array.isArray(v)) throw invalid('vectors must be a Float32Array or an array of numbers');
  if (v.every(isNumber)) return Float32Array.from(v);
  v.forEach((row, i) => {
    if (!Array.isArray(row) || row.length !== dim || !row.every(isNumber))
      throw invalid(`vectors must be numbers or rows of ${dim} numbers; row ${i} is not`);
  });
  return Float32Array.from(v.flat());
}

/** The native constructor's arguments for collection options (the names checked here, the
 * numbers natively). */
function configArgs(options) {
  const { dim, metric = 'l2', index = 'auto', m = 16, efConstruction = 200, efSearch = 64,
          threads = 0, seed = 0, lshTables = 0, lshBits = 0, lshProbes = 0, lshBucketWidth = 0,
          lshProjection = 'random', ivfNlist = 0, nprobe = 0, ivfCodes = 'f32', storage = 'f32',
          rerank = 'in_memory' } = options;
  return [dim, pick(METRICS, metric, 'metric'), pick(INDEXES, index, 'index'), m, efConstruction,
    efSearch, threads, seed, lshTables, lshBits, lshProbes, lshBucketWidth,
    pick(PROJECTIONS, lshProjection, 'lshProjection'), ivfNlist, nprobe,
    pick(IVF_CODES, ivfCodes, 'ivfCodes'), pick(STORAGES, storage, 'storage'),
    pick(RERANKS, rerank, 'rerank')];
}

const nameOf = (table, value) => Object.keys(table).find((k) => table[k] === value);

class Collection {
  /**
   * @param {{dim: number, metric?: string, index?: string, m?: number, efConstruction?: number,
   *          efSearch?: number, threads?: number, seed?: number, lshTables?: number,
   *          lshBits?: number, lshProbes?: number, lshBucketWidth?: number,
   *          lshProjection?: 'random'|'learned', ivfNlist?: number, nprobe?: number,
   *          ivfCodes?: 'f32'|'sq8', storage?: 'f32'|'f16'|'sq8'|'sq4',
   *          rerank?: 'in_memory'|'mapped'|'none'}} options
   *          (0: chosen by the index; see README "LSH", "IVF"; storage other than 'f32': index
   *          'flat' or 'hnsw'; rerank 'mapped': a Database's collections only, 'none': a coded
   *          storage, get() returns the decoded vector; see README "Memory")
   */
  constructor(options = {}) {
    this._adopt(new (addon().NativeCollection)(...configArgs(options)), null, null);
  }

  /** A collection a Database handed out (kept alive by it and keeping it alive). */
  static _borrowed(nativeCollection, database, name) {
    const c = Object.create(Collection.prototype);
    c._adopt(nativeCollection, database, name);
    return c;
  }

  _adopt(nativeCollection, database, name) {
    this._n = nativeCollection;
    this._db = database;
    this.name = name;
    this.dim = nativeCollection.config().dim;
    this._nextId = null; // the next id batchInsert assigns, found on first use
  }

  /** The configuration, read back from the library: the constructor's options, all of them. */
  config() {
    const c = this._n.config();
    return { ...c, metric: nameOf(METRICS, c.metric), index: nameOf(INDEXES, c.index),
      lshProjection: nameOf(PROJECTIONS, c.lshProjection), ivfCodes: nameOf(IVF_CODES, c.ivfCodes),
      storage: nameOf(STORAGES, c.storage), rerank: nameOf(RERANKS, c.rerank) };
  }

  /** Every id in the collection, ascending. */
  ids() { return this._n.ids(); }

  /**
   * Inserts vectors (a Float32Array of ids.length * dim floats, numbers, or rows of dim numbers)
   * under ids (a BigUint64Array, or integers: Numbers up to 2^53 - 1, BigInts), all or nothing.
   */
  add(ids, vectors, payloads) {
    this._nextId = null; // explicit ids may pass it: batchInsert looks again
    this._insert(ids, vectors, payloads);
  }

  /**
   * As add, but ids already present are replaced (vector and payload: none when not given), all
   * or nothing, in one log record in a database.
   */
  upsert(ids, vectors, payloads) {
    this._nextId = null;
    this._write('upsert', ids, vectors, payloads);
  }

  _insert(ids, vectors, payloads) { this._write('add', ids, vectors, payloads); }

  _write(call, ids, vectors, payloads) {
    if (payloads === undefined || payloads === null) {
      this._n[call](ids, toFloats(vectors, this.dim));
    } else if (Array.isArray(payloads)) {
      this._n[call](ids, toFloats(vectors, this.dim), payloads.map((p, i) => toJson(p, `payloads[${i}]`)));
    } else {
      throw invalid('payloads must be an array');
    }
  }

  /**
   * The documented-SDK alias: `batchInsert({vectors, metadata, ids?})`, ids assigned when missing
   * (returned); or `batchInsert(ids, vectors, payloads?)` as add.
   */
  batchInsert(idsOrDoc, vectors, payloads) {
    if (idsOrDoc && !Array.isArray(idsOrDoc) && !(idsOrDoc instanceof BigUint64Array)) {
      const { vectors: rows, metadata = null, ids = null } = idsOrDoc;
      const flat = toFloats(rows, this.dim);
      if (ids) {
        this.add(ids, flat, metadata); // checks every id
        return BigUint64Array.from(ids, BigInt); // exact: each is an integer 0..2^64-2
      }
      if (flat.length % this.dim)
        throw new VexfsError(`vectors must hold rows of ${this.dim} floats, got ${flat.length}`, 'VEXFS_E_DIMENSION');
      const n = flat.length / this.dim;
      const assigned = this._assignIds(n);
      this._insert(assigned, flat, metadata);
      if (n) this._nextId = assigned[n - 1] + 1n;
      return assigned;
    }
    return this.add(idsOrDoc, vectors, payloads);
  }

  /** n fresh ids past the largest present (or assigned before). */
  _assignIds(n) {
    if (this._nextId === null) {
      const present = this._n.ids();
      this._nextId = present.length ? present[present.length - 1] + 1n : 0n;
    }
    const out = new BigUint64Array(n);
    for (let i = 0; i < n; i++) out[i] = this._nextId + BigInt(i);
    return out;
  }

  /** Starts add on the thread pool; resolves when the batch is in. */
  addAsync(ids, vectors) {
    this._nextId = null;
    return this._n.addAsync(ids, toFloats(vectors, this.dim));
  }

  /**
   * k nearest neighbours of one query (dim floats: hits only, nearest first) or of several
   * (nq*dim floats: nq*k entries, missing ones NO_ID/Infinity, with `counts`).
   * @returns {{ids: BigUint64Array, distances: Float32Array, counts?: Uint32Array}}
   */
  search(query, k = 10, options = {}) {
    const { ef = 0, filter = null, threads = 0, probes = 0, nprobe = 0, exact = false } = options;
    return this._n.search(toFloats(query, this.dim), k, ef, toJson(filter, 'filter'), threads,
      probes, nprobe, exact);
  }

  /** search on the thread pool: the event loop keeps running. */
  searchAsync(query, k = 10, options = {}) {
    const { ef = 0, filter = null, threads = 0, probes = 0, nprobe = 0, exact = false } = options;
    return this._n.searchAsync(toFloats(query, this.dim), k, ef, toJson(filter, 'filter'), threads,
      probes, nprobe, exact);
  }

  remove(ids) { this._n.remove(ids); }
  get(id) { return this._n.get(id); }
  count() { return this._n.count(); }
  get size() { return this._n.count(); }
  getPayload(id) {
    const text = this._n.getPayload(id);
    return text === null ? null : JSON.parse(text);
  }
  setPayload(id, payload, { merge = false } = {}) { this._n.setPayload(id, toJson(payload, 'payload'), !!merge); }
  createPayloadIndex(key, kind = 'keyword') { this._n.createPayloadIndex(key, pick(PAYLOAD_INDEXES, kind, 'kind')); }
  dropPayloadIndex(key, kind = 'keyword') { this._n.dropPayloadIndex(key, pick(PAYLOAD_INDEXES, kind, 'kind')); }
  metrics() { return JSON.parse(this._n.metricsJson()); }
  /** The documented-SDK alias of metrics(). */
  getPerformanceMetrics() { return this.metrics(); }
  /**
   * Frees a standalone collection now (it is also freed when garbage-collected); for a
   * database's collection, lets go of this object only (the database keeps the data).
   */
  close() { this._n.close(); }
}

const SYNC = { off: 0, normal: 1, full: 2 };

/**
 * Named collections that persist in a directory (`path`), or in memory (`path` null/omitted).
 * Collections it hands out are the same object per name, keep the database alive, and throw
 * VEXFS_E_STATE once dropped or once the database is closed.
 */
class Database {
  /**
   * @param {string|null} [path]
   * @param {{sync?: 'full'|'normal'|'off', readOnly?: boolean, checkpointBytes?: number}} [options]
   */
  constructor(path = null, options = {}) {
    const { sync = 'full', readOnly = false, checkpointBytes = 64 * 1024 * 1024 } = options;
    this._n = new (addon().NativeDatabase)(path, pick(SYNC, sync, 'sync'), !!readOnly, checkpointBytes);
    this.path = path;
    this.readOnly = !!readOnly;
    this._collections = new Map();
  }

  _wrap(name, nativeCollection) {
    const c = Collection._borrowed(nativeCollection, this, name);
    this._collections.set(name, c);
    return c;
  }

  /** Creates an empty collection (options as for new Collection); VEXFS_E_EXISTS when taken. */
  createCollection(name, options = {}) {
    return this._wrap(name, this._n.createCollection(name, ...configArgs(options)));
  }

  /** The collection called name; VEXFS_E_NOT_FOUND when there is none. */
  getCollection(name) {
    const known = this._collections.get(name);
    if (known) {
      try {
        known._n.count(); // still open (the caller may have closed this object)
        return known;
      } catch (e) {
        if (e.code !== 'VEXFS_E_STATE') throw e;
      }
    }
    return this._wrap(name, this._n.getCollection(name));
  }

  /** The collections' names, sorted. */
  listCollections() { return this._n.listCollections(); }

  /** Deletes the collection and its data; its Collection objects stop working. */
  dropCollection(name) {
    this._n.dropCollection(name);
    this._collections.delete(name);
  }

  /** Writes a snapshot and empties the log (opening then loads instead of replaying). */
  checkpoint() { this._n.checkpoint(); }

  /** Checkpoints and releases the database; idempotent. Its collections stop working. */
  close() {
    this._n.close();
    this._collections.clear();
  }
}

/** The documented-SDK alias: a new in-memory collection. */
function createCollection(options) {
  return new Collection(options);
}

module.exports = {
  Collection,
  Database,
  VexfsError,
  NO_ID,
  createCollection,
  simdIsa: () => addon().simdIsa(),
  metrics: () => JSON.parse(addon().metricsJson()),
  getPerformanceMetrics: () => JSON.parse(addon().metricsJson()),
  // the remote client (remote.js): vexfs-server's /api/v1, no addon needed
  VexFSClient: remote.VexFSClient,
  RemoteCollection: remote.RemoteCollection,
  VexFSError,
};
Object.defineProperty(module.exports, 'version', { enumerable: true, get: () => addon().version });

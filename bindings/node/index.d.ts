// Types for the vexfs Node package (Node-API bindings for libvexfs).
//
// What C cannot take exactly throws a VexfsError with code VEXFS_E_INVALID (wrong types too),
// synchronously, also from addAsync/searchAsync (their promises reject for what fails in the
// call itself), and the collection is left as it was:
// - integers (ids, k, dim, ef, ...) are Numbers that are integers up to 2^53 - 1 (above that a
//   Number is not exact: pass a BigInt) or BigInts, in the parameter's range;
// - ids are 0..2^64 - 2 (2^64 - 1 is NO_ID), also inside a BigUint64Array;
// - vectors are a Float32Array, an array of numbers, or rows of dim numbers (not ragged rows,
//   strings, booleans, null, BigInts);
// - strings (JSON text, keys, names, paths) hold no NUL character.

/** Qdrant-style filter: {must, should, must_not} of conditions (see the libvexfs README). */
export type Filter = Record<string, unknown> | string;
export type Payload = Record<string, unknown>;
/** integers 0..2^64 - 2: Numbers up to 2^53 - 1, BigInts beyond */
export type Id = number | bigint;
export type Ids = BigUint64Array | Array<Id>;
/** a Number that is an integer, or a BigInt */
export type Integer = number | bigint;
export type Vectors = Float32Array | number[] | number[][];

export type IndexKind = 'auto' | 'flat' | 'hnsw' | 'lsh' | 'ivf';

/** dim, m, efConstruction, efSearch, threads and the LSH/IVF counts: integers 0..2^32 - 1 (the
 * library checks their ranges; 0 lets the index choose); seed: 0..2^64 - 1 */
export interface CollectionOptions {
  dim: Integer;
  metric?: 'l2' | 'ip' | 'cosine';
  index?: IndexKind;
  m?: Integer;
  efConstruction?: Integer;
  efSearch?: Integer;
  /** threads for batch work; 0 = all cores */
  threads?: Integer;
  seed?: Integer;
  /** LSH: hash tables, key bits per table, buckets probed per table by default */
  lshTables?: Integer;
  lshBits?: Integer;
  lshProbes?: Integer;
  /** LSH with L2: bucket width along a projection; 0 = from the data */
  lshBucketWidth?: number;
  lshProjection?: 'random' | 'learned';
  /** IVF: lists (0 = about sqrt(n)), lists scanned by default, what the lists hold */
  ivfNlist?: Integer;
  nprobe?: Integer;
  ivfCodes?: 'f32' | 'sq8';
  /** how vectors are held in memory: 'f32', or (index 'flat' / 'hnsw') codes searches score,
   *  the best re-scored on the exact copy: 'f16', 'sq8' (8-bit), 'sq4' (4-bit) */
  storage?: 'f32' | 'f16' | 'sq8' | 'sq4';
  /** where the exact rows live: 'mapped' (a Database's collections only) = in the database's
   *  row files from each checkpoint on, read through the page cache; 'none' (a coded storage)
   *  = nowhere: get() returns the decoded vector */
  rerank?: 'in_memory' | 'mapped' | 'none';
}

/** ef (HNSW; 0 = the collection's efSearch), probes (LSH; 0 = lshProbes), nprobe (IVF; 0 = the
 * collection's) and threads (0 = all cores): integers 0..2^32 - 1; exact: score every
 * (admitted) vector exactly, whatever the index */
export interface SearchOptions {
  ef?: Integer;
  filter?: Filter | null;
  threads?: Integer;
  probes?: Integer;
  nprobe?: Integer;
  exact?: boolean;
}

export interface SearchResult {
  /** hits, nearest first; for nq > 1 queries nq*k entries padded with NO_ID */
  ids: BigUint64Array;
  distances: Float32Array;
  /** nq > 1 only: real hits per query */
  counts?: Uint32Array;
}

/** Thrown (or rejected) for every libvexfs failure. */
export class VexfsError extends Error {
  /** the status name, e.g. "VEXFS_E_INVALID", "VEXFS_E_NOT_FOUND" */
  code: string;
  constructor(message: string, code: string);
}

// The remote client (remote.js; also require('vexfs/remote'), which does not load the addon).
export * from './remote';

export interface CollectionConfig {
  dim: number;
  metric: 'l2' | 'ip' | 'cosine';
  index: IndexKind;
  m: number;
  efConstruction: number;
  efSearch: number;
  threads: number;
  /** a bigint when above 2^53 - 1 (a number could not hold it exactly) */
  seed: number | bigint;
  lshTables: number;
  lshBits: number;
  lshProbes: number;
  lshBucketWidth: number;
  lshProjection: 'random' | 'learned';
  ivfNlist: number;
  nprobe: number;
  ivfCodes: 'f32' | 'sq8';
  storage: 'f32' | 'f16' | 'sq8' | 'sq4';
  rerank: 'in_memory' | 'mapped' | 'none';
}

export class Collection {
  constructor(options: CollectionOptions);
  readonly dim: number;
  /** the name in its database; null for a standalone collection */
  readonly name: string | null;
  /** the configuration, read back from the library */
  config(): CollectionConfig;
  /** every id, ascending */
  ids(): BigUint64Array;
  readonly size: number;
  /** inserts vectors (ids.length * dim floats), all or nothing; payloads (one per id, or null
   * entries) are JSON objects or JSON text */
  add(ids: Ids, vectors: Vectors, payloads?: Array<Payload | string | null>): void;
  /** as add, replacing ids already present (vector and payload), all or nothing */
  upsert(ids: Ids, vectors: Vectors, payloads?: Array<Payload | string | null>): void;
  /** documented-SDK alias: batchInsert({vectors, metadata, ids?}) returns the ids used */
  batchInsert(doc: { vectors: Vectors; metadata?: Array<Payload | null>; ids?: Ids }): BigUint64Array;
  batchInsert(ids: Ids, vectors: Vectors, payloads?: Array<Payload | string | null>): void;
  addAsync(ids: Ids, vectors: Vectors): Promise<void>;
  /** k: an integer 1..2^24 (VEXFS_MAX_K) */
  search(query: Vectors, k?: Integer, options?: SearchOptions): SearchResult;
  searchAsync(query: Vectors, k?: Integer, options?: SearchOptions): Promise<SearchResult>;
  remove(ids: Ids): void;
  get(id: Id): Float32Array;
  count(): number;
  getPayload(id: Id): Payload | null;
  setPayload(id: Id, payload: Payload | string | null, options?: { merge?: boolean }): void;
  createPayloadIndex(key: string, kind?: 'keyword' | 'numeric'): void;
  dropPayloadIndex(key: string, kind?: 'keyword' | 'numeric'): void;
  metrics(): Record<string, unknown>;
  getPerformanceMetrics(): Record<string, unknown>;
  close(): void;
}

export interface DatabaseOptions {
  /** 'full' (default): a call that returned survives kill -9 and power loss; 'normal': survives
   * a process crash; 'off' */
  sync?: 'full' | 'normal' | 'off';
  /** no writes; several read-only handles may share a directory, a writer may not */
  readOnly?: boolean;
  /** log size that triggers an automatic checkpoint, an integer 0..2^64 - 1; 0 = never
   * (default 64 MiB) */
  checkpointBytes?: Integer;
}

/** Named collections persisting in a directory, or in memory (path null). A second writer on the
 * same directory throws VEXFS_E_BUSY. Collections it returns throw VEXFS_E_STATE once dropped or
 * once the database is closed. */
export class Database {
  constructor(path?: string | null, options?: DatabaseOptions);
  readonly path: string | null;
  readonly readOnly: boolean;
  createCollection(name: string, options: CollectionOptions): Collection;
  getCollection(name: string): Collection;
  /** names, sorted */
  listCollections(): string[];
  dropCollection(name: string): void;
  checkpoint(): void;
  /** checkpoints and releases; idempotent; refused while async calls run on its collections */
  close(): void;
}

export function createCollection(options: CollectionOptions): Collection;
export function simdIsa(): string;
/** the library's version (reading it loads the addon) */
export const version: string;
export const NO_ID: bigint;
/** process-wide metrics, every collection together */
export function metrics(): Record<string, unknown>;
export function getPerformanceMetrics(): Record<string, unknown>;

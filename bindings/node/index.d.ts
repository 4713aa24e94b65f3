// Types for the vexfs Node package (Node-API bindings for libvexfs).

/** Qdrant-style filter: {must, should, must_not} of conditions (see the libvexfs README). */
export type Filter = Record<string, unknown> | string;
export type Payload = Record<string, unknown>;
export type Ids = BigUint64Array | Array<number | bigint>;

export interface CollectionOptions {
  dim: number;
  metric?: 'l2' | 'ip' | 'cosine';
  index?: 'auto' | 'flat' | 'hnsw' | 'lsh';
  m?: number;
  efConstruction?: number;
  efSearch?: number;
  /** threads for batch work; 0 = all cores */
  threads?: number;
  seed?: number;
}

export interface SearchOptions {
  ef?: number;
  filter?: Filter | null;
  threads?: number;
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

export interface CollectionConfig {
  dim: number;
  metric: 'l2' | 'ip' | 'cosine';
  index: 'auto' | 'flat' | 'hnsw' | 'lsh';
  m: number;
  efConstruction: number;
  efSearch: number;
  threads: number;
  seed: number;
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
  /** inserts vectors (ids.length * dim floats), all or nothing; payloads are JSON objects */
  add(ids: Ids, vectors: Float32Array | number[] | number[][], payloads?: Array<Payload | string | null>): void;
  /** documented-SDK alias: batchInsert({vectors, metadata, ids?}) returns the ids used */
  batchInsert(doc: { vectors: Float32Array | number[][]; metadata?: Array<Payload | null>; ids?: Ids }): BigUint64Array;
  batchInsert(ids: Ids, vectors: Float32Array | number[] | number[][], payloads?: Array<Payload | string | null>): void;
  addAsync(ids: Ids, vectors: Float32Array | number[] | number[][]): Promise<void>;
  search(query: Float32Array | number[], k?: number, options?: SearchOptions): SearchResult;
  searchAsync(query: Float32Array | number[], k?: number, options?: SearchOptions): Promise<SearchResult>;
  remove(ids: Ids): void;
  get(id: number | bigint): Float32Array;
  count(): number;
  getPayload(id: number | bigint): Payload | null;
  setPayload(id: number | bigint, payload: Payload | string | null, options?: { merge?: boolean }): void;
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
  /** log size that triggers an automatic checkpoint; 0 = never (default 64 MiB) */
  checkpointBytes?: number;
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
export const version: string;
export const NO_ID: bigint;
/** process-wide metrics, every collection together */
export function metrics(): Record<string, unknown>;
export function getPerformanceMetrics(): Record<string, unknown>;

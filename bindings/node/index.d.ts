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

export class Collection {
  constructor(options: CollectionOptions);
  readonly dim: number;
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

export function createCollection(options: CollectionOptions): Collection;
export function simdIsa(): string;
export const version: string;
export const NO_ID: bigint;
/** process-wide metrics, every collection together */
export function metrics(): Record<string, unknown>;
export function getPerformanceMetrics(): Record<string, unknown>;

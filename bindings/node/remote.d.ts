// Types for the remote client of the vexfs Node package (remote.js): the VexFS TypeScript SDK's
// calls answered by a vexfs-server over its /api/v1 routes, with Node's global fetch. Every call
// resolves with plain objects; every failure rejects with a VexFSError.
import type { VexfsError } from './index';

/** numbers up to 2^53 - 1; BigInts above (answers use a BigInt exactly when a number cannot
 * hold the id) */
export type RemoteId = number | bigint;
export type RemoteVectors = Float32Array | number[] | Array<number[] | Float32Array>;
export type Metadata = Record<string, unknown>;
/** Qdrant-style {must, should, must_not}, or {key: value, ...}: every key matches its value */
export type RemoteFilter = Record<string, unknown> | string;

/** The SDK's performance options: accepted, changing nothing, batchSize aside (it splits a
 * batchInsert as insertBatch does); snake_case names are accepted too, unknown ones refused. */
export interface PerformanceOptions {
  optimizationLevel?: string;
  memoryPoolSize?: string;
  enableSIMD?: boolean;
  enableStackOptimization?: boolean;
  enableEnhancedBridge?: boolean;
  targetOpsPerSec?: number;
  useMemoryPools?: boolean;
  parallelProcessing?: boolean;
  batchProcessing?: boolean;
  priority?: string;
  lowLatencyMode?: boolean;
  cacheResults?: boolean;
  batchSize?: number;
}

export interface VexFSClientOptions {
  /** http(s)://host:port; a path is kept as a prefix, a trailing /api/v1 is allowed */
  endpoint: string;
  /** sent as `Authorization: Bearer <apiKey>` */
  apiKey?: string | null;
  /** per request (default 60000) */
  timeoutMs?: number;
  /** more request headers */
  headers?: Record<string, string>;
  /** the reference's client options: accepted, changing nothing */
  performanceConfig?: Record<string, unknown>;
  enableMonitoring?: boolean;
}

export interface CreateCollectionOptions {
  name: string;
  dimension: number;
  algorithm?: 'hnsw' | 'flat' | 'auto' | 'lsh' | 'ivf';
  metric?: 'l2' | 'ip' | 'cosine';
  /** the SDK's index parameters (m, efConstruction or ef_construction, efSearch, numTables,
   * numFunctions, bucketSize, projectionType, nlist, nprobe, codes, ...) */
  parameters?: Record<string, unknown>;
  /** the reference's hnsw_config (m, efConstruction, efSearch, maxConnections) */
  hnswConfig?: Record<string, unknown>;
  performanceConfig?: PerformanceOptions;
}

export interface InsertPerformanceStats {
  memoryPoolHitRate: number;
  simdUsed: boolean;
  simdIsa: string;
  totalTimeMs: number;
  opsPerSec: number;
}

export interface InsertResult {
  /** the ids stored (given or assigned), in input order */
  ids: RemoteId[];
  count: number;
  /** of the last request (null when there were no vectors) */
  performanceStats: InsertPerformanceStats | null;
}

export interface RemoteSearchResult {
  id: RemoteId;
  /** the metric's distance, a float32 (smaller is nearer) */
  distance: number;
  /** larger is nearer: 1 / (1 + distance) for l2, 1 - distance for ip and cosine */
  score: number;
  metadata: Metadata | null;
}

export interface SearchOptions {
  vector: RemoteVectors;
  /** 1..2^24 (default 10) */
  limit?: number;
  filter?: RemoteFilter | null;
  /** HNSW candidate list; default: configureSearch's, else the collection's ef_search */
  ef?: number;
  performanceOptions?: PerformanceOptions;
}

export interface CollectionStats {
  name: string;
  vectorCount: number;
  dimension: number;
  algorithm: string;
  metric: string;
  indexSizeMb: number;
  insertCount: number;
  searchCount: number;
  avgSearchTimeMs: number;
  p95SearchTimeMs: number;
  memoryBytes: Record<string, number>;
}

export interface SystemStats {
  collectionCount: number;
  vectorCount: number;
  memoryUsageMb: number;
  avgSearchTimeMs: number;
  cacheHits: number;
  cacheMisses: number;
  memoryBytes: Record<string, number>;
}

/** The server's figures, sampled once a second; NaN where the server reports none. */
export interface PerformanceMetrics {
  timestamp: string;
  vectorOpsPerSec: number;
  searchOpsPerSec: number;
  insertOpsPerSec: number;
  avgLatencyMs: number;
  searchLatencyP50Ms: number;
  searchLatencyP95Ms: number;
  searchLatencyP99Ms: number;
  memoryPoolHitRate: number;
  simdAccelerationActive: boolean;
  simdIsa: string;
  vectors: number;
  /** GET /api/v1/performance/metrics/realtime as it came */
  raw: Record<string, unknown>;
}

export interface PerformanceHistory {
  duration: string;
  interval: string;
  dataPoints: number;
  metrics: Array<{
    timestamp: string;
    vectorOpsPerSec: number;
    searchOpsPerSec: number;
    insertOpsPerSec: number;
    memoryPoolHitRate: number;
    simdAccelerationActive: boolean;
    raw: Record<string, unknown>;
  }>;
}

/** A failure of the remote client. */
export class VexFSError extends VexfsError {
  /** as the embedded library names it ("VEXFS_E_NOT_FOUND", "VEXFS_E_INVALID", ...), or
   * "VEXFS_E_AUTH" (API key refused), "VEXFS_E_CONNECTION", "VEXFS_E_TIMEOUT" (no answer) */
  code: string;
  /** the HTTP status; 0 when no answer came or the call was refused before sending */
  status: number;
  /** the server's /api/v1 code, "API_001" .. "API_008", or null */
  apiCode: string | null;
  endpoint: string | null;
}

export class RemoteCollection {
  readonly name: string;
  readonly dimension: number;
  readonly dim: number;
  readonly metric: 'l2' | 'ip' | 'cosine';
  readonly algorithm: string;
  /** the index parameters in effect, as the server names them */
  readonly parameters: Record<string, unknown>;
  count(): Promise<number>;
  insert(doc: { vector: RemoteVectors; metadata?: Metadata | null; id?: RemoteId | null }): Promise<RemoteId>;
  insert(vector: RemoteVectors, metadata?: Metadata | null, id?: RemoteId | null): Promise<RemoteId>;
  batchInsert(doc: { vectors: RemoteVectors; metadata?: Array<Metadata | null> | null;
    ids?: RemoteId[] | BigUint64Array | null; performanceOptions?: PerformanceOptions | null }): Promise<InsertResult>;
  insertBatch(doc: { vectors: RemoteVectors; metadata?: Array<Metadata | null> | null;
    ids?: RemoteId[] | BigUint64Array | null; batchSize?: number }): Promise<InsertResult>;
  /** one query: its hits; rows of several (number[][]): an array of hits per row */
  search(options: SearchOptions): Promise<RemoteSearchResult[] | RemoteSearchResult[][]>;
  search(vector: Float32Array | number[], limit?: number, options?: Omit<SearchOptions, 'vector' | 'limit'>): Promise<RemoteSearchResult[]>;
  search(vectors: number[][], limit?: number, options?: Omit<SearchOptions, 'vector' | 'limit'>): Promise<RemoteSearchResult[][]>;
  configureSearch(efSearch: number): void;
  get(id: RemoteId): Promise<Float32Array>;
  getMetadata(id: RemoteId): Promise<Metadata | null>;
  /** all or nothing */
  delete(ids: RemoteId | RemoteId[] | BigUint64Array): Promise<void>;
  getStats(): Promise<CollectionStats>;
}

export class VexFSClient {
  constructor(options: VexFSClientOptions);
  readonly endpoint: string;
  createCollection(options: CreateCollectionOptions): Promise<RemoteCollection>;
  getCollection(name: string): Promise<RemoteCollection>;
  /** names, sorted */
  listCollections(): Promise<string[]>;
  deleteCollection(name: string): Promise<void>;
  getPerformanceMetrics(): Promise<PerformanceMetrics>;
  getPerformanceHistory(options?: { duration?: string; interval?: string }): Promise<PerformanceHistory>;
  getStats(): Promise<SystemStats>;
  /** later calls reject with VEXFS_E_INVALID */
  close(): void;
}

/*
 * libvexfs — embeddable vector search.
 *
 * The one public header. C99, also compiles as C++.
 *
 * Stability
 *   Everything in this header is stable ABI (soname libvexfs.so.1):
 *   - only opaque handles cross the boundary;
 *   - every public struct begins with `uint32_t struct_size` and is filled by its `*_init()`
 *     macro, which passes the caller's sizeof to a `*_init_sized()` function: the library fills
 *     exactly that many bytes, so a program built against an older header (a smaller struct)
 *     or a newer one (a larger struct) is never overrun. Fields are only ever appended, after
 *     the previous version's sizeof;
 *   - the library reads an input struct as far as both sides know it; bytes past the fields
 *     this version knows must be zero (as `_init` leaves them), or the call fails with
 *     VEXFS_E_UNSUPPORTED rather than ignore a newer feature it lacks. It writes an output
 *     struct as far as both know it and zeroes the rest up to the caller's struct_size;
 *   - structs nested in others (vexfs_latency_summary, vexfs_pool_tier_stats) and fixed arrays
 *     (VEXFS_POOL_MAX_TIERS) never change: new figures are appended to the enclosing struct;
 *   - the functions `*_init()` (without the macro: `(vexfs_collection_config_init)(cfg)`) stay,
 *     for programs built against 0.1.0, and fill exactly 0.1.0's sizes forever;
 *   - enum and status values are fixed forever; new ones are appended.
 *
 * Threading
 *   A collection may be used from many threads at once: searches run concurrently with each other
 *   and with inserts, removes and gets. Only vexfs_collection_free() must not race other calls on
 *   the same collection. Unless a function says otherwise it is thread-safe.
 *
 * Threads, fork and unloading
 *   Batch calls (inserts, batched searches; `threads` settings) run on a process-wide pool of
 *   worker threads that the library starts on first need, up to the largest parallelism asked
 *   for (at most 256), and that then wait idle, holding no lock, until the process exits; the
 *   calling thread always works too, and if workers cannot be started it does all the work. Each
 *   thread that calls the library gets a scratch cache, returned when the thread exits.
 *   fork(): the child has none of the workers and starts its own on demand; it may use the
 *   library if no other thread of the parent was inside a library call at the fork (as POSIX
 *   warns for any library with locks). A database handle open for writing must then be used by
 *   one of the two processes only: the child inherits the handle with its directory lock, so
 *   nothing stops both from writing.
 *   Unloading: libvexfs.so is linked with -z nodelete, so dlclose() never unmaps it (its idle
 *   workers and thread caches stay valid); its memory is not returned until the process ends.
 *
 * Errors
 *   Functions that can fail return a vexfs_status. Mutating calls on a collection that belongs to
 *   a database (vexfs_db_*) may also return VEXFS_E_IO (its log record could not be made durable)
 *   and VEXFS_E_READONLY (the database is open read-only); the collection is then unchanged. On failure, vexfs_last_error() gives a
 *   human-readable message for the calling thread, and nothing was changed: every batch call is
 *   all-or-nothing. The library never aborts, prints or exits on bad input.
 *
 * Ownership
 *   The library never keeps a pointer the caller passed in after a call returns; inputs are copied.
 *   Strings the library returns as `const char *` are static or thread-local and must not be freed.
 */
#ifndef VEXFS_VEXFS_H
#define VEXFS_VEXFS_H

#include <float.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(VEXFS_BUILDING_LIBRARY) && defined(__GNUC__)
#define VEXFS_API __attribute__((visibility("default")))
#else
#define VEXFS_API
#endif

/* ------------------------------------------------------------------------------------------------
 * Version
 * --------------------------------------------------------------------------------------------- */
#define VEXFS_VERSION_MAJOR 0
#define VEXFS_VERSION_MINOR 7
#define VEXFS_VERSION_PATCH 3
#define VEXFS_VERSION_NUMBER \
  (VEXFS_VERSION_MAJOR * 10000 + VEXFS_VERSION_MINOR * 100 + VEXFS_VERSION_PATCH)
#define VEXFS_VERSION_STRING "0.7.3"

/* MAJOR*10000 + MINOR*100 + PATCH of the library actually loaded (may differ from the macros the
 * caller compiled against). Never fails. */
VEXFS_API uint32_t vexfs_version_number(void);
/* "MAJOR.MINOR.PATCH" of the loaded library; static storage. Never fails. */
VEXFS_API const char *vexfs_version_string(void);

/* ------------------------------------------------------------------------------------------------
 * Status codes and errors
 * --------------------------------------------------------------------------------------------- */
typedef enum vexfs_status {
  VEXFS_OK = 0,
  VEXFS_E_INVALID = 1,     /* bad argument: NULL, zero size, NaN/Inf, bad k, malformed input */
  VEXFS_E_NOMEM = 2,       /* an allocation failed; nothing was changed */
  VEXFS_E_DIMENSION = 3,   /* a vector's dimension does not match the collection */
  VEXFS_E_NOT_FOUND = 4,   /* an id (or name) does not exist */
  VEXFS_E_EXISTS = 5,      /* an id (or name) already exists */
  VEXFS_E_IO = 6,          /* an operating-system I/O call failed */
  VEXFS_E_CORRUPT = 7,     /* stored data failed a check */
  VEXFS_E_UNSUPPORTED = 8, /* a feature this build or this version does not provide */
  VEXFS_E_READONLY = 9,    /* a write to something opened read-only */
  VEXFS_E_STATE = 10,      /* the call is not allowed in the object's current state */
  VEXFS_E_BUSY = 11        /* a database is open for writing by another handle or process */
} vexfs_status;

/* Short English description of a status, e.g. "invalid argument"; "unknown status" for values this
 * version does not know. Static storage. Never fails. */
VEXFS_API const char *vexfs_status_string(vexfs_status s);

/* The enumerator's name of a status, e.g. "VEXFS_E_NOT_FOUND" (what bindings use as error
 * codes); "VEXFS_E_UNKNOWN" for values this version does not know. Static storage. Never fails. */
VEXFS_API const char *vexfs_status_name(vexfs_status s);

/* Human-readable message of the calling thread's most recent failure, e.g.
 * "vexfs_insert: row 3: id 17 is already in the collection". A successful call does not clear it.
 * Returns "" if this thread has had no failure. The pointer is thread-local and valid until this
 * thread's next failing call. Never fails. */
VEXFS_API const char *vexfs_last_error(void);

/* ------------------------------------------------------------------------------------------------
 * SIMD
 * --------------------------------------------------------------------------------------------- */
/* The instruction set the distance kernels use now: "scalar", "avx2", "avx2vnni" (AVX2 with
 * AVX-VNNI byte dot products), "avx512", "avx512vnni" (AVX-512 with AVX512-VNNI) or "neon". Chosen
 * once when the library loads, from CPUID and the state the OS enabled (XGETBV). The environment
 * variable VEXFS_SIMD=scalar|avx2|avx2vnni|avx512|avx512vnni|neon, read at load time, caps the
 * level in that order (a level the CPU lacks is never chosen). Static storage. Never fails. */
VEXFS_API const char *vexfs_simd_isa(void);

/* ------------------------------------------------------------------------------------------------
 * Collections
 * --------------------------------------------------------------------------------------------- */
/* Distances ascend (smaller is nearer):
 *   L2     squared euclidean distance;
 *   IP     1 - dot(a, b);
 *   COSINE 1 - cos(a, b); a zero vector has cosine 0 to everything, so distance 1. */
typedef enum vexfs_metric {
  VEXFS_METRIC_L2 = 1,
  VEXFS_METRIC_IP = 2,
  VEXFS_METRIC_COSINE = 3
} vexfs_metric;

typedef enum vexfs_index_kind {
  VEXFS_INDEX_AUTO = 0, /* exact while small; builds an IVF index once it passes the measured
                           crossover (since 0.7.2 1 280-2 560 vectors by dim; 8 MiB before),
                           transparently. AUTO collections that built HNSW in 0.1 or 0.2 (past
                           5 000 vectors) keep their graph */
  VEXFS_INDEX_FLAT = 1, /* exact search */
  VEXFS_INDEX_HNSW = 2, /* approximate graph search; distances returned are still exact */
  VEXFS_INDEX_LSH = 3,  /* multi-probe locality-sensitive hashing: lsh_tables hash tables of
                           lsh_bits-bit keys, a per-vector sketch as a prefilter, then an exact
                           re-rank of the candidates; inserts need no training (since 0.3.0) */
  VEXFS_INDEX_IVF = 4   /* inverted file: a k-means coarse quantizer of ivf_nlist lists, each
                           holding its rows (ivf_codes: f32 or 8-bit codes); nprobe lists are
                           scanned and re-ranked exactly (since 0.3.0) */
} vexfs_index_kind;

/* How an LSH index draws its projections. */
typedef enum vexfs_lsh_projection {
  VEXFS_LSH_PROJECTION_RANDOM = 0, /* random directions, drawn from hnsw_seed at the first insert */
  VEXFS_LSH_PROJECTION_LEARNED = 1 /* directions fitted once to the first rows inserted: the
                                      differences of pairs of them drawn from hnsw_seed */
} vexfs_lsh_projection;

/* What the lists of an IVF index hold. */
typedef enum vexfs_ivf_codes {
  VEXFS_IVF_CODES_F32 = 0, /* exact distances (IVF-Flat): lists hold a projection per row that
                              bounds its distance, the rows are read where the bound allows */
  VEXFS_IVF_CODES_SQ8 = 1  /* 8-bit scalar codes (1 byte per coordinate), the best candidates
                              re-ranked on the f32 rows */
} vexfs_ivf_codes;

/* The form in which a collection holds its vectors in memory (since 0.6.0; F16, SQ8 and SQ4
 * since 0.7.0, for the FLAT and HNSW indexes: AUTO, LSH and IVF take F32 only, VEXFS_E_INVALID
 * otherwise). Searches score candidates on these codes, then re-score the best of them on the
 * exact copy that `rerank` keeps: the best k + max(k, 16) by code (SQ4, coarser: 4k + 64), of
 * every row for FLAT, of its candidate list (ef) for HNSW.
 *   SQ ranges: per coordinate, one step for all, fitted exactly to the first batch inserted and
 *   refitted 10% wider whenever a later batch leaves them: every row is then re-coded under the
 *   collection's write lock (from its exact copy; with rerank NONE from its old code, which can
 *   move a coordinate by half of the new step). Integer data within 256 values (pixels) codes
 *   exactly in SQ8: the collection's metrics JSON says so ("codes": {"lossless": true}), and
 *   searches then read no exact copy at all. */
typedef enum vexfs_storage {
  VEXFS_STORAGE_F32 = 0, /* 4 bytes per coordinate, exact (the default); HNSW traverses 8-bit
                            codes of its own, beside the rows */
  VEXFS_STORAGE_F16 = 1, /* IEEE half floats, 2 bytes per coordinate, rounded to nearest: each
                            within 2^-11 of its value relative (from magnitude 2^-14 up; below,
                            within 2^-25 absolute; past 65504 clamped to it), distances computed
                            in f32 from them */
  VEXFS_STORAGE_SQ8 = 2, /* 8-bit scalar codes, 1 byte per coordinate: each coordinate within
                            half a step (its range's widest span / 255) */
  VEXFS_STORAGE_SQ4 = 3  /* 4-bit scalar codes, two coordinates a byte: half a step of span / 15;
                            meant with an exact copy (MAPPED), as a traversal code */
} vexfs_storage;

/* Where a collection keeps the exact f32 copy of its vectors, which searches read to score their
 * final candidates and scans read whole (since 0.6.0). */
typedef enum vexfs_rerank {
  VEXFS_RERANK_IN_MEMORY = 0, /* in the process's memory (the default) */
  VEXFS_RERANK_MAPPED = 1,    /* collections of an on-disk database only: from each checkpoint on,
                                 the rows live in a file of the database (rows-*.vxr, written and
                                 checksummed by the checkpoint, verified on open) that the library
                                 maps, so the page cache, not the process, decides what stays in
                                 RAM; rows inserted or rewritten since the last checkpoint stay in
                                 memory until the next one (automatic checkpoints bound them).
                                 Results are those of IN_MEMORY, bit for bit */
  VEXFS_RERANK_NONE = 2       /* no exact copy (storage F16, SQ8 or SQ4; with F32, VEXFS_E_INVALID):
                                 each row is its code. vexfs_get returns the decoded vector, and
                                 every distance a search returns is the exact distance between the
                                 query and that decoded vector (the candidates themselves are
                                 chosen on codes, so neighbours can be missed: SQ4 without an
                                 exact copy loses much recall; a row near VEXFS_MAX_SQUARED_NORM
                                 may decode a rounding step past it). With F16, inserts refuse
                                 elements beyond +-65504 (VEXFS_E_INVALID). Snapshots store the
                                 codes */
} vexfs_rerank;

typedef struct vexfs_collection_config {
  uint32_t struct_size;          /* sizeof(vexfs_collection_config); set by _init */
  uint32_t dim;                  /* vector dimension, 1 .. VEXFS_MAX_DIM; no default (0) */
  vexfs_metric metric;           /* default VEXFS_METRIC_L2 */
  vexfs_index_kind index;        /* default VEXFS_INDEX_AUTO */
  uint32_t hnsw_m;               /* default 16 */
  uint32_t hnsw_ef_construction; /* default 200; 1 .. VEXFS_MAX_K */
  uint32_t hnsw_ef_search;       /* default 64; 1 .. VEXFS_MAX_K */
  uint32_t threads;              /* threads for batch work; 0 (default) = all cores */
  /* appended in 0.1.0 */
  uint64_t hnsw_seed;            /* seed of HNSW level draws, LSH projections and IVF training
                                    samples; with threads = 1, equal inputs build equal indexes.
                                    Default 0 (itself a fixed seed). */
  /* appended in 0.3.0: fields of the LSH and IVF indexes; 0 means "chosen by the index" (the
   * choices are documented in README.md, "LSH" and "IVF"), and each kind ignores the others'. */
  uint32_t lsh_tables;           /* hash tables L, 0 or 1 .. VEXFS_LSH_MAX_TABLES; 0 = 9 */
  uint32_t lsh_bits;             /* hash functions (key bits) per table K, 0 or 1 ..
                                    VEXFS_LSH_MAX_BITS; 0 = ceil(log2(n / 16 + 1)) clamped to
                                    6 .. 16, n the rows of the first insert (12 for 60 000) */
  uint32_t lsh_probes;           /* buckets probed per table by a search, 0 or 1 .. VEXFS_MAX_K
                                    (at most 4096 are probed); 0 = 16; a search's `probes`
                                    overrides it. An LSH search re-ranks 4 * ef candidates
                                    exactly (ef: the search's, else hnsw_ef_search) */
  float lsh_bucket_width;        /* L2 only: the width of a hash function's buckets along its
                                    projection; 0 = from the data (one cut per projection, at the
                                    median of the first insert), else finite and > 0 (cuts every
                                    width from that median) */
  uint32_t ivf_nlist;            /* lists, 0 (= round(sqrt(n)) for the n live rows at each
                                    training) or 1 .. VEXFS_IVF_MAX_NLIST (at most n). IVF trains
                                    first at 1024 rows (or 32 per list if ivf_nlist is set, when
                                    fewer), exact until then, and retrains each time the rows
                                    double; searches continue meanwhile */
  uint32_t ivf_nprobe;           /* lists scanned by a search, 0 (= nlist / 32, at least 8) or
                                    1 .. VEXFS_IVF_MAX_NLIST; a search's `nprobe` overrides it */
  vexfs_ivf_codes ivf_codes;     /* default VEXFS_IVF_CODES_F32 (exact distances; lists hold a
                                    256-dim projection per row, the rows are read from the
                                    collection); SQ8: lists hold 8-bit codes, the best 4k + 32
                                    by code kept and re-ranked exactly (L2: only those whose
                                    code error still lets them beat the k-th) */
  vexfs_lsh_projection lsh_projection; /* default VEXFS_LSH_PROJECTION_RANDOM */
  /* appended in 0.6.0: memory-lean storage */
  vexfs_storage storage;         /* default VEXFS_STORAGE_F32 */
  vexfs_rerank rerank;           /* default VEXFS_RERANK_IN_MEMORY; MAPPED needs a collection made
                                    by vexfs_db_create_collection in a database with a directory
                                    (VEXFS_E_INVALID elsewhere) */
} vexfs_collection_config;

#define VEXFS_LSH_MAX_TABLES 256u
#define VEXFS_LSH_MAX_BITS 64u
#define VEXFS_IVF_MAX_NLIST 65536u

#define VEXFS_MAX_DIM 65536u
/* The largest squared norm (sum of squares, in float) a vector or query may have: FLT_MAX / 4,
 * so that every distance between two of them is finite (|x - y|^2 <= (|x| + |y|)^2 <= 4 max).
 * Rows with larger norms, like ones holding NaN or infinity, are VEXFS_E_INVALID: 1e19 in one
 * coordinate is too large, 1e18 in each of 64 is not. */
#define VEXFS_MAX_SQUARED_NORM (FLT_MAX / 4) /* 8.507059e37f */
/* The largest k a search accepts. */
#define VEXFS_MAX_K (1u << 24)

/* Fills the caller's size bytes of *cfg (the macro passes sizeof *cfg) with the defaults above,
 * zeroes any fields past this version's, and sets struct_size = size. Never fails. Thread-safe
 * (touches only *cfg). NULL, or a size below 4 or above 4096 (no struct is that large), writes
 * nothing. */
VEXFS_API void vexfs_collection_config_init_sized(vexfs_collection_config *cfg, size_t size);
/* 0.1.0's function: fills exactly sizeof(vexfs_collection_config) of 0.1.0. */
VEXFS_API void vexfs_collection_config_init(vexfs_collection_config *cfg);
#define vexfs_collection_config_init(cfg) vexfs_collection_config_init_sized((cfg), sizeof *(cfg))

typedef struct vexfs_search_params {
  uint32_t struct_size;    /* sizeof(vexfs_search_params); set by _init */
  uint32_t ef;             /* HNSW candidate-list size; 0 = the collection's hnsw_ef_search;
                              values below k are raised to k */
  const char *filter_json; /* NULL = no filter (Qdrant-style filter object) */
  uint32_t threads;        /* threads for nq > 1; 0 = the collection's `threads` setting */
  uint32_t padding_0_1;     /* 0.1.0's tail padding, never read: new fields follow its size */
  /* appended in 0.3.0 */
  uint32_t probes;         /* LSH buckets probed per table; 0 = the collection's lsh_probes
                              (whose 0 means 16) */
  uint32_t nprobe;         /* IVF lists scanned; 0 = the collection's ivf_nprobe; above the
                              lists there are, every list */
  /* appended in 0.4.0 */
  uint32_t exact;          /* nonzero: every row (that the filter admits) is scored exactly,
                              whatever the index; ef, probes and nprobe are then unused */
  uint32_t padding_0_4;    /* never read: the struct ends without tail padding */
} vexfs_search_params;

/* Fills the caller's size bytes of *p (the macro passes sizeof *p) with the defaults (ef 0, no
 * filter, threads 0, probes 0, nprobe 0, exact 0), zeroes any fields past this version's, and sets struct_size = size. Never
 * fails. Thread-safe (touches only *p). NULL, or a size below 4 or above 4096 (no struct is
 * that large), writes nothing. */
VEXFS_API void vexfs_search_params_init_sized(vexfs_search_params *p, size_t size);
/* 0.1.0's function: fills exactly sizeof(vexfs_search_params) of 0.1.0. */
VEXFS_API void vexfs_search_params_init(vexfs_search_params *p);
#define vexfs_search_params_init(p) vexfs_search_params_init_sized((p), sizeof *(p))

typedef struct vexfs_collection vexfs_collection;

/* Creates an empty in-memory collection.
 * cfg: read only during the call; must have been filled by vexfs_collection_config_init() and then
 *      adjusted. struct_size must be at least the size of the first version of the struct.
 * out: receives a new handle the caller owns and releases with vexfs_collection_free().
 * Errors: VEXFS_E_INVALID (NULL, dim 0 or above VEXFS_MAX_DIM, unknown metric, index kind or
 *         ivf_codes or lsh_projection, a field outside the range its comment gives, bad struct_size),
 *         VEXFS_E_UNSUPPORTED (a field past this version's struct is set), VEXFS_E_NOMEM. *out is set to NULL on failure.
 * Threading: thread-safe; the new collection is not shared until the caller shares it. */
VEXFS_API vexfs_status vexfs_collection_create(const vexfs_collection_config *cfg,
                                               vexfs_collection **out);

/* Releases a collection and everything it owns; c is invalid afterwards. NULL-safe. Ignores a
 * collection that belongs to a database (vexfs_db_drop_collection and vexfs_db_close free those).
 * Threading: must not race any other call on c (the one exception to the threading rule). */
VEXFS_API void vexfs_collection_free(vexfs_collection *c);

/* Inserts n vectors with their ids, as one all-or-nothing batch.
 * ids: n ids, any uint64 except UINT64_MAX (reserved), each absent from the collection and unique
 *      within the batch. vectors: n*dim floats, row-major, each row finite with a squared norm
 *      of at most VEXFS_MAX_SQUARED_NORM. Both are copied.
 * n = 0 is a no-op that succeeds (ids and vectors may then be NULL).
 * Threading: safe concurrently with searches, gets and other mutations.
 * Errors: VEXFS_E_INVALID (NULL pointer, reserved id, duplicate id within the batch, NaN/Inf
 *         or a squared norm above VEXFS_MAX_SQUARED_NORM),
 *         VEXFS_E_EXISTS (an id already in the collection), VEXFS_E_NOMEM. On any error the
 *         collection is exactly as before and vexfs_last_error() names the first bad row. */
VEXFS_API vexfs_status vexfs_insert(vexfs_collection *c, const uint64_t *ids,
                                    const float *vectors, size_t n);

/* As vexfs_insert, with one JSON object per vector in payloads_json (entries may be NULL for no
 * payload; the array itself may be NULL for none at all). Payloads are parsed strictly (RFC 8259,
 * UTF-8, no duplicate keys, nesting up to 64, VEXFS_MAX_PAYLOAD_BYTES each) and stored in a compact
 * binary form; integers keep all 64 bits. Strings are read only during the call.
 * Threading: as vexfs_insert.
 * Errors: as vexfs_insert, plus VEXFS_E_INVALID when a payload is not valid JSON or not an object;
 *         the whole batch fails and the message names the row, the line and column and the problem
 *         ("vexfs_insert_with_payload: row 2: payload is not valid JSON: line 1, column 9: ..."). */
VEXFS_API vexfs_status vexfs_insert_with_payload(vexfs_collection *c, const uint64_t *ids,
                                                 const float *vectors,
                                                 const char *const *payloads_json, size_t n);

/* Inserts or replaces n vectors, as one all-or-nothing batch: an id already in the collection
 * gets the new vector and payload (payloads_json as for vexfs_insert_with_payload; a NULL array
 * or entry leaves the point without one), the others are inserted. In a database it is one log
 * record, so a crash keeps all of the batch or none of it, replaced points included. Searches
 * running meanwhile see each replaced id with its old vector or its new one, never without
 * either (since 0.4.0).
 * Threading: as vexfs_insert.
 * Errors: as vexfs_insert_with_payload, without VEXFS_E_EXISTS. */
VEXFS_API vexfs_status vexfs_upsert(vexfs_collection *c, const uint64_t *ids, const float *vectors,
                                    const char *const *payloads_json, size_t n);

/* The longest payload, both as JSON text passed in and in its compact form (what
 * vexfs_get_payload returns and snapshots store), which can be longer than the text given:
 * numbers are written out in full ("1e14" becomes "100000000000000.0") and control characters
 * escaped ("\b" becomes "\u0008"). A payload over the limit either way is VEXFS_E_INVALID. */
#define VEXFS_MAX_PAYLOAD_BYTES (64u << 20)
/* The longest filter text (params->filter_json) a search accepts; longer is VEXFS_E_INVALID. */
#define VEXFS_MAX_FILTER_BYTES (16u << 20)

/* Copies the payload stored with id as compact JSON text into *json_out, which the caller frees
 * with vexfs_free(); *json_out is NULL when the vector has no payload. Keys keep their order.
 * Threading: safe concurrently with every call but vexfs_collection_free().
 * Errors: VEXFS_E_INVALID (NULL), VEXFS_E_NOT_FOUND (UINT64_MAX, reserved, included),
 *         VEXFS_E_NOMEM. *json_out is NULL on error. */
VEXFS_API vexfs_status vexfs_get_payload(vexfs_collection *c, uint64_t id, char **json_out);

typedef enum vexfs_payload_mode {
  VEXFS_PAYLOAD_REPLACE = 0, /* the payload becomes json (NULL: the vector has none) */
  VEXFS_PAYLOAD_MERGE = 1    /* json's top-level keys are set over the existing payload's */
} vexfs_payload_mode;

/* Sets the payload of id. json is a JSON object read only during the call; with
 * VEXFS_PAYLOAD_REPLACE it may be NULL to drop the payload. Payload indexes follow the change.
 * Threading: safe concurrently with every call but vexfs_collection_free().
 * Errors: VEXFS_E_INVALID (NULL c, NULL json when merging, bad JSON or not an object, unknown
 *         mode, a payload, or the merge's result, over VEXFS_MAX_PAYLOAD_BYTES),
 *         VEXFS_E_NOT_FOUND (UINT64_MAX included), VEXFS_E_NOMEM. On error the payload is
 *         unchanged. */
VEXFS_API vexfs_status vexfs_set_payload(vexfs_collection *c, uint64_t id, const char *json,
                                         vexfs_payload_mode mode);

typedef enum vexfs_payload_index_kind {
  VEXFS_PAYLOAD_INDEX_KEYWORD = 1, /* strings, integers, booleans -> rows: for match */
  VEXFS_PAYLOAD_INDEX_NUMERIC = 2  /* numbers, sorted: for range */
} vexfs_payload_index_kind;

/* A payload key (in filters and payload indexes) is a dotted path of 1..VEXFS_MAX_KEY_BYTES
 * bytes and at most VEXFS_MAX_KEY_SEGMENTS non-empty segments ("a.b.c" has 3). */
#define VEXFS_MAX_KEY_BYTES 1024u
#define VEXFS_MAX_KEY_SEGMENTS 64u
/* Payload indexes a collection may have at once. */
#define VEXFS_MAX_PAYLOAD_INDEXES 64u

/* Builds an index over a payload key (a dotted path, as in filters) that the filter planner uses
 * to count and list the rows a condition admits, so that selective filters are answered from the
 * listed rows instead of a scan or a widened graph search. Existing and later payloads are
 * indexed. Results never depend on indexes, only speed does.
 * Threading: safe concurrently with every call but vexfs_collection_free(); mutations wait
 *            while it is built.
 * Errors: VEXFS_E_INVALID (NULL, a key past the limits above or with an empty segment, unknown
 *         kind, a collection's 65th index), VEXFS_E_EXISTS (this key already has an index of
 *         this kind), VEXFS_E_NOMEM. */
VEXFS_API vexfs_status vexfs_create_payload_index(vexfs_collection *c, const char *key,
                                                  vexfs_payload_index_kind kind);

/* Drops the index of `kind` over key. Errors: VEXFS_E_INVALID (NULL), VEXFS_E_NOT_FOUND. */
VEXFS_API vexfs_status vexfs_drop_payload_index(vexfs_collection *c, const char *key,
                                                vexfs_payload_index_kind kind);

/* The payload indexes of c as a JSON array, sorted by key, then kind (keyword first):
 * [{"key": "a.b", "kind": "keyword"}, {"key": "price", "kind": "numeric"}] ("[]" when none), in
 * *json_out, which the caller frees with vexfs_free() (since 0.5.0).
 * Threading: safe concurrently with every call but vexfs_collection_free().
 * Errors: VEXFS_E_INVALID (NULL), VEXFS_E_NOMEM. *json_out is NULL on error. */
VEXFS_API vexfs_status vexfs_list_payload_indexes(vexfs_collection *c, char **json_out);

/* k-nearest-neighbour search for nq queries at once.
 * queries: nq*dim floats, row-major, each query as vectors must be (finite, squared norm at
 * most VEXFS_MAX_SQUARED_NORM). params: NULL for defaults, else filled by
 * vexfs_search_params_init(). ids, distances: caller buffers of nq*k entries; row i holds query
 * i's results in ascending distance (ties by ascending id). When fewer than k vectors exist (or
 * pass the filter), the row's tail holds id UINT64_MAX and distance INFINITY; counts (NULL
 * allowed, else nq entries) receives how many entries of each row are real. Distances are exact
 * f32 values of the metric. Queries are split across params->threads (or the collection's
 * `threads`) workers.
 * Filters: params->filter_json is a Qdrant-style filter over payloads and ids:
 *   {"must": [...], "should": [...], "must_not": [...]} of conditions
 *   {"key": "a.b", "match": {"value": v} | {"any": [...]} | {"except": [...]}},
 *   {"key": k, "range": {"gt"/"gte"/"lt"/"lte": x}}, {"key": k, "values_count": {...}},
 *   {"is_empty": {"key": k}}, {"is_null": {"key": k}}, {"has_id": [ids]}, or nested filters.
 *   Keys are dotted paths; where a path meets an array any element may match. Only vectors the
 *   filter admits are returned, and k of them whenever at least k are admitted (HNSW included:
 *   the planner scans the admitted rows exactly when they are few, widens the graph search when
 *   they are not, and falls back to an exact scan rather than return fewer).
 * Threading: safe concurrently with every call but vexfs_collection_free().
 * Errors: VEXFS_E_INVALID (NULL pointer, nq = 0, k = 0, k > VEXFS_MAX_K, a query that is not as vectors must be, bad
 *         struct_size; a filter that is not valid JSON, uses an unknown operator or has an operand
 *         of the wrong type: the message names the place, e.g. "filter.must[1].range.gt"; a
 *         filter longer than VEXFS_MAX_FILTER_BYTES), VEXFS_E_NOMEM. On error the output buffers' contents are unspecified. */
VEXFS_API vexfs_status vexfs_search(vexfs_collection *c, const float *queries, size_t nq,
                                    size_t k, const vexfs_search_params *params, uint64_t *ids,
                                    float *distances, size_t *counts);

/* As vexfs_search, also returning each hit's payload: payloads_out (nq*k entries, caller-owned)
 * receives JSON strings the caller frees one by one with vexfs_free(), or NULL where the hit has
 * no payload or there is no hit. Payloads are read together with the hits, so each matches the
 * vector returned even while other threads change payloads. On error every entry is NULL.
 * Errors: as vexfs_search (VEXFS_E_INVALID also for NULL payloads_out). */
VEXFS_API vexfs_status vexfs_search_with_payload(vexfs_collection *c, const float *queries,
                                                 size_t nq, size_t k,
                                                 const vexfs_search_params *params, uint64_t *ids,
                                                 float *distances, size_t *counts,
                                                 char **payloads_out);

/* Removes n ids, all-or-nothing. n = 0 is a no-op that succeeds. ids is read only during the
 * call. Removed ids are never returned by later searches; an HNSW graph is repaired around them and
 * their rows are reused by later inserts. Threading: safe concurrently with every call but
 * vexfs_collection_free(); it waits for searches in progress, since it relinks the graph.
 * Errors: VEXFS_E_INVALID (NULL ids with n > 0, a duplicate id within the batch, the reserved
 *         id UINT64_MAX), VEXFS_E_NOT_FOUND (an id not in the collection), VEXFS_E_NOMEM. */
VEXFS_API vexfs_status vexfs_remove(vexfs_collection *c, const uint64_t *ids, size_t n);

/* Copies the vector stored under id into vector_out (dim floats, caller-owned), bit-exact; for a
 * collection without an exact copy (rerank VEXFS_RERANK_NONE), the vector its code decodes to
 * (vexfs_storage says how close; bit-exact where the metrics JSON says the codes are lossless).
 * Threading: safe concurrently with every call but vexfs_collection_free().
 * Errors: VEXFS_E_INVALID (NULL), VEXFS_E_NOT_FOUND (UINT64_MAX, reserved, included); nothing
 *         is written to vector_out on error. */
VEXFS_API vexfs_status vexfs_get(vexfs_collection *c, uint64_t id, float *vector_out);

/* Number of vectors in the collection; 0 for NULL. Thread-safe; a concurrent insert or remove
 * is either wholly counted or not at all. */
VEXFS_API size_t vexfs_count(const vexfs_collection *c);

/* The collection's dimension; 0 for NULL. Thread-safe. */
VEXFS_API uint32_t vexfs_dim(const vexfs_collection *c);

/* The index answering c's searches now, as a static string: "flat", "hnsw", "lsh" or "ivf"; for
 * an AUTO collection "auto" while it is exact, then "auto:" and the kind it has built (since
 * 0.3.0). NULL for NULL. Thread-safe; an AUTO collection may switch right after the call. */
VEXFS_API const char *vexfs_index_in_use(const vexfs_collection *c);

/* Copies the collection's configuration (as created, or as stored in its database) into *out.
 * out->struct_size must be set (vexfs_collection_config_init does it); only the fields it covers
 * are written, and it is left as the caller set it. threads and hnsw_seed read back as given.
 * Threading: thread-safe; the configuration never changes after creation.
 * Errors: VEXFS_E_INVALID (NULL, struct_size below the first version of the struct). */
VEXFS_API vexfs_status vexfs_collection_get_config(const vexfs_collection *c,
                                                   vexfs_collection_config *out);

/* Lists the ids of every vector in the collection, ascending, as one array of *n entries that
 * the caller frees with vexfs_free(); *ids is NULL when the collection is empty. The list is one
 * consistent moment: a concurrent insert or remove is wholly in it or wholly not.
 * Threading: safe concurrently with every call but vexfs_collection_free().
 * Errors: VEXFS_E_INVALID (NULL), VEXFS_E_NOMEM. On error *ids is NULL and *n is 0. */
VEXFS_API vexfs_status vexfs_list_ids(vexfs_collection *c, uint64_t **ids, size_t *n);

/* As vexfs_list_ids, listing only the ids whose vectors filter_json admits (a filter as for
 * vexfs_search; NULL lists every id). Payload indexes that cover the filter's conditions answer
 * it without testing every row. What a server needs for counts, scrolls and deletes by filter
 * (since 0.4.0).
 * Threading: as vexfs_list_ids.
 * Errors: as vexfs_list_ids, plus VEXFS_E_INVALID for a filter vexfs_search would refuse (the
 *         message names the place). On error *ids is NULL and *n is 0. */
VEXFS_API vexfs_status vexfs_list_ids_filtered(vexfs_collection *c, const char *filter_json,
                                               uint64_t **ids, size_t *n);

/* ------------------------------------------------------------------------------------------------
 * Databases: named collections that persist in a directory
 *
 * A database directory holds LOCK (the writer's lock), snapshot.vxs (every collection as of the
 * last checkpoint: ids, vectors, payloads, payload-index definitions, HNSW graphs; checksummed,
 * zstd-compressed where it pays) and wal.log (every mutation since, appended before it becomes
 * visible). Opening loads the snapshot and replays the log. Collections of a database are used
 * with the ordinary collection calls above; every mutating call is logged, and is durable as the
 * sync mode says when it returns VEXFS_OK. A call that fails changed nothing, on disk included.
 * --------------------------------------------------------------------------------------------- */

typedef struct vexfs_db vexfs_db;

typedef enum vexfs_sync_mode {
  VEXFS_SYNC_OFF = 0,    /* nothing is fsynced: a crash of the OS or a power cut may lose recent
                            calls (a process crash does not); checkpoints do not sync either */
  VEXFS_SYNC_NORMAL = 1, /* the log is written, not fsynced, per call: survives a process crash;
                            a power cut may lose calls since the last checkpoint */
  VEXFS_SYNC_FULL = 2    /* the default: the log is fsynced before a mutating call returns (one
                            fsync shared by concurrent callers): survives kill -9 and power loss */
} vexfs_sync_mode;

typedef struct vexfs_db_options {
  uint32_t struct_size;       /* sizeof(vexfs_db_options); set by _init */
  vexfs_sync_mode sync;       /* default VEXFS_SYNC_FULL */
  uint32_t read_only;         /* nonzero: no writes; mutating calls get VEXFS_E_READONLY. Other
                                 read-only handles may be open at once; a writer may not. */
  uint64_t wal_checkpoint_bytes; /* a mutation that grows the log past this many bytes runs a
                                    checkpoint before returning; default 64 MiB, 0 = never. A
                                    checkpoint keeps a log file of up to twice this (or twice
                                    the default) for the next records; close frees it. */
} vexfs_db_options;

/* Fills the caller's size bytes of *o with the defaults above, as vexfs_collection_config_init
 * does. Never fails. */
VEXFS_API void vexfs_db_options_init_sized(vexfs_db_options *o, size_t size);
/* 0.1.0's function: fills exactly sizeof(vexfs_db_options) of 0.1.0. */
VEXFS_API void vexfs_db_options_init(vexfs_db_options *o);
#define vexfs_db_options_init(o) vexfs_db_options_init_sized((o), sizeof *(o))

/* Opens the database in directory path, creating the directory (one level) and an empty database
 * when missing, or an in-memory database when path is NULL (nothing is written anywhere; it is
 * gone when closed). opts: NULL for defaults. The first writer locks the directory: another
 * handle, in this process or another, that opens it for writing, or read-only while it is open
 * for writing, gets VEXFS_E_BUSY until it is closed. A torn tail of the log (a write that never
 * returned) is dropped.
 * out: a handle the caller owns and releases with vexfs_db_close().
 * Errors: VEXFS_E_INVALID (NULL out, bad options), VEXFS_E_BUSY, VEXFS_E_IO (the directory cannot
 *         be created or read; a read-only open of a directory without a database),
 *         VEXFS_E_CORRUPT (a snapshot or log fails a check, or the log is damaged before valid
 *         records; the message names the file and place), VEXFS_E_UNSUPPORTED (files written by
 *         a newer format version), VEXFS_E_NOMEM. *out is NULL on failure.
 * Threading: thread-safe. */
VEXFS_API vexfs_status vexfs_db_open(const char *path, const vexfs_db_options *opts,
                                     vexfs_db **out);

/* Checkpoints (when writable and the log holds anything), then frees every collection of db and
 * db itself; their handles are invalid afterwards, whatever the status. NULL-safe (VEXFS_OK).
 * Errors: VEXFS_E_IO when the final checkpoint failed: nothing is lost (the log still holds
 * everything and is replayed at the next open).
 * Threading: must not race any other call on db or its collections. */
VEXFS_API vexfs_status vexfs_db_close(vexfs_db *db);

/* Writes every collection to a new snapshot (temp file, fsync, rename, directory fsync) and then
 * empties the log, so that opening loads instead of replaying. Mutating calls wait while it runs;
 * searches do not. A no-op for in-memory and read-only databases.
 * Errors: VEXFS_E_INVALID (NULL), VEXFS_E_IO (the old snapshot and the log stay in force),
 *         VEXFS_E_NOMEM. Threading: thread-safe. */
VEXFS_API vexfs_status vexfs_db_checkpoint(vexfs_db *db);

/* Creates an empty collection called name. Names are 1..VEXFS_MAX_NAME bytes of letters, digits,
 * '_', '-' and '.', not starting with '.'. cfg as for vexfs_collection_create.
 * out (may be NULL): receives a handle borrowed from db, valid until the collection is dropped or
 *     db closed; never pass it to vexfs_collection_free() (which ignores it).
 * Errors: VEXFS_E_INVALID (NULL db or name, a bad name, a bad cfg), VEXFS_E_EXISTS,
 *         VEXFS_E_READONLY, VEXFS_E_UNSUPPORTED, VEXFS_E_IO, VEXFS_E_NOMEM.
 * Threading: thread-safe. */
VEXFS_API vexfs_status vexfs_db_create_collection(vexfs_db *db, const char *name,
                                                  const vexfs_collection_config *cfg,
                                                  vexfs_collection **out);

#define VEXFS_MAX_NAME 128u

/* The collection called name, borrowed as above.
 * Errors: VEXFS_E_INVALID (NULL), VEXFS_E_NOT_FOUND. *out is NULL on failure. Thread-safe. */
VEXFS_API vexfs_status vexfs_db_get_collection(vexfs_db *db, const char *name,
                                               vexfs_collection **out);

/* Deletes the collection called name and frees it: its handle is invalid afterwards.
 * Errors: VEXFS_E_INVALID (NULL), VEXFS_E_NOT_FOUND, VEXFS_E_READONLY, VEXFS_E_IO, VEXFS_E_NOMEM.
 * Threading: thread-safe, but must not race other calls on that collection. */
VEXFS_API vexfs_status vexfs_db_drop_collection(vexfs_db *db, const char *name);

/* The collections' names, sorted: *names receives an array of *n strings, all in one block the
 * caller frees with one vexfs_free(*names). (*names is NULL when there are none.)
 * Errors: VEXFS_E_INVALID (NULL), VEXFS_E_NOMEM. Thread-safe. */
VEXFS_API vexfs_status vexfs_db_list_collections(vexfs_db *db, char ***names, size_t *n);

/* Verifies the database in directory path without changing anything, as SQLite's
 * integrity_check does (since 0.5.0). In order:
 *   - the snapshot: its header and table, then every section: its checksum, and each block
 *     read back in full (decompressed where stored compressed);
 *   - the write-ahead log: its header, every record the snapshot does not cover (checksums,
 *     sequence), and the bytes where the valid records end: a record there that fails its
 *     checksum (a torn write, or damage) is a problem here, though opening drops it silently;
 *   - the contents: the database is opened read-only, loading every collection and index and
 *     replaying the log, then closed.
 * report (may be NULL): receives a JSON object the caller frees with vexfs_free(), on success
 *   and on VEXFS_E_CORRUPT alike: {"ok": true|false, "problem": "..." (when not ok, the same
 *   text as vexfs_last_error()), "snapshot": {"bytes", "sections", "covers_record"} (null when
 *   there is none), "log": {"bytes", "records", "first_record", "last_record"} (null when
 *   there is none), "collections": [{"name", "vectors"}] (when the contents were read)}.
 *   NULL on any other error.
 * Errors: VEXFS_E_INVALID (NULL or empty path), VEXFS_E_IO (no database at path, a file cannot
 *         be read), VEXFS_E_CORRUPT (the message names the file and the byte or section that
 *         failed), VEXFS_E_UNSUPPORTED (files of a newer format version), VEXFS_E_BUSY (a handle has the
 *         database open for writing: its files are changing), VEXFS_E_NOMEM.
 * Threading: thread-safe. */
VEXFS_API vexfs_status vexfs_db_check(const char *path, char **report);

/* ------------------------------------------------------------------------------------------------
 * Memory: allocator hooks, the scratch pool, and freeing what the library returns
 * --------------------------------------------------------------------------------------------- */

/* Frees memory the library returned to the caller (strings, arrays); NULL-safe. Thread-safe. */
VEXFS_API void vexfs_free(void *ptr);

typedef struct vexfs_allocator {
  uint32_t struct_size; /* sizeof(vexfs_allocator) */
  /* size > 0; align a power of two >= sizeof(void *). Returns NULL on failure. Called from any
   * thread at once: it must be thread-safe. */
  void *(*alloc)(void *opaque, size_t size, size_t align);
  void (*free)(void *opaque, void *ptr); /* ptr from alloc, never NULL */
  void *opaque;
} vexfs_allocator;

/* Routes every byte the library allocates through a->alloc / a->free from now on; NULL restores
 * the default (posix_memalign/free). The struct is copied. Must come before any call that
 * allocates (creating a collection, configuring or using the pool, ...).
 * Errors: VEXFS_E_STATE once the library has allocated anything; VEXFS_E_INVALID for a struct
 * without both functions or with a bad struct_size. Threading: call it once, before other threads
 * use the library. */
VEXFS_API vexfs_status vexfs_set_allocator(const vexfs_allocator *a);

#define VEXFS_POOL_MAX_TIERS 8

typedef struct vexfs_pool_config {
  uint32_t struct_size;                          /* sizeof(vexfs_pool_config) */
  uint32_t tier_count;                           /* 1..VEXFS_POOL_MAX_TIERS; default 7 */
  uint32_t block_size[VEXFS_POOL_MAX_TIERS];     /* ascending powers of two >= 64; default
                                                    1, 4, 16, 64, 256 KiB, 1, 4 MiB */
  uint32_t initial_blocks[VEXFS_POOL_MAX_TIERS]; /* reserved at first use; default 128, 64, 32,
                                                    then 0: tiers grow on demand */
} vexfs_pool_config;

/* Fills the caller's size bytes of *c with the defaults above, as vexfs_collection_config_init
 * does. Never fails. */
VEXFS_API void vexfs_pool_config_init_sized(vexfs_pool_config *c, size_t size);
/* 0.1.0's function: fills exactly sizeof(vexfs_pool_config) of 0.1.0. */
VEXFS_API void vexfs_pool_config_init(vexfs_pool_config *c);
#define vexfs_pool_config_init(c) vexfs_pool_config_init_sized((c), sizeof *(c))

/* Sets the pool's tiers. Must come before the pool's first use (the first collection call that
 * needs scratch); the configuration is copied. Errors: VEXFS_E_INVALID (bad sizes or counts),
 * VEXFS_E_STATE (the pool is already in use). Threading: call it once, before other threads use
 * the library. */
VEXFS_API vexfs_status vexfs_pool_configure(const vexfs_pool_config *c);

typedef struct vexfs_pool_tier_stats {
  uint64_t block_size;
  uint64_t requests;       /* requests this tier served or tried to */
  uint64_t hits;           /* served from a thread cache or the depot */
  uint64_t misses_too_big; /* largest tier only: requests above every block size (allocator) */
  uint64_t misses_empty;   /* nothing free: a new slab was allocated */
  uint64_t bytes_in_use;   /* handed out and not returned */
  uint64_t bytes_reserved; /* in slabs */
  uint64_t peak_bytes;     /* most bytes out of the depot at once (in use or in thread caches) */
} vexfs_pool_tier_stats;

typedef struct vexfs_pool_stats {
  uint32_t struct_size; /* sizeof(vexfs_pool_stats) */
  uint32_t tier_count;
  vexfs_pool_tier_stats tiers[VEXFS_POOL_MAX_TIERS];
  double hit_rate; /* hits / requests over all tiers, too-big requests included; 1 when none */
} vexfs_pool_stats;

/* Zeroes the caller's size bytes of *s and sets struct_size = size. Never fails. */
VEXFS_API void vexfs_pool_stats_init_sized(vexfs_pool_stats *s, size_t size);
/* 0.1.0's function: fills exactly sizeof(vexfs_pool_stats) of 0.1.0. */
VEXFS_API void vexfs_pool_stats_init(vexfs_pool_stats *s);
#define vexfs_pool_stats_init(s) vexfs_pool_stats_init_sized((s), sizeof *(s))

/* Fills *out (prepared by vexfs_pool_stats_init) with the pool's counters since the process
 * started (threads keep counting while it is read, so totals may be a few requests apart).
 * Errors: VEXFS_E_INVALID (NULL, bad struct_size).
 * Thread-safe. */
VEXFS_API vexfs_status vexfs_pool_get_stats(vexfs_pool_stats *out);

/* ------------------------------------------------------------------------------------------------
 * Metrics
 * --------------------------------------------------------------------------------------------- */

/* Latencies of whole calls (a batch is one call), in microseconds. */
typedef struct vexfs_latency_summary {
  uint64_t count; /* calls */
  double sum_us, mean, p50, p95, p99, p999, max;
} vexfs_latency_summary;

typedef struct vexfs_metrics {
  uint32_t struct_size; /* sizeof(vexfs_metrics); set by vexfs_metrics_init */
  /* counters count vectors and queries: a batch of 1000 adds 1000 */
  uint64_t inserts, searches, removes, vectors, distance_computations;
  vexfs_latency_summary search_latency_us, insert_latency_us;
  /* queries or vectors per second over the last 1, 10 and 60 whole seconds */
  double search_per_sec_1s, search_per_sec_10s, search_per_sec_60s;
  double insert_per_sec_1s, insert_per_sec_10s, insert_per_sec_60s;
  /* bytes held: vectors (rows, norms, ids, id map), index (graph, codes), payloads, pool slabs */
  uint64_t memory_vectors, memory_index, memory_payloads, memory_pool;
  double pool_hit_rate; /* the process's scratch pool */
  const char *simd_isa; /* static storage */
  /* appended in 0.6.0 */
  uint64_t memory_mapped; /* bytes of rows read from row files (rerank MAPPED): the page cache
                             holds what of them is in RAM; memory_vectors leaves them out */
} vexfs_metrics;

/* Zeroes the caller's size bytes of *m and sets struct_size = size. Never fails. */
VEXFS_API void vexfs_metrics_init_sized(vexfs_metrics *m, size_t size);
/* 0.1.0's function: fills exactly sizeof(vexfs_metrics) of 0.1.0. */
VEXFS_API void vexfs_metrics_init(vexfs_metrics *m);
#define vexfs_metrics_init(m) vexfs_metrics_init_sized((m), sizeof *(m))

/* Fills *m (prepared by vexfs_metrics_init) with the figures of collection c, or of the whole
 * process when c is NULL (every collection's events, live and freed; memory of live ones).
 * Errors: VEXFS_E_INVALID (NULL m, bad struct_size). Thread-safe, concurrent with every call on
 * c but vexfs_collection_free(). */
VEXFS_API vexfs_status vexfs_collection_metrics(vexfs_collection *c, vexfs_metrics *m);

/* The same figures as a JSON object (keys: inserts, searches, removes, vectors,
 * distance_computations, search_latency_us and insert_latency_us {p50, p95, p99, p999, mean,
 * max}, ops_per_sec {search_1s, search_10s, search_60s, insert_1s, insert_10s, insert_60s},
 * memory_bytes {vectors, index, payloads, pool, mapped}, pool {hit_rate, tiers: [...]},
 * simd_isa, for a collection with an HNSW graph hnsw {codes_lossless: its codes decode to
 * every row exactly, so searches never read the rows (integer data within 256 values: pixels);
 * exact_traversal: the codes are too coarse and traversal reads the rows}, for a collection
 * whose storage is not F32 codes {storage: "f16", "sq8" or "sq4"; lossless: every live row's code
 * decodes to the vector inserted, bit for bit}, and first
 * "collection": name for a database's collection), or in the Prometheus text exposition
 * format (every sample of a database's collection labelled collection="name"; collections made
 * by vexfs_collection_create have no name). The caller owns the string and frees it with
 * vexfs_free(). c NULL: process-wide. Returns NULL only when out of memory (vexfs_last_error()
 * says so). Thread-safe. */
VEXFS_API char *vexfs_metrics_json(vexfs_collection *c);
VEXFS_API char *vexfs_metrics_prometheus(vexfs_collection *c);

/* Restarts c's counters, histograms and rates from zero (c NULL: the process-wide ones).
 * Vectors and memory are states, not counters, and stay. Thread-safe: events recorded while it
 * runs may be counted on either side. */
VEXFS_API void vexfs_metrics_reset(vexfs_collection *c);

/* Turns recording on or off for the whole process (default on), e.g. to measure its overhead.
 * Thread-safe. */
VEXFS_API void vexfs_metrics_set_enabled(int enabled);

#ifdef __cplusplus
}
#endif

#endif /* VEXFS_VEXFS_H */

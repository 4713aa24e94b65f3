/* Vector storage of one collection: rows of `dim` floats (64-byte aligned, never moving), each
 * row's id and squared norm, the id -> row map, and the list of free rows.
 *
 * A store whose storage is not F32 also holds each row's code (codec.h), and keeps the f32 rows
 * only when the collection has an exact copy (rerank IN_MEMORY or MAPPED): with rerank NONE a
 * row is its code, and vx_store_vector decodes it.
 *
 * Rows below `rows` are published; a removed row is marked free (id VX_NO_ID) and reused by a
 * later insert, so a row's number (its slot) never changes while it holds a vector: indexes key
 * their nodes by slot. Scans over [0, rows) skip free rows.
 *
 * Synchronisation is the caller's (collection.c): published rows change only under its exclusive
 * lock; rows past `rows` are written by the one mutating thread while readers run. */
#ifndef VEXFS_STORE_H
#define VEXFS_STORE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "chunked.h"
#include "codec.h"
#include "idmap.h"
#include "vexfs/vexfs.h"

#define VX_NO_ID UINT64_MAX /* the id of a free row */

typedef struct vx_store {
  uint32_t dim;
  size_t stride;       /* floats between rows: dim rounded up to a 64-byte multiple */
  vx_chunked rows_at;  /* stride floats per row */
  vx_chunked norms_at; /* float: squared L2 norm */
  vx_chunked ids_at;   /* uint64_t: id, or VX_NO_ID when free */
  int keeps_rows;      /* rows_at holds the f32 rows (else only codes) */
  int coded;           /* codes_at holds a code per row (storage other than F32) */
  vx_codec codec;      /* when coded */
  vx_chunked codes_at; /* codec.element bytes per row (the code), then the index's bytes */
  int has_lx;          /* SQ codes of an IP or cosine collection (L2 never needs lx) */
  vx_chunked lx_at;    /* when has_lx: float per row, its code's lx */
  atomic_int codes_lossless; /* coded: every live row's code decodes to the vector inserted, bit
                                for bit (then searches need not read rows) */
  float *scratch;      /* coded: 3 dim floats for the one mutating thread */
  atomic_size_t mapped; /* rows [0, mapped) are pages of a row file (paged stores, vx_store_map) */
  atomic_size_t rows;  /* published rows, free ones included */
  atomic_size_t live;  /* rows holding a vector */
  uint32_t *free_rows; /* stack of free slots */
  size_t n_free, free_cap;
  vx_idmap map;
} vx_store;

/* A store for the rows of a collection of config cfg (its dim, storage, rerank, metric). MAPPED: the rows' chunks
 * are mappings of their own, which vx_store_map can replace by a file's pages. Coded stores give
 * each code's element index_bytes more, which the index owns (HNSW keeps a node's links beside
 * its code). 0, or -1 when out of memory (destroy it then). */
int vx_store_init(vx_store *s, const vexfs_collection_config *cfg, size_t index_bytes);
void vx_store_destroy(vx_store *s);

static inline float *vx_store_row(const vx_store *s, size_t slot) {
  return (float *)vx_chunked_at(&s->rows_at, slot);
}
static inline uint64_t vx_store_id(const vx_store *s, size_t slot) {
  return *(const uint64_t *)vx_chunked_at(&s->ids_at, slot);
}
static inline uint8_t *vx_store_code(const vx_store *s, size_t slot) {
  return (uint8_t *)vx_chunked_at(&s->codes_at, slot);
}
static inline float vx_store_code_lx(const vx_store *s, size_t slot) {
  return s->has_lx ? *(const float *)vx_chunked_at(&s->lx_at, slot) : 0;
}
static inline float vx_store_norm(const vx_store *s, size_t slot) {
  return *(const float *)vx_chunked_at(&s->norms_at, slot);
}

/* Chooses the slots for n new rows: free rows first (the last freed first), then rows appended
 * past `rows`, and makes room for them, the id map and the free list included. Nothing visible
 * changes. *appended receives how many slots are new rows. 0, or -1 when out of memory. */
int vx_store_plan_insert(vx_store *s, size_t n, uint32_t *slots, size_t *appended);

/* The vector of a live row: its f32 row, or (no rows kept) its code decoded into buf (dim
 * floats). Rows decoded for one call need one buffer each. */
static inline const float *vx_store_vector(const vx_store *s, size_t slot, float *buf) {
  if (s->keeps_rows) return vx_store_row(s, slot);
  vx_codec_decode(&s->codec, vx_store_code(s, slot), buf);
  return buf;
}

/* Coded stores: whether the n vectors of an insert fit the codec's range; if not, its range is
 * widened and 1 returned, and the caller runs vx_store_recode before writing them. */
int vx_store_codes_stretch(vx_store *s, const float *vectors, size_t n);
/* Refits the codec and re-codes every published row (from its f32 row, or from its old code when
 * none is kept). The caller holds the rows' exclusive lock. Cannot fail. */
void vx_store_recode(vx_store *s);
/* Codes the published rows [0, rows) from their f32 rows (a load whose rows are in place). */
void vx_store_encode_rows(vx_store *s, size_t rows);
/* Writes a coded row of a store without rows (a load): its code, id and squared norm. */
void vx_store_write_code(vx_store *s, size_t slot, const uint8_t *code, uint64_t id, float norm);

/* Writes a row's vector (and code), id and squared norm (a planned slot). */
void vx_store_write(vx_store *s, size_t slot, const float *vec, uint64_t id, float norm);
/* The same for a row whose vector is in place already (mapped from a file): its id and norm. */
void vx_store_write_meta(vx_store *s, size_t slot, uint64_t id, float norm);

/* Bytes of one row as stored: stride floats. */
static inline size_t vx_store_row_bytes(const vx_store *s) { return s->stride * sizeof(float); }

/* Paged stores: maps rows [0, rows) from the file fd, which holds them back to back (row_bytes
 * each) and the same bytes as memory where rows are published (no reader may run: the caller
 * holds the rows' exclusive lock). Rows written later stay in memory (copy on write). 0, or -1
 * with errno set (rows then read as before). */
int vx_store_map(vx_store *s, int fd, size_t rows);

/* Publishes an insert planned by vx_store_plan_insert: pops the reused free rows, maps the ids,
 * and moves `rows` past the appended ones. Cannot fail. */
void vx_store_publish_insert(vx_store *s, const uint32_t *slots, size_t n, size_t appended);

/* Frees the row of each id (all present): unmaps it and pushes it on the free list. Cannot fail:
 * the free list was sized by the inserts that created the rows. */
void vx_store_free_rows(vx_store *s, const uint32_t *slots, size_t n);
/* As vx_store_free_rows, while an insert planned by vx_store_plan_insert waits to be published:
 * the freed rows go beneath the `planned` free rows it reuses, which stay on top for it. */
void vx_store_free_rows_under(vx_store *s, const uint32_t *slots, size_t n, size_t planned);

/* Makes room for `rows` rows of a store being loaded (empty until then). 0, or -1. */
int vx_store_reserve_load(vx_store *s, size_t rows);
/* Completes a load whose rows [0, rows) were written with vx_store_write (free ones with id
 * VX_NO_ID): maps the ids, lists the free rows, publishes. 0; -1 when out of memory; -2 when an
 * id repeats. */
int vx_store_finish_load(vx_store *s, size_t rows);

/* Stores that keep rows: calls fn for each run of consecutive rows [first, first+n) below `rows` that lie in one chunk,
 * in slot order; rows of a run are `stride` floats apart starting at `base`. Free rows are
 * included: callers skip rows whose id is VX_NO_ID. */
typedef void (*vx_run_fn)(void *ctx, size_t first, const float *base, size_t n);
void vx_store_each_run(const vx_store *s, size_t rows, vx_run_fn fn, void *ctx);

/* The rule every stored row and every query meets: its squared norm (computed in float) is at
 * most VEXFS_MAX_SQUARED_NORM. NaN and infinite elements fail it too. */
static inline int vx_norm_acceptable(float squared_norm) {
  return squared_norm <= VEXFS_MAX_SQUARED_NORM;
}

#endif

/* Vector storage of one collection: rows of `dim` floats in 64-byte-aligned chunks that never
 * move, with each row's id and squared norm, and the id -> row map.
 *
 * Chunk c holds VX_CHUNK0_ROWS << c rows, so the chunk table is fixed-size and growing never
 * moves a row: searches may read published rows while an insert appends new ones.
 *
 * Synchronisation is the caller's (collection.c): `count` is the number of published rows;
 * rows at or past it are written only by the one mutating thread. */
#ifndef VEXFS_STORE_H
#define VEXFS_STORE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "idmap.h"

#define VX_CHUNK0_ROWS 256u
#define VX_MAX_CHUNKS 25u /* 256 * (2^25 - 1) rows: past the 32-bit slot limit */
#define VX_MAX_ROWS ((size_t)UINT32_MAX)

typedef struct vx_chunk {
  float *rows;    /* nrows * stride floats, 64-byte aligned; padding floats are zero */
  float *norms;   /* squared L2 norm per row */
  uint64_t *ids;  /* id per row */
} vx_chunk;

typedef struct vx_store {
  uint32_t dim;
  size_t stride; /* floats between rows: dim rounded up to a 64-byte multiple */
  vx_chunk chunks[VX_MAX_CHUNKS];
  size_t capacity; /* rows allocated */
  atomic_size_t count; /* rows published */
  vx_idmap map;
} vx_store;

void vx_store_init(vx_store *s, uint32_t dim);
void vx_store_destroy(vx_store *s);

/* Allocates chunks until `rows` rows exist. Returns 0, or -1 when out of memory (chunks already
 * allocated stay, unpublished). */
int vx_store_reserve(vx_store *s, size_t rows);

static inline size_t vx_chunk_rows(unsigned c) { return (size_t)VX_CHUNK0_ROWS << c; }
static inline size_t vx_chunk_first(unsigned c) { return VX_CHUNK0_ROWS * (((size_t)1 << c) - 1); }

static inline unsigned vx_slot_chunk(size_t slot) {
  return 63u - (unsigned)__builtin_clzll((unsigned long long)(slot / VX_CHUNK0_ROWS + 1));
}

static inline float *vx_store_row(const vx_store *s, size_t slot) {
  unsigned c = vx_slot_chunk(slot);
  return s->chunks[c].rows + (slot - vx_chunk_first(c)) * s->stride;
}

static inline uint64_t vx_store_id(const vx_store *s, size_t slot) {
  unsigned c = vx_slot_chunk(slot);
  return s->chunks[c].ids[slot - vx_chunk_first(c)];
}

static inline float vx_store_norm(const vx_store *s, size_t slot) {
  unsigned c = vx_slot_chunk(slot);
  return s->chunks[c].norms[slot - vx_chunk_first(c)];
}

/* Writes row `slot` (reserved, unpublished or held exclusively): vector, id and squared norm. */
void vx_store_write(vx_store *s, size_t slot, const float *vec, uint64_t id, float norm);

/* Moves row `from` onto row `to` (both exclusively held), updating the map for the moved id. */
void vx_store_move(vx_store *s, size_t from, size_t to);

/* Calls fn for each run of consecutive published rows [first, first+n) below `count` that lie in
 * one chunk, in slot order; rows of a run are `stride` floats apart starting at `rows`. */
typedef void (*vx_run_fn)(void *ctx, size_t first, const float *rows, size_t n);
void vx_store_each_run(const vx_store *s, size_t count, vx_run_fn fn, void *ctx);

#endif

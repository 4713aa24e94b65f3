/* Chunked vector storage (see store.h). */
#include "store.h"

#include <string.h>

#include "alloc_internal.h"

void vx_store_init(vx_store *s, uint32_t dim) {
  memset(s, 0, sizeof *s);
  s->dim = dim;
  s->stride = ((size_t)dim + 15) & ~(size_t)15;
  atomic_init(&s->count, 0);
}

void vx_store_destroy(vx_store *s) {
  for (unsigned c = 0; c < VX_MAX_CHUNKS; c++) {
    vx_release(s->chunks[c].rows);
    vx_release(s->chunks[c].norms);
    vx_release(s->chunks[c].ids);
  }
  vx_idmap_destroy(&s->map);
  memset(s, 0, sizeof *s);
}

static int alloc_chunk(vx_chunk *ch, size_t nrows, size_t stride) {
  size_t floats, bytes;
  if (!vx_mul_ok(nrows, stride, &floats) || !vx_mul_ok(floats, sizeof(float), &bytes)) return -1;
  ch->rows = vx_alloc_aligned(bytes, VX_CACHE_LINE);
  ch->norms = vx_alloc_aligned(nrows * sizeof(float), VX_CACHE_LINE);
  ch->ids = vx_alloc_aligned(nrows * sizeof(uint64_t), VX_CACHE_LINE);
  if (!ch->rows || !ch->norms || !ch->ids) {
    vx_release(ch->rows);
    vx_release(ch->norms);
    vx_release(ch->ids);
    memset(ch, 0, sizeof *ch);
    return -1;
  }
  return 0;
}

int vx_store_reserve(vx_store *s, size_t rows) {
  if (rows > VX_MAX_ROWS) return -1;
  while (s->capacity < rows) {
    unsigned c = vx_slot_chunk(s->capacity);
    if (alloc_chunk(&s->chunks[c], vx_chunk_rows(c), s->stride) != 0) return -1;
    s->capacity += vx_chunk_rows(c);
  }
  return 0;
}

void vx_store_write(vx_store *s, size_t slot, const float *vec, uint64_t id, float norm) {
  unsigned c = vx_slot_chunk(slot);
  size_t off = slot - vx_chunk_first(c);
  float *row = s->chunks[c].rows + off * s->stride;
  memcpy(row, vec, s->dim * sizeof(float));
  memset(row + s->dim, 0, (s->stride - s->dim) * sizeof(float));
  s->chunks[c].norms[off] = norm;
  s->chunks[c].ids[off] = id;
}

void vx_store_move(vx_store *s, size_t from, size_t to) {
  uint64_t id = vx_store_id(s, from);
  vx_store_write(s, to, vx_store_row(s, from), id, vx_store_norm(s, from));
  vx_idmap_put(&s->map, id, (uint32_t)to);
}

void vx_store_each_run(const vx_store *s, size_t count, vx_run_fn fn, void *ctx) {
  for (unsigned c = 0; c < VX_MAX_CHUNKS && vx_chunk_first(c) < count; c++) {
    size_t first = vx_chunk_first(c);
    size_t n = count - first < vx_chunk_rows(c) ? count - first : vx_chunk_rows(c);
    fn(ctx, first, s->chunks[c].rows, n);
  }
}

/* Vector storage (see store.h). */
#include "store.h"

#include <string.h>

#include "alloc_internal.h"

int vx_store_init(vx_store *s, const vexfs_collection_config *cfg, size_t index_bytes) {
  uint32_t dim = cfg->dim;
  vexfs_storage storage = cfg->storage;
  vexfs_rerank rerank = cfg->rerank;
  memset(s, 0, sizeof *s);
  s->dim = dim;
  s->stride = ((size_t)dim + 15) & ~(size_t)15;
  s->keeps_rows = rerank != VEXFS_RERANK_NONE;
  s->coded = storage != VEXFS_STORAGE_F32;
  if (rerank == VEXFS_RERANK_MAPPED) vx_chunked_init_paged(&s->rows_at, s->stride * sizeof(float));
  else vx_chunked_init_unzeroed(&s->rows_at, s->stride * sizeof(float)); /* written before read */
  atomic_init(&s->mapped, 0);
  atomic_init(&s->codes_lossless, 1);
  vx_chunked_init(&s->norms_at, sizeof(float));
  vx_chunked_init(&s->ids_at, sizeof(uint64_t));
  atomic_init(&s->rows, 0);
  atomic_init(&s->live, 0);
  if (!s->coded) return 0;
  if (vx_codec_init(&s->codec, storage, dim) != 0) return -1;
  s->has_lx = storage != VEXFS_STORAGE_F16 && cfg->metric != VEXFS_METRIC_L2;
  vx_chunked_init_unzeroed(&s->codes_at, s->codec.element + index_bytes);
  vx_chunked_init(&s->lx_at, sizeof(float));
  s->scratch = vx_alloc(3 * (size_t)dim * sizeof(float));
  return s->scratch ? 0 : -1;
}

void vx_store_destroy(vx_store *s) {
  if (s->coded) {
    vx_codec_destroy(&s->codec);
    vx_chunked_destroy(&s->codes_at);
    vx_chunked_destroy(&s->lx_at);
    vx_release(s->scratch);
  }
  vx_chunked_destroy(&s->rows_at);
  vx_chunked_destroy(&s->norms_at);
  vx_chunked_destroy(&s->ids_at);
  vx_release(s->free_rows);
  vx_idmap_destroy(&s->map);
  memset(s, 0, sizeof *s);
}

/* Room for `rows` rows in every per-row array. 0, or -1. */
static int reserve(vx_store *s, size_t rows) {
  return (s->keeps_rows && vx_chunked_reserve(&s->rows_at, rows)) ||
         (s->coded && (vx_chunked_reserve(&s->codes_at, rows) ||
                       (s->has_lx && vx_chunked_reserve(&s->lx_at, rows)))) ||
         vx_chunked_reserve(&s->norms_at, rows) || vx_chunked_reserve(&s->ids_at, rows);
}

int vx_store_plan_insert(vx_store *s, size_t n, uint32_t *slots, size_t *appended) {
  size_t rows = atomic_load_explicit(&s->rows, memory_order_relaxed);
  size_t reused = n < s->n_free ? n : s->n_free;
  size_t added = n - reused;
  if (added > VX_MAX_ROWS - rows) return -1;
  size_t total = rows + added;
  if (reserve(s, total)) return -1;
  if (s->free_cap < total) { /* every row may be freed one day */
    size_t cap = s->free_cap ? s->free_cap : 256;
    while (cap < total) cap *= 2;
    uint32_t *grown = vx_alloc(cap * sizeof *grown);
    if (!grown) return -1;
    if (s->n_free) memcpy(grown, s->free_rows, s->n_free * sizeof *grown);
    vx_release(s->free_rows);
    s->free_rows = grown;
    s->free_cap = cap;
  }
  for (size_t i = 0; i < reused; i++) slots[i] = s->free_rows[s->n_free - 1 - i];
  for (size_t i = 0; i < added; i++) slots[reused + i] = (uint32_t)(rows + i);
  *appended = added;
  return 0;
}

static void set_lx(vx_store *s, size_t slot, float lx) {
  if (s->has_lx) *(float *)vx_chunked_at(&s->lx_at, slot) = lx;
}

/* Codes one row from vec, and clears codes_lossless when the code does not give vec back.
 * Returns the squared norm the row has from now on: norm, or (no rows kept: the code is the row)
 * its decoded vector's. */
static float encode_row(vx_store *s, size_t slot, const float *vec, float norm) {
  uint8_t *code = vx_store_code(s, slot);
  set_lx(s, slot, vx_codec_encode(&s->codec, vec, code));
  int check = atomic_load_explicit(&s->codes_lossless, memory_order_relaxed);
  if (!check && s->keeps_rows) return norm;
  vx_codec_decode(&s->codec, code, s->scratch);
  if (check && memcmp(s->scratch, vec, s->dim * sizeof(float)) != 0)
    atomic_store_explicit(&s->codes_lossless, 0, memory_order_relaxed);
  return s->keeps_rows ? norm : s->codec.kern->dot(s->scratch, s->scratch, s->dim);
}

void vx_store_write(vx_store *s, size_t slot, const float *vec, uint64_t id, float norm) {
  if (s->keeps_rows) {
    float *row = vx_store_row(s, slot);
    memcpy(row, vec, s->dim * sizeof(float));
    memset(row + s->dim, 0, (s->stride - s->dim) * sizeof(float));
  }
  if (s->coded && id != VX_NO_ID) /* (a free row may hold anything) */
    norm = encode_row(s, slot, vec, norm);
  vx_store_write_meta(s, slot, id, norm);
}

void vx_store_write_code(vx_store *s, size_t slot, const uint8_t *code, uint64_t id, float norm) {
  uint8_t *at = vx_store_code(s, slot);
  memcpy(at, code, s->codec.code_bytes);
  float lx = vx_codec_lx(&s->codec, code); /* from the code, never from a file */
  set_lx(s, slot, lx);
  vx_store_write_meta(s, slot, id, norm);
}

int vx_store_codes_stretch(vx_store *s, const float *vectors, size_t n) {
  int stretched = 0;
  for (size_t i = 0; i < n; i++) {
    const float *row = vectors + i * s->dim;
    stretched |= vx_codec_extend(&s->codec, &row, 1);
  }
  return stretched;
}

void vx_store_recode(vx_store *s) {
  vx_codec *c = &s->codec;
  float *vec = s->scratch, *old_lo = s->scratch + s->dim, *check = s->scratch + 2 * (size_t)s->dim;
  vx_codec before = *c; /* decodes the old codes: its offsets copied, as the refit moves them */
  memcpy(old_lo, c->sq.lo, s->dim * sizeof(float));
  before.sq.lo = old_lo;
  vx_codec_refit(c);
  size_t rows = atomic_load_explicit(&s->rows, memory_order_relaxed);
  /* the lossless claim is about the vectors inserted: without rows, only codes that were exact
   * can still be */
  int lossless = s->keeps_rows || atomic_load_explicit(&s->codes_lossless, memory_order_relaxed);
  for (size_t slot = 0; slot < rows; slot++) {
    if (vx_store_id(s, slot) == VX_NO_ID) continue;
    uint8_t *code = vx_store_code(s, slot);
    const float *x = s->keeps_rows ? vx_store_row(s, slot) : vec;
    if (!s->keeps_rows) vx_codec_decode(&before, code, vec);
    float lx = vx_codec_encode(c, x, code);
    set_lx(s, slot, lx);
    if (lossless || !s->keeps_rows) vx_codec_decode(c, code, check);
    if (lossless) lossless = memcmp(check, x, s->dim * sizeof(float)) == 0;
    if (!s->keeps_rows) /* the row is its code: its norm moves with it */
      *(float *)vx_chunked_at(&s->norms_at, slot) = c->kern->dot(check, check, s->dim);
  }
  atomic_store_explicit(&s->codes_lossless, lossless, memory_order_relaxed);
}

void vx_store_encode_rows(vx_store *s, size_t rows) {
  atomic_store_explicit(&s->codes_lossless, 1, memory_order_relaxed);
  for (size_t slot = 0; slot < rows; slot++)
    if (vx_store_id(s, slot) != VX_NO_ID) encode_row(s, slot, vx_store_row(s, slot), 0);
}

void vx_store_write_meta(vx_store *s, size_t slot, uint64_t id, float norm) {
  *(float *)vx_chunked_at(&s->norms_at, slot) = norm;
  *(uint64_t *)vx_chunked_at(&s->ids_at, slot) = id;
}

int vx_store_map(vx_store *s, int fd, size_t rows) {
  int rc = vx_chunked_map(&s->rows_at, fd, rows);
  if (rc == 0) atomic_store_explicit(&s->mapped, rows, memory_order_relaxed);
  return rc;
}

void vx_store_publish_insert(vx_store *s, const uint32_t *slots, size_t n, size_t appended) {
  s->n_free -= n - appended;
  for (size_t i = 0; i < n; i++) vx_idmap_put(&s->map, vx_store_id(s, slots[i]), slots[i]);
  atomic_fetch_add_explicit(&s->rows, appended, memory_order_release);
  atomic_fetch_add_explicit(&s->live, n, memory_order_release);
}

void vx_store_free_rows_under(vx_store *s, const uint32_t *slots, size_t n, size_t planned) {
  uint32_t *under = s->free_rows + s->n_free - planned;
  memmove(under + n, under, planned * sizeof *under);
  for (size_t i = 0; i < n; i++) {
    uint64_t *id = vx_chunked_at(&s->ids_at, slots[i]);
    vx_idmap_del(&s->map, *id);
    *id = VX_NO_ID;
    under[i] = slots[i];
  }
  s->n_free += n;
  atomic_fetch_sub_explicit(&s->live, n, memory_order_release);
}

void vx_store_free_rows(vx_store *s, const uint32_t *slots, size_t n) {
  vx_store_free_rows_under(s, slots, n, 0);
}

int vx_store_reserve_load(vx_store *s, size_t rows) {
  size_t cap = 256;
  while (cap < rows) cap *= 2;
  if (reserve(s, rows) || !(s->free_rows = vx_alloc(cap * sizeof *s->free_rows)))
    return -1;
  s->free_cap = cap;
  return 0;
}

int vx_store_finish_load(vx_store *s, size_t rows) {
  size_t live = 0;
  for (size_t slot = 0; slot < rows; slot++) live += vx_store_id(s, slot) != VX_NO_ID;
  if (vx_idmap_reserve(&s->map, live) != 0) return -1;
  for (size_t slot = rows; slot-- > 0;) { /* the lowest free row is reused first */
    uint64_t id = vx_store_id(s, slot);
    uint32_t seen;
    if (id == VX_NO_ID)
      s->free_rows[s->n_free++] = (uint32_t)slot;
    else if (vx_idmap_find(&s->map, id, &seen))
      return -2;
    else
      vx_idmap_put(&s->map, id, (uint32_t)slot);
  }
  atomic_store_explicit(&s->rows, rows, memory_order_release);
  atomic_store_explicit(&s->live, live, memory_order_release);
  return 0;
}

void vx_store_each_run(const vx_store *s, size_t rows, vx_run_fn fn, void *ctx) {
  for (unsigned c = 0; c < VX_MAX_CHUNKS && vx_chunk_first(c) < rows; c++) {
    size_t first = vx_chunk_first(c);
    size_t n = rows - first < vx_chunk_rows(c) ? rows - first : vx_chunk_rows(c);
    fn(ctx, first, (const float *)s->rows_at.chunks[c], n);
  }
}

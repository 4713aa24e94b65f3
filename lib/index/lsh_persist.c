/* LSH in snapshots: the trained structure is written as it is and read back without projecting a
 * row again.
 *
 * Section layout: u32 trained (0: nothing follows). Then u32 tables, bits, probes, sketch_bits,
 * dir_bits; f32 width, f32 max_norm; sketch_bits * dim f32 projections; for IP sketch_bits f32
 * weights of the reduction coordinate; sketch_bits f32 thresholds; u64 rows; the sketch of every
 * live slot in slot order (sketch_bits / 64 u64 each); then for each table, for each of its
 * 2^dir_bits buckets: u32 count and the count slots it holds.
 *
 * Loading checks every field against the collection's configuration and the parameters training
 * could have chosen, every number for finiteness, and that each table holds each live slot
 * exactly once, in the bucket its stored sketch's key names. */
#include <math.h>
#include <string.h>

#include "../alloc_internal.h"
#include "../errors_internal.h"
#include "lsh_internal.h"

void vx_lsh_save(const void *state, const vx_store *s, vx_snap_writer *w) {
  const lsh *h = state;
  uint32_t trained = (uint32_t)atomic_load(&h->trained);
  vx_snapw_put(w, &trained, sizeof trained);
  if (!trained) return;
  uint32_t head[5] = {h->tables, h->bits, h->probes, h->sketch_bits, h->dir_bits};
  vx_snapw_put(w, head, sizeof head);
  vx_snapw_put(w, &h->width, sizeof h->width);
  vx_snapw_put(w, &h->max_norm, sizeof h->max_norm);
  vx_snapw_put(w, h->proj, (size_t)h->sketch_bits * h->dim * sizeof(float));
  if (h->metric == VEXFS_METRIC_IP) vx_snapw_put(w, h->extra, h->sketch_bits * sizeof(float));
  vx_snapw_put(w, h->thresh, h->sketch_bits * sizeof(float));
  uint64_t rows = atomic_load_explicit(&s->rows, memory_order_acquire);
  vx_snapw_put(w, &rows, sizeof rows);
  for (size_t slot = 0; slot < rows; slot++)
    if (vx_store_id(s, slot) != VX_NO_ID)
      vx_snapw_put(w, lsh_sketch(h, (uint32_t)slot), h->sketch_words * sizeof(uint64_t));
  size_t dirs = (size_t)h->tables << h->dir_bits;
  for (size_t i = 0; i < dirs; i++) {
    uint32_t count = lsh_load(&h->dir[i].count);
    vx_snapw_put(w, &count, sizeof count);
    vx_snapw_put(w, h->dir[i].slots, count * sizeof(uint32_t));
  }
}

static vexfs_status bad(const char *why) {
  return vx_fail(VEXFS_E_CORRUPT, "vexfs_db_open: the snapshot's LSH index is damaged: %s", why);
}

static int all_finite(const float *a, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!isfinite(a[i])) return 0;
  return 1;
}

/* Whether the stored parameters are ones training could have chosen for this configuration. */
static int parameters_valid(const lsh *h, size_t rows) {
  if (h->tables < 1 || h->tables > VEXFS_LSH_MAX_TABLES || h->bits < 1 ||
      h->bits > VEXFS_LSH_MAX_BITS || (h->cfg_tables && h->tables != h->cfg_tables) ||
      (h->cfg_bits && h->bits != h->cfg_bits) || h->probes < 1 || h->probes > VEXFS_MAX_K ||
      (h->cfg_probes && h->probes != h->cfg_probes))
    return 0;
  if (!h->cfg_tables && h->tables != LSH_DEFAULT_TABLES) return 0;
  if (!h->cfg_probes && h->probes != LSH_DEFAULT_PROBES) return 0;
  uint32_t sketch = (h->tables * h->bits + 63) & ~63u;
  if (sketch < LSH_MIN_SKETCH_BITS) sketch = LSH_MIN_SKETCH_BITS;
  if (h->sketch_bits != sketch) return 0;
  uint32_t dir_max = h->bits < LSH_MAX_DIR_BITS ? h->bits : LSH_MAX_DIR_BITS;
  if (h->dir_bits < 1 || h->dir_bits > dir_max) return 0;
  uint32_t log_rows = 0; /* training sized the directory from a first batch of at most rows */
  while (log_rows < 40 && ((size_t)1 << log_rows) < rows) log_rows++;
  if (h->dir_bits > 10 && h->dir_bits > log_rows + 1) return 0;
  float width = h->metric == VEXFS_METRIC_L2 ? h->cfg_width : 0;
  return h->width == width && isfinite(h->max_norm) && h->max_norm >= 0;
}

/* Reads the buckets, checking each slot; seen has a bit per row, zeroed. */
static vexfs_status read_buckets(lsh *h, const vx_store *s, size_t rows, vx_sec_reader *r,
                                 uint64_t *seen) {
  size_t live = atomic_load_explicit(&s->live, memory_order_relaxed), words = (rows + 63) / 64;
  for (uint32_t t = 0; t < h->tables; t++) {
    size_t held = 0;
    memset(seen, 0, words * sizeof *seen);
    for (size_t i = 0; i < ((size_t)1 << h->dir_bits); i++) {
      lsh_bucket *b = &h->dir[((size_t)t << h->dir_bits) + i];
      uint32_t count;
      if (vx_secr_read(r, &count, sizeof count)) return bad("it is too short");
      if (count > live - held) return bad("a table holds more rows than the collection");
      held += count;
      if (count) {
        if (!(b->slots = vx_alloc((size_t)count * sizeof(uint32_t))))
          return vx_fail(VEXFS_E_NOMEM, "vexfs_db_open: out of memory for LSH buckets");
        b->cap = count;
        atomic_fetch_add(&h->bucket_bytes, (size_t)count * sizeof(uint32_t));
        if (vx_secr_read(r, b->slots, (size_t)count * sizeof(uint32_t)))
          return bad("it is too short");
      }
      b->count = count;
      for (uint32_t j = 0; j < count; j++) {
        uint32_t slot = b->slots[j];
        if (slot >= rows || vx_store_id(s, slot) == VX_NO_ID)
          return bad("a bucket holds a slot that is not a live row");
        if (seen[slot >> 6] & (1ull << (slot & 63))) return bad("a table holds a row twice");
        seen[slot >> 6] |= 1ull << (slot & 63);
        if (lsh_bucket_of(h, t, lsh_key(h, lsh_sketch(h, slot), t)) != b)
          return bad("a row is in a bucket its sketch does not name");
      }
    }
    if (held != live) return bad("a table misses rows");
  }
  return VEXFS_OK;
}

vexfs_status vx_lsh_load(void *state, const vx_store *s, vx_sec_reader *r) {
  lsh *h = state;
  size_t rows = atomic_load_explicit(&s->rows, memory_order_relaxed);
  uint32_t trained, head[5];
  if (vx_secr_read(r, &trained, sizeof trained)) return bad("it is too short");
  if (trained > 1) return bad("its state is unknown");
  if (!trained) {
    if (atomic_load(&s->live) != 0) return bad("it holds no structure for the stored rows");
    return vx_secr_left(r) ? bad("it has bytes past its end") : VEXFS_OK;
  }
  if (vx_secr_read(r, head, sizeof head) || vx_secr_read(r, &h->width, sizeof h->width) ||
      vx_secr_read(r, &h->max_norm, sizeof h->max_norm))
    return bad("it is too short");
  h->tables = head[0];
  h->bits = head[1];
  h->probes = head[2];
  h->sketch_bits = head[3];
  h->dir_bits = head[4];
  if (!parameters_valid(h, rows)) return bad("its parameters do not fit the collection");
  h->sketch_words = h->sketch_bits / 64;
  if (vx_lsh_alloc_trained(h) != 0)
    return vx_fail(VEXFS_E_NOMEM, "vexfs_db_open: out of memory for the LSH index");
  size_t S = h->sketch_bits;
  uint64_t nrows;
  if (vx_secr_read(r, h->proj, S * h->dim * sizeof(float)) ||
      (h->extra && vx_secr_read(r, h->extra, S * sizeof(float))) ||
      vx_secr_read(r, h->thresh, S * sizeof(float)) || vx_secr_read(r, &nrows, sizeof nrows))
    return bad("it is too short");
  if (!all_finite(h->proj, S * h->dim) || (h->extra && !all_finite(h->extra, S)) ||
      !all_finite(h->thresh, S))
    return bad("a projection or threshold is not finite");
  if (nrows != rows) return bad("it does not cover the stored rows");
  if (vx_chunked_reserve(&h->sketches, rows) != 0)
    return vx_fail(VEXFS_E_NOMEM, "vexfs_db_open: out of memory for LSH sketches");
  for (size_t slot = 0; slot < rows; slot++)
    if (vx_store_id(s, slot) != VX_NO_ID &&
        vx_secr_read(r, lsh_sketch(h, (uint32_t)slot), h->sketch_words * sizeof(uint64_t)))
      return bad("it is too short");
  uint64_t *seen = vx_alloc(((rows + 63) / 64 + 1) * sizeof *seen);
  if (!seen) return vx_fail(VEXFS_E_NOMEM, "vexfs_db_open: out of memory to check LSH buckets");
  vexfs_status st = read_buckets(h, s, rows, r, seen);
  vx_release(seen);
  if (st == VEXFS_OK && vx_secr_left(r) != 0) st = bad("it has bytes past its last bucket");
  if (st == VEXFS_OK) atomic_store_explicit(&h->trained, 1, memory_order_release);
  return st;
}

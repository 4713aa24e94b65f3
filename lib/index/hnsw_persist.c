/* HNSW in snapshots: the graph is written as it is (levels and links per slot, with the quantiser
 * and entry point) and read back without rebuilding; codes are re-encoded from the loaded rows,
 * which costs one pass over the vectors.
 *
 * Section layout: u64 entry, f32 max_norm, u32 sq_fitted, u32 codes_precise, f32 scale,
 * f32 inv_scale, f64 lo_sq, dim f32 offsets, dim f32 range_lo, dim f32 range_hi, u64 rows; then
 * per slot: u32 level, u32 count0, count0 links, and for level > 0 the level * (1 + m) words of
 * its upper lists ([count, m links] per level). Free slots have level 0 and no links. */
#include <math.h>
#include <string.h>

#include "../alloc_internal.h"
#include "../errors_internal.h"
#include "hnsw_internal.h"

void vx_hnsw_save_graph(const void *state, const vx_store *s, vx_snap_writer *w) {
  const hnsw *h = state;
  size_t rows = atomic_load_explicit(&s->rows, memory_order_acquire);
  uint64_t entry = atomic_load(&h->entry);
  uint32_t flags[2] = {(uint32_t)h->sq_fitted, (uint32_t)h->codes_precise};
  vx_snapw_put(w, &entry, sizeof entry);
  vx_snapw_put(w, &h->max_norm, sizeof h->max_norm);
  vx_snapw_put(w, flags, sizeof flags);
  vx_snapw_put(w, &h->sq.scale, sizeof h->sq.scale);
  vx_snapw_put(w, &h->sq.inv_scale, sizeof h->sq.inv_scale);
  vx_snapw_put(w, &h->sq.lo_sq, sizeof h->sq.lo_sq);
  vx_snapw_put(w, h->sq.lo, h->dim * sizeof(float));
  vx_snapw_put(w, h->range_lo, h->dim * sizeof(float));
  vx_snapw_put(w, h->range_hi, h->dim * sizeof(float));
  uint64_t nrows = rows;
  vx_snapw_put(w, &nrows, sizeof nrows);
  for (size_t slot = 0; slot < rows; slot++) {
    uint32_t head[2] = {0, 0};
    if (vx_store_id(s, slot) != VX_NO_ID) {
      head[0] = hnsw_node_head(h, (uint32_t)slot)->level;
      head[1] = hnsw_load(&hnsw_node_head(h, (uint32_t)slot)->count0);
    }
    vx_snapw_put(w, head, sizeof head);
    vx_snapw_put(w, hnsw_links0(h, (uint32_t)slot), head[1] * sizeof(uint32_t));
    if (head[0] > 0)
      vx_snapw_put(w, *(uint32_t **)vx_chunked_at(&h->upper, slot),
                   (size_t)head[0] * (1 + h->m) * sizeof(uint32_t));
  }
}

static vexfs_status bad(const char *why) {
  return vx_fail(VEXFS_E_CORRUPT, "vexfs_db_open: the snapshot's HNSW graph is damaged: %s", why);
}

/* Whether every link of every list points to a live node whose level reaches the list's. */
static int links_valid(const hnsw *h, const vx_store *s, size_t rows) {
  for (size_t slot = 0; slot < rows; slot++) {
    if (vx_store_id(s, slot) == VX_NO_ID) continue;
    uint32_t level = hnsw_node_head(h, (uint32_t)slot)->level;
    for (uint32_t l = 0; l <= level; l++) {
      uint32_t *count, *links = hnsw_list(h, (uint32_t)slot, l, &count);
      if (*count > hnsw_cap(h, l)) return 0;
      for (uint32_t i = 0; i < *count; i++)
        if (links[i] >= rows || vx_store_id(s, links[i]) == VX_NO_ID ||
            hnsw_node_head(h, links[i])->level < l)
          return 0;
    }
  }
  return 1;
}

/* Whether the stored quantiser is one the index could have made for these rows: a finite positive
 * scale with its exact inverse, finite offsets whose sum of squares is the stored one, ranges
 * that hold every live row and that the codes cover, and a largest norm no row passes. A file
 * with valid checksums but another quantiser (an inverse scale of 0 coded every row alike, and
 * searches missed exact matches) is refused. */
static int quantiser_valid(const hnsw *h, const vx_store *s, size_t rows) {
  const vx_sq8 *q = &h->sq;
  if (!(q->scale > 0) || !isfinite(q->scale) || q->inv_scale != 1.0f / q->scale ||
      !isfinite(h->max_norm) || !(h->max_norm >= 0))
    return 0;
  double lo_sq = 0;
  for (uint32_t d = 0; d < h->dim; d++) {
    if (!isfinite(q->lo[d])) return 0;
    lo_sq += (double)q->lo[d] * q->lo[d];
  }
  if (lo_sq != q->lo_sq) return 0;
  /* an index that never held a row has empty ranges (lo above hi) and no codes to check */
  if (atomic_load_explicit(&s->live, memory_order_relaxed) == 0) return 1;
  if (!h->sq_fitted || !vx_sq8_covers(q, h->range_lo, h->range_hi)) return 0;
  for (size_t slot = 0; slot < rows; slot++) {
    if (vx_store_id(s, slot) == VX_NO_ID) continue;
    const float *row = vx_store_row(s, slot);
    for (uint32_t d = 0; d < h->dim; d++) /* written so that NaN fails too */
      if (!(row[d] >= h->range_lo[d] && row[d] <= h->range_hi[d])) return 0;
    if (!(vx_store_norm(s, slot) <= h->max_norm)) return 0;
  }
  return 1;
}

vexfs_status vx_hnsw_load_graph(void *state, const vx_store *s, vx_sec_reader *r) {
  hnsw *h = state;
  vx_hnsw_attach(h, s);
  size_t rows = atomic_load_explicit(&s->rows, memory_order_relaxed);
  uint64_t entry, nrows;
  uint32_t flags[2];
  size_t vec = h->dim * sizeof(float);
  if (vx_secr_read(r, &entry, sizeof entry) || vx_secr_read(r, &h->max_norm, sizeof h->max_norm) ||
      vx_secr_read(r, flags, sizeof flags) || vx_secr_read(r, &h->sq.scale, sizeof h->sq.scale) ||
      vx_secr_read(r, &h->sq.inv_scale, sizeof h->sq.inv_scale) ||
      vx_secr_read(r, &h->sq.lo_sq, sizeof h->sq.lo_sq) || vx_secr_read(r, h->sq.lo, vec) ||
      vx_secr_read(r, h->range_lo, vec) || vx_secr_read(r, h->range_hi, vec) ||
      vx_secr_read(r, &nrows, sizeof nrows))
    return bad("it is too short");
  if (nrows != rows) return bad("it does not cover the stored rows");
  h->sq_fitted = flags[0] != 0;
  h->codes_precise = flags[1] != 0;
  /* store-coded: the quantiser is the store's, which its own section brought */
  if (flags[0] > 1 || flags[1] > 1 || (!h->store_coded && !quantiser_valid(h, s, rows)))
    return bad("its quantiser does not fit its rows");
  h->pending_max_norm = h->max_norm;
  if ((!h->store_coded && vx_chunked_reserve(&h->nodes, rows)) || vx_chunked_reserve(&h->upper, rows))
    return vx_fail(VEXFS_E_NOMEM, "vexfs_db_open: out of memory for HNSW nodes");
  for (size_t slot = 0; slot < rows; slot++) {
    uint32_t head[2], sl = (uint32_t)slot;
    if (vx_secr_read(r, head, sizeof head)) return bad("it is too short");
    int live = vx_store_id(s, slot) != VX_NO_ID;
    if (head[1] > h->m0 || (live ? head[0] != vx_hnsw_draw_level(h, sl) : head[0] || head[1]))
      return bad("a node's level or link count is impossible");
    if (head[0] && vx_hnsw_alloc_upper(h, &sl, 1) != 0)
      return vx_fail(VEXFS_E_NOMEM, "vexfs_db_open: out of memory for HNSW levels");
    hnsw_head *hd = hnsw_node_head(h, sl);
    hd->level = (uint8_t)head[0]; /* checked above: its drawn level, at most HNSW_MAX_LEVEL */
    hd->count0 = head[1];
    atomic_store_explicit(&hd->lock, 0, memory_order_relaxed);
    if (vx_secr_read(r, hnsw_links0(h, sl), head[1] * sizeof(uint32_t)) ||
        (head[0] && vx_secr_read(r, *(uint32_t **)vx_chunked_at(&h->upper, slot),
                                 (size_t)head[0] * (1 + h->m) * sizeof(uint32_t))))
      return bad("it is too short");
    if (live) vx_hnsw_encode_node(h, s, sl);
  }
  if (vx_secr_left(r) != 0) return bad("it has bytes past its last node");
  uint32_t entry_slot = (uint32_t)entry, entry_level = (uint32_t)(entry >> 32);
  if (entry_slot == HNSW_NONE ? atomic_load(&s->live) != 0
                              : entry_slot >= rows || vx_store_id(s, entry_slot) == VX_NO_ID ||
                                    hnsw_node_head(h, entry_slot)->level != entry_level)
    return bad("its entry point is not a node of the top level");
  if (!links_valid(h, s, rows)) return bad("a link points outside the graph");
  atomic_store(&h->entry, entry);
  return VEXFS_OK;
}

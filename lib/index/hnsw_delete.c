/* HNSW removal. Removed nodes are cut out of the graph at once (no tombstones): every live node
 * that links to one re-selects its links, by the diversity heuristic, from its other links and
 * the removed node's links (two hops). The entry point moves if it was removed. The slots are
 * then freed by the store and reused by later inserts. Runs with no search or insert running. */
#include <stdlib.h>
#include <string.h>

#include "../alloc_internal.h"
#include "../errors_internal.h"
#include "hnsw_internal.h"

/* Candidates kept for the heuristic after sorting by distance, per unit of capacity. */
#define REPAIR_POOL 3

static int by_slot(const void *a, const void *b) {
  const hnsw_pair *x = a, *y = b;
  return (x->slot > y->slot) - (x->slot < y->slot);
}

static inline int is_gone(const uint64_t *gone, uint32_t slot) {
  return (gone[slot >> 6] >> (slot & 63)) & 1;
}

/* Re-selects the links of u at level l when some of them are gone. cand holds m0 * (m0 + 1). */
static void repair(hnsw *h, const uint64_t *gone, uint32_t u, uint32_t l, hnsw_pair *cand) {
  uint32_t *count, *links = hnsw_list(h, u, l, &count);
  uint32_t n = *count;
  int touched = 0;
  for (uint32_t i = 0; i < n && !touched; i++) touched = is_gone(gone, links[i]);
  if (!touched) return;
  size_t nc = 0;
  for (uint32_t i = 0; i < n; i++) {
    uint32_t v = links[i];
    if (!is_gone(gone, v)) {
      cand[nc++].slot = v;
      continue;
    }
    uint32_t *vcount, *vlinks = hnsw_list(h, v, l, &vcount);
    for (uint32_t j = 0; j < *vcount; j++)
      if (vlinks[j] != u && !is_gone(gone, vlinks[j])) cand[nc++].slot = vlinks[j];
  }
  qsort(cand, nc, sizeof *cand, by_slot);
  size_t unique = 0;
  for (size_t i = 0; i < nc; i++)
    if (unique == 0 || cand[unique - 1].slot != cand[i].slot) cand[unique++] = cand[i];
  hnsw_point p = hnsw_node_point(h, u);
  for (size_t i = 0; i < unique; i++) cand[i].d = hnsw_distance(h, &p, cand[i].slot);
  qsort(cand, unique, sizeof *cand, vx_hnsw_by_distance);
  size_t cap = hnsw_cap(h, l), pool = REPAIR_POOL * cap;
  size_t kept = vx_hnsw_select(h, cand, unique < pool ? unique : pool, cap);
  for (size_t i = 0; i < kept; i++) links[i] = cand[i].slot;
  hnsw_store(count, (uint32_t)kept);
  /* Nodes that linked only to removed ones lost their way in: new neighbours with room link
   * back, as inserts do. */
  for (size_t i = 0; i < kept; i++) {
    uint32_t *wcount, *wlinks = hnsw_list(h, cand[i].slot, l, &wcount);
    uint32_t wn = *wcount, present = 0;
    for (uint32_t j = 0; j < wn && !present; j++) present = wlinks[j] == u;
    if (!present && wn < cap) {
      wlinks[wn] = u;
      hnsw_store(wcount, wn + 1);
    }
  }
}

/* One block: the bitmap of removed slots (a bit per row), then the repair's candidate list. */
static size_t bitmap_words(const vx_store *s) {
  return (atomic_load_explicit(&s->rows, memory_order_relaxed) + 63) / 64;
}

vexfs_status vx_hnsw_prepare_remove(void *state, const vx_store *s, void **scratch) {
  hnsw *h = state;
  size_t bytes = bitmap_words(s) * sizeof(uint64_t) +
                 (size_t)h->m0 * (h->m0 + 1) * sizeof(hnsw_pair);
  if (!(*scratch = vx_alloc(bytes)))
    return vx_fail(VEXFS_E_NOMEM, "vexfs_remove: out of memory to repair the graph");
  return VEXFS_OK;
}

void vx_hnsw_remove(void *state, const vx_store *s, const uint32_t *slots, size_t n,
                    void *scratch) {
  hnsw *h = state;
  size_t rows = atomic_load_explicit(&s->rows, memory_order_relaxed);
  uint64_t *gone = scratch;
  hnsw_pair *cand = (hnsw_pair *)(gone + bitmap_words(s));
  memset(gone, 0, bitmap_words(s) * sizeof *gone);
  for (size_t i = 0; i < n; i++) gone[slots[i] >> 6] |= 1ull << (slots[i] & 63);

  uint32_t best = HNSW_NONE, best_level = 0;
  for (size_t u = 0; u < rows; u++) {
    if (vx_store_id(s, u) == VX_NO_ID || is_gone(gone, (uint32_t)u)) continue;
    uint32_t level = hnsw_node_head(h, (uint32_t)u)->level;
    for (uint32_t l = 0; l <= level; l++) repair(h, gone, (uint32_t)u, l, cand);
    if (best == HNSW_NONE || level > best_level) {
      best = (uint32_t)u;
      best_level = level;
    }
  }
  uint64_t entry = atomic_load(&h->entry);
  if ((uint32_t)entry != HNSW_NONE && is_gone(gone, (uint32_t)entry))
    atomic_store(&h->entry, hnsw_pack_entry(best, best == HNSW_NONE ? 0 : best_level));

  for (size_t i = 0; i < n; i++) hnsw_store(&hnsw_node_head(h, slots[i])->count0, 0);
  vx_hnsw_free_upper(h, slots, n); /* the slots become free rows */
  vx_release(scratch);
}

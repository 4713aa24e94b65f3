/* HNSW construction: levels, the diversity heuristic, and inserting one node (Malkov & Yashunin,
 * algorithms 1 and 4), with per-node locks so that a batch inserts on many threads. */
#include <stdlib.h>

#include "hnsw_internal.h"

uint32_t vx_hnsw_draw_level(const hnsw *h, uint32_t slot) {
  uint64_t x = h->seed + 0x9e3779b97f4a7c15ull * ((uint64_t)slot + 1); /* splitmix64 */
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  x ^= x >> 31;
  double u = ((double)(x >> 11) + 1.0) * 0x1.0p-53; /* (0, 1] */
  double level = -log(u) * h->level_mult;
  return level >= HNSW_MAX_LEVEL ? HNSW_MAX_LEVEL : (uint32_t)level;
}

size_t vx_hnsw_select(const hnsw *h, hnsw_pair *cand, size_t n, size_t max) {
  if (n <= max) return n; /* fewer candidates than room: keep them all */
  size_t kept = 0;
  for (size_t i = 0; i < n && kept < max; i++) {
    hnsw_point e = hnsw_node_point(h, cand[i].slot);
    int diverse = 1;
    for (size_t j = 0; j < kept && diverse; j++)
      diverse = hnsw_distance(h, &e, cand[j].slot) >= cand[i].d;
    if (diverse) cand[kept++] = cand[i];
  }
  return kept;
}

/* Adds `from` to the links of `to` at `level`; when they are full, re-selects them. */
static void link_back(hnsw *h, hnsw_scratch *sc, uint32_t to, uint32_t from, uint32_t level,
                      float dist) {
  hnsw_head *hd = hnsw_node_head(h, to);
  uint32_t *count;
  vx_hnsw_lock(hd);
  uint32_t *links = hnsw_list(h, to, level, &count);
  uint32_t n = hnsw_load(count), cap = hnsw_cap(h, level);
  for (uint32_t i = 0; i < n; i++)
    if (hnsw_load(&links[i]) == from) {
      vx_hnsw_unlock(hd);
      return;
    }
  if (n < cap) {
    hnsw_store(&links[n], from);
    hnsw_store(count, n + 1);
  } else {
    hnsw_point p = hnsw_node_point(h, to);
    for (uint32_t i = 0; i < n; i++) {
      uint32_t nb = hnsw_load(&links[i]);
      sc->shrink[i] = (hnsw_pair){hnsw_distance(h, &p, nb), nb};
    }
    sc->shrink[n] = (hnsw_pair){dist, from};
    qsort(sc->shrink, n + 1, sizeof *sc->shrink, vx_hnsw_by_distance);
    size_t kept = vx_hnsw_select(h, sc->shrink, n + 1, cap);
    for (size_t i = 0; i < kept; i++) hnsw_store(&links[i], sc->shrink[i].slot);
    hnsw_store(count, (uint32_t)kept);
  }
  vx_hnsw_unlock(hd);
}

/* Drains sc->found (a max-heap) into sc->sel, nearest first, leaving out `self`. */
static size_t drain_found(hnsw_scratch *sc, uint32_t self) {
  size_t n = 0;
  while (sc->found.n) {
    hnsw_pair p = vx_hnsw_heap_pop_max(&sc->found);
    if (p.slot != self) sc->sel[n++] = p;
  }
  for (size_t i = 0; i < n / 2; i++) { /* popped farthest first */
    hnsw_pair t = sc->sel[i];
    sc->sel[i] = sc->sel[n - 1 - i];
    sc->sel[n - 1 - i] = t;
  }
  return n;
}

/* Links back to the node at `level` the neighbours its own list there names, with distances
 * recomputed from codes. Called bottom-up, once per level, so that each list is read before the
 * node is reachable at that level and no other insert can have changed it yet. */
static void link_level_back(hnsw *h, hnsw_scratch *sc, const hnsw_point *q, uint32_t slot,
                            uint32_t level) {
  uint32_t *count, *links = hnsw_list(h, slot, level, &count);
  uint32_t n = hnsw_load(count); /* at most ef_construction: fits sc->sel */
  for (uint32_t i = 0; i < n; i++) {
    uint32_t nb = hnsw_load(&links[i]);
    sc->sel[i] = (hnsw_pair){hnsw_distance(h, q, nb), nb};
  }
  for (uint32_t i = 0; i < n; i++) link_back(h, sc, sc->sel[i].slot, slot, level, sc->sel[i].d);
}

/* Two phases: first the node's own lists at every level, top-down (each level's search starts
 * from the nearest node found above); then the links back to it, bottom-up. Until the second
 * phase nothing links to the node, so no search reaches it while a lower list of it is still
 * empty (a search through it there would link the searching node to it alone), and no link back
 * into one of its lists is overwritten when it writes that list. */
void vx_hnsw_insert(hnsw *h, hnsw_scratch *sc, uint32_t slot) {
  hnsw_head *hd = hnsw_node_head(h, slot);
  uint32_t level = hd->level;
  hnsw_point q = hnsw_node_point(h, slot);

  pthread_mutex_lock(&h->entry_lock);
  uint64_t entry = atomic_load(&h->entry);
  if ((uint32_t)entry == HNSW_NONE) {
    atomic_store(&h->entry, hnsw_pack_entry(slot, level));
    pthread_mutex_unlock(&h->entry_lock);
    return;
  }
  uint32_t top = (uint32_t)(entry >> 32);
  int new_top = level > top; /* keep the lock: this node becomes the entry point */
  if (!new_top) pthread_mutex_unlock(&h->entry_lock);

  float d;
  uint32_t cur = vx_hnsw_descend(h, &q, entry, level, &d), linked = level < top ? level : top;
  for (uint32_t l = linked;; l--) {
    vx_hnsw_scratch_reset(sc);
    vx_hnsw_search_level(h, sc, &q, cur, d, l, h->ef_construction, NULL);
    size_t n = drain_found(sc, slot);
    if (n > 0) {
      cur = sc->sel[0].slot; /* the nearest: where the next level starts */
      d = sc->sel[0].d;
    }
    size_t kept = vx_hnsw_select(h, sc->sel, n, h->m);
    uint32_t *count, *links = hnsw_list(h, slot, l, &count);
    for (size_t i = 0; i < kept; i++) hnsw_store(&links[i], sc->sel[i].slot);
    hnsw_store(count, (uint32_t)kept);
    if (l == 0) break;
  }
  for (uint32_t l = 0; l <= linked; l++) link_level_back(h, sc, &q, slot, l);
  if (new_top) {
    atomic_store(&h->entry, hnsw_pack_entry(slot, level));
    pthread_mutex_unlock(&h->entry_lock);
  }
}

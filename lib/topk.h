/* Bounded top-k selection: a max-heap of the k nearest (distance, id) pairs seen so far. Ties in
 * distance order by id, so results do not depend on scan order or thread count. And the k-th
 * smallest of an array (medians: LSH thresholds, the quantisers' outlier limit). */
#ifndef VEXFS_TOPK_H
#define VEXFS_TOPK_H

#include <stddef.h>
#include <stdint.h>

typedef struct vx_hit {
  float dist;
  uint32_t slot;
  uint64_t id;
} vx_hit;

typedef struct vx_topk {
  vx_hit *heap; /* capacity k, caller-provided */
  size_t k, n;
} vx_topk;

static inline void vx_topk_init(vx_topk *t, vx_hit *storage, size_t k) {
  t->heap = storage;
  t->k = k;
  t->n = 0;
}

/* The distance a candidate must beat to enter: +inf until the heap is full, -inf when k is 0. */
static inline float vx_topk_bound(const vx_topk *t) {
  if (t->n < t->k) return __builtin_inff();
  return t->k ? t->heap[0].dist : -__builtin_inff();
}

/* Offers a candidate; kept when it is nearer than the current k-th. */
void vx_topk_push(vx_topk *t, float dist, uint32_t slot, uint64_t id);

/* Sorts the kept hits ascending (distance, then id), destroying the heap order. */
void vx_topk_sort(vx_topk *t);

/* The k-th smallest of a[0, n), k < n, reordering a (Hoare's selection: O(n) expected). */
float vx_select_kth(float *a, size_t n, size_t k);

#endif

/* Bounded max-heap for top-k selection, and selection of the k-th smallest (see topk.h). */
#include "topk.h"

#include <stdlib.h>

static inline int worse(const vx_hit *a, const vx_hit *b) { /* a ranks after b */
  return a->dist > b->dist || (a->dist == b->dist && a->id > b->id);
}

static void sift_down(vx_hit *h, size_t n, size_t i) {
  vx_hit v = h[i];
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= n) break;
    if (c + 1 < n && worse(&h[c + 1], &h[c])) c++;
    if (!worse(&h[c], &v)) break;
    h[i] = h[c];
    i = c;
  }
  h[i] = v;
}

void vx_topk_push(vx_topk *t, float dist, uint32_t slot, uint64_t id) {
  vx_hit v = {dist, slot, id};
  if (t->n < t->k) {
    size_t i = t->n++;
    while (i > 0) { /* sift up */
      size_t p = (i - 1) / 2;
      if (!worse(&v, &t->heap[p])) break;
      t->heap[i] = t->heap[p];
      i = p;
    }
    t->heap[i] = v;
  } else if (t->k > 0 && worse(&t->heap[0], &v)) {
    t->heap[0] = v;
    sift_down(t->heap, t->n, 0);
  }
}

static int cmp_hit(const void *a, const void *b) {
  const vx_hit *x = a, *y = b;
  return worse(x, y) ? 1 : worse(y, x) ? -1 : 0;
}

void vx_topk_sort(vx_topk *t) { qsort(t->heap, t->n, sizeof *t->heap, cmp_hit); }

float vx_select_kth(float *a, size_t n, size_t k) {
  size_t lo = 0, hi = n - 1;
  while (lo < hi) {
    float pivot = a[lo + (hi - lo) / 2];
    size_t i = lo, j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        float t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        if (j == 0) break;
        j--;
      }
    }
    if (k <= j)
      hi = j;
    else if (k >= i)
      lo = i;
    else
      return a[k];
  }
  return a[k];
}

/* HNSW search: greedy descent through the upper levels (a query keeps a few nodes at level 1),
 * best-first search of a level, and answering queries (with a filter, an exact fallback, and
 * exact re-ranking of the best hits). */
#include <math.h>
#include <string.h>

#include "../alloc_internal.h"
#include "../errors_internal.h"
#include "../payload/planner.h"
#include "../pool/pool.h"
#include "../threadpool.h"
#include "flat_internal.h"
#include "hnsw_internal.h"

/* A filtered search keeps only admitted nodes in its result list, so it explores further on its
 * own the fewer nodes pass; when it still ends with fewer than k, it doubles ef and searches
 * again, up to MAX_WIDENED_EF, and then scans exactly. (Whether to use the graph at all for a
 * filter is the planner's choice: payload/planner.c.) */
#define MAX_WIDENED_EF 8192u

/* A query's descent keeps several nodes at level 1 instead of one once level 1 is large: greedy
 * descent all the way down then often ends in a poor local minimum of level 1 on clustered data,
 * and the bottom-level search cannot make up for a bad start at small ef. One node more per
 * UPPER_NODES_PER_WIDTH upper-level lists, up to UPPER_EF_MAX. Measured on Gaussian clusters
 * (benchmarks/README.md "HNSW at scale"): at 1M x 96 (66 000 upper lists) a width of 16 takes
 * recall at ef 48 from 0.943 to 0.976 and at ef 10 from 0.58 to 0.73 for about 5% more
 * distances; at 60 000 x 96 it changes no recall and costs 5-25% of the QPS (nor recall at
 * 40 000 x 32 with 1 000 clusters). */
#define UPPER_EF_MAX 16u
#define UPPER_NODES_PER_WIDTH 4096u

uint32_t vx_hnsw_descend(const hnsw *h, const hnsw_point *q, uint64_t entry, uint32_t stop,
                      float *dist) {
  uint32_t cur = (uint32_t)entry, top = (uint32_t)(entry >> 32);
  float d = hnsw_distance(h, q, cur);
  for (uint32_t l = top; l > stop; l--) {
    for (int moved = 1; moved;) {
      moved = 0;
      uint32_t *count, *links = hnsw_list(h, cur, l, &count);
      uint32_t n = hnsw_load(count);
      for (uint32_t i = 0; i < n; i++) {
        uint32_t nb = hnsw_load(&links[i]);
        float nd = hnsw_distance(h, q, nb);
        if (nd < d) {
          d = nd;
          cur = nb;
          moved = 1;
        }
      }
    }
  }
  *dist = d;
  return cur;
}

static inline int admitted(const hnsw_admit *a, uint32_t slot) {
  if (!a) return 1;
  return slot < a->rows && vx_store_id(a->store, slot) != VX_NO_ID &&
         (!a->filter || a->filter->admit(a->filter->ctx, slot));
}

void vx_hnsw_search_level(const hnsw *h, hnsw_scratch *sc, const hnsw_point *q, uint32_t start,
                       float start_dist, uint32_t level, size_t ef, const hnsw_admit *admit) {
  hnsw_visit(sc, start);
  vx_hnsw_heap_push_min(&sc->cand, start_dist, start);
  if (admitted(admit, start)) vx_hnsw_heap_push_max(&sc->found, start_dist, start);
  float bound = sc->found.n ? sc->found.a[0].d : INFINITY;
  while (sc->cand.n) {
    hnsw_pair c = vx_hnsw_heap_pop_min(&sc->cand);
    if (c.d > bound && sc->found.n >= ef) break;
    uint32_t *count, *links = hnsw_list(h, c.slot, level, &count);
    uint32_t n = hnsw_load(count), nfresh = 0;
    for (uint32_t i = 0; i < n; i++) {
      uint32_t nb = hnsw_load(&links[i]);
      if (hnsw_visit(sc, nb)) {
        sc->fresh[nfresh++] = nb;
        hnsw_prefetch_code(h, nb);
      }
    }
    if (nfresh) hnsw_prefetch_rest(h, sc->fresh[0], h->traversed_bytes);
    for (uint32_t i = 0; i < nfresh; i++) {
      uint32_t nb = sc->fresh[i];
      if (i + 1 < nfresh) hnsw_prefetch_rest(h, sc->fresh[i + 1], h->traversed_bytes);
      float d = hnsw_distance_within(h, q, nb, sc->found.n >= ef ? bound : INFINITY);
      sc->distances++;
      if (sc->found.n >= ef && d >= bound) continue;
      /* a heap that cannot grow (out of memory) drops the candidate: a worse answer, not a crash */
      vx_hnsw_heap_push_min(&sc->cand, d, nb);
      if (admitted(admit, nb)) {
        vx_hnsw_heap_push_max(&sc->found, d, nb);
        if (sc->found.n > ef) vx_hnsw_heap_pop_max(&sc->found);
        bound = sc->found.a[0].d;
      }
    }
  }
}

/* ---- queries ---- */

/* How many nodes a query keeps at level 1. */
static size_t upper_width(const hnsw *h) {
  size_t lists = atomic_load_explicit(&((hnsw *)h)->upper_bytes, memory_order_relaxed) /
                 ((1 + (size_t)h->m) * sizeof(uint32_t)); /* about the nodes above level 0 */
  size_t w = lists / UPPER_NODES_PER_WIDTH;
  return w < 1 ? 1 : w > UPPER_EF_MAX ? UPPER_EF_MAX : w;
}

/* Where a query's bottom-level search starts (and its distance): greedy descent to level 1, then
 * a best-first search of level 1 keeping upper_width nodes, the nearest of which. */
static uint32_t bottom_start(const hnsw *h, hnsw_scratch *sc, const hnsw_point *p, uint64_t entry,
                             float *dist) {
  size_t width = upper_width(h);
  if ((uint32_t)(entry >> 32) == 0 || width == 1) return vx_hnsw_descend(h, p, entry, 0, dist);
  float d;
  uint32_t cur = vx_hnsw_descend(h, p, entry, 1, &d);
  vx_hnsw_scratch_reset(sc);
  vx_hnsw_search_level(h, sc, p, cur, d, 1, width, NULL);
  for (size_t i = 0; i < sc->found.n; i++)
    if (sc->found.a[i].d < d) {
      d = sc->found.a[i].d;
      cur = sc->found.a[i].slot;
    }
  *dist = d;
  return cur;
}

typedef struct query_ctx {
  const hnsw *h;
  const vx_store *s;
  size_t rows;
  const vx_query *q;
  size_t ef;
  hnsw_scratch *scratch; /* per worker */
  vx_hit *hits;          /* per worker: k */
} query_ctx;

/* Exact answer for query qi alone: the fallback when the graph cannot give k hits. */
static void exact_one(const query_ctx *c, size_t qi) {
  vx_flat_answer_one(c->s, c->rows, c->q, qi);
}

/* One best-first search of the bottom level with candidate list ef; leaves the exactly re-ranked
 * hits in top and returns how many there are. */
static size_t graph_pass(const query_ctx *c, hnsw_scratch *sc, const hnsw_point *p, uint32_t start,
                         float start_dist, size_t ef, vx_topk *top) {
  const hnsw *h = c->h;
  const vx_query *q = c->q;
  vx_hnsw_scratch_reset(sc);
  hnsw_admit admit = {c->s, c->rows, q->filter};
  vx_hnsw_search_level(h, sc, p, start, start_dist, 0, ef, &admit);

  /* Re-rank the nearest hits by their exact distances. Codes order them nearly right, so the
   * first k + max(k, 16) of them hold the true top k (coarser store codes: vx_codec_rerank_depth). */
  size_t n = sc->found.n, rerank = h->store_coded ? vx_codec_rerank_depth(&c->s->codec, q->k)
                                                  : q->k + (q->k > 16 ? q->k : 16);
  while (n > rerank) {
    vx_hnsw_heap_pop_max(&sc->found);
    n--;
  }
  atomic_fetch_add_explicit(q->distance_count, sc->distances + n, memory_order_relaxed);
  sc->distances = 0;
  top->n = 0;
  /* read after the traversal's acquire loads: every node it reached was coded before this */
  const vx_store *s = c->s;
  int from_codes = h->store_coded
                       ? !s->keeps_rows || atomic_load_explicit(&((vx_store *)s)->codes_lossless,
                                                                memory_order_relaxed)
                       : atomic_load_explicit(&((hnsw *)h)->codes_lossless, memory_order_relaxed);
  for (size_t i = 0; i < n; i++) {
    uint32_t slot = sc->found.a[i].slot;
    if (!from_codes && i + 1 < n) /* the next row, while this one is scored */
      for (size_t off = 0; off < h->dim * sizeof(float); off += 64)
        __builtin_prefetch((const char *)vx_store_row(s, sc->found.a[i + 1].slot) + off);
    const float *row = from_codes ? sc->decoded : vx_store_row(s, slot);
    /* the same floats where codes are lossless, from memory the graph reads anyway; else (NONE)
     * the vector the code stands for */
    if (from_codes && h->store_coded) vx_codec_decode(&s->codec, vx_store_code(s, slot), sc->decoded);
    else if (from_codes) vx_sq8_decode(&h->sq, hnsw_code(h, slot), 0, h->dim, sc->decoded);
    float exact = vx_flat_exact_distance(h->kern, q->metric, p->vec, row, h->dim);
    vx_topk_push(top, exact, slot, vx_store_id(c->s, slot));
  }
  return top->n;
}

static void query_task(void *arg, size_t qi, unsigned worker) {
  query_ctx *c = arg;
  const hnsw *h = c->h;
  const vx_query *q = c->q;
  hnsw_scratch *sc = &c->scratch[worker];
  const float *query = q->queries + qi * h->dim;
  uint64_t entry = atomic_load(&((hnsw *)h)->entry);
  if ((uint32_t)entry == HNSW_NONE) {
    exact_one(c, qi);
    return;
  }
  float lx = h->store_coded ? vx_codec_encode_query(&c->s->codec, query, sc->qcode)
                           : vx_sq8_encode(&h->sq, query, sc->qcode);
  hnsw_point p = {query, sc->qcode, lx, h->kern->dot(query, query, h->dim), 0};
  float d;
  uint32_t start = bottom_start(h, sc, &p, entry, &d);
  vx_topk top;
  vx_topk_init(&top, c->hits + (size_t)worker * q->k, q->k);
  size_t live = atomic_load_explicit(&c->s->live, memory_order_acquire);
  size_t want = q->k < live ? q->k : live;
  /* A filtered search that finds fewer than k widens its list and searches again (as pgvector's
   * iterative scan does), then falls back to an exact scan: k hits whenever k rows match. */
  size_t ef = c->ef;
  while (graph_pass(c, sc, &p, start, d, ef, &top) < want) {
    if (!q->filter || ef >= MAX_WIDENED_EF) {
      exact_one(c, qi);
      return;
    }
    ef *= 2;
  }
  vx_flat_emit(q, qi, &top);
}

vexfs_status vx_hnsw_search_queries(void *state, const vx_store *s, size_t rows,
                                     const vx_query *q) {
  const hnsw *h = state;
  size_t ef = q->ef > q->k ? q->ef : q->k;
  unsigned workers = q->threads < q->nq ? q->threads : (unsigned)q->nq;
  query_ctx c = {h, s, rows, q, ef, NULL, NULL};
  size_t scratch_bytes = workers * sizeof *c.scratch, hit_bytes = (size_t)workers * q->k * sizeof(vx_hit);
  c.scratch = vx_pool_get(scratch_bytes);
  c.hits = vx_pool_get(hit_bytes);
  unsigned made = 0;
  if (c.scratch && c.hits)
    for (; made < workers; made++)
      if (vx_hnsw_scratch_init(&c.scratch[made], h, rows) != 0) break; /* newer nodes are skipped */
  vexfs_status st = VEXFS_OK;
  if (made < workers)
    st = vx_fail(VEXFS_E_NOMEM, "vexfs_search: out of memory for search scratch");
  else
    vx_parallel_for(workers, q->nq, query_task, &c);
  for (unsigned i = 0; i < made; i++) vx_hnsw_scratch_destroy(&c.scratch[i]);
  vx_pool_put(c.scratch, scratch_bytes);
  vx_pool_put(c.hits, hit_bytes);
  return st;
}

double vx_hnsw_filtered_cost(const void *state, const vx_store *s, const vx_query *q, double share,
                             int bitmap) {
  (void)state, (void)s;
  double ef = (double)(q->ef > q->k ? q->ef : q->k);
  return 9.0 * ef * pow(share, -0.65) * (bitmap ? 1.0 : 1.0 + VX_PLAN_PREDICATE_COST);
}

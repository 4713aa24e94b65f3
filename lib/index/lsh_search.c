/* LSH queries: project the query, probe each table's buckets of least perturbation score,
 * prefilter the candidates by their sketches, re-rank the best exactly; an exact scan covers any
 * shortfall (fewer than k admitted candidates). */
#include <math.h>
#include <string.h>

#include "../alloc_internal.h"
#include "../errors_internal.h"
#include "../pool/pool.h"
#include "../threadpool.h"
#include "flat_internal.h"
#include "lsh_internal.h"

typedef struct probe {
  float score;
  uint64_t mask; /* over the table's bits sorted by margin */
} probe;

/* One worker's scratch, from the pool. */
typedef struct lsh_scratch {
  uint64_t *visited; /* a bit per row */
  float *lut;        /* sketch bytes * 256: the score of each byte of differing bits (the sum
                        of their margins) */
  float *qp, *m2, *wm; /* the query's projections, their squared margins, their margins */
  uint64_t *qsk;     /* the query's sketch */
  uint32_t *order;   /* a table's bits by ascending margin */
  probe *heap;
  vx_hit *cand, *hits;
  const lsh_bucket **buckets; /* tables * probes: each table's buckets in probing order */
  size_t *listed;             /* per table: buckets listed */
  size_t sizes[10];
  void *blocks[10];
} lsh_scratch;

static void scratch_destroy(lsh_scratch *sc) {
  for (size_t i = 0; i < 10; i++) vx_pool_put(sc->blocks[i], sc->sizes[i]);
  memset(sc, 0, sizeof *sc);
}

static void *take(lsh_scratch *sc, size_t i, size_t bytes) {
  sc->sizes[i] = bytes ? bytes : 8;
  return sc->blocks[i] = vx_pool_get(sc->sizes[i]);
}

static int scratch_init(lsh_scratch *sc, const lsh *h, size_t rows, size_t probes, size_t rerank,
                        size_t k) {
  memset(sc, 0, sizeof *sc);
  size_t S = h->sketch_bits;
  sc->visited = take(sc, 0, (rows + 63) / 64 * sizeof(uint64_t));
  sc->lut = take(sc, 1, S / 8 * 256 * sizeof(float));
  sc->qp = take(sc, 2, 3 * S * sizeof(float));
  sc->qsk = take(sc, 3, h->sketch_words * sizeof(uint64_t));
  sc->order = take(sc, 4, 64 * sizeof(uint32_t));
  sc->heap = take(sc, 5, (2 * probes + 2) * sizeof(probe));
  sc->cand = take(sc, 6, rerank * sizeof(vx_hit));
  sc->hits = take(sc, 7, k * sizeof(vx_hit));
  sc->buckets = take(sc, 8, h->tables * probes * sizeof *sc->buckets);
  sc->listed = take(sc, 9, h->tables * sizeof *sc->listed);
  for (size_t i = 0; i < 10; i++)
    if (!sc->blocks[i]) {
      scratch_destroy(sc);
      return -1;
    }
  sc->m2 = sc->qp + S;
  sc->wm = sc->m2 + S;
  return 0;
}

/* ---- the probe sequence (Lv et al. 2007): perturbation sets in ascending score ---- */

static void heap_push(probe *a, size_t *n, probe p) {
  size_t i = (*n)++;
  while (i > 0) {
    size_t up = (i - 1) / 2;
    if (a[up].score <= p.score) break;
    a[i] = a[up];
    i = up;
  }
  a[i] = p;
}

static probe heap_pop(probe *a, size_t *n) {
  probe top = a[0], last = a[--*n];
  size_t i = 0;
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= *n) break;
    if (c + 1 < *n && a[c + 1].score < a[c].score) c++;
    if (last.score <= a[c].score) break;
    a[i] = a[c];
    i = c;
  }
  if (*n) a[i] = last;
  return top;
}

typedef struct query_ctx {
  const lsh *h;
  const vx_store *s;
  size_t rows;
  const vx_query *q;
  size_t probes, max_probes, rerank; /* max_probes: as a filtered search widens */
  lsh_scratch *scratch;              /* per worker */
} query_ctx;

/* The query's projections: as a row's, but a query has no reduction coordinate (IP) and is
 * scaled to the rows' largest norm, which ranks rows as 1 - dot does. */
static void project_query(const lsh *h, const float *x, float *out) {
  float norm = h->kern->dot(x, x, h->dim);
  h->kern->dot_many(x, h->proj, h->dim, h->sketch_bits, h->dim, out);
  float scale = 1.0f;
  if (h->metric == VEXFS_METRIC_COSINE && norm > 0) scale = 1.0f / sqrtf(norm);
  if (h->metric == VEXFS_METRIC_IP && norm > 0) scale = sqrtf(h->max_norm / norm);
  if (scale != 1.0f)
    for (uint32_t i = 0; i < h->sketch_bits; i++) out[i] *= scale;
}

static void build_lut(const lsh *h, lsh_scratch *sc) {
  for (uint32_t j = 0; j < h->sketch_bits / 8; j++) {
    float *t = sc->lut + (size_t)j * 256;
    const float *m = sc->wm + 8 * j;
    t[0] = 0;
    for (unsigned v = 1; v < 256; v++) t[v] = t[v & (v - 1)] + m[__builtin_ctz(v)];
  }
}

/* The sketch score of a row (the margins of the query's bits it differs in), when it is
 * at most `bound`: the partial sums only grow, so a row is dropped at the first word past it. */
static inline int sketch_score(const lsh *h, const lsh_scratch *sc, const uint64_t *sk, float bound,
                               float *score) {
  float s = 0;
  const float *t = sc->lut;
  for (uint32_t w = 0; w < h->sketch_words; w++) {
    uint64_t d = sk[w] ^ sc->qsk[w];
    for (unsigned b = 0; b < 8; b++, t += 256) s += t[(d >> (8 * b)) & 255];
    if (s > bound) return 0;
  }
  *score = s;
  return 1;
}

/* Offers every new admitted row of a bucket to the candidates. */
static void scan_bucket(const query_ctx *c, lsh_scratch *sc, const lsh_bucket *b, vx_topk *cand) {
  const lsh *h = c->h;
  uint32_t n = lsh_load(&b->count);
  const uint32_t *slots = b->slots;
  const vx_filter *filter = c->q->filter;
  for (uint32_t i = 0; i < n; i++) {
    if (i + 4 < n && slots[i + 4] < c->rows) __builtin_prefetch(lsh_sketch(h, slots[i + 4]));
    uint32_t slot = slots[i];
    if (slot >= c->rows) continue;
    uint64_t bit = 1ull << (slot & 63), *w = &sc->visited[slot >> 6];
    if (*w & bit) continue;
    *w |= bit;
    if (filter && !vx_flat_admits(c->s, filter, slot)) continue;
    float score;
    if (sketch_score(h, sc, lsh_sketch(h, slot), vx_topk_bound(cand), &score))
      vx_topk_push(cand, score, slot, slot);
  }
}

/* Lists table t's `probes` buckets in ascending perturbation score into out; returns how many
 * (fewer when the table has fewer buckets). */
static size_t probe_table(const query_ctx *c, lsh_scratch *sc, uint32_t t, size_t probes,
                          const lsh_bucket **out) {
  const lsh *h = c->h;
  uint32_t K = h->bits, first = t * K;
  uint64_t key = lsh_key(h, sc->qsk, t);
  const float *m2 = sc->m2 + first;
  uint32_t *z = sc->order;
  for (uint32_t i = 0; i < K; i++) { /* insertion sort by margin */
    uint32_t j = i;
    while (j > 0 && m2[z[j - 1]] > m2[i]) {
      z[j] = z[j - 1];
      j--;
    }
    z[j] = i;
  }
  size_t listed = 0, n = 0;
  out[listed++] = lsh_bucket_of(h, t, key);
  heap_push(sc->heap, &n, (probe){m2[z[0]], 1});
  while (listed < probes && n > 0) {
    probe top = heap_pop(sc->heap, &n);
    uint64_t flip = 0;
    for (uint64_t m = top.mask; m; m &= m - 1) flip |= 1ull << z[__builtin_ctzll(m)];
    out[listed++] = lsh_bucket_of(h, t, key ^ flip);
    uint32_t j = 63 - (uint32_t)__builtin_clzll(top.mask);
    if (j + 1 < K) {
      uint64_t next = 1ull << (j + 1);
      heap_push(sc->heap, &n, (probe){top.score - m2[z[j]] + m2[z[j + 1]], (top.mask ^ (1ull << j)) | next});
      heap_push(sc->heap, &n, (probe){top.score + m2[z[j + 1]], top.mask | next});
    }
  }
  return listed;
}

static void query_task(void *arg, size_t qi, unsigned worker) {
  query_ctx *c = arg;
  const lsh *h = c->h;
  const vx_query *q = c->q;
  lsh_scratch *sc = &c->scratch[worker];
  const float *query = q->queries + qi * h->dim;
  project_query(h, query, sc->qp);
  vx_lsh_sketch_of(h, sc->qp, sc->qsk);
  for (uint32_t i = 0; i < h->sketch_bits; i++) {
    float m = lsh_margin(h, i, sc->qp[i]);
    sc->m2[i] = m * m; /* probing ranks buckets by squared margins (Lv et al.) */
    sc->wm[i] = m;     /* the sketch score by plain ones: measured better on Fashion-MNIST */
  }
  build_lut(h, sc);
  vx_topk cand, top;
  /* A filtered search that admits fewer candidates than it re-ranks probes 4 and 16 times as
   * many buckets, then scans exactly: a filter passing few rows is answered exactly. */
  for (size_t probes = c->probes;; probes *= 4) {
    if (probes > c->max_probes) probes = c->max_probes;
    memset(sc->visited, 0, (c->rows + 63) / 64 * sizeof(uint64_t));
    vx_topk_init(&cand, sc->cand, c->rerank);
    /* every table's best bucket first, then every table's second, ...: the candidates' bound
     * tightens early, and later rows are dropped after a word or two of their sketch */
    size_t most = 0;
    for (uint32_t t = 0; t < h->tables; t++) {
      sc->listed[t] = probe_table(c, sc, t, probes, sc->buckets + t * c->max_probes);
      if (sc->listed[t] > most) most = sc->listed[t];
    }
    for (size_t p = 0; p < most; p++)
      for (uint32_t t = 0; t < h->tables; t++)
        if (p < sc->listed[t]) scan_bucket(c, sc, sc->buckets[t * c->max_probes + p], &cand);
    if (!q->filter || cand.n >= c->rerank) break;
    if (probes >= c->max_probes) {
      vx_flat_answer_one(c->s, c->rows, q, qi);
      return;
    }
  }

  vx_topk_init(&top, sc->hits, q->k);
  for (size_t i = 0; i < cand.n; i++) {
    if (i + 2 < cand.n) __builtin_prefetch(vx_store_row(c->s, cand.heap[i + 2].slot));
    uint32_t slot = cand.heap[i].slot;
    float d = vx_flat_exact_distance(h->kern, q->metric, query, vx_store_row(c->s, slot), h->dim);
    vx_topk_push(&top, d, slot, vx_store_id(c->s, slot));
  }
  atomic_fetch_add_explicit(q->distance_count, cand.n, memory_order_relaxed);
  size_t live = atomic_load_explicit(&c->s->live, memory_order_acquire);
  if (top.n < (q->k < live ? q->k : live)) {
    vx_flat_answer_one(c->s, c->rows, q, qi);
    return;
  }
  vx_flat_emit(q, qi, &top);
}

vexfs_status vx_lsh_search(void *state, const vx_store *s, size_t rows, const vx_query *q) {
  const lsh *h = state;
  if (!atomic_load_explicit(&h->trained, memory_order_acquire)) return vx_flat_search(s, rows, q);
  size_t probes = q->probes ? q->probes : h->probes;
  size_t rerank = (size_t)LSH_RERANK_PER_EF * q->ef > q->k ? (size_t)LSH_RERANK_PER_EF * q->ef : q->k;
  if (probes > LSH_MAX_PROBES) probes = LSH_MAX_PROBES;
  if (h->bits < 63 && probes > ((uint64_t)1 << h->bits)) probes = (size_t)1 << h->bits;
  unsigned workers = q->threads < q->nq ? q->threads : (unsigned)q->nq;
  size_t max_probes = q->filter ? probes * 16 : probes;
  if (max_probes > LSH_MAX_PROBES) max_probes = probes > LSH_MAX_PROBES ? probes : LSH_MAX_PROBES;
  if (h->bits < 63 && max_probes > ((uint64_t)1 << h->bits)) max_probes = (size_t)1 << h->bits;
  query_ctx c = {h, s, rows, q, probes, max_probes, rerank, NULL};
  size_t scratch_bytes = workers * sizeof *c.scratch;
  c.scratch = vx_pool_get(scratch_bytes);
  unsigned made = 0;
  if (c.scratch)
    for (; made < workers; made++)
      if (scratch_init(&c.scratch[made], h, rows, max_probes, rerank, q->k) != 0) break;
  vexfs_status st = VEXFS_OK;
  if (made < workers)
    st = vx_fail(VEXFS_E_NOMEM, "vexfs_search: out of memory for search scratch");
  else
    vx_parallel_for(workers, q->nq, query_task, &c);
  for (unsigned i = 0; i < made; i++) scratch_destroy(&c.scratch[i]);
  vx_pool_put(c.scratch, scratch_bytes);
  return st;
}

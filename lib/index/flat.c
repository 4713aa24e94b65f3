/* Exact (flat) search. A batch is cut into tasks spread over the thread pool: one query per task
 * when queries are few (each streams all rows once, memory-bound), or blocks of queries per task
 * when they are many (flat_blocked.c: tiles of queries against tiles of rows, compute-bound). */
#include <math.h>
#include <string.h>

#include "../alloc_internal.h"
#include "../errors_internal.h"
#include "../pool/pool.h"
#include "../threadpool.h"
#include "flat_internal.h"

/* Rows scored per kernel call on the streaming path: distances stay in L1. */
#define STREAM_ROWS 512

float vx_flat_exact_distance(const vx_kernels *kern, vexfs_metric metric, const float *a,
                             const float *b, size_t dim) {
  switch (metric) {
  case VEXFS_METRIC_IP: return 1.0f - kern->dot(a, b, dim);
  case VEXFS_METRIC_COSINE: return kern->cosine(a, b, dim);
  default: return kern->l2sq(a, b, dim);
  }
}

void vx_flat_rescore(const vx_store *store, const vx_query *q, size_t qi, vx_topk *hits) {
  const vx_kernels *kern = vx_simd();
  const float *query = q->queries + qi * store->dim;
  for (size_t i = 0; i < hits->n; i++)
    hits->heap[i].dist = vx_flat_exact_distance(kern, q->metric, query,
                                                vx_store_row(store, hits->heap[i].slot),
                                                store->dim);
}

void vx_flat_emit(const vx_query *q, size_t qi, vx_topk *hits) {
  vx_topk_sort(hits);
  uint64_t *ids = q->ids + qi * q->k;
  float *dists = q->distances + qi * q->k;
  for (size_t i = 0; i < q->k; i++) {
    ids[i] = i < hits->n ? hits->heap[i].id : UINT64_MAX;
    dists[i] = i < hits->n ? hits->heap[i].dist : INFINITY;
  }
  if (q->counts) q->counts[qi] = hits->n;
}

void vx_flat_answer_one(const vx_store *store, size_t rows, const vx_query *q, size_t qi) {
  vx_query one = *q;
  one.queries = q->queries + qi * store->dim;
  one.nq = 1;
  one.threads = 1;
  one.ids = q->ids + qi * q->k;
  one.distances = q->distances + qi * q->k;
  one.counts = q->counts ? q->counts + qi : NULL;
  if (vx_flat_search(store, rows, &one) != VEXFS_OK) { /* out of memory: report no hits */
    vx_topk none = {NULL, q->k, 0};
    vx_flat_emit(q, qi, &none);
  }
}

/* ---- streaming path: one query against every row ---- */

typedef struct stream_run_ctx {
  const vx_kernels *kern;
  const vx_store *store;
  const float *query;
  vexfs_metric metric;
  const vx_filter *filter;
  vx_topk *hits;
  float *dists;  /* STREAM_ROWS */
  uint64_t scored; /* distances computed */
} stream_run_ctx;

/* With a filter, rows are tested first and only admitted ones are scored: a selective filter
 * costs a predicate per row, not a distance. */
static void filtered_run(stream_run_ctx *s, size_t first, const float *rows, size_t n) {
  size_t dim = s->store->dim, stride = s->store->stride;
  float bound = vx_topk_bound(s->hits);
  for (size_t i = 0; i < n; i++) {
    size_t slot = first + i;
    if (!vx_flat_admits(s->store, s->filter, slot)) continue;
    float d = vx_flat_exact_distance(s->kern, s->metric, s->query, rows + i * stride, dim);
    s->scored++;
    if (d <= bound) {
      vx_topk_push(s->hits, d, (uint32_t)slot, vx_store_id(s->store, slot));
      bound = vx_topk_bound(s->hits);
    }
  }
}

static void stream_run(void *arg, size_t first, const float *rows, size_t n) {
  stream_run_ctx *s = arg;
  if (s->filter) {
    filtered_run(s, first, rows, n);
    return;
  }
  size_t dim = s->store->dim, stride = s->store->stride;
  for (size_t i0 = 0; i0 < n; i0 += STREAM_ROWS) {
    size_t m = n - i0 < STREAM_ROWS ? n - i0 : STREAM_ROWS;
    const float *base = rows + i0 * stride;
    s->scored += m;
    switch (s->metric) {
    case VEXFS_METRIC_IP:
      s->kern->dot_many(s->query, base, stride, m, dim, s->dists);
      for (size_t i = 0; i < m; i++) s->dists[i] = 1.0f - s->dists[i];
      break;
    case VEXFS_METRIC_COSINE: s->kern->cosine_many(s->query, base, stride, m, dim, s->dists); break;
    default: s->kern->l2sq_many(s->query, base, stride, m, dim, s->dists); break;
    }
    float bound = vx_topk_bound(s->hits);
    for (size_t i = 0; i < m; i++) {
      if (s->dists[i] <= bound) {
        size_t slot = first + i0 + i;
        if (vx_flat_admits(s->store, s->filter, slot)) {
          vx_topk_push(s->hits, s->dists[i], (uint32_t)slot, vx_store_id(s->store, slot));
          bound = vx_topk_bound(s->hits);
        }
      }
    }
  }
}

/* Scores the listed rows only: a plan that already knows the admitted rows (payload/planner.c). */
static void listed_rows(stream_run_ctx *s, const uint32_t *slots, size_t n) {
  float bound = vx_topk_bound(s->hits);
  for (size_t i = 0; i < n; i++) {
    if (i + 4 < n) __builtin_prefetch(vx_store_row(s->store, slots[i + 4]));
    float d = vx_flat_exact_distance(s->kern, s->metric, s->query, vx_store_row(s->store, slots[i]),
                                     s->store->dim);
    if (d <= bound) {
      vx_topk_push(s->hits, d, slots[i], vx_store_id(s->store, slots[i]));
      bound = vx_topk_bound(s->hits);
    }
  }
  s->scored += n;
}

uint64_t vx_flat_stream(const vx_kernels *kern, const vx_store *store, size_t rows,
                        const vx_query *q, size_t qi, vx_topk *top) {
  float dists[STREAM_ROWS];
  stream_run_ctx run = {kern, store, q->queries + qi * store->dim, q->metric, q->filter, top,
                        dists, 0};
  if (q->listed)
    listed_rows(&run, q->slots, q->nslots);
  else
    vx_store_each_run(store, rows, stream_run, &run);
  return run.scored;
}

/* ---- task plumbing ---- */

typedef struct search_ctx {
  const vx_kernels *kern;
  const vx_store *store;
  size_t rows;       /* rows to scan, free ones included */
  const vx_query *q;
  size_t k_eff;      /* min(k, live rows) */
  int blocked;
  vx_blocked_plan plan; /* when blocked */
  size_t per_task;   /* queries per task */
  size_t per_query;  /* hits entries per query: k_eff, or the blocked path's candidates */
  float *scratch;    /* blocked, per worker: plan.scratch_floats floats */
  vx_hit *hits;      /* per worker: per_task * per_query hits */
} search_ctx;

static void search_task(void *arg, size_t task, unsigned worker) {
  search_ctx *s = arg;
  size_t q0 = task * s->per_task;
  size_t nb = s->q->nq - q0 < s->per_task ? s->q->nq - q0 : s->per_task;
  vx_hit *hits = s->hits + (size_t)worker * s->per_task * s->per_query;
  uint64_t computed;
  if (s->blocked) {
    float *scratch = s->scratch + (size_t)worker * s->plan.scratch_floats;
    computed = vx_blocked_task(s->kern, s->store, s->rows, s->q, q0, nb, s->k_eff, &s->plan,
                               scratch, hits);
  } else {
    vx_topk top;
    vx_topk_init(&top, hits, s->k_eff);
    computed = vx_flat_stream(s->kern, s->store, s->rows, s->q, q0, &top);
    vx_flat_emit(s->q, q0, &top);
  }
  atomic_fetch_add_explicit(s->q->distance_count, computed, memory_order_relaxed);
}

vexfs_status vx_flat_search(const vx_store *store, size_t rows, const vx_query *q) {
  search_ctx s = {.kern = vx_simd(), .store = store, .rows = rows, .q = q};
  size_t live = q->listed ? q->nslots : atomic_load_explicit(&store->live, memory_order_acquire);
  s.k_eff = q->k < live ? q->k : live;
  if (store->coded) return vx_flat_coded_search(store, rows, q, s.k_eff);
  /* filtered searches stream, scoring only the rows the filter admits */
  s.blocked = s.k_eff > 0 && !q->filter && !q->listed &&
              vx_blocked_plan_for(s.kern, store->dim, q, s.k_eff, &s.plan);
  s.per_task = s.blocked ? s.plan.queries_per_task : 1;
  s.per_query = s.blocked ? s.plan.candidates : s.k_eff;
  size_t ntasks = (q->nq + s.per_task - 1) / s.per_task;
  unsigned workers = q->threads < ntasks ? q->threads : (unsigned)ntasks;

  size_t hit_count, scratch_count = 0;
  if (!vx_mul_ok((size_t)workers * s.per_task, s.per_query, &hit_count) ||
      (s.blocked && !vx_mul_ok(workers, s.plan.scratch_floats, &scratch_count)))
    return vx_fail(VEXFS_E_NOMEM, "vexfs_search: k = %zu needs more memory than exists", q->k);
  size_t hit_bytes = hit_count * sizeof(vx_hit), scratch_bytes = scratch_count * sizeof(float);
  s.hits = vx_pool_get(hit_bytes);
  s.scratch = scratch_bytes ? vx_pool_get(scratch_bytes) : NULL;
  vexfs_status st = VEXFS_OK;
  if (!s.hits || (scratch_bytes && !s.scratch))
    st = vx_fail(VEXFS_E_NOMEM, "vexfs_search: out of memory for %zu result slots", hit_count);
  else
    vx_parallel_for(workers, ntasks, search_task, &s);
  vx_pool_put(s.hits, hit_bytes);
  if (s.scratch) vx_pool_put(s.scratch, scratch_bytes);
  return st;
}

static vexfs_status flat_search(void *state, const vx_store *store, size_t rows,
                                const vx_query *q) {
  (void)state;
  return vx_flat_search(store, rows, q);
}

const vx_index_ops vx_index_flat = {.name = "flat", .search = flat_search};

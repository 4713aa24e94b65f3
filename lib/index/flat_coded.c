/* Flat search of a coded store (storage other than F32): every admitted row is scored on its
 * code, and the best vx_codec_rerank_depth of them are scored again on their vectors: the f32
 * rows where the collection keeps them (IN_MEMORY or MAPPED: the only rows of the exact copy a
 * search reads), the decoded codes where it does not (NONE) or where they are lossless. */
#include <string.h>

#include "../alloc_internal.h"
#include "../errors_internal.h"
#include "../pool/pool.h"
#include "../threadpool.h"
#include "flat_internal.h"

typedef struct coded_ctx {
  const vx_store *s;
  size_t rows;
  const vx_query *q;
  size_t k_eff, depth;
  size_t qstride;  /* bytes of a worker's query code (one more than it needs: F16 needs none) */
  vx_hit *hits;    /* per worker: depth */
  uint8_t *qcodes; /* per worker: qstride */
  float *vecs;     /* per worker: dim floats */
} coded_ctx;

static void offer(const coded_ctx *c, const vx_codec_point *p, vx_topk *cand, size_t slot) {
  const vx_store *s = c->s;
  float d = vx_codec_distance(&s->codec, c->q->metric, p, vx_store_code(s, slot),
                              vx_store_code_lx(s, slot), vx_store_norm(s, slot));
  if (d <= vx_topk_bound(cand)) vx_topk_push(cand, d, (uint32_t)slot, vx_store_id(s, slot));
}

static void coded_task(void *arg, size_t qi, unsigned worker) {
  coded_ctx *c = arg;
  const vx_store *s = c->s;
  const vx_query *q = c->q;
  const vx_kernels *kern = s->codec.kern;
  const float *query = q->queries + qi * s->dim;
  uint8_t *qcode = c->qcodes + (size_t)worker * c->qstride;
  float *vec = c->vecs + (size_t)worker * s->dim;
  vx_codec_point p = {query, qcode, vx_codec_encode_query(&s->codec, query, qcode),
                      kern->dot(query, query, s->dim)};
  vx_topk cand;
  vx_topk_init(&cand, c->hits + (size_t)worker * c->depth, c->depth);
  if (q->listed) {
    for (size_t i = 0; i < q->nslots; i++) offer(c, &p, &cand, q->slots[i]);
  } else {
    for (size_t slot = 0; slot < c->rows; slot++)
      if (vx_flat_admits(s, q->filter, slot)) offer(c, &p, &cand, slot);
  }
  size_t scored = q->listed ? q->nslots : c->rows;
  int from_codes = !s->keeps_rows ||
                   atomic_load_explicit(&((vx_store *)s)->codes_lossless, memory_order_relaxed);
  for (size_t i = 0; i < cand.n; i++) {
    uint32_t slot = cand.heap[i].slot;
    const float *row = from_codes ? vec : vx_store_row(s, slot);
    if (from_codes) vx_codec_decode(&s->codec, vx_store_code(s, slot), vec);
    cand.heap[i].dist = vx_flat_exact_distance(kern, q->metric, query, row, s->dim);
  }
  atomic_fetch_add_explicit(q->distance_count, scored + cand.n, memory_order_relaxed);
  vx_topk_sort(&cand);
  if (cand.n > c->k_eff) cand.n = c->k_eff;
  vx_flat_emit(q, qi, &cand);
}

vexfs_status vx_flat_coded_search(const vx_store *s, size_t rows, const vx_query *q,
                                  size_t k_eff) {
  coded_ctx c = {s, rows, q, k_eff, 0, vx_codec_query_bytes(s->codec.kind, s->dim) + 1, NULL, NULL,
                NULL};
  c.depth = vx_codec_rerank_depth(&s->codec, k_eff);
  if (c.depth < k_eff) c.depth = k_eff; /* k near SIZE_MAX cannot be met anyway */
  unsigned workers = q->threads < q->nq ? q->threads : (unsigned)q->nq;
  size_t hit_bytes = 0, code_bytes = (size_t)workers * c.qstride,
         vec_bytes = (size_t)workers * s->dim * sizeof(float);
  if (!vx_mul_ok((size_t)workers * c.depth, sizeof(vx_hit), &hit_bytes))
    return vx_fail(VEXFS_E_NOMEM, "vexfs_search: k = %zu needs more memory than exists", q->k);
  c.hits = vx_pool_get(hit_bytes);
  c.qcodes = vx_pool_get(code_bytes);
  c.vecs = vx_pool_get(vec_bytes);
  vexfs_status st = VEXFS_OK;
  if (!c.hits || !c.qcodes || !c.vecs)
    st = vx_fail(VEXFS_E_NOMEM, "vexfs_search: out of memory for %zu result slots", c.depth);
  else
    vx_parallel_for(workers, q->nq, coded_task, &c);
  vx_pool_put(c.hits, hit_bytes);
  vx_pool_put(c.qcodes, code_bytes);
  vx_pool_put(c.vecs, vec_bytes);
  return st;
}

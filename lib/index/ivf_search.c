/* IVF search. A task takes a block of queries (one when nq = 1): it scores each against every
 * centroid (on L2: against the centroids' 8-bit codes, a quarter of the bytes), keeps each query's
 * nprobe best lists, then walks the lists the block probes in list order, so that a list probed by
 * several queries of the block is read once while each of them scores its rows (the rows stay in
 * cache between queries).
 *
 * F32 lists hold projections, which bound a row's distance from below: a row is read from the
 * store only when its bound leaves it among the k best. SQ8 codes hold coordinates by decreasing
 * variance, heads apart from tails (ivf_list); on L2 a code distance bounds the distance both ways
 * through the two codes' errors, the scan drops a row after its head or any stage of its tail that
 * puts it out of reach, and finish re-ranks on the stored rows only the candidates (at most
 * vx_ivf_rerank(k), nearest code first) whose lower bound is within the k-th exact distance: with
 * lossless codes about k of them. Distances are the kernels FLAT uses, so that nprobe = nlist
 * answers as FLAT does (F32, and SQ8 on L2 while the candidates within reach fit). A query left
 * with fewer than min(k, live) hits (a filter, or lists still filling) is answered by an exact
 * scan. Scratch comes from the pool: steady searches make no allocator calls. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../alloc_internal.h"
#include "../errors_internal.h"
#include "../payload/planner.h"
#include "../pool/pool.h"
#include "../threadpool.h"
#include "flat_internal.h"
#include "ivf_internal.h"

#define BLOCK 16         /* queries per task when nq > 1 */
#define CHUNK 8          /* rows of a list scored by every query of a block before the next */
#define STAGE 192        /* SQ8, L2: tail bytes summed between two checks against the bound */

typedef struct search_ctx {
  const ivf_index *ix;
  const ivf_struct *st;
  const vx_store *s;
  size_t rows;
  const vx_query *q;
  size_t nprobe, cand, want, block;
  size_t scratch_bytes;
  unsigned char *scratch; /* per worker */
} search_ctx;

typedef struct qstate {
  const float *vec;
  float *pvec; /* vec in perm order (SQ8; F32 while it is coded for the probe), then F32: its
                  projection */
  float qn2, qperp; /* F32: |q|^2, |q - Pq| */
  vx_topk top; /* F32: the k best; SQ8: the `cand` best by code distance, keyed by slot (L2:
                  by candidate_key) */
  vx_topk ub;  /* SQ8, L2: the k smallest upper bounds on distances */
  float ub_root; /* the square root of ub's bound (+inf until it holds k) */
  float lq, inv_norm, eq; /* sum lo*code of the query's code (SQ8), and that code's error (L2) */
  uint64_t scored;
  uint8_t *code;
} qstate;

/* The default nprobe for nlist lists: nlist / 32, at least 8 (README.md "IVF": recall@10 0.99 on
 * Fashion-MNIST at nlist = 245). */
static size_t default_nprobe(size_t nlist) {
  size_t np = (nlist + 31) / 32;
  return np > 8 ? np : 8;
}

static size_t round64(size_t b) { return (b + 63) & ~(size_t)63; }

/* Scratch layout of one worker, in bytes: centroid scores, probe selection and its first pass,
 * (list, query) pairs, per-query states, candidate heaps, upper-bound heaps (SQ8), query codes,
 * and the re-rank heap. */
typedef struct layout {
  size_t scores, probes, near, pairs, states, heaps, ubs, codes, pvecs, final, total;
} layout;

static layout layout_for(const search_ctx *c) {
  layout l;
  size_t nlist = c->st->nlist, b = c->block;
  l.scores = 0;
  l.probes = l.scores + round64(nlist * sizeof(float));
  l.near = l.probes + round64(c->nprobe * sizeof(vx_hit));
  l.pairs = l.near + round64(c->nprobe * sizeof(vx_hit));
  l.states = l.pairs + round64(b * c->nprobe * sizeof(uint64_t));
  l.heaps = l.states + round64(b * sizeof(qstate));
  l.ubs = l.heaps + round64(b * c->cand * sizeof(vx_hit));
  l.codes = l.ubs + round64(b * c->q->k * sizeof(vx_hit));
  l.pvecs = l.codes + round64(c->ix->codes == VEXFS_IVF_CODES_SQ8 || c->st->ccodes ? b * c->ix->dim : 0);
  l.final = l.pvecs + round64(b * c->ix->dim * sizeof(float));
  l.total = l.final + round64(c->q->k * sizeof(vx_hit));
  return l;
}

/* Room for the rounding of a lower bound (its terms are float sums of the size of the norms). */
static inline float slack(const search_ctx *c, const qstate *qs, float bound) {
  float rel = 1e-4f * fabsf(bound);
  return c->ix->metric == VEXFS_METRIC_COSINE ? rel + 1e-5f : rel + 1e-5f * qs->qn2;
}

/* A list's code distance in scores[] as the first pass leaves it: its whole code distance, or,
 * when only the head was summed, -(head) - 1 (below zero), or +inf once it is ranked. */
static inline float head_only(uint32_t head) { return -(float)head - 1.0f; }

/* L2, coded centroids: the nprobe nearest lists into t, exactly. First the nprobe of least code
 * distance (a centroid's tail read only when its head leaves it among them), ranked on the f32
 * centroids; then every other list whose code distance D leaves it possibly nearer than the
 * nprobe-th so far, T: D bounds a centroid's distance both ways through its code's error and
 * the query's, e, so a list with sqrt D - e > sqrt T is not. With close codes that is almost none
 * (0.12-0.16 lists a probe on rotated Fashion-MNIST at nlist 1024, none on the pixels); when a far
 * centroid stretched the quantiser's range, all of them. A wider first pass (1.5 nprobe + 2)
 * only read more tails: 0.79-0.90x the QPS of code ranking alone against 0.92-0.98x. */
static void probe_coded(const search_ctx *c, const qstate *qs, float *scores, vx_hit *near,
                        vx_topk *t) {
  const ivf_struct *st = c->st;
  const vx_kernels *kern = c->ix->kern;
  size_t dim = st->dim, hd = c->ix->centroid_head;
  float s2 = st->sq.scale * st->sq.scale;
  vx_topk by_code;
  vx_topk_init(&by_code, near, c->nprobe);
  for (uint32_t l = 0; l < st->nlist; l++) {
    const uint8_t *cc = st->ccodes + (size_t)l * dim;
    uint32_t head = kern->u8_l2sq(qs->code, cc, hd);
    if ((float)head > vx_topk_bound(&by_code)) {
      scores[l] = head_only(head);
      continue;
    }
    scores[l] = (float)(head + kern->u8_l2sq(qs->code + hd, cc + hd, dim - hd));
    if (scores[l] <= vx_topk_bound(&by_code)) vx_topk_push(&by_code, scores[l], l, l);
  }
  for (size_t i = 0; i < by_code.n; i++) {
    uint32_t l = by_code.heap[i].slot;
    float sc = st->cnorm[l] - 2.0f * kern->dot(qs->vec, st->cent + l * st->cstride, dim);
    vx_topk_push(t, sc, l, l);
    scores[l] = __builtin_inff();
  }
  /* t's scores are |c|^2 - 2 q.c: the distance less |q|^2 */
  float kth = vx_topk_bound(t) + qs->qn2, root = sqrtf(fmaxf(kth + slack(c, qs, kth), 0.0f));
  for (uint32_t l = 0; l < st->nlist; l++) {
    float e = st->cerr[l] + qs->eq, far = (root + e) * (root + e), d = scores[l];
    if (d < 0) { /* the head's sum alone: a lower bound on D */
      if (s2 * (-d - 1.0f) > far) continue;
      const uint8_t *cc = st->ccodes + (size_t)l * dim;
      d = -d - 1.0f + (float)kern->u8_l2sq(qs->code + hd, cc + hd, dim - hd);
    }
    if (s2 * d > far) continue;
    float sc = st->cnorm[l] - 2.0f * kern->dot(qs->vec, st->cent + l * st->cstride, dim);
    if (sc > vx_topk_bound(t)) continue;
    vx_topk_push(t, sc, l, l);
    kth = vx_topk_bound(t) + qs->qn2;
    root = sqrtf(fmaxf(kth + slack(c, qs, kth), 0.0f));
  }
}

/* The nprobe lists nearest to the query qs, appended to pairs as list << 32 | b: through the
 * centroids' codes where the structure has them (L2), else by their f32 products. */
static void probe(const search_ctx *c, const qstate *qs, float *scores, vx_hit *sel, vx_hit *near,
                  size_t b, uint64_t *pairs) {
  const ivf_struct *st = c->st;
  vx_topk t;
  vx_topk_init(&t, sel, c->nprobe);
  if (st->ccodes) {
    probe_coded(c, qs, scores, near, &t);
  } else {
    int l2 = c->ix->metric == VEXFS_METRIC_L2;
    c->ix->kern->dot_many(qs->vec, st->cent, st->cstride, st->nlist, st->dim, scores);
    for (uint32_t l = 0; l < st->nlist; l++) {
      float sc = l2 ? st->cnorm[l] - 2.0f * scores[l] : -scores[l];
      if (sc <= vx_topk_bound(&t)) vx_topk_push(&t, sc, l, l);
    }
  }
  vx_topk_sort(&t); /* nearest first: a single query's bound tightens soonest */
  for (size_t i = 0; i < t.n; i++) pairs[i] = (uint64_t)t.heap[i].slot << 32 | b;
}

static int by_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

/* SQ8: entry i's code distance to qs over its head: for L2 the partial sum over the head
 * coordinates, for IP and COSINE the whole distance the codes estimate. */
static inline float head_distance(const search_ctx *c, const ivf_list *L, size_t i,
                                  const qstate *qs) {
  const ivf_index *ix = c->ix;
  const vx_kernels *kern = ix->kern;
  size_t dim = ix->dim, hd = ix->head_dims;
  const uint8_t *head = ivf_head(ix, L, i), *tail = ivf_tail(ix, L, i);
  const vx_sq8 *sq = &c->st->sq;
  float s2 = sq->scale * sq->scale;
  if (ix->metric == VEXFS_METRIC_L2) return s2 * (float)kern->u8_l2sq(qs->code, head, hd);
  float dot = (float)sq->lo_sq + sq->scale * (L->terms[IVF_TERMS * i] + qs->lq) +
              s2 * (float)(kern->u8_dot(qs->code, head, hd) + kern->u8_dot(qs->code + hd, tail, dim - hd));
  if (ix->metric == VEXFS_METRIC_IP) return 1.0f - dot;
  return 1.0f - dot * L->terms[IVF_TERMS * i + 1] * qs->inv_norm;
}

/* SQ8, L2: the code distance over tail bytes [from, to) of entry i. */
static inline float tail_part(const search_ctx *c, const ivf_list *L, size_t i, const qstate *qs,
                              size_t from, size_t to) {
  const ivf_index *ix = c->ix;
  const vx_sq8 *sq = &c->st->sq;
  const uint8_t *tail = ivf_tail(ix, L, i);
  return sq->scale * sq->scale *
         (float)ix->kern->u8_l2sq(qs->code + ix->head_dims + from, tail + from, to - from);
}

/* F32: a lower bound on entry i's distance to qs, from the projections and what they leave of
 * each norm: |x - q|^2 >= |Px - Pq|^2 + (|x - Px| - |q - Pq|)^2 and x.q <= Px.Pq + |x - Px||q - Pq|
 * (for orthonormal P). */
static inline float lower_bound(const search_ctx *c, const ivf_list *L, size_t i,
                                const qstate *qs) {
  const ivf_index *ix = c->ix;
  const float *head = (const float *)ivf_head(ix, L, i), *terms = L->terms + IVF_TERMS * i;
  if (ix->metric == VEXFS_METRIC_L2) {
    float rest = terms[0] - qs->qperp;
    return ix->kern->l2sq(qs->pvec, head, ix->proj_dims) + rest * rest;
  }
  float dot = ix->kern->dot(qs->pvec, head, ix->proj_dims) + terms[0] * qs->qperp;
  if (ix->metric == VEXFS_METRIC_IP) return 1.0f - dot;
  if (terms[1] == 0 || qs->inv_norm == 0) return 1.0f; /* cosine to a zero vector */
  return 1.0f - dot * terms[1] * qs->inv_norm;
}

static void prefetch_row(const search_ctx *c, uint32_t slot) {
  const char *r = (const char *)vx_store_row(c->s, slot);
  for (size_t off = 0; off < c->ix->dim * sizeof(float); off += 64) __builtin_prefetch(r + off);
}

/* F32: rows [i0, i1) of list L (at most CHUNK) for queries qs[0, nq): bounds first, then the
 * exact distances of the rows the bounds leave in reach, read from the store (prefetched
 * meanwhile). */
static void score_chunk_f32(const search_ctx *c, const ivf_list *L, const size_t *live, size_t nl,
                            qstate *const *qs, size_t nq) {
  for (size_t j = 0; j < nq; j++) {
    qstate *qj = qs[j];
    float bound = vx_topk_bound(&qj->top), reach = bound + slack(c, qj, bound);
    size_t keep[CHUNK], nk = 0;
    for (size_t r = 0; r < nl; r++)
      if (lower_bound(c, L, live[r], qj) <= reach) {
        keep[nk++] = live[r];
        prefetch_row(c, L->slots[live[r]]);
      }
    qj->scored += nl + nk;
    for (size_t t = 0; t < nk; t++) {
      uint32_t slot = L->slots[keep[t]];
      float d = vx_flat_exact_distance(c->ix->kern, c->q->metric, qj->vec,
                                       vx_store_row(c->s, slot), c->ix->dim);
      if (d <= vx_topk_bound(&qj->top)) vx_topk_push(&qj->top, d, slot, vx_store_id(c->s, slot));
    }
  }
}

static void prefetch_tail(const search_ctx *c, const ivf_list *L, size_t i) {
  const char *t = (const char *)ivf_tail(c->ix, L, i);
  for (size_t off = 0; off < c->ix->tail_bytes; off += 64) __builtin_prefetch(t + off);
}

/* SQ8, L2: (root + e)^2 with rounding room, the code distance a row whose codes' errors sum to
 * e may have while its distance is within root^2 (sqrt of the code distance is within e of the
 * true one, by the triangle inequality). */
static inline float code_reach(const search_ctx *c, const qstate *qs, float root, float e) {
  float r = root + e;
  r *= r;
  return r + slack(c, qs, r);
}

/* SQ8, L2: a candidate's heap key beside its code distance: its code's error (the bits of a
 * non-negative float, so ties order by error, then slot) and its slot. Finish needs the error, and
 * cannot look it up: the slot map may be reallocated by a concurrent insert's prepare. */
static inline uint64_t candidate_key(float error, uint32_t slot) {
  uint32_t bits;
  memcpy(&bits, &error, sizeof bits);
  return (uint64_t)bits << 32 | slot;
}
static inline float candidate_error(uint64_t key) {
  uint32_t bits = (uint32_t)(key >> 32);
  float e;
  memcpy(&e, &bits, sizeof e);
  return e;
}

/* SQ8, L2: the reach of a row whose codes' errors sum to e: the code distance past which it is
 * neither among the `cand` nearest by code distance nor, by its lower bound, possibly among the
 * k nearest by distance. */
static inline float row_reach(const search_ctx *c, const qstate *qs, float e) {
  return fminf(vx_topk_bound(&qs->top), code_reach(c, qs, qs->ub_root, e));
}

/* SQ8, L2: rows live[0, nl) of list L for queries qs[0, nq). A row's code distance D bounds its
 * distance both ways through its code's error and the query's, e: (sqrt D - e)^2 <= |x - q|^2
 * <= (sqrt D + e)^2. Each query keeps the k smallest upper bounds (ub) and, as candidates, the
 * `cand` rows of least D among those whose lower bound is within the k-th upper bound. D is summed
 * in parts, the head and then STAGE bytes of the tail at a time, and a row is dropped after any
 * part that puts it out of reach. */
static void score_chunk_sq8_l2(const search_ctx *c, const ivf_list *L, const size_t *live,
                               size_t nl, qstate *const *qs, size_t nq) {
  size_t tb = c->ix->tail_bytes;
  for (size_t j = 0; j < nq; j++) {
    qstate *qj = qs[j];
    float d[CHUNK];
    size_t keep[CHUNK], nk = 0;
    qj->scored += nl;
    for (size_t r = 0; r < nl; r++) {
      size_t i = live[r];
      d[r] = head_distance(c, L, i, qj);
      if (d[r] <= row_reach(c, qj, L->terms[IVF_TERMS * i] + qj->eq)) {
        keep[nk++] = r;
        if (tb) prefetch_tail(c, L, i);
      }
    }
    for (size_t t = 0; t < nk; t++) {
      size_t r = keep[t], i = live[r];
      float e = L->terms[IVF_TERMS * i] + qj->eq, code_d = d[r];
      size_t done = 0;
      while (done < tb) {
        size_t to = tb - done > STAGE ? done + STAGE : tb;
        code_d += tail_part(c, L, i, qj, done, to);
        done = to;
        if (done < tb && code_d > row_reach(c, qj, e)) break;
      }
      if (done < tb) continue;
      float root = sqrtf(code_d), above = (root + e) * (root + e);
      uint32_t slot = L->slots[i]; /* finish reads the ids of the re-ranked only */
      if (above <= vx_topk_bound(&qj->ub)) {
        vx_topk_push(&qj->ub, above, slot, slot);
        qj->ub_root = sqrtf(vx_topk_bound(&qj->ub));
      }
      if (code_d <= row_reach(c, qj, e))
        vx_topk_push(&qj->top, code_d, slot, candidate_key(L->terms[IVF_TERMS * i], slot));
    }
  }
}

/* Rows [i0, i1) of list L (at most CHUNK) scored for queries qs[0, nq): heads first, then the
 * tails of the rows still in reach (L2), prefetched meanwhile. */
static void score_chunk(const search_ctx *c, const ivf_list *L, size_t i0, size_t i1,
                        qstate *const *qs, size_t nq) {
  const vx_filter *filter = c->q->filter;
  size_t live[CHUNK], nl = 0;
  for (size_t i = i0; i < i1; i++)
    if (!filter || filter->admit(filter->ctx, L->slots[i])) live[nl++] = i;
  if (c->ix->codes == VEXFS_IVF_CODES_F32) {
    score_chunk_f32(c, L, live, nl, qs, nq);
    return;
  }
  if (c->ix->metric == VEXFS_METRIC_L2) {
    score_chunk_sq8_l2(c, L, live, nl, qs, nq);
    return;
  }
  for (size_t j = 0; j < nq; j++) { /* IP, COSINE: the code's estimate, whole rows */
    qstate *qj = qs[j];
    qj->scored += nl;
    for (size_t r = 0; r < nl; r++) {
      float dist = head_distance(c, L, live[r], qj);
      uint32_t slot = L->slots[live[r]];
      if (dist <= vx_topk_bound(&qj->top)) vx_topk_push(&qj->top, dist, slot, slot);
    }
  }
}

/* Writes query qi's answer from its state: the candidates re-scored exactly on stored rows. */
static void finish(const search_ctx *c, size_t qi, qstate *qs, vx_hit *final) {
  const vx_query *q = c->q;
  vx_topk *top = &qs->top, exact;
  vx_topk_init(&exact, final, q->k);
  if (c->ix->codes == VEXFS_IVF_CODES_F32) { /* its distances are exact already */
    exact = *top;
    top->n = 0;
  }
  /* SQ8 candidates by code distance, nearest first; on L2 one whose lower bound is past the
   * k-th exact distance so far is skipped (with lossless codes, all after the k-th) */
  int bounded = c->ix->metric == VEXFS_METRIC_L2;
  vx_topk_sort(top);
  size_t reranked = 0;
  for (size_t i = 0; i < top->n; i++) {
    const vx_hit *h = &top->heap[i];
    if (bounded) {
      float root = sqrtf(h->dist), e = candidate_error(h->id) + qs->eq;
      float below = root > e ? (root - e) * (root - e) : 0.0f, kth = vx_topk_bound(&exact);
      if (below > kth + slack(c, qs, kth)) continue;
    }
    float d = vx_flat_exact_distance(c->ix->kern, q->metric, qs->vec, vx_store_row(c->s, h->slot),
                                     c->ix->dim);
    vx_topk_push(&exact, d, h->slot, vx_store_id(c->s, h->slot));
    reranked++;
  }
  uint64_t computed = qs->scored + c->st->nlist + reranked;
  atomic_fetch_add_explicit(q->distance_count, computed, memory_order_relaxed);
  if (exact.n < c->want)
    vx_flat_answer_one(c->s, c->rows, c->q, qi);
  else
    vx_flat_emit(q, qi, &exact);
}

static void block_task(void *arg, size_t task, unsigned worker) {
  search_ctx *c = arg;
  const vx_query *q = c->q;
  const ivf_index *ix = c->ix;
  size_t q0 = task * c->block, nb = q->nq - q0 < c->block ? q->nq - q0 : c->block;
  layout l = layout_for(c);
  unsigned char *base = c->scratch + (size_t)worker * l.total;
  float *scores = (float *)(base + l.scores);
  vx_hit *sel = (vx_hit *)(base + l.probes), *near = (vx_hit *)(base + l.near);
  uint64_t *pairs = (uint64_t *)(base + l.pairs);
  qstate *qs = (qstate *)(base + l.states);
  vx_hit *heaps = (vx_hit *)(base + l.heaps);
  size_t npairs = 0;
  for (size_t b = 0; b < nb; b++) {
    qstate *s = &qs[b];
    s->vec = q->queries + (q0 + b) * ix->dim;
    s->scored = 0;
    vx_topk_init(&s->top, heaps + b * c->cand, c->cand);
    s->pvec = (float *)(base + l.pvecs) + b * ix->dim;
    s->qn2 = ix->kern->dot(s->vec, s->vec, ix->dim);
    if (ix->codes == VEXFS_IVF_CODES_SQ8 || c->st->ccodes) { /* the query's code and its error */
      s->code = base + l.codes + b * ix->dim;
      for (uint32_t d = 0; d < ix->dim; d++) s->pvec[d] = s->vec[c->st->perm[d]];
      s->lq = vx_sq8_encode(&c->st->sq, s->pvec, s->code);
      if (ix->metric == VEXFS_METRIC_L2) s->eq = vx_sq8_error(&c->st->sq, s->pvec, s->code);
    }
    if (ix->codes == VEXFS_IVF_CODES_F32) { /* its projection, in place of the permuted query */
      float pn = 0;
      for (size_t h = 0; h < ix->proj_dims; h++) {
        s->pvec[h] = ix->kern->dot(c->st->proj + h * ix->dim, s->vec, ix->dim);
        pn += s->pvec[h] * s->pvec[h];
      }
      s->qperp = s->qn2 > pn ? sqrtf(s->qn2 - pn) : 0.0f;
    } else if (ix->metric == VEXFS_METRIC_L2) { /* the bounds of score_chunk_sq8_l2 */
      vx_topk_init(&s->ub, (vx_hit *)(base + l.ubs) + b * q->k, q->k);
      s->ub_root = __builtin_inff();
    }
    s->inv_norm = s->qn2 > 0 ? 1.0f / sqrtf(s->qn2) : 0.0f;
    probe(c, s, scores, sel, near, b, pairs + npairs);
    npairs += c->nprobe < c->st->nlist ? c->nprobe : c->st->nlist;
  }
  if (nb > 1) qsort(pairs, npairs, sizeof *pairs, by_u64);
  qstate *group[BLOCK];
  for (size_t p = 0; p < npairs;) {
    uint32_t list = (uint32_t)(pairs[p] >> 32);
    size_t ng = 0;
    for (; p < npairs && (uint32_t)(pairs[p] >> 32) == list; p++) group[ng++] = &qs[(uint32_t)pairs[p]];
    const ivf_list *L = &c->st->lists[list];
    size_t n = atomic_load_explicit(&L->n, memory_order_acquire);
    for (size_t i0 = 0; i0 < n; i0 += CHUNK)
      score_chunk(c, L, i0, n - i0 < CHUNK ? n : i0 + CHUNK, group, ng);
  }
  for (size_t b = 0; b < nb; b++) finish(c, q0 + b, &qs[b], (vx_hit *)(base + l.final));
}

vexfs_status vx_ivf_search(void *state, const vx_store *s, size_t rows, const vx_query *q) {
  const ivf_index *ix = state;
  const ivf_struct *st = atomic_load_explicit(&((ivf_index *)ix)->cur, memory_order_acquire);
  if (!st || q->listed) return vx_flat_search(s, rows, q);
  search_ctx c = {.ix = ix, .st = st, .s = s, .rows = rows, .q = q};
  c.nprobe = q->nprobe ? q->nprobe : default_nprobe(st->nlist);
  if (c.nprobe > st->nlist) c.nprobe = st->nlist;
  size_t live = atomic_load_explicit(&s->live, memory_order_acquire);
  c.want = q->k < live ? q->k : live;
  c.cand = ix->codes == VEXFS_IVF_CODES_SQ8 ? vx_ivf_rerank(q->k) : q->k;
  c.block = q->nq > 1 ? BLOCK : 1;
  size_t ntasks = (q->nq + c.block - 1) / c.block;
  unsigned workers = q->threads < ntasks ? q->threads : (unsigned)ntasks;
  layout l = layout_for(&c);
  size_t bytes;
  if (!vx_mul_ok(l.total, workers, &bytes))
    return vx_fail(VEXFS_E_NOMEM, "vexfs_search: k = %zu needs more memory than exists", q->k);
  c.scratch = vx_pool_get(bytes);
  if (!c.scratch) return vx_fail(VEXFS_E_NOMEM, "vexfs_search: out of memory for IVF scratch");
  vx_parallel_for(workers, ntasks, block_task, &c);
  vx_pool_put(c.scratch, bytes);
  return VEXFS_OK;
}

/* SQ8 candidates a query keeps for the re-rank, at most (README.md "IVF"). */
size_t vx_ivf_rerank(size_t k) { return 4 * k + 32; }

double vx_ivf_filtered_cost(const void *state, const vx_store *s, const vx_query *q, double share,
                            int bitmap) {
  const ivf_index *ix = state;
  const ivf_struct *st = atomic_load_explicit(&ix->cur, memory_order_acquire);
  if (!st) return -1;
  double live = (double)atomic_load_explicit(&s->live, memory_order_relaxed);
  double nlist = st->nlist;
  double nprobe = (double)(q->nprobe ? q->nprobe : default_nprobe(st->nlist));
  double scanned = live * fmin(nprobe, nlist) / nlist;
  double test = bitmap ? 0.0 : VX_PLAN_PREDICATE_COST;
  double cost = nlist * VX_PLAN_EXACT_COST + scanned * (test + share);
  if (share * scanned < (double)q->k) cost += live * (test + share * VX_PLAN_EXACT_COST);
  return cost;
}

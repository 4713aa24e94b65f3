/* Blocked exact search for batches of queries.
 *
 * A task takes up to `mc` queries and packs them into panels of gemm_nr queries (k-major, the
 * layout the micro-kernel streams). It then walks the rows in groups of gemm_mr: each slice of at
 * most KC coordinates of a group stays in L1 while every query panel streams past it,
 * accumulating dot products in a tile. The work is compute-bound, not memory-bound.
 *
 * Distances formed from those dot products (L2 = ‖x‖² + ‖q‖² − 2x·q) round differently from the
 * streaming path's, and the L2 form cancels, so they only choose candidates. Each one, less a
 * proven bound on its error and on the exact kernel's (see "The error bound"), is a lower bound
 * on the row's exact distance. A query keeps the k + max(k, 16) rows of least lower bound,
 * rescores them with the kernels the streaming path uses, and keeps the best k. Every row left
 * out has a lower bound at least the greatest one kept: when that exceeds the k-th exact
 * distance, no row left out can rank among the k, and the answer is the streaming path's, bit for
 * bit. Otherwise (ties at the k-th distance, or data the bound is too loose for) the query is
 * streamed.
 *
 * For L2 a task moves the origin to its queries' mean c, since ‖x − q‖ = ‖(x − c) − (q − c)‖:
 * the terms that cancel become ‖x − c‖² and ‖q − c‖², the size of the distances wherever the
 * data lies, and the bound with them. The queries are packed less c, and each row's ‖x − c‖² is
 * computed once per task by the l2sq kernel. The rows themselves are read in place, so that the
 * micro-kernel overlaps their loads with its arithmetic: then x·(q − c) − c·(q − c) gives the
 * centred product, with a rounding that grows with ‖x‖·‖q − c‖. When c is far from the origin
 * compared with the queries' spread, that term would dominate the bound, and each group's rows
 * are copied less c instead (slower: the copy cannot overlap). */
#include <math.h>
#include <string.h>

#include "flat_internal.h"

#define KC 256             /* coordinates per slice: a group's slice fits L1 */
#define PACK_FLOATS 131072 /* packed queries per task: 512 KiB, half of L2 */
#define MAX_BLOCK 256      /* queries per task, at most */
#define MIN_QUERIES 3      /* below this, streaming each query is faster */
#define MAX_K 1024         /* larger k keeps heaps out of cache: stream instead */
#define MIN_EXTRA 16       /* candidates kept beyond k, at least */
/* Rows are copied less the centre when ‖c‖² exceeds this many times the mean ‖q − c‖². Reading
 * them in place adds w_shift·(‖x‖ + ‖c‖)·‖q − c‖ to the bound, about ‖c‖ / 2‖q − c‖ times its
 * centred part: 4 times at this threshold. */
#define FAR_CENTRE 64

/* Squared norms the bound holds for (see "The error bound"). */
#define MAX_SQNORM 0x1p124f
#define MIN_SQNORM_COSINE 0x1p-60f

/* ---- The error bound ----
 *
 * u = 2^-24 (the unit roundoff of float), γ(m) = m·u / (1 − m·u), n = dim. A sum of n products
 * computed in float, in any order and grouping, with or without FMA (the kernels', or the
 * micro-kernel's over slices), is within γ(n)·Σ|aᵢbᵢ| ≤ γ(n)·‖a‖‖b‖ of the exact sum (Higham,
 * Accuracy and Stability of Numerical Algorithms, §3.1); underflow adds at most 2^-126 per
 * product (2^-150 with subnormals; 2^-126 covers flush-to-zero too).
 *
 * L2, around c, rows copied: x' = fl(x − c), q' = fl(q − c), S = ‖x'‖² + ‖q'‖². A task computes
 * s = fl(‖x'‖² + ‖q'‖²) and d = fl(s − 2·fl(x'·q')). Then
 *   |d − ‖x' − q'‖²|        ≤ 2γ(n+2)·S   (the norms γ(n) each, the dot 2γ(n)‖x'‖‖q'‖ ≤ γ(n)·S)
 *   |‖x' − q'‖² − ‖x − q‖²| ≤ γ(4)·S      (each coordinate of x', q' is off by u relatively)
 *   |l2sq(x, q) − ‖x − q‖²| ≤ γ(n+2)·‖x − q‖² ≤ 2γ(n+4)·S   (differences, squares, a sum)
 * so the exact kernel's distance is at least d − 5γ(n+4)·S; forming d − (w·s + a0) in float
 * costs 2u·S more, and s ≥ (1 − γ(n+1))·S: w = γ(6n+48) covers it all, a0 = (4n+8)·2^-126 the
 * underflow.
 * L2, rows in place: the task computes s = fl(l2sq(x, c) + ‖q'‖²), p = fl(x·q'),
 * κ = fl(c·q') (in double) and d = fl(s − 2·fl(p − κ)). Now p and κ are each off by about
 * γ(n)·‖x‖‖q'‖ and u·‖c‖‖q'‖, which centring does not shrink: with P = (‖x‖ + ‖c‖)·‖q'‖ the
 * kernel's distance is at least d − 3γ(n+12)·S − 2γ(n+4)·P, and w_shift = γ(3n+16) on the
 * computed (‖x‖ + ‖c‖)·‖q'‖ covers the second part.
 * IP (1 − x·q, which a shift would change, so no centre): both dot products are within
 * γ(n)·‖x‖‖q‖ of x·q and 1 − p rounds by u·|1 − p| on each side, so the kernel's distance is at
 * least d − 2γ(n+1)·‖x‖‖q‖ − 2u. The radii are bounded from the computed squared norms plus
 * their possible underflow, rₓ = fl(√(‖x‖²_fl + 2n·2^-126)) ≥ ‖x‖·(1 − γ(n+2)): w = γ(3n+16) on
 * rₓ·r_q, a0 = 4u + (4n+8)·2^-126. (The same radii serve L2 in place.)
 * COSINE: this file's cosine (the dot times reciprocal roots of the squared norms) is within
 * γ(2n+8) + 3u of the true one, the kernel's (in double from float sums) within γ(2n+4) + 3u,
 * while both squared norms lie in [2^-60, 2^124] (underflow is then far below u relatively):
 * one a0 = γ(5n+32) for every row.
 * The bound is used only where nothing overflows: squared norms (of rows, queries, the centre
 * and q − c) at most 2^124, so every partial sum here and in the kernels stays below 2^127, and
 * COSINE ones at least 2^-60, below which its bound is not relative. A row outside gets −∞ (it is
 * always a candidate and, kept, fails the proof); a query outside is streamed. An exactly zero
 * COSINE row is fine: both sides give it distance 1.
 *
 * Every coefficient is then doubled, a margin on the analysis; as γ(2m) at u is γ(m) at 2u, the
 * doubled bound also holds under a directed rounding mode. */
typedef struct error_bound {
  float w;          /* L2: on s; IP: on rₓ·r_q */
  float w_shift;    /* L2, rows in place: on (rₓ + ‖c‖)·‖q'‖ */
  float a0;         /* the constant part */
  float norm_floor; /* added to a squared norm before its root */
} error_bound;

static double gamma_of(double m) { return m * 0x1p-24 / (1.0 - m * 0x1p-24); }

static float rounded_up(double v) {
  float f = (float)v;
  return f < v ? nextafterf(f, INFINITY) : f;
}

static error_bound error_bound_for(vexfs_metric metric, size_t dim) {
  double n = (double)dim, tiny = 0x1p-126, u = 0x1p-24;
  double w = 0, w_shift = 0, a0;
  switch (metric) {
  case VEXFS_METRIC_IP:
    w = gamma_of(3 * n + 16);
    a0 = 4 * u + (4 * n + 8) * tiny;
    break;
  case VEXFS_METRIC_COSINE: a0 = gamma_of(5 * n + 32); break;
  default:
    w = gamma_of(6 * n + 48);
    w_shift = gamma_of(3 * n + 16);
    a0 = (4 * n + 8) * tiny;
    break;
  }
  return (error_bound){rounded_up(2 * w), rounded_up(2 * w_shift), rounded_up(2 * a0),
                       rounded_up(2 * n * tiny)};
}

/* ---- Layout and plan ---- */

static size_t round_up(size_t x, size_t to) { return (x + to - 1) / to * to; }

/* Scratch of one worker, in floats, each part 64-byte aligned: packed queries, the tile of dot
 * products, the block of a group's slice, the centre, three terms per query (see task), and
 * ‖x − c‖² per group row. */
typedef struct layout {
  size_t pack, tile, block, centre, qsq, qshift, qfactor, xsq, total;
} layout;

static layout layout_for(const vx_kernels *kern, size_t dim, size_t mc) {
  size_t mr = kern->gemm_mr;
  layout l;
  l.pack = 0;
  l.tile = l.pack + round_up(mc * dim, 16);
  l.block = l.tile + round_up(mr * mc, 16);
  l.centre = l.block + round_up(mr * (dim < KC ? dim : KC), 16);
  l.qsq = l.centre + round_up(dim, 16);
  l.qshift = l.qsq + round_up(mc, 16);
  l.qfactor = l.qshift + round_up(mc, 16);
  l.xsq = l.qfactor + round_up(mc, 16);
  l.total = l.xsq + round_up(mr, 16);
  return l;
}

int vx_blocked_plan_for(const vx_kernels *kern, size_t dim, const vx_query *q, size_t k_eff,
                        vx_blocked_plan *plan) {
  if (q->nq < MIN_QUERIES || k_eff > MAX_K) return 0;
  size_t nr = kern->gemm_nr;
  size_t mc = PACK_FLOATS / dim / nr * nr;
  if (mc < nr) mc = nr;
  if (mc > MAX_BLOCK) mc = MAX_BLOCK / nr * nr;
  /* enough tasks to keep every thread busy */
  size_t share = round_up((q->nq + q->threads - 1) / q->threads, nr);
  if (share < mc) mc = share;
  plan->queries_per_task = mc;
  plan->scratch_floats = layout_for(kern, dim, mc).total;
  plan->candidates = k_eff + (k_eff > MIN_EXTRA ? k_eff : MIN_EXTRA);
  return 1;
}

/* ---- One task ---- */

typedef struct task {
  const vx_kernels *kern;
  const vx_store *store;
  vexfs_metric metric;
  error_bound bound;
  size_t nb, panels, ldc;
  float *pack, *centre;
  float centre_norm; /* ‖c‖, rounded up */
  int copy_rows;     /* L2 with c far from the origin: rows are copied less c */
  /* per query: L2 ‖q − c‖²; L2 in place c·(q − c); L2 and IP a bound on ‖q − c‖, COSINE 1/‖q‖ */
  float *qsq, *qshift, *qfactor;
  float *tile, *block;
  float *xsq;    /* L2, per group row: ‖x − c‖² */
  vx_topk *tops; /* per query: its candidates, keyed by lower bound */
  float *least;  /* per query: vx_topk_bound of its candidates, cached */
} task;

/* The origin a task computes around: its queries' mean for L2; 0 for IP and COSINE. Any centre
 * keeps the bound valid; a near one keeps it small. */
static void choose_centre(task *t, const float *queries) {
  size_t dim = t->store->dim;
  memset(t->centre, 0, dim * sizeof *t->centre);
  if (t->metric != VEXFS_METRIC_L2) return;
  for (size_t j = 0; j < t->nb; j++)
    for (size_t k = 0; k < dim; k++) t->centre[k] += queries[j * dim + k];
  double sq = 0;
  for (size_t k = 0; k < dim; k++) {
    t->centre[k] /= (float)t->nb;
    sq += (double)t->centre[k] * t->centre[k];
  }
  t->centre_norm = rounded_up(sqrt(sq));
}

/* Sets query qi's terms from its squared norm and its product with the centre (in double); 0 in
 * *vouched when the bound does not hold for it. */
static int set_query_terms(task *t, size_t qi, double sqnorm, double shift) {
  const error_bound *b = &t->bound;
  float n2 = (float)sqnorm;
  t->qsq[qi] = n2;
  t->qshift[qi] = t->copy_rows ? 0.0f : (float)shift;
  t->qfactor[qi] = sqrtf(n2 + b->norm_floor);
  if (t->metric != VEXFS_METRIC_COSINE)
    return n2 <= MAX_SQNORM && t->centre_norm * t->centre_norm <= MAX_SQNORM;
  int vouched = n2 >= MIN_SQNORM_COSINE && n2 <= MAX_SQNORM;
  t->qfactor[qi] = vouched ? 1.0f / sqrtf(n2) : 0.0f;
  return vouched;
}

/* Packs the task's queries, less the centre, into panels (columns past nb are zero), chooses
 * whether to copy the rows, and sets each query's terms and whether it is vouched for. */
static void pack_queries(task *t, const float *queries, unsigned char *vouched) {
  size_t dim = t->store->dim, nr = t->kern->gemm_nr;
  double sqnorm[MAX_BLOCK], shift[MAX_BLOCK], spread = 0;
  for (size_t p = 0; p < t->panels; p++) {
    float *panel = t->pack + p * dim * nr;
    for (size_t j = 0; j < nr; j++) {
      size_t qi = p * nr + j;
      const float *src = qi < t->nb ? queries + qi * dim : NULL;
      double sq = 0, cq = 0;
      for (size_t k = 0; k < dim; k++) {
        float v = src ? src[k] - t->centre[k] : 0.0f;
        panel[k * nr + j] = v;
        sq += (double)v * v;
        cq += (double)t->centre[k] * v;
      }
      if (src) {
        sqnorm[qi] = sq;
        shift[qi] = cq;
        spread += sq;
      }
    }
  }
  double csq = (double)t->centre_norm * t->centre_norm;
  t->copy_rows = t->metric == VEXFS_METRIC_L2 && csq > FAR_CENTRE * (spread / (double)t->nb);
  for (size_t qi = 0; qi < t->nb; qi++)
    vouched[qi] = (unsigned char)set_query_terms(t, qi, sqnorm[qi], shift[qi]);
}

static int is_zero(const float *v, size_t dim) {
  for (size_t k = 0; k < dim; k++)
    if (v[k] != 0.0f) return 0;
  return 1;
}

/* Turns one tile row of dot products (row `slot` against the task's queries) into lower bounds
 * on the exact distances, in place; −∞ for a row the bound does not hold for. One loop per
 * metric, with no branch inside, so the compiler vectorises it. */
static void lower_bounds_in_place(const task *t, float *v, float xsq, size_t slot) {
  const error_bound *b = &t->bound;
  const float *qf = t->qfactor;
  size_t nb = t->nb;
  float nx = vx_store_norm(t->store, slot);
  int vouched = nx <= MAX_SQNORM &&
                (t->metric != VEXFS_METRIC_COSINE || nx >= MIN_SQNORM_COSINE || nx == 0.0f);
  if (vouched && nx == 0.0f && t->metric == VEXFS_METRIC_COSINE)
    vouched = is_zero(vx_store_row(t->store, slot), t->store->dim);
  if (!vouched) {
    for (size_t j = 0; j < nb; j++) v[j] = -INFINITY;
    return;
  }
  switch (t->metric) {
  case VEXFS_METRIC_IP: {
    float xw = b->w * sqrtf(nx + b->norm_floor);
    for (size_t j = 0; j < nb; j++) v[j] = (1.0f - v[j]) - (xw * qf[j] + b->a0);
    break;
  }
  case VEXFS_METRIC_COSINE: {
    float xs = nx > 0.0f ? 1.0f / sqrtf(nx) : 0.0f;
    for (size_t j = 0; j < nb; j++) v[j] = (1.0f - v[j] * (xs * qf[j])) - b->a0;
    break;
  }
  default: {
    const float *qsq = t->qsq, *qshift = t->qshift;
    float xw = t->copy_rows ? 0.0f : b->w_shift * (sqrtf(nx + b->norm_floor) + t->centre_norm);
    for (size_t j = 0; j < nb; j++) {
      float s = qsq[j] + xsq;
      v[j] = (s - 2.0f * (v[j] - qshift[j])) - (b->w * s + (xw * qf[j] + b->a0));
    }
    break;
  }
  }
}

/* Offers the tile's rows to the queries' candidates. Almost every bound loses to its heap's, so
 * the scan is a compare per entry and the pushes are rare. */
static void offer_tile(task *t, size_t first_slot, size_t rows) {
  for (size_t r = 0; r < rows; r++) {
    size_t slot = first_slot + r;
    float *v = t->tile + r * t->ldc;
    uint64_t id = vx_store_id(t->store, slot);
    if (id == VX_NO_ID) continue; /* a free row */
    lower_bounds_in_place(t, v, t->xsq[r], slot);
    for (size_t j = 0; j < t->nb; j++) {
      if (v[j] <= t->least[j]) {
        vx_topk_push(&t->tops[j], v[j], (uint32_t)slot, id);
        t->least[j] = vx_topk_bound(&t->tops[j]);
      }
    }
  }
}

/* dst = src − centre over kc floats; returns Σ dst². Four partial sums, so that the compiler
 * vectorises the loop (one running sum would keep it scalar). */
static float centred_copy(const float *src, const float *centre, size_t kc, float *dst) {
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t k = 0;
  for (; k + 4 <= kc; k += 4) {
    float v0 = src[k] - centre[k], v1 = src[k + 1] - centre[k + 1];
    float v2 = src[k + 2] - centre[k + 2], v3 = src[k + 3] - centre[k + 3];
    dst[k] = v0, dst[k + 1] = v1, dst[k + 2] = v2, dst[k + 3] = v3;
    s0 += v0 * v0, s1 += v1 * v1, s2 += v2 * v2, s3 += v3 * v3;
  }
  for (; k < kc; k++) {
    float v = src[k] - centre[k];
    dst[k] = v;
    s0 += v * v;
  }
  return (s0 + s1) + (s2 + s3);
}

/* Coordinates [k0, k0 + kc) of a group's `here` rows as the micro-kernel reads them (*lda floats
 * apart): in place, or copied into the block (kc floats a row), less the centre and adding each
 * row's share of ‖x − c‖² to xsq when copy_rows, with zero rows up to gemm_mr (a partial last
 * group). */
static const float *group_slice(task *t, const float *rows, size_t stride, size_t here,
                                size_t k0, size_t kc, size_t *lda) {
  size_t mr = t->kern->gemm_mr;
  if (!t->copy_rows && here == mr) {
    *lda = stride;
    return rows + k0;
  }
  for (size_t r = 0; r < mr; r++) {
    float *dst = t->block + r * kc;
    const float *src = rows + r * stride + k0;
    if (r >= here)
      memset(dst, 0, kc * sizeof *dst);
    else if (t->copy_rows)
      t->xsq[r] += centred_copy(src, t->centre + k0, kc, dst);
    else
      memcpy(dst, src, kc * sizeof *dst);
  }
  *lda = kc;
  return t->block;
}

/* Asks for rows [0, n) (dim floats each) to be fetched into L2. A copied group waits on its
 * loads (in place, the micro-kernel overlaps them with its arithmetic), so the next group is
 * fetched while this one is multiplied. */
static void prefetch_rows(const float *rows, size_t stride, size_t n, size_t dim) {
  for (size_t r = 0; r < n; r++)
    for (size_t k = 0; k < dim; k += 16) __builtin_prefetch(rows + r * stride + k, 0, 2);
}

static void blocked_run(void *arg, size_t first, const float *rows, size_t n) {
  task *t = arg;
  const vx_kernels *kern = t->kern;
  size_t mr = kern->gemm_mr, nr = kern->gemm_nr;
  size_t dim = t->store->dim, stride = t->store->stride;
  size_t slices = (dim + KC - 1) / KC, kc_step = (dim + slices - 1) / slices;
  for (size_t r0 = 0; r0 < n; r0 += mr) {
    size_t here = n - r0 < mr ? n - r0 : mr;
    if (t->copy_rows && r0 + mr < n) {
      size_t next = n - r0 - mr < mr ? n - r0 - mr : mr;
      prefetch_rows(rows + (r0 + mr) * stride, stride, next, dim);
    }
    memset(t->xsq, 0, mr * sizeof *t->xsq);
    for (size_t k0 = 0; k0 < dim; k0 += kc_step) {
      size_t kc = dim - k0 < kc_step ? dim - k0 : kc_step;
      size_t lda;
      const float *a = group_slice(t, rows + r0 * stride, stride, here, k0, kc, &lda);
      for (size_t p = 0; p < t->panels; p++)
        kern->gemm_tile(kc, a, lda, t->pack + p * dim * nr + k0 * nr, t->tile + p * nr, t->ldc,
                        k0 > 0);
    }
    /* rows in place: their ‖x − c‖² now, while the micro-kernel left them in cache */
    if (t->metric == VEXFS_METRIC_L2 && !t->copy_rows)
      kern->l2sq_many(t->centre, rows + r0 * stride, stride, here, dim, t->xsq);
    offer_tile(t, first + r0, here);
  }
}

/* Answers query qi from its candidates: rescored exactly, the best k_eff are the answer when the
 * proof holds (see the top of this file); else the query is streamed. Returns the distances the
 * streaming computed (the rescoring is not counted: the scan already counted every row). */
static uint64_t answer_query(const task *t, const vx_query *q, size_t qi, size_t rows,
                             size_t k_eff, vx_topk *cand, int vouched) {
  int none_left_out = cand->n < cand->k; /* the heap never filled */
  float least_left_out = vx_topk_bound(cand);
  uint64_t streamed = 0;
  vx_flat_rescore(t->store, q, qi, cand);
  int proven = vouched;
  for (size_t i = 0; i < cand->n; i++) /* streaming never keeps a NaN distance */
    proven = proven && !isnan(cand->heap[i].dist);
  vx_topk_sort(cand);
  if (cand->n > k_eff) cand->n = k_eff;
  if (!none_left_out) proven = proven && least_left_out > cand->heap[k_eff - 1].dist;
  if (!proven) {
    vx_topk_init(cand, cand->heap, k_eff);
    streamed = vx_flat_stream(t->kern, t->store, rows, q, qi, cand);
  }
  vx_flat_emit(q, qi, cand);
  return streamed;
}

uint64_t vx_blocked_task(const vx_kernels *kern, const vx_store *store, size_t rows,
                         const vx_query *q, size_t q0, size_t nb, size_t k_eff,
                         const vx_blocked_plan *plan, float *scratch, vx_hit *hits) {
  size_t dim = store->dim, nr = kern->gemm_nr;
  size_t panels = (nb + nr - 1) / nr;
  layout l = layout_for(kern, dim, panels * nr);
  vx_topk tops[MAX_BLOCK];
  float least[MAX_BLOCK];
  unsigned char vouched[MAX_BLOCK];
  task t = {.kern = kern, .store = store, .metric = q->metric,
            .bound = error_bound_for(q->metric, dim), .nb = nb, .panels = panels,
            .ldc = panels * nr, .pack = scratch + l.pack, .centre = scratch + l.centre,
            .qsq = scratch + l.qsq, .qshift = scratch + l.qshift, .qfactor = scratch + l.qfactor,
            .tile = scratch + l.tile, .block = scratch + l.block, .xsq = scratch + l.xsq,
            .tops = tops, .least = least};
  const float *queries = q->queries + q0 * dim;
  choose_centre(&t, queries);
  pack_queries(&t, queries, vouched);
  for (size_t j = 0; j < nb; j++) {
    vx_topk_init(&tops[j], hits + j * plan->candidates, plan->candidates);
    least[j] = INFINITY;
  }
  vx_store_each_run(store, rows, blocked_run, &t);
  uint64_t computed = (uint64_t)nb * rows;
  for (size_t j = 0; j < nb; j++)
    computed += answer_query(&t, q, q0 + j, rows, k_eff, &tops[j], vouched[j]);
  return computed;
}

/* IVF training: k-means++ seeding and Lloyd iterations on a seeded sample of the live rows, then
 * every live row assigned to its list. Assignment (training, building, inserting) goes through
 * the gemm_tile micro-kernel: blocks of gemm_mr rows against panels of gemm_nr centroids.
 *
 * Training is deterministic: the sample is drawn from the live rows in id order by a splitmix64
 * stream of the seed, every sum runs in a fixed order, and no result depends on the
 * thread count. A log replay that repeats the same inserts therefore trains the same lists. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../alloc_internal.h"
#include "ivf_internal.h"

/* k-means++ seeding runs on at most this many sampled rows per list: its cost is nlist passes
 * over them, so it stays in cache and a small share of the training. */
#define SEED_PER_LIST 8u
#define KC 256 /* coordinates per gemm_tile call */
#define PCA_ROWS 2048u /* sample rows the principal axes are fitted to, at most */
#define PCA_ROUNDS 4u  /* subspace iterations */
#define SPLIT_EPS (1.0f / 1024) /* an empty cluster takes half of the largest, nudged apart */

static uint64_t next_random(uint64_t *state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static double uniform(uint64_t *state) { return (double)(next_random(state) >> 11) * 0x1p-53; }

static void pack_panels(size_t nr, const float *src, size_t col_stride, size_t elem_stride,
                        size_t ncols, size_t len, float *panels);

int vx_ivf_pack(const ivf_index *ix, ivf_struct *st) {
  pack_panels(ix->kern->gemm_nr, st->cent, st->cstride, 1, st->nlist, ix->dim, st->panels);
  for (uint32_t c = 0; c < st->nlist; c++)
    st->cnorm[c] = ix->kern->dot(st->cent + c * st->cstride, st->cent + c * st->cstride, ix->dim);
  return 0;
}

/* F32 on L2: st->sq fitted to the centroids' range, outlying centroids apart (sq8.h), widened, in
 * perm order (its lo and st->tmp's floats hold the range meanwhile). 0 or -1. */
static int fit_to_centroids(const ivf_index *ix, ivf_struct *st) {
  uint32_t dim = ix->dim;
  float *range = vx_alloc(2 * (size_t)dim * sizeof *range);
  const float **cents = vx_alloc(st->nlist * sizeof *cents);
  int ok = range && cents;
  for (uint32_t d = 0; ok && d < dim; d++) {
    range[d] = INFINITY;
    range[dim + d] = -INFINITY;
  }
  for (uint32_t l = 0; ok && l < st->nlist; l++) cents[l] = st->cent + l * st->cstride;
  ok = ok && vx_sq8_extend_range_robust(dim, cents, st->nlist, range, range + dim) == 0;
  if (ok) {
    for (uint32_t d = 0; d < dim; d++) {
      st->sq.lo[d] = range[st->perm[d]];
      st->tmp[d] = range[dim + st->perm[d]];
    }
    vx_sq8_fit_widened(&st->sq, st->sq.lo, st->tmp);
  }
  vx_release(range);
  vx_release(cents);
  return ok ? 0 : -1;
}

int vx_ivf_code_centroids(const ivf_index *ix, ivf_struct *st) {
  if (!st->ccodes) return 0;
  if (ix->codes == VEXFS_IVF_CODES_F32 && fit_to_centroids(ix, st) != 0) return -1;
  for (uint32_t l = 0; l < st->nlist; l++) {
    const float *c = st->cent + l * st->cstride;
    uint8_t *code = st->ccodes + (size_t)l * ix->dim;
    for (uint32_t d = 0; d < ix->dim; d++) st->tmp[d] = c[st->perm[d]];
    vx_sq8_encode(&st->sq, st->tmp, code);
    st->cerr[l] = vx_sq8_error(&st->sq, st->tmp, code);
  }
  return 0;
}

/* Packs ncols columns of len floats (element k of column c at src[c * col_stride + k *
 * elem_stride]) into gemm_tile panels of nr columns, zero past ncols. */
static void pack_panels(size_t nr, const float *src, size_t col_stride, size_t elem_stride,
                        size_t ncols, size_t len, float *panels) {
  size_t np = (ncols + nr - 1) / nr;
  for (size_t p = 0; p < np; p++)
    for (size_t j = 0; j < nr; j++) {
      size_t c = p * nr + j;
      for (size_t k = 0; k < len; k++)
        panels[p * len * nr + k * nr + j] =
            c < ncols ? src[c * col_stride + k * elem_stride] : 0.0f;
    }
}

/* Dot products of n rows of dim floats with ncols packed columns of as many, gemm_mr rows at a
 * time: fn receives each group's first row, its size and its tile (row r's products at tile + r *
 * ldc). 0, or -1 when out of memory (fn not called). */
typedef void (*tile_fn)(void *ctx, size_t r0, size_t here, const float *tile, size_t ldc);
static int blocked_products(const vx_kernels *kern, const float *panels, size_t ncols,
                            const float *const *rows, size_t n, size_t dim, tile_fn fn, void *ctx) {
  size_t mr = kern->gemm_mr, nr = kern->gemm_nr;
  size_t np = (ncols + nr - 1) / nr, ldc = np * nr;
  float *a = vx_alloc_aligned(mr * dim * sizeof(float), VX_CACHE_LINE);
  float *tile = vx_alloc_aligned(mr * ldc * sizeof(float), VX_CACHE_LINE);
  if (!a || !tile) {
    vx_release(a);
    vx_release(tile);
    return -1;
  }
  for (size_t r0 = 0; r0 < n; r0 += mr) {
    size_t here = n - r0 < mr ? n - r0 : mr;
    for (size_t r = 0; r < mr; r++) {
      if (r < here)
        memcpy(a + r * dim, rows[r0 + r], dim * sizeof(float));
      else
        memset(a + r * dim, 0, dim * sizeof(float));
    }
    for (size_t k0 = 0; k0 < dim; k0 += KC) { /* a slice of a panel stays in L1 */
      size_t kc = dim - k0 < KC ? dim - k0 : KC;
      for (size_t p = 0; p < np; p++)
        kern->gemm_tile(kc, a + k0, dim, panels + p * dim * nr + k0 * nr, tile + p * nr, ldc,
                        k0 > 0);
    }
    fn(ctx, r0, here, tile, ldc);
  }
  vx_release(a);
  vx_release(tile);
  return 0;
}

typedef struct nearest_ctx {
  const ivf_struct *st;
  uint32_t *out;
  int by_l2;
} nearest_ctx;

static void nearest_of_tile(void *arg, size_t r0, size_t here, const float *tile, size_t ldc) {
  const nearest_ctx *c = arg;
  for (size_t r = 0; r < here; r++) {
    const float *t = tile + r * ldc;
    uint32_t best = 0;
    float best_score = INFINITY;
    for (uint32_t l = 0; l < c->st->nlist; l++) {
      float score = c->by_l2 ? c->st->cnorm[l] - 2.0f * t[l] : -t[l];
      if (score < best_score) {
        best_score = score;
        best = l;
      }
    }
    c->out[r0 + r] = best;
  }
}

/* by_l2: nearest centroid; else largest dot product. */
static int assign_with(const ivf_index *ix, const ivf_struct *st, const float *const *rows,
                       size_t n, uint32_t *out, int by_l2) {
  nearest_ctx c = {st, out, by_l2};
  return blocked_products(ix->kern, st->panels, st->nlist, rows, n, ix->dim, nearest_of_tile, &c);
}

int vx_ivf_assign(const ivf_index *ix, const ivf_struct *st, const float *const *rows, size_t n,
                  uint32_t *out) {
  return assign_with(ix, st, rows, n, out, ix->metric == VEXFS_METRIC_L2);
}

static void normalise(float *v, size_t dim, const vx_kernels *kern) {
  float n2 = kern->dot(v, v, dim);
  if (!(n2 > 0)) return;
  float inv = 1.0f / sqrtf(n2);
  for (size_t k = 0; k < dim; k++) v[k] *= inv;
}

/* k-means++: each next centroid drawn with probability proportional to its squared distance
 * from the nearest chosen one, over the first m sampled rows. */
static int seed_centroids(const ivf_index *ix, ivf_struct *st, const float *x, size_t m,
                          uint64_t *rng) {
  size_t dim = ix->dim;
  float *d = vx_alloc(m * sizeof *d), *t = vx_alloc(m * sizeof *t);
  if (!d || !t) {
    vx_release(d);
    vx_release(t);
    return -1;
  }
  size_t first = next_random(rng) % m;
  memcpy(st->cent, x + first * dim, dim * sizeof(float));
  ix->kern->l2sq_many(st->cent, x, dim, m, dim, d);
  for (uint32_t c = 1; c < st->nlist; c++) {
    double total = 0;
    for (size_t i = 0; i < m; i++) total += d[i];
    size_t pick = next_random(rng) % m;
    if (total > 0) {
      double r = uniform(rng) * total, acc = 0;
      for (pick = 0; pick + 1 < m; pick++)
        if ((acc += d[pick]) > r) break;
    }
    float *cent = st->cent + c * st->cstride;
    memcpy(cent, x + pick * dim, dim * sizeof(float));
    ix->kern->l2sq_many(cent, x, dim, m, dim, t);
    for (size_t i = 0; i < m; i++) d[i] = t[i] < d[i] ? t[i] : d[i];
  }
  vx_release(d);
  vx_release(t);
  return 0;
}

/* Lloyd's iterations over the sample rows x: the first IVF_COARSE_ITERATIONS over its first
 * all / IVF_COARSE_SHARE rows (a random subsample, if that is SEED_PER_LIST rows per list), the
 * rest over all of them. Assignment (every row against every centroid) costs nearly all of a
 * training, and the early iterations only move centroids roughly into place: on Fashion-MNIST at
 * nlist 1024, train + build took 30% less time (7.7 -> 5.3 s) and recall at nprobe 8 / 16 rose
 * (0.9567 -> 0.9604, 0.9906 -> 0.9919, SQ8). */
static int lloyd(const ivf_index *ix, ivf_struct *st, const float *x, size_t all, uint64_t *rng) {
  size_t dim = ix->dim, nlist = st->nlist;
  const float **rows = vx_alloc(all * sizeof *rows);
  uint32_t *label = vx_alloc(all * sizeof *label);
  double *sum = vx_alloc(nlist * dim * sizeof *sum);
  size_t *count = vx_alloc(nlist * sizeof *count);
  int ok = rows && label && sum && count;
  for (size_t i = 0; ok && i < all; i++) rows[i] = x + i * dim;
  int by_l2 = ix->metric != VEXFS_METRIC_COSINE;
  size_t coarse = all / IVF_COARSE_SHARE;
  if (coarse < (size_t)nlist * SEED_PER_LIST) coarse = all;
  for (unsigned it = 0; ok && it < IVF_ITERATIONS; it++) {
    size_t n = it < IVF_COARSE_ITERATIONS ? coarse : all;
    vx_ivf_pack(ix, st);
    if (assign_with(ix, st, rows, n, label, by_l2) != 0) {
      ok = 0;
      break;
    }
    memset(sum, 0, nlist * dim * sizeof *sum);
    memset(count, 0, nlist * sizeof *count);
    for (size_t i = 0; i < n; i++) {
      double *s = sum + (size_t)label[i] * dim;
      const float *r = rows[i];
      for (size_t k = 0; k < dim; k++) s[k] += r[k];
      count[label[i]]++;
    }
    for (size_t c = 0; c < nlist; c++) {
      if (!count[c]) continue;
      float *cent = st->cent + c * st->cstride;
      for (size_t k = 0; k < dim; k++) cent[k] = (float)(sum[c * dim + k] / (double)count[c]);
    }
    /* empty clusters: split a large one (drawn with probability by size, as faiss does) */
    for (size_t c = 0; c < nlist; c++) {
      if (count[c]) continue;
      size_t big = 0;
      for (;;) {
        big = next_random(rng) % nlist;
        if ((double)(count[big] - 1) * (double)(nlist - 1) >= uniform(rng) * (double)(n - nlist))
          if (count[big] > 1) break;
      }
      float *dst = st->cent + c * st->cstride, *src = st->cent + big * st->cstride;
      for (size_t k = 0; k < dim; k++) {
        dst[k] = src[k] * (k % 2 ? 1 + SPLIT_EPS : 1 - SPLIT_EPS);
        src[k] = src[k] * (k % 2 ? 1 - SPLIT_EPS : 1 + SPLIT_EPS);
      }
      count[c] = count[big] / 2;
      count[big] -= count[c];
    }
    if (ix->metric == VEXFS_METRIC_COSINE)
      for (size_t c = 0; c < nlist; c++) normalise(st->cent + c * st->cstride, dim, ix->kern);
  }
  vx_release(rows);
  vx_release(label);
  vx_release(sum);
  vx_release(count);
  return ok ? 0 : -1;
}

/* Copies a seeded sample of m of the n slots' rows into x (normalised for COSINE). */
static void draw_sample(const ivf_index *ix, const vx_store *s, uint32_t *slots, size_t n,
                        size_t m, float *x, uint64_t *rng) {
  for (size_t i = 0; i < m; i++) { /* partial Fisher-Yates: slots[0, m) become the sample */
    size_t j = i + next_random(rng) % (n - i);
    uint32_t t = slots[i];
    slots[i] = slots[j];
    slots[j] = t;
  }
  for (size_t i = 0; i < m; i++) {
    memcpy(x + i * ix->dim, vx_store_row(s, slots[i]), ix->dim * sizeof(float));
    if (ix->metric == VEXFS_METRIC_COSINE) normalise(x + i * ix->dim, ix->dim, ix->kern);
  }
}

typedef struct dim_spread {
  double var;
  uint32_t d;
} dim_spread;

static int by_spread(const void *a, const void *b) { /* decreasing variance, then coordinate */
  const dim_spread *x = a, *y = b;
  if (x->var != y->var) return x->var < y->var ? 1 : -1;
  return (x->d > y->d) - (x->d < y->d);
}

/* perm: the coordinates by decreasing variance over the m sample rows x. */
static int order_coordinates(const ivf_index *ix, ivf_struct *st, const float *x, size_t m) {
  size_t dim = ix->dim;
  dim_spread *sp = vx_alloc(dim * sizeof *sp);
  double *mean = vx_calloc(dim, sizeof *mean);
  if (!sp || !mean) {
    vx_release(sp);
    vx_release(mean);
    return -1;
  }
  for (size_t i = 0; i < m; i++)
    for (size_t d = 0; d < dim; d++) mean[d] += x[i * dim + d];
  for (size_t d = 0; d < dim; d++) {
    mean[d] /= (double)m;
    sp[d] = (dim_spread){0, (uint32_t)d};
  }
  for (size_t i = 0; i < m; i++)
    for (size_t d = 0; d < dim; d++) {
      double v = x[i * dim + d] - mean[d];
      sp[d].var += v * v;
    }
  qsort(sp, dim, sizeof *sp, by_spread);
  for (size_t d = 0; d < dim; d++) st->perm[d] = sp[d].d;
  vx_release(sp);
  vx_release(mean);
  return 0;
}

/* Makes row h of v (h rows of dim floats before it orthonormal) orthogonal to them and of unit
 * length by modified Gram-Schmidt, repeated while a pass takes more than nine tenths of the row's
 * length (then rounding could leave it short of orthogonal: "twice is enough"). A row with no
 * more than rounding left of its length becomes a fresh random one. In float through the kernels:
 * the axes are stored as floats, and the scan's slack covers the 1e-6 of orthogonality this
 * leaves (measured: |V V^T - I| 1.6e-6 for 256 x 768, in double 4e-8). */
static void orthonormalise(float *v, size_t h, size_t dim, const vx_kernels *kern,
                           uint64_t *rng) {
  float *r = v + h * dim;
  double start = kern->dot(r, r, dim), n2 = start;
  for (int pass = 0; pass < 16; pass++) {
    double before = n2;
    for (size_t j = 0; j < h; j++) {
      const float *o = v + j * dim;
      float d = kern->dot(r, o, dim);
      for (size_t k = 0; k < dim; k++) r[k] -= d * o[k];
    }
    n2 = kern->dot(r, r, dim);
    if (n2 > 0.01 * before) break;
    if (!(n2 > 1e-10 * start)) {
      for (size_t k = 0; k < dim; k++) r[k] = (float)(uniform(rng) - 0.5);
      start = n2 = kern->dot(r, r, dim);
    }
  }
  float inv = n2 > 0 ? (float)(1.0 / sqrt(n2)) : 0.0f;
  for (size_t k = 0; k < dim; k++) r[k] *= inv;
}

/* Stores a tile of products as rows of a row-major matrix of `cols` floats. */
typedef struct rows_ctx {
  float *m;
  size_t cols;
} rows_ctx;

static void rows_of_tile(void *arg, size_t r0, size_t here, const float *tile, size_t ldc) {
  const rows_ctx *c = arg;
  for (size_t r = 0; r < here; r++)
    memcpy(c->m + (r0 + r) * c->cols, tile + r * ldc, c->cols * sizeof(float));
}

/* F32: the projection, proj_dims orthonormal directions spanning the sample's largest variance,
 * found by subspace iteration: PCA_ROUNDS products of v with the centred sample's A^T A, each
 * followed by Gram-Schmidt. While dim is small beside the sample, A^T A is formed once (dim^2 m
 * multiply-adds) and each round costs proj_dims dim^2; past that, each round goes through the
 * sample, (v A^T) A at twice proj_dims dim m (at m = 2048: up to dim 1365; at dim = 768, 1.8
 * instead of 3.2 G in all). The scan's bounds hold for any orthonormal directions; these make
 * them tight. */
static int principal_axes(const ivf_index *ix, ivf_struct *st, const float *x, size_t m,
                          uint64_t *rng) {
  const vx_kernels *kern = ix->kern;
  size_t dim = ix->dim, hp = ix->proj_dims, nr = kern->gemm_nr;
  if (m > PCA_ROWS) m = PCA_ROWS;
  int by_cov = dim * (m + PCA_ROUNDS * hp) <= 2 * PCA_ROUNDS * hp * m;
  size_t dim_up = (dim + nr - 1) / nr * nr, m_up = (m + nr - 1) / nr * nr;
  double *mean = vx_calloc(dim, sizeof *mean);
  float *v = vx_alloc(hp * dim * sizeof *v), *xct = vx_alloc(dim * m * sizeof *xct);
  float *cov_or_y = vx_alloc((by_cov ? dim * dim : hp * m) * sizeof(float));
  const float **rows = vx_alloc((dim > 2 * hp ? dim : 2 * hp) * sizeof *rows);
  float *by_coord = vx_alloc_aligned(dim_up * m * sizeof(float), VX_CACHE_LINE);
  float *other = vx_alloc_aligned((by_cov ? dim_up : m_up) * dim * sizeof(float), VX_CACHE_LINE);
  int ok = v && mean && xct && cov_or_y && rows && by_coord && other;
  if (ok) {
    for (size_t i = 0; i < m; i++)
      for (size_t k = 0; k < dim; k++) mean[k] += x[i * dim + k];
    for (size_t k = 0; k < dim; k++) mean[k] /= (double)m;
    for (size_t i = 0; i < m; i++) /* A transposed: row k is coordinate k's */
      for (size_t k = 0; k < dim; k++) xct[k * m + i] = (float)(x[i * dim + k] - mean[k]);
    pack_panels(nr, xct, m, 1, dim, m, by_coord); /* A's columns, m long */
    if (by_cov) {
      for (size_t k = 0; k < dim; k++) rows[k] = xct + k * m;
      rows_ctx to_cov = {cov_or_y, dim};
      ok = blocked_products(kern, by_coord, dim, rows, dim, m, rows_of_tile, &to_cov) == 0;
      pack_panels(nr, cov_or_y, 1, dim, dim, dim, other); /* A^T A's columns, dim long */
    } else {
      pack_panels(nr, xct, 1, m, m, dim, other); /* A's rows, dim long */
    }
  }
  if (ok) {
    const float **y_rows = rows + hp; /* rows of v A^T, m long */
    for (size_t h = 0; h < hp; h++) {
      rows[h] = v + h * dim;
      y_rows[h] = cov_or_y + h * m;
    }
    for (size_t i = 0; i < hp * dim; i++) v[i] = (float)(uniform(rng) - 0.5);
    rows_ctx to_v = {v, dim}, to_y = {cov_or_y, m}; /* in place: a group's rows are copied first */
    for (unsigned round = 0; ok && round < PCA_ROUNDS; round++) {
      if (by_cov) {
        ok = blocked_products(kern, other, dim, rows, hp, dim, rows_of_tile, &to_v) == 0;
      } else {
        ok = blocked_products(kern, other, m, rows, hp, dim, rows_of_tile, &to_y) == 0 &&
             blocked_products(kern, by_coord, dim, y_rows, hp, m, rows_of_tile, &to_v) == 0;
      }
      for (size_t h = 0; ok && h < hp; h++) orthonormalise(v, h, dim, kern, rng);
    }
    if (ok) memcpy(st->proj, v, hp * dim * sizeof *v);
  }
  vx_release(v);
  vx_release(mean);
  vx_release(xct);
  vx_release(cov_or_y);
  vx_release(rows);
  vx_release(by_coord);
  vx_release(other);
  return ok ? 0 : -1;
}

typedef struct append_ctx {
  const ivf_index *ix;
  ivf_struct *st;
  const vx_store *s;
  const uint32_t *slots, *label;
} append_ctx;

static void append_tile(void *arg, size_t r0, size_t here, const float *tile, size_t ldc) {
  const append_ctx *c = arg;
  for (size_t r = 0; r < here; r++)
    vx_ivf_append(c->ix, c->st, c->s, c->label[r0 + r], c->slots[r0 + r], tile + r * ldc);
}

static int fill_lists(const ivf_index *ix, ivf_struct *st, const vx_store *s, const uint32_t *slots,
                      size_t n) {
  const float **rows = vx_alloc(n * sizeof *rows);
  uint32_t *label = vx_alloc(n * sizeof *label);
  uint32_t *count = vx_calloc(st->nlist, sizeof *count);
  size_t top = atomic_load_explicit(&s->rows, memory_order_relaxed);
  int ok = rows && label && count && vx_ivf_where_reserve(st, top) == 0;
  for (size_t i = 0; ok && i < n; i++) rows[i] = vx_store_row(s, slots[i]);
  ok = ok && vx_ivf_assign(ix, st, rows, n, label) == 0;
  if (ok && ix->codes == VEXFS_IVF_CODES_SQ8) {
    float *lo = vx_alloc(ix->dim * sizeof *lo), *hi = vx_alloc(ix->dim * sizeof *hi);
    ok = lo && hi;
    if (ok) {
      for (uint32_t d = 0; d < ix->dim; d++) {
        lo[d] = INFINITY;
        hi[d] = -INFINITY;
      }
      /* on L2 the bounds keep answers exact when outliers are coded clamped; for IP and COSINE
       * the codes' estimate must reach the far rows (large norms: the largest products) */
      if (ix->metric == VEXFS_METRIC_L2)
        ok = vx_sq8_extend_range_robust(ix->dim, rows, n, lo, hi) == 0;
      else
        vx_sq8_extend_range(ix->dim, rows, n, lo, hi);
    }
    if (ok) {
      for (uint32_t d = 0; d < ix->dim; d++) st->tmp[d] = lo[st->perm[d]]; /* perm order */
      memcpy(lo, st->tmp, ix->dim * sizeof *lo);
      for (uint32_t d = 0; d < ix->dim; d++) st->tmp[d] = hi[st->perm[d]];
      vx_sq8_fit(&st->sq, lo, st->tmp);
    }
    vx_release(lo);
    vx_release(hi);
  }
  for (size_t i = 0; ok && i < n; i++) count[label[i]]++;
  for (uint32_t l = 0; ok && l < st->nlist; l++)
    ok = vx_ivf_list_reserve(ix, st, l, count[l]) == 0;
  if (ok && ix->proj_dims) { /* F32: the projections by blocks too */
    size_t nr = ix->kern->gemm_nr, np = (ix->proj_dims + nr - 1) / nr;
    float *panels = vx_alloc_aligned(np * nr * ix->dim * sizeof(float), VX_CACHE_LINE);
    append_ctx c = {ix, st, s, slots, label};
    ok = panels != NULL;
    if (ok) pack_panels(nr, st->proj, ix->dim, 1, ix->proj_dims, ix->dim, panels);
    ok = ok && blocked_products(ix->kern, panels, ix->proj_dims, rows, n, ix->dim, append_tile,
                                &c) == 0;
    vx_release(panels);
  } else {
    for (size_t i = 0; ok && i < n; i++) vx_ivf_append(ix, st, s, label[i], slots[i], NULL);
  }
  vx_release(rows);
  vx_release(label);
  vx_release(count);
  return ok ? 0 : -1;
}

typedef struct id_slot {
  uint64_t id;
  uint32_t slot;
} id_slot;

static int by_id_cmp(const void *a, const void *b) {
  uint64_t x = ((const id_slot *)a)->id, y = ((const id_slot *)b)->id;
  return (x > y) - (x < y);
}

/* The n slots in the order of their ids: a log replay may place rows in other slots (freed rows
 * are reused in another order after a load), never under other ids, so the sample is drawn in id
 * order. 0 or -1. */
static int by_id(const vx_store *s, const uint32_t *slots, size_t n, uint32_t *order) {
  id_slot *t = vx_alloc(n * sizeof *t);
  if (!t) return -1;
  for (size_t i = 0; i < n; i++) t[i] = (id_slot){vx_store_id(s, slots[i]), slots[i]};
  qsort(t, n, sizeof *t, by_id_cmp);
  for (size_t i = 0; i < n; i++) order[i] = t[i].slot;
  vx_release(t);
  return 0;
}

/* The live slots of s, in slot order (*n of them), or NULL when none or out of memory. */
static uint32_t *live_slots(const vx_store *s, size_t *n) {
  size_t rows = atomic_load_explicit(&s->rows, memory_order_relaxed);
  size_t live = atomic_load_explicit(&s->live, memory_order_relaxed);
  uint32_t *slots = live ? vx_alloc(live * sizeof *slots) : NULL;
  *n = 0;
  if (!slots) return NULL;
  for (size_t slot = 0; slot < rows && *n < live; slot++)
    if (vx_store_id(s, slot) != VX_NO_ID) slots[(*n)++] = (uint32_t)slot;
  return slots;
}

int vx_ivf_fit_axes(const ivf_index *ix, ivf_struct *st, const vx_store *s, uint64_t seed) {
  size_t n;
  uint32_t *slots = live_slots(s, &n), *order = slots ? vx_alloc(n * sizeof *order) : NULL;
  size_t m = n < PCA_ROWS ? n : PCA_ROWS;
  float *x = order ? vx_alloc_aligned(m * ix->dim * sizeof(float), VX_CACHE_LINE) : NULL;
  uint64_t rng = seed;
  int ok = x && by_id(s, slots, n, order) == 0;
  if (ok) {
    draw_sample(ix, s, order, n, m, x, &rng);
    ok = principal_axes(ix, st, x, m, &rng) == 0;
  }
  vx_release(slots);
  vx_release(order);
  vx_release(x);
  return ok ? 0 : -1;
}

ivf_struct *vx_ivf_build(ivf_index *ix, const vx_store *s, uint32_t nlist, uint64_t seed) {
  size_t n;
  uint32_t *slots = live_slots(s, &n);
  if (!slots) return NULL;
  if (nlist > n) nlist = (uint32_t)n;
  size_t m = (size_t)nlist * IVF_SAMPLE_PER_LIST;
  if (m > n) m = n;
  ivf_struct *st = vx_ivf_struct_new(ix, nlist);
  float *x = vx_alloc_aligned(m * ix->dim * sizeof(float), VX_CACHE_LINE);
  uint32_t *order = vx_alloc(n * sizeof *order);
  uint64_t rng = seed;
  int ok = st && x && order;
  if (ok) {
    ok = by_id(s, slots, n, order) == 0;
  }
  if (ok) {
    draw_sample(ix, s, order, n, m, x, &rng);
    size_t seeds = (size_t)nlist * SEED_PER_LIST;
    ok = order_coordinates(ix, st, x, m) == 0 &&
         (!ix->proj_dims || principal_axes(ix, st, x, m, &rng) == 0) &&
         seed_centroids(ix, st, x, seeds < m ? seeds : m, &rng) == 0 &&
         lloyd(ix, st, x, m, &rng) == 0;
  }
  vx_release(x);
  vx_release(order);
  if (ok) {
    vx_ivf_pack(ix, st);
    ok = fill_lists(ix, st, s, slots, n) == 0;
    ok = ok && vx_ivf_code_centroids(ix, st) == 0;
  }
  vx_release(slots);
  if (!ok) {
    vx_ivf_struct_free(st);
    return NULL;
  }
  st->trained_live = n;
  return st;
}

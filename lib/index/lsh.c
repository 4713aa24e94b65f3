/* Multi-probe LSH index: creation, training on the first batch, the insert plumbing (prepare /
 * publish / add / cancel) and removal. Queries are in lsh_search.c, snapshots in lsh_persist.c;
 * the design is described in lsh_internal.h and README.md ("LSH"). */
#include <math.h>
#include <string.h>

#include "../alloc_internal.h"
#include "../errors_internal.h"
#include "../pool/pool.h"
#include "../threadpool.h"
#include "../topk.h"
#include "lsh_internal.h"

#define KC 256          /* coordinates per micro-kernel slice (a group's slice stays in L1) */
#define GEMM_MIN_ROWS 32 /* below this, rows are projected one at a time */
#define TASK_ROWS 96    /* rows per parallel task of a batch projection */
#define TASK_ROWS_PADDED(mr) ((TASK_ROWS + (mr) - 1) / (mr) * (mr))

/* ---- projections ---- */

void vx_lsh_project(const lsh *h, const float *x, float norm, float *out) {
  h->kern->dot_many(x, h->proj, h->dim, h->sketch_bits, h->dim, out);
  if (h->metric == VEXFS_METRIC_COSINE && norm > 0) {
    float inv = 1.0f / sqrtf(norm);
    for (uint32_t i = 0; i < h->sketch_bits; i++) out[i] *= inv;
  } else if (h->metric == VEXFS_METRIC_IP) {
    float a = sqrtf(fmaxf(h->max_norm - norm, 0.0f));
    for (uint32_t i = 0; i < h->sketch_bits; i++) out[i] += h->extra[i] * a;
  }
}

void vx_lsh_sketch_of(const lsh *h, const float *p, uint64_t *sk) {
  for (uint32_t w = 0; w < h->sketch_words; w++) {
    uint64_t v = 0;
    for (uint32_t b = 0; b < 64; b++) v |= (uint64_t)lsh_bit(h, w * 64 + b, p[w * 64 + b]) << b;
    sk[w] = v;
  }
}

/* Where a batch's rows are: the caller's vectors, or the store. */
typedef struct batch {
  const vx_store *s;
  const uint32_t *slots;
  const float *vectors;
  const float *norms;
  const uint32_t *pick; /* rows of the batch to project (NULL: all) */
  size_t n;             /* rows to project */
} batch;

static size_t batch_row_index(const batch *b, size_t i) { return b->pick ? b->pick[i] : i; }
static const float *batch_row(const batch *b, size_t i) {
  size_t r = batch_row_index(b, i);
  return b->vectors ? b->vectors + r * b->s->dim : vx_store_row(b->s, b->slots[r]);
}
static float batch_norm(const batch *b, size_t i) {
  size_t r = batch_row_index(b, i);
  return b->norms ? b->norms[r] : vx_store_norm(b->s, b->slots[r]);
}

/* Called with each projected row: i is its index in the batch's projection order. */
typedef void (*row_fn)(void *ctx, size_t i, const float *p);

typedef struct project_job {
  const lsh *h;
  const batch *b;
  row_fn fn;
  void *ctx;
  float *pack;    /* packed panels of the projections (gemm path), or NULL */
  float *scratch; /* per worker: mr * dim floats of rows, then mr * sketch_bits of products */
  size_t scratch_floats;
} project_job;

/* Rows [r0, r0 + n) (n <= TASK_ROWS) through the micro-kernel: the rows are copied into a block
 * (zero rows up to a multiple of mr), then each slice of KC coordinates of each panel of
 * projections stays in L1 while every group of mr rows passes it; then the metric's corrections. */
static void project_block(const project_job *j, float *scratch, size_t r0, size_t n) {
  const lsh *h = j->h;
  const vx_kernels *kern = h->kern;
  size_t mr = kern->gemm_mr, nr = kern->gemm_nr, dim = h->dim, S = h->sketch_bits;
  size_t groups = (n + mr - 1) / mr;
  float *block = scratch, *tile = scratch + TASK_ROWS_PADDED(mr) * dim;
  for (size_t r = 0; r < groups * mr; r++) {
    if (r < n)
      memcpy(block + r * dim, batch_row(j->b, r0 + r), dim * sizeof(float));
    else
      memset(block + r * dim, 0, dim * sizeof(float));
  }
  for (size_t k0 = 0; k0 < dim; k0 += KC) {
    size_t kc = dim - k0 < KC ? dim - k0 : KC;
    for (size_t p = 0; p < S / nr; p++) {
      const float *panel = j->pack + p * dim * nr + k0 * nr;
      for (size_t g = 0; g < groups; g++)
        kern->gemm_tile(kc, block + g * mr * dim + k0, dim, panel, tile + g * mr * S + p * nr, S,
                        k0 > 0);
    }
  }
  for (size_t r = 0; r < n; r++) {
    float *out = tile + r * S, norm = batch_norm(j->b, r0 + r);
    if (h->metric == VEXFS_METRIC_COSINE && norm > 0) {
      float inv = 1.0f / sqrtf(norm);
      for (size_t i = 0; i < S; i++) out[i] *= inv;
    } else if (h->metric == VEXFS_METRIC_IP) {
      float a = sqrtf(fmaxf(h->max_norm - norm, 0.0f));
      for (size_t i = 0; i < S; i++) out[i] += h->extra[i] * a;
    }
    j->fn(j->ctx, r0 + r, out);
  }
}

static void project_task(void *arg, size_t task, unsigned worker) {
  const project_job *j = arg;
  float *scratch = j->scratch + (size_t)worker * j->scratch_floats;
  size_t first = task * TASK_ROWS, last = first + TASK_ROWS < j->b->n ? first + TASK_ROWS : j->b->n;
  if (j->pack) {
    project_block(j, scratch, first, last - first);
    return;
  }
  for (size_t i = first; i < last; i++) {
    vx_lsh_project(j->h, batch_row(j->b, i), batch_norm(j->b, i), scratch);
    j->fn(j->ctx, i, scratch);
  }
}

/* Projects the batch's rows on up to `threads` threads, calling fn with each. -1 when out of
 * memory (fn was not called). */
static int project_batch(const lsh *h, const batch *b, unsigned threads, row_fn fn, void *ctx) {
  const vx_kernels *kern = h->kern;
  size_t mr = kern->gemm_mr, nr = kern->gemm_nr, dim = h->dim, S = h->sketch_bits;
  size_t ntasks = (b->n + TASK_ROWS - 1) / TASK_ROWS;
  unsigned workers = threads < ntasks ? threads : (unsigned)ntasks;
  if (workers == 0) return 0;
  project_job j = {h, b, fn, ctx, NULL, NULL, 0};
  int gemm = b->n >= GEMM_MIN_ROWS && S % nr == 0;
  j.scratch_floats = gemm ? ((TASK_ROWS_PADDED(mr) * (dim + S) + 15) & ~(size_t)15) : S;
  size_t pack_bytes = gemm ? S * dim * sizeof(float) : 0;
  if (gemm && !(j.pack = vx_alloc_aligned(pack_bytes, VX_CACHE_LINE))) return -1;
  j.scratch = vx_alloc_aligned(workers * j.scratch_floats * sizeof(float), VX_CACHE_LINE);
  if (!j.scratch) {
    vx_release(j.pack);
    return -1;
  }
  if (gemm) /* panel p holds projections [p * nr, (p + 1) * nr), k-major */
    for (size_t p = 0; p < S / nr; p++)
      for (size_t k = 0; k < dim; k++)
        for (size_t c = 0; c < nr; c++)
          j.pack[p * dim * nr + k * nr + c] = h->proj[(p * nr + c) * dim + k];
  vx_parallel_for(workers, ntasks, project_task, &j);
  vx_release(j.pack);
  vx_release(j.scratch);
  return 0;
}

/* ---- training ---- */

static uint64_t splitmix(uint64_t *state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static double uniform01(uint64_t *state) { /* in (0, 1) */
  return ((double)(splitmix(state) >> 11) + 0.5) * 0x1p-53;
}

static float gaussian(uint64_t *state) {
  double u = uniform01(state), v = uniform01(state);
  return (float)(sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v));
}

static uint32_t ceil_log2(size_t n) {
  uint32_t b = 0;
  while (b < 63 && ((size_t)1 << b) < n) b++;
  return b;
}

/* Directions: Gaussian (RANDOM), or the difference of two rows of the first batch drawn from
 * the seed (LEARNED; a Gaussian one where the two rows coincide); each scaled to unit length so
 * that margins of different bits are comparable. */
static void draw_directions(lsh *h, const batch *all) {
  uint64_t rng = h->seed ^ 0x6c736870726f6aull; /* "lshproj" */
  size_t dim = h->dim;
  for (uint32_t i = 0; i < h->sketch_bits; i++) {
    float *w = h->proj + (size_t)i * dim, e = 0;
    double len = 0;
    if (h->learned && all->n >= 2) {
      size_t a = splitmix(&rng) % all->n, b = splitmix(&rng) % all->n;
      const float *xa = batch_row(all, a), *xb = batch_row(all, b);
      float na = batch_norm(all, a), nb = batch_norm(all, b);
      float sa = h->metric == VEXFS_METRIC_COSINE && na > 0 ? 1.0f / sqrtf(na) : 1.0f;
      float sb = h->metric == VEXFS_METRIC_COSINE && nb > 0 ? 1.0f / sqrtf(nb) : 1.0f;
      for (size_t d = 0; d < dim; d++) w[d] = xa[d] * sa - xb[d] * sb;
      if (h->metric == VEXFS_METRIC_IP)
        e = sqrtf(fmaxf(h->max_norm - na, 0.0f)) - sqrtf(fmaxf(h->max_norm - nb, 0.0f));
      for (size_t d = 0; d < dim; d++) len += (double)w[d] * w[d];
      len += (double)e * e;
    }
    if (!(len > 0) || !isfinite(len)) {
      len = 0;
      for (size_t d = 0; d < dim; d++) {
        w[d] = gaussian(&rng);
        len += (double)w[d] * w[d];
      }
      e = h->metric == VEXFS_METRIC_IP ? gaussian(&rng) : 0;
      len += (double)e * e;
    }
    float inv = (float)(1.0 / sqrt(len));
    for (size_t d = 0; d < dim; d++) w[d] *= inv;
    if (h->extra) h->extra[i] = e * inv;
  }
}

typedef struct sample_ctx {
  float *p; /* m * sketch_bits */
  size_t S;
} sample_ctx;

static void keep_sample(void *arg, size_t i, const float *p) {
  sample_ctx *c = arg;
  memcpy(c->p + i * c->S, p, c->S * sizeof(float));
}

int vx_lsh_alloc_trained(lsh *h) {
  size_t dirs = (size_t)h->tables << h->dir_bits;
  h->proj = vx_alloc_aligned((size_t)h->sketch_bits * h->dim * sizeof(float), VX_CACHE_LINE);
  h->thresh = vx_alloc(h->sketch_bits * sizeof(float));
  h->extra = h->metric == VEXFS_METRIC_IP ? vx_calloc(h->sketch_bits, sizeof(float)) : NULL;
  h->dir = vx_calloc(dirs, sizeof *h->dir);
  vx_chunked_init(&h->sketches, h->sketch_words * sizeof(uint64_t));
  if (!h->proj || !h->thresh || (h->metric == VEXFS_METRIC_IP && !h->extra) || !h->dir) {
    vx_lsh_free_trained(h);
    return -1;
  }
  return 0;
}

void vx_lsh_free_trained(lsh *h) {
  if (h->dir) {
    size_t dirs = (size_t)h->tables << h->dir_bits;
    for (size_t i = 0; i < dirs; i++) vx_release(h->dir[i].slots);
  }
  vx_release(h->proj);
  vx_release(h->thresh);
  vx_release(h->extra);
  vx_release(h->dir);
  vx_chunked_destroy(&h->sketches);
  h->proj = h->thresh = h->extra = NULL;
  h->dir = NULL;
  atomic_store(&h->bucket_bytes, 0);
}

/* Chooses the parameters for a first batch of n rows. */
static void choose_parameters(lsh *h, size_t n) {
  h->tables = h->cfg_tables ? h->cfg_tables : LSH_DEFAULT_TABLES;
  if (h->cfg_bits)
    h->bits = h->cfg_bits;
  else {
    uint32_t b = ceil_log2(n / LSH_BUCKET_TARGET + 1);
    h->bits = b < LSH_MIN_AUTO_BITS ? LSH_MIN_AUTO_BITS : b > LSH_MAX_AUTO_BITS ? LSH_MAX_AUTO_BITS : b;
  }
  h->probes = h->cfg_probes ? h->cfg_probes : LSH_DEFAULT_PROBES;
  uint32_t key_bits = h->tables * h->bits;
  h->sketch_bits = (key_bits + 63) & ~63u;
  if (h->sketch_bits < LSH_MIN_SKETCH_BITS) h->sketch_bits = LSH_MIN_SKETCH_BITS;
  h->sketch_words = h->sketch_bits / 64;
  uint32_t dir = ceil_log2(n) + 1;
  if (dir < 10) dir = 10;
  if (dir > LSH_MAX_DIR_BITS) dir = LSH_MAX_DIR_BITS;
  h->dir_bits = h->bits < dir ? h->bits : dir;
  h->width = h->metric == VEXFS_METRIC_L2 ? h->cfg_width : 0;
}

/* Trains on the first batch: parameters, directions, thresholds (medians over a sample). */
static int train(lsh *h, const batch *all, unsigned threads) {
  choose_parameters(h, all->n);
  if (vx_lsh_alloc_trained(h) != 0) return -1;
  h->max_norm = 0;
  for (size_t i = 0; i < all->n; i++) {
    float norm = batch_norm(all, i);
    if (norm > h->max_norm) h->max_norm = norm;
  }
  draw_directions(h, all);
  size_t m = all->n < LSH_TRAIN_SAMPLE ? all->n : LSH_TRAIN_SAMPLE, S = h->sketch_bits;
  uint32_t *pick = vx_alloc(m * sizeof *pick);
  float *p = vx_alloc(m * S * sizeof *p), *col = vx_alloc(m * sizeof *col);
  batch sb = *all;
  sb.pick = pick;
  sb.n = m;
  sample_ctx sc = {p, S};
  int ok = pick && p && col;
  if (ok) {
    for (size_t i = 0; i < m; i++) pick[i] = (uint32_t)(i * all->n / m);
    for (uint32_t i = 0; i < S; i++) h->thresh[i] = 0; /* thresholds do not enter projections */
    ok = project_batch(h, &sb, threads, keep_sample, &sc) == 0;
  }
  if (ok)
    for (size_t i = 0; i < S; i++) {
      for (size_t r = 0; r < m; r++) col[r] = p[r * S + i];
      float t = vx_select_kth(col, m, m / 2);
      h->thresh[i] = isfinite(t) ? t : 0;
    }
  vx_release(pick);
  vx_release(p);
  vx_release(col);
  if (!ok) vx_lsh_free_trained(h);
  return ok ? 0 : -1;
}

/* ---- create / destroy ---- */

static void release_pending(lsh *h) {
  for (size_t i = 0; i < h->ngrow; i++) vx_release(h->grow[i].slots);
  vx_release(h->grow);
  vx_release(h->pend);
  h->grow = NULL;
  h->pend = NULL;
  h->ngrow = h->pend_n = 0;
}

static void lsh_destroy(void *state) {
  lsh *h = state;
  if (!h) return;
  release_pending(h);
  vx_lsh_free_trained(h);
  vx_release(h);
}

static vexfs_status lsh_create(const vexfs_collection_config *cfg, void **state) {
  lsh *h = vx_calloc(1, sizeof *h);
  if (!h) return vx_fail(VEXFS_E_NOMEM, "vexfs_collection_create: out of memory for LSH");
  h->dim = cfg->dim;
  h->metric = cfg->metric;
  h->seed = cfg->hnsw_seed;
  h->learned = cfg->lsh_projection == VEXFS_LSH_PROJECTION_LEARNED;
  h->cfg_tables = cfg->lsh_tables;
  h->cfg_bits = cfg->lsh_bits;
  h->cfg_probes = cfg->lsh_probes;
  h->cfg_width = cfg->lsh_bucket_width;
  h->kern = vx_simd();
  vx_chunked_init(&h->sketches, sizeof(uint64_t));
  atomic_init(&h->bucket_bytes, 0);
  atomic_init(&h->trained, 0);
  *state = h;
  return VEXFS_OK;
}

/* ---- insert plumbing ---- */

typedef struct sketch_ctx {
  const lsh *h;
  uint64_t *out;
} sketch_ctx;

static void keep_sketch(void *arg, size_t i, const float *p) {
  sketch_ctx *c = arg;
  vx_lsh_sketch_of(c->h, p, c->out + i * c->h->sketch_words);
}

/* Replacement arrays for the buckets the pending rows fill past their capacity. */
static int reserve_buckets(lsh *h, const uint32_t *slots, size_t n) {
  size_t dir = (size_t)1 << h->dir_bits, per = n < dir ? n : dir, W = h->sketch_words;
  uint32_t *need = vx_calloc(dir, sizeof *need), *touched = vx_alloc(per * sizeof *touched);
  h->grow = vx_alloc(per * h->tables * sizeof *h->grow);
  int ok = need && touched && h->grow;
  (void)slots;
  for (uint32_t t = 0; ok && t < h->tables; t++) {
    size_t nt = 0;
    lsh_bucket *base = &h->dir[(size_t)t << h->dir_bits];
    for (size_t i = 0; i < n; i++) {
      size_t b = (size_t)(lsh_bucket_of(h, t, lsh_key(h, h->pend + i * W, t)) - base);
      if (need[b]++ == 0) touched[nt++] = (uint32_t)b;
    }
    for (size_t i = 0; i < nt; i++) {
      lsh_bucket *b = &base[touched[i]];
      uint64_t want = (uint64_t)b->count + need[touched[i]];
      need[touched[i]] = 0;
      if (!ok || want <= b->cap) continue;
      uint64_t cap = b->cap + b->cap / 2;
      if (cap < want) cap = want;
      if (cap < 4) cap = 4;
      if (cap > UINT32_MAX) cap = UINT32_MAX;
      uint32_t *a = vx_alloc((size_t)cap * sizeof *a);
      if (!a) {
        ok = 0;
        continue;
      }
      h->grow[h->ngrow++] = (lsh_grow){b, a, (uint32_t)cap}; /* filled at publish */
    }
  }
  vx_release(need);
  vx_release(touched);
  return ok ? 0 : -1;
}

static vexfs_status lsh_prepare(void *state, const vx_store *s, const uint32_t *slots,
                                const float *vectors, const float *norms, size_t n,
                                unsigned threads) {
  lsh *h = state;
  batch all = {s, slots, vectors, norms, NULL, n};
  if (!h->trained) {
    if (train(h, &all, threads) != 0)
      return vx_fail(VEXFS_E_NOMEM, "vexfs_insert: out of memory to train LSH");
    h->training = 1;
  }
  size_t top = 0;
  for (size_t i = 0; i < n; i++)
    if (slots[i] + (size_t)1 > top) top = slots[i] + (size_t)1;
  int ok = vx_chunked_reserve(&h->sketches, top) == 0;
  size_t words;
  ok = ok && vx_mul_ok(n, h->sketch_words, &words) && (h->pend = vx_alloc(words * sizeof(uint64_t)));
  h->pend_n = n;
  sketch_ctx sc = {h, h->pend};
  ok = ok && project_batch(h, &all, threads, keep_sketch, &sc) == 0;
  ok = ok && reserve_buckets(h, slots, n) == 0;
  if (ok) return VEXFS_OK;
  release_pending(h);
  if (h->training) {
    vx_lsh_free_trained(h);
    h->training = 0;
  }
  return vx_fail(VEXFS_E_NOMEM, "vexfs_insert: out of memory for LSH buckets");
}

static void lsh_publish(void *state, const vx_store *s) {
  lsh *h = state;
  (void)s;
  for (size_t i = 0; i < h->ngrow; i++) { /* the bucket as it is now: an upsert removed rows */
    lsh_grow *g = &h->grow[i];
    if (g->b->count) memcpy(g->slots, g->b->slots, g->b->count * sizeof *g->slots);
    atomic_fetch_add(&h->bucket_bytes, ((size_t)g->cap - g->b->cap) * sizeof(uint32_t));
    vx_release(g->b->slots);
    g->b->slots = g->slots;
    g->b->cap = g->cap;
  }
  vx_release(h->grow);
  h->grow = NULL;
  h->ngrow = 0;
  if (h->training) {
    atomic_store_explicit(&h->trained, 1, memory_order_release);
    h->training = 0;
  }
}

static void lsh_add(void *state, const vx_store *s, const uint32_t *slots, size_t n,
                    unsigned threads) {
  lsh *h = state;
  (void)s;
  (void)threads; /* appends are a few stores per row: one thread, no locks */
  size_t W = h->sketch_words;
  for (size_t i = 0; i < n; i++) {
    const uint64_t *sk = h->pend + i * W;
    memcpy(lsh_sketch(h, slots[i]), sk, W * sizeof *sk);
    for (uint32_t t = 0; t < h->tables; t++) {
      lsh_bucket *b = lsh_bucket_of(h, t, lsh_key(h, sk, t));
      uint32_t pos = b->count;
      b->slots[pos] = slots[i];
      lsh_store(&b->count, pos + 1);
    }
  }
  release_pending(h);
}

static void lsh_cancel(void *state, const uint32_t *slots, size_t n) {
  lsh *h = state;
  (void)slots;
  (void)n;
  release_pending(h);
  if (h->training) {
    vx_lsh_free_trained(h);
    h->training = 0;
  }
}

static void lsh_remove(void *state, const vx_store *s, const uint32_t *slots, size_t n,
                       void *scratch) {
  lsh *h = state;
  (void)s;
  (void)scratch;
  if (!h->trained) return;
  for (size_t i = 0; i < n; i++) {
    const uint64_t *sk = lsh_sketch(h, slots[i]);
    for (uint32_t t = 0; t < h->tables; t++) {
      lsh_bucket *b = lsh_bucket_of(h, t, lsh_key(h, sk, t));
      for (uint32_t j = 0; j < b->count; j++)
        if (b->slots[j] == slots[i]) {
          b->slots[j] = b->slots[b->count - 1];
          lsh_store(&b->count, b->count - 1);
          break;
        }
    }
  }
}

static size_t lsh_memory(const void *state) {
  const lsh *h = state;
  if (!atomic_load_explicit(&h->trained, memory_order_acquire)) return sizeof *h;
  size_t fixed = (size_t)h->sketch_bits * h->dim * sizeof(float) +
            (size_t)h->sketch_bits * sizeof(float) * (h->extra ? 2 : 1) +
            ((size_t)h->tables << h->dir_bits) * sizeof(lsh_bucket);
  return sizeof *h + fixed + vx_chunked_bytes(&h->sketches) + atomic_load(&h->bucket_bytes);
}

const vx_index_ops vx_index_lsh = {
    .name = "lsh",
    .create = lsh_create,
    .destroy = lsh_destroy,
    .prepare = lsh_prepare,
    .publish = lsh_publish,
    .add = lsh_add,
    .remove = lsh_remove,
    .search = vx_lsh_search,
    .memory = lsh_memory,
    .cancel = lsh_cancel,
    .save = vx_lsh_save,
    .load = vx_lsh_load,
};

/* HNSW index: creation, the insert plumbing (prepare / publish / add), the quantiser, locks,
 * heaps and scratch. The algorithm itself is in hnsw_build.c, hnsw_search.c, hnsw_delete.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../alloc_internal.h"
#include "../errors_internal.h"
#include "../pool/pool.h"
#include "../threadpool.h"
#include "hnsw_internal.h"

/* Codes are precise enough while their rounding error (dim * scale^2 / 12 in squared distance)
 * stays below this share of the typical squared distance to a nearest neighbour. */
#define PRECISION_SHARE 0.01
#define PRECISION_SAMPLE 512u

void vx_hnsw_lock(hnsw_head *n) {
  while (atomic_exchange_explicit(&n->lock, 1, memory_order_acquire))
    while (atomic_load_explicit(&n->lock, memory_order_relaxed)) hnsw_relax();
}

void vx_hnsw_unlock(hnsw_head *n) { atomic_store_explicit(&n->lock, 0, memory_order_release); }

/* ---- heaps ---- */

static int heap_grow(hnsw_heap *hp) {
  size_t cap = hp->cap ? hp->cap * 2 : 256;
  hnsw_pair *a = vx_pool_get(cap * sizeof *a);
  if (!a) return -1;
  if (hp->n) memcpy(a, hp->a, hp->n * sizeof *a);
  vx_pool_put(hp->a, hp->cap * sizeof *hp->a);
  hp->a = a;
  hp->cap = cap;
  return 0;
}

/* sign = 1: min-heap; sign = -1: max-heap (compare on sign * d). */
static int heap_push(hnsw_heap *hp, float d, uint32_t slot, float sign) {
  if (hp->n == hp->cap && heap_grow(hp) != 0) return -1;
  size_t i = hp->n++;
  while (i > 0) {
    size_t p = (i - 1) / 2;
    if (sign * hp->a[p].d <= sign * d) break;
    hp->a[i] = hp->a[p];
    i = p;
  }
  hp->a[i] = (hnsw_pair){d, slot};
  return 0;
}

static hnsw_pair heap_pop(hnsw_heap *hp, float sign) {
  hnsw_pair top = hp->a[0], last = hp->a[--hp->n];
  size_t i = 0, n = hp->n;
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= n) break;
    if (c + 1 < n && sign * hp->a[c + 1].d < sign * hp->a[c].d) c++;
    if (sign * last.d <= sign * hp->a[c].d) break;
    hp->a[i] = hp->a[c];
    i = c;
  }
  if (n) hp->a[i] = last;
  return top;
}

int vx_hnsw_heap_push_min(hnsw_heap *hp, float d, uint32_t slot) {
  return heap_push(hp, d, slot, 1);
}
hnsw_pair vx_hnsw_heap_pop_min(hnsw_heap *hp) { return heap_pop(hp, 1); }
int vx_hnsw_heap_push_max(hnsw_heap *hp, float d, uint32_t slot) {
  return heap_push(hp, d, slot, -1);
}
hnsw_pair vx_hnsw_heap_pop_max(hnsw_heap *hp) { return heap_pop(hp, -1); }

int vx_hnsw_by_distance(const void *a, const void *b) {
  const hnsw_pair *x = a, *y = b;
  return x->d < y->d ? -1 : x->d > y->d ? 1 : (x->slot > y->slot) - (x->slot < y->slot);
}

/* ---- scratch ---- */

/* Scratch comes from the pool, so that searches after warm-up make no allocator calls. Sizes
 * are kept to give the blocks back. */
static size_t visited_bytes(const hnsw_scratch *sc) {
  return (sc->visited_bits + 63) / 64 * sizeof(uint64_t);
}

static size_t touched_bytes(const hnsw_scratch *sc) {
  return (sc->touched_cap + 1) * sizeof(uint32_t); /* (+ 1: a block even when 0) */
}

int vx_hnsw_scratch_init(hnsw_scratch *sc, const hnsw *h, size_t slots) {
  memset(sc, 0, sizeof *sc);
  sc->visited_bits = slots;
  sc->touched_cap = (slots + 63) / 64 / 8;
  sc->sel_n = (size_t)h->ef_construction + 1;
  sc->m0 = h->m0;
  sc->qcode_size = h->qcode_size;
  sc->dim = h->dim;
  sc->visited = vx_pool_get(visited_bytes(sc));
  sc->touched = vx_pool_get(touched_bytes(sc));
  sc->sel = vx_pool_get(sc->sel_n * sizeof *sc->sel);
  sc->shrink = vx_pool_get((sc->m0 + 1) * sizeof *sc->shrink);
  sc->fresh = vx_pool_get(sc->m0 * sizeof *sc->fresh);
  sc->qcode = vx_pool_get(sc->qcode_size);
  sc->decoded = vx_pool_get(sc->dim * sizeof(float));
  if (!sc->visited || !sc->touched || !sc->sel || !sc->shrink || !sc->fresh || !sc->qcode ||
      !sc->decoded || heap_grow(&sc->cand) || heap_grow(&sc->found)) {
    vx_hnsw_scratch_destroy(sc);
    return -1;
  }
  sc->ntouched = SIZE_MAX; /* (the pool's block is not clean: the first reset clears it all) */
  memset(sc->qcode, 0, sc->qcode_size);
  return 0;
}

void vx_hnsw_scratch_destroy(hnsw_scratch *sc) {
  vx_pool_put(sc->visited, visited_bytes(sc));
  vx_pool_put(sc->touched, touched_bytes(sc));
  vx_pool_put(sc->sel, sc->sel_n * sizeof *sc->sel);
  vx_pool_put(sc->shrink, (sc->m0 + 1) * sizeof *sc->shrink);
  vx_pool_put(sc->fresh, sc->m0 * sizeof *sc->fresh);
  vx_pool_put(sc->qcode, sc->qcode_size);
  vx_pool_put(sc->decoded, sc->dim * sizeof(float));
  vx_pool_put(sc->cand.a, sc->cand.cap * sizeof *sc->cand.a);
  vx_pool_put(sc->found.a, sc->found.cap * sizeof *sc->found.a);
  memset(sc, 0, sizeof *sc);
}

void vx_hnsw_scratch_reset(hnsw_scratch *sc) {
  if (sc->ntouched <= sc->touched_cap)
    for (size_t i = 0; i < sc->ntouched; i++) sc->visited[sc->touched[i]] = 0;
  else
    memset(sc->visited, 0, visited_bytes(sc));
  sc->ntouched = 0;
  sc->cand.n = sc->found.n = 0;
}

static void free_build_scratch(hnsw *h) {
  for (unsigned i = 0; i < h->build_workers; i++) vx_hnsw_scratch_destroy(&h->build[i]);
  vx_pool_put(h->build, h->build_cap * sizeof *h->build);
  h->build = NULL;
  h->build_workers = 0;
}

/* ---- create / destroy ---- */

static void hnsw_destroy(void *state) {
  hnsw *h = state;
  if (!h) return;
  free_build_scratch(h);
  for (size_t i = 0; i < h->upper.capacity; i++) vx_release(*(uint32_t **)vx_chunked_at(&h->upper, i));
  vx_chunked_destroy(&h->nodes);
  vx_chunked_destroy(&h->upper);
  vx_sq8_destroy(&h->sq);
  vx_release(h->range_lo);
  vx_release(h->range_hi);
  pthread_mutex_destroy(&h->entry_lock);
  vx_release(h);
}

static vexfs_status hnsw_create(const vexfs_collection_config *cfg, void **state) {
  hnsw *h = vx_calloc(1, sizeof *h);
  if (!h) return vx_fail(VEXFS_E_NOMEM, "vexfs_collection_create: out of memory for HNSW");
  h->dim = cfg->dim;
  h->m = cfg->hnsw_m;
  h->m0 = 2 * cfg->hnsw_m;
  h->ef_construction = cfg->hnsw_ef_construction;
  h->metric = cfg->metric;
  h->level_mult = 1.0 / log((double)cfg->hnsw_m);
  h->seed = cfg->struct_size >= offsetof(vexfs_collection_config, hnsw_seed) + sizeof(uint64_t)
                ? cfg->hnsw_seed
                : 0;
  /* Blocks are packed to 16 bytes rather than cache lines: at d = 784 and M = 16, 928 bytes a
   * node instead of 1 024, for a cache line more touched now and then (the kernels take any
   * alignment and length). */
  h->store_coded = cfg->storage != VEXFS_STORAGE_F32;
  h->code_size = h->store_coded ? 0 : ((size_t)cfg->dim + 15) & ~(size_t)15;
  /* a query's code: the node codes' size, or the store codec's (F16 scores the query as f32) */
  h->qcode_size = h->store_coded ? vx_codec_query_bytes(cfg->storage, cfg->dim) : h->code_size;
  if (h->qcode_size == 0) h->qcode_size = 1; /* (a pool block all the same) */
  h->codes_precise = h->store_coded; /* else judged on the first rows */
  h->traversed_bytes = h->store_coded ? vx_codec_code_bytes(cfg->storage, cfg->dim) : cfg->dim;
  h->links0_off = h->code_size;
  h->head_off = h->links0_off + (size_t)h->m0 * sizeof(uint32_t);
  /* ... except where a whole cache line costs at most 16 bytes more: at d = 96, M = 16, 256
   * bytes instead of 240 built 200k clustered vectors in 18.5-19.7 s instead of 21.9-22.4 s
   * (alternating builds, Sapphire Rapids), most of the time being the code loads' misses. */
  size_t packed = (h->head_off + sizeof(hnsw_head) + 15) & ~(size_t)15;
  size_t lined = (packed + 63) & ~(size_t)63;
  h->node_size = lined - packed <= 16 ? lined : packed;
  h->kern = vx_simd();
  /* every node is written by its insert (or load) before anything reads it, so new chunks stay
   * untouched (and out of the resident set) until rows reach them */
  vx_chunked_init_unzeroed(&h->nodes, h->node_size);
  h->nodes_at = &h->nodes; /* store-coded: the store's, from vx_hnsw_attach */
  vx_chunked_init(&h->upper, sizeof(uint32_t *));
  atomic_init(&h->entry, hnsw_pack_entry(HNSW_NONE, 0));
  atomic_init(&h->upper_bytes, 0);
  atomic_init(&h->codes_lossless, 1); /* a load's encodes clear it where a code is lossy */
  pthread_mutex_init(&h->entry_lock, NULL);
  h->range_lo = vx_alloc(cfg->dim * sizeof(float));
  h->range_hi = vx_alloc(cfg->dim * sizeof(float));
  if (vx_sq8_init(&h->sq, cfg->dim) != 0 || !h->range_lo || !h->range_hi) {
    hnsw_destroy(h);
    return vx_fail(VEXFS_E_NOMEM, "vexfs_collection_create: out of memory for HNSW");
  }
  for (uint32_t d = 0; d < cfg->dim; d++) {
    h->range_lo[d] = INFINITY;
    h->range_hi[d] = -INFINITY;
  }
  *state = h;
  return VEXFS_OK;
}

size_t vx_hnsw_store_extra(uint32_t m) { return (size_t)2 * m * sizeof(uint32_t) + sizeof(hnsw_head); }

void vx_hnsw_attach(hnsw *h, const vx_store *s) {
  if (h->store) return;
  h->store = s; /* set before any node exists */
  if (!h->store_coded) return;
  h->nodes_at = &s->codes_at;
  h->links0_off = s->codec.element;
  h->head_off = h->links0_off + (size_t)h->m0 * sizeof(uint32_t);
  h->node_size = s->codes_at.elem_size;
}

/* ---- insert plumbing ---- */

static const float *input_row(const vx_store *s, const uint32_t *slots, const float *vectors,
                              size_t i) {
  return vectors ? vectors + i * s->dim : vx_store_row(s, slots[i]);
}

static size_t upper_block_bytes(const hnsw *h, uint32_t slot) {
  return (size_t)vx_hnsw_draw_level(h, slot) * (1 + h->m) * sizeof(uint32_t);
}

void vx_hnsw_free_upper(hnsw *h, const uint32_t *slots, size_t n) {
  for (size_t i = 0; i < n; i++) {
    uint32_t **u = vx_chunked_at(&h->upper, slots[i]);
    if (*u) atomic_fetch_sub(&h->upper_bytes, upper_block_bytes(h, slots[i]));
    vx_release(*u);
    *u = NULL;
  }
}

int vx_hnsw_alloc_upper(hnsw *h, const uint32_t *slots, size_t n) {
  for (size_t i = 0; i < n; i++) {
    uint32_t level = vx_hnsw_draw_level(h, slots[i]);
    uint32_t **up = vx_chunked_at(&h->upper, slots[i]);
    *up = NULL;
    if (level == 0) continue;
    *up = vx_calloc((size_t)level * (1 + h->m), sizeof(uint32_t));
    if (!*up) {
      vx_hnsw_free_upper(h, slots, i + 1);
      return -1;
    }
    atomic_fetch_add(&h->upper_bytes, upper_block_bytes(h, slots[i]));
  }
  return 0;
}

static vexfs_status hnsw_prepare(void *state, const vx_store *s, const uint32_t *slots,
                                 const float *vectors, const float *norms, size_t n,
                                 unsigned threads) {
  hnsw *h = state;
  const char *fn = "vexfs_insert";
  vx_hnsw_attach(h, s);
  size_t top = 0;
  for (size_t i = 0; i < n; i++)
    if (slots[i] + (size_t)1 > top) top = slots[i] + (size_t)1;
  /* (store-coded nodes are the store's: reserved as it planned the rows) */
  if ((!h->store_coded && vx_chunked_reserve(&h->nodes, top)) || vx_chunked_reserve(&h->upper, top))
    return vx_fail(VEXFS_E_NOMEM, "%s: out of memory for HNSW nodes", fn);

  unsigned workers = threads < n ? threads : (unsigned)n;
  h->build_cap = workers;
  h->build = vx_pool_get(workers * sizeof *h->build);
  if (!h->build) return vx_fail(VEXFS_E_NOMEM, "%s: out of memory for HNSW scratch", fn);
  for (h->build_workers = 0; h->build_workers < workers; h->build_workers++)
    if (vx_hnsw_scratch_init(&h->build[h->build_workers], h, h->nodes_at->capacity) != 0) {
      free_build_scratch(h);
      return vx_fail(VEXFS_E_NOMEM, "%s: out of memory for HNSW scratch", fn);
    }
  if (vx_hnsw_alloc_upper(h, slots, n) != 0) {
    free_build_scratch(h);
    return vx_fail(VEXFS_E_NOMEM, "%s: out of memory for HNSW levels", fn);
  }

  for (size_t i = 0; i < n; i++) {
    float norm = norms ? norms[i] : vx_store_norm(s, slots[i]);
    if (norm > h->pending_max_norm) h->pending_max_norm = norm;
  }
  if (h->store_coded) return VEXFS_OK; /* the store's codec fits itself */
  /* Does the quantiser still cover every coordinate? If not, publish refits it. */
  float *lo = h->range_lo, *hi = h->range_hi;
  for (size_t i = 0; i < n; i++) {
    const float *row = input_row(s, slots, vectors, i);
    vx_sq8_extend_range(h->dim, &row, 1, lo, hi);
  }
  if (!h->sq_fitted || !vx_sq8_covers(&h->sq, lo, hi)) h->refit_pending = 1;
  return VEXFS_OK;
}

void vx_hnsw_encode_node(hnsw *h, const vx_store *s, uint32_t slot) {
  if (h->store_coded) return; /* code, lx and norm are the store's (a refit moves them there) */
  hnsw_head *hd = hnsw_node_head(h, slot);
  const float *row = vx_store_row(s, slot);
  hd->lx = vx_sq8_encode(&h->sq, row, hnsw_code(h, slot));
  hd->norm = vx_store_norm(s, slot);
  /* cleared before the node can be linked, so a search that reaches it sees the flag cleared */
  if (atomic_load_explicit(&h->codes_lossless, memory_order_relaxed) &&
      !vx_sq8_lossless(&h->sq, row, hnsw_code(h, slot)))
    atomic_store_explicit(&h->codes_lossless, 0, memory_order_relaxed);
}

static int by_float(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

/* Whether codes resolve distances at the scale of nearest neighbours, judged on a sample of live
 * rows: the squared L2 distance from each to its nearest other sampled row, at the 10th
 * percentile, so that dense regions count even when most data is spread wide. A sample is
 * sparser than the data, so the bar is set low (PRECISION_SHARE). */
static int codes_precise_for(const hnsw *h, const vx_store *s) {
  size_t rows = atomic_load_explicit(&s->rows, memory_order_relaxed);
  size_t step = rows / PRECISION_SAMPLE + 1, n = 0;
  uint32_t *pick = vx_alloc(PRECISION_SAMPLE * sizeof *pick);
  float *nn = vx_alloc(PRECISION_SAMPLE * sizeof *nn);
  int precise = 1; /* without memory to judge, keep the fast path */
  if (pick && nn) {
    for (size_t slot = 0; slot < rows && n < PRECISION_SAMPLE; slot += step)
      if (vx_store_id(s, slot) != VX_NO_ID) pick[n++] = (uint32_t)slot;
    for (size_t i = 0; i < n; i++) {
      nn[i] = INFINITY;
      for (size_t j = 0; j < n; j++) {
        float d = h->kern->l2sq(vx_store_row(s, pick[i]), vx_store_row(s, pick[j]), h->dim);
        if (j != i && d < nn[i]) nn[i] = d;
      }
    }
    if (n >= 2) {
      qsort(nn, n, sizeof *nn, by_float);
      double rounding = h->dim * (double)h->sq.scale * h->sq.scale / 12.0;
      precise = rounding <= PRECISION_SHARE * nn[n / 10];
    }
  }
  vx_release(pick);
  vx_release(nn);
  return precise;
}

static void hnsw_publish(void *state, const vx_store *s) {
  hnsw *h = state;
  h->max_norm = h->pending_max_norm;
  if (!h->refit_pending) return;
  h->refit_pending = 0;
  atomic_store_explicit(&h->codes_lossless, 1, memory_order_relaxed); /* until a code is not */
  if (!h->sq_fitted) { /* first data: fit it exactly */
    vx_sq8_fit(&h->sq, h->range_lo, h->range_hi);
    h->sq_fitted = 1;
    h->codes_precise = codes_precise_for(h, s);
    return;
  }
  vx_sq8_fit_widened(&h->sq, h->range_lo, h->range_hi);
  size_t rows = atomic_load_explicit(&s->rows, memory_order_relaxed);
  for (size_t slot = 0; slot < rows; slot++)
    if (vx_store_id(s, slot) != VX_NO_ID) vx_hnsw_encode_node(h, s, (uint32_t)slot);
  h->codes_precise = codes_precise_for(h, s);
}

typedef struct add_ctx {
  hnsw *h;
  const vx_store *s;
  const uint32_t *slots;
} add_ctx;

static void add_task(void *arg, size_t i, unsigned worker) {
  add_ctx *a = arg;
  uint32_t slot = a->slots[i];
  /* A node is reachable only once its own insert links it, so its code is written first. */
  vx_hnsw_encode_node(a->h, a->s, slot);
  hnsw_head *hd = hnsw_node_head(a->h, slot);
  hd->level = (uint8_t)vx_hnsw_draw_level(a->h, slot);
  atomic_store_explicit(&hd->lock, 0, memory_order_relaxed);
  hnsw_store(&hd->count0, 0);
  vx_hnsw_insert(a->h, &a->h->build[worker], slot);
}

static void hnsw_add(void *state, const vx_store *s, const uint32_t *slots, size_t n,
                     unsigned threads) {
  hnsw *h = state;
  add_ctx ctx = {h, s, slots};
  unsigned workers = threads < h->build_workers ? threads : h->build_workers;
  /* the first node of an empty graph becomes the entry point before others look for it */
  size_t first = 0;
  if ((uint32_t)atomic_load(&h->entry) == HNSW_NONE && n > 0) add_task(&ctx, first++, 0);
  if (first < n) {
    ctx.slots = slots + first;
    vx_parallel_for(workers, n - first, add_task, &ctx);
  }
  free_build_scratch(h);
}

/* An insert abandoned after prepare: its nodes were never linked. */
static void hnsw_cancel(void *state, const uint32_t *slots, size_t n) {
  hnsw *h = state;
  free_build_scratch(h);
  vx_hnsw_free_upper(h, slots, n);
  h->refit_pending = 0; /* the range keeps the abandoned rows: it only widens, which is safe */
  h->pending_max_norm = h->max_norm;
}

static size_t hnsw_memory(const void *state) {
  const hnsw *h = state;
  return vx_chunked_bytes(&h->nodes) + vx_chunked_bytes(&h->upper) +
         atomic_load(&h->upper_bytes) + 3 * (size_t)h->dim * sizeof(float);
}

int vx_hnsw_traverses_exactly(const void *state) {
  const hnsw *h = state;
  return !h->store_coded && h->sq_fitted && !h->codes_precise;
}

int vx_hnsw_codes_lossless(const void *state) {
  const hnsw *h = state;
  if (h->store_coded) /* the store's codes, reported as the collection's (vexfs_collection_metrics) */
    return h->store && atomic_load(&h->store->live) &&
           atomic_load_explicit(&((vx_store *)h->store)->codes_lossless, memory_order_relaxed);
  return h->sq_fitted && atomic_load_explicit(&((hnsw *)h)->codes_lossless, memory_order_relaxed);
}

const vx_index_ops vx_index_hnsw = {
    .name = "hnsw",
    .create = hnsw_create,
    .destroy = hnsw_destroy,
    .prepare = hnsw_prepare,
    .publish = hnsw_publish,
    .add = hnsw_add,
    .prepare_remove = vx_hnsw_prepare_remove,
    .remove = vx_hnsw_remove,
    .search = vx_hnsw_search_queries,
    .memory = hnsw_memory,
    .cancel = hnsw_cancel,
    .save = vx_hnsw_save_graph,
    .load = vx_hnsw_load_graph,
    .filtered_cost = vx_hnsw_filtered_cost,
};

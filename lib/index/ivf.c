/* IVF index: creation, structures and lists, and the insert and remove plumbing (prepare /
 * publish / add, prepare_remove / remove). Training is in ivf_train.c, searching in ivf_search.c,
 * snapshots in ivf_persist.c; the design is described in ivf_internal.h and README.md "IVF". */
#include <math.h>
#include <string.h>

#include "../alloc_internal.h"
#include "../errors_internal.h"
#include "ivf_internal.h"

/* A list that must grow takes this share of its size more than it needs, so growth is rare
 * while the slack stays small (memory per vector is part of the contract). */
#define GROW_SHARE 4 /* cap + cap / 4 */
#define MIN_CAP 8u
/* A code's head: about this share of the coordinates (the most varied), a multiple of
 * HEAD_ALIGN; L2 scans read the rest of a row only when its head leaves it a candidate. A half
 * measured faster than a quarter or an eighth on Fashion-MNIST (9 000 against 7 200 QPS at
 * nlist 1024, nprobe 16): the heads stream in order, and a quarter left 80% of rows in reach. */
#define HEAD_SHARE 2
#define HEAD_ALIGN 16

/* ---- structures ---- */

static void account_add(ivf_struct *st, size_t bytes) {
  st->bytes += bytes;
  atomic_fetch_add_explicit(st->owner_bytes, bytes, memory_order_relaxed);
}

static void account_sub(ivf_struct *st, size_t bytes) {
  st->bytes -= bytes;
  atomic_fetch_sub_explicit(st->owner_bytes, bytes, memory_order_relaxed);
}

static void *counted_alloc(ivf_struct *st, size_t bytes) {
  void *p = vx_alloc(bytes);
  if (p) account_add(st, bytes);
  return p;
}

static void counted_release(ivf_struct *st, void *p, size_t bytes) {
  if (!p) return;
  vx_release(p);
  account_sub(st, bytes);
}

ivf_struct *vx_ivf_struct_new(const ivf_index *ix, uint32_t nlist) {
  ivf_struct *st = vx_calloc(1, sizeof *st);
  if (!st) return NULL;
  st->owner_bytes = (atomic_size_t *)&ix->bytes;
  account_add(st, sizeof *st);
  st->dim = ix->dim;
  st->nlist = nlist;
  st->cstride = ((size_t)ix->dim + 15) & ~(size_t)15;
  size_t nr = ix->kern->gemm_nr, panels = (nlist + nr - 1) / nr;
  size_t cent_bytes = (size_t)nlist * st->cstride * sizeof(float);
  size_t panel_bytes = panels * nr * ix->dim * sizeof(float);
  st->cent = vx_alloc_aligned(cent_bytes, VX_CACHE_LINE);
  st->panels = vx_alloc_aligned(panel_bytes, VX_CACHE_LINE);
  st->cnorm = vx_alloc(nlist * sizeof *st->cnorm);
  st->lists = vx_calloc(nlist, sizeof *st->lists);
  st->perm = vx_alloc(ix->dim * sizeof *st->perm);
  st->tmp = vx_alloc(ix->dim * (sizeof *st->tmp + 1));
  size_t proj_bytes = ix->proj_dims * ix->dim * sizeof(float);
  st->proj = proj_bytes ? vx_alloc_aligned(proj_bytes, VX_CACHE_LINE) : NULL;
  int sq = vx_sq8_init(&st->sq, ix->dim);
  size_t ccode_bytes = ix->metric == VEXFS_METRIC_L2 ? (size_t)nlist * ix->dim : 0;
  st->ccodes = ccode_bytes ? vx_alloc_aligned(ccode_bytes, VX_CACHE_LINE) : NULL;
  st->cerr = ccode_bytes ? vx_alloc(nlist * sizeof *st->cerr) : NULL;
  if (!st->cent || !st->panels || !st->cnorm || !st->lists || !st->perm || !st->tmp || sq != 0 ||
      (proj_bytes && !st->proj) || (ccode_bytes && (!st->ccodes || !st->cerr))) {
    vx_ivf_struct_free(st);
    return NULL;
  }
  memset(st->cent, 0, cent_bytes);
  account_add(st, cent_bytes + panel_bytes + nlist * (sizeof(float) + sizeof(ivf_list)) +
                      (size_t)ix->dim * (3 * sizeof(float) + 1) + proj_bytes + ccode_bytes +
                      (ccode_bytes ? nlist * sizeof(float) : 0));
  for (uint32_t l = 0; l < nlist; l++) atomic_init(&st->lists[l].n, 0);
  for (uint32_t d = 0; d < ix->dim; d++) st->perm[d] = d;
  return st;
}

static void free_new_buffers(ivf_list *L) {
  vx_release(L->new_slots);
  vx_release(L->new_codes);
  vx_release(L->new_terms);
  L->new_slots = NULL;
  L->new_codes = NULL;
  L->new_terms = NULL;
  L->new_cap = 0;
  L->incoming = 0;
}

void vx_ivf_struct_free(ivf_struct *st) {
  if (!st) return;
  if (st->lists)
    for (uint32_t l = 0; l < st->nlist; l++) {
      ivf_list *L = &st->lists[l];
      vx_release(L->slots);
      vx_release(L->codes);
      vx_release(L->terms);
      free_new_buffers(L);
    }
  vx_release(st->lists);
  vx_release(st->cent);
  vx_release(st->panels);
  vx_release(st->ccodes);
  vx_release(st->cerr);
  vx_release(st->cnorm);
  vx_release(st->where);
  vx_release(st->perm);
  vx_release(st->tmp);
  vx_release(st->proj);
  vx_sq8_destroy(&st->sq);
  atomic_fetch_sub_explicit(st->owner_bytes, st->bytes, memory_order_relaxed);
  vx_release(st);
}

static size_t entry_bytes(const ivf_index *ix) {
  return sizeof(uint32_t) + IVF_TERMS * sizeof(float) + ix->code_size;
}

int vx_ivf_where_reserve(ivf_struct *st, size_t slots) {
  if (slots <= st->where_cap) return 0;
  size_t cap = st->where_cap + st->where_cap / 2;
  if (cap < slots) cap = slots;
  uint64_t *w = counted_alloc(st, cap * sizeof *w);
  if (!w) return -1;
  if (st->where_cap) memcpy(w, st->where, st->where_cap * sizeof *w);
  for (size_t i = st->where_cap; i < cap; i++) w[i] = IVF_NO_PLACE;
  counted_release(st, st->where, st->where_cap * sizeof *w);
  st->where = w;
  st->where_cap = cap;
  return 0;
}

/* New buffers for `cap` entries of list L, in L's new_* fields; swap_in fills them with L's
 * entries of that moment (a remove may come between, as an upsert's does). */
static int make_new_buffers(const ivf_index *ix, ivf_struct *st, ivf_list *L, uint32_t cap) {
  L->new_slots = vx_alloc((size_t)cap * sizeof(uint32_t));
  L->new_codes = vx_alloc_aligned((size_t)cap * ix->code_size, VX_CACHE_LINE);
  L->new_terms = vx_alloc((size_t)cap * IVF_TERMS * sizeof(float));
  if (!L->new_slots || !L->new_codes || !L->new_terms) {
    free_new_buffers(L);
    return -1;
  }
  L->new_cap = cap;
  account_add(st, (size_t)cap * entry_bytes(ix));
  return 0;
}

/* Moves list L's entries into its new buffers and swaps those in (no search may be reading L). */
static void swap_in(const ivf_index *ix, ivf_struct *st, ivf_list *L) {
  if (!L->new_slots) return;
  size_t n = atomic_load_explicit(&L->n, memory_order_relaxed);
  if (n) {
    memcpy(L->new_slots, L->slots, n * sizeof(uint32_t));
    memcpy(L->new_codes, L->codes, n * ix->head_bytes);
    memcpy(L->new_codes + (size_t)L->new_cap * ix->head_bytes, ivf_tail(ix, L, 0),
           n * ix->tail_bytes);
    memcpy(L->new_terms, L->terms, n * IVF_TERMS * sizeof(float));
  }
  vx_release(L->slots);
  vx_release(L->codes);
  vx_release(L->terms);
  account_sub(st, (size_t)L->cap * entry_bytes(ix));
  L->slots = L->new_slots;
  L->codes = L->new_codes;
  L->terms = L->new_terms;
  L->cap = L->new_cap;
  L->new_slots = NULL;
  L->new_codes = NULL;
  L->new_terms = NULL;
  L->new_cap = 0;
}

int vx_ivf_list_reserve(const ivf_index *ix, ivf_struct *st, uint32_t l, uint32_t cap) {
  ivf_list *L = &st->lists[l];
  if (cap <= L->cap) return 0;
  if (make_new_buffers(ix, st, L, cap) != 0) return -1;
  swap_in(ix, st, L);
  return 0;
}

void vx_ivf_append(const ivf_index *ix, ivf_struct *st, const vx_store *s, uint32_t l,
                   uint32_t slot, const float *projected) {
  ivf_list *L = &st->lists[l];
  uint32_t pos = atomic_load_explicit(&L->n, memory_order_relaxed);
  L->slots[pos] = slot;
  const float *row = vx_store_row(s, slot);
  float norm = vx_store_norm(s, slot);
  float *terms = L->terms + IVF_TERMS * (size_t)pos;
  if (ix->codes == VEXFS_IVF_CODES_F32) { /* the projection, and what it leaves of the norm */
    float *head = (float *)ivf_head(ix, L, pos), pn = 0;
    for (size_t h = 0; h < ix->proj_dims; h++) {
      head[h] = projected ? projected[h] : ix->kern->dot(st->proj + h * ix->dim, row, ix->dim);
      pn += head[h] * head[h];
    }
    terms[0] = norm > pn ? sqrtf(norm - pn) : 0.0f;
  } else {
    for (uint32_t d = 0; d < ix->dim; d++) st->tmp[d] = row[st->perm[d]];
    uint8_t *code = (uint8_t *)(st->tmp + ix->dim);
    float lx = vx_sq8_encode(&st->sq, st->tmp, code);
    memcpy(ivf_head(ix, L, pos), code, ix->head_bytes);
    memcpy(ivf_tail(ix, L, pos), code + ix->head_bytes, ix->tail_bytes);
    terms[0] = ix->metric == VEXFS_METRIC_L2 ? vx_sq8_error(&st->sq, st->tmp, code) : lx;
  }
  terms[1] = norm > 0 ? 1.0f / sqrtf(norm) : 0.0f;
  st->where[slot] = (uint64_t)l << 32 | pos;
  atomic_store_explicit(&L->n, pos + 1, memory_order_release);
}

uint32_t vx_ivf_nlist_for(const ivf_index *ix, size_t live) {
  size_t nlist = ix->nlist_cfg ? ix->nlist_cfg : (size_t)(sqrt((double)live) + 0.5);
  if (nlist > live) nlist = live;
  if (nlist > VEXFS_IVF_MAX_NLIST) nlist = VEXFS_IVF_MAX_NLIST;
  return nlist ? (uint32_t)nlist : 1;
}

/* ---- create / destroy ---- */

static vexfs_status ivf_create(const vexfs_collection_config *cfg, void **state) {
  ivf_index *ix = vx_calloc(1, sizeof *ix);
  if (!ix) return vx_fail(VEXFS_E_NOMEM, "vexfs_collection_create: out of memory for IVF");
  ix->dim = cfg->dim;
  ix->metric = cfg->metric;
  ix->codes = cfg->ivf_codes;
  ix->nlist_cfg = cfg->ivf_nlist;
  ix->nprobe_cfg = cfg->ivf_nprobe;
  ix->seed = cfg->hnsw_seed;
  if (cfg->ivf_codes == VEXFS_IVF_CODES_F32) { /* the projection is the code: no tail */
    ix->proj_dims = cfg->dim < IVF_PROJ_DIMS ? cfg->dim : IVF_PROJ_DIMS;
    ix->head_dims = ix->proj_dims;
    ix->code_size = ix->head_bytes = ix->proj_dims * sizeof(float);
  } else {
    ix->code_size = cfg->dim;
    ix->head_dims = cfg->dim / HEAD_SHARE / HEAD_ALIGN * HEAD_ALIGN;
    if (!ix->head_dims) ix->head_dims = cfg->dim;
    ix->head_bytes = ix->head_dims;
  }
  ix->centroid_head = cfg->dim / HEAD_SHARE / HEAD_ALIGN * HEAD_ALIGN;
  if (!ix->centroid_head) ix->centroid_head = cfg->dim;
  ix->tail_bytes = ix->code_size - ix->head_bytes;
  ix->kern = vx_simd();
  atomic_init(&ix->cur, NULL);
  atomic_init(&ix->bytes, sizeof *ix);
  *state = ix;
  return VEXFS_OK;
}

static void free_retired(ivf_index *ix) {
  vx_ivf_struct_free(ix->retired);
  ix->retired = NULL;
}

static void ivf_destroy(void *state) {
  ivf_index *ix = state;
  if (!ix) return;
  free_retired(ix);
  vx_ivf_struct_free(atomic_load(&ix->cur));
  vx_release(ix->pending);
  vx_release(ix);
}

/* ---- insert ---- */

static void drop_prepared(ivf_index *ix) {
  ivf_struct *st = atomic_load_explicit(&ix->cur, memory_order_relaxed);
  if (st && ix->pending)
    for (size_t i = 0; i < ix->npending; i++) {
      ivf_list *L = &st->lists[ix->pending[i]];
      if (L->new_slots)
        account_sub(st, (size_t)L->new_cap * entry_bytes(ix));
      free_new_buffers(L);
    }
  vx_release(ix->pending);
  ix->pending = NULL;
  ix->npending = 0;
}

static vexfs_status ivf_prepare(void *state, const vx_store *s, const uint32_t *slots,
                                const float *vectors, const float *norms, size_t n,
                                unsigned threads) {
  (void)norms;
  (void)threads;
  ivf_index *ix = state;
  ivf_struct *st = atomic_load_explicit(&ix->cur, memory_order_relaxed);
  if (!st || n == 0) return VEXFS_OK; /* untrained: add may train, or stays exact */
  const char *fn = "vexfs_insert";
  size_t top = 0;
  for (size_t i = 0; i < n; i++)
    if (slots[i] + (size_t)1 > top) top = slots[i] + (size_t)1;
  const float **rows = vx_alloc(n * sizeof *rows);
  ix->pending = vx_alloc(n * sizeof *ix->pending);
  ix->npending = 0;
  int ok = rows && ix->pending && vx_ivf_where_reserve(st, top) == 0;
  if (ok) {
    for (size_t i = 0; i < n; i++)
      rows[i] = vectors ? vectors + i * s->dim : vx_store_row(s, slots[i]);
    ok = vx_ivf_assign(ix, st, rows, n, ix->pending) == 0;
  }
  vx_release(rows);
  if (!ok) {
    drop_prepared(ix);
    return vx_fail(VEXFS_E_NOMEM, "%s: out of memory for the IVF lists", fn);
  }
  ix->npending = n;
  for (size_t i = 0; i < n; i++) st->lists[ix->pending[i]].incoming++;
  for (size_t i = 0; i < n; i++) {
    ivf_list *L = &st->lists[ix->pending[i]];
    size_t need = (size_t)atomic_load_explicit(&L->n, memory_order_relaxed) + L->incoming;
    if (need <= L->cap || L->new_slots) continue;
    size_t cap = L->cap + L->cap / GROW_SHARE;
    if (cap < need) cap = need;
    if (cap < MIN_CAP) cap = MIN_CAP;
    if (cap > UINT32_MAX || make_new_buffers(ix, st, L, (uint32_t)cap) != 0) {
      drop_prepared(ix);
      return vx_fail(VEXFS_E_NOMEM, "%s: out of memory for the IVF lists", fn);
    }
  }
  return VEXFS_OK;
}

/* Under the exclusive lock: no search holds the retired structure or any list buffer. */
static void ivf_publish(void *state, const vx_store *s) {
  (void)s;
  ivf_index *ix = state;
  free_retired(ix);
  ivf_struct *st = atomic_load_explicit(&ix->cur, memory_order_relaxed);
  if (!st || !ix->pending) return;
  for (size_t i = 0; i < ix->npending; i++) swap_in(ix, st, &st->lists[ix->pending[i]]);
}

/* Builds a new structure over every live row and publishes it; on failure keeps the old one. */
static int retrain(ivf_index *ix, const vx_store *s, unsigned threads) {
  (void)threads;
  if (ix->retired) return -1; /* searches may still read it: the next insert retrains */
  size_t live = atomic_load_explicit(&s->live, memory_order_relaxed);
  if (live == 0) return -1;
  uint64_t seed = ix->seed ^ (0x9E3779B97F4A7C15ull * (ix->trainings + 1));
  ivf_struct *fresh = vx_ivf_build(ix, s, vx_ivf_nlist_for(ix, live), seed);
  if (!fresh) return -1;
  ix->trainings++;
  ivf_struct *old = atomic_load_explicit(&ix->cur, memory_order_relaxed);
  ix->retired = old;
  atomic_store_explicit(&ix->cur, fresh, memory_order_release);
  return 0;
}

size_t vx_ivf_train_rows(const ivf_index *ix) {
  size_t rows = (size_t)ix->nlist_cfg * IVF_MIN_PER_LIST;
  return ix->nlist_cfg && rows < IVF_TRAIN_MIN ? rows : IVF_TRAIN_MIN;
}

static int wants_training(const ivf_index *ix, const ivf_struct *st, size_t live) {
  if (!st) return live >= vx_ivf_train_rows(ix);
  return live >= (size_t)IVF_RETRAIN_FACTOR * st->trained_live;
}

static void ivf_add(void *state, const vx_store *s, const uint32_t *slots, size_t n,
                    unsigned threads) {
  ivf_index *ix = state;
  ivf_struct *st = atomic_load_explicit(&ix->cur, memory_order_relaxed);
  if (st && ix->pending) {
    for (size_t i = 0; i < n; i++) {
      ivf_list *L = &st->lists[ix->pending[i]];
      L->incoming = 0;
      vx_ivf_append(ix, st, s, ix->pending[i], slots[i], NULL);
    }
  }
  vx_release(ix->pending);
  ix->pending = NULL;
  ix->npending = 0;
  if (wants_training(ix, st, atomic_load_explicit(&s->live, memory_order_relaxed)))
    retrain(ix, s, threads);
}

static void ivf_cancel(void *state, const uint32_t *slots, size_t n) {
  (void)slots;
  (void)n;
  drop_prepared(state);
}

/* ---- remove ---- */

/* Under the exclusive lock: each row leaves its list by moving the list's last entry into its
 * place (O(1) through the slot map). */
static void ivf_remove(void *state, const vx_store *s, const uint32_t *slots, size_t n,
                       void *scratch) {
  (void)s;
  (void)scratch;
  ivf_index *ix = state;
  free_retired(ix);
  ivf_struct *st = atomic_load_explicit(&ix->cur, memory_order_relaxed);
  if (!st) return;
  for (size_t i = 0; i < n; i++) {
    if (slots[i] >= st->where_cap || st->where[slots[i]] == IVF_NO_PLACE) continue;
    uint64_t w = st->where[slots[i]];
    ivf_list *L = &st->lists[w >> 32];
    uint32_t pos = (uint32_t)w, last = atomic_load_explicit(&L->n, memory_order_relaxed) - 1;
    if (pos != last) {
      uint32_t moved = L->slots[last];
      L->slots[pos] = moved;
      memcpy(ivf_head(ix, L, pos), ivf_head(ix, L, last), ix->head_bytes);
      memcpy(ivf_tail(ix, L, pos), ivf_tail(ix, L, last), ix->tail_bytes);
      memcpy(L->terms + pos * IVF_TERMS, L->terms + last * IVF_TERMS, IVF_TERMS * sizeof(float));
      st->where[moved] = (w >> 32) << 32 | pos;
    }
    st->where[slots[i]] = IVF_NO_PLACE;
    atomic_store_explicit(&L->n, last, memory_order_relaxed);
  }
}

static size_t ivf_memory(const void *state) {
  const ivf_index *ix = state;
  /* memory runs outside the collection's locks, while structures may be freed: it reads the
   * index's own counter, which every structure's allocations and releases update */
  return atomic_load_explicit(&ix->bytes, memory_order_relaxed);
}

/* ---- for AUTO ---- */

const vx_index_ops vx_index_ivf = {
    .name = "ivf",
    .create = ivf_create,
    .destroy = ivf_destroy,
    .prepare = ivf_prepare,
    .publish = ivf_publish,
    .add = ivf_add,
    .remove = ivf_remove,
    .search = vx_ivf_search,
    .memory = ivf_memory,
    .cancel = ivf_cancel,
    .save = vx_ivf_save,
    .load = vx_ivf_load,
    .filtered_cost = vx_ivf_filtered_cost,
};

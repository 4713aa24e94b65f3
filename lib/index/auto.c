/* AUTO index: exact (flat) while the collection is small, then the approximate index that the
 * measured crossovers choose for its size (auto_choice): IVF from 1 280-2 560 live rows, by
 * dimension. The switch happens inside an insert: the index is built over every live row while
 * searches keep using the exact path, then published with one release store. If building fails
 * for lack of memory, the collection simply stays exact. Once built, the index grows with the
 * collection by its own rules. */
#include <stdatomic.h>
#include <string.h>

#include "../alloc_internal.h"
#include "../errors_internal.h"
#include "index.h"

/* What AUTO can build, by the code its snapshot stores, and the name vexfs_index_in_use gives
 * it. HNSW is what 0.1 and 0.2 built past 5 000 rows: such collections keep their graph. */
static const struct {
  uint32_t code;
  const vx_index_ops *ops;
  const char *name;
} built_kinds[] = {
    {1, &vx_index_hnsw, "auto:hnsw"},
    {2, &vx_index_ivf, "auto:ivf"},
};
enum { KINDS = sizeof built_kinds / sizeof *built_kinds };

typedef struct auto_index {
  vexfs_collection_config cfg;
  unsigned kind; /* built_kinds[kind] once built */
  void *built;
  atomic_int ready; /* searches use `built` once this is set */
} auto_index;

/* The index to build for `live` rows of `dim` floats, or -1 to stay exact. */
static int auto_choice(size_t live, uint32_t dim) {
  return live >= VX_AUTO_IVF_ROWS(dim) ? 1 : -1;
}

static vexfs_status auto_create(const vexfs_collection_config *cfg, void **state) {
  auto_index *a = vx_calloc(1, sizeof *a);
  if (!a) return vx_fail(VEXFS_E_NOMEM, "vexfs_collection_create: out of memory");
  a->cfg = *cfg;
  atomic_init(&a->ready, 0);
  *state = a;
  return VEXFS_OK;
}

static const vx_index_ops *ops_of(const auto_index *a) { return built_kinds[a->kind].ops; }

static void auto_destroy(void *state) {
  auto_index *a = state;
  if (a->built) ops_of(a)->destroy(a->built);
  vx_release(a);
}

static int ready(const auto_index *a) {
  return atomic_load_explicit(&a->ready, memory_order_acquire);
}

const vx_index_ops *vx_auto_built(const void *state, void **index) {
  const auto_index *a = state;
  if (!ready(a)) return NULL;
  *index = a->built;
  return ops_of(a);
}

const char *vx_auto_name(const void *state) {
  const auto_index *a = state;
  return ready(a) ? built_kinds[a->kind].name : "auto";
}

static vexfs_status auto_prepare(void *state, const vx_store *s, const uint32_t *slots,
                                 const float *vectors, const float *norms, size_t n,
                                 unsigned threads) {
  auto_index *a = state;
  return ready(a) ? ops_of(a)->prepare(a->built, s, slots, vectors, norms, n, threads) : VEXFS_OK;
}

static void auto_publish(void *state, const vx_store *s) {
  auto_index *a = state;
  if (ready(a)) ops_of(a)->publish(a->built, s);
}

/* Builds built_kinds[kind] over every live row; on any failure, leaves the collection exact. */
static void build(auto_index *a, unsigned kind, const vx_store *s, unsigned threads) {
  const vx_index_ops *ops = built_kinds[kind].ops;
  size_t rows = atomic_load_explicit(&s->rows, memory_order_relaxed);
  size_t live = atomic_load_explicit(&s->live, memory_order_relaxed);
  uint32_t *slots = vx_alloc(live * sizeof *slots);
  void *index = NULL;
  if (!slots || ops->create(&a->cfg, &index) != VEXFS_OK) goto out;
  size_t n = 0;
  for (size_t slot = 0; slot < rows; slot++)
    if (vx_store_id(s, slot) != VX_NO_ID) slots[n++] = (uint32_t)slot;
  if (ops->prepare(index, s, slots, NULL, NULL, n, threads) != VEXFS_OK) goto out;
  ops->publish(index, s); /* not shared yet: no lock needed */
  ops->add(index, s, slots, n, threads);
  a->kind = kind;
  a->built = index;
  index = NULL;
  atomic_store_explicit(&a->ready, 1, memory_order_release);
out:
  if (index) ops->destroy(index);
  vx_release(slots);
}

static void auto_add(void *state, const vx_store *s, const uint32_t *slots, size_t n,
                     unsigned threads) {
  auto_index *a = state;
  if (ready(a)) {
    ops_of(a)->add(a->built, s, slots, n, threads);
    return;
  }
  int kind = auto_choice(atomic_load_explicit(&s->live, memory_order_relaxed), s->dim);
  if (kind >= 0) build(a, (unsigned)kind, s, threads);
}

static vexfs_status auto_prepare_remove(void *state, const vx_store *s, void **scratch) {
  auto_index *a = state;
  *scratch = NULL;
  return ready(a) && ops_of(a)->prepare_remove
             ? ops_of(a)->prepare_remove(a->built, s, scratch)
             : VEXFS_OK;
}

/* The index cannot appear between the two steps: both run under the collection's write_lock,
 * as the insert that builds it does. */
static void auto_remove(void *state, const vx_store *s, const uint32_t *slots, size_t n,
                        void *scratch) {
  auto_index *a = state;
  if (ready(a)) ops_of(a)->remove(a->built, s, slots, n, scratch);
}

static vexfs_status auto_search(void *state, const vx_store *s, size_t rows, const vx_query *q) {
  auto_index *a = state;
  return ready(a) ? ops_of(a)->search(a->built, s, rows, q) : vx_flat_search(s, rows, q);
}

static double auto_filtered_cost(const void *state, const vx_store *s, const vx_query *q,
                                 double share, int bitmap) {
  const auto_index *a = state;
  return ready(a) && ops_of(a)->filtered_cost
             ? ops_of(a)->filtered_cost(a->built, s, q, share, bitmap)
             : -1;
}

static size_t auto_memory(const void *state) {
  const auto_index *a = state;
  return ready(a) && ops_of(a)->memory ? ops_of(a)->memory(a->built) : 0;
}

static void auto_cancel(void *state, const uint32_t *slots, size_t n) {
  auto_index *a = state;
  if (ready(a) && ops_of(a)->cancel) ops_of(a)->cancel(a->built, slots, n);
}

/* A word (0: exact, else the built kind's code), then the built index. */
static void auto_save(const void *state, const vx_store *s, vx_snap_writer *w) {
  const auto_index *a = state;
  uint32_t code = ready(a) ? built_kinds[a->kind].code : 0;
  vx_snapw_put(w, &code, sizeof code);
  if (code && ops_of(a)->save) ops_of(a)->save(a->built, s, w);
}

static vexfs_status auto_load(void *state, const vx_store *s, vx_sec_reader *r) {
  auto_index *a = state;
  uint32_t code;
  unsigned kind = 0;
  if (vx_secr_read(r, &code, sizeof code) != 0) code = UINT32_MAX;
  while (code && kind < KINDS && built_kinds[kind].code != code) kind++;
  if (code && kind == KINDS)
    return vx_fail(VEXFS_E_CORRUPT, "vexfs_db_open: the snapshot's AUTO index state is damaged");
  if (!code) return VEXFS_OK;
  const vx_index_ops *ops = built_kinds[kind].ops;
  void *index = NULL;
  vexfs_status st = ops->create(&a->cfg, &index);
  if (st == VEXFS_OK && ops->load) st = ops->load(index, s, r);
  if (st != VEXFS_OK) {
    if (index) ops->destroy(index);
    return st;
  }
  a->kind = kind;
  a->built = index;
  atomic_store_explicit(&a->ready, 1, memory_order_release);
  return VEXFS_OK;
}

const vx_index_ops vx_index_auto = {
    .name = "auto",
    .create = auto_create,
    .destroy = auto_destroy,
    .prepare = auto_prepare,
    .publish = auto_publish,
    .add = auto_add,
    .prepare_remove = auto_prepare_remove,
    .remove = auto_remove,
    .search = auto_search,
    .memory = auto_memory,
    .cancel = auto_cancel,
    .save = auto_save,
    .load = auto_load,
    .filtered_cost = auto_filtered_cost,
};

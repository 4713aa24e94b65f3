/* AUTO index: exact (flat) while the collection is small, HNSW once it has grown past the
 * crossover where graph search beats a scan. The switch happens inside an insert: the graph is
 * built over every live row while searches keep using the exact path, then published with one
 * release store. If building fails for lack of memory, the collection simply stays exact. */
#include <stdatomic.h>
#include <string.h>

#include "../alloc_internal.h"
#include "../errors_internal.h"
#include "index.h"

typedef struct auto_index {
  vexfs_collection_config cfg;
  void *graph;            /* HNSW state once built */
  atomic_int graph_ready; /* searches use the graph once this is set */
} auto_index;

static vexfs_status auto_create(const vexfs_collection_config *cfg, void **state) {
  auto_index *a = vx_calloc(1, sizeof *a);
  if (!a) return vx_fail(VEXFS_E_NOMEM, "vexfs_collection_create: out of memory");
  a->cfg = *cfg;
  atomic_init(&a->graph_ready, 0);
  *state = a;
  return VEXFS_OK;
}

static void auto_destroy(void *state) {
  auto_index *a = state;
  if (a->graph) vx_index_hnsw.destroy(a->graph);
  vx_release(a);
}

static int ready(const auto_index *a) {
  return atomic_load_explicit(&a->graph_ready, memory_order_acquire);
}

int vx_auto_has_graph(const void *state) { return ready(state); }

void *vx_auto_graph(void *state) { return ready(state) ? ((auto_index *)state)->graph : NULL; }

static vexfs_status auto_prepare(void *state, const vx_store *s, const uint32_t *slots,
                                 const float *vectors, const float *norms, size_t n,
                                 unsigned threads) {
  auto_index *a = state;
  return ready(a) ? vx_index_hnsw.prepare(a->graph, s, slots, vectors, norms, n, threads)
                  : VEXFS_OK;
}

static void auto_publish(void *state, const vx_store *s) {
  auto_index *a = state;
  if (ready(a)) vx_index_hnsw.publish(a->graph, s);
}

/* Builds the graph over every live row; on any failure, leaves the collection exact. */
static void build_graph(auto_index *a, const vx_store *s, unsigned threads) {
  size_t rows = atomic_load_explicit(&s->rows, memory_order_relaxed);
  size_t live = atomic_load_explicit(&s->live, memory_order_relaxed);
  uint32_t *slots = vx_alloc(live * sizeof *slots);
  void *graph = NULL;
  if (!slots || vx_index_hnsw.create(&a->cfg, &graph) != VEXFS_OK) goto out;
  size_t n = 0;
  for (size_t slot = 0; slot < rows; slot++)
    if (vx_store_id(s, slot) != VX_NO_ID) slots[n++] = (uint32_t)slot;
  if (vx_index_hnsw.prepare(graph, s, slots, NULL, NULL, n, threads) != VEXFS_OK) goto out;
  vx_index_hnsw.publish(graph, s); /* not shared yet: no lock needed */
  vx_index_hnsw.add(graph, s, slots, n, threads);
  a->graph = graph;
  graph = NULL;
  atomic_store_explicit(&a->graph_ready, 1, memory_order_release);
out:
  if (graph) vx_index_hnsw.destroy(graph);
  vx_release(slots);
}

static void auto_add(void *state, const vx_store *s, const uint32_t *slots, size_t n,
                     unsigned threads) {
  auto_index *a = state;
  if (ready(a)) {
    vx_index_hnsw.add(a->graph, s, slots, n, threads);
    return;
  }
  if (atomic_load_explicit(&s->live, memory_order_relaxed) >= VX_AUTO_CROSSOVER)
    build_graph(a, s, threads);
}

static vexfs_status auto_prepare_remove(void *state, const vx_store *s, void **scratch) {
  auto_index *a = state;
  *scratch = NULL;
  return ready(a) ? vx_index_hnsw.prepare_remove(a->graph, s, scratch) : VEXFS_OK;
}

/* The graph cannot appear between the two steps: both run under the collection's write_lock,
 * as the insert that builds it does. */
static void auto_remove(void *state, const vx_store *s, const uint32_t *slots, size_t n,
                        void *scratch) {
  auto_index *a = state;
  if (ready(a)) vx_index_hnsw.remove(a->graph, s, slots, n, scratch);
}

static vexfs_status auto_search(void *state, const vx_store *s, size_t rows, const vx_query *q) {
  auto_index *a = state;
  return ready(a) ? vx_index_hnsw.search(a->graph, s, rows, q) : vx_flat_search(s, rows, q);
}

static double auto_filtered_cost(const void *state, const vx_query *q, double share, int bitmap) {
  const auto_index *a = state;
  return ready(a) ? vx_index_hnsw.filtered_cost(a->graph, q, share, bitmap) : -1;
}

static size_t auto_memory(const void *state) {
  const auto_index *a = state;
  return ready(a) ? vx_index_hnsw.memory(a->graph) : 0;
}

static void auto_cancel(void *state, const uint32_t *slots, size_t n) {
  auto_index *a = state;
  if (ready(a)) vx_index_hnsw.cancel(a->graph, slots, n);
}

/* A flag word (graph built or not), then the graph. */
static void auto_save(const void *state, const vx_store *s, vx_snap_writer *w) {
  const auto_index *a = state;
  uint32_t built = (uint32_t)ready(a);
  vx_snapw_put(w, &built, sizeof built);
  if (built) vx_index_hnsw.save(a->graph, s, w);
}

static vexfs_status auto_load(void *state, const vx_store *s, vx_sec_reader *r) {
  auto_index *a = state;
  uint32_t built;
  if (vx_secr_read(r, &built, sizeof built) || built > 1)
    return vx_fail(VEXFS_E_CORRUPT, "vexfs_db_open: the snapshot's AUTO index state is damaged");
  if (!built) return VEXFS_OK;
  void *graph = NULL;
  vexfs_status st = vx_index_hnsw.create(&a->cfg, &graph);
  if (st == VEXFS_OK) st = vx_index_hnsw.load(graph, s, r);
  if (st != VEXFS_OK) {
    if (graph) vx_index_hnsw.destroy(graph);
    return st;
  }
  a->graph = graph;
  atomic_store_explicit(&a->graph_ready, 1, memory_order_release);
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

/* The internal index interface: each index kind (flat, hnsw, ...) fills one vx_index_ops.
 *
 * The collection owns the vectors (vx_store) and calls the index around each change:
 *   insert: prepare (may fail; nothing visible yet) -> rows written -> publish (exclusive lock,
 *           with the rows) -> add
 *   remove: prepare_remove (may fail; nothing changed yet) -> logged -> remove (under the
 *           exclusive lock, before the rows are freed; cannot fail)
 *   upsert: prepare (the new rows) -> prepare_remove -> logged -> remove (the replaced rows)
 *           -> publish (the new rows) -> add, in one exclusive section: whatever prepare set
 *           aside (grown lists, buckets) must take in the remove's changes, not undo them
 *   search: search (shared lock; inserts may be adding concurrently) */
#ifndef VEXFS_INDEX_H
#define VEXFS_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "../persist/section.h"
#include "../store.h"
#include "vexfs/vexfs.h"

/* A predicate over slots, evaluated during search: only admitted rows are returned. */
typedef struct vx_filter {
  int (*admit)(const void *ctx, uint32_t slot);
  const void *ctx;
} vx_filter;

/* One validated batch search. Output rows follow the vexfs_search contract. */
typedef struct vx_query {
  const float *queries; /* nq * dim floats, all finite */
  size_t nq, k;         /* nq >= 1, 1 <= k <= VEXFS_MAX_K */
  unsigned threads;     /* resolved, >= 1 */
  uint32_t ef;          /* resolved candidate-list size for approximate indexes */
  uint32_t probes;      /* LSH buckets per table: the search's, else the collection's; 0 = the
                           index's default */
  uint32_t nprobe;      /* IVF lists scanned: the search's, else the collection's; 0 = the
                           index's default */
  vexfs_metric metric;
  const vx_filter *filter; /* NULL: every live row */
  int listed;              /* when set: score exactly slots[0, nslots) (live rows), no others */
  const uint32_t *slots;
  size_t nslots;
  _Atomic uint64_t *distance_count; /* the index adds the distances it computed */
  uint64_t *ids;
  float *distances;
  size_t *counts; /* may be NULL */
} vx_query;

typedef struct vx_index_ops {
  const char *name;
  /* State for a new, empty index. NULL for stateless kinds. */
  vexfs_status (*create)(const vexfs_collection_config *cfg, void **state);
  void (*destroy)(void *state);
  /* Makes room for rows about to be added at `slots`, so that add cannot fail. `vectors` and
   * `norms` hold their n * dim floats and n squared norms, or are NULL when the rows are already
   * in the store. */
  vexfs_status (*prepare)(void *state, const vx_store *s, const uint32_t *slots,
                          const float *vectors, const float *norms, size_t n, unsigned threads);
  /* Runs under the exclusive lock as prepared rows are published. Cannot fail. */
  void (*publish)(void *state, const vx_store *s);
  /* Links published rows into the index on up to `threads` threads. Cannot fail. */
  void (*add)(void *state, const vx_store *s, const uint32_t *slots, size_t n, unsigned threads);
  /* Sets aside the memory a remove needs, so that remove cannot fail: *scratch receives one
   * vx_alloc block or NULL, which remove takes over, or the caller vx_release()s when the
   * removal is abandoned. NULL op: remove needs nothing. */
  vexfs_status (*prepare_remove)(void *state, const vx_store *s, void **scratch);
  /* Drops rows about to be freed; called with no search or insert running. Cannot fail. */
  void (*remove)(void *state, const vx_store *s, const uint32_t *slots, size_t n, void *scratch);
  /* Answers q over the first `rows` rows, skipping free rows. */
  vexfs_status (*search)(void *state, const vx_store *s, size_t rows, const vx_query *q);
  /* Bytes the index holds. Thread-safe. NULL: none. */
  size_t (*memory)(const void *state);
  /* Undoes a successful prepare whose insert is abandoned (its log record could not be written).
   * NULL: nothing to undo. */
  void (*cancel)(void *state, const uint32_t *slots, size_t n);
  /* Writes the index into the open snapshot section (no mutation runs meanwhile; searches may),
   * and reads it back into a new index over a loaded store. NULL: nothing to persist (exact
   * indexes). load validates everything it reads: VEXFS_E_CORRUPT on a malformed section. */
  void (*save)(const void *state, const vx_store *s, vx_snap_writer *w);
  vexfs_status (*load)(void *state, const vx_store *s, vx_sec_reader *r);
  /* The filter planner's model of this search of q when only `share` (0, 1] of the live rows
   * pass and the filter is tested on each candidate (bitmap: a bit test, else a payload test of
   * VX_PLAN_PREDICATE_COST): its work in the units of payload/planner.h. Negative while the
   * index answers exactly; NULL: always exact (the planner then scores the admitted rows, or
   * scans testing the filter). */
  double (*filtered_cost)(const void *state, const vx_store *s, const vx_query *q, double share,
                          int bitmap);
} vx_index_ops;

extern const vx_index_ops vx_index_flat;
extern const vx_index_ops vx_index_hnsw;
extern const vx_index_ops vx_index_lsh;
extern const vx_index_ops vx_index_auto;
extern const vx_index_ops vx_index_ivf;


/* Live rows at which AUTO builds an IVF index over vectors of dim floats: where IVF's build plus
 * 1 000 single queries costs less than 1 000 scans. Both sides grow with dim (the build's
 * k-means and the scans read every coordinate), so the crossover is a number of rows, measured
 * (build/benchmarks/auto_crossover, benchmarks/README.md "AUTO crossover") between 1 100 and
 * 1 500 rows at d=16 (a scan's cost per row stops shrinking with d there), 1 500-2 500 at d=32
 * to 128, and 2 500-4 000 at d=256 and 768 (IVF's 256 principal axes then cost as much as the
 * rows, or are fitted at dim^2 per sample row). AUTO never builds HNSW for new collections: its
 * build never paid for itself within the 1 000 queries at any measured size. */
#define VX_AUTO_IVF_ROWS(dim) ((dim) <= 16 ? 1280u : (dim) <= 128 ? 2304u : 2560u)

/* The index an AUTO index has built (its state into *index), or NULL while it is exact. */
const vx_index_ops *vx_auto_built(const void *state, void **index);
/* "auto" while exact, then "auto:" and the built kind's name (vexfs_index_in_use). */
const char *vx_auto_name(const void *state);

/* Bytes an HNSW index of this M keeps with each code of a coded store (its node's links and
 * head: vx_store_init's index_bytes). */
size_t vx_hnsw_store_extra(uint32_t m);

/* Whether an HNSW index traverses on exact vectors because its 8-bit codes are too coarse for
 * the data (see hnsw.c). */
int vx_hnsw_traverses_exactly(const void *state);
/* Whether every code of an HNSW index decodes to its row exactly (so searches never read rows). */
int vx_hnsw_codes_lossless(const void *state);

/* Exact search of q over the first `rows` rows of s (the flat index), or over q->slots when
 * q->listed (the filter planner's admitted rows); also the fallback of approximate indexes that
 * find fewer than k hits. */
vexfs_status vx_flat_search(const vx_store *s, size_t rows, const vx_query *q);

#endif

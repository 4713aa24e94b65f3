/* The internal index interface: each index kind (flat, hnsw, ...) fills one vx_index_ops. */
#ifndef VEXFS_INDEX_H
#define VEXFS_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "../store.h"
#include "vexfs/vexfs.h"

/* One validated batch search. Output rows follow the vexfs_search contract. */
typedef struct vx_query {
  const float *queries; /* nq * dim floats, all finite */
  size_t nq, k;         /* nq >= 1, 1 <= k <= VEXFS_MAX_K */
  unsigned threads;     /* resolved, >= 1 */
  vexfs_metric metric;
  uint64_t *ids;
  float *distances;
  size_t *counts; /* may be NULL */
} vx_query;

typedef struct vx_index_ops {
  const char *name;
  /* Answers q over the first `count` rows of store, which stay unchanged during the call.
   * Errors: VEXFS_E_NOMEM (with vx_fail's message set). */
  vexfs_status (*search)(const vx_store *store, size_t count, const vx_query *q);
} vx_index_ops;

extern const vx_index_ops vx_index_flat;

#endif

/* Helpers of the index suites (test_hnsw.c, test_ivf.c, test_lsh.c): clustered data, inserting a range of
 * ids, and a filter predicate over slots admitting every modulus-th id. */
#ifndef VEXFS_INDEX_UTIL_H
#define VEXFS_INDEX_UTIL_H

#include "collection_internal.h"
#include "test_util.h"

/* Clustered data (what embeddings look like): 50 centres, points spread around them by up to
 * `spread` per coordinate. */
static inline float *clustered_by(size_t n, size_t dim, uint64_t seed, float spread) {
  float *centres = test_random_vectors(50, dim, seed);
  float *v = malloc(n * dim * sizeof *v);
  for (size_t i = 0; i < n; i++) {
    size_t c = test_rng(&seed) % 50;
    for (size_t d = 0; d < dim; d++)
      v[i * dim + d] = centres[c * dim + d] + spread * test_uniform(&seed);
  }
  free(centres);
  return v;
}

static inline float *clustered(size_t n, size_t dim, uint64_t seed) {
  return clustered_by(n, dim, seed, 0.3f);
}

static inline void insert_range(vexfs_collection *c, const float *v, uint64_t first_id, size_t n) {
  uint64_t *ids = malloc(n * sizeof *ids);
  for (size_t i = 0; i < n; i++) ids[i] = first_id + i;
  assert_int_equal(vexfs_insert(c, ids, v, n), VEXFS_OK);
  free(ids);
}

typedef struct modulo_filter {
  const vexfs_collection *c;
  uint64_t modulus;
} modulo_filter;

static inline int admit_modulo(const void *ctx, uint32_t slot) {
  const modulo_filter *m = ctx;
  return vx_collection_slot_id(m->c, slot) % m->modulus == 0;
}

#endif

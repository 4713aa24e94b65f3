/* Helpers shared by the C test suites: deterministic random data and a double-precision reference
 * for the three metrics. */
#ifndef VEXFS_TEST_UTIL_H
#define VEXFS_TEST_UTIL_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <vexfs/vexfs.h>

static inline uint64_t test_rng(uint64_t *state) { /* splitmix64 */
  uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/* Uniform in [-1, 1). */
static inline float test_uniform(uint64_t *state) {
  return (float)((test_rng(state) >> 40) * (1.0 / (1 << 23)) - 1.0);
}

static inline float *test_random_vectors(size_t n, size_t dim, uint64_t seed) {
  float *v = malloc(n * dim * sizeof *v);
  for (size_t i = 0; v && i < n * dim; i++) v[i] = test_uniform(&seed);
  return v;
}

static inline double test_distance(vexfs_metric m, const float *a, const float *b, size_t dim) {
  double ab = 0, aa = 0, bb = 0, l2 = 0;
  for (size_t i = 0; i < dim; i++) {
    ab += (double)a[i] * b[i];
    aa += (double)a[i] * a[i];
    bb += (double)b[i] * b[i];
    l2 += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
  }
  switch (m) {
  case VEXFS_METRIC_IP: return 1.0 - ab;
  case VEXFS_METRIC_COSINE: return aa == 0 || bb == 0 ? 1.0 : 1.0 - ab / sqrt(aa * bb);
  default: return l2;
  }
}

/* recall@k of `approx` searched with p (NULL: defaults) against `exact`, holding the same
 * vectors, over nq queries; -1 when a search fails. */
static inline double test_recall(vexfs_collection *approx, vexfs_collection *exact,
                                 const float *queries, size_t nq, size_t k,
                                 const vexfs_search_params *p) {
  uint64_t *a = malloc(nq * k * sizeof *a), *e = malloc(nq * k * sizeof *e);
  float *da = malloc(nq * k * sizeof *da), *de = malloc(nq * k * sizeof *de);
  double r = -1;
  if (a && e && da && de && vexfs_search(approx, queries, nq, k, p, a, da, NULL) == VEXFS_OK &&
      vexfs_search(exact, queries, nq, k, NULL, e, de, NULL) == VEXFS_OK) {
    size_t hit = 0;
    for (size_t q = 0; q < nq; q++)
      for (size_t i = 0; i < k; i++)
        for (size_t j = 0; j < k; j++) hit += a[q * k + i] == e[q * k + j];
    r = (double)hit / (nq * k);
  }
  free(a);
  free(e);
  free(da);
  free(de);
  return r;
}

#endif

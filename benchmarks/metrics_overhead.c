/* What recording metrics costs a search: single-query HNSW searches (the fastest calls, where a
 * fixed per-call cost shows most) with metrics on and off in short back-to-back rounds of
 * alternating order; the median of the pairs' QPS ratios.
 * usage: metrics_overhead [pairs]   (default 101) */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <vexfs/vexfs.h>

enum { N = 20000, D = 128, NQ = 1000, K = 10 };

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 101;
  if (rounds < 1 || rounds > 999) return 2;
  srand(1);
  float *centres = malloc(100 * D * sizeof *centres), *v = malloc((size_t)(N + NQ) * D * sizeof *v);
  for (size_t i = 0; i < 100 * D; i++) centres[i] = (float)rand() / RAND_MAX;
  for (size_t i = 0; i < N + NQ; i++) {
    const float *c = centres + (size_t)(rand() % 100) * D;
    for (size_t d = 0; d < D; d++) v[i * D + d] = c[d] + 0.1f * ((float)rand() / RAND_MAX - 0.5f);
  }
  uint64_t *ids = malloc(N * sizeof *ids);
  for (size_t i = 0; i < N; i++) ids[i] = i;
  vexfs_collection_config cfg;
  vexfs_collection_config_init(&cfg);
  cfg.dim = D;
  cfg.index = VEXFS_INDEX_HNSW;
  vexfs_collection *c;
  if (vexfs_collection_create(&cfg, &c) != VEXFS_OK || vexfs_insert(c, ids, v, N) != VEXFS_OK) {
    fprintf(stderr, "setup: %s\n", vexfs_last_error());
    return 1;
  }
  vexfs_search_params p;
  vexfs_search_params_init(&p);
  p.threads = 1;
  uint64_t out[K];
  float dist[K];
  const float *q = v + (size_t)N * D;
  static double on[999], off[999], ratio[999];
  for (int r = 0; r < rounds; r++)
    for (int turn = 0; turn < 2; turn++) { /* on-off, then off-on: order effects cancel */
      int enabled = (turn + r) % 2 == 0;
      vexfs_metrics_set_enabled(enabled);
      double t0 = now();
      for (size_t i = 0; i < NQ; i++) vexfs_search(c, q + i * D, 1, K, &p, out, dist, NULL);
      (enabled ? on : off)[r] = NQ / (now() - t0);
    }
  /* each round's pair ran back to back: their ratio is the least disturbed by a noisy machine */
  for (int r = 0; r < rounds; r++) ratio[r] = on[r] / off[r];
  qsort(on, (size_t)rounds, sizeof *on, cmp);
  qsort(off, (size_t)rounds, sizeof *off, cmp);
  qsort(ratio, (size_t)rounds, sizeof *ratio, cmp);
  printf("single-query HNSW search, %dx%d, one thread, %d pairs of %d-query rounds:\n", N, D,
         rounds, NQ);
  printf("metrics on  %.0f qps (median)\nmetrics off %.0f qps (median)\n", on[rounds / 2],
         off[rounds / 2]);
  printf("on / off, median of the pairs' ratios: %.4f (%+.2f%%); quartiles %.4f .. %.4f\n",
         ratio[rounds / 2], (ratio[rounds / 2] - 1) * 100, ratio[rounds / 4], ratio[3 * rounds / 4]);
  vexfs_collection_free(c);
  free(v);
  free(ids);
  free(centres);
  return 0;
}

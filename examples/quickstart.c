/* quickstart: create a collection with the default (AUTO) index, batch-insert 100k random vectors,
 * search, print what happened.
 * Build and run: see README.md. Usage: quickstart [vectors] [dim] */
#define _POSIX_C_SOURCE 200809L /* clock_gettime under -std=c99 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <vexfs/vexfs.h>

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static int fail(const char *what, vexfs_status st) {
  fprintf(stderr, "%s failed: %s (%s)\n", what, vexfs_status_string(st), vexfs_last_error());
  return 1;
}

int main(int argc, char **argv) {
  size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;
  uint32_t dim = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 10) : 128;
  enum { K = 10, SINGLE = 200, BATCH = 1000 };
  printf("libvexfs %s, SIMD kernels: %s\n", vexfs_version_string(), vexfs_simd_isa());

  vexfs_collection_config cfg;
  vexfs_collection_config_init(&cfg);
  cfg.dim = dim;
  cfg.metric = VEXFS_METRIC_L2;
  vexfs_collection *col;
  vexfs_status st = vexfs_collection_create(&cfg, &col);
  if (st != VEXFS_OK) return fail("vexfs_collection_create", st);

  float *vectors = malloc(n * dim * sizeof *vectors);
  uint64_t *ids = malloc(n * sizeof *ids);
  float *queries = malloc((size_t)BATCH * dim * sizeof *queries);
  uint64_t *out_ids = malloc((size_t)BATCH * K * sizeof *out_ids);
  float *out_dist = malloc((size_t)BATCH * K * sizeof *out_dist);
  double *lat = malloc(SINGLE * sizeof *lat);
  if (!vectors || !ids || !queries || !out_ids || !out_dist || !lat) return 1;
  /* Embedding-like data: points around 1000 random centres; queries drawn the same way. */
  srand(42);
  float *centres = malloc(1000 * (size_t)dim * sizeof *centres);
  if (!centres) return 1;
  for (size_t i = 0; i < 1000 * (size_t)dim; i++) centres[i] = (float)rand() / RAND_MAX;
  for (size_t i = 0; i < n + BATCH; i++) {
    float *row = i < n ? vectors + i * dim : queries + (i - n) * dim;
    const float *c = centres + (size_t)(rand() % 1000) * dim;
    for (uint32_t d = 0; d < dim; d++) row[d] = c[d] + 0.2f * ((float)rand() / RAND_MAX - 0.5f);
  }
  free(centres);
  for (size_t i = 0; i < n; i++) ids[i] = 1000 + i;

  double t0 = now_ms();
  st = vexfs_insert(col, ids, vectors, n);
  if (st != VEXFS_OK) return fail("vexfs_insert", st);
  double insert_ms = now_ms() - t0;
  printf("inserted %zu vectors of dim %u in %.1f ms (%.0f vectors/s)\n", vexfs_count(col), dim,
         insert_ms, n / (insert_ms / 1e3));

  /* Single queries, one at a time: latency percentiles. */
  for (int i = 0; i < SINGLE; i++) {
    t0 = now_ms();
    st = vexfs_search(col, queries + (size_t)i * dim, 1, K, NULL, out_ids, out_dist, NULL);
    if (st != VEXFS_OK) return fail("vexfs_search", st);
    lat[i] = now_ms() - t0;
  }
  qsort(lat, SINGLE, sizeof *lat, cmp_double);
  printf("single-query search (AUTO index, answering with %s), k=%d: p50 %.3f ms, p99 %.3f ms "
         "(%.0f queries/s)\n",
         vexfs_index_in_use(col), K, lat[SINGLE / 2], lat[SINGLE * 99 / 100],
         1e3 / lat[SINGLE / 2]);
  /* How close the default index's answers are to exact ones: recall@10 against a FLAT copy. */
  vexfs_collection *exact;
  cfg.index = VEXFS_INDEX_FLAT;
  if ((st = vexfs_collection_create(&cfg, &exact)) != VEXFS_OK) return fail("create", st);
  if ((st = vexfs_insert(exact, ids, vectors, n)) != VEXFS_OK) return fail("insert", st);
  enum { CHECK = 100 };
  uint64_t *truth = malloc((size_t)CHECK * K * sizeof *truth);
  if (!truth) return 1;
  if ((st = vexfs_search(exact, queries, CHECK, K, NULL, truth, out_dist, NULL)) != VEXFS_OK ||
      (st = vexfs_search(col, queries, CHECK, K, NULL, out_ids, out_dist, NULL)) != VEXFS_OK)
    return fail("vexfs_search", st);
  size_t hits = 0;
  for (size_t q = 0; q < CHECK; q++)
    for (int a = 0; a < K; a++)
      for (int b = 0; b < K; b++) hits += out_ids[q * K + a] == truth[q * K + b];
  printf("recall@%d against exact search, %d queries: %.4f\n", K, CHECK, (double)hits / (CHECK * K));
  vexfs_collection_free(exact);
  free(truth);

  printf("nearest to query 0:");
  st = vexfs_search(col, queries, 1, K, NULL, out_ids, out_dist, NULL);
  if (st != VEXFS_OK) return fail("vexfs_search", st);
  for (int j = 0; j < 3; j++) printf("  id %llu (d=%.4f)", (unsigned long long)out_ids[j], out_dist[j]);
  printf("\n");

  /* One batch of queries, split over all cores. */
  t0 = now_ms();
  st = vexfs_search(col, queries, BATCH, K, NULL, out_ids, out_dist, NULL);
  if (st != VEXFS_OK) return fail("vexfs_search", st);
  double batch_ms = now_ms() - t0;
  printf("batch of %d queries: %.1f ms (%.0f queries/s)\n", BATCH, batch_ms,
         BATCH / (batch_ms / 1e3));

  vexfs_collection_free(col);
  free(vectors);
  free(ids);
  free(queries);
  free(out_ids);
  free(out_dist);
  free(lat);
  return 0;
}

/* Where HNSW overtakes exact search: single-query latency of FLAT and HNSW (ef=64, M=16,
 * efConstruction=200), one thread, on clustered random data of growing size, at d=128 and d=768.
 * It also prints the build time an AUTO collection pays when it switches, and HNSW's recall@10.
 * AUTO_CROSSOVER in lib/index/auto.c comes from this table.
 *
 * usage: auto_crossover [max_n]   (default 40000) */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <vexfs/vexfs.h>

enum { K = 10, NQ = 300 };

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static float *clustered(size_t n, size_t dim, unsigned seed) {
  srand(seed);
  float *centres = malloc(100 * dim * sizeof *centres), *v = malloc(n * dim * sizeof *v);
  for (size_t i = 0; i < 100 * dim; i++) centres[i] = (float)rand() / RAND_MAX;
  for (size_t i = 0; i < n; i++) {
    size_t c = (size_t)rand() % 100;
    for (size_t d = 0; d < dim; d++)
      v[i * dim + d] = centres[c * dim + d] + 0.1f * ((float)rand() / RAND_MAX - 0.5f);
  }
  free(centres);
  return v;
}

static vexfs_collection *build(vexfs_index_kind kind, const float *v, size_t n, uint32_t dim,
                               double *seconds) {
  vexfs_collection_config cfg;
  vexfs_collection_config_init(&cfg);
  cfg.dim = dim;
  cfg.index = kind;
  cfg.threads = 1;
  vexfs_collection *c;
  uint64_t *ids = malloc(n * sizeof *ids);
  for (size_t i = 0; i < n; i++) ids[i] = i;
  double t0 = now();
  if (vexfs_collection_create(&cfg, &c) != VEXFS_OK || vexfs_insert(c, ids, v, n) != VEXFS_OK) {
    fprintf(stderr, "build failed: %s\n", vexfs_last_error());
    exit(1);
  }
  *seconds = now() - t0;
  free(ids);
  return c;
}

/* microseconds per single query; ids of each query's results into out */
static double latency(vexfs_collection *c, const float *q, uint32_t dim, uint64_t *out) {
  vexfs_search_params p;
  vexfs_search_params_init(&p);
  p.threads = 1;
  float dist[K];
  double t0 = now();
  for (size_t i = 0; i < NQ; i++) vexfs_search(c, q + i * dim, 1, K, &p, out + i * K, dist, NULL);
  return (now() - t0) / NQ * 1e6;
}

int main(int argc, char **argv) {
  size_t max_n = argc > 1 ? strtoul(argv[1], NULL, 10) : 40000;
  static const uint32_t dims[] = {128, 768};
  static const size_t sizes[] = {1000, 2500, 5000, 10000, 20000, 40000, 80000};
  uint64_t *exact = malloc(NQ * K * sizeof *exact), *approx = malloc(NQ * K * sizeof *approx);
  printf("| d | n | flat us/query | hnsw us/query | hnsw/flat speed | hnsw build s | recall@10 |\n"
         "|---|---|---|---|---|---|---|\n");
  for (int di = 0; di < 2; di++)
    for (size_t si = 0; si < sizeof sizes / sizeof *sizes && sizes[si] <= max_n; si++) {
      size_t n = sizes[si];
      uint32_t dim = dims[di];
      float *v = clustered(n + NQ, dim, 1), *q = v + n * dim; /* queries: the same clusters */
      double tf, th;
      vexfs_collection *flat = build(VEXFS_INDEX_FLAT, v, n, dim, &tf);
      vexfs_collection *hnsw = build(VEXFS_INDEX_HNSW, v, n, dim, &th);
      double lf = latency(flat, q, dim, exact), lh = latency(hnsw, q, dim, approx);
      size_t hit = 0;
      for (size_t i = 0; i < NQ; i++)
        for (int a = 0; a < K; a++)
          for (int b = 0; b < K; b++) hit += approx[i * K + a] == exact[i * K + b];
      printf("| %u | %zu | %.1f | %.1f | %.2fx | %.2f | %.4f |\n", dim, n, lf, lh, lf / lh, th,
             (double)hit / (NQ * K));
      fflush(stdout);
      vexfs_collection_free(flat);
      vexfs_collection_free(hnsw);
      free(v);
    }
  free(exact);
  free(approx);
  return 0;
}

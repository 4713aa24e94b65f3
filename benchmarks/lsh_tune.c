/* Tuning sweep for the LSH index on Fashion-MNIST (Debian's dataset-fashion-mnist, or
 * $FASHION_MNIST_DIR): builds one LSH collection from the 60000 training images in one batch on
 * one thread, then for each (probes, ef) pair answers the first nq test images one query per
 * call and prints recall@10 against an exact (FLAT) search, queries per second (median of
 * `reps` timed passes, by the wall clock and by this thread's CPU time, which is steadier on a
 * shared machine), index bytes per vector and the insert rate.
 *
 *   lsh_tune [--tables L] [--bits K] [--rotate] [--learned] [--metric l2|ip|cosine] [--nq N]
 *            [--reps R] [--width W] [--sweep P1,E1;P2,E2;...]
 *
 * --rotate multiplies the data (and queries) by a random orthogonal matrix (seeded), so that
 * coordinates are no longer small integers. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vexfs/vexfs.h>

#include "fashion_mnist_c.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

/* CPU time of this thread: on a machine shared with other work, rates from it are steadier. */
static double cpu_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static float *load_idx(const char *part, size_t *n, size_t *dim) {
  float *v = fashion_mnist(part, n, dim);
  if (!v) {
    fprintf(stderr, "cannot read Fashion-MNIST %s (dataset-fashion-mnist)\n", part);
    exit(1);
  }
  return v;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

#define K 10

int main(int argc, char **argv) {
  uint32_t tables = 0, bits = 0;
  int rot = 0, learned = 0, reps = 3;
  size_t nq = 1000;
  float width = 0;
  vexfs_metric metric = VEXFS_METRIC_L2;
  const char *sweep = "8,40;16,40;24,64;32,64;48,100;64,150;96,200;128,300";
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--tables") && i + 1 < argc) tables = (uint32_t)atoi(argv[++i]);
    else if (!strcmp(argv[i], "--bits") && i + 1 < argc) bits = (uint32_t)atoi(argv[++i]);
    else if (!strcmp(argv[i], "--nq") && i + 1 < argc) nq = (size_t)atol(argv[++i]);
    else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--width") && i + 1 < argc) width = (float)atof(argv[++i]);
    else if (!strcmp(argv[i], "--sweep") && i + 1 < argc) sweep = argv[++i];
    else if (!strcmp(argv[i], "--rotate")) rot = 1;
    else if (!strcmp(argv[i], "--learned")) learned = 1;
    else if (!strcmp(argv[i], "--metric") && i + 1 < argc) {
      i++;
      metric = !strcmp(argv[i], "ip") ? VEXFS_METRIC_IP
               : !strcmp(argv[i], "cosine") ? VEXFS_METRIC_COSINE : VEXFS_METRIC_L2;
    } else {
      fprintf(stderr, "unknown argument %s\n", argv[i]);
      return 2;
    }
  }
  size_t n, dim, nt, dim2;
  float *base = load_idx("train", &n, &dim), *queries = load_idx("t10k", &nt, &dim2);
  if (nq > nt) nq = nt;
  if (rot) {
    fashion_mnist_rotate(base, n, dim, 42);
    fashion_mnist_rotate(queries, nq, dim, 42);
  }
  if (metric == VEXFS_METRIC_IP) { /* scale so that dots are O(1) */
    for (size_t i = 0; i < n * dim; i++) base[i] /= 2550.0f;
    for (size_t i = 0; i < nq * dim; i++) queries[i] /= 2550.0f;
  }
  uint64_t *ids = malloc(n * sizeof *ids);
  for (size_t i = 0; i < n; i++) ids[i] = i;

  /* ground truth */
  vexfs_collection_config cfg;
  vexfs_collection_config_init(&cfg);
  cfg.dim = (uint32_t)dim;
  cfg.metric = metric;
  cfg.index = VEXFS_INDEX_FLAT;
  cfg.threads = 1;
  vexfs_collection *flat;
  if (vexfs_collection_create(&cfg, &flat) || vexfs_insert(flat, ids, base, n)) return 1;
  uint64_t *truth = malloc(nq * K * sizeof *truth), *got = malloc(nq * K * sizeof *got);
  float *dist = malloc(nq * K * sizeof *dist);
  vexfs_search(flat, queries, nq, K, NULL, truth, dist, NULL);
  vexfs_collection_free(flat);

  cfg.index = VEXFS_INDEX_LSH;
  cfg.lsh_tables = tables;
  cfg.lsh_bits = bits;
  cfg.lsh_bucket_width = width;
  cfg.lsh_projection = learned ? VEXFS_LSH_PROJECTION_LEARNED : VEXFS_LSH_PROJECTION_RANDOM;
  vexfs_collection *c;
  if (vexfs_collection_create(&cfg, &c)) return 1;
  double t0 = now(), c0 = cpu_now();
  if (vexfs_insert(c, ids, base, n)) {
    fprintf(stderr, "insert: %s\n", vexfs_last_error());
    return 1;
  }
  double build = now() - t0, build_cpu = cpu_now() - c0;
  vexfs_metrics m;
  vexfs_metrics_init(&m);
  vexfs_collection_metrics(c, &m);
  printf("# lsh tables=%u bits=%u rotate=%d learned=%d metric=%d n=%zu nq=%zu\n", tables, bits,
         rot, learned, (int)metric, n, nq);
  printf("# insert %.0f vectors/s (%.3f s; %.0f vectors per CPU second), index %.1f bytes/vector\n",
         n / build, build, n / build_cpu, (double)m.memory_index / n);
  printf("probes  ef  recall@10  qps  qps(cpu)  dist/query\n");
  for (const char *p = sweep; p && *p;) {
    unsigned probes, ef;
    if (sscanf(p, "%u,%u", &probes, &ef) != 2) break;
    vexfs_search_params sp;
    vexfs_search_params_init(&sp);
    sp.probes = probes;
    sp.ef = ef;
    sp.threads = 1;
    double *qps = malloc(reps * sizeof *qps), *cqps = malloc(reps * sizeof *cqps);
    vexfs_metrics before, after;
    vexfs_metrics_init(&before);
    vexfs_metrics_init(&after);
    vexfs_collection_metrics(c, &before);
    for (int r = 0; r < reps; r++) {
      double s0 = now(), sc0 = cpu_now();
      for (size_t i = 0; i < nq; i++)
        vexfs_search(c, queries + i * dim, 1, K, &sp, got + i * K, dist + i * K, NULL);
      qps[r] = nq / (now() - s0);
      cqps[r] = nq / (cpu_now() - sc0);
    }
    vexfs_collection_metrics(c, &after);
    qsort(qps, reps, sizeof *qps, cmp_double);
    qsort(cqps, reps, sizeof *cqps, cmp_double);
    size_t hit = 0;
    for (size_t i = 0; i < nq; i++)
      for (int a = 0; a < K; a++)
        for (int b = 0; b < K; b++) hit += got[i * K + a] == truth[i * K + b];
    printf("%6u %4u  %.4f  %6.0f  %6.0f  %.0f\n", probes, ef, (double)hit / (nq * K), qps[reps / 2],
           cqps[reps / 2],
           (double)(after.distance_computations - before.distance_computations) / (nq * reps));
    fflush(stdout);
    free(qps);
    free(cqps);
    p = strchr(p, ';');
    if (p) p++;
  }
  vexfs_collection_free(c);
  free(base);
  free(queries);
  free(ids);
  free(truth);
  free(got);
  free(dist);
  return 0;
}

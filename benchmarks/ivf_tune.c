/* IVF tuning on Fashion-MNIST (Debian's dataset-fashion-mnist, or $FASHION_MNIST_DIR): builds an
 * IVF collection over the 60000 training images (one insert, one thread, timed: training and
 * lists), then answers nq test images one query per call at each nprobe, printing recall@10
 * against exact search and queries per second, and the index's bytes per vector.
 *
 * usage: ivf_tune [f32|sq8] [nq] [nlist] [rotate] [nprobe,nprobe,...]
 *   rotate: 1 multiplies every vector by one seeded random orthogonal matrix (codes are then not
 *   exact). Ground truth is cached in /tmp/ivf_tune_gt_<rotate>_<nq>.bin. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vexfs/vexfs.h>

#include "fashion_mnist_c.h"

enum { K = 10 };

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static float *load_idx(const char *part, size_t *n, size_t *dim) {
  float *v = fashion_mnist(part, n, dim);
  if (!v) {
    fprintf(stderr, "cannot read Fashion-MNIST %s (dataset-fashion-mnist)\n", part);
    exit(1);
  }
  return v;
}

static vexfs_collection *make(vexfs_index_kind kind, uint32_t dim, vexfs_ivf_codes codes,
                              uint32_t nlist) {
  vexfs_collection_config cfg;
  vexfs_collection_config_init(&cfg);
  cfg.dim = dim;
  cfg.index = kind;
  cfg.threads = 1;
  cfg.ivf_codes = codes;
  cfg.ivf_nlist = nlist;
  vexfs_collection *c;
  if (vexfs_collection_create(&cfg, &c) != VEXFS_OK) {
    fprintf(stderr, "create: %s\n", vexfs_last_error());
    exit(1);
  }
  return c;
}

static double cpu(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  vexfs_ivf_codes codes = argc > 1 && !strcmp(argv[1], "sq8") ? VEXFS_IVF_CODES_SQ8
                                                              : VEXFS_IVF_CODES_F32;
  size_t nq = argc > 2 ? strtoul(argv[2], NULL, 10) : 1000;
  uint32_t nlist = argc > 3 ? (uint32_t)strtoul(argv[3], NULL, 10) : 0;
  int rot = argc > 4 && atoi(argv[4]);
  const char *probes = argc > 5 ? argv[5] : "1,2,4,6,8,10,12,16,20,24,32,48";
  size_t n, dim, tn, tdim;
  float *base = load_idx("train", &n, &dim), *test = load_idx("t10k", &tn, &tdim);
  if (nq > tn) nq = tn;
  if (rot) {
    fashion_mnist_rotate(base, n, dim, 42);
    fashion_mnist_rotate(test, nq, dim, 42);
  }
  uint64_t *ids = malloc(n * sizeof *ids);
  for (size_t i = 0; i < n; i++) ids[i] = i;

  char path[256];
  snprintf(path, sizeof path, "/tmp/ivf_tune_gt_%d_%zu.bin", rot, nq);
  uint64_t *gt = malloc(nq * K * sizeof *gt);
  float *gd = malloc(nq * K * sizeof *gd);
  FILE *f = fopen(path, "rb");
  if (!f || fread(gt, sizeof *gt, nq * K, f) != nq * K) {
    vexfs_collection *flat = make(VEXFS_INDEX_FLAT, (uint32_t)dim, 0, 0);
    vexfs_insert(flat, ids, base, n);
    vexfs_search(flat, test, nq, K, NULL, gt, gd, NULL);
    vexfs_collection_free(flat);
    FILE *o = fopen(path, "wb");
    fwrite(gt, sizeof *gt, nq * K, o);
    fclose(o);
  }
  if (f) fclose(f);

  vexfs_collection *c = make(VEXFS_INDEX_IVF, (uint32_t)dim, codes, nlist);
  double t0 = now(), c0 = cpu();
  if (vexfs_insert(c, ids, base, n) != VEXFS_OK) {
    fprintf(stderr, "insert: %s\n", vexfs_last_error());
    return 1;
  }
  double build = now() - t0, build_cpu = cpu() - c0;
  vexfs_metrics m;
  vexfs_metrics_init(&m);
  vexfs_collection_metrics(c, &m);
  printf("%s nlist=%u rotate=%d: train+build %.3f s wall, %.3f s CPU (one thread), index %.1f bytes/vector\n",
         codes ? "SQ8" : "F32", nlist, rot, build, build_cpu, (double)m.memory_index / n);

  uint64_t out[K];
  float dist[K];
  double lat[3], cpuq[3];
  for (const char *p = probes; *p;) {
    unsigned np = (unsigned)strtoul(p, (char **)&p, 10);
    if (*p == ',') p++;
    vexfs_search_params sp;
    vexfs_search_params_init(&sp);
    sp.nprobe = np;
    sp.threads = 1;
    size_t hit = 0;
    for (size_t rep = 0; rep < 3; rep++) {
      hit = 0;
      double t = now(), tc = cpu();
      for (size_t i = 0; i < nq; i++) {
        vexfs_search(c, test + i * dim, 1, K, &sp, out, dist, NULL);
        for (int a = 0; a < K; a++)
          for (int b = 0; b < K; b++) hit += out[a] == gt[i * K + b];
      }
      lat[rep] = nq / (now() - t);
      cpuq[rep] = nq / (cpu() - tc);
    }
    qsort(lat, 3, sizeof *lat, cmp_double);
    qsort(cpuq, 3, sizeof *cpuq, cmp_double);
    printf("  nprobe %4u  recall@10 %.4f  QPS %7.0f wall, %7.0f per CPU-second (medians of 3)\n",
           np, (double)hit / (nq * K), lat[1], cpuq[1]);
  }
  vexfs_collection_free(c);
  return 0;
}

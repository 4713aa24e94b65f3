/* Exact search of two builds of libvexfs side by side, in one process: each library is loaded
 * into its own namespace (dlmopen), both get the same collection, and their searches alternate
 * call by call (the order swapped every round), each timed in thread CPU time. On a shared, noisy
 * machine this measures a change's speed far more steadily than two runs of bench_flat can: the
 * printed figure is the median of the per-round ratios. One thread, k=10. It also prints how many
 * queries of a batch each build streamed after its blocked pass (the exact path's fallback), from
 * the distance counter: the blocked pass counts every row for every query, a fallback every row
 * once more.
 *
 * usage: flat_ab BEFORE.so AFTER.so metric nq rounds n dim [offset]
 *          uniform rows and queries in [offset, offset + 1) per coordinate, as bench_flat's
 *        flat_ab BEFORE.so AFTER.so metric nq rounds fashion-mnist
 *          the 60000 train images (Debian's dataset-fashion-mnist) and the first nq test ones
 * metric: 1 l2, 2 ip, 3 cosine */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vexfs/vexfs.h>

enum { K = 10 };

typedef struct build {
  void (*config_init)(vexfs_collection_config *);
  vexfs_status (*create)(const vexfs_collection_config *, vexfs_collection **);
  vexfs_status (*insert)(vexfs_collection *, const uint64_t *, const float *, size_t);
  vexfs_status (*search)(vexfs_collection *, const float *, size_t, size_t,
                         const vexfs_search_params *, uint64_t *, float *, size_t *);
  void (*metrics_init)(vexfs_metrics *);
  vexfs_status (*metrics)(vexfs_collection *, vexfs_metrics *);
  vexfs_collection *c;
} build;

static void open_build(build *b, const char *path) {
  void *h = dlmopen(LM_ID_NEWLM, path, RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    fprintf(stderr, "flat_ab: %s\n", dlerror());
    exit(1);
  }
  *(void **)&b->config_init = dlsym(h, "vexfs_collection_config_init");
  *(void **)&b->create = dlsym(h, "vexfs_collection_create");
  *(void **)&b->insert = dlsym(h, "vexfs_insert");
  *(void **)&b->search = dlsym(h, "vexfs_search");
  *(void **)&b->metrics_init = dlsym(h, "vexfs_metrics_init");
  *(void **)&b->metrics = dlsym(h, "vexfs_collection_metrics");
}

/* Queries per search that a build streamed after its blocked pass, over its `searches` searches
 * of nq queries among n rows (0 when nq is too small for the blocked pass: each query streams). */
static double streamed_again(const build *b, size_t searches, size_t nq, size_t n) {
  vexfs_metrics m;
  b->metrics_init(&m);
  if (nq < 3 || b->metrics(b->c, &m) != VEXFS_OK) return 0;
  return (double)(m.distance_computations - (uint64_t)(searches * nq * n)) / (double)n /
         (double)searches;
}

/* The images of a gzipped IDX file as floats (pixels 0..255). */
static float *idx_images(const char *name, size_t *n, size_t *dim) {
  char cmd[256];
  snprintf(cmd, sizeof cmd, "gzip -dc /usr/share/datasets/fashion-mnist/%s", name);
  FILE *f = popen(cmd, "r");
  unsigned char h[16];
  if (!f || fread(h, 1, 16, f) != 16) exit(1);
  *n = (size_t)h[4] << 24 | h[5] << 16 | h[6] << 8 | h[7];
  *dim = (size_t)h[11] * h[15]; /* rows x columns, both below 256 */
  unsigned char *raw = malloc(*n * *dim);
  float *v = malloc(*n * *dim * sizeof *v);
  if (fread(raw, 1, *n * *dim, f) != *n * *dim) exit(1);
  pclose(f);
  for (size_t i = 0; i < *n * *dim; i++) v[i] = raw[i];
  free(raw);
  return v;
}

static float *uniform(size_t count, float offset) {
  float *v = malloc(count * sizeof *v);
  for (size_t i = 0; i < count; i++) v[i] = offset + (float)rand() / RAND_MAX;
  return v;
}

static double cpu_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc < 7) {
    fprintf(stderr, "usage: flat_ab BEFORE.so AFTER.so metric nq rounds (n dim [offset] | "
                    "fashion-mnist)\n");
    return 2;
  }
  int metric = atoi(argv[3]);
  size_t nq = (size_t)atol(argv[4]), rounds = (size_t)atol(argv[5]), n, dim;
  float *rows, *queries;
  char data[64] = "fashion-mnist";
  if (strcmp(argv[6], data) == 0) {
    size_t tests, tdim;
    rows = idx_images("train-images-idx3-ubyte.gz", &n, &dim);
    queries = idx_images("t10k-images-idx3-ubyte.gz", &tests, &tdim);
    if (nq > tests) nq = tests;
  } else {
    n = (size_t)atol(argv[6]);
    dim = argc > 7 ? (size_t)atol(argv[7]) : 0;
    float offset = argc > 8 ? (float)atof(argv[8]) : 0.0f;
    snprintf(data, sizeof data, "uniform in [%g, %g)", offset, offset + 1);
    srand(1);
    rows = uniform(n * dim, offset);
    queries = uniform(nq * dim, offset);
  }
  uint64_t *ids = malloc(n * sizeof *ids), *hit_ids = malloc(nq * K * sizeof *hit_ids);
  float *hit_dists = malloc(nq * K * sizeof *hit_dists);
  for (size_t i = 0; i < n; i++) ids[i] = i;
  build b[2];
  for (int s = 0; s < 2; s++) {
    open_build(&b[s], argv[1 + s]);
    vexfs_collection_config cfg;
    b[s].config_init(&cfg);
    cfg.dim = (uint32_t)dim;
    cfg.metric = (vexfs_metric)metric;
    cfg.index = VEXFS_INDEX_FLAT;
    cfg.threads = 1;
    if (b[s].create(&cfg, &b[s].c) != VEXFS_OK || b[s].insert(b[s].c, ids, rows, n) != VEXFS_OK ||
        b[s].search(b[s].c, queries, nq, K, NULL, hit_ids, hit_dists, NULL) != VEXFS_OK) {
      fprintf(stderr, "flat_ab: %s failed to set up\n", argv[1 + s]);
      return 1;
    }
  }
  double *seconds[2] = {malloc(rounds * sizeof(double)), malloc(rounds * sizeof(double))};
  double *ratio = malloc(rounds * sizeof *ratio);
  for (size_t r = 0; r < rounds; r++) {
    for (int turn = 0; turn < 2; turn++) {
      int s = (int)(r % 2) ^ turn;
      double t0 = cpu_seconds();
      b[s].search(b[s].c, queries, nq, K, NULL, hit_ids, hit_dists, NULL);
      seconds[s][r] = cpu_seconds() - t0;
    }
    ratio[r] = seconds[0][r] / seconds[1][r];
  }
  qsort(seconds[0], rounds, sizeof(double), cmp_double);
  qsort(seconds[1], rounds, sizeof(double), cmp_double);
  qsort(ratio, rounds, sizeof *ratio, cmp_double);
  printf("%s, metric %d, n=%zu d=%zu nq=%zu: before %.1f q/s, after %.1f q/s (medians of %zu), "
         "after/before %.3f (median of the rounds' ratios); streamed again per search: before "
         "%.1f, after %.1f\n",
         data, metric, n, dim, nq, nq / seconds[0][rounds / 2], nq / seconds[1][rounds / 2], rounds,
         ratio[rounds / 2], streamed_again(&b[0], rounds + 1, nq, n),
         streamed_again(&b[1], rounds + 1, nq, n));
  return 0; /* collections live until exit */
}

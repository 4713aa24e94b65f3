/* Where each index pays off, and whether AUTO follows: the cost of building a collection and
 * answering 1 000 single queries (one thread, k=10), for FLAT, IVF, HNSW and AUTO, on clustered
 * random data of growing size (d=128 up to 1M vectors, d=768 up to 200k) and on Fashion-MNIST
 * prefixes. The crossovers of lib/index/auto.c come from this table.
 *
 * Data: 100 random centres in [0,1]^d, each point a centre plus uniform noise of +-0.05 per
 * coordinate; queries drawn the same way. Rows go in by batches of 10 000, as a bulk load does.
 * Recall@10 is against FLAT's answers. Each index runs at its defaults (HNSW M=16,
 * efConstruction=200, ef=64; IVF nlist and nprobe its own). Each size is measured at least --reps
 * times (default 5) and until its repetitions have taken --budget seconds (default 2; at most
 * 101 times), so that the cheap sizes, a few milliseconds each, are measured often enough for
 * their medians to hold still; the kinds take turns within a repetition (FLAT first, the others
 * in an order that rotates from one repetition to the next) so that the machine's drift and
 * what a kind leaves behind in the allocator fall on all alike, and a cell shows the repetition
 * of median total.
 *
 * usage: auto_crossover [--max-n N] [--max-n-768 N] [--queries Q] [--dims 16,128,768]
 *                       [--sizes 1000,2000,...] [--reps R] [--budget S] [--no-fmnist]
 *                       [--dat FILE]
 * --dims takes up to 8 dimensions, --sizes replaces the clustered sizes (1 000 to 1M, 1-2-5
 * steps) with up to 16.
 * Prints a markdown table; --dat writes one gnuplot block per data set (n, then the total
 * seconds of flat, ivf, hnsw, auto). */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vexfs/vexfs.h>

#include "clustered.h"
#include "fashion_mnist_c.h"

enum { K = 10, BATCH = 10000, KINDS = 4, MAX_REPS = 101 };

static const vexfs_index_kind kinds[KINDS] = {VEXFS_INDEX_FLAT, VEXFS_INDEX_IVF,
                                              VEXFS_INDEX_HNSW, VEXFS_INDEX_AUTO};
static const char *const kind_names[KINDS] = {"flat", "ivf", "hnsw", "auto"};

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

typedef struct run {
  double build_s, query_s, recall;
  const char *in_use;
  int skipped;
} run;

/* Builds kind over v (n rows, by batches) and answers nq queries one at a time into ids. */
static run measure(vexfs_index_kind kind, const float *v, size_t n, uint32_t dim, const float *q,
                   size_t nq, uint64_t *ids) {
  run r = {0};
  vexfs_collection_config cfg;
  vexfs_collection_config_init(&cfg);
  cfg.dim = dim;
  cfg.index = kind;
  cfg.threads = 1;
  vexfs_collection *c;
  if (vexfs_collection_create(&cfg, &c) != VEXFS_OK) {
    r.skipped = 1;
    r.in_use = vexfs_last_error();
    return r;
  }
  uint64_t *batch_ids = malloc(BATCH * sizeof *batch_ids);
  double t0 = now();
  for (size_t at = 0; at < n; at += BATCH) {
    size_t m = n - at < BATCH ? n - at : BATCH;
    for (size_t i = 0; i < m; i++) batch_ids[i] = at + i;
    if (vexfs_insert(c, batch_ids, v + at * dim, m) != VEXFS_OK) {
      fprintf(stderr, "insert: %s\n", vexfs_last_error());
      exit(1);
    }
  }
  r.build_s = now() - t0;
  free(batch_ids);
  vexfs_search_params p;
  vexfs_search_params_init(&p);
  p.threads = 1;
  float dist[K];
  t0 = now();
  for (size_t i = 0; i < nq; i++)
    if (vexfs_search(c, q + i * dim, 1, K, &p, ids + i * K, dist, NULL) != VEXFS_OK) exit(1);
  r.query_s = now() - t0;
  r.in_use = vexfs_index_in_use(c);
  vexfs_collection_free(c);
  return r;
}

static double recall(const uint64_t *got, const uint64_t *exact, size_t nq) {
  size_t hit = 0;
  for (size_t i = 0; i < nq; i++)
    for (int a = 0; a < K; a++)
      for (int b = 0; b < K; b++) hit += got[i * K + a] == exact[i * K + b];
  return (double)hit / (double)(nq * K);
}

static double total_of(const run *r) { return r->build_s + r->query_s; }

static int by_total(const void *a, const void *b) {
  double tx = total_of(a), ty = total_of(b);
  return (tx > ty) - (tx < ty);
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* One table row (and .dat line) for the first n rows of v, from at least reps repetitions and
 * budget seconds of them. auto / best is the median of the repetitions' own ratios (AUTO's total
 * over the best fixed kind's, measured moments apart), steadier than a ratio of medians. */
static void row(FILE *dat, const char *data, const float *v, size_t n, uint32_t dim,
                const float *q, size_t nq, int reps, double budget) {
  uint64_t *exact = malloc(nq * K * sizeof *exact), *ids = malloc(nq * K * sizeof *ids);
  run runs[KINDS], *each = malloc((size_t)MAX_REPS * KINDS * sizeof *each);
  int done = 0;
  for (double t0 = now(); done < MAX_REPS && (done < reps || now() - t0 < budget); done++) {
    run *flat = &each[done];
    *flat = measure(kinds[0], v, n, dim, q, nq, exact); /* first: the others' recall needs it */
    flat->recall = 1.0;
    for (int turn = 0; turn < KINDS - 1; turn++) { /* the others in an order that rotates */
      int k = 1 + (turn + done) % (KINDS - 1);
      run *e = &each[k * MAX_REPS + done];
      *e = measure(kinds[k], v, n, dim, q, nq, ids);
      e->recall = recall(ids, exact, nq);
    }
  }
  run *sorted = malloc((size_t)done * sizeof *sorted);
  for (int k = 0; k < KINDS; k++) {
    memcpy(sorted, each + k * MAX_REPS, (size_t)done * sizeof *sorted);
    qsort(sorted, (size_t)done, sizeof *sorted, by_total);
    runs[k] = sorted[done / 2];
  }
  free(sorted);
  double best = 1e300, total[KINDS];
  int best_k = 0;
  for (int k = 0; k < KINDS; k++) {
    total[k] = runs[k].skipped ? 0 : total_of(&runs[k]);
    if (k < KINDS - 1 && !runs[k].skipped && total[k] < best) best = total[k], best_k = k;
  }
  double ratio[MAX_REPS];
  for (int r = 0; r < done; r++)
    ratio[r] = total_of(&each[3 * MAX_REPS + r]) / total_of(&each[best_k * MAX_REPS + r]);
  qsort(ratio, (size_t)done, sizeof *ratio, by_value);
  free(each);
  printf("| %s | %u | %zu |", data, dim, n);
  for (int k = 0; k < KINDS; k++)
    if (runs[k].skipped) printf(" - |");
    else
      printf(" %.3f + %.3f = %.3f (%.3f) |", runs[k].build_s, runs[k].query_s, total[k],
             runs[k].recall);
  printf(" %s | %s | %.2fx |\n", kind_names[best_k], runs[3].skipped ? "-" : runs[3].in_use,
         runs[3].skipped ? 0.0 : ratio[done / 2]);
  fflush(stdout);
  if (dat) {
    fprintf(dat, "%zu", n);
    for (int k = 0; k < KINDS; k++) fprintf(dat, " %.4f", total[k]);
    fprintf(dat, "\n");
    fflush(dat);
  }
  free(exact);
  free(ids);
}

/* Parses "a,b,c" (positive numbers, at most max) into out: how many, or 0 if malformed. */
static size_t list_of(const char *text, size_t *out, size_t max) {
  size_t n = 0;
  while (n < max) {
    char *end;
    unsigned long v = strtoul(text, &end, 10);
    if (end == text || v == 0) return 0;
    out[n++] = v;
    if (*end == '\0') return n;
    if (*end != ',') return 0;
    text = end + 1;
  }
  return 0;
}

int main(int argc, char **argv) {
  size_t max_n = 1000000, max_n_768 = 200000, nq = 1000;
  int use_fmnist = 1, reps = 5, bad = 0;
  double budget = 2.0;
  size_t dims[8] = {128, 768}, ndims = 2;
  size_t sizes[16] = {1000, 2000, 5000, 10000, 20000, 50000, 100000, 200000, 500000, 1000000};
  size_t nsizes = 10;
  FILE *dat = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--max-n") && i + 1 < argc) max_n = strtoul(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--max-n-768") && i + 1 < argc)
      max_n_768 = strtoul(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--queries") && i + 1 < argc) nq = strtoul(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--no-fmnist")) use_fmnist = 0;
    else if (!strcmp(argv[i], "--dims") && i + 1 < argc) {
      bad |= !(ndims = list_of(argv[++i], dims, 8));
    }
    else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--budget") && i + 1 < argc) budget = atof(argv[++i]);
    else if (!strcmp(argv[i], "--sizes") && i + 1 < argc) {
      bad |= !(nsizes = list_of(argv[++i], sizes, 16));
    }
    else if (!strcmp(argv[i], "--dat") && i + 1 < argc) dat = fopen(argv[++i], "w");
    else {
      fprintf(stderr, "usage: %s [--max-n N] [--max-n-768 N] [--queries Q] [--dims 16,128,768] "
                      "[--sizes 1000,2000,...] [--reps R] [--budget S] [--no-fmnist] "
                      "[--dat FILE]\n", argv[0]);
      return 2;
    }
  }
  if (bad || reps < 1 || reps > MAX_REPS || !(budget >= 0)) {
    fprintf(stderr, "%s: --dims takes 1 to 8 numbers, --sizes 1 to 16, --reps 1 to %d, --budget"
                    " seconds\n", argv[0], MAX_REPS);
    return 2;
  }
  printf("build + %zu single queries, seconds (recall@10 in brackets), one thread, median of at"
         " least %d and %.1f s of repetitions\n\n", nq, reps, budget);
  printf("| data | d | n | flat | ivf | hnsw | auto | best fixed | auto holds | auto / best |\n"
         "|---|---|---|---|---|---|---|---|---|---|\n");
  for (size_t di = 0; di < ndims; di++) {
    uint32_t dim = (uint32_t)dims[di];
    size_t top = dim > 128 ? max_n_768 : max_n;
    if (dat) fprintf(dat, "# clustered d=%u\n", dim);
    float *v = NULL;
    size_t made = 0;
    for (size_t si = 0; si < nsizes; si++)
      if (sizes[si] <= top && sizes[si] > made) made = sizes[si];
    v = clustered_rows(made + nq, dim, 1);
    for (size_t si = 0; si < nsizes; si++)
      if (sizes[si] <= top)
        row(dat, "clustered", v, sizes[si], dim, v + made * dim, nq, reps, budget);
    free(v);
    if (dat) fprintf(dat, "\n\n");
  }
  size_t n_train, n_test, dim_train, dim_test;
  float *train = use_fmnist ? fashion_mnist("train", &n_train, &dim_train) : NULL;
  float *test = train ? fashion_mnist("t10k", &n_test, &dim_test) : NULL;
  if (train && test && dim_train == dim_test) {
    if (dat) fprintf(dat, "# fashion-mnist d=%zu\n", dim_train);
    static const size_t prefixes[] = {1000, 2000, 5000, 10000, 20000, 60000};
    for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++)
      row(dat, "fashion-mnist", train, prefixes[i] < n_train ? prefixes[i] : n_train,
          (uint32_t)dim_train, test,
          nq < n_test ? nq : n_test, reps, budget);
  } else if (use_fmnist) {
    fprintf(stderr, "Fashion-MNIST not found (dataset-fashion-mnist): skipped\n");
  }
  free(train);
  free(test);
  if (dat) fclose(dat);
  return 0;
}

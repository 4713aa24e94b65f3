/* The data of the server benchmark, made the same way by both sides (inproc.c, http_load.c),
 * and the option parsing they share.
 *
 * clustered(n + nq, dim, seed): rows 0 .. n-1 are the points (id = row), rows n .. n+nq-1 the
 * queries, from ../clustered.h (auto_crossover.c's generator) on the seed passed through
 * splitmix64 (never 0).
 *
 * Over HTTP the vectors travel as "%.9g" decimals, which read back (strtod, then to float, as the
 * server does) as the same floats bit for bit: both sides index and search identical vectors. */
#ifndef VEXFS_BENCH_SERVER_GEN_H
#define VEXFS_BENCH_SERVER_GEN_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../clustered.h"

/* An option's value: a decimal integer in [lo, hi], else usage() (which exits). */
static size_t gen_parse_size(const char *s, size_t lo, size_t hi, void (*usage)(void)) {
  char *end = NULL;
  unsigned long long v = strtoull(s, &end, 10);
  if (!*s || *end || *s == '-' || v < lo || v > hi) usage();
  return (size_t)v;
}

static uint64_t gen_splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

/* The benchmark's rows and queries (see the top), malloc'd; exits on out of memory. */
static float *gen_clustered(size_t rows, size_t dim, uint64_t seed) {
  uint64_t s = gen_splitmix64(seed);
  return clustered_rows(rows, dim, s ? s : 1);
}

/* The k nearest rows of v (n rows) to q by squared L2, ascending (ties by id): the truth that
 * recall is measured against, computed the same way on both sides. */
static void gen_exact_knn(const float *v, size_t n, size_t dim, const float *q, size_t k,
                          uint64_t *ids) {
  float best[64];
  size_t have = 0;
  if (k > 64) k = 64;
  for (size_t i = 0; i < n; i++) {
    const float *r = v + i * dim;
    float d2 = 0;
    for (size_t d = 0; d < dim; d++) {
      float t = r[d] - q[d];
      d2 += t * t;
    }
    if (have == k && d2 >= best[k - 1]) continue;
    size_t at = have < k ? have++ : k - 1;
    while (at > 0 && best[at - 1] > d2) {
      best[at] = best[at - 1];
      ids[at] = ids[at - 1];
      at--;
    }
    best[at] = d2;
    ids[at] = i;
  }
}

/* The fraction of want's k ids that got (k ids, UINT64_MAX for none) holds. */
static double gen_recall(const uint64_t *want, const uint64_t *got, size_t k) {
  size_t hits = 0;
  for (size_t i = 0; i < k; i++)
    for (size_t j = 0; j < k; j++)
      if (got[j] == want[i]) {
        hits++;
        break;
      }
  return (double)hits / (double)k;
}

/* Timing and percentiles, shared so that both sides summarize alike. */
static double gen_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int gen_cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The p-th percentile (0..100, nearest rank) of a, which is sorted in place. */
static double gen_percentile(double *a, size_t n, double p) {
  if (n == 0) return 0;
  qsort(a, n, sizeof *a, gen_cmp_double);
  size_t rank = (size_t)(p / 100.0 * (double)n + 0.999999);
  return a[rank == 0 ? 0 : rank > n ? n - 1 : rank - 1];
}

static double gen_mean(const double *a, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; i++) s += a[i];
  return n ? s / (double)n : 0;
}

#endif

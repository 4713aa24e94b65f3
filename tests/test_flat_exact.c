/* Batched exact search is exact: a batch (the blocked path, nq >= 3) returns what each of its
 * queries returns alone (the streaming path, which computes every distance with the one-to-one
 * kernels): the same ids in the same order, ties by id, the same distances bit for bit and the
 * same counts, under every metric, whatever the data's offset or scale. Where ties cannot matter,
 * the hits are also checked against a double-precision brute force. The data is adversarial for
 * the ‖x‖² + ‖y‖² − 2x·y form: clusters far from the origin, rows a few ulps apart, large norms,
 * duplicates, k near and past the live count, free rows, zero and tiny vectors, overflowing
 * distances. meson runs the suite once per SIMD level (VEXFS_SIMD caps it at load). */
#include <float.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "test_util.h"

static const vexfs_metric metrics[] = {VEXFS_METRIC_L2, VEXFS_METRIC_IP, VEXFS_METRIC_COSINE};
static const char *const metric_names[] = {"", "l2", "ip", "cosine"};

/* Row i's id: a scrambled bijection, so slot order and id order disagree and ties by id are
 * tested for real. */
static uint64_t id_of(size_t i) { return (uint32_t)(i * 2654435761u); }

static vexfs_collection *collection_of(vexfs_metric metric, size_t dim, const float *rows,
                                       size_t n) {
  vexfs_collection_config cfg;
  vexfs_collection_config_init(&cfg);
  cfg.dim = (uint32_t)dim;
  cfg.metric = metric;
  cfg.index = VEXFS_INDEX_FLAT;
  vexfs_collection *c = NULL;
  assert_int_equal(vexfs_collection_create(&cfg, &c), VEXFS_OK);
  uint64_t *ids = malloc(n * sizeof *ids);
  for (size_t i = 0; i < n; i++) ids[i] = id_of(i);
  assert_int_equal(vexfs_insert(c, ids, rows, n), VEXFS_OK);
  free(ids);
  return c;
}

/* offset + spread * uniform[-1, 1), rounded to float. */
static float *uniform_floats(size_t count, double offset, double spread, uint64_t seed) {
  float *v = malloc(count * sizeof *v);
  for (size_t i = 0; i < count; i++) v[i] = (float)(offset + spread * test_uniform(&seed));
  return v;
}

typedef struct results {
  uint64_t *ids;
  float *dists;
  size_t *counts;
} results;

static results results_new(size_t nq, size_t k) {
  results r = {malloc(nq * k * sizeof *r.ids), malloc(nq * k * sizeof *r.dists),
               malloc(nq * sizeof *r.counts)};
  return r;
}

static void results_free(results *r) {
  free(r->ids);
  free(r->dists);
  free(r->counts);
}

static results batched(vexfs_collection *c, const float *queries, size_t nq, size_t k,
                       unsigned threads) {
  vexfs_search_params p;
  vexfs_search_params_init(&p);
  p.threads = threads;
  results r = results_new(nq, k);
  assert_int_equal(vexfs_search(c, queries, nq, k, &p, r.ids, r.dists, r.counts), VEXFS_OK);
  return r;
}

/* Cells of the batch's answer (nq x k) that differ from searching each query alone, in id,
 * distance bits or count; the first difference is printed, after `what` (the case). */
static size_t differences_from_single(const char *what, vexfs_collection *c, const float *queries,
                                      size_t nq, size_t k, unsigned threads) {
  size_t dim = vexfs_dim(c), differ = 0;
  results all = batched(c, queries, nq, k, threads), one = results_new(1, k);
  for (size_t qi = 0; qi < nq; qi++) {
    const float *query = queries + qi * dim;
    assert_int_equal(vexfs_search(c, query, 1, k, NULL, one.ids, one.dists, one.counts), VEXFS_OK);
    for (size_t i = 0; i < k; i++) {
      size_t cell = qi * k + i;
      int same = all.ids[cell] == one.ids[i] &&
                 memcmp(&all.dists[cell], &one.dists[i], sizeof(float)) == 0 &&
                 all.counts[qi] == one.counts[0];
      if (!same && differ++ == 0)
        print_message("%s, k %zu, %u threads: query %zu rank %zu: batch id %llu dist %.9g "
                      "(count %zu), alone id %llu dist %.9g (count %zu)\n",
                      what, k, threads, qi, i, (unsigned long long)all.ids[cell], all.dists[cell],
                      all.counts[qi], (unsigned long long)one.ids[i], one.dists[i], one.counts[0]);
    }
  }
  results_free(&all);
  results_free(&one);
  return differ;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double norm(const float *v, size_t dim) {
  double s = 0;
  for (size_t i = 0; i < dim; i++) s += (double)v[i] * v[i];
  return sqrt(s);
}

/* Hits of the batch whose true (double) distance is farther than the true distance at their
 * rank by more than the float kernels' rounding can explain (a few dim * FLT_EPSILON of the
 * distance's scale: the distance for L2, ‖x‖‖q‖ for IP, 1 for COSINE). rows holds all n rows,
 * row i with id id_of(i). */
static size_t farther_than_reference(const char *what, vexfs_collection *c, vexfs_metric metric,
                                     const float *rows, size_t n, const float *queries, size_t nq,
                                     size_t k) {
  size_t dim = vexfs_dim(c), farther = 0;
  results r = batched(c, queries, nq, k, 2);
  double *truth = malloc(n * sizeof *truth);
  float *row = malloc(dim * sizeof *row);
  double max_norm = 0;
  for (size_t i = 0; i < n; i++) max_norm = fmax(max_norm, norm(rows + i * dim, dim));
  for (size_t qi = 0; qi < nq; qi++) {
    const float *q = queries + qi * dim;
    for (size_t i = 0; i < n; i++) truth[i] = test_distance(metric, q, rows + i * dim, dim);
    qsort(truth, n, sizeof *truth, cmp_double);
    double qnorm = norm(q, dim);
    assert_int_equal(r.counts[qi], k < n ? k : n);
    for (size_t i = 0; i < r.counts[qi]; i++) {
      assert_int_equal(vexfs_get(c, r.ids[qi * k + i], row), VEXFS_OK);
      double got = test_distance(metric, q, row, dim);
      double scale = metric == VEXFS_METRIC_L2 ? truth[i]
                     : metric == VEXFS_METRIC_IP ? qnorm * max_norm + 1.0
                                                 : 1.0;
      if (got > truth[i] + 4.0 * (double)(dim + 4) * FLT_EPSILON * scale && farther++ == 0)
        print_message("%s: query %zu rank %zu: hit at %.9g, true neighbour at %.9g\n", what, qi,
                      i, got, truth[i]);
    }
  }
  free(truth);
  free(row);
  results_free(&r);
  return farther;
}

/* For each metric, a collection of the n rows: for each of the nks values of k, the batch of
 * queries, on one thread and on two, must answer as the queries alone, and as the
 * double-precision brute force when `with_reference` (data without ties). `what` names the case
 * in messages. */
static void expect_exact(const char *what, const float *rows, size_t n, size_t dim,
                         const float *queries, size_t nq, const size_t *ks, size_t nks,
                         int with_reference) {
  for (size_t m = 0; m < 3; m++) {
    vexfs_collection *c = collection_of(metrics[m], dim, rows, n);
    char label[128];
    snprintf(label, sizeof label, "%s, %s", what, metric_names[metrics[m]]);
    for (size_t ki = 0; ki < nks; ki++) {
      for (unsigned threads = 1; threads <= 2; threads++)
        assert_int_equal(differences_from_single(label, c, queries, nq, ks[ki], threads), 0);
      if (with_reference)
        assert_int_equal(farther_than_reference(label, c, metrics[m], rows, n, queries, nq, ks[ki]),
                         0);
    }
    vexfs_collection_free(c);
  }
}

/* expect_exact on n rows of row_offset ± spread and nq queries of query_offset ± spread in
 * every coordinate. */
static void expect_exact_on_uniform(const char *what, size_t n, size_t dim, size_t nq,
                                    double row_offset, double query_offset, double spread,
                                    uint64_t seed, const size_t *ks, size_t nks,
                                    int with_reference) {
  float *rows = uniform_floats(n * dim, row_offset, spread, seed);
  float *queries = uniform_floats(nq * dim, query_offset, spread, seed + 1);
  expect_exact(what, rows, n, dim, queries, nq, ks, nks, with_reference);
  free(rows);
  free(queries);
}

static const size_t k10[] = {10};

/* The case and a farther one: coordinates offset ± 1, dim 64, 3000 rows, 64 queries. */
static void test_clusters_far_from_the_origin(void **state) {
  (void)state;
  const double offsets[] = {100, 1e4};
  for (size_t o = 0; o < 2; o++) {
    char what[64];
    snprintf(what, sizeof what, "offset %g", offsets[o]);
    expect_exact_on_uniform(what, 3000, 64, 64, offsets[o], offsets[o], 1, 1 + 2 * o, k10, 1, 1);
  }
}

/* Rows a few ulps apart around 1000 in every coordinate: the cancelling terms are a million
 * times the distances, and many distances tie. */
static void test_rows_a_few_ulps_apart(void **state) {
  (void)state;
  const size_t ks[] = {1, 10, 64};
  expect_exact_on_uniform("1000 ± 2e-3", 2000, 48, 50, 1000, 1000, 2e-3, 11, ks, 3, 0);
}

/* Random directions scaled by norms from 1 to 10^4 (rows and queries alike): inner products
 * of very different sizes, where IP and COSINE rank differently. */
static void test_large_and_unequal_norms(void **state) {
  (void)state;
  size_t n = 2500, dim = 100, nq = 37;
  float *rows = uniform_floats(n * dim, 0, 1, 21);
  float *queries = uniform_floats(nq * dim, 0, 1, 22);
  uint64_t seed = 23;
  for (size_t i = 0; i < n + nq; i++) {
    float *v = i < n ? rows + i * dim : queries + (i - n) * dim;
    double scale = pow(10.0, 2.0 + 2.0 * test_uniform(&seed));
    for (size_t j = 0; j < dim; j++) v[j] = (float)(v[j] * scale);
  }
  expect_exact("norms 1 to 1e4", rows, n, dim, queries, nq, k10, 1, 1);
  free(rows);
  free(queries);
}

/* Points of the lattice {0, 1, 2}^4 (81 of them, the zero vector included) over 1200 rows:
 * every distance is shared by many rows, so the order among equals (ascending id) decides, up
 * to k past the number of rows at the k-th distance. */
static void test_duplicates_and_ties(void **state) {
  (void)state;
  size_t n = 1200, dim = 4, nq = 40;
  float *rows = malloc(n * dim * sizeof *rows), *queries = malloc(nq * dim * sizeof *queries);
  uint64_t seed = 31;
  for (size_t i = 0; i < n * dim; i++) rows[i] = (float)(test_rng(&seed) % 3);
  for (size_t i = 0; i < nq * dim; i++) queries[i] = (float)(test_rng(&seed) % 3);
  const size_t ks[] = {1, 10, 100, 300};
  expect_exact("lattice", rows, n, dim, queries, nq, ks, 4, 0);
  free(rows);
  free(queries);
}

/* k just below, at and past the number of live rows, with removed rows among them. */
static void test_k_near_and_past_the_live_count(void **state) {
  (void)state;
  size_t n = 60, dim = 24, nq = 9;
  float *rows = uniform_floats(n * dim, 50, 1, 41);
  float *queries = uniform_floats(nq * dim, 50, 1, 42);
  uint64_t gone[5];
  for (size_t i = 0; i < 5; i++) gone[i] = id_of(i * 11 + 3);
  const size_t ks[] = {1, 50, 54, 55, 56, 100};
  for (size_t m = 0; m < 3; m++) {
    vexfs_collection *c = collection_of(metrics[m], dim, rows, n);
    const char *what = metric_names[metrics[m]];
    assert_int_equal(vexfs_remove(c, gone, 5), VEXFS_OK);
    for (size_t ki = 0; ki < 6; ki++)
      assert_int_equal(differences_from_single(what, c, queries, nq, ks[ki], 2), 0);
    vexfs_collection_free(c);
  }
  free(rows);
  free(queries);
}

/* Free rows inside the store (every third row and a block of 500 removed), some of them reused
 * by a later insert, on data far from the origin. */
static void test_free_rows_inside_the_store(void **state) {
  (void)state;
  size_t n = 3000, dim = 40, nq = 45, extra = 200;
  float *rows = uniform_floats(n * dim, 100, 1, 51);
  float *more = uniform_floats(extra * dim, 100, 1, 52);
  float *queries = uniform_floats(nq * dim, 100, 1, 53);
  uint64_t *gone = malloc(n * sizeof *gone), *fresh = malloc(extra * sizeof *fresh);
  size_t ngone = 0;
  for (size_t i = 0; i < n; i++)
    if (i % 3 == 0 || (i >= 1000 && i < 1500)) gone[ngone++] = id_of(i);
  for (size_t i = 0; i < extra; i++) fresh[i] = id_of(n + i);
  for (size_t m = 0; m < 3; m++) {
    vexfs_collection *c = collection_of(metrics[m], dim, rows, n);
    const char *what = metric_names[metrics[m]];
    assert_int_equal(vexfs_remove(c, gone, ngone), VEXFS_OK);
    assert_int_equal(differences_from_single(what, c, queries, nq, 10, 2), 0);
    assert_int_equal(vexfs_insert(c, fresh, more, extra), VEXFS_OK);
    assert_int_equal(differences_from_single(what, c, queries, nq, 10, 1), 0);
    vexfs_collection_free(c);
  }
  free(rows);
  free(more);
  free(queries);
  free(gone);
  free(fresh);
}

/* Scales where float arithmetic degrades: squares that underflow to subnormals or to zero, and
 * coordinates so large that squared norms pass 2^124, beyond what the blocked bound covers (up
 * to VEXFS_MAX_SQUARED_NORM, the largest a row may have). */
static void test_extreme_scales(void **state) {
  (void)state;
  const struct { double offset, spread; size_t dim; } sets[] = {
      {0, 1e-25, 16}, {0, 1e-19, 16}, {3e-20, 1e-21, 16}, {0, 1e15, 16}, {0, 6e18, 2}};
  for (size_t s = 0; s < sizeof sets / sizeof *sets; s++) {
    char what[64];
    snprintf(what, sizeof what, "offset %g spread %g", sets[s].offset, sets[s].spread);
    expect_exact_on_uniform(what, 700, sets[s].dim, 21, sets[s].offset, sets[s].offset,
                            sets[s].spread, 61 + 2 * s, k10, 1, 0);
  }
}

/* Zero vectors (cosine 0 to everything: distance 1) and tiny ones among ordinary rows, and as
 * queries. */
static void test_zero_and_tiny_vectors(void **state) {
  (void)state;
  size_t n = 900, dim = 20, nq = 12;
  float *rows = uniform_floats(n * dim, 0, 1, 81);
  float *queries = uniform_floats(nq * dim, 0, 1, 82);
  for (size_t i = 0; i < n; i += 7) memset(rows + i * dim, 0, dim * sizeof *rows);
  for (size_t i = 3; i < n; i += 7)
    for (size_t j = 0; j < dim; j++) rows[i * dim + j] *= 1e-30f;
  memset(queries, 0, dim * sizeof *queries);
  for (size_t j = 0; j < dim; j++) queries[dim + j] *= 1e-30f;
  const size_t ks[] = {10, 200};
  expect_exact("zero and tiny", rows, n, dim, queries, nq, ks, 2, 0);
  free(rows);
  free(queries);
}

/* Two clusters far apart (every coordinate +1e4 or -1e4, ± 1 or ± 30) with the queries
 * alternating between them: no one centre suits a block of queries, and the blocked distances'
 * rounding is about the size of the gaps between neighbours (± 30). */
static void test_queries_in_clusters_far_apart(void **state) {
  (void)state;
  const double spreads[] = {1, 30};
  for (size_t s = 0; s < 2; s++) {
    size_t n = 2000, dim = 32, nq = 40;
    float *rows = uniform_floats(n * dim, 0, spreads[s], 91 + s);
    float *queries = uniform_floats(nq * dim, 0, spreads[s], 93 + s);
    for (size_t i = 0; i < n + nq; i++) {
      float *v = i < n ? rows + i * dim : queries + (i - n) * dim;
      for (size_t j = 0; j < dim; j++) v[j] += i % 2 ? 1e4f : -1e4f;
    }
    char what[64];
    snprintf(what, sizeof what, "±1e4 ± %g", spreads[s]);
    expect_exact(what, rows, n, dim, queries, nq, k10, 1, 0);
    free(rows);
    free(queries);
  }
}

/* Queries near the origin, rows near (1000, ..., 1000) and close together: the task's centre
 * (its queries' mean) is far from every row, so the rows' terms cancel as badly as they would
 * uncentred, while the distances differ by little. */
static void test_rows_far_from_the_queries(void **state) {
  (void)state;
  const size_t dims[] = {48, 512};
  for (size_t d = 0; d < 2; d++) {
    char what[64];
    snprintf(what, sizeof what, "dim %zu", dims[d]);
    expect_exact_on_uniform(what, 2000, dims[d], 40, 1000, 0, 1e-2, 121 + 2 * d, k10, 1, 0);
  }
}

/* Batch shapes around the blocked path's panels and slices: odd and large dims, batch sizes
 * around multiples of the panel width, several threads, k from 1 to 100. */
static void test_batch_shapes(void **state) {
  (void)state;
  const size_t dims[] = {1, 7, 33, 300, 520};
  const size_t nqs[] = {3, 31, 33, 65};
  const size_t ks[] = {1, 10, 100};
  for (size_t d = 0; d < 5; d++)
    for (size_t m = 0; m < 3; m++) {
      size_t dim = dims[d], n = dim > 100 ? 700 : 3000;
      float *rows = uniform_floats(n * dim, 0.5, 0.5, 101 + d);
      float *queries = uniform_floats(65 * dim, 0.5, 0.5, 111 + d);
      vexfs_collection *c = collection_of(metrics[m], dim, rows, n);
      char what[64];
      snprintf(what, sizeof what, "dim %zu, %s", dim, metric_names[metrics[m]]);
      for (size_t b = 0; b < 4; b++) {
        unsigned threads = 1 + b % 3;
        assert_int_equal(differences_from_single(what, c, queries, nqs[b], ks[b % 3], threads), 0);
      }
      assert_int_equal(farther_than_reference(what, c, metrics[m], rows, n, queries, 33, 10), 0);
      vexfs_collection_free(c);
      free(rows);
      free(queries);
    }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_clusters_far_from_the_origin),
      cmocka_unit_test(test_rows_a_few_ulps_apart),
      cmocka_unit_test(test_large_and_unequal_norms),
      cmocka_unit_test(test_duplicates_and_ties),
      cmocka_unit_test(test_k_near_and_past_the_live_count),
      cmocka_unit_test(test_free_rows_inside_the_store),
      cmocka_unit_test(test_extreme_scales),
      cmocka_unit_test(test_zero_and_tiny_vectors),
      cmocka_unit_test(test_queries_in_clusters_far_apart),
      cmocka_unit_test(test_rows_far_from_the_queries),
      cmocka_unit_test(test_batch_shapes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

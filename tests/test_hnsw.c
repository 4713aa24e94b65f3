/* HNSW and AUTO: recall against exact search for every metric, exact returned distances, a
 * deterministic single-thread build, parallel build, removal with repair (recall after deleting
 * half and re-inserting as many, against a fresh build), no shortfall below k, the filter hook,
 * the quantiser refit when data outgrows its range, a graph large enough for a wider level-1
 * search, and AUTO's switch to a graph. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "index_util.h"

enum { K = 10 };

/* m: hnsw_m, 0 for the default */
static vexfs_collection *make_m(vexfs_index_kind kind, vexfs_metric metric, uint32_t dim,
                                unsigned threads, uint64_t seed, uint32_t m) {
  vexfs_collection_config cfg;
  vexfs_collection_config_init(&cfg);
  cfg.dim = dim;
  cfg.metric = metric;
  cfg.index = kind;
  cfg.threads = threads;
  cfg.hnsw_seed = seed;
  if (m) cfg.hnsw_m = m;
  vexfs_collection *c;
  assert_int_equal(vexfs_collection_create(&cfg, &c), VEXFS_OK);
  return c;
}

static vexfs_collection *make(vexfs_index_kind kind, vexfs_metric metric, uint32_t dim,
                              unsigned threads, uint64_t seed) {
  return make_m(kind, metric, dim, threads, seed, 0);
}

/* recall@K of `approx` against an exact collection holding the same vectors */
static double recall(vexfs_collection *approx, vexfs_collection *exact, const float *queries,
                     size_t nq, uint32_t ef) {
  vexfs_search_params p;
  vexfs_search_params_init(&p);
  p.ef = ef;
  return test_recall(approx, exact, queries, nq, K, &p);
}

static void test_recall_and_exact_distances(void **state) {
  (void)state;
  enum { N = 4000, D = 32, NQ = 100 };
  const vexfs_metric metrics[] = {VEXFS_METRIC_L2, VEXFS_METRIC_IP, VEXFS_METRIC_COSINE};
  float *v = clustered(N, D, 1), *q = clustered(NQ, D, 2);
  for (int m = 0; m < 3; m++) {
    vexfs_collection *h = make(VEXFS_INDEX_HNSW, metrics[m], D, 1, 0); /* deterministic */
    vexfs_collection *f = make(VEXFS_INDEX_FLAT, metrics[m], D, 2, 0);
    insert_range(h, v, 0, N);
    insert_range(f, v, 0, N);
    assert_string_equal(vx_collection_index_name(h), "hnsw");
    double r = recall(h, f, q, NQ, 64);
    print_message("metric %d: recall@10 ef=64 %.4f\n", (int)metrics[m], r);
    assert_true(r >= 0.95);
    assert_true(recall(h, f, q, NQ, 200) >= recall(h, f, q, NQ, 10) - 1e-9);
    /* returned distances are the exact ones, ascending */
    uint64_t ids[K];
    float dist[K];
    assert_int_equal(vexfs_search(h, q, 1, K, NULL, ids, dist, NULL), VEXFS_OK);
    for (int i = 0; i < K; i++) {
      double want = test_distance(metrics[m], q, v + ids[i] * D, D);
      assert_float_equal(dist[i], want, 1e-4 * (1 + fabs(want)));
      if (i) assert_true(dist[i] >= dist[i - 1]);
    }
    vexfs_collection_free(h);
    vexfs_collection_free(f);
  }
  free(v);
  free(q);
}

static void test_single_thread_build_is_deterministic(void **state) {
  (void)state;
  enum { N = 3000, D = 16, NQ = 50 };
  float *v = clustered(N, D, 3), *q = clustered(NQ, D, 4);
  vexfs_collection *a = make(VEXFS_INDEX_HNSW, VEXFS_METRIC_L2, D, 1, 42);
  vexfs_collection *b = make(VEXFS_INDEX_HNSW, VEXFS_METRIC_L2, D, 1, 42);
  for (size_t i = 0; i < N; i += 500) { /* the same batches in the same order */
    insert_range(a, v + i * D, i, 500);
    insert_range(b, v + i * D, i, 500);
  }
  uint64_t ia[NQ * K], ib[NQ * K];
  float da[NQ * K], db[NQ * K];
  vexfs_search_params p;
  vexfs_search_params_init(&p);
  p.ef = 12; /* a small ef exposes any difference between the graphs */
  assert_int_equal(vexfs_search(a, q, NQ, K, &p, ia, da, NULL), VEXFS_OK);
  assert_int_equal(vexfs_search(b, q, NQ, K, &p, ib, db, NULL), VEXFS_OK);
  assert_memory_equal(ia, ib, sizeof ia);
  assert_memory_equal(da, db, sizeof da);
  vexfs_collection_free(a);
  vexfs_collection_free(b);
  free(v);
  free(q);
}

static void test_parallel_build(void **state) {
  (void)state;
  enum { N = 6000, D = 24, NQ = 100 };
  float *v = clustered(N, D, 5), *q = clustered(NQ, D, 6);
  vexfs_collection *h = make(VEXFS_INDEX_HNSW, VEXFS_METRIC_L2, D, 4, 0);
  vexfs_collection *f = make(VEXFS_INDEX_FLAT, VEXFS_METRIC_L2, D, 1, 0);
  insert_range(h, v, 0, N);
  insert_range(f, v, 0, N);
  assert_true(recall(h, f, q, NQ, 64) >= 0.95);
  vexfs_collection_free(h);
  vexfs_collection_free(f);
  free(v);
  free(q);
}

static void test_delete_half_then_refill(void **state) {
  (void)state;
  enum { N = 6000, D = 24, NQ = 200 };
  float *v = clustered(2 * N, D, 7), *q = clustered(NQ, D, 8);
  vexfs_collection *h = make(VEXFS_INDEX_HNSW, VEXFS_METRIC_L2, D, 1, 0); /* deterministic */
  insert_range(h, v, 0, N);
  /* remove every other id, then insert as many new vectors (they reuse the freed slots) */
  uint64_t *gone = malloc(N / 2 * sizeof *gone);
  for (size_t i = 0; i < N / 2; i++) gone[i] = 2 * i;
  assert_int_equal(vexfs_remove(h, gone, N / 2), VEXFS_OK);
  insert_range(h, v + (size_t)N * D, N, N / 2);
  assert_int_equal(vexfs_count(h), N);

  /* the same live set, built fresh, and exact */
  vexfs_collection *fresh = make(VEXFS_INDEX_HNSW, VEXFS_METRIC_L2, D, 1, 0);
  vexfs_collection *f = make(VEXFS_INDEX_FLAT, VEXFS_METRIC_L2, D, 1, 0);
  for (size_t i = 1; i < N; i += 2) {
    insert_range(fresh, v + i * D, i, 1);
    insert_range(f, v + i * D, i, 1);
  }
  insert_range(fresh, v + (size_t)N * D, N, N / 2);
  insert_range(f, v + (size_t)N * D, N, N / 2);
  double repaired = recall(h, f, q, NQ, 64), rebuilt = recall(fresh, f, q, NQ, 64);
  print_message("recall@10 ef=64: after delete+refill %.4f, fresh build %.4f\n", repaired, rebuilt);
  assert_true(repaired >= rebuilt - 0.01);

  /* removed ids never come back */
  uint64_t ids[NQ * K];
  float dist[NQ * K];
  assert_int_equal(vexfs_search(h, q, NQ, K, NULL, ids, dist, NULL), VEXFS_OK);
  for (size_t i = 0; i < NQ * K; i++) assert_true(ids[i] % 2 == 1 || ids[i] >= N);
  free(gone);
  vexfs_collection_free(h);
  vexfs_collection_free(fresh);
  vexfs_collection_free(f);
  free(v);
  free(q);
}

static void test_k_results_while_k_live(void **state) {
  (void)state;
  enum { N = 2000, D = 8 };
  float *v = clustered(N, D, 9);
  vexfs_collection *h = make(VEXFS_INDEX_HNSW, VEXFS_METRIC_L2, D, 1, 0);
  insert_range(h, v, 0, N);
  uint64_t *gone = malloc(N * sizeof *gone);
  for (size_t i = 0; i < N - 12; i++) gone[i] = i; /* leave 12 */
  assert_int_equal(vexfs_remove(h, gone, N - 12), VEXFS_OK);
  uint64_t ids[K];
  float dist[K];
  size_t count;
  for (size_t i = 0; i < 20; i++) {
    assert_int_equal(vexfs_search(h, v + i * D, 1, K, NULL, ids, dist, &count), VEXFS_OK);
    assert_int_equal(count, K);
    for (int j = 0; j < K; j++) assert_true(ids[j] >= N - 12 && ids[j] < N);
  }
  for (int j = 0; j < 7; j++) gone[j] = N - 12 + j; /* 5 live */
  assert_int_equal(vexfs_remove(h, gone, 7), VEXFS_OK);
  assert_int_equal(vexfs_search(h, v, 1, K, NULL, ids, dist, &count), VEXFS_OK);
  assert_int_equal(count, 5);
  assert_true(ids[5] == UINT64_MAX);
  assert_int_equal(vexfs_remove(h, (uint64_t[]){N - 5, N - 4, N - 3, N - 2, N - 1}, 5), VEXFS_OK);
  assert_int_equal(vexfs_search(h, v, 1, K, NULL, ids, dist, &count), VEXFS_OK);
  assert_int_equal(count, 0); /* empty graph */
  insert_range(h, v, 0, 3); /* and it grows again from nothing */
  assert_int_equal(vexfs_search(h, v, 1, K, NULL, ids, dist, &count), VEXFS_OK);
  assert_int_equal(count, 3);
  assert_true(ids[0] == 0);
  free(gone);
  free(v);
  vexfs_collection_free(h);
}

static void test_filter_hook(void **state) {
  (void)state;
  enum { N = 20000, D = 16, NQ = 50 };
  float *v = clustered(N, D, 10), *q = clustered(NQ, D, 11);
  vexfs_collection *h = make(VEXFS_INDEX_HNSW, VEXFS_METRIC_L2, D, 1, 0); /* deterministic */
  vexfs_collection *f = make(VEXFS_INDEX_FLAT, VEXFS_METRIC_L2, D, 2, 0);
  insert_range(h, v, 0, N);
  insert_range(f, v, 0, N);
  /* 50% .. 0.02%: the graph with the predicate; at the rare end it widens ef and then falls back
   * to an exact scan (no planner here: a bare predicate) */
  const uint64_t moduli[] = {2, 10, 100, 1000, 5000};
  for (int m = 0; m < 5; m++) {
    modulo_filter mh = {h, moduli[m]}, mf = {f, moduli[m]};
    vx_filter fh = {admit_modulo, &mh}, ff = {admit_modulo, &mf};
    uint64_t a[NQ * K], e[NQ * K];
    float da[NQ * K], de[NQ * K];
    size_t ca[NQ], ce[NQ];
    vexfs_search_params p;
    vexfs_search_params_init(&p);
    p.ef = 128;
    assert_int_equal(vx_collection_search(h, q, NQ, K, &p, &fh, a, da, ca), VEXFS_OK);
    assert_int_equal(vx_collection_search(f, q, NQ, K, NULL, &ff, e, de, ce), VEXFS_OK);
    size_t hit = 0, admitted = N / moduli[m];
    for (size_t i = 0; i < NQ; i++) {
      assert_int_equal(ca[i], admitted < K ? admitted : K); /* k whenever k match */
      assert_int_equal(ce[i], ca[i]);
      for (size_t j = 0; j < ca[i]; j++) {
        assert_true(a[i * K + j] % moduli[m] == 0);
        for (size_t l = 0; l < ce[i]; l++) hit += a[i * K + j] == e[i * K + l];
      }
    }
    double r = (double)hit / (NQ * (admitted < K ? admitted : K));
    print_message("filter 1/%llu: recall@10 %.4f\n", (unsigned long long)moduli[m], r);
    assert_true(r >= 0.95);
  }
  vexfs_collection_free(h);
  vexfs_collection_free(f);
  free(v);
  free(q);
}

static void check_range_growth(float growth, int exact_traversal, double min_recall) {
  enum { N = 3000, D = 16, NQ = 100 };
  float *v = clustered(N, D, 12), *q = clustered(NQ, D, 13);
  for (size_t i = N / 2 * D; i < (size_t)N * D; i++) v[i] *= growth;
  for (size_t i = NQ / 2 * D; i < (size_t)NQ * D; i++) q[i] *= growth;
  vexfs_collection *h = make(VEXFS_INDEX_HNSW, VEXFS_METRIC_L2, D, 1, 0); /* deterministic */
  vexfs_collection *f = make(VEXFS_INDEX_FLAT, VEXFS_METRIC_L2, D, 2, 0);
  insert_range(h, v, 0, N / 2);
  insert_range(h, v + N / 2 * D, N / 2, N / 2);
  insert_range(f, v, 0, N);
  double r = recall(h, f, q, NQ, 64);
  print_message("after the range grew %gx: recall@10 ef=64 %.4f\n", growth, r);
  assert_int_equal(vx_collection_traverses_exactly(h), exact_traversal);
  assert_true(r >= min_recall);
  vexfs_collection_free(h);
  vexfs_collection_free(f);
  free(v);
  free(q);
}

/* The second half spreads twice as wide: the codes refit and re-encode, and stay precise. */
static void test_refit_when_data_outgrows_range(void **state) {
  (void)state;
  check_range_growth(2.0f, 0, 0.95);
}

/* 20x wider: one code step for all data cannot resolve the narrow half, so traversal falls back
 * to the exact vectors (codes gave 0.901 here, exact traversal 0.923: what the graph allows on
 * data of two scales). */
static void test_coarse_codes_fall_back_to_exact_traversal(void **state) {
  (void)state;
  check_range_growth(20.0f, 1, 0.915);
}

/* A graph with many upper-level nodes, where queries search level 1 keeping several nodes rather
 * than descending greedily (hnsw_search.c, upper_width): M = 4 puts a quarter of the nodes above
 * level 0, about 13 000 of 40 000, so the width is 3. Built on 2 threads. */
static void test_wide_level1_search(void **state) {
  (void)state;
  enum { N = 40000, D = 8, NQ = 200 };
  float *v = clustered_by(N + NQ, D, 9, 0.3f), *q = v + (size_t)N * D; /* queries: the last NQ */
  vexfs_collection *h = make_m(VEXFS_INDEX_HNSW, VEXFS_METRIC_L2, D, 2, 0, 4);
  vexfs_collection *f = make(VEXFS_INDEX_FLAT, VEXFS_METRIC_L2, D, 1, 0);
  insert_range(h, v, 0, N);
  insert_range(f, v, 0, N);
  double r = recall(h, f, q, NQ, 40);
  print_message("M=4, 40 000 nodes: recall@10 ef=40 %.4f\n", r);
  assert_true(r >= 0.9);
  vexfs_collection_free(h);
  vexfs_collection_free(f);
  free(v);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_recall_and_exact_distances),
      cmocka_unit_test(test_single_thread_build_is_deterministic),
      cmocka_unit_test(test_parallel_build),
      cmocka_unit_test(test_delete_half_then_refill),
      cmocka_unit_test(test_k_results_while_k_live),
      cmocka_unit_test(test_filter_hook),
      cmocka_unit_test(test_refit_when_data_outgrows_range),
      cmocka_unit_test(test_coarse_codes_fall_back_to_exact_traversal),
      cmocka_unit_test(test_wide_level1_search),
  };
  return cmocka_run_group_tests_name("hnsw", tests, NULL, NULL);
}

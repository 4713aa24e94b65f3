/* Metrics: counters count vectors and queries, latency percentiles are ordered and accurate, ops/sec
 * windows, memory by kind, JSON keys and Prometheus families, process-wide figures, reset, and
 * the switch that turns recording off. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "metrics/metrics.h"
#include "test_util.h"

enum { N = 3000, D = 16, K = 5 };

static vexfs_collection *filled(vexfs_index_kind kind) {
  vexfs_collection_config cfg;
  vexfs_collection_config_init(&cfg);
  cfg.dim = D;
  cfg.index = kind;
  vexfs_collection *c;
  assert_int_equal(vexfs_collection_create(&cfg, &c), VEXFS_OK);
  float *v = test_random_vectors(N, D, 1);
  uint64_t *ids = malloc(N * sizeof *ids);
  for (size_t i = 0; i < N; i++) ids[i] = i;
  assert_int_equal(vexfs_insert(c, ids, v, N / 2), VEXFS_OK); /* two insert calls */
  assert_int_equal(vexfs_insert(c, ids + N / 2, v + N / 2 * D, N - N / 2), VEXFS_OK);
  free(v);
  free(ids);
  return c;
}

static void search_some(vexfs_collection *c, size_t calls, size_t nq) {
  float *q = test_random_vectors(nq, D, 2);
  uint64_t *ids = malloc(nq * K * sizeof *ids);
  float *dist = malloc(nq * K * sizeof *dist);
  for (size_t i = 0; i < calls; i++)
    assert_int_equal(vexfs_search(c, q, nq, K, NULL, ids, dist, NULL), VEXFS_OK);
  free(q);
  free(ids);
  free(dist);
}

static void test_counters_and_latency(void **state) {
  (void)state;
  vexfs_collection *c = filled(VEXFS_INDEX_FLAT);
  search_some(c, 20, 1);
  search_some(c, 3, 10);
  uint64_t gone[2] = {4, 5};
  assert_int_equal(vexfs_remove(c, gone, 2), VEXFS_OK);
  assert_int_equal(vexfs_remove(c, gone, 2), VEXFS_E_NOT_FOUND); /* failures do not count */
  vexfs_metrics m;
  vexfs_metrics_init(&m);
  assert_int_equal(vexfs_collection_metrics(c, &m), VEXFS_OK);
  assert_int_equal(m.inserts, N);
  assert_int_equal(m.searches, 20 + 30);
  assert_int_equal(m.removes, 2);
  assert_int_equal(m.vectors, N - 2);
  assert_int_equal(m.distance_computations, (uint64_t)50 * N); /* exact: every row per query */
  assert_int_equal(m.search_latency_us.count, 23);
  assert_int_equal(m.insert_latency_us.count, 2);
  const vexfs_latency_summary *l = &m.search_latency_us;
  assert_true(l->p50 > 0 && l->p50 <= l->p95 && l->p95 <= l->p99 && l->p99 <= l->p999 &&
              l->p999 <= l->max);
  assert_true(l->mean > 0 && l->mean <= l->max);
  assert_true(m.memory_vectors >= (uint64_t)N * D * sizeof(float));
  assert_int_equal(m.memory_index, 0); /* flat */
  assert_true(m.memory_pool > 0);
  assert_true(m.pool_hit_rate > 0 && m.pool_hit_rate <= 1);
  assert_string_equal(m.simd_isa, vexfs_simd_isa());
  vexfs_metrics bad;
  memset(&bad, 0, sizeof bad);
  assert_int_equal(vexfs_collection_metrics(c, &bad), VEXFS_E_INVALID);

  vexfs_metrics_reset(c);
  vexfs_metrics_init(&m);
  vexfs_collection_metrics(c, &m);
  assert_int_equal(m.searches, 0);
  assert_int_equal(m.search_latency_us.count, 0);
  assert_int_equal(m.vectors, N - 2); /* a state, not a counter */
  vexfs_collection_free(c);
}

static void test_histogram_accuracy(void **state) {
  (void)state;
  vx_metrics *m = aligned_alloc(64, sizeof *m);
  memset(m, 0, sizeof *m);
  uint64_t now = vx_now_ns();
  for (uint64_t us = 1; us <= 10000; us++) vx_metrics_on_search(m, 1, 0, us * 1000, now);
  vx_op_totals *t = calloc(1, sizeof *t);
  vx_op_totals_add(t, &m->search);
  vexfs_latency_summary s;
  vx_op_totals_summary(t, &s);
  free(t);
  assert_int_equal(s.count, 10000);
  assert_float_equal(s.p50, 5000, 5000 * 0.07); /* buckets are about 6% wide */
  assert_float_equal(s.p95, 9500, 9500 * 0.07);
  assert_float_equal(s.p99, 9900, 9900 * 0.07);
  assert_float_equal(s.p999, 9990, 9990 * 0.07);
  assert_float_equal(s.max, 10000, 1e-6);
  assert_float_equal(s.mean, 5000.5, 0.01);
  assert_true(vx_op_rate(&m->search, 60) >= 0);
  free(m);
}

static void test_hnsw_counts_its_distances(void **state) {
  (void)state;
  vexfs_collection *c = filled(VEXFS_INDEX_HNSW);
  search_some(c, 10, 1);
  vexfs_metrics m;
  vexfs_metrics_init(&m);
  vexfs_collection_metrics(c, &m);
  assert_true(m.distance_computations > 10 * K);
  assert_true(m.distance_computations < (uint64_t)10 * N); /* far fewer than a scan */
  assert_true(m.memory_index > (uint64_t)N * D);            /* codes and links */
  vexfs_collection_free(c);
}

static void test_json_and_prometheus(void **state) {
  (void)state;
  vexfs_collection *c = filled(VEXFS_INDEX_FLAT);
  search_some(c, 5, 2);
  char *json = vexfs_metrics_json(c);
  assert_non_null(json);
  const char *keys[] = {"\"inserts\":3000", "\"searches\":10", "\"removes\":0", "\"vectors\":3000",
                        "\"distance_computations\":", "\"search_latency_us\":{\"p50\":",
                        "\"p999\":", "\"insert_latency_us\":{", "\"ops_per_sec\":{\"search_1s\":",
                        "\"insert_60s\":", "\"memory_bytes\":{\"vectors\":", "\"payloads\":0",
                        "\"pool\":{\"hit_rate\":", "\"tiers\":[{\"block_size\":1024",
                        "\"simd_isa\":\""};
  for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) assert_non_null(strstr(json, keys[i]));
  assert_true(json[0] == '{' && json[strlen(json) - 1] == '}');
  vexfs_free(json);
  char *prom = vexfs_metrics_prometheus(c);
  assert_non_null(prom);
  const char *lines[] = {"# TYPE vexfs_inserts_total counter\nvexfs_inserts_total 3000\n",
                         "# TYPE vexfs_searches_total counter\nvexfs_searches_total 10\n",
                         "# HELP vexfs_removes_total ", "# TYPE vexfs_vectors gauge\n",
                         "# TYPE vexfs_search_latency_seconds summary\n",
                         "vexfs_search_latency_seconds{quantile=\"0.99\"} ",
                         "vexfs_search_latency_seconds_count 5\n",
                         "vexfs_insert_latency_seconds_sum ", "vexfs_pool_hit_ratio ",
                         "vexfs_memory_bytes{kind=\"vectors\"} ",
                         "vexfs_memory_bytes{kind=\"pool\"} ", "vexfs_simd_info{isa=\""};
  for (size_t i = 0; i < sizeof lines / sizeof *lines; i++) assert_non_null(strstr(prom, lines[i]));
  vexfs_free(prom);
  vexfs_collection_free(c);
}

/* A database's collection has a name: every Prometheus sample carries it, merged with the
 * sample's own labels, and JSON names it; the process figures carry no collection label. */
static void test_named_collection_labels(void **state) {
  (void)state;
  vexfs_db *db;
  assert_int_equal(vexfs_db_open(NULL, NULL, &db), VEXFS_OK);
  vexfs_collection_config cfg;
  vexfs_collection_config_init(&cfg);
  cfg.dim = D;
  vexfs_collection *c;
  assert_int_equal(vexfs_db_create_collection(db, "docs-v2.1_x", &cfg, &c), VEXFS_OK);
  float *v = test_random_vectors(40, D, 1);
  uint64_t ids[40];
  for (size_t i = 0; i < 40; i++) ids[i] = 100 + i;
  assert_int_equal(vexfs_insert(c, ids, v, 40), VEXFS_OK);
  free(v);
  search_some(c, 3, 1);
  char *prom = vexfs_metrics_prometheus(c);
  assert_non_null(prom);
  const char *lines[] = {"\nvexfs_inserts_total{collection=\"docs-v2.1_x\"} 40\n",
                         "\nvexfs_searches_total{collection=\"docs-v2.1_x\"} 3\n",
                         "\nvexfs_vectors{collection=\"docs-v2.1_x\"} 40\n",
                         "\nvexfs_search_latency_seconds{collection=\"docs-v2.1_x\",quantile=\"0.5\"} ",
                         "\nvexfs_search_latency_seconds_count{collection=\"docs-v2.1_x\"} 3\n",
                         "\nvexfs_memory_bytes{collection=\"docs-v2.1_x\",kind=\"index\"} ",
                         "\nvexfs_pool_hit_ratio{collection=\"docs-v2.1_x\"} ",
                         "\nvexfs_simd_info{collection=\"docs-v2.1_x\",isa=\""};
  for (size_t i = 0; i < sizeof lines / sizeof *lines; i++) assert_non_null(strstr(prom, lines[i]));
  /* every sample line is labelled */
  size_t samples = 0;
  for (const char *line = prom; *line; line = strchr(line, '\n') + 1) {
    if (*line != '#') {
      samples++;
      assert_non_null(strstr(line, "{collection=\"docs-v2.1_x\""));
      assert_true(strstr(line, "{collection=") < strchr(line, '\n'));
    }
  }
  assert_int_equal(samples, 22); /* memory: vectors, index, payloads, pool, mapped */
  vexfs_free(prom);
  char *json = vexfs_metrics_json(c);
  assert_non_null(json);
  assert_memory_equal(json, "{\"collection\":\"docs-v2.1_x\",\"inserts\":40,", 40);
  vexfs_free(json);
  prom = vexfs_metrics_prometheus(NULL);
  assert_non_null(prom);
  assert_null(strstr(prom, "collection="));
  vexfs_free(prom);
  json = vexfs_metrics_json(NULL);
  assert_null(strstr(json, "\"collection\""));
  vexfs_free(json);
  assert_int_equal(vexfs_db_close(db), VEXFS_OK);
}

static void test_process_wide_and_switch(void **state) {
  (void)state;
  vexfs_metrics before, after, one;
  vexfs_metrics_init(&before);
  vexfs_metrics_init(&after);
  vexfs_metrics_init(&one);
  vexfs_collection_metrics(NULL, &before);
  vexfs_collection *a = filled(VEXFS_INDEX_FLAT), *b = filled(VEXFS_INDEX_FLAT);
  search_some(a, 4, 1);
  search_some(b, 6, 1);
  vexfs_collection_metrics(NULL, &after);
  vexfs_collection_metrics(a, &one);
  assert_int_equal(after.searches - before.searches, 10);
  assert_int_equal(after.inserts - before.inserts, 2 * N);
  assert_true(after.vectors >= 2 * (uint64_t)N);
  assert_true(after.memory_vectors >= 2 * one.memory_vectors);
  char *json = vexfs_metrics_json(NULL);
  assert_non_null(json);
  vexfs_free(json);

  vexfs_metrics_set_enabled(0); /* off: nothing is recorded */
  search_some(a, 5, 1);
  vexfs_metrics_set_enabled(1);
  vexfs_metrics_init(&one);
  vexfs_collection_metrics(a, &one);
  assert_int_equal(one.searches, 4);
  vexfs_metrics_reset(NULL);
  vexfs_metrics_init(&after);
  vexfs_collection_metrics(NULL, &after);
  assert_int_equal(after.searches, 0);
  vexfs_collection_free(a);
  vexfs_collection_free(b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_counters_and_latency),
      cmocka_unit_test(test_histogram_accuracy),
      cmocka_unit_test(test_hnsw_counts_its_distances),
      cmocka_unit_test(test_json_and_prometheus),
      cmocka_unit_test(test_named_collection_labels),
      cmocka_unit_test(test_process_wide_and_switch),
  };
  return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}

/* Allocator hooks: every byte goes through them, they can only be set first, and after warm-up
 * a steady stream of searches (flat and HNSW, single and batched, filtered in every way the
 * planner answers a filter) makes no allocator call. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <stdatomic.h>

#include "test_util.h"

static atomic_long allocs, frees;

static void *counting_alloc(void *opaque, size_t size, size_t align) {
  (void)opaque;
  void *p = NULL;
  if (posix_memalign(&p, align, size) != 0) return NULL;
  atomic_fetch_add(&allocs, 1);
  return p;
}

static void counting_free(void *opaque, void *ptr) {
  (void)opaque;
  atomic_fetch_add(&frees, 1);
  free(ptr);
}

/* Runs first, before the library has allocated anything. */
static void test_hooks_are_set_first(void **state) {
  (void)state;
  vexfs_allocator a = {sizeof a, counting_alloc, counting_free, NULL};
  vexfs_allocator half = {sizeof half, counting_alloc, NULL, NULL};
  assert_int_equal(vexfs_set_allocator(&half), VEXFS_E_INVALID);
  assert_int_equal(vexfs_set_allocator(&a), VEXFS_OK);
  vexfs_collection_config cfg;
  vexfs_collection_config_init(&cfg);
  cfg.dim = 4;
  vexfs_collection *c;
  assert_int_equal(vexfs_collection_create(&cfg, &c), VEXFS_OK);
  assert_true(atomic_load(&allocs) > 0); /* the collection came through the hooks */
  assert_int_equal(vexfs_set_allocator(&a), VEXFS_E_STATE);
  assert_int_equal(vexfs_set_allocator(NULL), VEXFS_E_STATE);
  long before = atomic_load(&frees);
  vexfs_collection_free(c);
  assert_true(atomic_load(&frees) > before); /* and went back through them */
}

enum { N = 6000, D = 32, K = 10 };

/* A collection of N rows; with payloads {"tag": "t<i % 10>", "n": i, "deep": {"x": i % 3}} and
 * indexes on tag (keyword) and n (numeric) when `payloads`. */
static vexfs_collection *filled(vexfs_index_kind kind, int payloads, float **vectors) {
  vexfs_collection_config cfg;
  vexfs_collection_config_init(&cfg);
  cfg.dim = D;
  cfg.index = kind;
  cfg.threads = 2;
  vexfs_collection *c;
  assert_int_equal(vexfs_collection_create(&cfg, &c), VEXFS_OK);
  float *v = test_random_vectors(N, D, 3);
  uint64_t *ids = malloc(N * sizeof *ids);
  char **texts = malloc(N * sizeof *texts);
  for (size_t i = 0; i < N; i++) {
    ids[i] = i;
    texts[i] = malloc(80);
    snprintf(texts[i], 80, "{\"tag\":\"t%zu\",\"n\":%zu,\"deep\":{\"x\":%zu}}", i % 10, i, i % 3);
  }
  assert_int_equal(payloads ? vexfs_insert_with_payload(c, ids, v, (const char *const *)texts, N)
                            : vexfs_insert(c, ids, v, N),
                   VEXFS_OK);
  if (payloads) {
    assert_int_equal(vexfs_create_payload_index(c, "tag", VEXFS_PAYLOAD_INDEX_KEYWORD), VEXFS_OK);
    assert_int_equal(vexfs_create_payload_index(c, "n", VEXFS_PAYLOAD_INDEX_NUMERIC), VEXFS_OK);
  }
  for (size_t i = 0; i < N; i++) free(texts[i]);
  free(texts);
  free(ids);
  *vectors = v;
  return c;
}

/* Warms up, then counts the allocator calls of 200 searches of nq queries (with a filter). */
static void steady_state(vexfs_collection *c, const float *v, size_t nq, const char *filter) {
  vexfs_search_params p;
  vexfs_search_params_init(&p);
  p.filter_json = filter;
  uint64_t *out = malloc(nq * K * sizeof *out);
  float *dist = malloc(nq * K * sizeof *dist);
  size_t *counts = malloc(nq * sizeof *counts);
  for (int warm = 0; warm < 5; warm++)
    assert_int_equal(vexfs_search(c, v, nq, K, &p, out, dist, counts), VEXFS_OK);
  long a0 = atomic_load(&allocs), f0 = atomic_load(&frees);
  for (int i = 0; i < 200; i++)
    assert_int_equal(vexfs_search(c, v + (i % 100) * D, nq, K, &p, out, dist, counts), VEXFS_OK);
  if (atomic_load(&allocs) != a0 || atomic_load(&frees) != f0)
    fail_msg("%ld allocations and %ld frees in 200 searches, nq %zu, filter %s",
             atomic_load(&allocs) - a0, atomic_load(&frees) - f0, nq, filter ? filter : "none");
  assert_true(counts[0] > 0); /* the searches found something */
  free(out);
  free(dist);
  free(counts);
}

static void unfiltered(vexfs_index_kind kind, size_t nq) {
  float *v;
  vexfs_collection *c = filled(kind, 0, &v);
  steady_state(c, v, nq, NULL);
  free(v);
  vexfs_collection_free(c);
}

static void test_flat_searches_allocate_nothing(void **state) {
  (void)state;
  unfiltered(VEXFS_INDEX_FLAT, 1);
  unfiltered(VEXFS_INDEX_FLAT, 64); /* the blocked path's tiles */
}

static void test_hnsw_searches_allocate_nothing(void **state) {
  (void)state;
  unfiltered(VEXFS_INDEX_HNSW, 1);
  unfiltered(VEXFS_INDEX_HNSW, 16);
}

/* Each way the planner answers a filter (payload/planner.h): listed rows scored exactly (from a
 * keyword index, a range index, has_id, or a scan of every row), the graph with a bitmap (covered
 * by indexes, groups combining bitmaps), the graph or a flat scan testing payloads. */
static void test_filtered_searches_allocate_nothing(void **state) {
  (void)state;
  static const char *const filters[] = {
      "{\"must\":[{\"key\":\"tag\",\"match\":{\"value\":\"t3\"}}]}",
      "{\"must\":{\"key\":\"n\",\"range\":{\"gte\":100,\"lt\":400}}}",
      "{\"must\":[{\"has_id\":[5,17,900,4000,77]}]}",
      "{\"must\":[{\"key\":\"deep.x\",\"match\":{\"value\":1}}]}",
      "{\"must\":[{\"key\":\"n\",\"match\":{\"any\":[1,2,3000]}}]}", /* rare, unindexed */
      "{\"must_not\":[{\"key\":\"tag\",\"match\":{\"any\":[\"t1\",\"t2\"]}}]}",
      "{\"should\":[{\"key\":\"tag\",\"match\":{\"any\":[\"t1\",\"t2\",\"t4\",\"t5\"]}},"
      "{\"key\":\"n\",\"range\":{\"lt\":3000}}]}",
      "{\"must\":[{\"key\":\"tag\",\"match\":{\"except\":[\"t0\"]}},"
      "{\"key\":\"n\",\"range\":{\"gt\":10}}],\"should\":[]}",
  };
  vexfs_index_kind kinds[] = {VEXFS_INDEX_FLAT, VEXFS_INDEX_HNSW};
  for (size_t k = 0; k < 2; k++) {
    float *v;
    vexfs_collection *c = filled(kinds[k], 1, &v);
    for (size_t f = 0; f < sizeof filters / sizeof *filters; f++) {
      steady_state(c, v, 1, filters[f]);
      steady_state(c, v, 8, filters[f]);
    }
    free(v);
    vexfs_collection_free(c);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hooks_are_set_first),
      cmocka_unit_test(test_flat_searches_allocate_nothing),
      cmocka_unit_test(test_hnsw_searches_allocate_nothing),
      cmocka_unit_test(test_filtered_searches_allocate_nothing),
  };
  return cmocka_run_group_tests_name("allocator", tests, NULL, NULL);
}

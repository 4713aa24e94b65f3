/* Allocator hooks: every byte goes through them, they can only be set first, and after warm-up
 * a steady stream of searches (flat and HNSW, single and batched) makes no allocator call. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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

static void steady_state(vexfs_index_kind kind, size_t nq) {
  enum { N = 6000, D = 32, K = 10 };
  vexfs_collection_config cfg;
  vexfs_collection_config_init(&cfg);
  cfg.dim = D;
  cfg.index = kind;
  cfg.threads = 2;
  vexfs_collection *c;
  assert_int_equal(vexfs_collection_create(&cfg, &c), VEXFS_OK);
  float *v = test_random_vectors(N, D, 3);
  uint64_t *ids = malloc(N * sizeof *ids);
  for (size_t i = 0; i < N; i++) ids[i] = i;
  assert_int_equal(vexfs_insert(c, ids, v, N), VEXFS_OK);
  uint64_t *out = malloc(nq * K * sizeof *out);
  float *dist = malloc(nq * K * sizeof *dist);
  for (int warm = 0; warm < 5; warm++)
    assert_int_equal(vexfs_search(c, v, nq, K, NULL, out, dist, NULL), VEXFS_OK);
  long a0 = atomic_load(&allocs), f0 = atomic_load(&frees);
  for (int i = 0; i < 200; i++)
    assert_int_equal(vexfs_search(c, v + (i % 100) * D, nq, K, NULL, out, dist, NULL), VEXFS_OK);
  assert_int_equal(atomic_load(&allocs) - a0, 0);
  assert_int_equal(atomic_load(&frees) - f0, 0);
  free(out);
  free(dist);
  free(ids);
  free(v);
  vexfs_collection_free(c);
}

static void test_flat_searches_allocate_nothing(void **state) {
  (void)state;
  steady_state(VEXFS_INDEX_FLAT, 1);
  steady_state(VEXFS_INDEX_FLAT, 64); /* the blocked path's tiles */
}

static void test_hnsw_searches_allocate_nothing(void **state) {
  (void)state;
  steady_state(VEXFS_INDEX_HNSW, 1);
  steady_state(VEXFS_INDEX_HNSW, 16);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hooks_are_set_first),
      cmocka_unit_test(test_flat_searches_allocate_nothing),
      cmocka_unit_test(test_hnsw_searches_allocate_nothing),
  };
  return cmocka_run_group_tests_name("allocator", tests, NULL, NULL);
}

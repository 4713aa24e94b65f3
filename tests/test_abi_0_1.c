/* A program built against libvexfs 0.1.0's header (tests/abi/v0_1_0, a copy of the header as it
 * shipped), run on today's library: every public struct sits before guard bytes, and no call
 * that fills or reads one may touch them or refuse the old size. This is the case struct_size
 * exists for: 0.1.0's _init functions cleared the library's own sizeof, so any struct that grew
 * would have overrun an old caller's stack. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <vexfs/vexfs.h>

#if VEXFS_VERSION_NUMBER != 100
#error "this suite must be built against the 0.1.0 header"
#endif

#define GUARD 0xA5
#define GUARDED(type)      \
  struct {                 \
    type s;                \
    unsigned char g[256];  \
  }

static int intact(const unsigned char *g) {
  for (int i = 0; i < 256; i++)
    if (g[i] != GUARD) return 0;
  return 1;
}
#define ARM(x) memset(&(x), GUARD, sizeof(x))
#define CHECK(x)                                                                            \
  do {                                                                                      \
    assert_true(intact((x).g));                                                             \
    assert_int_equal((x).s.struct_size, sizeof((x).s));                                     \
  } while (0)

static void test_old_structs_are_filled_exactly(void **state) {
  (void)state;
  GUARDED(vexfs_collection_config) cfg;
  GUARDED(vexfs_search_params) params;
  GUARDED(vexfs_db_options) opts;
  GUARDED(vexfs_pool_config) pool;
  GUARDED(vexfs_pool_stats) stats;
  GUARDED(vexfs_metrics) metrics;
  ARM(cfg);
  ARM(params);
  ARM(opts);
  ARM(pool);
  ARM(stats);
  ARM(metrics);
  vexfs_collection_config_init(&cfg.s);
  vexfs_search_params_init(&params.s);
  vexfs_db_options_init(&opts.s);
  vexfs_pool_config_init(&pool.s);
  vexfs_pool_stats_init(&stats.s);
  vexfs_metrics_init(&metrics.s);
  CHECK(cfg);
  CHECK(params);
  CHECK(opts);
  CHECK(pool);
  CHECK(stats);
  CHECK(metrics);
  /* the 0.1.0 defaults */
  assert_int_equal(cfg.s.hnsw_m, 16);
  assert_int_equal(cfg.s.hnsw_ef_construction, 200);
  assert_int_equal(cfg.s.hnsw_ef_search, 64);
  assert_int_equal(cfg.s.index, VEXFS_INDEX_AUTO);
  assert_int_equal(opts.s.sync, VEXFS_SYNC_FULL);
  assert_int_equal(pool.s.tier_count, 7);
  assert_null(params.s.filter_json);

  /* every call that takes or fills one of them accepts the old size and stays inside it */
  assert_int_equal(vexfs_pool_configure(&pool.s), VEXFS_OK);
  CHECK(pool);
  cfg.s.dim = 4;
  cfg.s.index = VEXFS_INDEX_HNSW;
  cfg.s.hnsw_seed = 7;
  vexfs_db *db;
  assert_int_equal(vexfs_db_open(NULL, &opts.s, &db), VEXFS_OK);
  CHECK(opts);
  vexfs_collection *c;
  assert_int_equal(vexfs_db_create_collection(db, "c", &cfg.s, &c), VEXFS_OK);
  CHECK(cfg);
  uint64_t ids[3] = {1, 2, 3};
  float v[12] = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0};
  assert_int_equal(vexfs_insert(c, ids, v, 3), VEXFS_OK);
  params.s.filter_json = "{\"must\": [{\"has_id\": [2, 3]}]}";
  uint64_t hit[2];
  float d[2];
  assert_int_equal(vexfs_search(c, v, 1, 2, &params.s, hit, d, NULL), VEXFS_OK);
  CHECK(params);
  assert_int_equal(hit[0], 2);
  GUARDED(vexfs_collection_config) back;
  ARM(back);
  vexfs_collection_config_init(&back.s);
  assert_int_equal(vexfs_collection_get_config(c, &back.s), VEXFS_OK);
  CHECK(back);
  assert_int_equal(back.s.dim, 4);
  assert_true(back.s.hnsw_seed == 7);
  assert_int_equal(vexfs_pool_get_stats(&stats.s), VEXFS_OK);
  CHECK(stats);
  assert_int_equal(stats.s.tier_count, 7);
  assert_int_equal(vexfs_collection_metrics(c, &metrics.s), VEXFS_OK);
  CHECK(metrics);
  assert_int_equal(metrics.s.inserts, 3);
  assert_int_equal(metrics.s.searches, 1);
  assert_int_equal(vexfs_db_close(db), VEXFS_OK);
}

static void *old_alloc(void *opaque, size_t size, size_t align) {
  (void)opaque;
  void *p = NULL;
  return posix_memalign(&p, align, size) == 0 ? p : NULL;
}
static void old_free(void *opaque, void *p) {
  (void)opaque;
  free(p);
}

int main(void) {
  /* first, before anything allocates: an old allocator struct is accepted */
  GUARDED(vexfs_allocator) a;
  ARM(a);
  a.s = (vexfs_allocator){sizeof a.s, old_alloc, old_free, NULL};
  if (vexfs_set_allocator(&a.s) != VEXFS_OK || !intact(a.g)) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_old_structs_are_filled_exactly),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

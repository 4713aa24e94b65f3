/* The versioned-struct rule from both sides, with guard bytes after every struct. A caller with
 * a smaller struct (an older header) gets exactly its size filled, read and written; a caller
 * with a larger one (a newer header, on this older library) gets its unknown fields zeroed by
 * _init and by every output, and a call that sets one is refused with VEXFS_E_UNSUPPORTED
 * rather than silently ignoring a feature this library lacks. Sizes below the first version or
 * beyond any sane struct are VEXFS_E_INVALID. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "versioned.h"

#define GUARD 0x5A

/* A struct of type T as a caller of another version has it: `size` bytes, then guard bytes. */
typedef struct caller {
  union {
    unsigned char bytes[1024];
    max_align_t align;
  } u;
  size_t size;
} caller;

static void *as(caller *c, size_t size) {
  memset(c->u.bytes, GUARD, sizeof c->u.bytes);
  c->size = size;
  return c->u.bytes;
}

static int guard_intact(const caller *c) {
  for (size_t i = c->size; i < sizeof c->u.bytes; i++)
    if (c->u.bytes[i] != GUARD) return 0;
  return 1;
}

static int zero_from(const caller *c, size_t from) {
  for (size_t i = from; i < c->size; i++)
    if (c->u.bytes[i]) return 0;
  return 1;
}

static uint32_t stamped(const caller *c) {
  uint32_t v;
  memcpy(&v, c->u.bytes, 4);
  return v;
}

/* The six _init_sized functions by number, with our size of each struct. */
enum { KINDS = 6 };
static size_t init_kind(int k, void *p, size_t size) {
  switch (k) {
  case 0: vexfs_collection_config_init_sized(p, size); return sizeof(vexfs_collection_config);
  case 1: vexfs_search_params_init_sized(p, size); return sizeof(vexfs_search_params);
  case 2: vexfs_db_options_init_sized(p, size); return sizeof(vexfs_db_options);
  case 3: vexfs_pool_config_init_sized(p, size); return sizeof(vexfs_pool_config);
  case 4: vexfs_pool_stats_init_sized(p, size); return sizeof(vexfs_pool_stats);
  default: vexfs_metrics_init_sized(p, size); return sizeof(vexfs_metrics);
  }
}

/* Every _init fills exactly the caller's size, smaller or larger than ours. */
static void test_init_fills_exactly_the_callers_size(void **state) {
  (void)state;
  caller c;
  for (int k = 0; k < KINDS; k++) {
    size_t ours = init_kind(k, NULL, 64);
    size_t sizes[] = {8, ours - 4, ours, ours + 8, ours + 200};
    for (size_t i = 0; i < 5; i++) {
      init_kind(k, as(&c, sizes[i]), sizes[i]);
      assert_true(guard_intact(&c));
      assert_int_equal(stamped(&c), sizes[i]);
      assert_true(zero_from(&c, ours)); /* fields this version lacks are zero */
    }
    init_kind(k, as(&c, 2), 2); /* too small to hold struct_size: nothing written */
    c.size = 0;
    assert_true(guard_intact(&c));
    init_kind(k, as(&c, 0), VX_STRUCT_SIZE_MAX + 1); /* no struct is that large */
    assert_true(guard_intact(&c));
  }
  /* 0.1.0's functions fill 0.1.0's sizes */
  (vexfs_collection_config_init)((vexfs_collection_config *)as(&c, VX_CONFIG_SIZE_0_1));
  assert_true(guard_intact(&c));
  assert_int_equal(stamped(&c), VX_CONFIG_SIZE_0_1);
  (vexfs_metrics_init)((vexfs_metrics *)as(&c, VX_METRICS_SIZE_0_1));
  assert_true(guard_intact(&c));
}

/* A caller from before hnsw_seed existed: the seed takes its default, and reading the
 * configuration back writes only the fields it has. */
static void test_older_callers_everywhere(void **state) {
  (void)state;
  caller c, back;
  size_t old = vx_config_kind.earlier[0]; /* before hnsw_seed */
  vexfs_collection_config *cfg = as(&c, old);
  vexfs_collection_config_init_sized(cfg, old);
  cfg->dim = 5;
  vexfs_collection *col;
  assert_int_equal(vexfs_collection_create(cfg, &col), VEXFS_OK);
  vexfs_collection_config *got = as(&back, old);
  vexfs_collection_config_init_sized(got, old);
  assert_int_equal(vexfs_collection_get_config(col, got), VEXFS_OK);
  assert_true(guard_intact(&back));
  assert_int_equal(got->dim, 5);
  assert_int_equal(got->struct_size, old);
  /* search params without their tail padding */
  size_t unpadded = vx_params_kind.earlier[0];
  vexfs_search_params *p = as(&c, unpadded);
  vexfs_search_params_init_sized(p, unpadded);
  float q[5] = {0};
  uint64_t id = 1, hit;
  float d;
  assert_int_equal(vexfs_insert(col, &id, q, 1), VEXFS_OK);
  assert_int_equal(vexfs_search(col, q, 1, 1, p, &hit, &d, NULL), VEXFS_OK);
  assert_int_equal(hit, 1);
  vexfs_collection_free(col);
}

/* A caller from a newer version: its extra fields read back as zero from every output, and any
 * it sets on an input is refused, naming the byte. */
static void test_newer_callers_are_refused_only_for_what_they_set(void **state) {
  (void)state;
  caller c, big;
  size_t extra = 16;
  /* inputs: collection config, search params, database options, pool config, allocator */
  vexfs_collection_config *cfg = as(&c, sizeof *cfg + extra);
  vexfs_collection_config_init_sized(cfg, c.size);
  cfg->dim = 3;
  vexfs_collection *col;
  assert_int_equal(vexfs_collection_create(cfg, &col), VEXFS_OK);
  c.u.bytes[sizeof *cfg + 3] = 1;
  assert_int_equal(vexfs_collection_create(cfg, &col), VEXFS_E_UNSUPPORTED);
  assert_non_null(strstr(vexfs_last_error(), "cfg sets a field at byte"));
  assert_null(col);
  c.u.bytes[sizeof *cfg + 3] = 0;
  assert_int_equal(vexfs_collection_create(cfg, &col), VEXFS_OK);

  vexfs_search_params *p = as(&big, sizeof *p + extra);
  vexfs_search_params_init_sized(p, big.size);
  float q[3] = {0};
  uint64_t id = 4, hit;
  float d;
  assert_int_equal(vexfs_insert(col, &id, q, 1), VEXFS_OK);
  assert_int_equal(vexfs_search(col, q, 1, 1, p, &hit, &d, NULL), VEXFS_OK);
  big.u.bytes[sizeof *p + extra - 1] = 9;
  assert_int_equal(vexfs_search(col, q, 1, 1, p, &hit, &d, NULL), VEXFS_E_UNSUPPORTED);

  /* outputs: configuration, metrics, pool statistics */
  vexfs_collection_config *got = as(&big, sizeof *got + extra);
  memset(got, 0xEE, big.size); /* whatever the caller had there is overwritten */
  got->struct_size = (uint32_t)big.size;
  assert_int_equal(vexfs_collection_get_config(col, got), VEXFS_OK);
  assert_true(guard_intact(&big));
  assert_true(zero_from(&big, sizeof *got));
  assert_int_equal(got->dim, 3);
  vexfs_metrics *m = as(&big, sizeof *m + extra);
  memset(m, 0xEE, big.size);
  m->struct_size = (uint32_t)big.size;
  assert_int_equal(vexfs_collection_metrics(col, m), VEXFS_OK);
  assert_true(guard_intact(&big));
  assert_true(zero_from(&big, sizeof *m));
  assert_int_equal(m->inserts, 1);
  assert_int_equal(m->struct_size, big.size);
  vexfs_pool_stats *ps = as(&big, sizeof *ps + extra);
  memset(ps, 0xEE, big.size);
  ps->struct_size = (uint32_t)big.size;
  assert_int_equal(vexfs_pool_get_stats(ps), VEXFS_OK);
  assert_true(guard_intact(&big));
  assert_true(zero_from(&big, sizeof *ps));
  vexfs_collection_free(col);

  vexfs_db_options *o = as(&c, sizeof *o + extra);
  vexfs_db_options_init_sized(o, c.size);
  vexfs_db *db;
  assert_int_equal(vexfs_db_open(NULL, o, &db), VEXFS_OK);
  assert_int_equal(vexfs_db_close(db), VEXFS_OK);
  c.u.bytes[sizeof *o] = 1;
  assert_int_equal(vexfs_db_open(NULL, o, &db), VEXFS_E_UNSUPPORTED);

  /* the pool is running now: a newer config is refused for what it sets before the state */
  vexfs_pool_config *pc = as(&c, sizeof *pc + extra);
  vexfs_pool_config_init_sized(pc, c.size);
  c.u.bytes[sizeof *pc + 1] = 1;
  assert_int_equal(vexfs_pool_configure(pc), VEXFS_E_UNSUPPORTED);
  vexfs_allocator *a = as(&c, sizeof *a + extra);
  memset(a, 0, c.size);
  a->struct_size = (uint32_t)c.size;
  a->alloc = NULL;
  assert_int_equal(vexfs_set_allocator(a), VEXFS_E_STATE); /* too late in any case */
}

/* Sizes of no version: below the first, ending inside a field, and sizes no struct has (an
 * unset struct_size). */
static void test_impossible_sizes(void **state) {
  (void)state;
  vexfs_collection_config cfg;
  vexfs_collection_config_init(&cfg);
  cfg.dim = 2;
  vexfs_collection *col;
  uint32_t first = (uint32_t)vx_config_kind.earlier[0];
  const uint32_t bad[] = {0, 4, first - 1, first + 1, first + 4, /* inside hnsw_seed */
                          (uint32_t)sizeof cfg - 1, VX_STRUCT_SIZE_MAX + 1, 0xA5A5A5A5u};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    cfg.struct_size = bad[i];
    assert_int_equal(vexfs_collection_create(&cfg, &col), VEXFS_E_INVALID);
    assert_non_null(strstr(vexfs_last_error(), "struct_size"));
  }
  vexfs_metrics m;
  vexfs_metrics_init(&m);
  m.struct_size = 12;
  assert_int_equal(vexfs_collection_metrics(NULL, &m), VEXFS_E_INVALID);
  vexfs_pool_stats ps;
  vexfs_pool_stats_init(&ps);
  ps.struct_size = 0xFFFFFFFFu;
  assert_int_equal(vexfs_pool_get_stats(&ps), VEXFS_E_INVALID);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_init_fills_exactly_the_callers_size),
      cmocka_unit_test(test_older_callers_everywhere),
      cmocka_unit_test(test_newer_callers_are_refused_only_for_what_they_set),
      cmocka_unit_test(test_impossible_sizes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

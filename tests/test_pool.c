/* The scratch pool: configuration rules, tiers and alignment, statistics, the too-big path, and
 * two threads trading blocks (run under TSan by the test command). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pool/pool.h"
#include "test_util.h"

/* Threads that make the pool's first requests at once: one starts the pool while the others'
 * inline fast paths read its tier tables (a data race TSan saw before they were atomic). */
static pthread_barrier_t first_use;

static void *first_request(void *arg) {
  (void)arg;
  pthread_barrier_wait(&first_use);
  for (size_t bytes = 64; bytes <= 8192; bytes *= 2) {
    void *b = vx_pool_get(bytes);
    assert_non_null(b);
    memset(b, 1, bytes);
    vx_pool_put(b, bytes);
  }
  return NULL;
}

/* A configure that races the pool's first use either lands before it (and holds) or fails with
 * VEXFS_E_STATE: it used to return OK and be ignored. Each try runs in a child of this process,
 * whose pool has not started yet (this test runs first). */
static void *configure_one_tier(void *status) {
  vexfs_pool_config c;
  vexfs_pool_config_init(&c);
  c.tier_count = 1;
  c.block_size[0] = 4096;
  pthread_barrier_wait(&first_use);
  *(vexfs_status *)status = vexfs_pool_configure(&c);
  return NULL;
}

static void *use_the_pool(void *arg) {
  (void)arg;
  vexfs_pool_stats s;
  vexfs_pool_stats_init(&s);
  pthread_barrier_wait(&first_use);
  vexfs_pool_get_stats(&s);
  return NULL;
}

static void test_configure_racing_first_use(void **state) {
  (void)state;
  for (int attempt = 0; attempt < 100; attempt++) {
    pid_t child = fork();
    if (child == 0) {
      pthread_barrier_init(&first_use, NULL, 2);
      vexfs_status st = VEXFS_E_INVALID;
      pthread_t a, b;
      pthread_create(&a, NULL, configure_one_tier, &st);
      pthread_create(&b, NULL, use_the_pool, NULL);
      pthread_join(a, NULL);
      pthread_join(b, NULL);
      vexfs_pool_stats s;
      vexfs_pool_stats_init(&s);
      vexfs_pool_get_stats(&s);
      _exit(st == VEXFS_OK ? (s.tier_count == 1 ? 0 : 1) : st == VEXFS_E_STATE ? 0 : 2);
    }
    int status;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
  }
}

/* Runs next: the pool must be configured before its first use. */
static void test_configure_before_use(void **state) {
  (void)state;
  vexfs_pool_config c;
  vexfs_pool_config_init(&c);
  assert_int_equal(c.tier_count, 7);
  assert_int_equal(c.block_size[0], 1024);
  assert_int_equal(c.block_size[2], 16384);
  assert_int_equal(c.initial_blocks[0], 128);
  assert_int_equal(c.initial_blocks[1], 64);
  assert_int_equal(c.initial_blocks[2], 32);
  assert_int_equal(vexfs_pool_configure(NULL), VEXFS_E_INVALID);
  c.block_size[1] = 3000; /* not a power of two */
  assert_int_equal(vexfs_pool_configure(&c), VEXFS_E_INVALID);
  c.block_size[1] = 512; /* below the previous tier */
  assert_int_equal(vexfs_pool_configure(&c), VEXFS_E_INVALID);
  vexfs_pool_config_init(&c);
  c.tier_count = 0;
  assert_int_equal(vexfs_pool_configure(&c), VEXFS_E_INVALID);
  /* four tiers: 1, 4, 16, 64 KiB */
  vexfs_pool_config_init(&c);
  c.tier_count = 4;
  assert_int_equal(vexfs_pool_configure(&c), VEXFS_OK);
  pthread_t t[4]; /* first use */
  pthread_barrier_init(&first_use, NULL, 4);
  for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, first_request, NULL);
  for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
  pthread_barrier_destroy(&first_use);
  assert_int_equal(vexfs_pool_configure(&c), VEXFS_E_STATE);
  vexfs_pool_stats s;
  vexfs_pool_stats_init(&s);
  assert_int_equal(vexfs_pool_get_stats(&s), VEXFS_OK);
  assert_int_equal(s.tier_count, 4);
  assert_int_equal(s.tiers[0].bytes_reserved, 128 * (1024 + 64)); /* the initial blocks, coloured */
  assert_int_equal(s.tiers[3].bytes_reserved, 0);          /* grows on demand */
}

static void test_tiers_alignment_and_stats(void **state) {
  (void)state;
  vexfs_pool_stats before, after;
  vexfs_pool_stats_init(&before);
  vexfs_pool_stats_init(&after);
  assert_int_equal(vexfs_pool_get_stats(&before), VEXFS_OK);
  const size_t sizes[] = {1, 64, 1000, 1024, 1025, 4096, 16000, 65536};
  void *b[8];
  for (int i = 0; i < 8; i++) {
    b[i] = vx_pool_get(sizes[i]);
    assert_non_null(b[i]);
    assert_int_equal((uintptr_t)b[i] % 64, 0);
    memset(b[i], i, sizes[i]); /* the whole size is usable */
  }
  for (int i = 0; i < 8; i++)
    for (int j = i + 1; j < 8; j++) assert_ptr_not_equal(b[i], b[j]);
  assert_int_equal(vexfs_pool_get_stats(&after), VEXFS_OK);
  assert_int_equal(after.tiers[0].requests - before.tiers[0].requests, 4); /* <= 1 KiB */
  assert_int_equal(after.tiers[1].requests - before.tiers[1].requests, 2); /* <= 4 KiB */
  assert_int_equal(after.tiers[2].requests - before.tiers[2].requests, 1);
  assert_int_equal(after.tiers[3].requests - before.tiers[3].requests, 1);
  assert_true(after.tiers[0].bytes_in_use >= 4 * 1024);
  assert_true(after.tiers[3].misses_empty >= 1); /* the 64 KiB tier had nothing reserved */
  for (int i = 0; i < 8; i++) vx_pool_put(b[i], sizes[i]);

  /* the same sizes again: all hits now */
  assert_int_equal(vexfs_pool_get_stats(&before), VEXFS_OK);
  for (int i = 0; i < 8; i++) b[i] = vx_pool_get(sizes[i]);
  for (int i = 0; i < 8; i++) vx_pool_put(b[i], sizes[i]);
  assert_int_equal(vexfs_pool_get_stats(&after), VEXFS_OK);
  uint64_t req = 0, hit = 0;
  for (unsigned t = 0; t < after.tier_count; t++) {
    req += after.tiers[t].requests - before.tiers[t].requests;
    hit += after.tiers[t].hits - before.tiers[t].hits;
  }
  assert_int_equal(req, 8);
  assert_int_equal(hit, 8);
  for (unsigned t = 0; t < after.tier_count; t++) /* all given back */
    assert_int_equal(after.tiers[t].bytes_in_use, before.tiers[t].bytes_in_use);
  assert_true(after.hit_rate > 0 && after.hit_rate <= 1);
  for (unsigned t = 0; t < after.tier_count; t++)
    assert_true(after.tiers[t].peak_bytes <= after.tiers[t].bytes_reserved);
}

/* Every request maps to the smallest tier that holds it, on both sides of the 16 KiB edge of
 * the lookup table (pool.h) and for the configured 1, 4, 16, 64 KiB tiers. */
static void test_request_sizes_map_to_tiers(void **state) {
  (void)state;
  const size_t asked[] = {0, 1, 64, 1024, 1025, 4096, 4097, 16383, 16384, 16385, 65536, 65537,
                          (size_t)1 << 40};
  const size_t block[] = {1024, 1024, 1024, 1024, 4096, 4096, 16384, 16384, 16384, 65536, 65536,
                          65537, (size_t)1 << 40};
  for (size_t i = 0; i < sizeof asked / sizeof *asked; i++)
    assert_int_equal(vx_pool_block_size(asked[i]), block[i]);
}

static void test_too_big_goes_to_the_allocator(void **state) {
  (void)state;
  vexfs_pool_stats before, after;
  vexfs_pool_stats_init(&before);
  vexfs_pool_stats_init(&after);
  vexfs_pool_get_stats(&before);
  void *big = vx_pool_get(1 << 20); /* above the configured 64 KiB tier */
  assert_non_null(big);
  assert_int_equal((uintptr_t)big % 64, 0);
  memset(big, 1, 1 << 20);
  vx_pool_put(big, 1 << 20);
  vexfs_pool_get_stats(&after);
  unsigned last = after.tier_count - 1;
  assert_int_equal(after.tiers[last].misses_too_big - before.tiers[last].misses_too_big, 1);
  assert_true(after.hit_rate < 1.0);
  vexfs_pool_stats bad;
  memset(&bad, 0, sizeof bad);
  assert_int_equal(vexfs_pool_get_stats(&bad), VEXFS_E_INVALID);
  assert_int_equal(vexfs_pool_get_stats(NULL), VEXFS_E_INVALID);
}

/* Each thread keeps a set of blocks stamped with its own pattern, trading them in and out, and
 * checks the stamps: a block handed to two owners at once would show the other's stamp. */
typedef struct trade {
  unsigned char stamp;
  size_t gets;
  int bad;
} trade;

static void *trader(void *arg) {
  trade *t = arg;
  uint64_t seed = t->stamp;
  enum { HELD = 64 };
  void *held[HELD] = {0};
  size_t size[HELD] = {0};
  for (int round = 0; round < 20000; round++) {
    int i = (int)(test_rng(&seed) % HELD);
    if (held[i]) {
      for (size_t j = 0; j < size[i]; j += 97) t->bad |= ((unsigned char *)held[i])[j] != t->stamp;
      vx_pool_put(held[i], size[i]);
      held[i] = NULL;
    } else {
      size[i] = 1 + test_rng(&seed) % 20000;
      held[i] = vx_pool_get(size[i]);
      t->gets++;
      if (!held[i]) {
        t->bad = 1;
        break;
      }
      memset(held[i], t->stamp, size[i]);
    }
  }
  for (int i = 0; i < HELD; i++) vx_pool_put(held[i], size[i]);
  return NULL;
}

static void test_threads_trade_blocks(void **state) {
  (void)state;
  vexfs_pool_stats before, after;
  vexfs_pool_stats_init(&before);
  vexfs_pool_stats_init(&after);
  vexfs_pool_get_stats(&before);
  pthread_t t[2];
  trade work[2] = {{.stamp = 0x5a}, {.stamp = 0xa5}};
  for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, trader, &work[i]);
  for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
  assert_false(work[0].bad | work[1].bad);
  vexfs_pool_get_stats(&after); /* the exited threads' counts are kept, exactly */
  uint64_t requests = 0, hits = 0, empty = 0;
  for (unsigned i = 0; i < after.tier_count; i++) {
    requests += after.tiers[i].requests - before.tiers[i].requests;
    hits += after.tiers[i].hits - before.tiers[i].hits;
    empty += after.tiers[i].misses_empty - before.tiers[i].misses_empty;
    /* every block came back: the threads' caches went back to the depots */
    assert_int_equal(after.tiers[i].bytes_in_use, before.tiers[i].bytes_in_use);
  }
  assert_int_equal(requests, work[0].gets + work[1].gets); /* all sizes fit a tier */
  assert_int_equal(hits + empty, requests);
  assert_true(requests > 20000); /* about half of 2 x 20000 rounds are gets */
  assert_true(after.hit_rate > 0.9);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_configure_racing_first_use),
      cmocka_unit_test(test_configure_before_use),
      cmocka_unit_test(test_tiers_alignment_and_stats),
      cmocka_unit_test(test_request_sizes_map_to_tiers),
      cmocka_unit_test(test_too_big_goes_to_the_allocator),
      cmocka_unit_test(test_threads_trade_blocks),
  };
  return cmocka_run_group_tests_name("pool", tests, NULL, NULL);
}

/* Internal building blocks: the id map, top-k selection and the thread pool. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>

#include "idmap.h"
#include "store.h"
#include "test_util.h"
#include "threadpool.h"
#include "topk.h"

static void test_idmap_against_reference(void **state) {
  (void)state;
  enum { KEYS = 3000, OPS = 60000 };
  /* keys drawn from a small universe, some colliding in the low bits, so probe runs form */
  uint64_t universe[KEYS];
  uint32_t ref[KEYS];
  int present[KEYS] = {0};
  uint64_t seed = 1;
  for (int i = 0; i < KEYS; i++) universe[i] = (uint64_t)i << 40 | (test_rng(&seed) & 0xff);
  vx_idmap m = {0};
  assert_int_equal(vx_idmap_reserve(&m, 16), 0);
  for (int op = 0; op < OPS; op++) {
    int i = (int)(test_rng(&seed) % KEYS);
    uint32_t got;
    switch (test_rng(&seed) % 3) {
    case 0:
      assert_int_equal(vx_idmap_reserve(&m, m.len + 1), 0);
      vx_idmap_put(&m, universe[i], (uint32_t)op);
      ref[i] = (uint32_t)op;
      present[i] = 1;
      break;
    case 1:
      vx_idmap_del(&m, universe[i]);
      present[i] = 0;
      break;
    default:
      assert_int_equal(vx_idmap_find(&m, universe[i], &got), present[i]);
      if (present[i]) assert_int_equal(got, ref[i]);
    }
  }
  size_t live = 0;
  for (int i = 0; i < KEYS; i++) {
    uint32_t got;
    live += present[i];
    assert_int_equal(vx_idmap_find(&m, universe[i], &got), present[i]);
    if (present[i]) assert_int_equal(got, ref[i]);
  }
  assert_int_equal(m.len, live);
  vx_idmap_destroy(&m);
  uint32_t got;
  assert_int_equal(vx_idmap_find(&m, 5, &got), 0); /* empty map after destroy */
}

static int cmp_float(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

static void test_topk_keeps_the_k_smallest(void **state) {
  (void)state;
  enum { N = 5000 };
  float *d = test_random_vectors(N, 1, 9);
  const size_t ks[] = {1, 10, 100, N, N + 5};
  for (size_t ki = 0; ki < 5; ki++) {
    size_t k = ks[ki];
    vx_hit *storage = malloc(k * sizeof *storage);
    vx_topk t;
    vx_topk_init(&t, storage, k);
    for (size_t i = 0; i < N; i++) vx_topk_push(&t, d[i], (uint32_t)i, i);
    vx_topk_sort(&t);
    float *sorted = malloc(N * sizeof *sorted);
    memcpy(sorted, d, N * sizeof *sorted);
    qsort(sorted, N, sizeof *sorted, cmp_float);
    assert_int_equal(t.n, k < N ? k : N);
    for (size_t i = 0; i < t.n; i++) {
      assert_float_equal(t.heap[i].dist, sorted[i], 0);
      assert_float_equal(d[t.heap[i].id], t.heap[i].dist, 0);
      assert_int_equal(t.heap[i].slot, t.heap[i].id);
    }
    free(sorted);
    free(storage);
  }
  free(d);
}

static void test_topk_ties_prefer_small_ids(void **state) {
  (void)state;
  vx_hit storage[3];
  vx_topk t;
  vx_topk_init(&t, storage, 3);
  const uint64_t ids[] = {9, 4, 7, 1, 8, 2};
  for (int i = 0; i < 6; i++) vx_topk_push(&t, 1.0f, 0, ids[i]);
  vx_topk_sort(&t);
  assert_int_equal(t.heap[0].id, 1);
  assert_int_equal(t.heap[1].id, 2);
  assert_int_equal(t.heap[2].id, 4);
}

typedef struct pool_probe {
  atomic_int runs[1000];
  atomic_uint max_worker;
  unsigned threads;
} pool_probe;

static void probe_task(void *ctx, size_t task, unsigned worker) {
  pool_probe *p = ctx;
  atomic_fetch_add(&p->runs[task], 1);
  unsigned seen = atomic_load(&p->max_worker);
  while (worker > seen && !atomic_compare_exchange_weak(&p->max_worker, &seen, worker)) {
  }
}

static void *run_probe(void *arg) {
  pool_probe *p = arg;
  vx_parallel_for(p->threads, 1000, probe_task, p);
  return NULL;
}

static void test_pool_runs_every_task_once(void **state) {
  (void)state;
  const unsigned threads[] = {1, 2, 3, 8};
  for (int ti = 0; ti < 4; ti++) {
    pool_probe p;
    memset(&p, 0, sizeof p);
    p.threads = threads[ti];
    run_probe(&p);
    for (int i = 0; i < 1000; i++) assert_int_equal(atomic_load(&p.runs[i]), 1);
    assert_true(atomic_load(&p.max_worker) < threads[ti]);
  }
  /* several callers at once: each job completes independently */
  enum { CALLERS = 4 };
  pool_probe probes[CALLERS];
  pthread_t callers[CALLERS];
  for (int c = 0; c < CALLERS; c++) {
    memset(&probes[c], 0, sizeof probes[c]);
    probes[c].threads = 3;
    pthread_create(&callers[c], NULL, run_probe, &probes[c]);
  }
  for (int c = 0; c < CALLERS; c++) {
    pthread_join(callers[c], NULL);
    for (int i = 0; i < 1000; i++) assert_int_equal(atomic_load(&probes[c].runs[i]), 1);
  }
  vx_parallel_for(4, 0, probe_task, NULL); /* no tasks: returns at once */
  assert_true(vx_default_threads() >= 1);
  assert_int_equal(vx_resolve_threads(0), vx_default_threads());
  assert_int_equal(vx_resolve_threads(100000), VX_MAX_THREADS);
}

static void test_store_chunk_geometry(void **state) {
  (void)state;
  for (size_t slot = 0; slot < 200000; slot += 37) {
    unsigned c = vx_slot_chunk(slot);
    assert_true(vx_chunk_first(c) <= slot);
    assert_true(slot < vx_chunk_first(c) + vx_chunk_rows(c));
  }
  assert_int_equal(vx_slot_chunk(VX_CHUNK0_ROWS - 1), 0);
  assert_int_equal(vx_slot_chunk(VX_CHUNK0_ROWS), 1);
  assert_true(vx_chunk_first(VX_MAX_CHUNKS) > VX_MAX_ROWS);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_idmap_against_reference),
      cmocka_unit_test(test_topk_keeps_the_k_smallest),
      cmocka_unit_test(test_topk_ties_prefer_small_ids),
      cmocka_unit_test(test_pool_runs_every_task_once),
      cmocka_unit_test(test_store_chunk_geometry),
  };
  return cmocka_run_group_tests_name("internals", tests, NULL, NULL);
}

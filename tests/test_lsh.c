/* LSH: recall against exact search for every metric (random and learned projections), exact
 * returned distances, more probes never lowering recall, a deterministic build, removal (removed
 * ids never returned, freed rows reused), the filter hook (k hits whenever k rows pass), batches
 * all-or-nothing (a refused first batch trains nothing), edge cases (empty, k > n, dim 1,
 * duplicates), and persistence through a database: reopening and replaying the log answer as the
 * live index did, and crafted LSH sections are refused as damaged. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "collection_impl.h"
#include "collection_internal.h"
#include "index/lsh_internal.h"
#include "db_util.h"
#include "index_util.h"
#include "snapshot_edit.h"

enum { K = 10 };

static vexfs_collection_config lsh_config(vexfs_metric metric, uint32_t dim) {
  vexfs_collection_config cfg;
  vexfs_collection_config_init(&cfg);
  cfg.dim = dim;
  cfg.metric = metric;
  cfg.index = VEXFS_INDEX_LSH;
  cfg.threads = 1;
  return cfg;
}

static vexfs_collection *make(vexfs_index_kind kind, vexfs_metric metric, uint32_t dim) {
  vexfs_collection_config cfg = lsh_config(metric, dim);
  cfg.index = kind;
  vexfs_collection *c;
  assert_int_equal(vexfs_collection_create(&cfg, &c), VEXFS_OK);
  return c;
}

/* Clustered data whose clusters overlap a little. */
static float *clustered_lsh(size_t n, size_t dim, uint64_t seed) {
  return clustered_by(n, dim, seed, 0.7f);
}

/* An LSH collection and a flat one holding the same clustered rows, and held-out queries. */
typedef struct fixture {
  float *v, *q;
  vexfs_collection *l, *f;
} fixture;

/* cfg NULL: the default LSH configuration (L2, one thread). With `halves`, the LSH collection
 * takes its rows in two batches: the first trains it, the second goes through its tables. */
static fixture fixture_make(size_t n, size_t nq, uint32_t dim, uint64_t seed,
                            const vexfs_collection_config *cfg, int halves) {
  vexfs_collection_config c = cfg ? *cfg : lsh_config(VEXFS_METRIC_L2, dim);
  fixture x;
  x.v = clustered_lsh(n + nq, dim, seed);
  x.q = x.v + n * dim;
  assert_int_equal(vexfs_collection_create(&c, &x.l), VEXFS_OK);
  x.f = make(VEXFS_INDEX_FLAT, c.metric, dim);
  size_t first = halves ? n / 2 : n;
  insert_range(x.l, x.v, 0, first);
  if (first < n) insert_range(x.l, x.v + first * dim, first, n - first);
  insert_range(x.f, x.v, 0, n);
  return x;
}

static void fixture_free(fixture *x) {
  vexfs_collection_free(x->l);
  vexfs_collection_free(x->f);
  free(x->v);
}

static vexfs_search_params params(uint32_t probes, uint32_t ef) {
  vexfs_search_params p;
  vexfs_search_params_init(&p);
  p.probes = probes;
  p.ef = ef;
  return p;
}

static double recall(vexfs_collection *approx, vexfs_collection *exact, const float *queries,
                     size_t nq, const vexfs_search_params *p) {
  return test_recall(approx, exact, queries, nq, K, p);
}

static void check_recall(vexfs_metric metric, vexfs_lsh_projection projection, double floor) {
  enum { N = 6000, D = 32, NQ = 100 };
  vexfs_collection_config cfg = lsh_config(metric, D);
  cfg.lsh_projection = projection;
  fixture x = fixture_make(N, NQ, D, 1 + metric, &cfg, 1);
  vexfs_search_params p = params(0, 0);
  double r = recall(x.l, x.f, x.q, NQ, &p);
  print_message("metric %d projection %d: recall@10 %.4f\n", (int)metric, (int)projection, r);
  assert_true(r >= floor);
  /* returned distances are exact */
  uint64_t ids[K];
  float d[K], row[D];
  assert_int_equal(vexfs_search(x.l, x.q, 1, K, &p, ids, d, NULL), VEXFS_OK);
  for (int i = 0; i < K; i++) {
    assert_int_equal(vexfs_get(x.l, ids[i], row), VEXFS_OK);
    assert_true(fabs(d[i] - test_distance(metric, x.q, row, D)) < 1e-3);
    if (i) assert_true(d[i] >= d[i - 1]);
  }
  fixture_free(&x);
}

static void test_recall_every_metric(void **state) {
  (void)state;
  for (vexfs_metric m = VEXFS_METRIC_L2; m <= VEXFS_METRIC_COSINE; m++)
    check_recall(m, VEXFS_LSH_PROJECTION_RANDOM, 0.9);
}

static void test_recall_learned(void **state) {
  (void)state;
  check_recall(VEXFS_METRIC_L2, VEXFS_LSH_PROJECTION_LEARNED, 0.9);
  check_recall(VEXFS_METRIC_COSINE, VEXFS_LSH_PROJECTION_LEARNED, 0.9);
}

/* Explicit parameters and a bucket width (L2) work too. */
static void test_explicit_parameters(void **state) {
  (void)state;
  vexfs_collection_config cfg = lsh_config(VEXFS_METRIC_L2, 24);
  cfg.lsh_tables = 16;
  cfg.lsh_bits = 16; /* longer than the directory (13 bits for 4000 rows): keys are folded */
  cfg.lsh_probes = 64;
  cfg.lsh_bucket_width = 2.0f;
  fixture x = fixture_make(4000, 50, 24, 5, &cfg, 0);
  vexfs_search_params p = params(0, 100);
  double r = recall(x.l, x.f, x.q, 50, &p);
  print_message("tables 16, bits 16, width 2: recall@10 %.4f\n", r);
  assert_true(r >= 0.8);
  /* rows and queries whose projections are far past any cell of width 2 */
  float far[24], near[24];
  for (int d = 0; d < 24; d++) far[d] = d % 2 ? 1e17f : -1e17f;
  for (int d = 0; d < 24; d++) near[d] = far[d] * 0.999f;
  uint64_t id = 999999, got;
  float dist;
  assert_int_equal(vexfs_insert(x.l, &id, far, 1), VEXFS_OK);
  assert_int_equal(vexfs_search(x.l, near, 1, 1, &p, &got, &dist, NULL), VEXFS_OK);
  assert_true(got == id);
  fixture_free(&x);
}

static void test_more_probes_never_lower_recall(void **state) {
  (void)state;
  fixture x = fixture_make(8000, 100, 32, 7, NULL, 0);
  double last = 0;
  const uint32_t probes[] = {1, 2, 4, 8, 16, 32, 64, 128};
  for (int i = 0; i < 8; i++) {
    vexfs_search_params p = params(probes[i], 200);
    double r = recall(x.l, x.f, x.q, 100, &p);
    print_message("probes %u: recall@10 %.4f\n", probes[i], r);
    assert_true(r >= last);
    last = r;
  }
  assert_true(last >= 0.95);
  fixture_free(&x);
}

static void search_into(vexfs_collection *c, const float *q, size_t nq, uint64_t *ids, float *d) {
  vexfs_search_params p = params(0, 0);
  assert_int_equal(vexfs_search(c, q, nq, K, &p, ids, d, NULL), VEXFS_OK);
}

static void test_deterministic_build(void **state) {
  (void)state;
  enum { N = 3000, D = 16, NQ = 40 };
  float *v = clustered_lsh(N + NQ, D, 9), *q = v + (size_t)N * D; /* held-out queries */
  vexfs_collection *a = make(VEXFS_INDEX_LSH, VEXFS_METRIC_COSINE, D);
  vexfs_collection *b = make(VEXFS_INDEX_LSH, VEXFS_METRIC_COSINE, D);
  for (int i = 0; i < 3; i++) {
    insert_range(a, v + (size_t)i * 1000 * D, (uint64_t)i * 1000, 1000);
    insert_range(b, v + (size_t)i * 1000 * D, (uint64_t)i * 1000, 1000);
  }
  uint64_t ia[NQ * K], ib[NQ * K];
  float da[NQ * K], db[NQ * K];
  search_into(a, q, NQ, ia, da);
  search_into(b, q, NQ, ib, db);
  assert_memory_equal(ia, ib, sizeof ia);
  assert_memory_equal(da, db, sizeof da);
  /* a batch on several threads answers the same as one query at a time */
  vexfs_search_params p = params(0, 0);
  p.threads = 4;
  assert_int_equal(vexfs_search(a, q, NQ, K, &p, ib, db, NULL), VEXFS_OK);
  assert_memory_equal(ia, ib, sizeof ia);
  vexfs_collection_free(a);
  vexfs_collection_free(b);
  free(v);
}

static void test_remove_and_reinsert(void **state) {
  (void)state;
  enum { N = 4000, D = 16, NQ = 60 };
  fixture x = fixture_make(N, NQ, D, 11, NULL, 0);
  vexfs_collection *l = x.l, *f = x.f;
  const float *q = x.q;
  uint64_t *gone = malloc(N / 2 * sizeof *gone);
  for (size_t i = 0; i < N / 2; i++) gone[i] = 2 * i;
  assert_int_equal(vexfs_remove(l, gone, N / 2), VEXFS_OK);
  assert_int_equal(vexfs_remove(f, gone, N / 2), VEXFS_OK);
  uint64_t ids[NQ * K];
  float d[NQ * K];
  size_t counts[NQ];
  vexfs_search_params p = params(0, 0);
  assert_int_equal(vexfs_search(l, q, NQ, K, &p, ids, d, counts), VEXFS_OK);
  for (size_t i = 0; i < NQ; i++) {
    assert_int_equal(counts[i], K);
    for (int j = 0; j < K; j++) assert_true(ids[i * K + j] % 2 == 1); /* never a removed id */
  }
  double r = recall(l, f, q, NQ, &p);
  print_message("after removing half: recall@10 %.4f\n", r);
  assert_true(r >= 0.9);
  /* the freed rows take new vectors (those of the queries' region), which are found */
  float *fresh = clustered_lsh(N / 2, D, 13);
  assert_int_equal(vexfs_insert(l, gone, fresh, N / 2), VEXFS_OK);
  assert_int_equal(vexfs_insert(f, gone, fresh, N / 2), VEXFS_OK);
  assert_int_equal(vexfs_count(l), N);
  r = recall(l, f, q, NQ, &p);
  print_message("after refilling: recall@10 %.4f\n", r);
  assert_true(r >= 0.9);
  for (size_t i = 0; i < 20; i++) { /* each new vector finds itself */
    assert_int_equal(vexfs_search(l, fresh + i * D, 1, 1, &p, ids, d, NULL), VEXFS_OK);
    assert_true(d[0] == 0.0f);
  }
  /* removing everything leaves an empty index that answers nothing */
  uint64_t *all = malloc(N * sizeof *all);
  for (size_t i = 0; i < N; i++) all[i] = i;
  assert_int_equal(vexfs_remove(l, all, N), VEXFS_OK);
  assert_int_equal(vexfs_search(l, q, 1, K, &p, ids, d, counts), VEXFS_OK);
  assert_int_equal(counts[0], 0);
  assert_true(ids[0] == UINT64_MAX);
  free(all);
  free(fresh);
  free(gone);
  fixture_free(&x);
}

/* Each live row is in one bucket of every table, and no other slot is in any. */
static void assert_buckets_hold_the_live_rows(const vexfs_collection *c) {
  const lsh *h = c->index_state;
  const vx_store *s = &c->store;
  size_t rows = atomic_load(&s->rows), *seen = calloc(rows, sizeof *seen);
  for (size_t b = 0; b < ((size_t)h->tables << h->dir_bits); b++)
    for (uint32_t j = 0; j < h->dir[b].count; j++) {
      uint32_t slot = h->dir[b].slots[j];
      assert_true(slot < rows && vx_store_id(s, slot) != VX_NO_ID);
      seen[slot]++;
    }
  for (size_t slot = 0; slot < rows; slot++)
    assert_int_equal(seen[slot], vx_store_id(s, slot) != VX_NO_ID ? h->tables : 0);
  free(seen);
}

/* An upsert removes the rows it replaces after the buckets its new rows fill have grown
 * (prepare): the removals must reach the grown buckets, or a replaced row stays in them and the
 * row moved into its place is lost. */
static void test_upserts_into_grown_buckets(void **state) {
  (void)state;
  enum { N = 4000, D = 16, NQ = 20, UP = 2000 };
  fixture x = fixture_make(N, NQ, D, 17, NULL, 0);
  float *fresh = clustered_lsh(UP, D, 18);
  uint64_t *ids = malloc(UP * sizeof *ids);
  for (size_t i = 0; i < UP; i++) ids[i] = i < UP / 2 ? 2 * i : N + i; /* half replace, half new */
  assert_int_equal(vexfs_upsert(x.l, ids, fresh, NULL, UP), VEXFS_OK);
  assert_int_equal(vexfs_count(x.l), N + UP / 2);
  assert_buckets_hold_the_live_rows(x.l);
  vexfs_search_params p = params(0, 0);
  uint64_t got[1];
  float d[1];
  for (size_t i = 0; i < UP; i += 97) { /* each upserted vector finds itself */
    assert_int_equal(vexfs_search(x.l, fresh + i * D, 1, 1, &p, got, d, NULL), VEXFS_OK);
    assert_true(d[0] == 0.0f);
  }
  free(ids);
  free(fresh);
  fixture_free(&x);
}

static void test_filter_hook(void **state) {
  (void)state;
  enum { N = 10000, NQ = 40 };
  fixture x = fixture_make(N, NQ, 16, 14, NULL, 0);
  const uint64_t moduli[] = {2, 10, 100, 1000, 2000, 20000};
  for (int m = 0; m < 6; m++) {
    modulo_filter ml = {x.l, moduli[m]}, mf = {x.f, moduli[m]};
    vx_filter fl = {admit_modulo, &ml}, ff = {admit_modulo, &mf};
    uint64_t a[NQ * K], e[NQ * K];
    float da[NQ * K], de[NQ * K];
    size_t ca[NQ], ce[NQ];
    vexfs_search_params p = params(0, 0);
    assert_int_equal(vx_collection_search(x.l, x.q, NQ, K, &p, &fl, a, da, ca), VEXFS_OK);
    assert_int_equal(vx_collection_search(x.f, x.q, NQ, K, NULL, &ff, e, de, ce), VEXFS_OK);
    size_t hit = 0, admitted = (N + moduli[m] - 1) / moduli[m];
    for (size_t i = 0; i < NQ; i++) {
      assert_int_equal(ca[i], admitted < K ? admitted : K); /* k whenever k pass */
      for (size_t j = 0; j < ca[i]; j++) {
        assert_true(a[i * K + j] % moduli[m] == 0);
        for (size_t l2 = 0; l2 < ce[i]; l2++) hit += a[i * K + j] == e[i * K + l2];
      }
    }
    double r = (double)hit / (NQ * (admitted < K ? admitted : K));
    print_message("filter 1/%llu: recall@10 %.4f\n", (unsigned long long)moduli[m], r);
    assert_true(r >= 0.85);
  }
  fixture_free(&x);
}

/* A refused batch changes nothing: not even the training a first batch does. */
static void test_batches_all_or_nothing(void **state) {
  (void)state;
  enum { N = 2000, D = 8, NQ = 20 };
  float *v = clustered_lsh(N + NQ, D, 16), *q = v + (size_t)N * D; /* held-out queries */
  vexfs_collection *a = make(VEXFS_INDEX_LSH, VEXFS_METRIC_L2, D);
  vexfs_collection *b = make(VEXFS_INDEX_LSH, VEXFS_METRIC_L2, D);
  uint64_t *ids = malloc(N * sizeof *ids);
  for (size_t i = 0; i < N; i++) ids[i] = i;
  float *bad = malloc(N * D * sizeof *bad);
  memcpy(bad, v + (size_t)N * D / 2, (size_t)N / 2 * D * sizeof *bad); /* other data, then NaN */
  memcpy(bad + (size_t)N / 2 * D, v, (size_t)N / 2 * D * sizeof *bad);
  bad[(N - 1) * D] = NAN;
  assert_int_equal(vexfs_insert(a, ids, bad, N), VEXFS_E_INVALID);
  uint64_t dup[2] = {5, 5};
  assert_int_equal(vexfs_insert(a, dup, v, 2), VEXFS_E_INVALID);
  assert_int_equal(vexfs_count(a), 0);
  insert_range(a, v, 0, N);
  insert_range(b, v, 0, N);
  assert_int_equal(vexfs_insert(a, ids, v, 1), VEXFS_E_EXISTS); /* an id already present */
  bad[(N - 1) * D] = INFINITY;
  for (size_t i = 0; i < N; i++) ids[i] = N + i;
  assert_int_equal(vexfs_insert(a, ids, bad, N), VEXFS_E_INVALID);
  assert_int_equal(vexfs_count(a), N);
  uint64_t ia[NQ * K], ib[NQ * K];
  float da[NQ * K], db[NQ * K];
  search_into(a, q, NQ, ia, da);
  search_into(b, q, NQ, ib, db);
  assert_memory_equal(ia, ib, sizeof ia);
  assert_memory_equal(da, db, sizeof da);
  free(ids);
  free(bad);
  vexfs_collection_free(a);
  vexfs_collection_free(b);
  free(v);
}

static void test_edge_cases(void **state) {
  (void)state;
  uint64_t ids[64];
  float d[64], q[4] = {0.5f, 0.5f, 0.5f, 0.5f};
  size_t count;
  vexfs_search_params p = params(0, 0);
  /* empty */
  vexfs_collection *c = make(VEXFS_INDEX_LSH, VEXFS_METRIC_L2, 4);
  assert_int_equal(vexfs_search(c, q, 1, 5, &p, ids, d, &count), VEXFS_OK);
  assert_int_equal(count, 0);
  assert_true(ids[0] == UINT64_MAX && d[0] == INFINITY);
  /* k > n */
  float three[12] = {0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2};
  uint64_t tid[3] = {7, 8, 9};
  assert_int_equal(vexfs_insert(c, tid, three, 3), VEXFS_OK);
  assert_int_equal(vexfs_search(c, q, 1, 10, &p, ids, d, &count), VEXFS_OK);
  assert_int_equal(count, 3);
  assert_true(ids[3] == UINT64_MAX);
  assert_true((ids[0] == 7 || ids[0] == 8) && ids[2] == 9);
  vexfs_collection_free(c);
  /* dim 1, every metric */
  for (vexfs_metric m = VEXFS_METRIC_L2; m <= VEXFS_METRIC_COSINE; m++) {
    c = make(VEXFS_INDEX_LSH, m, 1);
    float line[200];
    for (int i = 0; i < 200; i++) line[i] = (float)(i - 100) * 0.25f;
    insert_range(c, line, 0, 200);
    float x = 3.1f;
    assert_int_equal(vexfs_search(c, &x, 1, 5, &p, ids, d, &count), VEXFS_OK);
    assert_int_equal(count, 5);
    if (m == VEXFS_METRIC_L2) assert_true(ids[0] == 112); /* 3.0 */
    vexfs_collection_free(c);
  }
  /* duplicate vectors: all at distance 0, ties by id */
  c = make(VEXFS_INDEX_LSH, VEXFS_METRIC_COSINE, 4);
  float same[400];
  for (int i = 0; i < 400; i++) same[i] = 1.0f;
  insert_range(c, same, 100, 100);
  assert_int_equal(vexfs_search(c, same, 1, 64, &p, ids, d, &count), VEXFS_OK);
  assert_int_equal(count, 64);
  for (int i = 0; i < 64; i++) {
    assert_true(ids[i] == 100 + (uint64_t)i);
    assert_true(fabsf(d[i]) < 1e-6f);
  }
  /* a zero vector and a zero query (cosine distance 1 to everything) */
  float zero[4] = {0, 0, 0, 0};
  uint64_t zid = 1;
  assert_int_equal(vexfs_insert(c, &zid, zero, 1), VEXFS_OK);
  assert_int_equal(vexfs_search(c, zero, 1, 3, &p, ids, d, &count), VEXFS_OK);
  assert_int_equal(count, 3);
  vexfs_collection_free(c);
}

/* ---- persistence ---- */

enum { DIM = 16 };

static vexfs_collection *db_lsh(vexfs_db *db, vexfs_metric metric) {
  vexfs_collection_config cfg = lsh_config(metric, DIM);
  vexfs_collection *c;
  assert_int_equal(vexfs_db_create_collection(db, "c", &cfg, &c), VEXFS_OK);
  return c;
}

static void queries(float *q, size_t nq) {
  for (size_t i = 0; i < nq; i++) db_vector(100000 + i, DIM, q + i * DIM);
}

enum { PQ = 30 };

static void answers(vexfs_collection *c, uint64_t *ids, float *d) {
  float q[PQ * DIM];
  queries(q, PQ);
  search_into(c, q, PQ, ids, d);
}

/* Copies dir's files as a crash now would leave them (the snapshot only `with_snapshot`), closes
 * db, and checks that the copy answers as c did. */
static void crash_answers_the_same(vexfs_db *db, vexfs_collection *c, const char *dir,
                                   int with_snapshot) {
  uint64_t ia[PQ * K], ib[PQ * K];
  float da[PQ * K], dbv[PQ * K];
  answers(c, ia, da);
  char *crash = db_tempdir();
  if (with_snapshot) assert_int_equal(db_copy_into(dir, crash, "snapshot.vxs"), 0);
  assert_int_equal(db_copy_into(dir, crash, "wal.log"), 0);
  assert_int_equal(db_copy_into(dir, crash, "LOCK"), 0);
  assert_int_equal(vexfs_db_close(db), VEXFS_OK);
  vexfs_db *again;
  assert_int_equal(vexfs_db_open(crash, NULL, &again), VEXFS_OK);
  assert_int_equal(vexfs_db_get_collection(again, "c", &c), VEXFS_OK);
  answers(c, ib, dbv);
  assert_memory_equal(ia, ib, sizeof ia);
  assert_memory_equal(da, dbv, sizeof da);
  assert_int_equal(vexfs_db_close(again), VEXFS_OK);
  db_rmdir(crash);
  free(crash);
}

static void test_reopen_answers_the_same(void **state) {
  (void)state;
  for (vexfs_metric m = VEXFS_METRIC_L2; m <= VEXFS_METRIC_COSINE; m++) {
    char *dir = db_tempdir();
    vexfs_db *db;
    assert_int_equal(vexfs_db_open(dir, NULL, &db), VEXFS_OK);
    vexfs_collection *c = db_lsh(db, m);
    assert_int_equal(db_insert_range(c, 0, 1500), VEXFS_OK);
    uint64_t gone[3] = {4, 40, 400};
    assert_int_equal(vexfs_remove(c, gone, 3), VEXFS_OK);
    uint64_t ia[PQ * K], ib[PQ * K];
    float da[PQ * K], dbv[PQ * K];
    answers(c, ia, da);
    assert_int_equal(vexfs_db_close(db), VEXFS_OK); /* a snapshot with the structure */
    assert_int_equal(vexfs_db_open(dir, NULL, &db), VEXFS_OK);
    assert_int_equal(vexfs_db_get_collection(db, "c", &c), VEXFS_OK);
    answers(c, ib, dbv);
    assert_memory_equal(ia, ib, sizeof ia);
    assert_memory_equal(da, dbv, sizeof da);
    /* more rows after the snapshot: a crash leaves them in the log, replayed on open */
    assert_int_equal(db_insert_range(c, 2000, 700), VEXFS_OK);
    uint64_t more_gone[2] = {2001, 7};
    assert_int_equal(vexfs_remove(c, more_gone, 2), VEXFS_OK);
    crash_answers_the_same(db, c, dir, 1);
    db_rmdir(dir);
    free(dir);
    /* a log holding the first batch itself (no snapshot yet): training replays the same */
    dir = db_tempdir();
    assert_int_equal(vexfs_db_open(dir, NULL, &db), VEXFS_OK);
    c = db_lsh(db, m);
    assert_int_equal(db_insert_range(c, 0, 900), VEXFS_OK);
    assert_int_equal(db_insert_range(c, 900, 300), VEXFS_OK);
    crash_answers_the_same(db, c, dir, 0);
    db_rmdir(dir);
    free(dir);
  }
}

/* An empty LSH collection (never trained) survives a reopen too. */
static void test_reopen_empty(void **state) {
  (void)state;
  char *dir = db_tempdir();
  vexfs_db *db;
  assert_int_equal(vexfs_db_open(dir, NULL, &db), VEXFS_OK);
  db_lsh(db, VEXFS_METRIC_IP);
  assert_int_equal(vexfs_db_close(db), VEXFS_OK);
  assert_int_equal(vexfs_db_open(dir, NULL, &db), VEXFS_OK);
  vexfs_collection *c;
  assert_int_equal(vexfs_db_get_collection(db, "c", &c), VEXFS_OK);
  assert_int_equal(db_insert_range(c, 0, 300), VEXFS_OK);
  uint64_t ids[PQ * K];
  float d[PQ * K];
  answers(c, ids, d);
  assert_true(ids[0] != UINT64_MAX);
  assert_int_equal(vexfs_db_close(db), VEXFS_OK);
  db_rmdir(dir);
  free(dir);
}

/* ---- crafted LSH sections (valid checksums, impossible contents) ---- */

/* Offsets in the section (lsh_persist.c): u32 trained, 5 u32 parameters, f32 width, f32
 * max_norm, then the projections. */
enum { AT_TABLES = 4, AT_DIR_BITS = 20, AT_WIDTH = 24, AT_PROJ = 32 };
static uint32_t sketch_bits_of(const uint8_t *p) {
  uint32_t s;
  memcpy(&s, p + 16, 4);
  return s;
}
static size_t at_rows(const uint8_t *p) { /* L2: no reduction weights */
  return AT_PROJ + (size_t)sketch_bits_of(p) * DIM * 4 + sketch_bits_of(p) * 4;
}

static void edit_tables(uint8_t **p, size_t *n) { (void)n; put_u32(*p, AT_TABLES, 13); }
static void edit_dir_bits(uint8_t **p, size_t *n) { (void)n; put_u32(*p, AT_DIR_BITS, 40); }
static void edit_width(uint8_t **p, size_t *n) {
  (void)n;
  float w = 1.0f;
  memcpy(*p + AT_WIDTH, &w, 4);
}
static void edit_nan_projection(uint8_t **p, size_t *n) {
  (void)n;
  float x = NAN;
  memcpy(*p + AT_PROJ + 40, &x, 4);
}
static void edit_nan_threshold(uint8_t **p, size_t *n) {
  (void)n;
  float x = INFINITY;
  memcpy(*p + at_rows(*p) - 4, &x, 4);
}
static void edit_rows(uint8_t **p, size_t *n) {
  (void)n;
  uint64_t rows;
  memcpy(&rows, *p + at_rows(*p), 8);
  rows++;
  memcpy(*p + at_rows(*p), &rows, 8);
}
static void edit_sketch_bit(uint8_t **p, size_t *n) { /* the first row's first key bit */
  (void)n;
  (*p)[at_rows(*p) + 8] ^= 1;
}
static void edit_last_slot(uint8_t **p, size_t *n) { /* the last bucket entry: a free row */
  uint32_t far = 1u << 30;
  memcpy(*p + *n - 4, &far, 4);
}
static void edit_repeat_slot(uint8_t **p, size_t *n) { /* the last entry repeats the one before */
  memcpy(*p + *n - 4, *p + *n - 8, 4);
}
static void edit_truncate(uint8_t **p, size_t *n) {
  (void)p;
  *n -= 6;
}
static void edit_extend(uint8_t **p, size_t *n) {
  *p = realloc(*p, *n + 4);
  memset(*p + *n, 0, 4);
  *n += 4;
}
static void edit_untrained(uint8_t **p, size_t *n) {
  put_u32(*p, 0, 0);
  *n = 4;
}
static void edit_bad_state(uint8_t **p, size_t *n) { (void)n; put_u32(*p, 0, 2); }

typedef void (*graph_edit)(uint8_t **p, size_t *n);

/* Rewrites the snapshot with its GRAPH section passed through edit, every checksum valid. */
static graph_edit crafting;
static int crafted;
static void graph_only(uint32_t kind, uint8_t **p, size_t *n) {
  if (kind != VX_SEC_GRAPH) return;
  crafting(p, n);
  crafted = 1;
}
static void craft(const char *path, graph_edit edit) {
  crafting = edit;
  crafted = 0;
  rewrite_snapshot(path, graph_only);
  assert_true(crafted);
}

static void test_crafted_sections_refused(void **state) {
  (void)state;
  const struct {
    graph_edit edit;
    const char *what;
  } cases[] = {
      {edit_tables, "table count"},       {edit_dir_bits, "directory size"},
      {edit_width, "bucket width"},       {edit_nan_projection, "NaN projection"},
      {edit_nan_threshold, "threshold"},  {edit_rows, "row count"},
      {edit_sketch_bit, "sketch bit"},    {edit_last_slot, "slot"},
      {edit_repeat_slot, "repeated slot"}, {edit_truncate, "truncated"},
      {edit_extend, "extended"},          {edit_untrained, "untrained with rows"},
      {edit_bad_state, "state"},
  };
  char *dir = db_tempdir();
  vexfs_db *db;
  assert_int_equal(vexfs_db_open(dir, NULL, &db), VEXFS_OK);
  vexfs_collection *c = db_lsh(db, VEXFS_METRIC_L2);
  assert_int_equal(db_insert_range(c, 0, 800), VEXFS_OK);
  assert_int_equal(vexfs_db_close(db), VEXFS_OK);
  char snap[DB_PATH_MAX], keep[DB_PATH_MAX + 8];
  db_join(snap, dir, "snapshot.vxs");
  snprintf(keep, sizeof keep, "%s.good", snap);
  assert_int_equal(db_copy_file(snap, keep), 0);
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    assert_int_equal(db_copy_file(keep, snap), 0);
    craft(snap, cases[i].edit);
    vexfs_db *bad = NULL;
    vexfs_status st = vexfs_db_open(dir, NULL, &bad);
    if (st != VEXFS_E_CORRUPT) {
      if (bad) vexfs_db_close(bad);
      fail_msg("%s: status %d (%s)", cases[i].what, (int)st, vexfs_last_error());
    }
    if (!strstr(vexfs_last_error(), "LSH")) fail_msg("%s: %s", cases[i].what, vexfs_last_error());
  }
  assert_int_equal(db_copy_file(keep, snap), 0); /* the intact file still opens */
  assert_int_equal(vexfs_db_open(dir, NULL, &db), VEXFS_OK);
  assert_int_equal(vexfs_db_close(db), VEXFS_OK);
  remove(keep);
  db_rmdir(dir);
  free(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_recall_every_metric),
      cmocka_unit_test(test_recall_learned),
      cmocka_unit_test(test_explicit_parameters),
      cmocka_unit_test(test_more_probes_never_lower_recall),
      cmocka_unit_test(test_deterministic_build),
      cmocka_unit_test(test_remove_and_reinsert),
      cmocka_unit_test(test_upserts_into_grown_buckets),
      cmocka_unit_test(test_filter_hook),
      cmocka_unit_test(test_batches_all_or_nothing),
      cmocka_unit_test(test_edge_cases),
      cmocka_unit_test(test_reopen_answers_the_same),
      cmocka_unit_test(test_reopen_empty),
      cmocka_unit_test(test_crafted_sections_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

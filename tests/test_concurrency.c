/* Searches, gets, inserts and removes on one collection from several threads at once. Run under
 * ThreadSanitizer by the test command. A stable base set is never removed; a churn set comes and
 * goes, far from the base vectors, so every search has a known nearest neighbour. The payload
 * test does the same with payloads, payload indexes and filtered searches while payloads change;
 * the upsert test replaces rows under readers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>

#include "test_util.h"

enum { D = 24, BASE = 2000, CHURN_BATCH = 50, ROUNDS = 400, K = 5 };

typedef struct shared {
  vexfs_collection *c;
  int approximate; /* HNSW, LSH: a query may rarely miss itself */
  atomic_int misses;
  atomic_int searches;
  float *base;
  atomic_int writers_done;
  atomic_int failures;
} shared;

/* What a searcher thread gets: the shared state and a seed of its own, so that no two threads
 * draw the same queries in the same order. */
typedef struct searcher_arg {
  shared *s;
  uint64_t seed;
} searcher_arg;

/* Runs two searchers (seeds 1 and 2) and one writer over s until the writer is done. */
static void run_threads(shared *s, void *(*search_fn)(void *), void *(*write_fn)(void *)) {
  searcher_arg args[2] = {{s, 1}, {s, 2}};
  pthread_t w, r[2];
  for (int i = 0; i < 2; i++) pthread_create(&r[i], NULL, search_fn, &args[i]);
  pthread_create(&w, NULL, write_fn, s);
  pthread_join(w, NULL);
  for (int i = 0; i < 2; i++) pthread_join(r[i], NULL);
}

static void *searcher(void *arg) {
  shared *s = ((searcher_arg *)arg)->s;
  uint64_t seed = ((searcher_arg *)arg)->seed;
  uint64_t ids[8 * K];
  float dist[8 * K];
  size_t counts[8];
  vexfs_search_params p;
  vexfs_search_params_init(&p);
  p.threads = 2;
  int iter = 0;
  while (!atomic_load(&s->writers_done) || iter < 20) {
    size_t nq = iter++ % 2 ? 8 : 1; /* both search paths */
    size_t first = test_rng(&seed) % (BASE - 8);
    if (vexfs_search(s->c, s->base + first * D, nq, K, &p, ids, dist, counts) != VEXFS_OK) {
      atomic_fetch_add(&s->failures, 1);
      continue;
    }
    atomic_fetch_add(&s->searches, (int)nq);
    for (size_t q = 0; q < nq; q++) {
      /* the query is base vector first+q itself: it must come first at distance 0 */
      if (counts[q] != K) atomic_fetch_add(&s->failures, 1);
      if (ids[q * K] != first + q || dist[q * K] != 0.0f)
        atomic_fetch_add(s->approximate ? &s->misses : &s->failures, 1);
      for (int j = 1; j < K; j++)
        if (dist[q * K + j] < dist[q * K + j - 1]) atomic_fetch_add(&s->failures, 1);
    }
    float v[D];
    size_t id = test_rng(&seed) % BASE;
    if (vexfs_get(s->c, id, v) != VEXFS_OK || memcmp(v, s->base + id * D, sizeof v) != 0)
      atomic_fetch_add(&s->failures, 1);
  }
  return NULL;
}

static void *writer(void *arg) {
  shared *s = arg;
  float *churn = test_random_vectors(CHURN_BATCH, D, 77);
  for (size_t i = 0; i < CHURN_BATCH * D; i++) churn[i] += 100.0f; /* far from the base */
  uint64_t ids[CHURN_BATCH];
  for (int r = 0; r < ROUNDS; r++) {
    for (int i = 0; i < CHURN_BATCH; i++) ids[i] = 1000000 + (uint64_t)r * CHURN_BATCH + i;
    if (vexfs_insert(s->c, ids, churn, CHURN_BATCH) != VEXFS_OK) atomic_fetch_add(&s->failures, 1);
    if (r % 2 && vexfs_remove(s->c, ids, CHURN_BATCH) != VEXFS_OK)
      atomic_fetch_add(&s->failures, 1);
  }
  free(churn);
  atomic_store(&s->writers_done, 1);
  return NULL;
}

/* IVF (codes) trains at the first insert and retrains twice as the churn grows the collection. */
static void search_while_writing_codes(vexfs_index_kind kind, vexfs_ivf_codes codes) {
  vexfs_collection_config cfg;
  vexfs_collection_config_init(&cfg);
  cfg.dim = D;
  cfg.index = kind;
  cfg.ivf_codes = codes;
  cfg.threads = 2; /* inserts build the graph on two threads while searches run */
  shared s = {0};
  s.approximate = kind != VEXFS_INDEX_FLAT;
  assert_int_equal(vexfs_collection_create(&cfg, &s.c), VEXFS_OK);
  s.base = test_random_vectors(BASE, D, 5);
  uint64_t *ids = malloc(BASE * sizeof *ids);
  for (size_t i = 0; i < BASE; i++) ids[i] = i;
  assert_int_equal(vexfs_insert(s.c, ids, s.base, BASE), VEXFS_OK);
  run_threads(&s, searcher, writer);
  assert_int_equal(atomic_load(&s.failures), 0);
  print_message("%s: %d self-query misses in %d searches\n",
                kind == VEXFS_INDEX_IVF ? (codes ? "ivf-sq8" : "ivf")
                : kind == VEXFS_INDEX_HNSW ? "hnsw"
                : kind == VEXFS_INDEX_LSH  ? "lsh"
                                           : "flat",
                atomic_load(&s.misses), atomic_load(&s.searches));
  /* 98% self-recall: searches racing the churn's refits and repairs miss 0-0.3% of self-queries
   * in most runs, and one run in about twenty of an HNSW build at 1a79199 missed 1.2% (a broken
   * graph misses far more; IVF's 0.9-2% before 0.7.3 came from the churn at +100 stretching the
   * centroids' quantiser, not from the race: test_ivf.c test_outliers_keep_the_nearest_lists) */
  assert_true(atomic_load(&s.misses) * 50 <= atomic_load(&s.searches));
  assert_int_equal(vexfs_count(s.c), BASE + CHURN_BATCH * (ROUNDS / 2));
  free(ids);
  free(s.base);
  vexfs_collection_free(s.c);
}

static void search_while_writing(vexfs_index_kind kind) {
  search_while_writing_codes(kind, VEXFS_IVF_CODES_F32);
}

/* LSH appends to buckets (release stores of their counts) while searches read them. */
static void test_lsh_search_while_writing(void **state) {
  (void)state;
  search_while_writing(VEXFS_INDEX_LSH);
}

/* ---- payloads: filtered searches and payload reads while payloads change ---- */

static void base_payload(size_t id, int round, char *out, size_t cap) {
  snprintf(out, cap, "{\"g\":%zu,\"round\":%d}", id % 4, round);
}

static void *filtered_searcher(void *arg) {
  shared *s = ((searcher_arg *)arg)->s;
  uint64_t seed = ((searcher_arg *)arg)->seed;
  static const char *const filters[] = {
      "{\"must\":[{\"key\":\"g\",\"match\":{\"value\":1}}]}",  /* keyword index: graph */
      "{\"must\":[{\"key\":\"g\",\"range\":{\"gt\":0.5,\"lt\":1.5}}]}", /* numeric index */
      "{\"must\":[{\"key\":\"g\",\"match\":{\"any\":[1]}}],\"must_not\":[{\"has_id\":[1]}]}",
  };
  uint64_t ids[K];
  float dist[K];
  char *payloads[K];
  size_t count;
  for (int iter = 0; !atomic_load(&s->writers_done) || iter < 20; iter++) {
    vexfs_search_params p;
    vexfs_search_params_init(&p);
    p.filter_json = filters[iter % 3];
    size_t first = test_rng(&seed) % BASE;
    if (vexfs_search_with_payload(s->c, s->base + first * D, 1, K, &p, ids, dist, &count, payloads) !=
        VEXFS_OK) {
      atomic_fetch_add(&s->failures, 1);
      continue;
    }
    atomic_fetch_add(&s->searches, 1);
    if (count != K) atomic_fetch_add(&s->failures, 1);
    for (size_t j = 0; j < count; j++) {
      /* only base rows with g = 1 pass (churn rows have g = 9) */
      if (ids[j] >= BASE || ids[j] % 4 != 1 || !payloads[j] || !strstr(payloads[j], "\"g\":1,"))
        atomic_fetch_add(&s->failures, 1);
      vexfs_free(payloads[j]);
    }
    char *json = NULL;
    size_t id = test_rng(&seed) % BASE;
    if (vexfs_get_payload(s->c, id, &json) != VEXFS_OK || !json || strncmp(json, "{\"g\":", 5) != 0)
      atomic_fetch_add(&s->failures, 1);
    vexfs_free(json);
  }
  return NULL;
}

static void *payload_writer(void *arg) {
  shared *s = arg;
  float *churn = test_random_vectors(CHURN_BATCH, D, 77);
  for (size_t i = 0; i < CHURN_BATCH * D; i++) churn[i] += 100.0f;
  uint64_t ids[CHURN_BATCH];
  const char *json[CHURN_BATCH];
  for (int i = 0; i < CHURN_BATCH; i++) json[i] = "{\"g\":9}";
  char text[64];
  for (int r = 0; r < ROUNDS / 4; r++) {
    for (int i = 0; i < CHURN_BATCH; i++) ids[i] = 1000000 + (uint64_t)r * CHURN_BATCH + i;
    if (vexfs_insert_with_payload(s->c, ids, churn, json, CHURN_BATCH) != VEXFS_OK)
      atomic_fetch_add(&s->failures, 1);
    if (vexfs_set_payload(s->c, ids[0], "{\"seen\":true}", VEXFS_PAYLOAD_MERGE) != VEXFS_OK)
      atomic_fetch_add(&s->failures, 1);
    size_t id = (size_t)r * 7 % BASE;
    base_payload(id, r, text, sizeof text);
    if (vexfs_set_payload(s->c, id, text, VEXFS_PAYLOAD_REPLACE) != VEXFS_OK)
      atomic_fetch_add(&s->failures, 1);
    if (r % 2 && vexfs_remove(s->c, ids, CHURN_BATCH) != VEXFS_OK) atomic_fetch_add(&s->failures, 1);
  }
  free(churn);
  atomic_store(&s->writers_done, 1);
  return NULL;
}

static void test_payloads_while_writing(void **state) {
  (void)state;
  vexfs_collection_config cfg;
  vexfs_collection_config_init(&cfg);
  cfg.dim = D;
  cfg.index = VEXFS_INDEX_HNSW;
  cfg.threads = 2;
  shared s = {0};
  assert_int_equal(vexfs_collection_create(&cfg, &s.c), VEXFS_OK);
  s.base = test_random_vectors(BASE, D, 5);
  uint64_t *ids = malloc(BASE * sizeof *ids);
  char **json = malloc(BASE * sizeof *json);
  for (size_t i = 0; i < BASE; i++) {
    ids[i] = i;
    json[i] = malloc(64);
    base_payload(i, 0, json[i], 64);
  }
  assert_int_equal(vexfs_insert_with_payload(s.c, ids, s.base, (const char *const *)json, BASE), VEXFS_OK);
  assert_int_equal(vexfs_create_payload_index(s.c, "g", VEXFS_PAYLOAD_INDEX_KEYWORD), VEXFS_OK);
  assert_int_equal(vexfs_create_payload_index(s.c, "g", VEXFS_PAYLOAD_INDEX_NUMERIC), VEXFS_OK);
  run_threads(&s, filtered_searcher, payload_writer);
  assert_int_equal(atomic_load(&s.failures), 0);
  print_message("payloads: %d filtered searches\n", atomic_load(&s.searches));
  for (size_t i = 0; i < BASE; i++) free(json[i]);
  free(json);
  free(ids);
  free(s.base);
  vexfs_collection_free(s.c);
}

/* Upserts replace base vectors (with themselves, under a new payload) while readers look them
 * up: a replaced id is never missing, to a get or to an exact search. */
static void *upserter(void *arg) {
  shared *s = arg;
  uint64_t ids[CHURN_BATCH];
  char text[CHURN_BATCH][32];
  const char *json[CHURN_BATCH];
  for (int r = 0; r < ROUNDS / 4; r++) {
    size_t first = (size_t)(r * 37) % (BASE - CHURN_BATCH);
    for (size_t i = 0; i < CHURN_BATCH; i++) {
      ids[i] = first + i;
      snprintf(text[i], sizeof text[i], "{\"round\":%d}", r);
      json[i] = text[i];
    }
    if (vexfs_upsert(s->c, ids, s->base + first * D, json, CHURN_BATCH) != VEXFS_OK)
      atomic_fetch_add(&s->failures, 1);
  }
  atomic_store(&s->writers_done, 1);
  return NULL;
}

static void *upsert_reader(void *arg) {
  shared *s = ((searcher_arg *)arg)->s;
  uint64_t seed = ((searcher_arg *)arg)->seed;
  float v[D], dist[K];
  uint64_t ids[K];
  while (!atomic_load(&s->writers_done)) {
    uint64_t id = test_rng(&seed) % BASE;
    if (vexfs_get(s->c, id, v) != VEXFS_OK || memcmp(v, s->base + id * D, sizeof v) != 0)
      atomic_fetch_add(&s->failures, 1);
    if (vexfs_search(s->c, s->base + id * D, 1, K, NULL, ids, dist, NULL) != VEXFS_OK ||
        ids[0] != id || dist[0] != 0.0f)
      atomic_fetch_add(&s->failures, 1);
    atomic_fetch_add(&s->searches, 1);
  }
  return NULL;
}

static void test_upserts_while_reading(void **state) {
  (void)state;
  vexfs_collection_config cfg;
  vexfs_collection_config_init(&cfg);
  cfg.dim = D;
  cfg.index = VEXFS_INDEX_FLAT;
  shared s = {0};
  assert_int_equal(vexfs_collection_create(&cfg, &s.c), VEXFS_OK);
  s.base = test_random_vectors(BASE, D, 9);
  uint64_t *ids = malloc(BASE * sizeof *ids);
  for (size_t i = 0; i < BASE; i++) ids[i] = i;
  assert_int_equal(vexfs_insert(s.c, ids, s.base, BASE), VEXFS_OK);
  run_threads(&s, upsert_reader, upserter);
  assert_int_equal(atomic_load(&s.failures), 0);
  assert_int_equal(vexfs_count(s.c), BASE);
  print_message("upserts: %d lookups\n", atomic_load(&s.searches));
  free(ids);
  free(s.base);
  vexfs_collection_free(s.c);
}

static void test_flat_search_while_writing(void **state) {
  (void)state;
  search_while_writing(VEXFS_INDEX_FLAT);
}

static void test_hnsw_search_while_writing(void **state) {
  (void)state;
  search_while_writing(VEXFS_INDEX_HNSW);
}

static void test_ivf_search_while_writing(void **state) {
  (void)state;
  search_while_writing_codes(VEXFS_INDEX_IVF, VEXFS_IVF_CODES_F32);
  search_while_writing_codes(VEXFS_INDEX_IVF, VEXFS_IVF_CODES_SQ8);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_flat_search_while_writing),
                                     cmocka_unit_test(test_hnsw_search_while_writing),
                                     cmocka_unit_test(test_ivf_search_while_writing),
                                     cmocka_unit_test(test_lsh_search_while_writing),
                                     cmocka_unit_test(test_payloads_while_writing),
                                     cmocka_unit_test(test_upserts_while_reading)};
  return cmocka_run_group_tests_name("concurrency", tests, NULL, NULL);
}

/* The public contract of collections with the exact index, through the shared library. */
#include <setjmp.h>
#include <stdio.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>

#include "test_util.h"

static vexfs_collection *make(uint32_t dim, vexfs_metric metric) {
  vexfs_collection_config cfg;
  vexfs_collection_config_init(&cfg);
  cfg.dim = dim;
  cfg.metric = metric;
  vexfs_collection *c = NULL;
  assert_int_equal(vexfs_collection_create(&cfg, &c), VEXFS_OK);
  assert_non_null(c);
  return c;
}

static uint64_t *seq_ids(size_t n, uint64_t first) {
  uint64_t *ids = malloc(n * sizeof *ids);
  for (size_t i = 0; i < n; i++) ids[i] = first + i;
  return ids;
}

static void test_version(void **state) {
  (void)state;
  assert_int_equal(vexfs_version_number(), VEXFS_VERSION_NUMBER);
  assert_int_equal(VEXFS_VERSION_NUMBER,
                   VEXFS_VERSION_MAJOR * 10000 + VEXFS_VERSION_MINOR * 100 + VEXFS_VERSION_PATCH);
  char parts[32];
  snprintf(parts, sizeof parts, "%d.%d.%d", VEXFS_VERSION_MAJOR, VEXFS_VERSION_MINOR,
           VEXFS_VERSION_PATCH);
  assert_string_equal(VEXFS_VERSION_STRING, parts);
  assert_string_equal(VEXFS_VERSION_STRING, VX_PROJECT_VERSION); /* the header's is meson's */
  assert_string_equal(vexfs_version_string(), VEXFS_VERSION_STRING);
}

static void test_status_strings(void **state) {
  (void)state;
  for (int s = VEXFS_OK; s <= VEXFS_E_STATE; s++) {
    const char *text = vexfs_status_string((vexfs_status)s);
    assert_true(strlen(text) > 0);
    assert_string_not_equal(text, "unknown status");
    for (int t = VEXFS_OK; t < s; t++)
      assert_string_not_equal(text, vexfs_status_string((vexfs_status)t));
  }
  assert_string_equal(vexfs_status_string((vexfs_status)999), "unknown status");
  /* values are fixed forever */
  assert_int_equal(VEXFS_E_INVALID, 1);
  assert_int_equal(VEXFS_E_STATE, 10);
  assert_int_equal(VEXFS_METRIC_COSINE, 3);
  assert_int_equal(VEXFS_INDEX_LSH, 3);
}

static void *fail_in_thread(void *arg) {
  (void)arg;
  const char *before = vexfs_last_error();
  int was_empty = before[0] == '\0';
  vexfs_collection_create(NULL, NULL);
  return (void *)(intptr_t)(was_empty && strstr(vexfs_last_error(), "NULL") != NULL);
}

static void test_last_error_is_per_thread(void **state) {
  (void)state;
  vexfs_collection_config cfg;
  vexfs_collection_config_init(&cfg);
  vexfs_collection *c;
  assert_int_equal(vexfs_collection_create(&cfg, &c), VEXFS_E_INVALID); /* dim 0 */
  assert_non_null(strstr(vexfs_last_error(), "dim"));
  pthread_t t;
  void *ok;
  pthread_create(&t, NULL, fail_in_thread, NULL);
  pthread_join(t, &ok);
  assert_true((intptr_t)ok); /* the other thread started with "" and saw its own message */
  assert_non_null(strstr(vexfs_last_error(), "dim")); /* ours is untouched */
}

static void test_config_defaults(void **state) {
  (void)state;
  vexfs_collection_config cfg;
  memset(&cfg, 0xab, sizeof cfg);
  vexfs_collection_config_init(&cfg);
  assert_int_equal(cfg.struct_size, sizeof cfg);
  assert_int_equal(cfg.dim, 0);
  assert_int_equal(cfg.metric, VEXFS_METRIC_L2);
  assert_int_equal(cfg.index, VEXFS_INDEX_AUTO);
  assert_int_equal(cfg.hnsw_m, 16);
  assert_int_equal(cfg.hnsw_ef_construction, 200);
  assert_int_equal(cfg.hnsw_ef_search, 64);
  assert_int_equal(cfg.threads, 0);
  assert_int_equal(cfg.lsh_tables, 0); /* 0.3.0's fields: 0, chosen by the index */
  assert_int_equal(cfg.lsh_bits, 0);
  assert_int_equal(cfg.lsh_probes, 0);
  assert_true(cfg.lsh_bucket_width == 0);
  assert_int_equal(cfg.ivf_nlist, 0);
  assert_int_equal(cfg.ivf_nprobe, 0);
  assert_int_equal(cfg.ivf_codes, VEXFS_IVF_CODES_F32);
  assert_int_equal(cfg.lsh_projection, VEXFS_LSH_PROJECTION_RANDOM);
  vexfs_search_params p;
  memset(&p, 0xab, sizeof p);
  vexfs_search_params_init(&p);
  assert_int_equal(p.struct_size, sizeof p);
  assert_int_equal(p.ef, 0);
  assert_null(p.filter_json);
  assert_int_equal(p.threads, 0);
  assert_int_equal(p.probes, 0);
  assert_int_equal(p.nprobe, 0);
  vexfs_collection_config_init(NULL); /* NULL-safe */
  vexfs_search_params_init(NULL);
}

static void set_too_many_tables(vexfs_collection_config *c) { c->lsh_tables = 257; }
static void set_too_many_bits(vexfs_collection_config *c) { c->lsh_bits = 65; }
static void set_nan_width(vexfs_collection_config *c) { c->lsh_bucket_width = NAN; }
static void set_negative_width(vexfs_collection_config *c) { c->lsh_bucket_width = -1; }
static void set_too_many_lists(vexfs_collection_config *c) { c->ivf_nlist = 65537; }
static void set_too_many_probes(vexfs_collection_config *c) { c->ivf_nprobe = 65537; }
static void set_unknown_codes(vexfs_collection_config *c) { c->ivf_codes = (vexfs_ivf_codes)2; }
static void set_unknown_projection(vexfs_collection_config *c) {
  c->lsh_projection = (vexfs_lsh_projection)2;
}

static void test_create_rejects_bad_config(void **state) {
  (void)state;
  vexfs_collection_config cfg;
  vexfs_collection *c = (vexfs_collection *)&cfg; /* must be reset to NULL on failure */
  assert_int_equal(vexfs_collection_create(NULL, &c), VEXFS_E_INVALID);
  assert_null(c);
  vexfs_collection_config_init(&cfg);
  cfg.dim = 8;
  assert_int_equal(vexfs_collection_create(&cfg, NULL), VEXFS_E_INVALID);
  cfg.dim = 0;
  assert_int_equal(vexfs_collection_create(&cfg, &c), VEXFS_E_INVALID);
  cfg.dim = VEXFS_MAX_DIM + 1;
  assert_int_equal(vexfs_collection_create(&cfg, &c), VEXFS_E_INVALID);
  cfg.dim = 8;
  cfg.metric = (vexfs_metric)0;
  assert_int_equal(vexfs_collection_create(&cfg, &c), VEXFS_E_INVALID);
  assert_non_null(strstr(vexfs_last_error(), "metric"));
  cfg.metric = VEXFS_METRIC_IP;
  cfg.index = (vexfs_index_kind)77;
  assert_int_equal(vexfs_collection_create(&cfg, &c), VEXFS_E_INVALID);
  cfg.index = VEXFS_INDEX_FLAT;
  cfg.hnsw_m = 1;
  assert_int_equal(vexfs_collection_create(&cfg, &c), VEXFS_E_INVALID);
  cfg.hnsw_m = 16;
  cfg.hnsw_ef_construction = VEXFS_MAX_K + 1; /* would size scratch beyond reason */
  assert_int_equal(vexfs_collection_create(&cfg, &c), VEXFS_E_INVALID);
  assert_non_null(strstr(vexfs_last_error(), "hnsw_ef_construction"));
  cfg.hnsw_ef_construction = 200;
  cfg.hnsw_ef_search = 0;
  assert_int_equal(vexfs_collection_create(&cfg, &c), VEXFS_E_INVALID);
  cfg.hnsw_ef_search = 64;
  /* LSH and IVF fields are checked whatever the kind: they persist with the collection */
  const struct {
    const char *names;
    void (*set)(vexfs_collection_config *);
  } bad_fields[] = {
      {"lsh_tables", set_too_many_tables}, {"lsh_bits", set_too_many_bits},
      {"lsh_bucket_width", set_nan_width}, {"lsh_bucket_width", set_negative_width},
      {"ivf_nlist", set_too_many_lists},   {"ivf_nprobe", set_too_many_probes},
      {"ivf_codes", set_unknown_codes},    {"lsh_projection", set_unknown_projection},
  };
  for (size_t i = 0; i < sizeof bad_fields / sizeof *bad_fields; i++) {
    vexfs_collection_config bad = cfg;
    bad_fields[i].set(&bad);
    assert_int_equal(vexfs_collection_create(&bad, &c), VEXFS_E_INVALID);
    assert_non_null(strstr(vexfs_last_error(), bad_fields[i].names));
    assert_null(c);
  }
  cfg.struct_size = 4;
  assert_int_equal(vexfs_collection_create(&cfg, &c), VEXFS_E_INVALID);
  assert_non_null(strstr(vexfs_last_error(), "struct_size"));
  assert_null(c);
  /* a caller built against a larger, future struct: the known prefix is read, and a future
   * field it sets is refused rather than ignored (tests/test_versioned.c has the rest) */
  struct {
    vexfs_collection_config base;
    uint32_t future_field;
  } bigger;
  vexfs_collection_config_init_sized(&bigger.base, sizeof bigger);
  assert_int_equal(bigger.base.struct_size, sizeof bigger);
  bigger.base.dim = 3;
  bigger.future_field = 12345;
  assert_int_equal(vexfs_collection_create(&bigger.base, &c), VEXFS_E_UNSUPPORTED);
  bigger.future_field = 0;
  assert_int_equal(vexfs_collection_create(&bigger.base, &c), VEXFS_OK);
  assert_int_equal(vexfs_dim(c), 3);
  vexfs_collection_free(c);
}

static void test_null_safety(void **state) {
  (void)state;
  vexfs_collection_free(NULL);
  assert_int_equal(vexfs_count(NULL), 0);
  assert_int_equal(vexfs_dim(NULL), 0);
  uint64_t id = 1;
  float v[2] = {0};
  size_t cnt;
  assert_int_equal(vexfs_insert(NULL, &id, v, 1), VEXFS_E_INVALID);
  assert_int_equal(vexfs_remove(NULL, &id, 1), VEXFS_E_INVALID);
  assert_int_equal(vexfs_get(NULL, 1, v), VEXFS_E_INVALID);
  assert_int_equal(vexfs_search(NULL, v, 1, 1, NULL, &id, v, &cnt), VEXFS_E_INVALID);
}

/* Every metric, both search paths (few queries stream, many are blocked) and 1 or 2 threads give
 * the brute-force answer in double precision. */
static void check_against_reference(vexfs_metric metric, size_t n, size_t dim, size_t nq,
                                    size_t k, unsigned threads) {
  vexfs_collection *c = make((uint32_t)dim, metric);
  float *data = test_random_vectors(n, dim, 7 + n + dim);
  float *queries = test_random_vectors(nq, dim, 99 + nq);
  uint64_t *ids = seq_ids(n, 1000);
  assert_int_equal(vexfs_insert(c, ids, data, n), VEXFS_OK);
  uint64_t *out = malloc(nq * k * sizeof *out);
  float *dist = malloc(nq * k * sizeof *dist);
  size_t *counts = malloc(nq * sizeof *counts);
  vexfs_search_params p;
  vexfs_search_params_init(&p);
  p.threads = threads;
  assert_int_equal(vexfs_search(c, queries, nq, k, &p, out, dist, counts), VEXFS_OK);
  double *ref = malloc(n * sizeof *ref);
  for (size_t q = 0; q < nq; q++) {
    for (size_t i = 0; i < n; i++) ref[i] = test_distance(metric, queries + q * dim, data + i * dim, dim);
    assert_int_equal(counts[q], k < n ? k : n);
    for (size_t j = 0; j < k; j++) {
      if (j >= n) {
        assert_true(out[q * k + j] == UINT64_MAX);
        assert_true(isinf(dist[q * k + j]));
        continue;
      }
      /* the j-th hit's exact distance, and no row nearer than it left out */
      uint64_t id = out[q * k + j];
      assert_true(id >= 1000 && id < 1000 + n);
      double d = ref[id - 1000];
      assert_float_equal(dist[q * k + j], d, 1e-4 * (1 + fabs(d)));
      if (j > 0) assert_true(dist[q * k + j] >= dist[q * k + j - 1]);
      size_t nearer = 0;
      for (size_t i = 0; i < n; i++) nearer += ref[i] < d - 1e-5 * (1 + fabs(d));
      assert_true(nearer <= j);
    }
  }
  free(ref);
  free(out);
  free(dist);
  free(counts);
  free(ids);
  free(queries);
  free(data);
  vexfs_collection_free(c);
}

static void test_search_matches_reference(void **state) {
  (void)state;
  const vexfs_metric metrics[] = {VEXFS_METRIC_L2, VEXFS_METRIC_IP, VEXFS_METRIC_COSINE};
  for (int m = 0; m < 3; m++) {
    check_against_reference(metrics[m], 700, 37, 1, 5, 1);    /* streaming */
    check_against_reference(metrics[m], 700, 37, 2, 5, 2);    /* streaming, two threads */
    check_against_reference(metrics[m], 1100, 53, 70, 9, 1);  /* blocked, partial tiles */
    check_against_reference(metrics[m], 1100, 300, 40, 10, 2); /* blocked, two k slices */
    check_against_reference(metrics[m], 30, 8, 5, 40, 2);    /* k > n: padded tail */
  }
}

static void test_fewer_than_k(void **state) {
  (void)state;
  vexfs_collection *c = make(2, VEXFS_METRIC_L2);
  uint64_t out[2 * 5];
  float dist[2 * 5], q[4] = {0, 0, 5, 5};
  size_t counts[2] = {99, 99};
  assert_int_equal(vexfs_search(c, q, 2, 5, NULL, out, dist, counts), VEXFS_OK); /* empty */
  for (int i = 0; i < 10; i++) {
    assert_true(out[i] == UINT64_MAX);
    assert_true(isinf(dist[i]) && dist[i] > 0);
  }
  assert_int_equal(counts[0], 0);
  assert_int_equal(counts[1], 0);
  uint64_t ids[3] = {7, 8, 9};
  float v[6] = {1, 0, 2, 0, 3, 0};
  assert_int_equal(vexfs_insert(c, ids, v, 3), VEXFS_OK);
  assert_int_equal(vexfs_search(c, q, 2, 5, NULL, out, dist, counts), VEXFS_OK);
  assert_int_equal(counts[0], 3);
  assert_int_equal(counts[1], 3);
  assert_true(out[0] == 7 && out[1] == 8 && out[2] == 9);
  assert_float_equal(dist[0], 1.0f, 0);
  assert_float_equal(dist[2], 9.0f, 0);
  assert_true(out[3] == UINT64_MAX && out[4] == UINT64_MAX && isinf(dist[4]));
  assert_true(out[5] == 9); /* query (5,5): (3,0) is nearest */
  assert_int_equal(vexfs_search(c, q, 1, 5, NULL, out, dist, NULL), VEXFS_OK); /* counts NULL */
  vexfs_collection_free(c);
}

static void test_ties_order_by_id(void **state) {
  (void)state;
  vexfs_collection *c = make(4, VEXFS_METRIC_L2);
  uint64_t ids[6] = {50, 10, 40, 20, 30, 60};
  float v[24] = {0};
  for (int i = 0; i < 6; i++) v[i * 4] = 1.0f; /* all identical */
  assert_int_equal(vexfs_insert(c, ids, v, 6), VEXFS_OK);
  float q[4 * 4] = {0};
  uint64_t out[4 * 4];
  float dist[4 * 4];
  assert_int_equal(vexfs_search(c, q, 1, 4, NULL, out, dist, NULL), VEXFS_OK);
  assert_true(out[0] == 10 && out[1] == 20 && out[2] == 30 && out[3] == 40);
  assert_int_equal(vexfs_search(c, q, 4, 4, NULL, out, dist, NULL), VEXFS_OK); /* blocked path */
  assert_true(out[12] == 10 && out[13] == 20 && out[14] == 30 && out[15] == 40);
  vexfs_collection_free(c);
}

static void test_insert_is_all_or_nothing(void **state) {
  (void)state;
  enum { N = 20, D = 5 };
  vexfs_collection *c = make(D, VEXFS_METRIC_L2);
  float *v = test_random_vectors(N, D, 3);
  uint64_t *ids = seq_ids(N, 100);
  assert_int_equal(vexfs_insert(c, ids, v, 10), VEXFS_OK);

  v[12 * D + 3] = NAN;
  assert_int_equal(vexfs_insert(c, ids + 10, v + 10 * D, 10), VEXFS_E_INVALID);
  assert_non_null(strstr(vexfs_last_error(), "row 2, element 3 is NaN"));
  v[12 * D + 3] = INFINITY;
  assert_int_equal(vexfs_insert(c, ids + 10, v + 10 * D, 10), VEXFS_E_INVALID);
  assert_non_null(strstr(vexfs_last_error(), "infinite"));
  v[12 * D + 3] = 3e38f; /* finite, but its square overflows */
  assert_int_equal(vexfs_insert(c, ids + 10, v + 10 * D, 10), VEXFS_E_INVALID);
  v[12 * D + 3] = 0.5f;

  ids[15] = ids[11]; /* duplicate inside the batch */
  assert_int_equal(vexfs_insert(c, ids + 10, v + 10 * D, 10), VEXFS_E_INVALID);
  assert_non_null(strstr(vexfs_last_error(), "rows 1 and 5"));
  ids[15] = 115;
  assert_int_equal(vexfs_count(c), 10);
  assert_int_equal(vexfs_insert(c, ids + 10, v + 10 * D, 10), VEXFS_OK); /* the repaired batch */
  assert_int_equal(vexfs_count(c), 20);
  uint64_t again[2] = {5000, 104};
  assert_int_equal(vexfs_insert(c, again, v, 2), VEXFS_E_EXISTS);
  assert_non_null(strstr(vexfs_last_error(), "row 1: id 104"));
  uint64_t reserved[2] = {6000, UINT64_MAX};
  assert_int_equal(vexfs_insert(c, reserved, v, 2), VEXFS_E_INVALID);
  assert_non_null(strstr(vexfs_last_error(), "reserved"));
  assert_int_equal(vexfs_insert(c, NULL, v, 1), VEXFS_E_INVALID);
  assert_int_equal(vexfs_insert(c, ids, NULL, 1), VEXFS_E_INVALID);
  assert_int_equal(vexfs_insert(c, NULL, NULL, 0), VEXFS_OK); /* empty batch */
  assert_int_equal(vexfs_insert(c, ids, v, SIZE_MAX / 2), VEXFS_E_INVALID);

  /* none of the failed batches left anything behind */
  assert_int_equal(vexfs_count(c), 20);
  float got[D];
  assert_int_equal(vexfs_get(c, 5000, got), VEXFS_E_NOT_FOUND);
  assert_int_equal(vexfs_get(c, 6000, got), VEXFS_E_NOT_FOUND);
  free(v);
  free(ids);
  vexfs_collection_free(c);
}

static void test_payload_entry_points(void **state) {
  (void)state;
  vexfs_collection *c = make(2, VEXFS_METRIC_L2);
  uint64_t ids[2] = {1, 2};
  float v[4] = {1, 2, 3, 4};
  const char *none[2] = {NULL, NULL};
  assert_int_equal(vexfs_insert_with_payload(c, ids, v, none, 2), VEXFS_OK);
  assert_int_equal(vexfs_insert_with_payload(c, ids, v, NULL, 0), VEXFS_OK);
  assert_int_equal(vexfs_count(c), 2);
  vexfs_collection_free(c);
}

static void test_get_and_arbitrary_ids(void **state) {
  (void)state;
  enum { D = 7 };
  vexfs_collection *c = make(D, VEXFS_METRIC_COSINE);
  uint64_t ids[4] = {0, UINT64_MAX - 1, 1ull << 63, 42};
  float *v = test_random_vectors(4, D, 11);
  assert_int_equal(vexfs_insert(c, ids, v, 4), VEXFS_OK);
  for (int i = 0; i < 4; i++) {
    float got[D];
    assert_int_equal(vexfs_get(c, ids[i], got), VEXFS_OK);
    assert_memory_equal(got, v + i * D, sizeof got); /* bit-exact */
  }
  float got[D];
  assert_int_equal(vexfs_get(c, 43, got), VEXFS_E_NOT_FOUND);
  assert_non_null(strstr(vexfs_last_error(), "43"));
  assert_int_equal(vexfs_get(c, 42, NULL), VEXFS_E_INVALID);
  free(v);
  vexfs_collection_free(c);
}

static void test_index_in_use(void **state) {
  (void)state;
  const struct {
    vexfs_index_kind kind;
    const char *name;
  } cases[] = {{VEXFS_INDEX_FLAT, "flat"}, {VEXFS_INDEX_HNSW, "hnsw"}, {VEXFS_INDEX_AUTO, "auto"}};
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    vexfs_collection_config cfg;
    vexfs_collection_config_init(&cfg);
    cfg.dim = 4;
    cfg.index = cases[i].kind;
    vexfs_collection *c;
    assert_int_equal(vexfs_collection_create(&cfg, &c), VEXFS_OK);
    assert_string_equal(vexfs_index_in_use(c), cases[i].name);
    vexfs_collection_free(c);
  }
  assert_null(vexfs_index_in_use(NULL));
}

static void test_config_and_ids_read_back(void **state) {
  (void)state;
  enum { D = 5 };
  vexfs_collection_config cfg;
  vexfs_collection_config_init(&cfg);
  cfg.dim = D;
  cfg.metric = VEXFS_METRIC_IP;
  cfg.index = VEXFS_INDEX_HNSW;
  cfg.hnsw_m = 7;
  cfg.hnsw_ef_construction = 33;
  cfg.hnsw_ef_search = 21;
  cfg.threads = 1;
  cfg.hnsw_seed = 99;
  vexfs_collection *c = NULL;
  assert_int_equal(vexfs_collection_create(&cfg, &c), VEXFS_OK);

  vexfs_collection_config got;
  vexfs_collection_config_init(&got);
  assert_int_equal(vexfs_collection_get_config(c, &got), VEXFS_OK);
  assert_memory_equal(&got, &cfg, sizeof cfg);
  /* an older caller's smaller struct: only the fields it covers are written */
  vexfs_collection_config old;
  memset(&old, 0xAB, sizeof old);
  old.struct_size = offsetof(vexfs_collection_config, hnsw_seed);
  assert_int_equal(vexfs_collection_get_config(c, &old), VEXFS_OK);
  assert_int_equal(old.struct_size, offsetof(vexfs_collection_config, hnsw_seed));
  assert_int_equal(old.hnsw_m, 7);
  assert_true(old.hnsw_seed == 0xABABABABABABABABull);
  old.struct_size = 4;
  assert_int_equal(vexfs_collection_get_config(c, &old), VEXFS_E_INVALID);
  assert_non_null(strstr(vexfs_last_error(), "struct_size"));
  assert_int_equal(vexfs_collection_get_config(NULL, &got), VEXFS_E_INVALID);
  assert_int_equal(vexfs_collection_get_config(c, NULL), VEXFS_E_INVALID);

  uint64_t *ids = (uint64_t *)1;
  size_t n = 7;
  assert_int_equal(vexfs_list_ids(c, &ids, &n), VEXFS_OK); /* empty */
  assert_null(ids);
  assert_int_equal(n, 0);
  uint64_t in[6] = {50, UINT64_MAX - 1, 3, 1ull << 63, 0, 7};
  float *v = test_random_vectors(6, D, 3);
  assert_int_equal(vexfs_insert(c, in, v, 6), VEXFS_OK);
  uint64_t gone[2] = {3, 50};
  assert_int_equal(vexfs_remove(c, gone, 2), VEXFS_OK);
  assert_int_equal(vexfs_list_ids(c, &ids, &n), VEXFS_OK);
  uint64_t want[4] = {0, 7, 1ull << 63, UINT64_MAX - 1};
  assert_int_equal(n, 4);
  assert_memory_equal(ids, want, sizeof want);
  vexfs_free(ids);
  assert_int_equal(vexfs_list_ids(c, NULL, &n), VEXFS_E_INVALID);
  assert_int_equal(vexfs_list_ids(c, &ids, NULL), VEXFS_E_INVALID);
  assert_null(ids);
  assert_int_equal(vexfs_list_ids(NULL, &ids, &n), VEXFS_E_INVALID);
  free(v);
  vexfs_collection_free(c);
}

static void test_remove(void **state) {
  (void)state;
  enum { N = 600, D = 9 };
  vexfs_collection *c = make(D, VEXFS_METRIC_L2);
  float *v = test_random_vectors(N, D, 5);
  uint64_t *ids = seq_ids(N, 1);
  assert_int_equal(vexfs_insert(c, ids, v, N), VEXFS_OK);

  uint64_t bad[3] = {10, 20, 9999};
  assert_int_equal(vexfs_remove(c, bad, 3), VEXFS_E_NOT_FOUND);
  assert_non_null(strstr(vexfs_last_error(), "row 2: id 9999"));
  uint64_t dup[2] = {10, 10};
  assert_int_equal(vexfs_remove(c, dup, 2), VEXFS_E_INVALID);
  assert_int_equal(vexfs_remove(c, NULL, 1), VEXFS_E_INVALID);
  assert_int_equal(vexfs_remove(c, NULL, 0), VEXFS_OK);
  assert_int_equal(vexfs_count(c), N); /* nothing was removed by failed batches */

  /* remove every odd id, including the first and last rows */
  uint64_t *odd = malloc(N / 2 * sizeof *odd);
  for (size_t i = 0; i < N / 2; i++) odd[i] = 2 * i + 1;
  assert_int_equal(vexfs_remove(c, odd, N / 2), VEXFS_OK);
  assert_int_equal(vexfs_count(c), N / 2);
  float got[D];
  for (size_t i = 0; i < N; i++) {
    vexfs_status st = vexfs_get(c, ids[i], got);
    if (ids[i] % 2) {
      assert_int_equal(st, VEXFS_E_NOT_FOUND);
    } else {
      assert_int_equal(st, VEXFS_OK);
      assert_memory_equal(got, v + i * D, sizeof got);
    }
  }
  /* a removed vector is never returned, even by a query equal to it */
  uint64_t out[20];
  float dist[20];
  for (size_t i = 0; i < 20; i++) {
    assert_int_equal(vexfs_search(c, v + i * D, 1, 20, NULL, out, dist, NULL), VEXFS_OK);
    for (int j = 0; j < 20; j++) assert_true(out[j] % 2 == 0);
    if (ids[i] % 2 == 0) assert_true(out[0] == ids[i] && dist[0] == 0.0f);
  }
  /* removed ids can be inserted again */
  assert_int_equal(vexfs_insert(c, odd, v, 1), VEXFS_OK);
  assert_int_equal(vexfs_count(c), N / 2 + 1);
  free(odd);
  free(v);
  free(ids);
  vexfs_collection_free(c);
}

static void test_search_rejects_bad_input(void **state) {
  (void)state;
  vexfs_collection *c = make(3, VEXFS_METRIC_L2);
  uint64_t ids[1] = {1};
  float v[3] = {1, 2, 3};
  assert_int_equal(vexfs_insert(c, ids, v, 1), VEXFS_OK);
  uint64_t out[4];
  float dist[4], q[6] = {0, 0, 0, 1, 1, 1};
  assert_int_equal(vexfs_search(c, NULL, 1, 1, NULL, out, dist, NULL), VEXFS_E_INVALID);
  assert_int_equal(vexfs_search(c, q, 1, 1, NULL, NULL, dist, NULL), VEXFS_E_INVALID);
  assert_int_equal(vexfs_search(c, q, 1, 1, NULL, out, NULL, NULL), VEXFS_E_INVALID);
  assert_int_equal(vexfs_search(c, q, 0, 1, NULL, out, dist, NULL), VEXFS_E_INVALID);
  assert_non_null(strstr(vexfs_last_error(), "nq"));
  assert_int_equal(vexfs_search(c, q, 1, 0, NULL, out, dist, NULL), VEXFS_E_INVALID);
  assert_non_null(strstr(vexfs_last_error(), "k is 0"));
  assert_int_equal(vexfs_search(c, q, 1, SIZE_MAX, NULL, out, dist, NULL), VEXFS_E_INVALID);
  assert_int_equal(vexfs_search(c, q, 1, VEXFS_MAX_K + 1, NULL, out, dist, NULL), VEXFS_E_INVALID);
  assert_int_equal(vexfs_search(c, q, SIZE_MAX / 2, 2, NULL, out, dist, NULL), VEXFS_E_INVALID);
  q[4] = NAN;
  assert_int_equal(vexfs_search(c, q, 2, 1, NULL, out, dist, NULL), VEXFS_E_INVALID);
  assert_non_null(strstr(vexfs_last_error(), "query 1, element 1 is NaN"));
  q[4] = 1;
  vexfs_search_params p;
  vexfs_search_params_init(&p);
  p.struct_size = 2;
  assert_int_equal(vexfs_search(c, q, 1, 1, &p, out, dist, NULL), VEXFS_E_INVALID);
  vexfs_search_params_init(&p);
  p.threads = 100000; /* capped, not an error */
  assert_int_equal(vexfs_search(c, q, 2, 1, &p, out, dist, NULL), VEXFS_OK);
  assert_true(out[0] == 1 && out[1] == 1);
  vexfs_collection_free(c);
}

static void test_cosine_and_ip_values(void **state) {
  (void)state;
  vexfs_collection *c = make(2, VEXFS_METRIC_COSINE);
  uint64_t ids[3] = {1, 2, 3};
  float v[6] = {0, 0, 3, 0, 0, -2}; /* zero vector, +x, -y */
  assert_int_equal(vexfs_insert(c, ids, v, 3), VEXFS_OK);
  float q[2] = {1, 0};
  uint64_t out[3];
  float dist[3];
  assert_int_equal(vexfs_search(c, q, 1, 3, NULL, out, dist, NULL), VEXFS_OK);
  assert_true(out[0] == 2 && out[1] == 1 && out[2] == 3);
  assert_float_equal(dist[0], 0.0f, 1e-6);
  assert_float_equal(dist[1], 1.0f, 1e-6); /* zero vector: cosine 0 */
  assert_float_equal(dist[2], 1.0f, 1e-6);
  vexfs_collection_free(c);

  c = make(2, VEXFS_METRIC_IP);
  assert_int_equal(vexfs_insert(c, ids, v, 3), VEXFS_OK);
  assert_int_equal(vexfs_search(c, q, 1, 3, NULL, out, dist, NULL), VEXFS_OK);
  assert_true(out[0] == 2);
  assert_float_equal(dist[0], 1.0f - 3.0f, 1e-6);
  vexfs_collection_free(c);
}

static void test_grows_across_chunks(void **state) {
  (void)state;
  enum { D = 17, BATCH = 97, BATCHES = 30 }; /* 2910 rows: several chunks */
  vexfs_collection *c = make(D, VEXFS_METRIC_L2);
  float *v = test_random_vectors(BATCH * BATCHES, D, 21);
  uint64_t *ids = seq_ids(BATCH * BATCHES, 1);
  for (int b = 0; b < BATCHES; b++)
    assert_int_equal(vexfs_insert(c, ids + b * BATCH, v + (size_t)b * BATCH * D, BATCH), VEXFS_OK);
  assert_int_equal(vexfs_count(c), BATCH * BATCHES);
  uint64_t out[8];
  float dist[8];
  for (size_t i = 0; i < BATCH * BATCHES; i += 101) {
    float got[D];
    assert_int_equal(vexfs_get(c, ids[i], got), VEXFS_OK);
    assert_memory_equal(got, v + i * D, sizeof got);
    assert_int_equal(vexfs_search(c, v + i * D, 1, 1, NULL, out, dist, NULL), VEXFS_OK);
    assert_true(out[0] == ids[i]);
  }
  /* the blocked path crosses chunk boundaries too */
  assert_int_equal(vexfs_search(c, v + 300 * D, 8, 1, NULL, out, dist, NULL), VEXFS_OK);
  for (int j = 0; j < 8; j++) assert_true(out[j] == ids[300 + j]);
  free(v);
  free(ids);
  vexfs_collection_free(c);
}

/* params.exact scores every admitted row whatever the index: HNSW, IVF and LSH answer as FLAT
 * does, to the bit, with and without a filter; a 0.3.0 caller's smaller params still work. */
static void test_exact_search_param(void **state) {
  (void)state;
  enum { N = 3000, D = 12, NQ = 8, K = 10 };
  float *v = test_random_vectors(N, D, 31), *q = test_random_vectors(NQ, D, 32);
  uint64_t *ids = seq_ids(N, 0);
  const char **json = malloc(N * sizeof *json);
  for (size_t i = 0; i < N; i++) json[i] = i % 3 ? "{\"odd\":true}" : "{\"odd\":false}";
  vexfs_collection *flat = NULL;
  static const vexfs_index_kind kinds[] = {VEXFS_INDEX_FLAT, VEXFS_INDEX_HNSW, VEXFS_INDEX_IVF,
                                           VEXFS_INDEX_LSH};
  uint64_t want[2][NQ * K], got[NQ * K];
  float want_d[2][NQ * K], got_d[NQ * K];
  const char *filters[2] = {NULL, "{\"must\":[{\"key\":\"odd\",\"match\":{\"value\":false}}]}"};
  for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
    vexfs_collection_config cfg;
    vexfs_collection_config_init(&cfg);
    cfg.dim = D;
    cfg.index = kinds[k];
    cfg.hnsw_ef_search = 10; /* narrow: only exact can match FLAT everywhere */
    cfg.ivf_nprobe = 1;
    cfg.lsh_probes = 1;
    vexfs_collection *c = NULL;
    assert_int_equal(vexfs_collection_create(&cfg, &c), VEXFS_OK);
    assert_int_equal(vexfs_insert_with_payload(c, ids, v, json, N), VEXFS_OK);
    for (int f = 0; f < 2; f++) {
      vexfs_search_params p;
      vexfs_search_params_init(&p);
      p.exact = 1;
      p.filter_json = filters[f];
      assert_int_equal(vexfs_search(c, q, NQ, K, &p, got, got_d, NULL), VEXFS_OK);
      if (k == 0) {
        memcpy(want[f], got, sizeof got);
        memcpy(want_d[f], got_d, sizeof got_d);
      }
      assert_memory_equal(got, want[f], sizeof got);
      assert_memory_equal(got_d, want_d[f], sizeof got_d);
    }
    if (k == 0) flat = c;
    else vexfs_collection_free(c);
  }
  vexfs_search_params old; /* as 0.3.0 had it: 32 bytes, no exact */
  vexfs_search_params_init_sized(&old, 32);
  assert_int_equal(old.struct_size, 32);
  assert_int_equal(vexfs_search(flat, q, NQ, K, &old, got, got_d, NULL), VEXFS_OK);
  assert_memory_equal(got, want[0], sizeof got);
  vexfs_collection_free(flat);
  free(json);
  free(ids);
  free(v);
  free(q);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_version),
      cmocka_unit_test(test_status_strings),
      cmocka_unit_test(test_last_error_is_per_thread),
      cmocka_unit_test(test_config_defaults),
      cmocka_unit_test(test_create_rejects_bad_config),
      cmocka_unit_test(test_null_safety),
      cmocka_unit_test(test_search_matches_reference),
      cmocka_unit_test(test_fewer_than_k),
      cmocka_unit_test(test_ties_order_by_id),
      cmocka_unit_test(test_insert_is_all_or_nothing),
      cmocka_unit_test(test_payload_entry_points),
      cmocka_unit_test(test_get_and_arbitrary_ids),
      cmocka_unit_test(test_index_in_use),
      cmocka_unit_test(test_config_and_ids_read_back),
      cmocka_unit_test(test_remove),
      cmocka_unit_test(test_search_rejects_bad_input),
      cmocka_unit_test(test_cosine_and_ip_values),
      cmocka_unit_test(test_grows_across_chunks),
      cmocka_unit_test(test_exact_search_param),
  };
  return cmocka_run_group_tests_name("api", tests, NULL, NULL);
}

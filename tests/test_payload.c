/* Payloads and filters through the public API: JSON round trips, strict parsing with located
 * errors, replace/merge, payloads returned with hits, every filter operator against a predicate
 * written independently in C, payload indexes kept in step with changes, and the planner
 * returning k admitted hits on HNSW at every selectivity. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_util.h"

static vexfs_collection *make(uint32_t dim, vexfs_index_kind index) {
  vexfs_collection_config cfg;
  vexfs_collection_config_init(&cfg);
  cfg.dim = dim;
  cfg.index = index;
  cfg.hnsw_seed = 7;
  vexfs_collection *c = NULL;
  assert_int_equal(vexfs_collection_create(&cfg, &c), VEXFS_OK);
  return c;
}

static void insert_one(vexfs_collection *c, uint64_t id, const char *json) {
  float v[2] = {(float)id, 0};
  assert_int_equal(vexfs_insert_with_payload(c, &id, v, &json, 1), VEXFS_OK);
}

static void assert_payload(vexfs_collection *c, uint64_t id, const char *expect) {
  char *got = NULL;
  assert_int_equal(vexfs_get_payload(c, id, &got), VEXFS_OK);
  if (!expect) {
    assert_null(got);
    return;
  }
  assert_non_null(got);
  assert_string_equal(got, expect);
  vexfs_free(got);
}

static void test_round_trip(void **state) {
  (void)state;
  vexfs_collection *c = make(2, VEXFS_INDEX_FLAT);
  static const struct {
    const char *in, *out;
  } cases[] = {
      {"{}", "{}"},
      {" { \"category\" : \"tech\" , \"n\" : 12 } ", "{\"category\":\"tech\",\"n\":12}"},
      {"{\"z\":1,\"a\":2}", "{\"z\":1,\"a\":2}"}, /* key order kept */
      {"{\"big\":18446744073709551615,\"min\":-9223372036854775808}",
       "{\"big\":18446744073709551615,\"min\":-9223372036854775808}"},
      {"{\"d\":0.1,\"e\":-2.5e-300,\"f\":1E3,\"g\":2.0}", "{\"d\":0.1,\"e\":-2.5e-300,\"f\":1000.0,\"g\":2.0}"},
      {"{\"a\":[1,[true,false,null],{\"b\":{}}],\"c\":[]}",
       "{\"a\":[1,[true,false,null],{\"b\":{}}],\"c\":[]}"},
      {"{\"s\":\"caf\\u00e9 \\ud83d\\ude00 \\\"q\\\" \\\\ \\/ \\n\\t\\u0001\"}",
       "{\"s\":\"caf\xc3\xa9 \xf0\x9f\x98\x80 \\\"q\\\" \\\\ / \\n\\t\\u0001\"}"},
      {"{\"\xe6\x97\xa5\xe6\x9c\xac\":\"\xe8\xaa\x9e\"}", "{\"\xe6\x97\xa5\xe6\x9c\xac\":\"\xe8\xaa\x9e\"}"},
  };
  for (uint64_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    insert_one(c, i, cases[i].in);
    assert_payload(c, i, cases[i].out);
  }
  uint64_t id = 100;
  float v[2] = {0, 0};
  assert_int_equal(vexfs_insert(c, &id, v, 1), VEXFS_OK);
  assert_payload(c, 100, NULL);
  char *out = (char *)1;
  assert_int_equal(vexfs_get_payload(c, 999, &out), VEXFS_E_NOT_FOUND);
  assert_null(out);
  assert_int_equal(vexfs_get_payload(NULL, 1, &out), VEXFS_E_INVALID);
  assert_int_equal(vexfs_get_payload(c, 1, NULL), VEXFS_E_INVALID);
  vexfs_collection_free(c);
}

static void expect_bad_payload(vexfs_collection *c, const char *json, const char *message_part) {
  uint64_t ids[3] = {1000, 1001, 1002};
  float v[6] = {0};
  const char *payloads[3] = {"{\"ok\":1}", NULL, json};
  size_t before = vexfs_count(c);
  assert_int_equal(vexfs_insert_with_payload(c, ids, v, payloads, 3), VEXFS_E_INVALID);
  const char *msg = vexfs_last_error();
  if (!strstr(msg, "row 2") || !strstr(msg, message_part))
    fail_msg("payload %s: message \"%s\" lacks \"row 2\" or \"%s\"", json, msg, message_part);
  assert_int_equal(vexfs_count(c), before); /* nothing of the batch went in */
  char *got;
  assert_int_equal(vexfs_get_payload(c, 1000, &got), VEXFS_E_NOT_FOUND);
}

static void test_bad_payloads(void **state) {
  (void)state;
  vexfs_collection *c = make(2, VEXFS_INDEX_FLAT);
  expect_bad_payload(c, "[1,2]", "must be a JSON object, not an array");
  expect_bad_payload(c, "\"tech\"", "not a string");
  expect_bad_payload(c, "", "line 1, column 1: unexpected end of input");
  expect_bad_payload(c, "{\"a\":1,}", "line 1, column 8: expected a string key");
  expect_bad_payload(c, "{\"a\":1}\n  x", "line 2, column 3: unexpected text after the value");
  expect_bad_payload(c, "{\"a\" 1}", "expected ':'");
  expect_bad_payload(c, "{\"a\":01}", "leading zeros");
  expect_bad_payload(c, "{\"a\":1.}", "expected a digit after '.'");
  expect_bad_payload(c, "{\"a\":1e999}", "out of the range");
  expect_bad_payload(c, "{\"a\":NaN}", "expected a value");
  expect_bad_payload(c, "{\"a\":tru}", "expected a value");
  expect_bad_payload(c, "{\"a\":\"x\xff\"}", "invalid UTF-8");
  expect_bad_payload(c, "{\"a\":\"\xc0\xaf\"}", "invalid UTF-8"); /* overlong */
  expect_bad_payload(c, "{\"a\":\"\\ud800\"}", "surrogate");
  expect_bad_payload(c, "{\"a\":\"\\x\"}", "invalid escape");
  expect_bad_payload(c, "{\"a\":\"tab\there\"}", "control character");
  expect_bad_payload(c, "{\"a\":\"open", "unterminated string");
  expect_bad_payload(c, "{\"a\":1,\"b\":2,\"a\":3}", "repeats a key");
  char deep[200] = "{\"a\":";
  for (int i = 0; i < 70; i++) strcat(deep, "[");
  expect_bad_payload(c, deep, "nested deeper than 64");
  /* many keys: the duplicate check sorts them */
  char many[4000] = "{";
  for (int i = 0; i < 300; i++) sprintf(many + strlen(many), "\"k%d\":%d,", i, i);
  strcat(many, "\"k17\":0}");
  expect_bad_payload(c, many, "repeats a key");
  vexfs_collection_free(c);
}

static void test_set_payload(void **state) {
  (void)state;
  vexfs_collection *c = make(2, VEXFS_INDEX_FLAT);
  insert_one(c, 1, "{\"a\":1,\"b\":{\"x\":1}}");
  assert_int_equal(vexfs_set_payload(c, 1, "{\"b\":2,\"c\":[3]}", VEXFS_PAYLOAD_MERGE), VEXFS_OK);
  assert_payload(c, 1, "{\"a\":1,\"b\":2,\"c\":[3]}");
  assert_int_equal(vexfs_set_payload(c, 1, "{\"only\":true}", VEXFS_PAYLOAD_REPLACE), VEXFS_OK);
  assert_payload(c, 1, "{\"only\":true}");
  assert_int_equal(vexfs_set_payload(c, 1, NULL, VEXFS_PAYLOAD_REPLACE), VEXFS_OK);
  assert_payload(c, 1, NULL);
  assert_int_equal(vexfs_set_payload(c, 1, "{\"m\":1}", VEXFS_PAYLOAD_MERGE), VEXFS_OK);
  assert_payload(c, 1, "{\"m\":1}"); /* merging into nothing */
  assert_int_equal(vexfs_set_payload(c, 1, "[1]", VEXFS_PAYLOAD_MERGE), VEXFS_E_INVALID);
  assert_int_equal(vexfs_set_payload(c, 1, "{bad", VEXFS_PAYLOAD_REPLACE), VEXFS_E_INVALID);
  assert_non_null(strstr(vexfs_last_error(), "vexfs_set_payload: payload is not valid JSON"));
  assert_int_equal(vexfs_set_payload(c, 1, NULL, VEXFS_PAYLOAD_MERGE), VEXFS_E_INVALID);
  assert_int_equal(vexfs_set_payload(c, 1, "{}", (vexfs_payload_mode)7), VEXFS_E_INVALID);
  assert_int_equal(vexfs_set_payload(c, 2, "{}", VEXFS_PAYLOAD_REPLACE), VEXFS_E_NOT_FOUND);
  assert_int_equal(vexfs_set_payload(NULL, 1, "{}", VEXFS_PAYLOAD_REPLACE), VEXFS_E_INVALID);
  float v1[2] = {0, 0};
  uint64_t again = 1;
  const char *other = "{\"other\":1}";
  assert_int_equal(vexfs_insert_with_payload(c, &again, v1, &other, 1), VEXFS_E_EXISTS);
  assert_payload(c, 1, "{\"m\":1}"); /* failures changed nothing */
  /* a removed vector's payload goes with it; the row's reuse starts without one */
  uint64_t id = 1;
  assert_int_equal(vexfs_remove(c, &id, 1), VEXFS_OK);
  float v[2] = {0, 0};
  assert_int_equal(vexfs_insert(c, &id, v, 1), VEXFS_OK);
  assert_payload(c, 1, NULL);
  vexfs_collection_free(c);
}

/* ---- filters against predicates written in C ---- */

enum { ROWS = 3000, DIM = 8 };

typedef struct row {
  int cat, price, tags, rank, opt, w; /* tags: 0 red+blue, 1 green, 2 none; opt: see payload_of */
  double score;
} row;

static row row_of(int i) {
  row r = {i % 10, (i * 37) % 1000, i % 3, i % 7, i % 4, i % 4, (i % 100) / 10.0 + 0.05};
  return r;
}

static void payload_of(int i, char *out, size_t cap) {
  row r = row_of(i);
  static const char *const tags[] = {"[\"red\",\"blue\"]", "[\"green\"]", "[]"};
  char opt[32] = "";
  if (r.opt == 1) strcpy(opt, ",\"opt\":null");
  if (r.opt >= 2) snprintf(opt, sizeof opt, ",\"opt\":%d", i % 5);
  snprintf(out, cap,
           "{\"category\":\"c%d\",\"price\":%d,\"score\":%.2f,\"tags\":%s,"
           "\"meta\":{\"rank\":%d,\"flags\":[true]},\"w\":%d.0%s%s}",
           r.cat, r.price, r.score, tags[r.tags], r.rank, r.w, opt,
           i == 5 ? ",\"big\":18446744073709551615" : "");
}

typedef int (*row_pred)(int i);
static int p_cat3(int i) { return row_of(i).cat == 3; }
static int p_cat12(int i) { return row_of(i).cat == 1 || row_of(i).cat == 2; }
static int p_not_cat12(int i) { return !p_cat12(i); }
static int p_price(int i) { return row_of(i).price >= 100 && row_of(i).price < 200; }
static int p_score(int i) { return row_of(i).score > 5.0; }
static int p_red(int i) { return row_of(i).tags == 0; }
static int p_rank3(int i) { return row_of(i).rank == 3; }
static int p_opt_empty(int i) { return row_of(i).opt <= 1; }
static int p_opt_null(int i) { return row_of(i).opt == 1; }
static int p_two_tags(int i) { return row_of(i).tags == 0; }
static int p_no_tags(int i) { return row_of(i).tags == 2; }
static int p_ids(int i) { return i == 3 || i == 17 || i == 2999; }
static int p_should(int i) { return row_of(i).cat == 1 || row_of(i).price < 50; }
static int p_not_green(int i) { return row_of(i).tags != 1; }
static int p_nested(int i) { return (row_of(i).cat == 1 || row_of(i).cat == 4) && row_of(i).rank != 0; }
static int p_all(int i) { (void)i; return 1; }
static int p_w2(int i) { return row_of(i).w == 2; }
static int p_opt3(int i) { return row_of(i).opt >= 2 && i % 5 == 3; }
static int p_big(int i) { return i == 5; }
static int p_none(int i) { (void)i; return 0; }
static int p_count_rank(int i) { return row_of(i).price <= 10 && row_of(i).rank >= 0; }

static const struct {
  const char *filter;
  row_pred pred;
} filter_cases[] = {
    {"{\"must\":[{\"key\":\"category\",\"match\":{\"value\":\"c3\"}}]}", p_cat3},
    {"{\"must\":{\"key\":\"category\",\"match\":{\"any\":[\"c1\",\"c2\"]}}}", p_cat12},
    {"{\"must\":[{\"key\":\"category\",\"match\":{\"except\":[\"c1\",\"c2\"]}}]}", p_not_cat12},
    {"{\"must\":[{\"key\":\"price\",\"range\":{\"gte\":100,\"lt\":200}}]}", p_price},
    {"{\"must\":[{\"key\":\"score\",\"range\":{\"gt\":5.0}}]}", p_score},
    {"{\"must\":[{\"key\":\"tags\",\"match\":{\"value\":\"red\"}}]}", p_red},
    {"{\"must\":[{\"key\":\"meta.rank\",\"match\":{\"value\":3}}]}", p_rank3},
    {"{\"must\":[{\"is_empty\":{\"key\":\"opt\"}}]}", p_opt_empty},
    {"{\"must\":[{\"is_null\":{\"key\":\"opt\"}}]}", p_opt_null},
    {"{\"must\":[{\"key\":\"tags\",\"values_count\":{\"gte\":2}}]}", p_two_tags},
    {"{\"must\":[{\"key\":\"tags[]\",\"values_count\":{\"lt\":1}}]}", p_no_tags},
    {"{\"must\":[{\"has_id\":[2999,17,3,123456]}]}", p_ids},
    {"{\"should\":[{\"key\":\"category\",\"match\":{\"value\":\"c1\"}},"
     "{\"key\":\"price\",\"range\":{\"lt\":50}}]}", p_should},
    {"{\"must_not\":[{\"key\":\"tags\",\"match\":{\"value\":\"green\"}}]}", p_not_green},
    {"{\"must\":[{\"should\":[{\"key\":\"category\",\"match\":{\"value\":\"c1\"}},"
     "{\"key\":\"category\",\"match\":{\"value\":\"c4\"}}]},"
     "{\"must_not\":[{\"key\":\"meta.rank\",\"match\":{\"value\":0}}]}]}", p_nested},
    {"{}", p_all},
    {"{\"must\":[{\"key\":\"meta.flags\",\"match\":{\"value\":true}}]}", p_all},
    {"{\"must\":[{\"key\":\"w\",\"match\":{\"value\":2}}]}", p_w2},
    {"{\"must\":[{\"key\":\"opt\",\"match\":{\"value\":3}}]}", p_opt3},
    {"{\"must\":[{\"key\":\"big\",\"match\":{\"value\":18446744073709551615}}]}", p_big},
    {"{\"must\":[{\"key\":\"missing.path\",\"match\":{\"value\":1}}]}", p_none},
    {"{\"must\":[{\"key\":\"price\",\"range\":{\"lte\":10},\"values_count\":{\"gte\":1}}]}", p_count_rank},
    {"{\"should\":[]}", p_all},
};

/* Inserts ids 0..n-1 with random vectors (returned, for the caller to free) and the payloads
 * payload(i) writes. */
typedef void (*payload_fn)(int i, char *out, size_t cap);
static float *insert_rows(vexfs_collection *c, int n, uint32_t dim, payload_fn payload) {
  float *v = test_random_vectors((size_t)n, dim, 3);
  uint64_t *ids = malloc((size_t)n * sizeof *ids);
  char **json = malloc((size_t)n * sizeof *json);
  for (int i = 0; i < n; i++) {
    ids[i] = (uint64_t)i;
    json[i] = malloc(256);
    payload(i, json[i], 256);
  }
  assert_int_equal(vexfs_insert_with_payload(c, ids, v, (const char *const *)json, (size_t)n), VEXFS_OK);
  for (int i = 0; i < n; i++) free(json[i]);
  free(json);
  free(ids);
  return v;
}

static vexfs_collection *filled(vexfs_index_kind index) {
  vexfs_collection *c = make(DIM, index);
  free(insert_rows(c, ROWS, DIM, payload_of));
  return c;
}

/* Searches with k = ROWS and checks the hits are exactly the rows pred admits (live ones). */
static void check_filter(vexfs_collection *c, const char *filter, row_pred pred,
                         const char *label) {
  static uint64_t ids[ROWS];
  static float dist[ROWS];
  float q[DIM] = {0};
  size_t count;
  vexfs_search_params p;
  vexfs_search_params_init(&p);
  p.filter_json = filter;
  if (vexfs_search(c, q, 1, ROWS, &p, ids, dist, &count) != VEXFS_OK)
    fail_msg("%s %s: %s", label, filter, vexfs_last_error());
  size_t expect = 0;
  float got[DIM];
  for (int i = 0; i < ROWS; i++) expect += pred(i) && vexfs_get(c, (uint64_t)i, got) == VEXFS_OK;
  if (count != expect) fail_msg("%s %s: %zu hits, expected %zu", label, filter, count, expect);
  for (size_t i = 0; i < count; i++)
    if (!pred((int)ids[i])) fail_msg("%s %s: id %llu should not pass", label, filter, (unsigned long long)ids[i]);
}

static void test_filter_semantics(void **state) {
  (void)state;
  static const char *const indexed_keys[] = {"category", "tags", "meta.rank", "w", "big"};
  static const struct {
    vexfs_index_kind kind;
    const char *label, *indexed;
  } kinds[] = {{VEXFS_INDEX_FLAT, "flat", "flat indexed"},
               {VEXFS_INDEX_HNSW, "hnsw", "hnsw indexed"},
               {VEXFS_INDEX_IVF, "ivf", "ivf indexed"},
               {VEXFS_INDEX_LSH, "lsh", "lsh indexed"}};
  for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
    const char *label = kinds[k].label;
    vexfs_collection *c = filled(kinds[k].kind);
    for (size_t i = 0; i < sizeof filter_cases / sizeof *filter_cases; i++)
      check_filter(c, filter_cases[i].filter, filter_cases[i].pred, label);
    /* the same with payload indexes the planner can use */
    for (size_t i = 0; i < sizeof indexed_keys / sizeof *indexed_keys; i++)
      assert_int_equal(vexfs_create_payload_index(c, indexed_keys[i], VEXFS_PAYLOAD_INDEX_KEYWORD), VEXFS_OK);
    assert_int_equal(vexfs_create_payload_index(c, "price", VEXFS_PAYLOAD_INDEX_NUMERIC), VEXFS_OK);
    assert_int_equal(vexfs_create_payload_index(c, "score", VEXFS_PAYLOAD_INDEX_NUMERIC), VEXFS_OK);
    assert_int_equal(vexfs_create_payload_index(c, "price", VEXFS_PAYLOAD_INDEX_NUMERIC), VEXFS_E_EXISTS);
    for (size_t i = 0; i < sizeof filter_cases / sizeof *filter_cases; i++)
      check_filter(c, filter_cases[i].filter, filter_cases[i].pred, kinds[k].indexed);
    vexfs_collection_free(c);
  }
}

/* Indexes follow removes, payload changes and reuse of rows. */
static int p_changed_cat3(int i) { return i % 2 == 1 && (i % 100 == 1 ? 0 : row_of(i).cat == 3); }
static int p_changed_price(int i) {
  return i % 2 == 1 && (i % 100 == 1 ? 1 : row_of(i).price >= 100 && row_of(i).price < 200);
}

static void test_index_maintenance(void **state) {
  (void)state;
  vexfs_collection *c = filled(VEXFS_INDEX_HNSW);
  assert_int_equal(vexfs_create_payload_index(c, "category", VEXFS_PAYLOAD_INDEX_KEYWORD), VEXFS_OK);
  assert_int_equal(vexfs_create_payload_index(c, "price", VEXFS_PAYLOAD_INDEX_NUMERIC), VEXFS_OK);
  uint64_t evens[ROWS / 2];
  for (int i = 0; i < ROWS / 2; i++) evens[i] = (uint64_t)(2 * i);
  assert_int_equal(vexfs_remove(c, evens, ROWS / 2), VEXFS_OK);
  for (int i = 1; i < ROWS; i += 100)
    assert_int_equal(vexfs_set_payload(c, (uint64_t)i, "{\"category\":\"none\",\"price\":150}",
                                       VEXFS_PAYLOAD_REPLACE), VEXFS_OK);
  check_filter(c, filter_cases[0].filter, p_changed_cat3, "after changes");
  check_filter(c, filter_cases[3].filter, p_changed_price, "after changes");
  /* reuse the freed rows for new ids whose payload matches nothing above */
  float v[DIM] = {0};
  for (uint64_t id = ROWS; id < ROWS + 200; id++) {
    const char *json = "{\"category\":\"new\",\"price\":5000}";
    assert_int_equal(vexfs_insert_with_payload(c, &id, v, &json, 1), VEXFS_OK);
  }
  check_filter(c, filter_cases[0].filter, p_changed_cat3, "after reuse");
  check_filter(c, filter_cases[3].filter, p_changed_price, "after reuse");
  assert_int_equal(vexfs_drop_payload_index(c, "price", VEXFS_PAYLOAD_INDEX_NUMERIC), VEXFS_OK);
  assert_int_equal(vexfs_drop_payload_index(c, "price", VEXFS_PAYLOAD_INDEX_NUMERIC), VEXFS_E_NOT_FOUND);
  check_filter(c, filter_cases[3].filter, p_changed_price, "after drop");
  vexfs_collection_free(c);
}

static void expect_bad_filter(vexfs_collection *c, const char *filter, const char *message_part) {
  float q[DIM] = {0};
  uint64_t ids[4];
  float dist[4];
  vexfs_search_params p;
  vexfs_search_params_init(&p);
  p.filter_json = filter;
  assert_int_equal(vexfs_search(c, q, 1, 4, &p, ids, dist, NULL), VEXFS_E_INVALID);
  if (!strstr(vexfs_last_error(), message_part))
    fail_msg("filter %s: message \"%s\" lacks \"%s\"", filter, vexfs_last_error(), message_part);
}

static void test_bad_filters(void **state) {
  (void)state;
  vexfs_collection *c = filled(VEXFS_INDEX_FLAT);
  expect_bad_filter(c, "{\"must\":[", "filter is not valid JSON: line 1, column 10");
  expect_bad_filter(c, "[]", "filter: expected an object, got an array");
  expect_bad_filter(c, "{\"category\":\"tech\"}", "filter.category: unknown operator");
  expect_bad_filter(c, "{\"must\":[{\"key\":\"a\",\"match\":{\"value\":1.5}}]}",
                    "filter.must[0].match.value: expected a string, integer or boolean, got a number");
  expect_bad_filter(c, "{\"must\":[{\"key\":\"a\",\"match\":{\"like\":1}}]}",
                    "filter.must[0].match.like: unknown match operator");
  expect_bad_filter(c, "{\"must\":[{\"key\":\"a\",\"match\":{\"any\":[\"x\",2]}}]}",
                    "filter.must[0].match.any[1]: mixes strings and integers");
  expect_bad_filter(c, "{\"must\":[{\"key\":\"a\",\"range\":{\"gt\":\"5\"}}]}",
                    "filter.must[0].range.gt: expected a number, got a string");
  expect_bad_filter(c, "{\"must\":[{\"key\":\"a\",\"range\":{\"over\":5}}]}",
                    "filter.must[0].range.over: unknown bound");
  expect_bad_filter(c, "{\"must\":[{\"key\":\"a\",\"range\":{}}]}", "at least one of gt");
  expect_bad_filter(c, "{\"must\":[{\"key\":\"a\",\"values_count\":{\"gt\":-1}}]}",
                    "filter.must[0].values_count.gt: expected a count");
  expect_bad_filter(c, "{\"must\":[{\"key\":\"a\"}]}", "needs \"match\", \"range\" or \"values_count\"");
  expect_bad_filter(c, "{\"must\":[{\"key\":5,\"match\":{\"value\":1}}]}",
                    "filter.must[0].key: expected a string, got an integer");
  expect_bad_filter(c, "{\"must\":[{\"key\":\"a..b\",\"match\":{\"value\":1}}]}", "empty segment");
  expect_bad_filter(c, "{\"must\":[{\"has_id\":[1,-2]}]}", "filter.must[0].has_id[1]: expected an id");
  expect_bad_filter(c, "{\"must\":[{\"is_empty\":{\"field\":\"a\"}}]}", "filter.must[0].is_empty");
  expect_bad_filter(c, "{\"should\":[{\"must_not\":[3]}]}",
                    "filter.should[0].must_not[0]: expected a condition object, got an integer");
  expect_bad_filter(c, "{\"must\":[{\"nested\":{}}]}", "filter.must[0].nested: unknown operator");
  vexfs_collection_free(c);
}

static void test_search_with_payload(void **state) {
  (void)state;
  vexfs_collection *c = make(2, VEXFS_INDEX_FLAT);
  insert_one(c, 1, "{\"name\":\"one\"}");
  uint64_t id = 2;
  float v[2] = {2, 0};
  assert_int_equal(vexfs_insert(c, &id, v, 1), VEXFS_OK);
  insert_one(c, 3, "{\"name\":\"three\"}");
  float q[2] = {0.9f, 0};
  uint64_t ids[4];
  float dist[4];
  char *payloads[4];
  size_t count;
  assert_int_equal(vexfs_search_with_payload(c, q, 1, 4, NULL, ids, dist, &count, payloads), VEXFS_OK);
  assert_int_equal(count, 3);
  assert_int_equal(ids[0], 1);
  assert_string_equal(payloads[0], "{\"name\":\"one\"}");
  assert_int_equal(ids[1], 2);
  assert_null(payloads[1]);
  assert_string_equal(payloads[2], "{\"name\":\"three\"}");
  assert_null(payloads[3]); /* no hit */
  for (int i = 0; i < 4; i++) vexfs_free(payloads[i]);
  vexfs_search_params p;
  vexfs_search_params_init(&p);
  p.filter_json = "{\"must\":[{\"key\":\"name\",\"match\":{\"value\":\"three\"}}]}";
  assert_int_equal(vexfs_search_with_payload(c, q, 1, 4, &p, ids, dist, &count, payloads), VEXFS_OK);
  assert_int_equal(count, 1);
  assert_int_equal(ids[0], 3);
  assert_string_equal(payloads[0], "{\"name\":\"three\"}");
  vexfs_free(payloads[0]);
  assert_int_equal(vexfs_search_with_payload(c, q, 1, 4, NULL, ids, dist, &count, NULL), VEXFS_E_INVALID);
  vexfs_collection_free(c);
}

/* ---- the planner on HNSW: k admitted hits at every selectivity, near-exact recall ---- */

enum { BIG = 20000, BD = 16, K = 10, NQ = 20 };

/* bucket b in [0, 1000): "b < n" admits n/1000 of the rows */
static void bucket_payload(int i, char *out, size_t cap) {
  snprintf(out, cap, "{\"b\":%d,\"g\":\"g%d\"}", (i * 7919) % 1000, (i * 7919) % 1000);
}

static void test_planner_selectivities(void **state) {
  (void)state;
  vexfs_collection *c = make(BD, VEXFS_INDEX_HNSW);
  float *v = insert_rows(c, BIG, BD, bucket_payload);
  float *queries = test_random_vectors(NQ, BD, 99);
  static const int admit_per_mille[] = {500, 100, 10, 1};
  for (int pass = 0; pass < 2; pass++) { /* without, then with a numeric index */
    if (pass == 1)
      assert_int_equal(vexfs_create_payload_index(c, "b", VEXFS_PAYLOAD_INDEX_NUMERIC), VEXFS_OK);
    for (size_t s = 0; s < sizeof admit_per_mille / sizeof *admit_per_mille; s++) {
      char filter[96];
      snprintf(filter, sizeof filter, "{\"must\":[{\"key\":\"b\",\"range\":{\"lt\":%d}}]}",
               admit_per_mille[s]);
      vexfs_search_params p;
      vexfs_search_params_init(&p);
      p.filter_json = filter;
      uint64_t got[NQ * K];
      float dist[NQ * K];
      size_t counts[NQ];
      assert_int_equal(vexfs_search(c, queries, NQ, K, &p, got, dist, counts), VEXFS_OK);
      size_t found = 0;
      for (int qi = 0; qi < NQ; qi++) {
        assert_int_equal(counts[qi], K); /* at least K rows pass every filter here */
        /* exact filtered top K by brute force */
        double best[K];
        for (int j = 0; j < K; j++) best[j] = INFINITY;
        for (int i = 0; i < BIG; i++) {
          if ((i * 7919) % 1000 >= admit_per_mille[s]) continue;
          double d = test_distance(VEXFS_METRIC_L2, queries + qi * BD, v + (size_t)i * BD, BD);
          for (int j = 0; j < K; j++)
            if (d < best[j]) {
              memmove(best + j + 1, best + j, (K - 1 - j) * sizeof *best);
              best[j] = d;
              break;
            }
        }
        for (int j = 0; j < K; j++) {
          uint64_t id = got[qi * K + j];
          assert_true((id * 7919) % 1000 < (uint64_t)admit_per_mille[s]);
          found += dist[qi * K + j] <= best[K - 1] * (1 + 1e-5);
        }
      }
      double recall = (double)found / (NQ * K);
      if (recall < 0.9)
        fail_msg("pass %d, %d/1000 admitted: recall %.3f", pass, admit_per_mille[s], recall);
    }
  }
  free(v);
  free(queries);
  vexfs_collection_free(c);
}

/* vexfs_list_ids_filtered lists exactly the ids a filter admits, ascending, the same with and
 * without payload indexes over its keys; a bad filter is refused with its place named. */
static void test_list_ids_filtered(void **state) {
  (void)state;
  vexfs_collection *c = make(2, VEXFS_INDEX_FLAT);
  for (uint64_t id = 0; id < 300; id++) {
    char json[64];
    snprintf(json, sizeof json, "{\"m\":%d,\"tag\":\"%s\"}", (int)(id % 7),
             id % 3 ? "odd" : "three");
    insert_one(c, id * 5 + 1, json);
  }
  insert_one(c, 7777, NULL);
  const char *filter = "{\"must\":[{\"key\":\"m\",\"range\":{\"lt\":2}},"
                       "{\"key\":\"tag\",\"match\":{\"value\":\"three\"}}]}";
  for (int pass = 0; pass < 2; pass++) { /* without, then with indexes over both keys */
    if (pass == 1) {
      assert_int_equal(vexfs_create_payload_index(c, "m", VEXFS_PAYLOAD_INDEX_NUMERIC), VEXFS_OK);
      assert_int_equal(vexfs_create_payload_index(c, "tag", VEXFS_PAYLOAD_INDEX_KEYWORD), VEXFS_OK);
    }
    uint64_t *ids = NULL;
    size_t n = 0, expect = 0;
    assert_int_equal(vexfs_list_ids_filtered(c, filter, &ids, &n), VEXFS_OK);
    for (uint64_t id = 0; id < 300; id++) {
      if (id % 7 >= 2 || id % 3 != 0) continue;
      assert_true(expect < n);
      assert_int_equal(ids[expect++], id * 5 + 1);
    }
    assert_int_equal(n, expect);
    vexfs_free(ids);
    assert_int_equal(vexfs_list_ids_filtered(c, NULL, &ids, &n), VEXFS_OK); /* every id */
    assert_int_equal(n, 301);
    assert_int_equal(ids[300], 7777);
    vexfs_free(ids);
    assert_int_equal(vexfs_list_ids_filtered(c, "{\"must\":[{\"key\":\"m\",\"match\":{\"value\":99}}]}",
                                             &ids, &n), VEXFS_OK);
    assert_null(ids); /* none admitted */
    assert_int_equal(n, 0);
  }
  uint64_t *ids = (uint64_t *)&ids;
  size_t n = 5;
  assert_int_equal(vexfs_list_ids_filtered(c, "{\"must\":[{\"key\":\"m\",\"range\":{\"gt\":\"x\"}}]}",
                                           &ids, &n), VEXFS_E_INVALID);
  assert_non_null(strstr(vexfs_last_error(), "filter.must[0].range.gt"));
  assert_null(ids);
  assert_int_equal(n, 0);
  assert_int_equal(vexfs_list_ids_filtered(NULL, NULL, &ids, &n), VEXFS_E_INVALID);
  vexfs_collection_free(c);
}

/* vexfs_upsert inserts new ids and replaces present ones, vector and payload, all or nothing,
 * on every index kind. */
static void test_upsert(void **state) {
  (void)state;
  static const vexfs_index_kind kinds[] = {VEXFS_INDEX_FLAT, VEXFS_INDEX_HNSW, VEXFS_INDEX_IVF,
                                           VEXFS_INDEX_LSH, VEXFS_INDEX_AUTO};
  for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
    vexfs_collection *c = make(2, kinds[k]);
    for (uint64_t id = 0; id < 40; id++) insert_one(c, id, "{\"v\":1}");
    uint64_t ids[4] = {3, 100, 7, 101};
    float vecs[8] = {-3, 5, -100, 5, -7, 5, -101, 5};
    const char *json[4] = {"{\"v\":2}", "{\"v\":3}", NULL, "{\"v\":4}"};
    assert_int_equal(vexfs_upsert(c, ids, vecs, json, 4), VEXFS_OK);
    assert_int_equal(vexfs_count(c), 42);
    for (int i = 0; i < 4; i++) {
      float got[2];
      assert_int_equal(vexfs_get(c, ids[i], got), VEXFS_OK);
      assert_memory_equal(got, vecs + 2 * i, sizeof got);
      assert_payload(c, ids[i], json[i]); /* NULL: the replaced point has none now */
    }
    uint64_t hit;
    float d;
    vexfs_search_params p;
    vexfs_search_params_init(&p);
    p.ef = 64;
    p.nprobe = 64;
    p.probes = 64;
    assert_int_equal(vexfs_search(c, vecs + 4, 1, 1, &p, &hit, &d, NULL), VEXFS_OK);
    assert_int_equal(hit, 7); /* found at its new place */
    assert_true(d == 0.0f);
    /* all or nothing: a bad row, a duplicate, the reserved id change nothing */
    float bad[4] = {1, 1, NAN, 0};
    uint64_t pair[2] = {3, 102};
    assert_int_equal(vexfs_upsert(c, pair, bad, NULL, 2), VEXFS_E_INVALID);
    uint64_t twice[2] = {102, 102};
    assert_int_equal(vexfs_upsert(c, twice, vecs, NULL, 2), VEXFS_E_INVALID);
    uint64_t reserved[1] = {UINT64_MAX};
    assert_int_equal(vexfs_upsert(c, reserved, vecs, NULL, 1), VEXFS_E_INVALID);
    const char *broken[2] = {"{\"v\":", NULL};
    assert_int_equal(vexfs_upsert(c, pair, vecs, broken, 2), VEXFS_E_INVALID);
    assert_int_equal(vexfs_count(c), 42);
    assert_payload(c, 3, "{\"v\":2}");
    assert_int_equal(vexfs_upsert(c, NULL, NULL, NULL, 0), VEXFS_OK);
    assert_int_equal(vexfs_upsert(NULL, ids, vecs, NULL, 1), VEXFS_E_INVALID);
    vexfs_collection_free(c);
  }
}

static void test_list_payload_indexes(void **state) {
  (void)state;
  vexfs_collection *c = make(4, VEXFS_INDEX_FLAT);
  char *json = (char *)1;
  assert_int_equal(vexfs_list_payload_indexes(NULL, &json), VEXFS_E_INVALID);
  assert_null(json);
  assert_int_equal(vexfs_list_payload_indexes(c, NULL), VEXFS_E_INVALID);
  assert_int_equal(vexfs_list_payload_indexes(c, &json), VEXFS_OK);
  assert_string_equal(json, "[]");
  vexfs_free(json);
  assert_int_equal(vexfs_create_payload_index(c, "price", VEXFS_PAYLOAD_INDEX_NUMERIC), VEXFS_OK);
  assert_int_equal(vexfs_create_payload_index(c, "a.\"q\"", VEXFS_PAYLOAD_INDEX_KEYWORD), VEXFS_OK);
  assert_int_equal(vexfs_create_payload_index(c, "price", VEXFS_PAYLOAD_INDEX_KEYWORD), VEXFS_OK);
  assert_int_equal(vexfs_create_payload_index(c, "b", VEXFS_PAYLOAD_INDEX_KEYWORD), VEXFS_OK);
  /* a drop moves the last index into the hole: the list is still sorted by key, then kind */
  assert_int_equal(vexfs_drop_payload_index(c, "b", VEXFS_PAYLOAD_INDEX_KEYWORD), VEXFS_OK);
  assert_int_equal(vexfs_list_payload_indexes(c, &json), VEXFS_OK);
  assert_string_equal(json, "[{\"key\":\"a.\\\"q\\\"\",\"kind\":\"keyword\"},"
                            "{\"key\":\"price\",\"kind\":\"keyword\"},"
                            "{\"key\":\"price\",\"kind\":\"numeric\"}]");
  vexfs_free(json);
  vexfs_collection_free(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trip),
      cmocka_unit_test(test_bad_payloads),
      cmocka_unit_test(test_set_payload),
      cmocka_unit_test(test_filter_semantics),
      cmocka_unit_test(test_index_maintenance),
      cmocka_unit_test(test_bad_filters),
      cmocka_unit_test(test_search_with_payload),
      cmocka_unit_test(test_planner_selectivities),
      cmocka_unit_test(test_list_ids_filtered),
      cmocka_unit_test(test_upsert),
      cmocka_unit_test(test_list_payload_indexes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Regressions of the adversarial pass over the core: each test failed before its fix. Reserved
 * ids, error messages that quote earlier ones, read-only opens of a crashed database. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "db_util.h"
#include "errors_internal.h"

static vexfs_collection *make(vexfs_index_kind kind, uint32_t dim) {
  vexfs_collection_config cfg;
  vexfs_collection_config_init(&cfg);
  cfg.dim = dim;
  cfg.index = kind;
  cfg.threads = 1;
  vexfs_collection *c = NULL;
  assert_int_equal(vexfs_collection_create(&cfg, &c), VEXFS_OK);
  return c;
}

/* UINT64_MAX is the id map's empty marker: it must never be found, whatever entry point asks. */
static void test_reserved_id_is_never_found(void **state) {
  (void)state;
  const vexfs_index_kind kinds[] = {VEXFS_INDEX_FLAT, VEXFS_INDEX_HNSW};
  for (size_t k = 0; k < 2; k++) {
    vexfs_collection *c = make(kinds[k], 4);
    assert_int_equal(db_insert_range(c, 1, 40), VEXFS_OK);
    float v[4] = {9, 9, 9, 9};
    assert_int_equal(vexfs_get(c, UINT64_MAX, v), VEXFS_E_NOT_FOUND);
    assert_true(v[0] == 9 && v[3] == 9); /* nothing written */
    char *json = (char *)"untouched";
    assert_int_equal(vexfs_get_payload(c, UINT64_MAX, &json), VEXFS_E_NOT_FOUND);
    assert_null(json);
    char *before = NULL, *after = NULL;
    assert_int_equal(vexfs_get_payload(c, 1, &before), VEXFS_OK);
    assert_int_equal(vexfs_set_payload(c, UINT64_MAX, "{\"x\":1}", VEXFS_PAYLOAD_REPLACE),
                     VEXFS_E_NOT_FOUND);
    assert_int_equal(vexfs_set_payload(c, UINT64_MAX, "{\"x\":1}", VEXFS_PAYLOAD_MERGE),
                     VEXFS_E_NOT_FOUND);
    assert_int_equal(vexfs_set_payload(c, UINT64_MAX, NULL, VEXFS_PAYLOAD_REPLACE),
                     VEXFS_E_NOT_FOUND);
    assert_int_equal(vexfs_get_payload(c, 1, &after), VEXFS_OK);
    assert_string_equal(before, after);
    vexfs_free(before);
    vexfs_free(after);
    uint64_t reserved = UINT64_MAX;
    assert_int_equal(vexfs_remove(c, &reserved, 1), VEXFS_E_INVALID);
    assert_int_equal(vexfs_insert(c, &reserved, v, 1), VEXFS_E_INVALID);
    assert_int_equal(vexfs_count(c), 40);

    /* a has_id filter naming it admits nothing, alone or beside a real id */
    const char *filters[] = {"{\"must\": [{\"has_id\": [18446744073709551615]}]}",
                             "{\"must\": [{\"has_id\": [18446744073709551615, 7]}]}"};
    for (size_t f = 0; f < 2; f++) {
      vexfs_search_params p;
      vexfs_search_params_init(&p);
      p.filter_json = filters[f];
      uint64_t ids[3];
      float d[3];
      size_t count;
      db_vector(7, 4, v);
      assert_int_equal(vexfs_search(c, v, 1, 3, &p, ids, d, &count), VEXFS_OK);
      assert_int_equal(count, f);
      if (f) assert_int_equal(ids[0], 7);
      assert_int_equal(ids[f], UINT64_MAX);
    }
    vexfs_collection_free(c);
  }
}

/* vx_fail may quote the message it replaces (replay and wrapped errors do). */
static void test_error_message_may_quote_itself(void **state) {
  (void)state;
  vx_fail(VEXFS_E_INVALID, "inner problem at row %d", 3);
  assert_int_equal(vx_fail(VEXFS_E_CORRUPT, "outer: %s", vexfs_last_error()), VEXFS_E_CORRUPT);
  assert_string_equal(vexfs_last_error(), "outer: inner problem at row 3");
  vx_fail(VEXFS_E_INVALID, "%s", "read-only database");
  vx_fail(VEXFS_E_CORRUPT, "%s%s", vexfs_last_error(), " (again)");
  assert_string_equal(vexfs_last_error(), "read-only database (again)");
}

/* A database whose log holds records (a writer that never closed) opens read-only, with every
 * acknowledged call applied. */
static void test_read_only_open_replays_the_log(void **state) {
  (void)state;
  char *dir = db_tempdir(), *copy = db_tempdir();
  assert_non_null(dir);
  assert_non_null(copy);
  vexfs_db *db;
  assert_int_equal(vexfs_db_open(dir, NULL, &db), VEXFS_OK);
  vexfs_collection_config cfg;
  vexfs_collection_config_init(&cfg);
  cfg.dim = 8;
  cfg.index = VEXFS_INDEX_HNSW;
  vexfs_collection *c;
  assert_int_equal(vexfs_db_create_collection(db, "docs", &cfg, &c), VEXFS_OK);
  db_model model = {0};
  assert_int_equal(db_insert_range(c, 0, 100), VEXFS_OK);
  db_model_insert(&model, 0, 100);
  uint64_t gone[2] = {5, 50};
  assert_int_equal(vexfs_remove(c, gone, 2), VEXFS_OK);
  db_model_remove(&model, 5);
  db_model_remove(&model, 50);
  assert_int_equal(vexfs_set_payload(c, 7, "{\"k\":1}", VEXFS_PAYLOAD_MERGE), VEXFS_OK);
  free(model.payload[7]);
  model.payload[7] = strdup("{\"id\":7,\"group\":0,\"tag\":\"t2\",\"k\":1}");
  assert_int_equal(vexfs_create_payload_index(c, "group", VEXFS_PAYLOAD_INDEX_KEYWORD), VEXFS_OK);
  /* the files as a crash leaves them: the log holds every call, no snapshot */
  assert_int_equal(db_copy_into(dir, copy, "wal.log"), 0);
  assert_int_equal(db_copy_into(dir, copy, "LOCK"), 0);
  assert_int_equal(vexfs_db_close(db), VEXFS_OK);

  vexfs_db_options o;
  vexfs_db_options_init(&o);
  o.read_only = 1;
  assert_int_equal(vexfs_db_open(copy, &o, &db), VEXFS_OK);
  assert_int_equal(vexfs_db_get_collection(db, "docs", &c), VEXFS_OK);
  assert_true(db_matches(c, &model));
  assert_int_equal(vexfs_set_payload(c, 8, NULL, VEXFS_PAYLOAD_REPLACE), VEXFS_E_READONLY);
  assert_int_equal(vexfs_drop_payload_index(c, "group", VEXFS_PAYLOAD_INDEX_KEYWORD),
                   VEXFS_E_READONLY);
  assert_int_equal(vexfs_db_close(db), VEXFS_OK);
  db_model_clear(&model);
  db_rmdir(dir);
  db_rmdir(copy);
  free(dir);
  free(copy);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_reserved_id_is_never_found),
      cmocka_unit_test(test_error_message_may_quote_itself),
      cmocka_unit_test(test_read_only_open_replays_the_log),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

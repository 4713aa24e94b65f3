/* vexfs_db_check: a healthy database passes with a report of what it holds; one changed bit
 * anywhere in the snapshot or in a live log record is found (the last record included, which
 * opening would drop silently as a torn write); a recycled log's old bytes are not mistaken for
 * damage, nor a crafted section with valid checksums missed; and the call changes nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "db_util.h"
#include "snapshot_edit.h"
#include "vexfs/vexfs.h"

#define DIM 4

/* A database holding collection "c" (HNSW, with payloads and a payload index). With
 * checkpointed, the first 24 rows are in the snapshot and the log, recycled, holds two more
 * inserts over the old records' bytes; else everything is in the log. */
static char *make_db(int checkpointed) {
  char *dir = db_tempdir();
  assert_non_null(dir);
  vexfs_db *db;
  assert_int_equal(vexfs_db_open(dir, NULL, &db), VEXFS_OK);
  vexfs_collection_config cfg;
  vexfs_collection_config_init(&cfg);
  cfg.dim = DIM;
  cfg.index = VEXFS_INDEX_HNSW;
  vexfs_collection *c;
  assert_int_equal(vexfs_db_create_collection(db, "c", &cfg, &c), VEXFS_OK);
  assert_int_equal(vexfs_create_payload_index(c, "group", VEXFS_PAYLOAD_INDEX_KEYWORD), VEXFS_OK);
  assert_int_equal(db_insert_range(c, 0, 24), VEXFS_OK);
  if (checkpointed) assert_int_equal(vexfs_db_checkpoint(db), VEXFS_OK);
  assert_int_equal(db_insert_range(c, 24, 10), VEXFS_OK);
  assert_int_equal(db_insert_range(c, 34, 10), VEXFS_OK);
  /* closing would checkpoint: keep the files as a crash leaves them, by copying them away */
  char *copy = db_tempdir();
  assert_non_null(copy);
  assert_int_equal(db_copy_into(dir, copy, "wal.log"), 0);
  if (checkpointed) assert_int_equal(db_copy_into(dir, copy, "snapshot.vxs"), 0);
  assert_int_equal(db_copy_into(dir, copy, "LOCK"), 0);
  assert_int_equal(vexfs_db_close(db), VEXFS_OK);
  db_rmdir(dir);
  free(dir);
  return copy;
}

static void test_healthy_database_reports_what_it_holds(void **state) {
  (void)state;
  for (int checkpointed = 0; checkpointed <= 1; checkpointed++) {
    char *dir = make_db(checkpointed);
    char *report = NULL;
    assert_int_equal(vexfs_db_check(dir, &report), VEXFS_OK);
    assert_non_null(report);
    assert_non_null(strstr(report, "\"ok\":true"));
    assert_non_null(strstr(report, "\"collections\":[{\"name\":\"c\",\"vectors\":44}]"));
    if (checkpointed) {
      assert_non_null(strstr(report, "\"sections\":"));
      /* the recycled log holds exactly the two inserts after the checkpoint */
      assert_non_null(strstr(report, "\"records\":2,"));
    } else {
      assert_non_null(strstr(report, "\"snapshot\":null"));
      assert_non_null(strstr(report, "\"records\":5,")); /* create, index, three inserts */
    }
    vexfs_free(report);
    assert_int_equal(vexfs_db_check(dir, NULL), VEXFS_OK);
    db_rmdir(dir);
    free(dir);
  }
}

/* Makes a database (make_db), flips one bit at every offset of its `file` in turn (bit at % 8 of
 * byte at) and expects each to be found and the check to have changed nothing; then, the file
 * restored, the database passes again. */
static void flip_everywhere(int checkpointed, const char *file) {
  char *dir = make_db(checkpointed);
  char path[DB_PATH_MAX];
  db_join(path, dir, file);
  size_t n;
  uint8_t *orig = db_read_file(path, &n);
  assert_non_null(orig);
  uint8_t *work = malloc(n);
  for (size_t at = 0; at < n; at++) {
    int bit = (int)(at % 8);
    memcpy(work, orig, n);
    work[at] ^= (uint8_t)(1u << bit);
    assert_int_equal(db_write_file(path, work, n), 0);
    char *report = NULL;
    vexfs_status st = vexfs_db_check(dir, &report);
    /* bytes 8..11 of either header are its format version: a higher one reads as "newer" */
    int version_field = at >= 8 && at < 12;
    if (st != VEXFS_E_CORRUPT && !(version_field && st == VEXFS_E_UNSUPPORTED))
      fail_msg("%s: bit %d of byte %zu flipped: vexfs_db_check says %s", file, bit, at,
               vexfs_status_name(st));
    if (st == VEXFS_E_CORRUPT) {
      assert_non_null(report);
      assert_non_null(strstr(report, "\"ok\":false"));
      assert_non_null(strstr(vexfs_last_error(), file)); /* the message names the file */
    }
    vexfs_free(report);
    size_t now;
    uint8_t *after = db_read_file(path, &now);
    assert_true(now == n && memcmp(after, work, n) == 0);
    free(after);
  }
  assert_int_equal(db_write_file(path, orig, n), 0);
  free(orig);
  free(work);
  assert_int_equal(vexfs_db_check(dir, NULL), VEXFS_OK);
  db_rmdir(dir);
  free(dir);
}

static void test_a_flipped_bit_in_the_snapshot_is_found_anywhere(void **state) {
  (void)state;
  flip_everywhere(1, "snapshot.vxs");
}

static void test_a_flipped_bit_in_any_log_record_is_found(void **state) {
  (void)state;
  flip_everywhere(0, "wal.log"); /* the whole log of a database never checkpointed */
}

/* After a checkpoint the log is recycled: new records overwrite old ones from the start, and the
 * old records' bytes that follow are no damage, whatever is changed in them. */
static void test_old_bytes_of_a_recycled_log_are_not_damage(void **state) {
  (void)state;
  char *dir = make_db(1);
  char *report = NULL;
  assert_int_equal(vexfs_db_check(dir, &report), VEXFS_OK);
  char path[DB_PATH_MAX];
  db_join(path, dir, "wal.log");
  size_t n;
  uint8_t *orig = db_read_file(path, &n);
  /* where the two live records end: the report does not say, so find it by damage: the first
   * offset whose flip is found is in a live record; the last such is the live end */
  size_t live_end = 0;
  for (size_t at = 32; at < n; at++) {
    orig[at] ^= 1;
    assert_int_equal(db_write_file(path, orig, n), 0);
    vexfs_status st = vexfs_db_check(dir, NULL);
    orig[at] ^= 1;
    if (st != VEXFS_OK) live_end = at + 1;
  }
  assert_int_equal(db_write_file(path, orig, n), 0);
  assert_true(live_end > 32);
  assert_true(live_end < n); /* old bytes follow, and none of their flips was taken for damage */
  free(orig);
  vexfs_free(report);
  db_rmdir(dir);
  free(dir);
}

/* Sections rewritten with valid checksums: only the loader's own checks see the damage, and
 * the check reports it naming the file. */
static void cut_graph(uint32_t kind, uint8_t **p, size_t *n) {
  (void)p;
  if (kind == VX_SEC_GRAPH) *n /= 2;
}

static void test_a_crafted_section_with_valid_checksums_is_found(void **state) {
  (void)state;
  char *dir = make_db(1);
  char path[DB_PATH_MAX];
  db_join(path, dir, "snapshot.vxs");
  rewrite_snapshot(path, cut_graph);
  char *report = NULL;
  assert_int_equal(vexfs_db_check(dir, &report), VEXFS_E_CORRUPT);
  assert_non_null(strstr(vexfs_last_error(), path));
  assert_non_null(strstr(vexfs_last_error(), "HNSW"));
  assert_non_null(strstr(report, "\"ok\":false"));
  vexfs_free(report);
  db_rmdir(dir);
  free(dir);
}

static void test_refusals(void **state) {
  (void)state;
  char *report = (char *)1;
  assert_int_equal(vexfs_db_check(NULL, &report), VEXFS_E_INVALID);
  assert_null(report);
  assert_int_equal(vexfs_db_check("", &report), VEXFS_E_INVALID);
  assert_null(report);
  char *empty = db_tempdir();
  assert_int_equal(vexfs_db_check(empty, &report), VEXFS_E_IO);
  assert_null(report);
  assert_non_null(strstr(vexfs_last_error(), "holds no database"));
  char missing[DB_PATH_MAX];
  db_join(missing, empty, "nothing-here");
  assert_int_equal(vexfs_db_check(missing, NULL), VEXFS_E_IO);
  rmdir(empty);
  free(empty);

  /* a writer holds the database: its files are changing, so the check refuses */
  char *dir = make_db(1);
  vexfs_db *db;
  assert_int_equal(vexfs_db_open(dir, NULL, &db), VEXFS_OK);
  assert_int_equal(vexfs_db_check(dir, &report), VEXFS_E_BUSY);
  assert_null(report);
  assert_int_equal(vexfs_db_close(db), VEXFS_OK);
  /* readers do not stop it */
  vexfs_db_options ro;
  vexfs_db_options_init(&ro);
  ro.read_only = 1;
  assert_int_equal(vexfs_db_open(dir, &ro, &db), VEXFS_OK);
  assert_int_equal(vexfs_db_check(dir, NULL), VEXFS_OK);
  assert_int_equal(vexfs_db_close(db), VEXFS_OK);
  db_rmdir(dir);
  free(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_healthy_database_reports_what_it_holds),
      cmocka_unit_test(test_a_flipped_bit_in_the_snapshot_is_found_anywhere),
      cmocka_unit_test(test_a_flipped_bit_in_any_log_record_is_found),
      cmocka_unit_test(test_old_bytes_of_a_recycled_log_are_not_damage),
      cmocka_unit_test(test_a_crafted_section_with_valid_checksums_is_found),
      cmocka_unit_test(test_refusals),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

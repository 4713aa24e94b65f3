/* Regressions of the adversarial pass over the core: each test failed before its fix. Reserved
 * ids, error messages that quote earlier ones, read-only opens of a crashed database, merges
 * whose log record fails, payloads whose stored form outgrows the limit, zeroed log headers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <sys/wait.h>
#include <unistd.h>
#include <math.h>

#include "db_util.h"
#include "errors_internal.h"
#include "persist/io.h"

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


static vexfs_db *open_dir(const char *dir, vexfs_sync_mode sync) {
  vexfs_db_options o;
  vexfs_db_options_init(&o);
  o.sync = sync;
  vexfs_db *db = NULL;
  assert_int_equal(vexfs_db_open(dir, &o, &db), VEXFS_OK);
  return db;
}

static vexfs_collection *db_collection(vexfs_db *db, const char *name, vexfs_index_kind kind) {
  vexfs_collection_config cfg;
  vexfs_collection_config_init(&cfg);
  cfg.dim = 8;
  cfg.index = kind;
  vexfs_collection *c;
  assert_int_equal(vexfs_db_create_collection(db, name, &cfg, &c), VEXFS_OK);
  return c;
}

/* A merge whose log record cannot be written (a full disk) leaves the payload it merged into
 * alive and unchanged (it used to free it: a use-after-free, then a double free). */
static void test_failed_merge_keeps_the_payload(void **state) {
  (void)state;
  char *dir = db_tempdir();
  vexfs_db *db = open_dir(dir, VEXFS_SYNC_FULL);
  vexfs_collection *c = db_collection(db, "docs", VEXFS_INDEX_FLAT);
  assert_int_equal(db_insert_range(c, 1, 10), VEXFS_OK);
  char *before;
  assert_int_equal(vexfs_get_payload(c, 1, &before), VEXFS_OK);
  size_t big = 12 * 1024;
  char *patch = malloc(big + 16);
  strcpy(patch, "{\"note\":\"");
  memset(patch + 9, 'x', big);
  strcpy(patch + 9 + big, "\"}");
  const int errors[] = {ENOSPC, EIO};
  for (int e = 0; e < 2; e++) {
    vx_io_fail_at(VX_IO_WRITE, 1, errors[e], 0);
    assert_int_equal(vexfs_set_payload(c, 1, patch, VEXFS_PAYLOAD_MERGE), VEXFS_E_IO);
    vx_io_fail_at(0, 0, 0, 0);
    char *after;
    assert_int_equal(vexfs_get_payload(c, 1, &after), VEXFS_OK);
    assert_string_equal(before, after);
    vexfs_free(after);
  }
  assert_int_equal(vexfs_set_payload(c, 1, "{\"k\":2}", VEXFS_PAYLOAD_MERGE), VEXFS_OK);
  assert_int_equal(vexfs_db_close(db), VEXFS_OK);
  db = open_dir(dir, VEXFS_SYNC_FULL);
  assert_int_equal(vexfs_db_get_collection(db, "docs", &c), VEXFS_OK);
  char *reopened;
  assert_int_equal(vexfs_get_payload(c, 1, &reopened), VEXFS_OK);
  assert_string_equal(reopened, "{\"id\":1,\"group\":1,\"tag\":\"t1\",\"k\":2}");
  vexfs_free(reopened);
  vexfs_free(before);
  free(patch);
  assert_int_equal(vexfs_db_close(db), VEXFS_OK);
  db_rmdir(dir);
  free(dir);
}

/* {"s": "<n bytes of c>"} with each byte written `as` (e.g. "\\b" for a backspace). */
static char *string_payload(size_t n, const char *as) {
  size_t w = strlen(as);
  char *p = malloc(n * w + 16);
  strcpy(p, "{\"s\":\"");
  char *at = p + 6;
  for (size_t i = 0; i < n; i++, at += w) memcpy(at, as, w);
  strcpy(at, "\"}");
  return p;
}

/* VEXFS_MAX_PAYLOAD_BYTES bounds the compact form too, which is what checkpoints write: a payload
 * accepted under the limit whose stored form outgrew it made the whole database unopenable. */
static void test_payload_limit_covers_the_stored_form(void **state) {
  (void)state;
  char *dir = db_tempdir();
  vexfs_db *db = open_dir(dir, VEXFS_SYNC_OFF);
  vexfs_collection *c = db_collection(db, "docs", VEXFS_INDEX_FLAT);
  uint64_t id = 1;
  float v[8] = {0};
  /* 12 Mi backspaces: 24 MiB as text, 72 MiB as \u0008 escapes */
  char *escapes = string_payload((size_t)12 << 20, "\\b");
  const char *one[1] = {escapes};
  assert_int_equal(vexfs_insert_with_payload(c, &id, v, one, 1), VEXFS_E_INVALID);
  assert_non_null(strstr(vexfs_last_error(), "as compact JSON"));
  assert_int_equal(vexfs_count(c), 0);
  free(escapes);
  /* numbers written out: 1e14 is 100000000000000.0; 4 Mi of them: 20 MiB of text, 72 MiB stored */
  size_t n = (size_t)4 << 20;
  char *numbers = malloc(n * 5 + 16), *at = numbers;
  at += sprintf(at, "{\"a\":[");
  for (size_t i = 0; i < n; i++) at += sprintf(at, i ? ",1e14" : "1e14");
  strcpy(at, "]}");
  one[0] = numbers;
  assert_int_equal(vexfs_insert_with_payload(c, &id, v, one, 1), VEXFS_E_INVALID);
  free(numbers);
  /* exactly at the limit: accepted, and it survives a checkpoint and a reopen */
  char *full = string_payload(VEXFS_MAX_PAYLOAD_BYTES - 8, "a");
  assert_int_equal(strlen(full), VEXFS_MAX_PAYLOAD_BYTES);
  one[0] = full;
  assert_int_equal(vexfs_insert_with_payload(c, &id, v, one, 1), VEXFS_OK);
  /* a merge whose result would pass the limit fails, and changes nothing */
  assert_int_equal(vexfs_set_payload(c, 1, "{\"t\":0}", VEXFS_PAYLOAD_MERGE), VEXFS_E_INVALID);
  assert_non_null(strstr(vexfs_last_error(), "merged payload"));
  assert_int_equal(vexfs_db_checkpoint(db), VEXFS_OK);
  assert_int_equal(vexfs_db_close(db), VEXFS_OK);
  db = open_dir(dir, VEXFS_SYNC_OFF);
  assert_int_equal(vexfs_db_get_collection(db, "docs", &c), VEXFS_OK);
  char *back;
  assert_int_equal(vexfs_get_payload(c, 1, &back), VEXFS_OK);
  assert_true(strcmp(back, full) == 0);
  vexfs_free(back);
  free(full);
  assert_int_equal(vexfs_db_close(db), VEXFS_OK);
  db_rmdir(dir);
  free(dir);
}

/* Writes n zero bytes at off of dir/file. */
static void zero_bytes(const char *dir, const char *file, long off, size_t n) {
  char path[DB_PATH_MAX];
  db_join(path, dir, file);
  FILE *f = fopen(path, "r+b");
  assert_non_null(f);
  char *zeros = calloc(1, n);
  fseek(f, off, SEEK_SET);
  assert_int_equal(fwrite(zeros, 1, n, f), n);
  fclose(f);
  free(zeros);
}

/* A zeroed log header with records after it is damage, not an empty log: opening used to drop
 * every record since the last checkpoint and start the log afresh. */
static void test_zeroed_log_header_is_corruption(void **state) {
  (void)state;
  const size_t spans[] = {32, 4096};
  for (int checkpointed = 0; checkpointed < 2; checkpointed++)
    for (size_t z = 0; z < 2; z++) {
      char *dir = db_tempdir(), *crash = db_tempdir();
      vexfs_db *db = open_dir(dir, VEXFS_SYNC_FULL);
      vexfs_collection *c = db_collection(db, "docs", VEXFS_INDEX_HNSW);
      if (checkpointed) { /* recycled log: old records past the new ones */
        assert_int_equal(db_insert_range(c, 1000, 200), VEXFS_OK);
        assert_int_equal(vexfs_db_checkpoint(db), VEXFS_OK);
      }
      for (uint64_t b = 0; b < 40; b++) assert_int_equal(db_insert_range(c, b * 10, 10), VEXFS_OK);
      const char *files[] = {"wal.log", "snapshot.vxs", "LOCK"};
      for (int f = 0; f < 3; f++) db_copy_into(dir, crash, files[f]);
      assert_int_equal(vexfs_db_close(db), VEXFS_OK);
      zero_bytes(crash, "wal.log", 0, spans[z]);
      assert_int_equal(vexfs_db_open(crash, NULL, &db), VEXFS_E_CORRUPT);
      assert_non_null(strstr(vexfs_last_error(), "zeroed"));
      vexfs_db_options o;
      vexfs_db_options_init(&o);
      o.read_only = 1;
      assert_int_equal(vexfs_db_open(crash, &o, &db), VEXFS_E_CORRUPT);
      /* nothing was rewritten: the damage is still there to be examined */
      assert_int_equal(vexfs_db_open(crash, NULL, &db), VEXFS_E_CORRUPT);
      db_rmdir(dir);
      db_rmdir(crash);
      free(dir);
      free(crash);
    }
  /* a zeroed header over nothing the snapshot does not cover is an empty log (a crash while the
   * first header was written): the database opens */
  char *dir = db_tempdir();
  vexfs_db *db = open_dir(dir, VEXFS_SYNC_FULL);
  vexfs_collection *c = db_collection(db, "docs", VEXFS_INDEX_FLAT);
  assert_int_equal(db_insert_range(c, 0, 50), VEXFS_OK);
  assert_int_equal(vexfs_db_checkpoint(db), VEXFS_OK); /* the log's old records are covered */
  char path[DB_PATH_MAX];
  db_join(path, dir, "wal.log");
  vexfs_db *other;
  assert_int_equal(vexfs_db_close(db), VEXFS_OK);
  FILE *f = fopen(path, "wb");
  char zeros[32] = {0};
  fwrite(zeros, 1, sizeof zeros, f);
  fclose(f);
  assert_int_equal(vexfs_db_open(dir, NULL, &other), VEXFS_OK);
  assert_int_equal(vexfs_db_get_collection(other, "docs", &c), VEXFS_OK);
  assert_int_equal(vexfs_count(c), 50);
  assert_int_equal(db_insert_range(c, 100, 5), VEXFS_OK); /* and takes records again */
  assert_int_equal(vexfs_db_close(other), VEXFS_OK);
  db_rmdir(dir);
  free(dir);
}

/* The rule for "finite" rows is a squared norm of at most VEXFS_MAX_SQUARED_NORM: every distance
 * between such rows is finite. Rows above it (1e20 in a coordinate: finite, but its square is
 * not) are refused with a message that says so. */
static void test_largest_vectors(void **state) {
  (void)state;
  const vexfs_metric metrics[] = {VEXFS_METRIC_L2, VEXFS_METRIC_IP, VEXFS_METRIC_COSINE};
  for (int m = 0; m < 3; m++) {
    vexfs_collection_config cfg;
    vexfs_collection_config_init(&cfg);
    cfg.dim = 64;
    cfg.metric = metrics[m];
    vexfs_collection *c;
    assert_int_equal(vexfs_collection_create(&cfg, &c), VEXFS_OK);
    float rows[3 * 64];
    for (int i = 0; i < 64; i++) { /* squared norms 6.4e37, 6.4e37 and 3.2e37, opposite signs */
      rows[i] = 1e18f;
      rows[64 + i] = -1e18f;
      rows[128 + i] = i % 2 ? 1e18f : 0.0f;
    }
    uint64_t ids[3] = {1, 2, 3};
    assert_int_equal(vexfs_insert(c, ids, rows, 3), VEXFS_OK);
    uint64_t hit[3];
    float dist[3];
    assert_int_equal(vexfs_search(c, rows, 1, 3, NULL, hit, dist, NULL), VEXFS_OK);
    for (int i = 0; i < 3; i++) assert_true(isfinite(dist[i]));
    float big[64] = {1e20f};
    uint64_t id = 9;
    assert_int_equal(vexfs_insert(c, &id, big, 1), VEXFS_E_INVALID);
    assert_non_null(strstr(vexfs_last_error(), "VEXFS_MAX_SQUARED_NORM"));
    big[0] = 1e19f; /* 1e38: finite, but a distance to its opposite would not be */
    assert_int_equal(vexfs_insert(c, &id, big, 1), VEXFS_E_INVALID);
    assert_int_equal(vexfs_search(c, big, 1, 3, NULL, hit, dist, NULL), VEXFS_E_INVALID);
    assert_non_null(strstr(vexfs_last_error(), "query 0 is too large"));
    assert_int_equal(vexfs_count(c), 3);
    vexfs_collection_free(c);
  }
}

/* Filters longer than VEXFS_MAX_FILTER_BYTES are refused as such; they used to be cut there, so
 * junk past 16 MiB of spaces passed and a long has_id failed with a misleading position. */
static void test_filter_length_limit(void **state) {
  (void)state;
  vexfs_collection *c = make(VEXFS_INDEX_FLAT, 4);
  assert_int_equal(db_insert_range(c, 1, 10), VEXFS_OK);
  size_t n = VEXFS_MAX_FILTER_BYTES + 64;
  char *text = malloc(n + 1);
  memset(text, ' ', n);
  memcpy(text, "{\"must\": []}", 12);
  strcpy(text + VEXFS_MAX_FILTER_BYTES + 8, "junk");
  vexfs_search_params p;
  vexfs_search_params_init(&p);
  p.filter_json = text;
  float q[4] = {0};
  uint64_t ids[2];
  float d[2];
  assert_int_equal(vexfs_search(c, q, 1, 2, &p, ids, d, NULL), VEXFS_E_INVALID);
  assert_non_null(strstr(vexfs_last_error(), "VEXFS_MAX_FILTER_BYTES"));
  text[VEXFS_MAX_FILTER_BYTES] = '\0'; /* at the limit: whitespace after the object is fine */
  assert_int_equal(vexfs_search(c, q, 1, 2, &p, ids, d, NULL), VEXFS_OK);
  free(text);
  vexfs_collection_free(c);
}

static int threads_of_this_process(void) {
  DIR *d = opendir("/proc/self/task");
  int n = 0;
  for (struct dirent *e; d && (e = readdir(d));) n += e->d_name[0] != '.';
  if (d) closedir(d);
  return n;
}

/* A child of fork() has none of the parent's worker threads: it starts its own for its batch
 * work (it used to believe the parent's were there, and ran every batch on one thread). */
static void test_fork_child_starts_its_own_workers(void **state) {
  (void)state;
  vexfs_collection_config cfg;
  vexfs_collection_config_init(&cfg);
  cfg.dim = 16;
  cfg.index = VEXFS_INDEX_FLAT;
  cfg.threads = 3;
  vexfs_collection *c;
  assert_int_equal(vexfs_collection_create(&cfg, &c), VEXFS_OK);
  assert_int_equal(db_insert_range(c, 0, 3000), VEXFS_OK);
  float *q = test_random_vectors(64, 16, 3);
  uint64_t ids[64 * 5], child_ids[64 * 5];
  float d[64 * 5];
  vexfs_search_params p; /* filtered: one query per task, so each task can go to a worker */
  vexfs_search_params_init(&p);
  p.filter_json = "{\"must_not\": [{\"has_id\": [0]}]}";
  assert_int_equal(vexfs_search(c, q, 64, 5, &p, ids, d, NULL), VEXFS_OK); /* workers start */
  assert_true(threads_of_this_process() >= 3);
  pid_t pid = fork();
  if (pid == 0) {
    alarm(60);
    int alone = threads_of_this_process() == 1;
    int ok = vexfs_search(c, q, 64, 5, &p, child_ids, d, NULL) == VEXFS_OK &&
             memcmp(ids, child_ids, sizeof ids) == 0;
    _exit(!alone ? 2 : !ok ? 3 : threads_of_this_process() >= 3 ? 0 : 4);
  }
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  free(q);
  vexfs_collection_free(c);
}

/* A call whose record cannot be synced fails with VEXFS_E_IO, and then its record must not come
 * back when the process dies, even when the log file cannot be cut either (it used to stay and be
 * replayed at the next open): the record is overwritten with zeros instead. */
static void test_failed_record_stays_failed(void **state) {
  (void)state;
  const unsigned kinds[] = {VX_IO_SYNC | VX_IO_TRUNCATE, VX_IO_WRITE | VX_IO_TRUNCATE};
  for (int k = 0; k < 2; k++) {
    char *dir = db_tempdir(), *crash = db_tempdir();
    vexfs_db *db = open_dir(dir, VEXFS_SYNC_FULL);
    vexfs_collection *c = db_collection(db, "docs", VEXFS_INDEX_FLAT);
    assert_int_equal(db_insert_range(c, 1, 10), VEXFS_OK);
    db_model model = {0};
    db_model_insert(&model, 1, 10);
    vx_io_fail_at(kinds[k], 1, EIO, 1); /* the record's sync (or write) fails, and so do cuts */
    assert_int_equal(db_insert_range(c, 100, 10), VEXFS_E_IO);
    vx_io_fail_at(0, 0, 0, 0);
    assert_int_equal(vexfs_count(c), 10);
    /* the process dies now: the files as they are, without a closing checkpoint */
    const char *files[] = {"wal.log", "LOCK"};
    for (int f = 0; f < 2; f++) assert_int_equal(db_copy_into(dir, crash, files[f]), 0);
    vexfs_db *after = open_dir(crash, VEXFS_SYNC_FULL);
    assert_int_equal(vexfs_db_get_collection(after, "docs", &c), VEXFS_OK);
    assert_true(db_matches(c, &model));
    assert_int_equal(vexfs_db_close(after), VEXFS_OK);
    vexfs_db_close(db);
    db_model_clear(&model);
    db_rmdir(dir);
    db_rmdir(crash);
    free(dir);
    free(crash);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_reserved_id_is_never_found),
      cmocka_unit_test(test_error_message_may_quote_itself),
      cmocka_unit_test(test_read_only_open_replays_the_log),
      cmocka_unit_test(test_failed_merge_keeps_the_payload),
      cmocka_unit_test(test_payload_limit_covers_the_stored_form),
      cmocka_unit_test(test_zeroed_log_header_is_corruption),
      cmocka_unit_test(test_largest_vectors),
      cmocka_unit_test(test_filter_length_limit),
      cmocka_unit_test(test_fork_child_starts_its_own_workers),
      cmocka_unit_test(test_failed_record_stays_failed),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

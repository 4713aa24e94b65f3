/* Databases: round trips through snapshots and the log for every index kind, metric, payload
 * shape and config field; the directory lock; names; read-only handles; damaged files (each
 * snapshot section, truncations, garbage, torn and damaged logs, newer versions); and I/O faults
 * injected at every operation of a workload (persist/io.h), as SQLite's fault tests do. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "db_util.h"
#include "persist/io.h"
#include "persist/section.h"

#define DIM 8

static vexfs_collection_config config(vexfs_index_kind kind, vexfs_metric metric) {
  vexfs_collection_config cfg;
  vexfs_collection_config_init(&cfg);
  cfg.dim = DIM;
  cfg.index = kind;
  cfg.metric = metric;
  cfg.hnsw_m = 6;
  cfg.hnsw_ef_construction = 40;
  cfg.hnsw_ef_search = 24;
  cfg.threads = 1;
  cfg.hnsw_seed = 77;
  return cfg;
}

static vexfs_db *open_db(const char *path, vexfs_sync_mode sync, int read_only) {
  vexfs_db_options o;
  vexfs_db_options_init(&o);
  o.sync = sync;
  o.read_only = (uint32_t)read_only;
  vexfs_db *db = NULL;
  vexfs_status st = vexfs_db_open(path, &o, &db);
  if (st != VEXFS_OK) fprintf(stderr, "open %s: %s\n", path ? path : "(memory)", vexfs_last_error());
  return db;
}

/* Search results of a few fixed queries, to compare a collection before and after reopening. */
static void results(vexfs_collection *c, uint64_t *ids, float *dist) {
  float q[4 * DIM];
  for (int i = 0; i < 4; i++) db_vector(10000 + (uint64_t)i, DIM, q + i * DIM);
  assert_int_equal(vexfs_search(c, q, 4, 10, NULL, ids, dist, NULL), VEXFS_OK);
}

static void test_in_memory(void **state) {
  (void)state;
  vexfs_db *db = open_db(NULL, VEXFS_SYNC_FULL, 0);
  assert_non_null(db);
  vexfs_collection_config cfg = config(VEXFS_INDEX_FLAT, VEXFS_METRIC_L2);
  vexfs_collection *c;
  assert_int_equal(vexfs_db_create_collection(db, "docs", &cfg, &c), VEXFS_OK);
  assert_int_equal(db_insert_range(c, 0, 50), VEXFS_OK);
  assert_int_equal(vexfs_db_checkpoint(db), VEXFS_OK); /* nothing to write: a no-op */
  vexfs_collection *again;
  assert_int_equal(vexfs_db_get_collection(db, "docs", &again), VEXFS_OK);
  assert_ptr_equal(again, c);
  vexfs_collection_free(c); /* ignored: the database owns it */
  assert_int_equal(vexfs_count(c), 50);
  assert_int_equal(vexfs_db_drop_collection(db, "docs"), VEXFS_OK);
  assert_int_equal(vexfs_db_get_collection(db, "docs", &again), VEXFS_E_NOT_FOUND);
  assert_int_equal(vexfs_db_close(db), VEXFS_OK);
}

/* Fills a collection: inserts, a removal, payload replace/merge/drop, payload indexes. */
static void fill(vexfs_collection *c, db_model *m, size_t n) {
  assert_int_equal(db_insert_range(c, 0, n), VEXFS_OK);
  db_model_insert(m, 0, n);
  uint64_t gone[3] = {1, 5, n / 2};
  assert_int_equal(vexfs_remove(c, gone, 3), VEXFS_OK);
  for (int i = 0; i < 3; i++) db_model_remove(m, gone[i]);
  assert_int_equal(db_insert_range(c, n, 2), VEXFS_OK); /* reuses freed rows */
  db_model_insert(m, n, 2);
  assert_int_equal(vexfs_set_payload(c, 2, "{\"group\":99,\"x\":[1,2.5,\"s\",null]}",
                                     VEXFS_PAYLOAD_REPLACE), VEXFS_OK);
  free(m->payload[2]);
  m->payload[2] = strdup("{\"group\":99,\"x\":[1,2.5,\"s\",null]}");
  assert_int_equal(vexfs_set_payload(c, 4, "{\"big\":18446744073709551615}", VEXFS_PAYLOAD_MERGE),
                   VEXFS_OK);
  free(m->payload[4]);
  m->payload[4] = strdup("{\"id\":4,\"group\":4,\"tag\":\"t4\",\"big\":18446744073709551615}");
  assert_int_equal(vexfs_set_payload(c, 7, NULL, VEXFS_PAYLOAD_REPLACE), VEXFS_OK);
  free(m->payload[7]);
  m->payload[7] = NULL;
  /* an upsert: id 8 replaced (its vector with its own, so the model's vectors hold), one new */
  uint64_t up[2] = {8, n + 10};
  float uv[2 * DIM];
  db_vector(up[0], DIM, uv);
  db_vector(up[1], DIM, uv + DIM);
  const char *uj[2] = {"{\"group\":3,\"tag\":\"up\"}", NULL};
  assert_int_equal(vexfs_upsert(c, up, uv, uj, 2), VEXFS_OK);
  free(m->payload[8]);
  m->payload[8] = strdup(uj[0]);
  m->present[n + 10] = 1;
  free(m->payload[n + 10]);
  m->payload[n + 10] = NULL;
  assert_int_equal(vexfs_create_payload_index(c, "group", VEXFS_PAYLOAD_INDEX_NUMERIC), VEXFS_OK);
  assert_int_equal(vexfs_create_payload_index(c, "tag", VEXFS_PAYLOAD_INDEX_KEYWORD), VEXFS_OK);
  assert_int_equal(vexfs_create_payload_index(c, "id", VEXFS_PAYLOAD_INDEX_KEYWORD), VEXFS_OK);
  assert_int_equal(vexfs_drop_payload_index(c, "id", VEXFS_PAYLOAD_INDEX_KEYWORD), VEXFS_OK);
}

static void check_reopened(const char *path, const db_model *m, const uint64_t *ids,
                           const float *dist, const vexfs_collection_config *cfg) {
  vexfs_db *db = open_db(path, VEXFS_SYNC_FULL, 0);
  assert_non_null(db);
  vexfs_collection *c;
  assert_int_equal(vexfs_db_get_collection(db, "c", &c), VEXFS_OK);
  assert_true(db_matches(c, m));
  assert_int_equal(vexfs_dim(c), cfg->dim);
  uint64_t ids2[40];
  float dist2[40];
  results(c, ids2, dist2);
  assert_memory_equal(ids, ids2, sizeof ids2); /* the same graph answers the same */
  assert_memory_equal(dist, dist2, sizeof dist2);
  /* payload indexes came back: creating one again says it exists, the dropped one is gone */
  assert_int_equal(vexfs_create_payload_index(c, "group", VEXFS_PAYLOAD_INDEX_NUMERIC),
                   VEXFS_E_EXISTS);
  assert_int_equal(vexfs_drop_payload_index(c, "id", VEXFS_PAYLOAD_INDEX_KEYWORD),
                   VEXFS_E_NOT_FOUND);
  vexfs_search_params p;
  vexfs_search_params_init(&p);
  p.filter_json = "{\"must\":[{\"key\":\"group\",\"range\":{\"gte\":3,\"lte\":3}}]}";
  size_t count;
  float q[DIM];
  db_vector(5000, DIM, q);
  assert_int_equal(vexfs_search(c, q, 1, 40, &p, ids2, dist2, &count), VEXFS_OK);
  size_t want = 0;
  for (uint64_t id = 0; id < DB_MODEL_IDS; id++)
    want += m->present[id] && m->payload[id] && strstr(m->payload[id], "\"group\":3,");
  assert_int_equal(count, want < 40 ? want : 40);
  assert_int_equal(vexfs_db_close(db), VEXFS_OK);
}

static void round_trip(vexfs_index_kind kind, vexfs_metric metric, size_t n) {
  char *path = db_tempdir(), copy[DB_PATH_MAX];
  assert_non_null(path);
  db_join(copy, path, "log-copy"); /* (inside path: db_rmdir(path) skips a directory) */
  vexfs_db *db = open_db(path, VEXFS_SYNC_NORMAL, 0);
  assert_non_null(db);
  vexfs_collection_config cfg = config(kind, metric);
  vexfs_collection *c;
  assert_int_equal(vexfs_db_create_collection(db, "c", &cfg, &c), VEXFS_OK);
  db_model m = {0};
  fill(c, &m, n);
  uint64_t ids[40];
  float dist[40];
  results(c, ids, dist);
  /* a copy of the files as they are now: no snapshot yet, everything in the log */
  mkdir(copy, 0755);
  assert_int_equal(db_copy_into(path, copy, "wal.log"), 0);
  assert_int_equal(vexfs_db_close(db), VEXFS_OK); /* checkpoints */
  check_reopened(path, &m, ids, dist, &cfg);      /* from the snapshot */
  check_reopened(copy, &m, ids, dist, &cfg);      /* by replaying the log */
  db_model_clear(&m);
  db_rmdir(copy);
  db_rmdir(path);
  free(path);
}

static void test_round_trips(void **state) {
  (void)state;
  vexfs_metric metrics[3] = {VEXFS_METRIC_L2, VEXFS_METRIC_IP, VEXFS_METRIC_COSINE};
  for (int i = 0; i < 3; i++) {
    round_trip(VEXFS_INDEX_FLAT, metrics[i], 300);
    round_trip(VEXFS_INDEX_HNSW, metrics[i], 300);
  }
  round_trip(VEXFS_INDEX_AUTO, VEXFS_METRIC_L2, 300);  /* still exact */
  round_trip(VEXFS_INDEX_HNSW, VEXFS_METRIC_L2, 3000);
  round_trip(VEXFS_INDEX_IVF, VEXFS_METRIC_IP, 3000); /* fill's upsert meets grown lists */
  round_trip(VEXFS_INDEX_LSH, VEXFS_METRIC_L2, 3000);
}

/* AUTO past its crossover: the index it built (IVF) is saved and loaded, not rebuilt. */
static void test_auto_built_index_round_trip(void **state) {
  (void)state;
  round_trip(VEXFS_INDEX_AUTO, VEXFS_METRIC_COSINE, 5200);
}

/* Every config field survives. */
static void test_config_round_trip(void **state) {
  (void)state;
  char *path = db_tempdir();
  vexfs_db *db = open_db(path, VEXFS_SYNC_OFF, 0);
  vexfs_collection_config cfg = config(VEXFS_INDEX_HNSW, VEXFS_METRIC_IP);
  cfg.dim = 3;
  cfg.hnsw_m = 9;
  cfg.hnsw_ef_construction = 33;
  cfg.hnsw_ef_search = 1; /* a search with ef 0 uses it, raised to k */
  cfg.threads = 2;
  cfg.hnsw_seed = 123456789012345ull;
  assert_int_equal(vexfs_db_create_collection(db, "cfg", &cfg, NULL), VEXFS_OK);
  assert_int_equal(vexfs_db_close(db), VEXFS_OK);
  db = open_db(path, VEXFS_SYNC_OFF, 0);
  vexfs_collection *c;
  assert_int_equal(vexfs_db_get_collection(db, "cfg", &c), VEXFS_OK);
  /* (reaches into the snapshot's config through the collection's behaviour and the header) */
  assert_int_equal(vexfs_dim(c), 3);
  vexfs_db_close(db);
  /* the snapshot's COLLECTION section holds the exact fields */
  char snap[DB_PATH_MAX];
  db_join(snap, path, "snapshot.vxs");
  FILE *f = fopen(snap, "rb");
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  uint8_t *bytes = malloc((size_t)size);
  fseek(f, 0, SEEK_SET);
  assert_int_equal(fread(bytes, 1, (size_t)size, f), (size_t)size);
  fclose(f);
  vx_snap *s;
  assert_int_equal(vx_snap_open_bytes(bytes, (size_t)size, &s), VEXFS_OK);
  vx_sec_reader *r;
  assert_int_equal(vx_secr_open(s, 0, &r), VEXFS_OK);
  uint32_t head[2], fields[8];
  uint64_t seed;
  char name[3];
  assert_int_equal(vx_secr_read(r, head, sizeof head), 0);
  assert_int_equal(vx_secr_read(r, name, 3), 0);
  assert_int_equal(vx_secr_read(r, fields, sizeof fields), 0);
  assert_int_equal(vx_secr_read(r, &seed, sizeof seed), 0);
  uint32_t want[7] = {3, VEXFS_METRIC_IP, VEXFS_INDEX_HNSW, 9, 33, 1, 2};
  assert_memory_equal(fields, want, sizeof want);
  assert_true(seed == 123456789012345ull);
  vx_secr_close(r);
  vx_snap_close(s);
  free(bytes);
  db_rmdir(path);
  free(path);
}

static void test_lock_and_read_only(void **state) {
  (void)state;
  char *path = db_tempdir();
  vexfs_db *ro = NULL;
  vexfs_db_options o;
  vexfs_db_options_init(&o);
  o.read_only = 1;
  char missing[DB_PATH_MAX];
  db_join(missing, path, "none");
  assert_int_equal(vexfs_db_open(missing, &o, &ro), VEXFS_E_IO); /* nothing to read */
  vexfs_db *db = open_db(path, VEXFS_SYNC_FULL, 0), *other = NULL;
  vexfs_collection_config cfg = config(VEXFS_INDEX_HNSW, VEXFS_METRIC_L2);
  vexfs_collection *c;
  assert_int_equal(vexfs_db_create_collection(db, "c", &cfg, &c), VEXFS_OK);
  assert_int_equal(db_insert_range(c, 0, 100), VEXFS_OK);
  assert_int_equal(vexfs_db_open(path, NULL, &other), VEXFS_E_BUSY);
  assert_null(other);
  assert_non_null(strstr(vexfs_last_error(), "open for writing"));
  assert_int_equal(vexfs_db_open(path, &o, &other), VEXFS_E_BUSY);
  pid_t child = fork(); /* another process */
  if (child == 0) {
    vexfs_db *x = NULL;
    _exit(vexfs_db_open(path, NULL, &x) == VEXFS_E_BUSY ? 0 : 1);
  }
  int status;
  waitpid(child, &status, 0);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  assert_int_equal(vexfs_db_close(db), VEXFS_OK);

  /* read-only handles share the database and refuse every change */
  vexfs_db *r1 = NULL, *r2 = NULL;
  assert_int_equal(vexfs_db_open(path, &o, &r1), VEXFS_OK);
  assert_int_equal(vexfs_db_open(path, &o, &r2), VEXFS_OK);
  assert_int_equal(vexfs_db_open(path, NULL, &other), VEXFS_E_BUSY);
  assert_int_equal(vexfs_db_get_collection(r1, "c", &c), VEXFS_OK);
  assert_int_equal(vexfs_count(c), 100);
  uint64_t id = 500;
  float v[DIM] = {0};
  assert_int_equal(vexfs_insert(c, &id, v, 1), VEXFS_E_READONLY);
  id = 1;
  assert_int_equal(vexfs_remove(c, &id, 1), VEXFS_E_READONLY);
  assert_int_equal(vexfs_set_payload(c, 1, "{}", VEXFS_PAYLOAD_REPLACE), VEXFS_E_READONLY);
  assert_int_equal(vexfs_create_payload_index(c, "x", VEXFS_PAYLOAD_INDEX_KEYWORD),
                   VEXFS_E_READONLY);
  assert_int_equal(vexfs_db_create_collection(r1, "d", &cfg, NULL), VEXFS_E_READONLY);
  assert_int_equal(vexfs_db_drop_collection(r1, "c"), VEXFS_E_READONLY);
  uint64_t ids[10];
  float dist[10];
  assert_int_equal(vexfs_search(c, v, 1, 10, NULL, ids, dist, NULL), VEXFS_OK);
  assert_int_equal(vexfs_db_close(r1), VEXFS_OK);
  assert_int_equal(vexfs_db_close(r2), VEXFS_OK);
  db = open_db(path, VEXFS_SYNC_FULL, 0);
  assert_non_null(db);
  assert_int_equal(vexfs_db_close(db), VEXFS_OK);
  db_rmdir(path);
  free(path);
}

static void test_names(void **state) {
  (void)state;
  vexfs_db *db = open_db(NULL, VEXFS_SYNC_FULL, 0);
  vexfs_collection_config cfg = config(VEXFS_INDEX_FLAT, VEXFS_METRIC_L2);
  char longest[VEXFS_MAX_NAME + 2];
  memset(longest, 'a', sizeof longest);
  longest[VEXFS_MAX_NAME + 1] = '\0';
  const char *bad[] = {"", "a/b", "..", ".hidden", "a b", "a\\b", "tab\t", "ü", longest};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    assert_int_equal(vexfs_db_create_collection(db, bad[i], &cfg, NULL), VEXFS_E_INVALID);
    assert_non_null(strstr(vexfs_last_error(), "is not allowed"));
  }
  longest[VEXFS_MAX_NAME] = '\0';
  const char *good[] = {"zeta", "Alpha_1", "m-2.v3", longest};
  for (size_t i = 0; i < 4; i++)
    assert_int_equal(vexfs_db_create_collection(db, good[i], &cfg, NULL), VEXFS_OK);
  assert_int_equal(vexfs_db_create_collection(db, "zeta", &cfg, NULL), VEXFS_E_EXISTS);
  assert_int_equal(vexfs_db_create_collection(db, "x", NULL, NULL), VEXFS_E_INVALID);
  char **names;
  size_t n;
  assert_int_equal(vexfs_db_list_collections(db, &names, &n), VEXFS_OK);
  assert_int_equal(n, 4);
  assert_string_equal(names[0], "Alpha_1");
  assert_string_equal(names[1], longest);
  assert_string_equal(names[2], "m-2.v3");
  assert_string_equal(names[3], "zeta");
  vexfs_free(names);
  assert_int_equal(vexfs_db_drop_collection(db, "nope"), VEXFS_E_NOT_FOUND);
  assert_int_equal(vexfs_db_list_collections(NULL, &names, &n), VEXFS_E_INVALID);
  vexfs_db_options o;
  vexfs_db_options_init(&o);
  o.sync = (vexfs_sync_mode)7;
  vexfs_db *x;
  assert_int_equal(vexfs_db_open(NULL, &o, &x), VEXFS_E_INVALID);
  o.struct_size = 4;
  assert_int_equal(vexfs_db_open(NULL, &o, &x), VEXFS_E_INVALID);
  assert_int_equal(vexfs_db_open("", NULL, &x), VEXFS_E_INVALID);
  assert_int_equal(vexfs_db_close(db), VEXFS_OK);
}

/* ---- damaged files ---- */

static vexfs_status try_open(const char *path) {
  vexfs_db *db = NULL;
  vexfs_status st = vexfs_db_open(path, NULL, &db);
  if (st == VEXFS_OK) vexfs_db_close(db);
  return st;
}

/* A database with a snapshot of two collections (HNSW and flat) and some records after it. */
static char *damaged_fixture(db_model *m) {
  char *path = db_tempdir();
  vexfs_db *db = open_db(path, VEXFS_SYNC_NORMAL, 0);
  vexfs_collection_config h = config(VEXFS_INDEX_HNSW, VEXFS_METRIC_L2);
  vexfs_collection_config f = config(VEXFS_INDEX_FLAT, VEXFS_METRIC_COSINE);
  vexfs_collection *c, *d;
  assert_int_equal(vexfs_db_create_collection(db, "c", &h, &c), VEXFS_OK);
  assert_int_equal(vexfs_db_create_collection(db, "d", &f, &d), VEXFS_OK);
  fill(c, m, 200);
  assert_int_equal(db_insert_range(d, 0, 50), VEXFS_OK);
  /* close and reopen: the closing checkpoint leaves a log of just its header (a checkpoint of an
   * open database would keep the file's old records behind the new ones: test_recycled_log) */
  assert_int_equal(vexfs_db_close(db), VEXFS_OK);
  db = open_db(path, VEXFS_SYNC_NORMAL, 0);
  assert_int_equal(vexfs_db_get_collection(db, "c", &c), VEXFS_OK);
  for (uint64_t b = 0; b < 4; b++) { /* four records in the log */
    assert_int_equal(db_insert_range(c, 1000 + 10 * b, 10), VEXFS_OK);
    db_model_insert(m, 1000 + 10 * b, 10);
  }
  /* abandon the handle without its closing checkpoint: copy the files elsewhere */
  char *copy = db_tempdir();
  assert_int_equal(db_copy_into(path, copy, "snapshot.vxs"), 0);
  assert_int_equal(db_copy_into(path, copy, "wal.log"), 0);
  vexfs_db_close(db);
  db_rmdir(path);
  free(path);
  return copy;
}

static void test_damaged_snapshot(void **state) {
  (void)state;
  db_model m = {0};
  char *path = damaged_fixture(&m), file[DB_PATH_MAX];
  db_join(file, path, "snapshot.vxs");
  size_t n;
  assert_int_equal(try_open(path), VEXFS_OK); /* its closing checkpoint takes in the log */
  uint8_t *good = db_read_file(file, &n), *bad = malloc(n);
  /* a flipped byte in every section, and in the header and table */
  vx_snap *s;
  assert_int_equal(vx_snap_open_bytes(good, n, &s), VEXFS_OK);
  size_t sections = vx_snap_count(s);
  assert_true(sections >= 11); /* 5 or 6 per collection */
  size_t spots[64], nspots = 0;
  for (size_t i = 0; i < sections; i++) {
    const vx_snap_section *sec = vx_snap_at(s, i);
    spots[nspots++] = (size_t)(sec->offset + sec->stored / 2);
  }
  vx_snap_close(s);
  spots[nspots++] = 20;    /* header */
  spots[nspots++] = n - 3; /* table checksum */
  for (size_t i = 0; i < nspots; i++) {
    memcpy(bad, good, n);
    bad[spots[i]] ^= 0x10;
    assert_int_equal(db_write_file(file, bad, n), 0);
    assert_int_equal(try_open(path), VEXFS_E_CORRUPT);
    assert_non_null(strstr(vexfs_last_error(), "damaged"));
  }
  /* truncations */
  size_t cuts[] = {0, 1, 7, 63, 64, 65, n / 3, n / 2, n - 9, n - 1};
  for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
    assert_int_equal(db_write_file(file, good, cuts[i]), 0);
    vexfs_status st = try_open(path);
    assert_int_equal(st, VEXFS_E_CORRUPT);
  }
  /* garbage */
  uint64_t seed = 5;
  for (size_t i = 0; i < n; i++) bad[i] = (uint8_t)test_rng(&seed);
  assert_int_equal(db_write_file(file, bad, n), 0);
  assert_int_equal(try_open(path), VEXFS_E_CORRUPT);
  /* a newer format version */
  memcpy(bad, good, n);
  bad[8] = VX_SNAP_VERSION + 1;
  assert_int_equal(db_write_file(file, bad, n), 0);
  assert_int_equal(try_open(path), VEXFS_E_UNSUPPORTED);
  assert_non_null(strstr(vexfs_last_error(), "version 4"));
  /* intact again: everything is there */
  assert_int_equal(db_write_file(file, good, n), 0);
  vexfs_db *db = open_db(path, VEXFS_SYNC_FULL, 0);
  vexfs_collection *c;
  assert_int_equal(vexfs_db_get_collection(db, "c", &c), VEXFS_OK);
  assert_true(db_matches(c, &m));
  vexfs_db_close(db);
  free(good);
  free(bad);
  db_model_clear(&m);
  db_rmdir(path);
  free(path);
}

/* With `log` (n bytes) as its log, the database in dir holds `before` (its last record, ten rows
 * from first_id, is torn); a new record of those rows follows the good ones and survives
 * reopening, which then holds `after`. */
static void expect_torn_tail(const char *dir, const char *file, const uint8_t *log, size_t n,
                             const db_model *before, const db_model *after, uint64_t first_id) {
  assert_int_equal(db_write_file(file, log, n), 0);
  vexfs_db *db = open_db(dir, VEXFS_SYNC_FULL, 0);
  assert_non_null(db);
  vexfs_collection *c;
  assert_int_equal(vexfs_db_get_collection(db, "c", &c), VEXFS_OK);
  assert_true(db_matches(c, before));
  assert_int_equal(db_insert_range(c, first_id, 10), VEXFS_OK);
  vexfs_db_close(db);
  db = open_db(dir, VEXFS_SYNC_FULL, 0);
  assert_int_equal(vexfs_db_get_collection(db, "c", &c), VEXFS_OK);
  assert_true(db_matches(c, after));
  vexfs_db_close(db);
}

static void test_damaged_log(void **state) {
  (void)state;
  db_model m = {0};
  char *path = damaged_fixture(&m), file[DB_PATH_MAX], snap_file[DB_PATH_MAX];
  db_join(file, path, "wal.log");
  db_join(snap_file, path, "snapshot.vxs");
  size_t n, snap_n;
  uint8_t *good = db_read_file(file, &n), *bad = malloc(n);
  uint8_t *snap = db_read_file(snap_file, &snap_n);
  /* the four records' offsets: equal sizes after the 32-byte header */
  size_t rec = (n - 32) / 4;
  assert_int_equal((n - 32) % 4, 0);
  db_model without_last = {0};
  db_model_copy(&without_last, &m);
  for (uint64_t id = 1030; id < 1040; id++) db_model_remove(&without_last, id);
  /* a torn tail: every cut inside the last record drops just that record */
  size_t cuts[] = {32 + 3 * rec + 1, 32 + 3 * rec + 31, 32 + 3 * rec + 40, n - 1};
  for (size_t i = 0; i < 4; i++) {
    /* each close in there checkpoints */
    assert_int_equal(db_write_file(snap_file, snap, snap_n), 0);
    expect_torn_tail(path, file, good, cuts[i], &without_last, &m, 1030);
  }
  db_model_clear(&without_last);
  db_model_clear(&m);
  free(good);
  free(bad);
  free(snap);
  db_rmdir(path);
  free(path);
}

/* A bad record with valid ones after it is damage, never a silent loss. */
static void test_log_damaged_in_the_middle(void **state) {
  (void)state;
  db_model m = {0};
  char *path = damaged_fixture(&m), file[DB_PATH_MAX];
  db_join(file, path, "wal.log");
  size_t n;
  uint8_t *good = db_read_file(file, &n), *bad = malloc(n);
  size_t rec = (n - 32) / 4;
  size_t spots[] = {32 + 5, 32 + 8, 32 + 40, 32 + rec + 100, 32 + 2 * rec + 16};
  for (size_t i = 0; i < sizeof spots / sizeof *spots; i++) {
    memcpy(bad, good, n);
    bad[spots[i]] ^= 0x01;
    assert_int_equal(db_write_file(file, bad, n), 0);
    assert_int_equal(try_open(path), VEXFS_E_CORRUPT);
    assert_non_null(strstr(vexfs_last_error(), "valid records follow"));
  }
  memcpy(bad, good, n); /* a damaged log header */
  bad[17] ^= 1;
  assert_int_equal(db_write_file(file, bad, n), 0);
  assert_int_equal(try_open(path), VEXFS_E_CORRUPT);
  memcpy(bad, good, n); /* a newer log format */
  bad[8] = 9;
  assert_int_equal(db_write_file(file, bad, n), 0);
  assert_int_equal(try_open(path), VEXFS_E_UNSUPPORTED);
  assert_int_equal(db_write_file(file, good, n), 0);
  assert_int_equal(try_open(path), VEXFS_OK);
  db_model_clear(&m);
  free(good);
  free(bad);
  db_rmdir(path);
  free(path);
}

/* ---- I/O faults ---- */

typedef enum { OP_INSERT, OP_REMOVE, OP_SET, OP_CHECKPOINT } op_kind;

/* One step of the workload; applies it to the model when acknowledged. Returns the status. */
static vexfs_status step(vexfs_db *db, vexfs_collection *c, int i, db_model *m, db_model *maybe) {
  op_kind kind = i % 7 == 3 ? OP_REMOVE : i % 7 == 5 ? OP_SET : i == 9 ? OP_CHECKPOINT : OP_INSERT;
  vexfs_status st;
  db_model_clear(maybe);
  db_model_copy(maybe, m);
  uint64_t id = (uint64_t)i * 10;
  switch (kind) {
  case OP_INSERT:
    st = db_insert_range(c, id, 10);
    db_model_insert(maybe, id, 10);
    break;
  case OP_REMOVE:
    id = (uint64_t)(i - 1) * 10 + 1;
    st = vexfs_remove(c, &id, 1);
    db_model_remove(maybe, id);
    break;
  case OP_SET:
    id = (uint64_t)(i - 1) * 10 + 2;
    st = vexfs_set_payload(c, id, "{\"set\":true}", VEXFS_PAYLOAD_REPLACE);
    free(maybe->payload[id]);
    maybe->payload[id] = strdup("{\"set\":true}");
    break;
  default:
    st = vexfs_db_checkpoint(db);
  }
  if (kind == OP_REMOVE || kind == OP_SET) /* its insert failed earlier */
    if (!m->present[id] && st == VEXFS_E_NOT_FOUND) return VEXFS_OK;
  assert_true(st == VEXFS_OK || st == VEXFS_E_IO);
  if (st == VEXFS_E_IO) /* the failing call says what failed, even when a pool thread logged */
    assert_non_null(strstr(vexfs_last_error(), "vexfs_"));
  if (st == VEXFS_OK) {
    db_model_clear(m);
    db_model_copy(m, maybe);
  }
  return st;
}

/* Runs the workload with the fault set; returns whether the fault fired. `sticky`: after the
 * first failure, cut the power (drop unsynced data) and stop. `flat`: a FLAT collection on two
 * threads, whose inserts write the log record and copy the rows side by side: under SYNC_FULL
 * the caller writes the record, under SYNC_NORMAL (used for transient faults, where no power is
 * cut) usually a pool thread. */
static int faulty_run(const char *path, uint64_t at, int err, int sticky, int flat) {
  db_model m = {0}, maybe = {0};
  vx_io_fail_at(VX_IO_ALL, at, err, sticky);
  vexfs_db *db = NULL;
  vexfs_db_options o;
  vexfs_db_options_init(&o);
  if (flat && !sticky) o.sync = VEXFS_SYNC_NORMAL;
  vexfs_status st = vexfs_db_open(path, &o, &db);
  if (st != VEXFS_OK && st != VEXFS_E_IO) fprintf(stderr, "fault %llu: %s\n", (unsigned long long)at, vexfs_last_error());
  assert_true(st == VEXFS_OK || st == VEXFS_E_IO);
  vexfs_collection *c = NULL;
  int failed_step = 0;
  if (st == VEXFS_OK) {
    vexfs_collection_config cfg = config(flat ? VEXFS_INDEX_FLAT : VEXFS_INDEX_HNSW, VEXFS_METRIC_L2);
    cfg.threads = flat ? 2 : 1;
    st = vexfs_db_create_collection(db, "c", &cfg, &c);
    assert_true(st == VEXFS_OK || st == VEXFS_E_IO);
    if (st != VEXFS_OK) failed_step = 1;
    for (int i = 0; c && i < 16 && !(sticky && failed_step); i++)
      if (step(db, c, i, &m, &maybe) != VEXFS_OK) failed_step = 1;
    if (sticky) vx_io_crash(); /* the power goes; close can then only fail */
    st = vexfs_db_close(db);
    assert_true(st == VEXFS_OK || st == VEXFS_E_IO);
  }
  int fired = vx_io_fault_fired();
  vx_io_fail_at(0, 0, 0, 0);
  /* reopen: every acknowledged change is there; a failed call is wholly there or wholly not
   * (only after a crash can it be there: its record may have reached the disk) */
  db = open_db(path, VEXFS_SYNC_FULL, 0);
  assert_non_null(db);
  vexfs_collection *got = NULL;
  if (vexfs_db_get_collection(db, "c", &got) == VEXFS_OK) {
    int exact = db_matches(got, &m);
    if (!exact) {
      assert_true(sticky && failed_step);
      assert_true(db_matches(got, &maybe));
    }
  } else {
    assert_true(c == NULL || (sticky && failed_step)); /* never created, or its create failed */
  }
  assert_int_equal(vexfs_db_close(db), VEXFS_OK);
  db_model_clear(&m);
  db_model_clear(&maybe);
  return fired;
}

static size_t file_size(const char *path) {
  struct stat sb;
  assert_int_equal(stat(path, &sb), 0);
  return (size_t)sb.st_size;
}

/* A checkpoint keeps the log file's length, and new records overwrite the old ones in place: the
 * old records (of another salt) are never replayed, a torn or damaged new record is judged as in
 * a fresh file, and closing gives the space back. */
static void test_recycled_log(void **state) {
  (void)state;
  db_model m = {0}, without_last = {0};
  char *path = db_tempdir(), file[DB_PATH_MAX], snap_file[DB_PATH_MAX];
  vexfs_db *db = open_db(path, VEXFS_SYNC_FULL, 0);
  vexfs_collection_config cfg = config(VEXFS_INDEX_FLAT, VEXFS_METRIC_L2);
  vexfs_collection *c;
  assert_int_equal(vexfs_db_create_collection(db, "c", &cfg, &c), VEXFS_OK);
  for (uint64_t b = 0; b < 8; b++) { /* long records: the old generation */
    assert_int_equal(db_insert_range(c, 100 * b, 50), VEXFS_OK);
    db_model_insert(&m, 100 * b, 50);
  }
  db_join(file, path, "wal.log");
  size_t used = file_size(file);
  assert_int_equal(vexfs_db_checkpoint(db), VEXFS_OK);
  assert_int_equal(file_size(file), used); /* kept for the next records */
  for (uint64_t b = 0; b < 4; b++) { /* four short records over the start of the old ones */
    assert_int_equal(db_insert_range(c, 5000 + 10 * b, 10), VEXFS_OK);
    db_model_insert(&m, 5000 + 10 * b, 10);
  }
  char *copy = db_tempdir(); /* the files as a crash would leave them */
  assert_int_equal(db_copy_into(path, copy, "snapshot.vxs"), 0);
  assert_int_equal(db_copy_into(path, copy, "wal.log"), 0);
  assert_int_equal(vexfs_db_close(db), VEXFS_OK);
  assert_int_equal(file_size(file), 32); /* closing gave the old records' space back */
  db_rmdir(path);
  free(path);

  db_join(file, copy, "wal.log");
  db_join(snap_file, copy, "snapshot.vxs");
  size_t n, snap_n;
  uint8_t *good = db_read_file(file, &n), *bad = malloc(n);
  uint8_t *snap = db_read_file(snap_file, &snap_n);
  size_t at[5] = {32}; /* where the new records start (their sizes differ with the payloads) */
  for (int i = 0; i < 4; i++) {
    uint64_t body;
    memcpy(&body, good + at[i] + 16, sizeof body);
    at[i + 1] = at[i] + 32 + (size_t)body;
  }
  assert_true(n > at[4]); /* old records follow the new ones */
  /* the new records and nothing of the old ones */
  db = open_db(copy, VEXFS_SYNC_FULL, 0);
  assert_int_equal(vexfs_db_get_collection(db, "c", &c), VEXFS_OK);
  assert_true(db_matches(c, &m));
  vexfs_db_close(db);
  /* a damaged last record is a torn tail: dropped, and appends go on over it */
  db_model_copy(&without_last, &m);
  for (uint64_t id = 5030; id < 5040; id++) db_model_remove(&without_last, id);
  size_t spots[] = {at[3] + 1, at[3] + 40, at[4] - 1};
  for (size_t i = 0; i < sizeof spots / sizeof *spots; i++) {
    memcpy(bad, good, n);
    bad[spots[i]] ^= 0x01;
    assert_int_equal(db_write_file(snap_file, snap, snap_n), 0);
    expect_torn_tail(copy, file, bad, n, &without_last, &m, 5030);
  }
  /* damage in a new record with valid ones after it is damage, as in a fresh file */
  memcpy(bad, good, n);
  bad[at[1] + 40] ^= 0x01;
  assert_int_equal(db_write_file(file, bad, n), 0);
  assert_int_equal(db_write_file(snap_file, snap, snap_n), 0);
  assert_int_equal(try_open(copy), VEXFS_E_CORRUPT);
  assert_non_null(strstr(vexfs_last_error(), "valid records follow"));
  db_model_clear(&without_last);
  db_model_clear(&m);
  free(good);
  free(bad);
  free(snap);
  db_rmdir(copy);
  free(copy);
}

static void test_io_faults(void **state) {
  (void)state;
  for (int flat = 0; flat <= 1; flat++) {
    int runs = 0;
    for (int sticky = 0; sticky <= 1; sticky++) {
      for (uint64_t at = 1;; at++) {
        char *path = db_tempdir();
        int fired = faulty_run(path, at, sticky ? ENOSPC : EIO, sticky, flat);
        db_rmdir(path);
        free(path);
        runs++;
        if (!fired) break; /* the workload ran past its last operation */
      }
    }
    assert_true(runs > 100); /* every operation of the workload was failed once per mode */
  }
}

/* ---- concurrency: group commit ---- */

typedef struct writer {
  vexfs_collection *c;
  uint64_t first;
} writer;

static void *write_batches(void *arg) {
  writer *w = arg;
  for (uint64_t b = 0; b < 20; b++)
    if (db_insert_range(w->c, w->first + 10 * b, 10) != VEXFS_OK) return (void *)1;
  return NULL;
}

static void test_group_commit(void **state) {
  (void)state;
  char *path = db_tempdir();
  vexfs_db *db = open_db(path, VEXFS_SYNC_FULL, 0);
  vexfs_collection_config cfg = config(VEXFS_INDEX_FLAT, VEXFS_METRIC_L2);
  writer w[4];
  pthread_t t[4];
  for (int i = 0; i < 4; i++) {
    char name[8];
    snprintf(name, sizeof name, "w%d", i);
    assert_int_equal(vexfs_db_create_collection(db, name, &cfg, &w[i].c), VEXFS_OK);
    w[i].first = (uint64_t)i * 1000;
  }
  for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, write_batches, &w[i]);
  for (int i = 0; i < 4; i++) {
    void *rc;
    pthread_join(t[i], &rc);
    assert_null(rc);
  }
  vexfs_db_close(db);
  db = open_db(path, VEXFS_SYNC_FULL, 0);
  for (int i = 0; i < 4; i++) {
    char name[8];
    snprintf(name, sizeof name, "w%d", i);
    vexfs_collection *c;
    assert_int_equal(vexfs_db_get_collection(db, name, &c), VEXFS_OK);
    assert_int_equal(vexfs_count(c), 200);
  }
  vexfs_db_close(db);
  db_rmdir(path);
  free(path);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_in_memory),
      cmocka_unit_test(test_round_trips),
      cmocka_unit_test(test_auto_built_index_round_trip),
      cmocka_unit_test(test_config_round_trip),
      cmocka_unit_test(test_lock_and_read_only),
      cmocka_unit_test(test_names),
      cmocka_unit_test(test_damaged_snapshot),
      cmocka_unit_test(test_damaged_log),
      cmocka_unit_test(test_log_damaged_in_the_middle),
      cmocka_unit_test(test_recycled_log),
      cmocka_unit_test(test_io_faults),
      cmocka_unit_test(test_group_commit),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

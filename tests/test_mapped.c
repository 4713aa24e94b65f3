/* Collections whose rows are MAPPED (vexfs_rerank): the rows move to a row file at each
 * checkpoint and are read through a mapping, with results bit for bit those of an in-memory twin;
 * the files are checked on open, written crash-safely, and swept when no snapshot names them. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "../lib/persist/io.h"
#include "db_util.h"
#include "vexfs/vexfs.h"

#define DIM 100 /* rows are padded to 112 floats: the file holds the padding too */
#define NQ 8
#define K 10

static vexfs_collection_config config(vexfs_index_kind kind, vexfs_rerank rerank) {
  vexfs_collection_config cfg;
  vexfs_collection_config_init(&cfg);
  cfg.dim = DIM;
  cfg.index = kind;
  cfg.hnsw_m = 8;
  cfg.hnsw_ef_construction = 40;
  cfg.threads = 1;
  cfg.hnsw_seed = 5;
  cfg.rerank = rerank;
  return cfg;
}

static vexfs_db *open_db(const char *path, int read_only) {
  vexfs_db_options o;
  vexfs_db_options_init(&o);
  o.read_only = (uint32_t)read_only;
  vexfs_db *db = NULL;
  if (vexfs_db_open(path, &o, &db) != VEXFS_OK) fprintf(stderr, "open: %s\n", vexfs_last_error());
  return db;
}

static vexfs_collection *get(vexfs_db *db, const char *name) {
  vexfs_collection *c = NULL;
  assert_int_equal(vexfs_db_get_collection(db, name, &c), VEXFS_OK);
  return c;
}

/* The answers of c to NQ fixed queries, searched by the index or exactly (a scan of every row). */
static vexfs_status answers(vexfs_collection *c, int exact, uint64_t *ids, float *dist) {
  float q[NQ * DIM];
  for (size_t i = 0; i < NQ; i++) db_vector(100000 + i, DIM, q + i * DIM);
  vexfs_search_params p;
  vexfs_search_params_init(&p);
  p.threads = 1;
  p.exact = (uint32_t)exact;
  return vexfs_search(c, q, NQ, K, &p, ids, dist, NULL);
}

/* Whether a and b answer the same queries with the same ids and distances, bit for bit. */
static int same_answers(vexfs_collection *a, vexfs_collection *b) {
  uint64_t ia[NQ * K], ib[NQ * K];
  float da[NQ * K], db_[NQ * K];
  assert_int_equal(answers(a, 0, ia, da), VEXFS_OK);
  assert_int_equal(answers(b, 0, ib, db_), VEXFS_OK);
  return memcmp(ia, ib, sizeof ia) == 0 && memcmp(da, db_, sizeof da) == 0;
}

static vexfs_metrics metrics_of(vexfs_collection *c) {
  vexfs_metrics m;
  vexfs_metrics_init(&m);
  assert_int_equal(vexfs_collection_metrics(c, &m), VEXFS_OK);
  return m;
}

/* The row files in dir: how many, and the name of the last one seen. */
static int row_files(const char *dir, char *name, size_t cap) {
  DIR *d = opendir(dir);
  int n = 0;
  for (struct dirent *e; d && (e = readdir(d));)
    if (!strncmp(e->d_name, "rows-", 5)) {
      n++;
      if (name) snprintf(name, cap, "%s", e->d_name);
    }
  if (d) closedir(d);
  return n;
}

static void remove_ids(vexfs_collection *c, uint64_t first, size_t n, size_t step) {
  for (size_t i = 0; i < n; i++) {
    uint64_t id = first + i * step;
    assert_int_equal(vexfs_remove(c, &id, 1), VEXFS_OK);
  }
}

static void test_config_checked(void **state) {
  (void)state;
  vexfs_collection_config cfg = config(VEXFS_INDEX_FLAT, VEXFS_RERANK_MAPPED);
  vexfs_collection *c = (vexfs_collection *)1;
  assert_int_equal(vexfs_collection_create(&cfg, &c), VEXFS_E_INVALID);
  assert_null(c);
  assert_non_null(strstr(vexfs_last_error(), "vexfs_db_create_collection"));
  vexfs_db *mem = open_db(NULL, 0);
  assert_int_equal(vexfs_db_create_collection(mem, "m", &cfg, &c), VEXFS_E_INVALID);
  assert_non_null(strstr(vexfs_last_error(), "directory"));
  assert_int_equal(vexfs_db_close(mem), VEXFS_OK);
  cfg.rerank = VEXFS_RERANK_NONE;
  assert_int_equal(vexfs_collection_create(&cfg, &c), VEXFS_E_INVALID);
  assert_non_null(strstr(vexfs_last_error(), "NONE"));
  cfg.rerank = (vexfs_rerank)3;
  assert_int_equal(vexfs_collection_create(&cfg, &c), VEXFS_E_INVALID);
  assert_non_null(strstr(vexfs_last_error(), "unknown rerank"));
  cfg.rerank = VEXFS_RERANK_IN_MEMORY;
  cfg.storage = (vexfs_storage)9;
  assert_int_equal(vexfs_collection_create(&cfg, &c), VEXFS_E_INVALID);
  assert_non_null(strstr(vexfs_last_error(), "unknown storage"));
}

/* A MAPPED collection and its in-memory twin, through inserts, removes, reused rows, upserts,
 * checkpoints and a reopen: the same answers and rows throughout, the rows leaving memory at
 * each checkpoint, one row file per collection left behind. */
static void twins(vexfs_index_kind kind) {
  char *dir = db_tempdir();
  vexfs_db *db = open_db(dir, 0);
  vexfs_collection_config mapped = config(kind, VEXFS_RERANK_MAPPED);
  vexfs_collection_config plain = config(kind, VEXFS_RERANK_IN_MEMORY);
  vexfs_collection *m = NULL, *p = NULL;
  assert_int_equal(vexfs_db_create_collection(db, "m", &mapped, &m), VEXFS_OK);
  assert_int_equal(vexfs_db_create_collection(db, "p", &plain, &p), VEXFS_OK);
  db_model model = {0};
  for (vexfs_collection *c = m; c; c = c == m ? p : NULL)
    assert_int_equal(db_insert_range(c, 0, 3000), VEXFS_OK);
  db_model_insert(&model, 0, 3000);
  assert_int_equal(metrics_of(m).memory_mapped, 0); /* in memory until a checkpoint */
  assert_true(same_answers(m, p));

  assert_int_equal(vexfs_db_checkpoint(db), VEXFS_OK);
  vexfs_metrics mm = metrics_of(m), pm = metrics_of(p);
  assert_int_equal(mm.memory_mapped, 3000u * 112 * sizeof(float));
  assert_int_equal(pm.memory_mapped, 0);
  assert_int_equal(mm.memory_vectors + mm.memory_mapped, pm.memory_vectors);
  assert_int_equal(row_files(dir, NULL, 0), 1);
  assert_true(same_answers(m, p));
  assert_true(db_matches(m, &model));

  /* removes free rows of the file; inserts reuse them (written in memory, not in the file) */
  for (vexfs_collection *c = m; c; c = c == m ? p : NULL) {
    remove_ids(c, 10, 200, 7);
    assert_int_equal(db_insert_range(c, 3000, 500), VEXFS_OK);
  }
  for (size_t i = 0; i < 200; i++) db_model_remove(&model, 10 + i * 7);
  db_model_insert(&model, 3000, 500);
  assert_true(same_answers(m, p));
  assert_true(db_matches(m, &model));

  char first[256], second[256];
  row_files(dir, first, sizeof first);
  assert_int_equal(vexfs_db_checkpoint(db), VEXFS_OK);
  assert_int_equal(row_files(dir, second, sizeof second), 1); /* the older file is gone */
  assert_string_not_equal(first, second);
  assert_int_equal(metrics_of(m).memory_mapped, 3300u * 112 * sizeof(float));
  assert_true(same_answers(m, p));
  assert_true(db_matches(m, &model));

  /* rows changed after the last checkpoint come back from the log */
  for (vexfs_collection *c = m; c; c = c == m ? p : NULL) remove_ids(c, 3001, 40, 3);
  for (size_t i = 0; i < 40; i++) db_model_remove(&model, 3001 + i * 3);
  assert_int_equal(vexfs_db_close(db), VEXFS_OK);
  db = open_db(dir, 0);
  assert_non_null(db);
  m = get(db, "m");
  p = get(db, "p");
  assert_int_equal(vexfs_count(m), vexfs_count(p));
  assert_true(same_answers(m, p));
  assert_true(db_matches(m, &model));
  assert_true(metrics_of(m).memory_mapped > 0);
  vexfs_collection_config back;
  vexfs_collection_config_init(&back);
  assert_int_equal(vexfs_collection_get_config(m, &back), VEXFS_OK);
  assert_int_equal(back.rerank, VEXFS_RERANK_MAPPED);
  assert_int_equal(vexfs_db_close(db), VEXFS_OK);
  db_model_clear(&model);
  db_rmdir(dir);
  free(dir);
}

static void test_flat_twins(void **state) {
  (void)state;
  twins(VEXFS_INDEX_FLAT);
}
static void test_hnsw_twins(void **state) {
  (void)state;
  twins(VEXFS_INDEX_HNSW);
}
static void test_ivf_twins(void **state) {
  (void)state;
  twins(VEXFS_INDEX_IVF);
}

/* A closed database with one MAPPED collection of 2000 rows; *file receives its row file. */
static char *mapped_db(vexfs_index_kind kind, char *file) {
  char *dir = db_tempdir();
  vexfs_db *db = open_db(dir, 0);
  vexfs_collection_config cfg = config(kind, VEXFS_RERANK_MAPPED);
  vexfs_collection *c = NULL;
  assert_int_equal(vexfs_db_create_collection(db, "m", &cfg, &c), VEXFS_OK);
  assert_int_equal(db_insert_range(c, 0, 2000), VEXFS_OK);
  assert_int_equal(vexfs_db_close(db), VEXFS_OK); /* checkpoints */
  char name[256];
  assert_int_equal(row_files(dir, name, sizeof name), 1);
  db_join(file, dir, name);
  return dir;
}

/* Opening and checking refuse the database, naming the row file and saying what is wrong. */
static void refused(const char *dir, const char *file, const char *why) {
  vexfs_db *db = NULL;
  vexfs_db_options o;
  vexfs_db_options_init(&o);
  assert_int_equal(vexfs_db_open(dir, &o, &db), VEXFS_E_CORRUPT);
  assert_null(db);
  const char *name = strrchr(file, '/') + 1;
  if (!strstr(vexfs_last_error(), name) || !strstr(vexfs_last_error(), why))
    fail_msg("open said: %s", vexfs_last_error());
  char *report = NULL;
  assert_int_equal(vexfs_db_check(dir, &report), VEXFS_E_CORRUPT);
  vexfs_free(report);
  assert_non_null(strstr(vexfs_last_error(), why));
}

static void test_damaged_files(void **state) {
  (void)state;
  char file[DB_PATH_MAX];
  char *dir = mapped_db(VEXFS_INDEX_HNSW, file);
  size_t n;
  uint8_t *good = db_read_file(file, &n);
  assert_int_equal(n, 2000u * 112 * sizeof(float));
  /* a flipped byte anywhere: in a row, in a free row's padding, at the very end */
  size_t spots[] = {0, 4 * DIM + 1, n / 2, n - 1};
  for (size_t i = 0; i < sizeof spots / sizeof *spots; i++) {
    good[spots[i]] ^= 0x10;
    assert_int_equal(db_write_file(file, good, n), 0);
    refused(dir, file, "checksum");
    good[spots[i]] ^= 0x10;
  }
  assert_int_equal(db_write_file(file, good, n - 448), 0); /* one row short */
  refused(dir, file, "bytes");
  uint8_t *longer = calloc(1, n + 448);
  memcpy(longer, good, n);
  assert_int_equal(db_write_file(file, longer, n + 448), 0); /* one row too many */
  refused(dir, file, "bytes");
  free(longer);
  unlink(file);
  refused(dir, file, "cannot open");
  /* put back, it opens again with every row */
  assert_int_equal(db_write_file(file, good, n), 0);
  vexfs_db *db = open_db(dir, 1);
  assert_non_null(db);
  db_model model = {0};
  db_model_insert(&model, 0, 2000);
  assert_true(db_matches(get(db, "m"), &model));
  assert_int_equal(vexfs_db_close(db), VEXFS_OK);
  db_model_clear(&model);
  free(good);
  db_rmdir(dir);
  free(dir);
}

/* Stray files are left alone by opening (but for unfinished temporaries) and deleted by the next
 * checkpoint; dropping a collection deletes its file once a checkpoint no longer names it. */
static void test_sweep(void **state) {
  (void)state;
  char file[DB_PATH_MAX], stray[DB_PATH_MAX], temp[DB_PATH_MAX], other[DB_PATH_MAX];
  char *dir = mapped_db(VEXFS_INDEX_FLAT, file);
  db_join(stray, dir, "rows-9-0000000000000001.vxr");
  db_join(temp, dir, "rows-9-0000000000000002.tmp");
  db_join(other, dir, "rows-notes.txt"); /* not a name the library uses */
  assert_int_equal(db_write_file(stray, (const uint8_t *)"x", 1), 0);
  assert_int_equal(db_write_file(temp, (const uint8_t *)"x", 1), 0);
  assert_int_equal(db_write_file(other, (const uint8_t *)"x", 1), 0);
  vexfs_db *db = open_db(dir, 0);
  struct stat sb;
  assert_int_equal(stat(stray, &sb), 0);
  assert_int_not_equal(stat(temp, &sb), 0);
  assert_int_equal(vexfs_db_checkpoint(db), VEXFS_OK);
  assert_int_not_equal(stat(stray, &sb), 0);
  assert_int_equal(stat(other, &sb), 0);
  assert_int_equal(vexfs_db_drop_collection(db, "m"), VEXFS_OK);
  assert_int_equal(row_files(dir, NULL, 0), 2); /* its file and rows-notes.txt */
  assert_int_equal(vexfs_db_checkpoint(db), VEXFS_OK);
  assert_int_equal(row_files(dir, NULL, 0), 1);
  assert_int_equal(vexfs_db_close(db), VEXFS_OK);
  db_rmdir(dir);
  free(dir);
}

/* Every write, sync and rename of a checkpoint failing in turn (a full disk among them), with and
 * without the power cut that follows: the checkpoint fails with VEXFS_E_IO and the database opens
 * with every row, from the old snapshot, its row file and the log. */
static void test_checkpoint_faults(void **state) {
  (void)state;
  static const int errs[] = {ENOSPC, EIO};
  for (int crash = 0; crash < 2; crash++)
    for (uint64_t at = 1;; at++) {
      char file[DB_PATH_MAX];
      char *dir = mapped_db(VEXFS_INDEX_FLAT, file); /* the checkpoint's I/O is what is tested */
      vexfs_db *db = open_db(dir, 0);
      vexfs_collection *c = get(db, "m");
      assert_int_equal(db_insert_range(c, 2000, 300), VEXFS_OK);
      remove_ids(c, 0, 50, 3);
      vx_io_fail_at(VX_IO_WRITE | VX_IO_SYNC | VX_IO_RENAME, at, errs[at % 2], crash);
      vexfs_status st = vexfs_db_checkpoint(db);
      int fired = vx_io_fault_fired();
      assert_int_equal(st, fired ? VEXFS_E_IO : VEXFS_OK);
      if (crash && fired) vx_io_crash();
      vexfs_db_close(db);
      vx_io_fail_at(0, 0, 0, 0);
      db = open_db(dir, 0);
      assert_non_null(db);
      db_model model = {0};
      db_model_insert(&model, 0, 2300);
      for (size_t i = 0; i < 50; i++) db_model_remove(&model, i * 3);
      assert_true(db_matches(get(db, "m"), &model));
      assert_int_equal(vexfs_db_close(db), VEXFS_OK);
      assert_int_equal(row_files(dir, NULL, 0), 1);
      db_model_clear(&model);
      db_rmdir(dir);
      free(dir);
      if (!fired) break;
    }
}

typedef struct searcher {
  vexfs_collection *c;
  const uint64_t *ids;
  const float *dist;
  atomic_int stop, mismatches;
} searcher;

/* Exact searches (the graph may change with the inserts, the rows may not) until told to stop. */
static void *search_loop(void *arg) {
  searcher *s = arg;
  uint64_t ids[NQ * K];
  float dist[NQ * K];
  while (!atomic_load(&s->stop))
    if (answers(s->c, 1, ids, dist) != VEXFS_OK || memcmp(ids, s->ids, sizeof ids) ||
        memcmp(dist, s->dist, sizeof dist))
      atomic_fetch_add(&s->mismatches, 1);
  return NULL;
}

/* Checkpoints replace the rows' pages under running searches, which see the same rows. */
static void test_search_during_checkpoints(void **state) {
  (void)state;
  char file[DB_PATH_MAX];
  char *dir = mapped_db(VEXFS_INDEX_HNSW, file);
  vexfs_db *db = open_db(dir, 0);
  vexfs_collection *c = get(db, "m");
  uint64_t ids[NQ * K];
  float dist[NQ * K];
  assert_int_equal(answers(c, 1, ids, dist), VEXFS_OK);
  searcher s = {.c = c, .ids = ids, .dist = dist};
  atomic_init(&s.stop, 0);
  atomic_init(&s.mismatches, 0);
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, search_loop, &s), 0);
  for (int i = 0; i < 6; i++) {
    uint64_t id = 50000 + (uint64_t)i; /* far from the queries' neighbours: answers stay put */
    float v[DIM];
    for (size_t d = 0; d < DIM; d++) v[d] = 1000.0f + (float)i;
    assert_int_equal(vexfs_insert(c, &id, v, 1), VEXFS_OK);
    assert_int_equal(vexfs_db_checkpoint(db), VEXFS_OK);
  }
  atomic_store(&s.stop, 1);
  pthread_join(t, NULL);
  assert_int_equal(atomic_load(&s.mismatches), 0);
  assert_int_equal(vexfs_db_close(db), VEXFS_OK);
  db_rmdir(dir);
  free(dir);
}

/* Whether the collection's metrics say its HNSW codes are lossless. */
static int codes_lossless(vexfs_collection *c) {
  char *json = vexfs_metrics_json(c);
  assert_non_null(json);
  int yes = strstr(json, "\"codes_lossless\":true") != NULL;
  assert_true(yes || strstr(json, "\"codes_lossless\":false"));
  vexfs_free(json);
  return yes;
}

/* Integer rows within 256 values (pixels): HNSW's 8-bit codes hold them exactly, and searches
 * re-rank from the codes, never reading the row file: with its pages gone (the file truncated
 * under the mapping, which makes any read of them SIGBUS) they still answer, the same. */
static void test_lossless_codes_read_no_rows(void **state) {
  (void)state;
  char *dir = db_tempdir();
  vexfs_db *db = open_db(dir, 0);
  vexfs_collection_config cfg = config(VEXFS_INDEX_HNSW, VEXFS_RERANK_MAPPED);
  vexfs_collection *c = NULL;
  assert_int_equal(vexfs_db_create_collection(db, "pixels", &cfg, &c), VEXFS_OK);
  enum { N = 2000 };
  uint64_t *ids = malloc(N * sizeof *ids), seed = 9;
  float *rows = malloc((size_t)N * DIM * sizeof *rows);
  for (size_t i = 0; i < N; i++) {
    ids[i] = i;
    for (size_t d = 0; d < DIM; d++) rows[i * DIM + d] = (float)(test_rng(&seed) % 256);
  }
  assert_int_equal(vexfs_insert(c, ids, rows, N), VEXFS_OK);
  assert_int_equal(vexfs_db_checkpoint(db), VEXFS_OK);
  assert_true(codes_lossless(c));
  uint64_t want_ids[NQ * K], got_ids[NQ * K];
  float want[NQ * K], got[NQ * K];
  assert_int_equal(answers(c, 0, want_ids, want), VEXFS_OK);
  char name[256], file[DB_PATH_MAX];
  assert_int_equal(row_files(dir, name, sizeof name), 1);
  db_join(file, dir, name);
  size_t n;
  uint8_t *bytes = db_read_file(file, &n);
  assert_int_equal(truncate(file, 0), 0);
  assert_int_equal(answers(c, 0, got_ids, got), VEXFS_OK);
  assert_memory_equal(got_ids, want_ids, sizeof got_ids);
  assert_memory_equal(got, want, sizeof got);
  assert_int_equal(db_write_file(file, bytes, n), 0); /* the rows are back for what reads them */
  /* one row off the grid: the codes are no longer lossless */
  uint64_t odd = N;
  for (size_t d = 0; d < DIM; d++) rows[d] = 0.5f;
  assert_int_equal(vexfs_insert(c, &odd, rows, 1), VEXFS_OK);
  assert_false(codes_lossless(c));
  assert_int_equal(vexfs_db_close(db), VEXFS_OK);
  free(bytes);
  free(ids);
  free(rows);
  db_rmdir(dir);
  free(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_config_checked),
      cmocka_unit_test(test_flat_twins),
      cmocka_unit_test(test_hnsw_twins),
      cmocka_unit_test(test_ivf_twins),
      cmocka_unit_test(test_damaged_files),
      cmocka_unit_test(test_sweep),
      cmocka_unit_test(test_checkpoint_faults),
      cmocka_unit_test(test_search_during_checkpoints),
      cmocka_unit_test(test_lossless_codes_read_no_rows),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

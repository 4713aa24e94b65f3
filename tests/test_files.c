/* Damaged and crafted database files. Logs: a lost 4 KiB block at every block (zeroed, then
 * garbage) and a changed byte in every header field: opening either refuses the log
 * (VEXFS_E_CORRUPT, VEXFS_E_UNSUPPORTED) or applies a prefix of its records, and refuses it
 * whenever a whole valid record lies past the damage. Snapshots: a changed byte at every 4 KiB
 * boundary and in every header field is refused. Crafted snapshots, rewritten section by section
 * with valid checksums, that claim what their data cannot be are refused as damaged, never
 * loaded, never answered with VEXFS_E_NOMEM (IVF sections too: every count, slot, centroid
 * and the quantiser are checked); so are crafted log records (resealed with the
 * log's salt) that do not decode or do not apply. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <string.h>

#include <cmocka.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "db_util.h"
#include "persist/config_codec.h"
#include "persist/section.h"
#include "persist/snapshot.h"
#include "index/ivf_internal.h"
#include "persist/wal.h"
#include "snapshot_edit.h"

enum { DIM = 16, BATCH = 40, BATCHES = 12 };

static vexfs_collection_config config(vexfs_index_kind kind) {
  vexfs_collection_config cfg;
  vexfs_collection_config_init(&cfg);
  cfg.dim = DIM;
  cfg.index = kind;
  return cfg;
}

/* A database (as a crash leaves it: snapshot, then a log of BATCHES insert records of BATCH
 * rows) in a new directory; models[b] is what it holds with the first b records applied. */
static char *crashed_database(db_model models[BATCHES + 1]) {
  char *dir = db_tempdir(), *crash = db_tempdir();
  vexfs_db *db;
  assert_int_equal(vexfs_db_open(dir, NULL, &db), VEXFS_OK);
  vexfs_collection_config cfg = config(VEXFS_INDEX_HNSW);
  vexfs_collection *c;
  assert_int_equal(vexfs_db_create_collection(db, "c", &cfg, &c), VEXFS_OK);
  assert_int_equal(db_insert_range(c, 5000, 100), VEXFS_OK);
  assert_int_equal(vexfs_db_close(db), VEXFS_OK); /* the snapshot, and an empty log */
  assert_int_equal(vexfs_db_open(dir, NULL, &db), VEXFS_OK);
  assert_int_equal(vexfs_db_get_collection(db, "c", &c), VEXFS_OK);
  memset(&models[0], 0, sizeof models[0]);
  db_model_insert(&models[0], 5000, 100);
  for (int b = 0; b < BATCHES; b++) {
    assert_int_equal(db_insert_range(c, (uint64_t)b * BATCH, BATCH), VEXFS_OK);
    memset(&models[b + 1], 0, sizeof models[b + 1]);
    db_model_copy(&models[b + 1], &models[b]);
    db_model_insert(&models[b + 1], (uint64_t)b * BATCH, BATCH);
  }
  const char *files[] = {"snapshot.vxs", "wal.log", "LOCK"};
  for (int f = 0; f < 3; f++) assert_int_equal(db_copy_into(dir, crash, files[f]), 0);
  vexfs_db_close(db);
  db_rmdir(dir);
  free(dir);
  return crash;
}

/* Opens dir (writable), and returns how many of the log's records it applied, or -1 when it
 * refused the database (only as damaged or of a newer version). */
static int records_applied(const char *dir, const db_model models[BATCHES + 1]) {
  vexfs_db *db = NULL;
  vexfs_status st = vexfs_db_open(dir, NULL, &db);
  if (st != VEXFS_OK) {
    if (st != VEXFS_E_CORRUPT && st != VEXFS_E_UNSUPPORTED)
      fail_msg("open: status %d, %s", (int)st, vexfs_last_error());
    return -1;
  }
  vexfs_collection *c;
  assert_int_equal(vexfs_db_get_collection(db, "c", &c), VEXFS_OK);
  int applied = -2;
  for (int b = 0; b <= BATCHES && applied < 0; b++)
    if (vexfs_count(c) == 100 + (size_t)b * BATCH && db_matches(c, &models[b])) applied = b;
  vexfs_db_close(db);
  if (applied < 0) fail_msg("the database holds no prefix of its log's records");
  return applied;
}

/* Where each record of the log ends. */
static size_t record_ends(const uint8_t *log, size_t n, size_t *ends) {
  size_t count = 0;
  for (size_t at = 32; at + 32 <= n; count++) {
    uint64_t len;
    memcpy(&len, log + at + 16, 8);
    at += 32 + (size_t)len;
    ends[count] = at;
  }
  return count;
}

/* A database's files, kept to be put back (a successful open checkpoints at close). */
typedef struct files {
  char snap_path[DB_PATH_MAX], log_path[DB_PATH_MAX];
  uint8_t *snap, *log;
  size_t snap_n, log_n;
} files;

static void keep_files(files *f, const char *dir) {
  db_join(f->snap_path, dir, "snapshot.vxs");
  db_join(f->log_path, dir, "wal.log");
  f->snap = db_read_file(f->snap_path, &f->snap_n);
  f->log = db_read_file(f->log_path, &f->log_n);
  assert_true(f->snap && f->log);
}

/* The format version in a snapshot's or a log's header (bytes 8..11). */
static uint32_t file_version(const char *path) {
  size_t n;
  uint8_t *p = db_read_file(path, &n);
  uint32_t v;
  memcpy(&v, p + 8, 4);
  free(p);
  return v;
}

/* Puts the files back, with the log replaced by `log` when given. */
static void put_back(const files *f, const uint8_t *log) {
  assert_int_equal(db_write_file(f->snap_path, f->snap, f->snap_n), 0);
  assert_int_equal(db_write_file(f->log_path, log ? log : f->log, f->log_n), 0);
}

static void drop_files(files *f) {
  free(f->snap);
  free(f->log);
}

/* Puts the files back, checks the database opens whole, and deletes it and its models. */
static void intact_and_gone(char *dir, files *f, db_model models[BATCHES + 1]) {
  put_back(f, NULL);
  assert_int_equal(records_applied(dir, models), BATCHES);
  drop_files(f);
  for (int b = 0; b <= BATCHES; b++) db_model_clear(&models[b]);
  db_rmdir(dir);
  free(dir);
}

static void test_log_block_lost_anywhere(void **state) {
  (void)state;
  db_model models[BATCHES + 1];
  char *dir = crashed_database(models);
  files f;
  keep_files(&f, dir);
  size_t n = f.log_n, ends[BATCHES + 1];
  uint8_t *bad = malloc(n);
  assert_int_equal(record_ends(f.log, n, ends), BATCHES);
  assert_int_equal(ends[BATCHES - 1], n);
  assert_true(n > 8 * 4096); /* records span many blocks */
  assert_int_equal(records_applied(dir, models), BATCHES);
  uint64_t seed = 11;
  for (int garbage = 0; garbage < 2; garbage++)
    for (size_t from = 0; from < n; from += 4096) {
      size_t to = from + 4096 < n ? from + 4096 : n;
      memcpy(bad, f.log, n);
      for (size_t i = from; i < to; i++) bad[i] = garbage ? (uint8_t)test_rng(&seed) : 0;
      put_back(&f, bad);
      int applied = records_applied(dir, models);
      /* records wholly before the block are intact: at least they apply, unless the log is
       * refused; a record wholly after it is intact and valid: dropping the block is refused */
      int intact = 0;
      while (intact < BATCHES && ends[intact] <= from) intact++;
      if (to <= ends[BATCHES - 2] && applied != -1)
        fail_msg("block at %zu lost: %d records applied though valid ones follow", from, applied);
      if (applied != -1 && applied < intact)
        fail_msg("block at %zu lost: %d records applied, %d were intact", from, applied, intact);
    }
  /* every byte of the header, changed */
  for (size_t at = 0; at < 32; at++) {
    memcpy(bad, f.log, n);
    bad[at] ^= 0x40;
    put_back(&f, bad);
    if (records_applied(dir, models) != -1) fail_msg("log header byte %zu changed: opened", at);
  }
  free(bad);
  intact_and_gone(dir, &f, models);
}

/* Opens dir and expects it refused as damaged (or of a newer version: `newer`). */
static void expect_refused(const char *dir, int newer, const char *what) {
  vexfs_db *db = NULL;
  vexfs_status st = vexfs_db_open(dir, NULL, &db);
  vexfs_status want = newer ? VEXFS_E_UNSUPPORTED : VEXFS_E_CORRUPT;
  if (st != want) {
    if (db) vexfs_db_close(db);
    fail_msg("%s: status %d, not %d (%s)", what, (int)st, (int)want, vexfs_last_error());
  }
}

static void test_snapshot_damaged_anywhere(void **state) {
  (void)state;
  db_model models[BATCHES + 1];
  char *dir = crashed_database(models);
  assert_int_equal(records_applied(dir, models), BATCHES); /* its close wrote a big snapshot */
  files f;
  keep_files(&f, dir);
  size_t n = f.snap_n;
  assert_true(n > 8 * 4096);
  uint8_t *good = f.snap, *bad = malloc(n);
  char what[64];
  for (size_t at = 0; at < n; at += 4096) {
    memcpy(bad, good, n);
    bad[at + (at ? 0 : 20)] ^= 0x08; /* the first block's first bytes are the magic */
    f.snap = bad;
    put_back(&f, NULL);
    snprintf(what, sizeof what, "snapshot byte %zu changed", at + (at ? 0 : 20));
    expect_refused(dir, 0, what);
  }
  for (size_t at = 0; at < 64; at++) { /* every byte of the header */
    memcpy(bad, good, n);
    bad[at] ^= 0x40;
    f.snap = bad;
    put_back(&f, NULL);
    snprintf(what, sizeof what, "snapshot header byte %zu changed", at);
    expect_refused(dir, at >= 8 && at < 12, what);
  }
  f.snap = good;
  free(bad);
  intact_and_gone(dir, &f, models);
}

/* ---- crafted snapshots: sections rewritten with valid checksums ---- */


/* The COLLECTION section's row count (after id, name length, the name "c" and the config). */
static void claim_2g_rows(uint32_t kind, uint8_t **p, size_t *n) {
  if (kind != VX_SEC_COLLECTION) return;
  uint64_t rows = (uint64_t)1 << 31;
  assert_int_equal(*n, 4 + 4 + 1 + VX_CONFIG_BYTES + 16);
  memcpy(*p + 4 + 4 + 1 + VX_CONFIG_BYTES, &rows, 8);
}

/* The most rows the IDS and VECTORS sections' table entries can claim to hold (their blocks
 * hold what they did) and still pass the table's own bounds: the COLLECTION section claims as
 * many, and the table entries are resealed. Memory for the claim used to be set aside first. */
static uint64_t claimed_rows;

static void claim_rows(uint32_t kind, uint8_t **p, size_t *n) {
  (void)n;
  if (kind == VX_SEC_COLLECTION) memcpy(*p + 4 + 4 + 1 + VX_CONFIG_BYTES, &claimed_rows, 8);
}

static void claim_in_table(const char *path) {
  size_t n;
  uint8_t *bytes = db_read_file(path, &n);
  uint64_t table, count;
  memcpy(&table, bytes + 24, 8);
  memcpy(&count, bytes + 32, 8);
  claimed_rows = UINT64_MAX;
  for (int pass = 0; pass < 2; pass++)
    for (uint64_t i = 0; i < count; i++) {
      uint8_t *e = bytes + table + i * 48;
      uint32_t kind;
      uint64_t stored;
      memcpy(&kind, e, 4);
      memcpy(&stored, e + 16, 8);
      if (kind != VX_SEC_IDS && kind != VX_SEC_VECTORS) continue;
      uint64_t row_bytes = kind == VX_SEC_IDS ? 8 : DIM * 4;
      uint64_t most = stored / 8 * (1 << 20) / row_bytes; /* a 1 MiB block per 8 stored bytes */
      if (pass == 0 && most < claimed_rows) claimed_rows = most;
      uint64_t raw = claimed_rows * row_bytes;
      if (pass == 1) memcpy(e + 24, &raw, 8);
    }
  assert_int_equal(vx_snap_reseal(bytes, n), 0);
  assert_int_equal(db_write_file(path, bytes, n), 0);
  free(bytes);
}

/* The HNSW quantiser's inverse scale (after entry, max norm, two flags and the scale). */
static void zero_inverse_scale(uint32_t kind, uint8_t **p, size_t *n) {
  if (kind != VX_SEC_GRAPH) return;
  float zero = 0;
  assert_true(*n > 24);
  memcpy(*p + 8 + 4 + 8 + 4, &zero, 4);
}

/* A stored vector moved far out of the range the quantiser was fitted to. */
static void vector_out_of_range(uint32_t kind, uint8_t **p, size_t *n) {
  if (kind != VX_SEC_VECTORS) return;
  float far = 1e6f;
  assert_true(*n >= sizeof far);
  memcpy(*p, &far, sizeof far);
}

/* A stored vector the API would refuse: NaN, infinite, or with a squared norm past
 * VEXFS_MAX_SQUARED_NORM (it loaded, and searches then returned NaN, -inf or nothing for it). */
static void set_first_coordinate(uint32_t kind, uint8_t **p, size_t *n, float v) {
  if (kind != VX_SEC_VECTORS) return;
  assert_true(*n >= sizeof v);
  memcpy(*p, &v, sizeof v);
}
static void nan_vector(uint32_t kind, uint8_t **p, size_t *n) {
  set_first_coordinate(kind, p, n, NAN);
}
static void infinite_vector(uint32_t kind, uint8_t **p, size_t *n) {
  set_first_coordinate(kind, p, n, INFINITY);
}
static void huge_vector(uint32_t kind, uint8_t **p, size_t *n) {
  set_first_coordinate(kind, p, n, 1e30f);
}

/* An id that appears twice. */
static void duplicate_id(uint32_t kind, uint8_t **p, size_t *n) {
  if (kind != VX_SEC_IDS) return;
  assert_true(*n >= 16);
  memcpy(*p + 8, *p, 8);
}

static void test_crafted_snapshots(void **state) {
  (void)state;
  const struct {
    section_edit edit;
    const char *says;
  } cases[] = {
      {claim_2g_rows, "row count"},
      {zero_inverse_scale, "quantiser"},
      {vector_out_of_range, "quantiser"},
      {nan_vector, "not finite"},
      {infinite_vector, "not finite"},
      {huge_vector, "not finite"},
      {duplicate_id, "twice"},
  };
  db_model models[BATCHES + 1];
  char *dir = crashed_database(models);
  assert_int_equal(records_applied(dir, models), BATCHES);
  files f;
  keep_files(&f, dir);
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    put_back(&f, NULL);
    rewrite_snapshot(f.snap_path, cases[i].edit);
    expect_refused(dir, 0, cases[i].says);
    if (!strstr(vexfs_last_error(), cases[i].says))
      fail_msg("case %zu: \"%s\" does not say %s", i, vexfs_last_error(), cases[i].says);
  }
  put_back(&f, NULL);
  claim_in_table(f.snap_path); /* sets claimed_rows, for the rewrite */
  put_back(&f, NULL);
  rewrite_snapshot(f.snap_path, claim_rows);
  claim_in_table(f.snap_path);
  assert_true(claimed_rows > 1000000);
  expect_refused(dir, 0, "sections claiming a million rows");
  if (!strstr(vexfs_last_error(), "its blocks do not hold")) fail_msg("%s", vexfs_last_error());
  intact_and_gone(dir, &f, models);
}

/* ---- crafted IVF sections ---- */

/* The IVF section: u32 magic, trained, trainings, nlist; u64 trained_live; f32 scale, inv_scale;
 * f64 lo_sq; DIM f32 offsets; DIM u32 perm; (F32) DIM * DIM f32 projection; nlist * DIM f32
 * centroids; per list u32 count, count u32 slots. */
enum { IVF_PERM = 24 + 16 + DIM * 4, IVF_PROJ = IVF_PERM + DIM * 4 };
static size_t ivf_proj_floats; /* of the collection being edited */
#define IVF_CENTROIDS (IVF_PROJ + ivf_proj_floats * 4)
static uint32_t ivf_nlist_of(const uint8_t *p) {
  uint32_t nlist;
  memcpy(&nlist, p + 12, 4);
  return nlist;
}
static size_t ivf_lists_at(const uint8_t *p) {
  return IVF_CENTROIDS + (size_t)ivf_nlist_of(p) * DIM * 4;
}
/* The offset of the first list holding at least two rows. */
static size_t ivf_full_list(const uint8_t *p, size_t n) {
  for (size_t at = ivf_lists_at(p); at + 4 <= n;) {
    uint32_t count;
    memcpy(&count, p + at, 4);
    if (count >= 2) return at;
    at += 4 + (size_t)count * 4;
  }
  fail_msg("no IVF list holds two rows");
  return 0;
}
static void ivf_magic(uint32_t kind, uint8_t **p, size_t *n) {
  if (kind == VX_SEC_GRAPH && *n) (*p)[0] ^= 1;
}
static void ivf_trained_2(uint32_t kind, uint8_t **p, size_t *n) {
  if (kind == VX_SEC_GRAPH && *n) put_u32(*p, 4, 2);
}
static void ivf_other_nlist(uint32_t kind, uint8_t **p, size_t *n) {
  if (kind == VX_SEC_GRAPH && *n) put_u32(*p, 12, ivf_nlist_of(*p) + 1);
}
static void ivf_untrained_rows(uint32_t kind, uint8_t **p, size_t *n) {
  if (kind == VX_SEC_GRAPH && *n) memset(*p + 16, 0, 8);
}
static void ivf_zero_inverse(uint32_t kind, uint8_t **p, size_t *n) {
  if (kind == VX_SEC_GRAPH && *n) memset(*p + 28, 0, 4);
}
static void ivf_nan_centroid(uint32_t kind, uint8_t **p, size_t *n) {
  float nan = NAN;
  if (kind == VX_SEC_GRAPH && *n) memcpy(*p + IVF_CENTROIDS + 8, &nan, 4);
}
static void ivf_perm_twice(uint32_t kind, uint8_t **p, size_t *n) {
  if (kind == VX_SEC_GRAPH && *n) memcpy(*p + IVF_PERM, *p + IVF_PERM + 4, 4);
}
static void ivf_nan_projection(uint32_t kind, uint8_t **p, size_t *n) {
  float nan = NAN;
  if (kind == VX_SEC_GRAPH && *n) memcpy(*p + IVF_PROJ + 12, &nan, 4);
}
static void ivf_huge_list(uint32_t kind, uint8_t **p, size_t *n) {
  if (kind == VX_SEC_GRAPH && *n) put_u32(*p, ivf_lists_at(*p), UINT32_MAX);
}
static void ivf_slot_outside(uint32_t kind, uint8_t **p, size_t *n) {
  if (kind == VX_SEC_GRAPH && *n) put_u32(*p, ivf_full_list(*p, *n) + 4, 1u << 30);
}
static void ivf_slot_twice(uint32_t kind, uint8_t **p, size_t *n) {
  if (kind != VX_SEC_GRAPH || !*n) return;
  size_t at = ivf_full_list(*p, *n);
  memcpy(*p + at + 8, *p + at + 4, 4);
}
static void ivf_row_missing(uint32_t kind, uint8_t **p, size_t *n) {
  if (kind != VX_SEC_GRAPH || !*n) return;
  size_t at = ivf_full_list(*p, *n); /* the list's last row moves to the section's end */
  uint32_t count;
  memcpy(&count, *p + at, 4);
  put_u32(*p, at, count - 1);
  uint8_t slot[4];
  memcpy(slot, *p + at + 4 + (size_t)(count - 1) * 4, 4);
  memmove(*p + at + 4 + (size_t)(count - 1) * 4, *p + at + 4 + (size_t)count * 4,
          *n - (at + 4 + (size_t)count * 4));
  memcpy(*p + *n - 4, slot, 4); /* trailing bytes */
}
static void ivf_truncated(uint32_t kind, uint8_t **p, size_t *n) {
  (void)p;
  if (kind == VX_SEC_GRAPH && *n) *n -= 4;
}
static void ivf_trailing(uint32_t kind, uint8_t **p, size_t *n) {
  if (kind != VX_SEC_GRAPH || !*n) return;
  *p = realloc(*p, *n + 4);
  memset(*p + *n, 0, 4);
  *n += 4;
}

static void test_crafted_ivf_sections(void **state) {
  (void)state;
  const struct {
    section_edit edit;
    const char *says;
  } cases[] = {
      {ivf_magic, "header"},           {ivf_trained_2, "header"},
      {ivf_other_nlist, "list count"}, {ivf_untrained_rows, "list count"},
      {ivf_zero_inverse, "quantiser"}, {ivf_nan_centroid, "not finite"},
      {ivf_huge_list, "more rows"},    {ivf_slot_outside, "not in the collection"},
      {ivf_slot_twice, "two places"},  {ivf_row_missing, "miss rows"},
      {ivf_truncated, "too short"},    {ivf_trailing, "bytes past"},
      {ivf_perm_twice, "coordinate order"}, {ivf_nan_projection, "projection"},
  };
  for (int codes = 0; codes < 2; codes++) {
    ivf_proj_floats = codes == VEXFS_IVF_CODES_F32 ? DIM * DIM : 0;
    char *dir = db_tempdir();
    vexfs_db *db;
    assert_int_equal(vexfs_db_open(dir, NULL, &db), VEXFS_OK);
    vexfs_collection_config cfg = config(VEXFS_INDEX_IVF);
    cfg.ivf_codes = (vexfs_ivf_codes)codes;
    vexfs_collection *c;
    assert_int_equal(vexfs_db_create_collection(db, "c", &cfg, &c), VEXFS_OK);
    assert_int_equal(db_insert_range(c, 0, 1200), VEXFS_OK); /* trains */
    assert_int_equal(vexfs_db_close(db), VEXFS_OK);
    files f;
    keep_files(&f, dir);
    assert_int_equal(file_version(f.snap_path), 3); /* IVF1: 0.7.0 reads it */
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
      if (cases[i].edit == ivf_nan_projection && !ivf_proj_floats) continue; /* SQ8 has none */
      put_back(&f, NULL);
      rewrite_snapshot(f.snap_path, cases[i].edit);
      expect_refused(dir, 0, cases[i].says);
      if (!strstr(vexfs_last_error(), "IVF") || !strstr(vexfs_last_error(), cases[i].says))
        fail_msg("case %zu: \"%s\" does not say IVF, %s", i, vexfs_last_error(), cases[i].says);
    }
    put_back(&f, NULL);
    assert_int_equal(vexfs_db_open(dir, NULL, &db), VEXFS_OK);
    assert_int_equal(vexfs_db_get_collection(db, "c", &c), VEXFS_OK);
    assert_int_equal(vexfs_count(c), 1200);
    assert_int_equal(vexfs_db_close(db), VEXFS_OK);
    drop_files(&f);
    db_rmdir(dir);
    free(dir);
  }
}

/* ---- crafted log records: changed, then resealed with the log's salt ---- */

/* Changes the first record's body (INSERT: u32 collection, u32 has payloads, u64 n, u32 dim,
 * u32 0, ids, vectors, payload lengths and texts) and reseals its checksum. */
typedef void (*record_edit)(uint32_t *type, uint8_t *body, size_t len);

static void reseal_first_record(uint8_t *log, record_edit edit) {
  uint64_t salt, len;
  memcpy(&salt, log + 16, 8);
  uint8_t *head = log + VX_WAL_HEADER;
  memcpy(&len, head + 16, 8);
  uint32_t type;
  memcpy(&type, head + 4, 4);
  edit(&type, head + VX_WAL_HEAD, (size_t)len);
  memcpy(head + 4, &type, 4);
  struct iovec body = {head + VX_WAL_HEAD, (size_t)len};
  uint64_t sum = vx_wal_record_checksum(salt, head, &body, 1);
  memcpy(head + 24, &sum, 8);
}

static void other_collection(uint32_t *type, uint8_t *body, size_t len) {
  (void)type, (void)len;
  uint32_t id = 77;
  memcpy(body, &id, 4);
}
static void other_dim(uint32_t *type, uint8_t *body, size_t len) {
  (void)type, (void)len;
  uint32_t dim = DIM - 1;
  memcpy(body + 16, &dim, 4);
}
static void more_rows(uint32_t *type, uint8_t *body, size_t len) {
  (void)type, (void)len;
  uint64_t n = (uint64_t)1 << 40;
  memcpy(body + 8, &n, 8);
}
static void id_of_the_snapshot(uint32_t *type, uint8_t *body, size_t len) {
  (void)type, (void)len;
  uint64_t id = 5000; /* already in the collection */
  memcpy(body + 24, &id, 8);
}
static void reserved_id(uint32_t *type, uint8_t *body, size_t len) {
  (void)type, (void)len;
  uint64_t id = UINT64_MAX;
  memcpy(body + 24, &id, 8);
}
static void broken_payload(uint32_t *type, uint8_t *body, size_t len) {
  (void)type;
  body[len - 2] = '{'; /* the last payload's closing brace and more */
}
static void unknown_type(uint32_t *type, uint8_t *body, size_t len) {
  (void)body, (void)len;
  *type = 99;
}
static void a_remove(uint32_t *type, uint8_t *body, size_t len) { /* of an id not there */
  (void)len;
  *type = 4;
  uint64_t n = 1, id = 777777;
  memcpy(body + 8, &n, 8);
  memcpy(body + 16, &id, 8);
}

static void test_crafted_log_records(void **state) {
  (void)state;
  const struct {
    record_edit edit;
    const char *says;
  } cases[] = {
      {other_collection, "does not exist"}, {other_dim, "malformed"},
      {more_rows, "malformed"},             {id_of_the_snapshot, "does not apply"},
      {reserved_id, "does not apply"},      {broken_payload, "does not apply"},
      {unknown_type, "malformed"},          {a_remove, "malformed"},
  };
  db_model models[BATCHES + 1];
  char *dir = crashed_database(models);
  files f;
  keep_files(&f, dir);
  uint8_t *bad = malloc(f.log_n);
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    memcpy(bad, f.log, f.log_n);
    reseal_first_record(bad, cases[i].edit);
    put_back(&f, bad);
    expect_refused(dir, 0, cases[i].says);
    if (!strstr(vexfs_last_error(), cases[i].says) || !strstr(vexfs_last_error(), "record 3 ") ||
        strstr(vexfs_last_error(), "vexfs_get")) /* no stale message of an earlier call */
      fail_msg("case %zu: \"%s\" does not say %s", i, vexfs_last_error(), cases[i].says);
  }
  free(bad);
  intact_and_gone(dir, &f, models);
}

/* ---- IVF sections of libvexfs 0.7.0 ("IVF1": F32 projections of at most 128 axes) ---- */

enum { WIDE = 300, WIDE_ROWS = 1500, WIDE_QUERIES = 20, V1_AXES = 128 };
#define IVF2_MAGIC 0x32465649u
#define IVF1_MAGIC 0x31465649u

/* A WIDE-dim F32 IVF section (IVF2: IVF_PROJ_DIMS axes) as 0.7.0 wrote it: IVF1, 128 axes. */
static void ivf_as_v1(uint32_t kind, uint8_t **p, size_t *n) {
  if (kind != VX_SEC_GRAPH || !*n) return;
  uint32_t magic;
  memcpy(&magic, *p, 4);
  assert_int_equal(magic, IVF2_MAGIC);
  put_u32(*p, 0, IVF1_MAGIC);
  size_t kept_end = 24 + 16 + 2 * WIDE * 4 + (size_t)V1_AXES * WIDE * 4;
  size_t dropped = (size_t)(IVF_PROJ_DIMS - V1_AXES) * WIDE * 4;
  memmove(*p + kept_end, *p + kept_end + dropped, *n - kept_end - dropped);
  *n -= dropped;
}

/* Each query's ids at nprobe 1, 3 and every list, into out[3 * WIDE_QUERIES * K10]; returns the
 * distances the searches computed. */
enum { K10 = 10 };
static uint64_t wide_answers(vexfs_collection *c, uint64_t *out) {
  vexfs_metrics m0, m1;
  vexfs_metrics_init(&m0);
  vexfs_metrics_init(&m1);
  assert_int_equal(vexfs_collection_metrics(c, &m0), VEXFS_OK);
  const uint32_t nprobes[3] = {1, 3, 1u << 20};
  float q[WIDE_QUERIES * WIDE], dist[WIDE_QUERIES * K10];
  for (size_t i = 0; i < WIDE_QUERIES; i++) db_vector(900000 + i, WIDE, q + i * WIDE);
  for (int p = 0; p < 3; p++) {
    vexfs_search_params sp;
    vexfs_search_params_init(&sp);
    sp.nprobe = nprobes[p];
    assert_int_equal(vexfs_search(c, q, WIDE_QUERIES, K10, &sp, out + p * WIDE_QUERIES * K10, dist,
                                  NULL),
                     VEXFS_OK);
  }
  assert_int_equal(vexfs_collection_metrics(c, &m1), VEXFS_OK);
  return m1.distance_computations - m0.distance_computations;
}

/* A snapshot of a WIDE-dim F32 IVF collection is format 4 (IVF2, WIDE axes); as 0.7.0 wrote it
 * (format 3, IVF1, 128 axes) it opens with axes fitted anew, and answers as before at every
 * nprobe (the axes only prune: the lists and centroids are the stored ones), computing about as
 * many distances (the fitted axes prune as the stored ones did). A 16-dim one keeps
 * format 3 (test_crafted_ivf_sections). */
static void test_ivf_sections_of_0_7_0_open(void **state) {
  (void)state;
  char *dir = db_tempdir();
  vexfs_db *db;
  assert_int_equal(vexfs_db_open(dir, NULL, &db), VEXFS_OK);
  vexfs_collection_config cfg = config(VEXFS_INDEX_IVF);
  cfg.dim = WIDE;
  cfg.ivf_codes = VEXFS_IVF_CODES_F32;
  vexfs_collection *c;
  assert_int_equal(vexfs_db_create_collection(db, "c", &cfg, &c), VEXFS_OK);
  assert_int_equal(db_insert_range(c, 0, WIDE_ROWS), VEXFS_OK); /* trains */
  static uint64_t before[3 * WIDE_QUERIES * K10], after[3 * WIDE_QUERIES * K10];
  uint64_t computed = wide_answers(c, before);
  assert_int_equal(vexfs_db_close(db), VEXFS_OK);
  files f;
  keep_files(&f, dir);
  assert_int_equal(file_version(f.snap_path), VX_SNAP_VERSION);
  for (int v1 = 0; v1 < 2; v1++) {
    put_back(&f, NULL);
    if (v1) {
      rewrite_snapshot(f.snap_path, ivf_as_v1);
      assert_int_equal(file_version(f.snap_path), 3);
      char *report = NULL;
      assert_int_equal(vexfs_db_check(dir, &report), VEXFS_OK);
      vexfs_free(report);
    }
    assert_int_equal(vexfs_db_open(dir, NULL, &db), VEXFS_OK);
    assert_int_equal(vexfs_db_get_collection(db, "c", &c), VEXFS_OK);
    assert_int_equal(vexfs_count(c), WIDE_ROWS);
    uint64_t again = wide_answers(c, after);
    assert_memory_equal(before, after, sizeof before);
    assert_true(again < computed + computed / 10);
    assert_int_equal(vexfs_db_close(db), VEXFS_OK);
  }
  drop_files(&f);
  db_rmdir(dir);
  free(dir);
}

/* ---- files of format version 1 (libvexfs 0.1 and 0.2) ---- */

/* The COLLECTION section with its config in format 1: the 40 bytes before 0.3.0's fields. */
static void format_1_config(uint32_t kind, uint8_t **p, size_t *n) {
  if (kind != VX_SEC_COLLECTION) return;
  size_t config_at = 4 + 4 + 1, extra = VX_CONFIG_BYTES - VX_CONFIG_BYTES_V1;
  assert_int_equal(*n, config_at + VX_CONFIG_BYTES + 16);
  memmove(*p + config_at + VX_CONFIG_BYTES_V1, *p + config_at + VX_CONFIG_BYTES, 16);
  *n -= extra;
}

static void set_version_1(uint8_t *header, size_t checksum_at) {
  uint32_t one = 1;
  memcpy(header + 8, &one, 4);
  uint64_t sum = XXH3_64bits(header, checksum_at);
  memcpy(header + checksum_at, &sum, 8);
}

/* A snapshot and a log as 0.2.0 wrote them open whole; the log is marked with this format at
 * the first append (so 0.2.0 refuses it as newer rather than misreading it), not before. */
static void test_format_1_files_open(void **state) {
  (void)state;
  db_model models[BATCHES + 1];
  char *dir = crashed_database(models);
  files f;
  keep_files(&f, dir);
  rewrite_snapshot(f.snap_path, format_1_config);
  drop_files(&f);
  keep_files(&f, dir);
  set_version_1(f.snap, 56);
  set_version_1(f.log, 24);
  put_back(&f, NULL);
  vexfs_db *db;
  assert_int_equal(vexfs_db_open(dir, NULL, &db), VEXFS_OK);
  assert_int_equal(file_version(f.log_path), 1); /* opening wrote nothing */
  vexfs_collection *c;
  assert_int_equal(vexfs_db_get_collection(db, "c", &c), VEXFS_OK);
  assert_true(db_matches(c, &models[BATCHES]));
  vexfs_collection_config got;
  vexfs_collection_config_init(&got);
  assert_int_equal(vexfs_collection_get_config(c, &got), VEXFS_OK);
  assert_int_equal(got.index, VEXFS_INDEX_HNSW);
  assert_int_equal(got.dim, DIM);
  assert_int_equal(got.lsh_tables, 0);
  assert_int_equal(got.ivf_codes, VEXFS_IVF_CODES_F32);
  assert_int_equal(db_insert_range(c, 90000, 3), VEXFS_OK);
  assert_int_equal(file_version(f.log_path), VX_WAL_VERSION);
  char *crash = db_tempdir(); /* the files as a crash now leaves them: the log replays */
  const char *names[] = {"snapshot.vxs", "wal.log", "LOCK"};
  for (int i = 0; i < 3; i++) assert_int_equal(db_copy_into(dir, crash, names[i]), 0);
  assert_int_equal(vexfs_db_close(db), VEXFS_OK);
  assert_int_equal(vexfs_db_open(crash, NULL, &db), VEXFS_OK);
  assert_int_equal(vexfs_db_get_collection(db, "c", &c), VEXFS_OK);
  assert_int_equal(vexfs_count(c), 100 + BATCHES * BATCH + 3);
  assert_int_equal(vexfs_db_close(db), VEXFS_OK);
  drop_files(&f);
  for (int b = 0; b <= BATCHES; b++) db_model_clear(&models[b]);
  db_rmdir(dir);
  db_rmdir(crash);
  free(dir);
  free(crash);
}

/* A CREATE record with a format 1 config (0.2.0's) replays with defaults for the rest. */
static void test_format_1_create_record(void **state) {
  (void)state;
  char *dir = db_tempdir(), *crash = db_tempdir();
  vexfs_db *db;
  assert_int_equal(vexfs_db_open(dir, NULL, &db), VEXFS_OK);
  vexfs_collection_config cfg = config(VEXFS_INDEX_HNSW);
  cfg.hnsw_m = 8;
  vexfs_collection *c;
  assert_int_equal(vexfs_db_create_collection(db, "c", &cfg, &c), VEXFS_OK);
  assert_int_equal(db_copy_into(dir, crash, "wal.log"), 0);
  vexfs_db_close(db);
  char log_path[DB_PATH_MAX];
  db_join(log_path, crash, "wal.log");
  size_t n;
  uint8_t *log = db_read_file(log_path, &n);
  uint8_t *head = log + VX_WAL_HEADER;
  uint64_t len, salt;
  memcpy(&len, head + 16, 8);
  memcpy(&salt, log + 16, 8);
  assert_int_equal(VX_WAL_HEADER + VX_WAL_HEAD + len, n); /* the one record */
  len -= VX_CONFIG_BYTES - VX_CONFIG_BYTES_V1;
  memcpy(head + 16, &len, 8);
  struct iovec body = {head + VX_WAL_HEAD, (size_t)len};
  uint64_t sum = vx_wal_record_checksum(salt, head, &body, 1);
  memcpy(head + 24, &sum, 8);
  set_version_1(log, 24);
  assert_int_equal(db_write_file(log_path, log, VX_WAL_HEADER + VX_WAL_HEAD + (size_t)len), 0);
  free(log);
  assert_int_equal(vexfs_db_open(crash, NULL, &db), VEXFS_OK);
  assert_int_equal(vexfs_db_get_collection(db, "c", &c), VEXFS_OK);
  vexfs_collection_config got;
  vexfs_collection_config_init(&got);
  assert_int_equal(vexfs_collection_get_config(c, &got), VEXFS_OK);
  assert_int_equal(got.hnsw_m, 8);
  assert_int_equal(got.lsh_bits, 0);
  assert_int_equal(vexfs_db_close(db), VEXFS_OK);
  db_rmdir(dir);
  db_rmdir(crash);
  free(dir);
  free(crash);
}

/* An HNSW collection's sections made into those of an AUTO collection that built its graph in
 * 0.2 (config index AUTO; the graph section led by code 1). */
static void as_auto_with_graph(uint32_t kind, uint8_t **p, size_t *n) {
  if (kind == VX_SEC_COLLECTION) {
    uint32_t autos = VEXFS_INDEX_AUTO;
    memcpy(*p + 4 + 4 + 1 + 8, &autos, 4);
  } else if (kind == VX_SEC_GRAPH) {
    uint8_t *led = malloc(*n + 4);
    uint32_t code = 1;
    memcpy(led, &code, 4);
    memcpy(led + 4, *p, *n);
    free(*p);
    *p = led;
    *n += 4;
  }
}

/* AUTO collections that built a graph before 0.3.0 keep it: it loads, and the log replays into
 * it. */
static void test_auto_graph_of_0_2_loads(void **state) {
  (void)state;
  db_model models[BATCHES + 1];
  char *dir = crashed_database(models);
  files f;
  keep_files(&f, dir);
  rewrite_snapshot(f.snap_path, as_auto_with_graph);
  vexfs_db *db;
  assert_int_equal(vexfs_db_open(dir, NULL, &db), VEXFS_OK);
  vexfs_collection *c;
  assert_int_equal(vexfs_db_get_collection(db, "c", &c), VEXFS_OK);
  assert_string_equal(vexfs_index_in_use(c), "auto:hnsw");
  assert_true(db_matches(c, &models[BATCHES]));
  assert_int_equal(vexfs_db_close(db), VEXFS_OK);
  assert_int_equal(vexfs_db_open(dir, NULL, &db), VEXFS_OK); /* and from its own snapshot */
  assert_int_equal(vexfs_db_get_collection(db, "c", &c), VEXFS_OK);
  assert_string_equal(vexfs_index_in_use(c), "auto:hnsw");
  assert_true(db_matches(c, &models[BATCHES]));
  assert_int_equal(vexfs_db_close(db), VEXFS_OK);
  drop_files(&f);
  for (int b = 0; b <= BATCHES; b++) db_model_clear(&models[b]);
  db_rmdir(dir);
  free(dir);
}

/* 0.3.0's config fields come back from the log's CREATE record and from the snapshot. */
static void test_config_fields_persist(void **state) {
  (void)state;
  char *dir = db_tempdir(), *crash = db_tempdir();
  vexfs_db *db;
  assert_int_equal(vexfs_db_open(dir, NULL, &db), VEXFS_OK);
  vexfs_collection_config cfg = config(VEXFS_INDEX_HNSW);
  cfg.lsh_tables = 7, cfg.lsh_bits = 13, cfg.lsh_probes = 5, cfg.lsh_bucket_width = 2.5f;
  cfg.ivf_nlist = 300, cfg.ivf_nprobe = 9, cfg.ivf_codes = VEXFS_IVF_CODES_SQ8;
  cfg.lsh_projection = VEXFS_LSH_PROJECTION_LEARNED;
  vexfs_collection *c;
  assert_int_equal(vexfs_db_create_collection(db, "c", &cfg, &c), VEXFS_OK);
  const char *names[] = {"wal.log", "LOCK"};
  for (int i = 0; i < 2; i++) assert_int_equal(db_copy_into(dir, crash, names[i]), 0);
  assert_int_equal(vexfs_db_close(db), VEXFS_OK);
  const char *dirs[] = {crash, dir}; /* the log's record, then the snapshot */
  for (int i = 0; i < 2; i++) {
    assert_int_equal(vexfs_db_open(dirs[i], NULL, &db), VEXFS_OK);
    assert_int_equal(vexfs_db_get_collection(db, "c", &c), VEXFS_OK);
    vexfs_collection_config got;
    vexfs_collection_config_init(&got);
    assert_int_equal(vexfs_collection_get_config(c, &got), VEXFS_OK);
    assert_memory_equal(&got, &cfg, sizeof cfg);
    assert_int_equal(vexfs_db_close(db), VEXFS_OK);
  }
  db_rmdir(dir);
  db_rmdir(crash);
  free(dir);
  free(crash);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_log_block_lost_anywhere),
      cmocka_unit_test(test_snapshot_damaged_anywhere),
      cmocka_unit_test(test_crafted_snapshots),
      cmocka_unit_test(test_crafted_ivf_sections),
      cmocka_unit_test(test_ivf_sections_of_0_7_0_open),
      cmocka_unit_test(test_crafted_log_records),
      cmocka_unit_test(test_format_1_files_open),
      cmocka_unit_test(test_format_1_create_record),
      cmocka_unit_test(test_config_fields_persist),
      cmocka_unit_test(test_auto_graph_of_0_2_loads),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Out of memory at every allocation, the way SQLite tests it: a workload over a database (HNSW,
 * flat, IVF (F32, SQ8) and LSH collections, payloads, payload indexes, filters, removes, checkpoints, reopening) is
 * run step by step, and each step again and again with its n-th allocation failing, for every n
 * until the step no longer reaches an n-th allocation; once with that one allocation failing,
 * once with every allocation from the n-th on failing. Each failing call must return
 * VEXFS_E_NOMEM and change nothing, in memory (the collections hold exactly the model) or on disk
 * (the files as a crash would leave them open to exactly the model); a call that survives the
 * failure must have done its whole work. Leaks show under the test command's LeakSanitizer.
 *
 * Every attempt starts from a copy of the database as the steps before left it, opened without
 * faults, so that attempts do not depend on each other. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "db_util.h"

/* ---- the failing allocator ---- */

static atomic_long countdown = -1; /* allocations left before the failure; -1: none fails */
static atomic_int persistent;      /* once failed, every later allocation fails too */
static atomic_int fired;

static void *failing_alloc(void *opaque, size_t size, size_t align) {
  (void)opaque;
  if (atomic_load(&countdown) >= 0) {
    long left = atomic_fetch_sub(&countdown, 1);
    if (left == 0 || (left < 0 && atomic_load(&persistent))) {
      atomic_store(&fired, 1);
      if (!atomic_load(&persistent)) atomic_store(&countdown, -1);
      else atomic_store(&countdown, -2); /* stays negative: every later one fails */
      return NULL;
    }
  }
  void *p = NULL;
  return posix_memalign(&p, align, size) == 0 ? p : NULL;
}

static void plain_free(void *opaque, void *ptr) {
  (void)opaque;
  free(ptr);
}

static void arm(long n, int all_after) {
  atomic_store(&fired, 0);
  atomic_store(&persistent, all_after);
  atomic_store(&countdown, n);
}

static void disarm(void) {
  atomic_store(&countdown, -1);
  atomic_store(&persistent, 0);
}

/* ---- the world the steps act on ---- */

enum { DIM = 8, NCOLS = 6 };
static const char *const names[NCOLS] = {"graph", "exact", "ivf", "ivf-sq8", "lsh", "coded"};

/* What the database should hold: which collections exist, and their contents. */
typedef struct contents {
  int exists[NCOLS];
  db_model model[NCOLS];
} contents;

static void contents_clear(contents *c) {
  for (int i = 0; i < NCOLS; i++) db_model_clear(&c->model[i]);
  memset(c->exists, 0, sizeof c->exists);
}

static void contents_copy(contents *to, const contents *from) {
  contents_clear(to);
  for (int i = 0; i < NCOLS; i++) {
    to->exists[i] = from->exists[i];
    db_model_copy(&to->model[i], &from->model[i]);
  }
}

typedef struct world {
  char *dir;
  vexfs_db *db;
  vexfs_collection *col[NCOLS]; /* NULL when the collection does not exist */
  contents want;
} world;

static void refresh_handles(world *w) {
  for (int i = 0; i < NCOLS; i++) {
    w->col[i] = NULL;
    if (w->want.exists[i])
      assert_int_equal(vexfs_db_get_collection(w->db, names[i], &w->col[i]), VEXFS_OK);
  }
}

/* Whether the database db holds exactly the model's collections and contents. */
static int holds_model(vexfs_db *db, const world *w) {
  char **list;
  size_t n;
  if (vexfs_db_list_collections(db, &list, &n) != VEXFS_OK) return 0;
  size_t want = 0;
  for (int i = 0; i < NCOLS; i++) want += (size_t)w->want.exists[i];
  int ok = n == want;
  vexfs_free(list);
  for (int i = 0; ok && i < NCOLS; i++) {
    vexfs_collection *c = NULL;
    vexfs_status st = vexfs_db_get_collection(db, names[i], &c);
    if (!w->want.exists[i]) {
      ok = st == VEXFS_E_NOT_FOUND;
      continue;
    }
    ok = st == VEXFS_OK && db_matches(c, &w->want.model[i]);
    if (!ok) fprintf(stderr, "collection %s differs from the model\n", names[i]);
  }
  return ok;
}

/* The files as a crash now would leave them open to the model. */
static int disk_holds_model(const world *w) {
  char *image = db_tempdir();
  int ok = db_copy_into(w->dir, image, "wal.log") == 0 && db_copy_into(w->dir, image, "LOCK") == 0;
  db_copy_into(w->dir, image, "snapshot.vxs"); /* absent before the first checkpoint */
  vexfs_db *db = NULL;
  vexfs_db_options o;
  vexfs_db_options_init(&o);
  o.read_only = 1;
  vexfs_status st = ok ? vexfs_db_open(image, &o, &db) : VEXFS_E_IO;
  if (st != VEXFS_OK) fprintf(stderr, "the crash image does not open: %s\n", vexfs_last_error());
  ok = st == VEXFS_OK && holds_model(db, w);
  vexfs_db_close(db);
  db_rmdir(image);
  free(image);
  return ok;
}

static void copy_dir(const char *from, const char *to) {
  const char *files[] = {"wal.log", "snapshot.vxs", "LOCK"};
  for (int i = 0; i < 3; i++) db_copy_into(from, to, files[i]);
}

static vexfs_collection_config config(vexfs_index_kind kind) {
  vexfs_collection_config cfg;
  vexfs_collection_config_init(&cfg);
  cfg.dim = DIM;
  cfg.index = kind;
  cfg.hnsw_m = 4;
  cfg.hnsw_ef_construction = 16;
  cfg.lsh_tables = 2; /* LSH: few buckets, so few allocations to fail in turn */
  cfg.lsh_bits = 3;
  cfg.threads = 1;
  return cfg;
}

/* ---- steps: a call (run) and what it does to the model when it succeeds (apply) ---- */

typedef struct step {
  const char *name;
  vexfs_status (*run)(world *w);
  void (*apply)(world *w);
} step;

static vexfs_status create_graph(world *w) {
  vexfs_collection_config cfg = config(VEXFS_INDEX_HNSW);
  return vexfs_db_create_collection(w->db, names[0], &cfg, &w->col[0]);
}
static vexfs_status create_exact(world *w) {
  vexfs_collection_config cfg = config(VEXFS_INDEX_FLAT);
  return vexfs_db_create_collection(w->db, names[1], &cfg, &w->col[1]);
}
/* IVF collections (F32 and SQ8 lists): their first insert trains them. */
static vexfs_status create_ivf(world *w, int col, vexfs_ivf_codes codes) {
  vexfs_collection_config cfg = config(VEXFS_INDEX_IVF);
  cfg.ivf_codes = codes;
  cfg.ivf_nlist = 2; /* trains at 64 rows */
  return vexfs_db_create_collection(w->db, names[col], &cfg, &w->col[col]);
}
static vexfs_status create_ivf_f32(world *w) { return create_ivf(w, 2, VEXFS_IVF_CODES_F32); }
static vexfs_status create_ivf_sq8(world *w) { return create_ivf(w, 3, VEXFS_IVF_CODES_SQ8); }
static void created_ivf_f32(world *w) { w->want.exists[2] = 1; }
static void created_ivf_sq8(world *w) { w->want.exists[3] = 1; }
enum { IVF_ROWS = 70 }; /* past the rows at which IVF trains */
static vexfs_status insert_plain(world *w, int col, uint64_t first, size_t n) {
  uint64_t *ids = malloc(n * sizeof *ids);
  float *vecs = malloc(n * DIM * sizeof *vecs);
  for (size_t i = 0; i < n; i++) {
    ids[i] = first + i;
    db_vector(ids[i], DIM, vecs + i * DIM);
  }
  vexfs_status st = vexfs_insert(w->col[col], ids, vecs, n);
  free(ids);
  free(vecs);
  return st;
}
static void inserted_plain(world *w, int col, uint64_t first, size_t n) {
  db_model_insert(&w->want.model[col], first, n);
  for (size_t i = 0; i < n; i++) {
    free(w->want.model[col].payload[first + i]);
    w->want.model[col].payload[first + i] = NULL;
  }
}
static vexfs_status insert_ivf_f32(world *w) { return insert_plain(w, 2, 0, IVF_ROWS); }
static vexfs_status insert_ivf_sq8(world *w) { return insert_plain(w, 3, 0, IVF_ROWS); }
static void inserted_ivf_f32(world *w) { inserted_plain(w, 2, 0, IVF_ROWS); }
static void inserted_ivf_sq8(world *w) { inserted_plain(w, 3, 0, IVF_ROWS); }
static vexfs_status insert_more_ivf(world *w) { return insert_plain(w, 2, 2000, 30); }
static void inserted_more_ivf(world *w) { inserted_plain(w, 2, 2000, 30); }
static vexfs_status create_lsh(world *w) {
  vexfs_collection_config cfg = config(VEXFS_INDEX_LSH);
  return vexfs_db_create_collection(w->db, names[4], &cfg, &w->col[4]);
}
/* HNSW over SQ8 codes in the store (with the exact rows in memory, so gets are exact): the second
 * batch leaves the first's range, which re-codes every row */
static vexfs_status create_coded(world *w) {
  vexfs_collection_config cfg = config(VEXFS_INDEX_HNSW);
  cfg.storage = VEXFS_STORAGE_SQ8;
  return vexfs_db_create_collection(w->db, names[5], &cfg, &w->col[5]);
}
static void created_coded(world *w) { w->want.exists[5] = 1; }
static vexfs_status insert_coded(world *w) { return db_insert_range(w->col[5], 0, 3); }
static void inserted_coded(world *w) { db_model_insert(&w->want.model[5], 0, 3); }
static vexfs_status insert_coded_more(world *w) { return db_insert_range(w->col[5], 100, 30); }
static void inserted_coded_more(world *w) { db_model_insert(&w->want.model[5], 100, 30); }
static const uint64_t coded_removed[] = {1, 105};
static vexfs_status remove_coded_rows(world *w) { return vexfs_remove(w->col[5], coded_removed, 2); }
static void removed_coded_rows(world *w) {
  for (int i = 0; i < 2; i++) db_model_remove(&w->want.model[5], coded_removed[i]);
}

static void created_graph(world *w) { w->want.exists[0] = 1; }
static void created_exact(world *w) { w->want.exists[1] = 1; }
static void created_lsh(world *w) { w->want.exists[4] = 1; }

static vexfs_status insert_graph(world *w) { return db_insert_range(w->col[0], 0, 60); }
static vexfs_status insert_exact(world *w) { return db_insert_range(w->col[1], 0, 40); }
static vexfs_status insert_more(world *w) { return db_insert_range(w->col[0], 100, 30); }
static void inserted_graph(world *w) { db_model_insert(&w->want.model[0], 0, 60); }
static void inserted_exact(world *w) { db_model_insert(&w->want.model[1], 0, 40); }
static void inserted_more(world *w) { db_model_insert(&w->want.model[0], 100, 30); }
/* LSH: the first batch trains it; the second fills its buckets past their capacity */
static vexfs_status insert_lsh(world *w) { return db_insert_range(w->col[4], 0, 30); }
static vexfs_status insert_lsh_more(world *w) { return db_insert_range(w->col[4], 200, 20); }
static void inserted_lsh(world *w) { db_model_insert(&w->want.model[4], 0, 30); }
static void inserted_lsh_more(world *w) { db_model_insert(&w->want.model[4], 200, 20); }

static vexfs_status index_group(world *w) {
  return vexfs_create_payload_index(w->col[0], "group", VEXFS_PAYLOAD_INDEX_KEYWORD);
}
static vexfs_status index_id(world *w) {
  return vexfs_create_payload_index(w->col[0], "id", VEXFS_PAYLOAD_INDEX_NUMERIC);
}
static vexfs_status unindex_group(world *w) {
  return vexfs_drop_payload_index(w->col[0], "group", VEXFS_PAYLOAD_INDEX_KEYWORD);
}
static void no_change(world *w) { (void)w; }

static void set_model_payload(world *w, int col, uint64_t id, const char *json) {
  free(w->want.model[col].payload[id]);
  w->want.model[col].payload[id] = json ? strdup(json) : NULL;
}

static const char replacement[] = "{\"group\":9,\"tag\":\"new\"}";
static vexfs_status replace_payload(world *w) {
  return vexfs_set_payload(w->col[0], 4, replacement, VEXFS_PAYLOAD_REPLACE);
}
static void replaced_payload(world *w) { set_model_payload(w, 0, 4, replacement); }

/* A 12 KB patch merged over an existing payload (its merge used to free the live payload when a
 * later step failed). */
static char big_patch[12 * 1024 + 64];
static char merged_payload[sizeof big_patch + 128];
static vexfs_status merge_payload(world *w) {
  return vexfs_set_payload(w->col[0], 5, big_patch, VEXFS_PAYLOAD_MERGE);
}
static void merged(world *w) { set_model_payload(w, 0, 5, merged_payload); }

static vexfs_status drop_payload(world *w) {
  return vexfs_set_payload(w->col[0], 7, NULL, VEXFS_PAYLOAD_REPLACE);
}
static void dropped_payload(world *w) { set_model_payload(w, 0, 7, NULL); }

/* Upserts of ids [first, first + 10), half of them present: payloads replaced, rows moved. */
static const char upserted[] = "{\"group\":8,\"tag\":\"up\"}";
static vexfs_status upsert_rows(world *w, int col, uint64_t first) {
  uint64_t ids[10];
  float vecs[10 * DIM];
  const char *payloads[10];
  for (int i = 0; i < 10; i++) {
    ids[i] = first + (uint64_t)i;
    db_vector(ids[i], DIM, vecs + i * DIM);
    payloads[i] = upserted;
  }
  return vexfs_upsert(w->col[col], ids, vecs, payloads, 10);
}
static void upserted_rows(world *w, int col, uint64_t first) {
  for (uint64_t id = first; id < first + 10; id++) {
    w->want.model[col].present[id] = 1;
    set_model_payload(w, col, id, upserted);
  }
}
static vexfs_status upsert_graph(world *w) { return upsert_rows(w, 0, 55); }
static void upserted_graph(world *w) { upserted_rows(w, 0, 55); }
static vexfs_status upsert_ivf(world *w) { return upsert_rows(w, 2, IVF_ROWS - 5); }
static void upserted_ivf(world *w) { upserted_rows(w, 2, IVF_ROWS - 5); }

static const uint64_t removed_ids[] = {3, 10, 11, 20, 59};
static vexfs_status remove_rows(world *w) { return vexfs_remove(w->col[0], removed_ids, 5); }
static void removed_rows(world *w) {
  for (int i = 0; i < 5; i++) db_model_remove(&w->want.model[0], removed_ids[i]);
}
static vexfs_status remove_ivf_rows(world *w) { return vexfs_remove(w->col[2], removed_ids, 5); }
static void removed_ivf_rows(world *w) {
  for (int i = 0; i < 5; i++) db_model_remove(&w->want.model[2], removed_ids[i]);
}
static const uint64_t lsh_removed_ids[] = {3, 10, 29, 200, 219};
static vexfs_status remove_lsh_rows(world *w) { return vexfs_remove(w->col[4], lsh_removed_ids, 5); }
static void removed_lsh_rows(world *w) {
  for (int i = 0; i < 5; i++) db_model_remove(&w->want.model[4], lsh_removed_ids[i]);
}

/* Searches change nothing; one that succeeds must answer as a search without faults does. */
static const char *const filters[] = {
    NULL,
    "{\"must\": [{\"key\": \"group\", \"match\": {\"value\": 2}}]}",
    "{\"must\": [{\"key\": \"id\", \"range\": {\"gte\": 20, \"lt\": 50}}]}",
    "{\"should\": [{\"has_id\": [1, 2, 40]}, {\"key\": \"tag\", \"match\": {\"any\": [\"t1\"]}}]}",
    "{\"must_not\": [{\"key\": \"group\", \"match\": {\"value\": 1}}]}",
};
enum { NFILTERS = sizeof filters / sizeof *filters, NQ = 4, K = 7 };

static vexfs_status search_all(world *w, uint64_t *ids, float *dist) {
  float q[NQ * DIM];
  for (int i = 0; i < NQ; i++) db_vector((uint64_t)i * 13, DIM, q + i * DIM);
  for (int c = 0; c < NCOLS; c++)
    for (size_t f = 0; f < NFILTERS; f++) {
      vexfs_search_params p;
      vexfs_search_params_init(&p);
      p.filter_json = filters[f];
      p.ef = 64;
      size_t at = (c * NFILTERS + f) * NQ * K;
      vexfs_status st = vexfs_search(w->col[c], q, NQ, K, &p, ids + at, dist + at, NULL);
      if (st != VEXFS_OK) return st;
    }
  return VEXFS_OK;
}

static vexfs_status search_step(world *w) {
  uint64_t ids[NCOLS * NFILTERS * NQ * K], want_ids[NCOLS * NFILTERS * NQ * K];
  float dist[NCOLS * NFILTERS * NQ * K], want_dist[NCOLS * NFILTERS * NQ * K];
  vexfs_status st = search_all(w, ids, dist);
  if (st != VEXFS_OK) return st;
  long saved = atomic_exchange(&countdown, -1); /* the reference runs without faults */
  assert_int_equal(search_all(w, want_ids, want_dist), VEXFS_OK);
  atomic_store(&countdown, saved);
  assert_memory_equal(ids, want_ids, sizeof ids);
  assert_memory_equal(dist, want_dist, sizeof dist);
  return VEXFS_OK;
}

static vexfs_status payload_search(world *w) {
  float q[DIM];
  db_vector(8, DIM, q);
  uint64_t ids[K];
  float dist[K];
  char *docs[K];
  vexfs_status st = vexfs_search_with_payload(w->col[0], q, 1, K, NULL, ids, dist, NULL, docs);
  for (int i = 0; st == VEXFS_OK && i < K; i++) vexfs_free(docs[i]);
  return st;
}

static vexfs_status read_back(world *w) {
  uint64_t *ids;
  size_t n;
  vexfs_status st = vexfs_list_ids(w->col[0], &ids, &n);
  if (st != VEXFS_OK) return st;
  vexfs_free(ids);
  char **list;
  if ((st = vexfs_db_list_collections(w->db, &list, &n)) != VEXFS_OK) return st;
  vexfs_free(list);
  char *text = vexfs_metrics_json(w->col[0]);
  if (!text) return VEXFS_E_NOMEM;
  vexfs_free(text);
  if (!(text = vexfs_metrics_prometheus(NULL))) return VEXFS_E_NOMEM;
  vexfs_free(text);
  char *json;
  if ((st = vexfs_get_payload(w->col[0], 1, &json)) != VEXFS_OK) return st;
  vexfs_free(json);
  return VEXFS_OK;
}

/* vexfs_db_check of a small database of its own (made without faults: a snapshot of an HNSW
 * collection with payloads and an index, and a log after it), and the world's payload indexes
 * listed: both only read. */
static vexfs_status check_small_database(world *w) {
  char *dir = db_tempdir();
  long saved = atomic_exchange(&countdown, -1);
  vexfs_db *db;
  vexfs_collection *c;
  vexfs_collection_config cfg = config(VEXFS_INDEX_HNSW);
  assert_int_equal(vexfs_db_open(dir, NULL, &db), VEXFS_OK);
  assert_int_equal(vexfs_db_create_collection(db, "c", &cfg, &c), VEXFS_OK);
  assert_int_equal(vexfs_create_payload_index(c, "group", VEXFS_PAYLOAD_INDEX_KEYWORD), VEXFS_OK);
  assert_int_equal(db_insert_range(c, 0, 20), VEXFS_OK);
  assert_int_equal(vexfs_db_close(db), VEXFS_OK); /* checkpoints */
  assert_int_equal(vexfs_db_open(dir, NULL, &db), VEXFS_OK);
  assert_int_equal(vexfs_db_get_collection(db, "c", &c), VEXFS_OK);
  assert_int_equal(db_insert_range(c, 20, 5), VEXFS_OK);
  char *image = db_tempdir(); /* the files as they are now: the log holds the last insert */
  copy_dir(dir, image);
  assert_int_equal(vexfs_db_close(db), VEXFS_OK);
  atomic_store(&countdown, saved);

  char *report = NULL;
  vexfs_status st = vexfs_db_check(image, &report);
  if (st == VEXFS_OK) assert_non_null(strstr(report, "{\"name\":\"c\",\"vectors\":25}"));
  else assert_null(report);
  vexfs_free(report);
  db_rmdir(image);
  db_rmdir(dir);
  free(image);
  free(dir);
  char *indexes;
  if (st == VEXFS_OK && (st = vexfs_list_payload_indexes(w->col[0], &indexes)) == VEXFS_OK) {
    assert_string_equal(indexes, "[{\"key\":\"group\",\"kind\":\"keyword\"},"
                                 "{\"key\":\"id\",\"kind\":\"numeric\"}]");
    vexfs_free(indexes);
  }
  return st;
}

static vexfs_status checkpoint(world *w) { return vexfs_db_checkpoint(w->db); }

static vexfs_status drop_exact(world *w) { return vexfs_db_drop_collection(w->db, names[1]); }
static void dropped_exact(world *w) {
  w->want.exists[1] = 0;
  db_model_clear(&w->want.model[1]);
}

/* Closing checkpoints; a close that fails for memory still frees everything and loses nothing. */
static vexfs_status close_and_reopen(world *w) {
  vexfs_status closed = vexfs_db_close(w->db);
  w->db = NULL;
  vexfs_status st = vexfs_db_open(w->dir, NULL, &w->db);
  if (st == VEXFS_OK) refresh_handles(w);
  if (st == VEXFS_OK && closed != VEXFS_OK) st = closed;
  return st;
}

static const step steps[] = {
    {"create an HNSW collection", create_graph, created_graph},
    {"create a flat collection", create_exact, created_exact},
    {"create an LSH collection", create_lsh, created_lsh},
    {"insert with payloads (HNSW)", insert_graph, inserted_graph},
    {"insert with payloads (flat)", insert_exact, inserted_exact},
    {"create a coded (SQ8) HNSW collection", create_coded, created_coded},
    {"insert (coded)", insert_coded, inserted_coded},
    {"insert past the codes' range", insert_coded_more, inserted_coded_more},
    {"create an IVF collection", create_ivf_f32, created_ivf_f32},
    {"create an IVF-SQ8 collection", create_ivf_sq8, created_ivf_sq8},
    {"insert, training IVF", insert_ivf_f32, inserted_ivf_f32},
    {"insert, training IVF-SQ8", insert_ivf_sq8, inserted_ivf_sq8},
    {"insert with payloads (LSH)", insert_lsh, inserted_lsh},
    {"insert more (LSH)", insert_lsh_more, inserted_lsh_more},
    {"create a keyword index", index_group, no_change},
    {"create a numeric index", index_id, no_change},
    {"replace a payload", replace_payload, replaced_payload},
    {"merge a 12 KB payload", merge_payload, merged},
    {"drop a payload", drop_payload, dropped_payload},
    {"upsert over the graph", upsert_graph, upserted_graph},
    {"upsert over IVF lists", upsert_ivf, upserted_ivf},
    {"search with filters", search_step, no_change},
    {"search with payloads", payload_search, no_change},
    {"remove from the graph", remove_rows, removed_rows},
    {"insert into freed rows", insert_more, inserted_more},
    {"remove from IVF lists", remove_ivf_rows, removed_ivf_rows},
    {"insert into freed IVF rows", insert_more_ivf, inserted_more_ivf},
    {"remove from LSH", remove_lsh_rows, removed_lsh_rows},
    {"remove (coded)", remove_coded_rows, removed_coded_rows},
    {"read back ids, names, metrics", read_back, no_change},
    {"check a database, list indexes", check_small_database, no_change},
    {"drop a payload index", unindex_group, no_change},
    {"checkpoint", checkpoint, no_change},
    {"drop a collection", drop_exact, dropped_exact},
    {"close and reopen", close_and_reopen, no_change},
};

/* ---- the loop ---- */

static void open_world(world *w, const char *base) {
  copy_dir(base, w->dir);
  assert_int_equal(vexfs_db_open(w->dir, NULL, &w->db), VEXFS_OK);
  refresh_handles(w);
}

static void close_world(world *w) {
  if (w->db) assert_int_equal(vexfs_db_close(w->db), VEXFS_OK);
  w->db = NULL;
  db_rmdir(w->dir);
  assert_int_equal(mkdir(w->dir, 0755), 0);
}

/* Runs step s over the database in base (holding `before`) with its n-th allocation failing
 * (and, when all_after, every one after it), for n = 0, 1, ... until the step makes fewer than
 * n + 1 allocations. Returns the attempts made. */
static long run_step(const step *s, world *w, const char *base, const contents *before,
                     int all_after) {
  for (long n = 0;; n++) {
    contents_copy(&w->want, before);
    open_world(w, base);
    arm(n, all_after);
    vexfs_status st = s->run(w);
    disarm();
    int failed = atomic_load(&fired);
    if (st == VEXFS_OK) {
      s->apply(w); /* it survived the failure, or met none: its whole work is done */
    } else if (st != VEXFS_E_NOMEM || !failed) {
      fail_msg("%s, allocation %ld failing: status %d, \"%s\"", s->name, n, (int)st,
               vexfs_last_error());
    } else if (!strstr(vexfs_last_error(), "memory")) {
      fail_msg("%s, allocation %ld failing: the message \"%s\" says nothing of memory", s->name,
               n, vexfs_last_error());
    }
    if (!w->db) { /* it closed the database and could not reopen it: it must open now */
      assert_int_equal(vexfs_db_open(w->dir, NULL, &w->db), VEXFS_OK);
      refresh_handles(w);
    }
    if (!holds_model(w->db, w))
      fail_msg("%s, allocation %ld failing (status %d): the database differs from the model",
               s->name, n, (int)st);
    if (!disk_holds_model(w))
      fail_msg("%s, allocation %ld failing (status %d): the files differ from the model", s->name,
               n, (int)st);
    close_world(w);
    if (!failed) return n + 1;
  }
}

static void test_every_allocation_fails(void **state) {
  (void)state;
  strcpy(big_patch, "{\"note\":\"");
  memset(big_patch + 9, 'x', 12 * 1024);
  strcpy(big_patch + 9 + 12 * 1024, "\"}");
  snprintf(merged_payload, sizeof merged_payload, "{\"id\":5,\"group\":5,\"tag\":\"t0\",%s",
           big_patch + 1);

  char *base = db_tempdir(), *work = db_tempdir();
  world w = {.dir = work};
  contents before = {0};
  vexfs_db *db;
  assert_int_equal(vexfs_db_open(base, NULL, &db), VEXFS_OK); /* an empty database */
  assert_int_equal(vexfs_db_close(db), VEXFS_OK);
  for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
    long attempts = run_step(&steps[i], &w, base, &before, 0);
    attempts += run_step(&steps[i], &w, base, &before, 1);
    /* base moves on by the step, made without faults */
    contents_copy(&w.want, &before);
    open_world(&w, base);
    assert_int_equal(steps[i].run(&w), VEXFS_OK);
    steps[i].apply(&w);
    assert_int_equal(vexfs_db_close(w.db), VEXFS_OK);
    w.db = NULL;
    db_rmdir(base);
    assert_int_equal(mkdir(base, 0755), 0);
    copy_dir(work, base);
    close_world(&w);
    contents_copy(&before, &w.want);
    printf("  %-34s %ld attempts\n", steps[i].name, attempts);
  }
  contents_clear(&before);
  contents_clear(&w.want);
  db_rmdir(base);
  db_rmdir(work);
  free(base);
  free(work);
}

int main(void) {
  vexfs_allocator a = {sizeof a, failing_alloc, plain_free, NULL};
  if (vexfs_set_allocator(&a) != VEXFS_OK) return 1; /* before anything allocates */
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_allocation_fails),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Storage kinds (vexfs_storage F16, SQ8, SQ4) and the exact-copy policies they take (vexfs_rerank
 * IN_MEMORY, MAPPED, NONE), on FLAT and HNSW: which configurations are accepted, what vexfs_get
 * returns without an exact copy, lossless codes, codes refitted as data leaves their range,
 * answers against an F32 twin, removes and filters, snapshots and the log, crafted snapshots,
 * and searches running while inserts re-code the rows. */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "snapshot_edit.h"
#include "vexfs/vexfs.h"

#define DIM 47 /* odd: SQ4's last byte holds one coordinate */
#define N 1200
#define NQ 16
#define K 10

static const vexfs_storage CODED[] = {VEXFS_STORAGE_F16, VEXFS_STORAGE_SQ8, VEXFS_STORAGE_SQ4};
static const char *const CODED_NAME[] = {"f16", "sq8", "sq4"};
static const vexfs_rerank RERANKS[] = {VEXFS_RERANK_IN_MEMORY, VEXFS_RERANK_MAPPED,
                                       VEXFS_RERANK_NONE};

static vexfs_collection_config config(vexfs_index_kind kind, vexfs_storage storage,
                                      vexfs_rerank rerank) {
  vexfs_collection_config cfg;
  vexfs_collection_config_init(&cfg);
  cfg.dim = DIM;
  cfg.index = kind;
  cfg.hnsw_m = 12;
  cfg.hnsw_ef_construction = 80;
  cfg.hnsw_ef_search = 64;
  cfg.hnsw_seed = 3;
  cfg.threads = 1;
  cfg.storage = storage;
  cfg.rerank = rerank;
  return cfg;
}

static vexfs_collection *standalone(vexfs_index_kind kind, vexfs_storage storage,
                                    vexfs_rerank rerank) {
  vexfs_collection_config cfg = config(kind, storage, rerank);
  vexfs_collection *c = NULL;
  assert_int_equal(vexfs_collection_create(&cfg, &c), VEXFS_OK);
  return c;
}

/* Vectors of id: clustered reals (24 centres), so that neighbours are meaningful. */
static void vector_of(uint64_t id, float scale, float *out) {
  float centre[DIM];
  db_vector(1000000 + id % 24, DIM, centre);
  db_vector(id, DIM, out);
  for (size_t d = 0; d < DIM; d++) out[d] = scale * (4 * centre[d] + 0.6f * out[d]);
}

static void insert_range(vexfs_collection *c, uint64_t first, size_t n, float scale) {
  uint64_t *ids = malloc(n * sizeof *ids);
  float *v = malloc(n * DIM * sizeof *v);
  const char **payloads = malloc(n * sizeof *payloads);
  char (*text)[32] = malloc(n * sizeof *text);
  for (size_t i = 0; i < n; i++) {
    ids[i] = first + i;
    vector_of(ids[i], scale, v + i * DIM);
    snprintf(text[i], sizeof text[i], "{\"g\":%d}", (int)(ids[i] % 4));
    payloads[i] = text[i];
  }
  assert_int_equal(vexfs_upsert(c, ids, v, payloads, n), VEXFS_OK);
  free(ids);
  free(v);
  free(payloads);
  free(text);
}

static void queries(float *q) {
  for (size_t i = 0; i < NQ; i++) vector_of(7 * i + 3, 1.0f, q + i * DIM);
  for (size_t i = 0; i < NQ * DIM; i++) q[i] += 0.01f;
}

static void search(vexfs_collection *c, const char *filter, int exact, uint64_t *ids,
                   float *dist) {
  float q[NQ * DIM];
  queries(q);
  vexfs_search_params p;
  vexfs_search_params_init(&p);
  p.threads = 1;
  p.exact = (uint32_t)exact;
  p.filter_json = filter;
  assert_int_equal(vexfs_search(c, q, NQ, K, &p, ids, dist, NULL), VEXFS_OK);
}

static double recall(const uint64_t *got, const uint64_t *want) {
  size_t hit = 0;
  for (size_t i = 0; i < NQ; i++)
    for (size_t a = 0; a < K; a++)
      for (size_t b = 0; b < K; b++) hit += got[i * K + a] == want[i * K + b];
  return (double)hit / (NQ * K);
}

/* The codes object of a collection's metrics JSON: whether it says lossless (1, 0), or -1. */
static int codes_lossless(vexfs_collection *c, const char *storage) {
  char *json = vexfs_metrics_json(c);
  char want[64];
  snprintf(want, sizeof want, "\"codes\":{\"storage\":\"%s\",\"lossless\":", storage);
  const char *at = strstr(json, want);
  int r = at ? strncmp(at + strlen(want), "true", 4) == 0 : -1;
  vexfs_free(json);
  return r;
}

static vexfs_db *open_db(const char *path);

/* ---- configurations ---- */

static void test_configurations(void **state) {
  (void)state;
  vexfs_collection *c = NULL;
  for (size_t s = 0; s < 3; s++) {
    for (vexfs_index_kind k = VEXFS_INDEX_AUTO; k <= VEXFS_INDEX_IVF; k++) {
      vexfs_collection_config cfg = config(k, CODED[s], VEXFS_RERANK_IN_MEMORY);
      vexfs_status st = vexfs_collection_create(&cfg, &c);
      if (k == VEXFS_INDEX_FLAT || k == VEXFS_INDEX_HNSW) {
        assert_int_equal(st, VEXFS_OK);
        vexfs_collection_free(c);
        cfg.rerank = VEXFS_RERANK_NONE;
        assert_int_equal(vexfs_collection_create(&cfg, &c), VEXFS_OK);
        vexfs_collection_free(c);
        cfg.rerank = VEXFS_RERANK_MAPPED; /* a standalone collection has no files */
        assert_int_equal(vexfs_collection_create(&cfg, &c), VEXFS_E_INVALID);
      } else {
        assert_int_equal(st, VEXFS_E_INVALID);
        assert_non_null(strstr(vexfs_last_error(), "FLAT and HNSW"));
      }
    }
  }
  vexfs_collection_config cfg = config(VEXFS_INDEX_FLAT, VEXFS_STORAGE_F32, VEXFS_RERANK_NONE);
  assert_int_equal(vexfs_collection_create(&cfg, &c), VEXFS_E_INVALID);
  cfg.storage = (vexfs_storage)4;
  assert_int_equal(vexfs_collection_create(&cfg, &c), VEXFS_E_INVALID);
  cfg.storage = (vexfs_storage)-1;
  assert_int_equal(vexfs_collection_create(&cfg, &c), VEXFS_E_INVALID);
}

/* ---- what NONE keeps ---- */

/* Integers within 256 values code exactly in SQ8 (and F16): without an exact copy, gets and
 * exact distances are the F32 twin's, bit for bit, and the metrics say the codes are lossless.
 * SQ4's 16 levels cannot hold them, and say so. */
static void test_lossless_integers(void **state) {
  (void)state;
  for (size_t s = 0; s < 3; s++)
    for (vexfs_index_kind k = VEXFS_INDEX_FLAT; k <= VEXFS_INDEX_HNSW; k++) {
      vexfs_collection *c = standalone(k, CODED[s], VEXFS_RERANK_NONE);
      vexfs_collection *twin = standalone(VEXFS_INDEX_FLAT, VEXFS_STORAGE_F32, VEXFS_RERANK_IN_MEMORY);
      uint64_t ids[N];
      float *v = malloc(N * DIM * sizeof *v);
      uint64_t seed = 11;
      for (size_t i = 0; i < N; i++) {
        ids[i] = i;
        for (size_t d = 0; d < DIM; d++) v[i * DIM + d] = (float)(test_rng(&seed) % 256) - 100.0f;
      }
      assert_int_equal(vexfs_insert(c, ids, v, N), VEXFS_OK);
      assert_int_equal(vexfs_insert(twin, ids, v, N), VEXFS_OK);
      int lossless = CODED[s] != VEXFS_STORAGE_SQ4;
      assert_int_equal(codes_lossless(c, CODED_NAME[s]), lossless);
      float got[DIM];
      assert_int_equal(vexfs_get(c, 77, got), VEXFS_OK);
      if (lossless) assert_memory_equal(got, v + 77 * DIM, sizeof got);
      if (lossless) {
        uint64_t a[NQ * K], b[NQ * K];
        float da[NQ * K], db[NQ * K];
        search(c, NULL, 1, a, da);
        search(twin, NULL, 1, b, db);
        assert_memory_equal(a, b, sizeof a);
        assert_memory_equal(da, db, sizeof da);
      }
      free(v);
      vexfs_collection_free(c);
      vexfs_collection_free(twin);
    }
}

/* Real numbers: vexfs_get of a NONE collection returns the decoded code, within half a step of
 * the vector inserted (SQ: span / levels over the batch's widest coordinate; F16: 2^-11
 * relative); with an exact copy, the vector itself. */
static void test_get_decodes(void **state) {
  (void)state;
  for (size_t s = 0; s < 3; s++)
    for (size_t r = 0; r < 3; r += 2) {
      vexfs_collection *c = standalone(VEXFS_INDEX_HNSW, CODED[s], RERANKS[r]);
      insert_range(c, 0, N, 1.0f);
      float lo[DIM], hi[DIM], span = 0, v[DIM], got[DIM];
      for (size_t d = 0; d < DIM; d++) lo[d] = INFINITY, hi[d] = -INFINITY;
      for (uint64_t id = 0; id < N; id++) {
        vector_of(id, 1.0f, v);
        for (size_t d = 0; d < DIM; d++) lo[d] = fminf(lo[d], v[d]), hi[d] = fmaxf(hi[d], v[d]);
      }
      for (size_t d = 0; d < DIM; d++) span = fmaxf(span, hi[d] - lo[d]);
      float step = span / (CODED[s] == VEXFS_STORAGE_SQ4 ? 15.0f : 255.0f);
      double worst = 0;
      for (uint64_t id = 0; id < N; id += 37) {
        vector_of(id, 1.0f, v);
        assert_int_equal(vexfs_get(c, id, got), VEXFS_OK);
        for (size_t d = 0; d < DIM; d++) {
          double err = fabs((double)got[d] - v[d]);
          double bound = RERANKS[r] != VEXFS_RERANK_NONE ? 0
                         : CODED[s] == VEXFS_STORAGE_F16 ? fabs(v[d]) * 0x1p-11
                                                           : step * 0.5001;
          assert_true(err <= bound);
          worst = err > worst ? err : worst;
        }
      }
      if (RERANKS[r] == VEXFS_RERANK_NONE) assert_true(worst > 0); /* the codes are lossy here */
      assert_int_equal(codes_lossless(c, CODED_NAME[s]), 0); /* real numbers */
      vexfs_collection_free(c);
    }
}

/* A batch far outside the first one's range refits the codes: every row re-coded, the old ones
 * from their codes where there is no exact copy. Each row is then still found by its own
 * vector, and gets stay within a step of the new, wider range. */
static void test_refit(void **state) {
  (void)state;
  for (size_t s = 1; s < 3; s++)
    for (vexfs_index_kind k = VEXFS_INDEX_FLAT; k <= VEXFS_INDEX_HNSW; k++) {
      vexfs_collection *c = standalone(k, CODED[s], VEXFS_RERANK_NONE);
      insert_range(c, 0, 1, 1.0f);       /* one row: a range of width 0 */
      insert_range(c, 1, 400, 0.1f);     /* inside and past it */
      insert_range(c, 401, 400, 10.0f);  /* 100 times wider */
      float v[DIM], got[DIM];
      uint64_t ids[K];
      float dist[K];
      vexfs_search_params p;
      vexfs_search_params_init(&p);
      p.threads = 1;
      size_t found = 0;
      for (uint64_t id = 0; id < 801; id += 20) {
        vector_of(id, id == 0 ? 1.0f : id <= 400 ? 0.1f : 10.0f, v);
        assert_int_equal(vexfs_get(c, id, got), VEXFS_OK);
        /* within half a step of the final range (the rows coded before: plus half an older,
         * finer step), bounded here by a step of a span above any this data reaches */
        for (size_t d = 0; d < DIM; d++)
          assert_true(fabsf(got[d] - v[d]) <= 10.0f * 10.0f * 1.5f /
                                                   (CODED[s] == VEXFS_STORAGE_SQ4 ? 15 : 255));
        if (id > 400) {
          assert_int_equal(vexfs_search(c, got, 1, K, &p, ids, dist, NULL), VEXFS_OK);
          found += ids[0] == id;
        }
      }
      assert_true(found >= 18); /* of 20: a decoded row's nearest is nearly always itself */
      vexfs_collection_free(c);
    }
}

/* F16 without an exact copy keeps only half floats: an element past 65504 is refused, naming
 * it, and nothing is inserted; with an exact copy it is accepted (and returned exactly). */
static void test_f16_range(void **state) {
  (void)state;
  float v[DIM] = {0};
  v[5] = 70000.0f;
  uint64_t id = 1;
  vexfs_collection *none = standalone(VEXFS_INDEX_FLAT, VEXFS_STORAGE_F16, VEXFS_RERANK_NONE);
  assert_int_equal(vexfs_insert(none, &id, v, 1), VEXFS_E_INVALID);
  assert_non_null(strstr(vexfs_last_error(), "element 5"));
  assert_int_equal(vexfs_count(none), 0);
  v[5] = -65504.0f; /* the largest half float is held exactly */
  assert_int_equal(vexfs_insert(none, &id, v, 1), VEXFS_OK);
  float got[DIM];
  assert_int_equal(vexfs_get(none, id, got), VEXFS_OK);
  assert_memory_equal(got, v, sizeof got);
  vexfs_collection *copy = standalone(VEXFS_INDEX_HNSW, VEXFS_STORAGE_F16, VEXFS_RERANK_IN_MEMORY);
  v[5] = 70000.0f;
  assert_int_equal(vexfs_insert(copy, &id, v, 1), VEXFS_OK);
  assert_int_equal(vexfs_get(copy, id, got), VEXFS_OK);
  assert_memory_equal(got, v, sizeof got);
  vexfs_collection_free(none);
  vexfs_collection_free(copy);
}

/* Without an exact copy, cosine and IP searches (which score codes with stored norms: a row's is
 * its decoded vector's, through refits) answer alike before and after a reopen. */
static void test_none_norms_follow_codes(void **state) {
  (void)state;
  const vexfs_metric metrics[] = {VEXFS_METRIC_COSINE, VEXFS_METRIC_IP};
  char *dir = db_tempdir();
  for (size_t m = 0; m < 2; m++)
    for (size_t s = 0; s < 3; s++)
      for (vexfs_index_kind k = VEXFS_INDEX_FLAT; k <= VEXFS_INDEX_HNSW; k++) {
        vexfs_db *db = open_db(dir);
        vexfs_collection_config cfg = config(k, CODED[s], VEXFS_RERANK_NONE);
        cfg.metric = metrics[m];
        vexfs_collection *c = NULL;
        assert_int_equal(vexfs_db_create_collection(db, "c", &cfg, &c), VEXFS_OK);
        insert_range(c, 0, 400, 0.3f);
        insert_range(c, 400, 400, 1.0f); /* a refit re-codes the first rows */
        assert_int_equal(vexfs_db_checkpoint(db), VEXFS_OK);
        uint64_t before[NQ * K], after[NQ * K];
        float bd[NQ * K], ad[NQ * K];
        search(c, NULL, 0, before, bd);
        assert_int_equal(vexfs_db_close(db), VEXFS_OK);
        db = open_db(dir);
        assert_int_equal(vexfs_db_get_collection(db, "c", &c), VEXFS_OK);
        search(c, NULL, 0, after, ad);
        assert_memory_equal(after, before, sizeof after);
        assert_memory_equal(ad, bd, sizeof ad);
        assert_int_equal(vexfs_db_drop_collection(db, "c"), VEXFS_OK);
        assert_int_equal(vexfs_db_close(db), VEXFS_OK);
      }
  db_rmdir(dir);
  free(dir);
}

/* ---- answers ---- */

/* Against an exact F32 twin: exact searches (FLAT, or HNSW's exact path) with an exact copy give
 * the same ids and the same exact distances; HNSW searches keep a high recall; filters admit
 * only what they say, and removed ids never come back. */
static void test_answers(void **state) {
  (void)state;
  vexfs_collection *twin = standalone(VEXFS_INDEX_FLAT, VEXFS_STORAGE_F32, VEXFS_RERANK_IN_MEMORY);
  insert_range(twin, 0, N, 1.0f);
  uint64_t gone[] = {3, 10, 17, 500, 1001};
  assert_int_equal(vexfs_remove(twin, gone, 5), VEXFS_OK);
  uint64_t want[NQ * K], fwant[NQ * K];
  float wd[NQ * K], fwd[NQ * K];
  search(twin, NULL, 1, want, wd);
  const char *filter = "{\"must\":[{\"key\":\"g\",\"match\":{\"value\":1}}]}";
  search(twin, filter, 1, fwant, fwd);
  for (size_t s = 0; s < 3; s++)
    for (size_t r = 0; r < 3; r += 2)
      for (vexfs_index_kind k = VEXFS_INDEX_FLAT; k <= VEXFS_INDEX_HNSW; k++) {
        vexfs_collection *c = standalone(k, CODED[s], RERANKS[r]);
        insert_range(c, 0, N, 1.0f);
        assert_int_equal(vexfs_remove(c, gone, 5), VEXFS_OK);
        uint64_t got[NQ * K];
        float gd[NQ * K];
        for (int exact = 0; exact <= 1; exact++) {
          search(c, NULL, exact, got, gd);
          double rc = recall(got, want);
          int exact_scan = k == VEXFS_INDEX_FLAT || exact;
          if (RERANKS[r] != VEXFS_RERANK_NONE && exact_scan) {
            assert_memory_equal(got, want, sizeof got);
            assert_memory_equal(gd, wd, sizeof gd);
          } else {
            double floor = CODED[s] == VEXFS_STORAGE_SQ4 && RERANKS[r] == VEXFS_RERANK_NONE ? 0.5
                                                                                            : 0.9;
            if (rc < floor) fprintf(stderr, "storage %zu rerank %zu index %d: recall %.3f\n", s, r, k, rc);
            assert_true(rc >= floor);
          }
          for (size_t i = 0; i < NQ * K; i++)
            for (size_t g = 0; g < 5; g++) assert_true(got[i] != gone[g]);
        }
        search(c, filter, 0, got, gd);
        for (size_t i = 0; i < NQ * K; i++) {
          assert_true(got[i] != UINT64_MAX);
          assert_int_equal(got[i] % 4, 1);
        }
        if (RERANKS[r] != VEXFS_RERANK_NONE) assert_true(recall(got, fwant) >= 0.9);
        vexfs_collection_free(c);
      }
  vexfs_collection_free(twin);
}

/* IP and cosine score SQ codes with their dot products' corrections (each code's lx): with an
 * exact copy FLAT gives the F32 twin's answers, HNSW a high recall, with and without the copy,
 * also after a checkpoint and reopen (NONE's corrections are recomputed from the loaded codes). */
static void test_ip_and_cosine(void **state) {
  (void)state;
  const vexfs_metric metrics[] = {VEXFS_METRIC_IP, VEXFS_METRIC_COSINE};
  char *dir = db_tempdir();
  for (size_t m = 0; m < 2; m++) {
    vexfs_collection_config tc = config(VEXFS_INDEX_FLAT, VEXFS_STORAGE_F32, VEXFS_RERANK_IN_MEMORY);
    tc.metric = metrics[m];
    vexfs_collection *twin = NULL;
    assert_int_equal(vexfs_collection_create(&tc, &twin), VEXFS_OK);
    insert_range(twin, 0, N, 1.0f); /* the queries' scale: SQ codes a query in the data's range */
    uint64_t want[NQ * K];
    float wd[NQ * K];
    search(twin, NULL, 1, want, wd);
    for (size_t s = 0; s < 3; s++)
      for (size_t r = 0; r < 3; r += 2)
        for (vexfs_index_kind k = VEXFS_INDEX_FLAT; k <= VEXFS_INDEX_HNSW; k++) {
          vexfs_db *db = open_db(dir);
          vexfs_collection_config cfg = config(k, CODED[s], RERANKS[r]);
          cfg.metric = metrics[m];
          vexfs_collection *c = NULL;
          assert_int_equal(vexfs_db_create_collection(db, "c", &cfg, &c), VEXFS_OK);
          insert_range(c, 0, N, 1.0f);
          for (int reopened = 0; reopened < 2; reopened++) {
            uint64_t got[NQ * K];
            float gd[NQ * K];
            search(c, NULL, 0, got, gd);
            double rc = recall(got, want);
            if (k == VEXFS_INDEX_FLAT && RERANKS[r] != VEXFS_RERANK_NONE) {
              assert_memory_equal(got, want, sizeof got);
              assert_memory_equal(gd, wd, sizeof gd);
            } else {
              double floor = CODED[s] == VEXFS_STORAGE_SQ4 && RERANKS[r] == VEXFS_RERANK_NONE ? 0.4 : 0.85;
              if (rc < floor) fprintf(stderr, "metric %d storage %zu rerank %zu index %d: %.3f\n", (int)metrics[m], s, r, k, rc);
              assert_true(rc >= floor);
            }
            assert_int_equal(vexfs_db_checkpoint(db), VEXFS_OK);
            assert_int_equal(vexfs_db_close(db), VEXFS_OK);
            db = open_db(dir);
            assert_int_equal(vexfs_db_get_collection(db, "c", &c), VEXFS_OK);
          }
          assert_int_equal(vexfs_db_drop_collection(db, "c"), VEXFS_OK);
          assert_int_equal(vexfs_db_close(db), VEXFS_OK);
        }
    vexfs_collection_free(twin);
  }
  db_rmdir(dir);
  free(dir);
}

/* ---- persistence ---- */

static vexfs_db *open_db(const char *path) {
  vexfs_db_options o;
  vexfs_db_options_init(&o);
  vexfs_db *db = NULL;
  if (vexfs_db_open(path, &o, &db) != VEXFS_OK) fprintf(stderr, "open: %s\n", vexfs_last_error());
  return db;
}

static void name_of(char *out, size_t s, size_t r, vexfs_index_kind k) {
  sprintf(out, "%s-%zu-%d", CODED_NAME[s], r, (int)k);
}

/* Every storage x rerank x index in one database: rows inserted across a refit, removed, then a
 * checkpoint, then more through the log; after reopening, the same gets, answers and distances,
 * bit for bit, and the same lossless claims. */
static void test_reopen(void **state) {
  (void)state;
  char *dir = db_tempdir();
  vexfs_db *db = open_db(dir);
  assert_non_null(db);
  uint64_t ids[18][NQ * K];
  float dist[18][NQ * K];
  int lossless[18];
  char name[32];
  for (int round = 0; round < 2; round++) {
    size_t i = 0;
    for (size_t s = 0; s < 3; s++)
      for (size_t r = 0; r < 3; r++)
        for (vexfs_index_kind k = VEXFS_INDEX_FLAT; k <= VEXFS_INDEX_HNSW; k++, i++) {
          name_of(name, s, r, k);
          vexfs_collection *c = NULL;
          if (round == 0) {
            vexfs_collection_config cfg = config(k, CODED[s], RERANKS[r]);
            assert_int_equal(vexfs_db_create_collection(db, name, &cfg, &c), VEXFS_OK);
            insert_range(c, 0, 300, 0.2f);
            insert_range(c, 300, 500, 1.0f); /* a refit */
            uint64_t gone[] = {5, 6, 7, 400};
            assert_int_equal(vexfs_remove(c, gone, 4), VEXFS_OK);
            continue;
          }
          assert_int_equal(vexfs_db_get_collection(db, name, &c), VEXFS_OK);
          insert_range(c, 800, 100, 3.0f); /* logged only, and another refit */
          search(c, NULL, 0, ids[i], dist[i]);
          lossless[i] = codes_lossless(c, CODED_NAME[s]);
          assert_true(lossless[i] >= 0);
        }
    if (round == 0) assert_int_equal(vexfs_db_checkpoint(db), VEXFS_OK);
  }
  float before[18][3][DIM];
  size_t i = 0;
  for (size_t s = 0; s < 3; s++)
    for (size_t r = 0; r < 3; r++)
      for (vexfs_index_kind k = VEXFS_INDEX_FLAT; k <= VEXFS_INDEX_HNSW; k++, i++) {
        name_of(name, s, r, k);
        vexfs_collection *c = NULL;
        assert_int_equal(vexfs_db_get_collection(db, name, &c), VEXFS_OK);
        uint64_t probe[3] = {0, 450, 850};
        for (size_t j = 0; j < 3; j++) assert_int_equal(vexfs_get(c, probe[j], before[i][j]), VEXFS_OK);
      }
  assert_int_equal(vexfs_db_close(db), VEXFS_OK);
  for (int reopen = 0; reopen < 2; reopen++) { /* from the log, then from a checkpoint of it all */
    db = open_db(dir);
    assert_non_null(db);
    i = 0;
    for (size_t s = 0; s < 3; s++)
      for (size_t r = 0; r < 3; r++)
        for (vexfs_index_kind k = VEXFS_INDEX_FLAT; k <= VEXFS_INDEX_HNSW; k++, i++) {
          name_of(name, s, r, k);
          vexfs_collection *c = NULL;
          assert_int_equal(vexfs_db_get_collection(db, name, &c), VEXFS_OK);
          assert_int_equal(vexfs_count(c), 896);
          uint64_t got[NQ * K];
          float gd[NQ * K], v[DIM];
          search(c, NULL, 0, got, gd);
          assert_memory_equal(got, ids[i], sizeof got);
          assert_memory_equal(gd, dist[i], sizeof gd);
          assert_int_equal(codes_lossless(c, CODED_NAME[s]), lossless[i]);
          uint64_t probe[3] = {0, 450, 850};
          for (size_t j = 0; j < 3; j++) {
            assert_int_equal(vexfs_get(c, probe[j], v), VEXFS_OK);
            assert_memory_equal(v, before[i][j], sizeof v);
          }
          assert_int_equal(vexfs_get(c, 6, v), VEXFS_E_NOT_FOUND);
        }
    if (reopen == 0) assert_int_equal(vexfs_db_checkpoint(db), VEXFS_OK);
    assert_int_equal(vexfs_db_close(db), VEXFS_OK);
  }
  assert_int_equal(vexfs_db_check(dir, NULL), VEXFS_OK);
  db_rmdir(dir);
  free(dir);
}

/* ---- crafted snapshots ---- */

static int edit_case;

/* Damages the CODES section in the way edit_case names, keeping its checksum valid. */
static void damage_codes(uint32_t kind, uint8_t **p, size_t *n) {
  if (kind != VX_SEC_CODES) return;
  uint8_t *b = *p;
  float f;
  switch (edit_case) {
  case 0: put_u32(b, 0, 9); break;                   /* an unknown format */
  case 1: put_u32(b, 4, VEXFS_STORAGE_SQ4); break;   /* another storage than the config's */
  case 2: f = 0; memcpy(b + 16, &f, 4); break;       /* scale 0 */
  case 3: f = NAN; memcpy(b + 20, &f, 4); break;     /* inverse scale NaN */
  case 4: f = INFINITY; memcpy(b + 32, &f, 4); break; /* an offset infinite */
  case 5: *n -= 3; break;                            /* a code short */
  case 6: *n = 10; break;                            /* the quantiser cut */
  case 7: { /* a code past float's range: its norm exceeds what any row may have */
    size_t codes = 32 + 3 * DIM * 4;
    for (size_t d = 0; d < DIM; d++) b[codes + d] = 255;
    f = 3e38f;
    memcpy(b + 16, &f, 4);
    f = 1.0f / f;
    memcpy(b + 20, &f, 4);
    break;
  }
  }
}

static void test_crafted(void **state) {
  (void)state;
  for (edit_case = 0; edit_case < 8; edit_case++) {
    char *dir = db_tempdir();
    vexfs_db *db = open_db(dir);
    vexfs_collection_config cfg = config(VEXFS_INDEX_HNSW, VEXFS_STORAGE_SQ8, VEXFS_RERANK_NONE);
    vexfs_collection *c = NULL;
    assert_int_equal(vexfs_db_create_collection(db, "c", &cfg, &c), VEXFS_OK);
    insert_range(c, 0, 50, 1.0f);
    assert_int_equal(vexfs_db_checkpoint(db), VEXFS_OK);
    assert_int_equal(vexfs_db_close(db), VEXFS_OK);
    char snap[DB_PATH_MAX];
    db_join(snap, dir, "snapshot.vxs");
    rewrite_snapshot(snap, damage_codes);
    vexfs_db_options o;
    vexfs_db_options_init(&o);
    db = NULL;
    vexfs_status st = vexfs_db_open(dir, &o, &db);
    if (st != VEXFS_E_CORRUPT) fprintf(stderr, "case %d: %d %s\n", edit_case, st, vexfs_last_error());
    assert_int_equal(st, VEXFS_E_CORRUPT);
    assert_null(db);
    db_rmdir(dir);
    free(dir);
  }
}

/* ---- concurrency ---- */

typedef struct race {
  vexfs_collection *c;
  atomic_int stop;
  atomic_size_t bad;
} race;

static void *searcher(void *arg) {
  race *r = arg;
  float q[DIM];
  uint64_t ids[K];
  float dist[K];
  vexfs_search_params p;
  vexfs_search_params_init(&p);
  p.threads = 1;
  for (uint64_t i = 0; !atomic_load(&r->stop); i++) {
    vector_of(i % 300, 1.0f, q);
    if (vexfs_search(r->c, q, 1, K, &p, ids, dist, NULL) != VEXFS_OK) atomic_fetch_add(&r->bad, 1);
    for (size_t j = 0; j < K; j++)
      if (ids[j] != UINT64_MAX && !isfinite(dist[j])) atomic_fetch_add(&r->bad, 1);
    float got[DIM];
    vexfs_status st = vexfs_get(r->c, i % 300, got);
    if (st == VEXFS_OK)
      for (size_t d = 0; d < DIM; d++)
        if (!isfinite(got[d])) atomic_fetch_add(&r->bad, 1);
  }
  return NULL;
}

/* Searches and gets run while inserts widen the range three times (each re-codes every row
 * under the exclusive lock) and removes free rows: every answer is finite and complete. */
static void test_concurrent_refits(void **state) {
  (void)state;
  for (size_t s = 0; s < 3; s++) {
    race r = {standalone(VEXFS_INDEX_HNSW, CODED[s], VEXFS_RERANK_NONE), 0, 0};
    insert_range(r.c, 0, 300, 0.5f);
    pthread_t t[2];
    for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, searcher, &r);
    float scale = 1.0f;
    for (uint64_t first = 300; first < 900; first += 150, scale *= 2) {
      insert_range(r.c, first, 150, scale);
      uint64_t gone[] = {first - 1, first - 2};
      assert_int_equal(vexfs_remove(r.c, gone, 2), VEXFS_OK);
    }
    atomic_store(&r.stop, 1);
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    assert_int_equal(atomic_load(&r.bad), 0);
    assert_int_equal(vexfs_count(r.c), 900 - 8);
    vexfs_collection_free(r.c);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_configurations),
      cmocka_unit_test(test_lossless_integers),
      cmocka_unit_test(test_get_decodes),
      cmocka_unit_test(test_refit),
      cmocka_unit_test(test_f16_range),
      cmocka_unit_test(test_none_norms_follow_codes),
      cmocka_unit_test(test_answers),
      cmocka_unit_test(test_ip_and_cosine),
      cmocka_unit_test(test_reopen),
      cmocka_unit_test(test_crafted),
      cmocka_unit_test(test_concurrent_refits),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

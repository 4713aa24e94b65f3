/* Attacks on the coded storage kinds (F16, SQ8, SQ4) and their rerank policies: odd and
 * piece-boundary dimensions, zero-span first batches, magnitudes near VEXFS_MAX_SQUARED_NORM,
 * k past the collection, filters admitting nothing or one row, upserts that refit, removes of
 * everything, zero vectors under cosine, reopen (also read-only) and vexfs_db_check. */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "snapshot_edit.h"
#include "vexfs/vexfs.h"

static const vexfs_storage CODED[] = {VEXFS_STORAGE_F16, VEXFS_STORAGE_SQ8, VEXFS_STORAGE_SQ4};
static const vexfs_rerank RERANKS[] = {VEXFS_RERANK_IN_MEMORY, VEXFS_RERANK_MAPPED,
                                       VEXFS_RERANK_NONE};

static vexfs_collection_config config(uint32_t dim, vexfs_index_kind kind, vexfs_storage storage,
                                      vexfs_rerank rerank) {
  vexfs_collection_config cfg;
  vexfs_collection_config_init(&cfg);
  cfg.dim = dim;
  cfg.index = kind;
  cfg.hnsw_m = 8;
  cfg.hnsw_ef_construction = 64;
  cfg.hnsw_ef_search = 64;
  cfg.hnsw_seed = 5;
  cfg.threads = 1;
  cfg.storage = storage;
  cfg.rerank = rerank;
  return cfg;
}

static vexfs_collection *make(uint32_t dim, vexfs_index_kind kind, vexfs_storage storage,
                              vexfs_rerank rerank, vexfs_metric metric) {
  vexfs_collection_config cfg = config(dim, kind, storage, rerank);
  cfg.metric = metric;
  vexfs_collection *c = NULL;
  assert_int_equal(vexfs_collection_create(&cfg, &c), VEXFS_OK);
  return c;
}

static vexfs_db *open_db(const char *path, int read_only) {
  vexfs_db_options o;
  vexfs_db_options_init(&o);
  o.read_only = read_only;
  vexfs_db *db = NULL;
  if (vexfs_db_open(path, &o, &db) != VEXFS_OK) fprintf(stderr, "open: %s\n", vexfs_last_error());
  return db;
}

static void search1(vexfs_collection *c, const float *q, size_t nq, size_t k, int exact,
                    const char *filter, uint64_t *ids, float *dist) {
  vexfs_search_params p;
  vexfs_search_params_init(&p);
  p.threads = 1;
  p.exact = (uint32_t)exact;
  p.filter_json = filter;
  vexfs_status st = vexfs_search(c, q, nq, k, &p, ids, dist, NULL);
  if (st != VEXFS_OK) fprintf(stderr, "search: %s\n", vexfs_last_error());
  assert_int_equal(st, VEXFS_OK);
}

/* ---- dimensions around SQ4's nibbles and the bounded distance's pieces ---- */

/* Integers in [-100, 155]: lossless in F16 and SQ8. For every dim around the piece boundaries
 * (vx_codec_piece: 0 below 256, then multiples of 64) and odd dims (SQ4's last nibble), with and
 * without an exact copy: gets give the vector back (lossless kinds), and FLAT, HNSW exact and
 * HNSW graph searches of lossless kinds give the F32 twin's ids and distances, bit for bit,
 * where the graph finds every true neighbour (a self-query's own row at distance 0). */
static void test_dims(void **state) {
  (void)state;
  static const uint32_t dims[] = {1, 2, 3, 63, 64, 65, 255, 256, 257, 300, 511};
  enum { ROWS = 150, K = 5 };
  for (size_t di = 0; di < sizeof dims / sizeof *dims; di++) {
    uint32_t dim = dims[di];
    float *v = malloc((size_t)ROWS * dim * sizeof *v), *got = malloc(dim * sizeof *got);
    uint64_t ids[ROWS], seed = 99 + dim;
    for (size_t i = 0; i < ROWS; i++) {
      ids[i] = i;
      for (size_t d = 0; d < dim; d++)
        v[i * dim + d] = i == 0 ? -100.0f : i == 1 ? 155.0f : (float)(test_rng(&seed) % 256) - 100.0f;
    }
    vexfs_collection *twin = make(dim, VEXFS_INDEX_FLAT, VEXFS_STORAGE_F32, VEXFS_RERANK_IN_MEMORY,
                                  VEXFS_METRIC_L2);
    assert_int_equal(vexfs_insert(twin, ids, v, ROWS), VEXFS_OK);
    uint64_t want[8 * K], gotid[8 * K];
    float wd[8 * K], gd[8 * K];
    search1(twin, v, 8, K, 1, NULL, want, wd);
    for (size_t s = 0; s < 3; s++)
      for (size_t r = 0; r < 3; r += 2)
        for (vexfs_index_kind k = VEXFS_INDEX_FLAT; k <= VEXFS_INDEX_HNSW; k++) {
          vexfs_collection *c = make(dim, k, CODED[s], RERANKS[r], VEXFS_METRIC_L2);
          assert_int_equal(vexfs_insert(c, ids, v, ROWS), VEXFS_OK);
          int lossless = CODED[s] != VEXFS_STORAGE_SQ4; /* (rows 0 and 1 span 255 everywhere) */
          for (size_t i = 0; i < ROWS; i += 13) {
            assert_int_equal(vexfs_get(c, i, got), VEXFS_OK);
            if ((lossless || RERANKS[r] != VEXFS_RERANK_NONE) &&
                memcmp(got, v + i * dim, dim * sizeof *got) != 0)
              fprintf(stderr, "dim %u storage %zu rerank %zu index %d id %zu: %g for %g\n", dim, s, r,
                      k, i, got[0], v[i * dim]);
            if (lossless || RERANKS[r] != VEXFS_RERANK_NONE)
              assert_memory_equal(got, v + i * dim, dim * sizeof *got);
            for (size_t d = 0; d < dim; d++) assert_true(isfinite(got[d]));
          }
          if (CODED[s] == VEXFS_STORAGE_SQ4) {
            vexfs_collection_free(c);
            continue;
          }
          for (int exact = 0; exact <= 1; exact++) {
            search1(c, v, 8, K, exact, NULL, gotid, gd);
            if (k == VEXFS_INDEX_FLAT || exact) {
              assert_memory_equal(gotid, want, sizeof want);
              assert_memory_equal(gd, wd, sizeof wd);
            } else {
              for (size_t q = 0; q < 8; q++) { /* the graph finds each query's own row */
                assert_int_equal(gotid[q * K], want[q * K]);
                assert_true(gd[q * K] == 0.0f);
              }
            }
          }
          vexfs_collection_free(c);
        }
    vexfs_collection_free(twin);
    free(v);
    free(got);
  }
}

/* ---- a zero-span first batch ---- */

/* One row first (a range of width 0: the quantiser's step falls back to 1), then rows that stay
 * inside [row, row + 255] but span only 1: the codes must be refitted to them, so that each
 * coordinate is within half a step of a span near 1 (vexfs.h: "each coordinate within half a
 * step (its range's widest span / 255)"), not within half of a step of 1. */
static void test_zero_span_first_row(void **state) {
  (void)state;
  enum { DIM = 16, ROWS = 300 };
  for (size_t s = 1; s < 3; s++)
    for (vexfs_index_kind k = VEXFS_INDEX_FLAT; k <= VEXFS_INDEX_HNSW; k++) {
      vexfs_collection *c = make(DIM, k, CODED[s], VEXFS_RERANK_NONE, VEXFS_METRIC_L2);
      float zero[DIM] = {0}, *v = malloc((size_t)ROWS * DIM * sizeof *v), got[DIM];
      uint64_t id0 = 1000, ids[ROWS], seed = 4;
      assert_int_equal(vexfs_insert(c, &id0, zero, 1), VEXFS_OK);
      for (size_t i = 0; i < ROWS; i++) {
        ids[i] = i;
        for (size_t d = 0; d < DIM; d++) v[i * DIM + d] = (float)(test_rng(&seed) % 1000000) / 1e6f;
      }
      assert_int_equal(vexfs_insert(c, ids, v, ROWS), VEXFS_OK);
      float levels = CODED[s] == VEXFS_STORAGE_SQ4 ? 15.0f : 255.0f;
      /* the span is at most 1, widened by at most 20% by a refit */
      float bound = 0.5f * 1.2f / levels * 1.001f;
      double worst = 0;
      for (size_t i = 0; i < ROWS; i++) {
        assert_int_equal(vexfs_get(c, i, got), VEXFS_OK);
        for (size_t d = 0; d < DIM; d++) {
          double err = fabs((double)got[d] - v[i * DIM + d]);
          worst = err > worst ? err : worst;
        }
      }
      if (worst > bound) fprintf(stderr, "storage %zu index %d: error %g, bound %g\n", s, k, worst, bound);
      assert_true(worst <= bound);
      /* and each row is its own nearest neighbour far more often than a step of 1 allows */
      size_t self = 0;
      uint64_t hit[1];
      float hd[1];
      for (size_t i = 0; i < ROWS; i += 3) {
        search1(c, v + i * DIM, 1, 1, 0, NULL, hit, hd);
        self += hit[0] == i;
      }
      if (CODED[s] == VEXFS_STORAGE_SQ8) assert_true(self >= 90); /* of 100 */
      free(v);
      vexfs_collection_free(c);
    }
}

/* The same with an exact copy: FLAT re-ranks only the best codes, so with codes that cannot
 * tell the rows apart it misses true neighbours; refitted codes find them all. */
static void test_zero_span_recall(void **state) {
  (void)state;
  enum { DIM = 32, ROWS = 2000, NQ = 20, K = 10 };
  vexfs_collection *c = make(DIM, VEXFS_INDEX_FLAT, VEXFS_STORAGE_SQ8, VEXFS_RERANK_IN_MEMORY,
                             VEXFS_METRIC_L2);
  vexfs_collection *twin = make(DIM, VEXFS_INDEX_FLAT, VEXFS_STORAGE_F32, VEXFS_RERANK_IN_MEMORY,
                                VEXFS_METRIC_L2);
  float one[DIM];
  for (size_t d = 0; d < DIM; d++) one[d] = -0.001f;
  uint64_t id0 = 99999;
  assert_int_equal(vexfs_insert(c, &id0, one, 1), VEXFS_OK);
  assert_int_equal(vexfs_insert(twin, &id0, one, 1), VEXFS_OK);
  float *v = malloc((size_t)ROWS * DIM * sizeof *v);
  uint64_t *ids = malloc(ROWS * sizeof *ids), seed = 8;
  for (size_t i = 0; i < ROWS; i++) {
    ids[i] = i;
    for (size_t d = 0; d < DIM; d++) v[i * DIM + d] = (float)(test_rng(&seed) % 1000) / 1000.0f;
  }
  assert_int_equal(vexfs_insert(c, ids, v, ROWS), VEXFS_OK);
  assert_int_equal(vexfs_insert(twin, ids, v, ROWS), VEXFS_OK);
  uint64_t a[NQ * K], b[NQ * K];
  float da[NQ * K], db[NQ * K];
  float q[NQ * DIM];
  for (size_t i = 0; i < NQ * DIM; i++) q[i] = v[i] + 0.0013f;
  search1(c, q, NQ, K, 0, NULL, a, da);
  search1(twin, q, NQ, K, 1, NULL, b, db);
  size_t hit = 0;
  for (size_t i = 0; i < NQ; i++)
    for (size_t x = 0; x < K; x++)
      for (size_t y = 0; y < K; y++) hit += a[i * K + x] == b[i * K + y];
  if (hit < NQ * K * 95 / 100) fprintf(stderr, "recall %zu of %d\n", hit, NQ * K);
  assert_true(hit >= NQ * K * 95 / 100);
  free(v);
  free(ids);
  vexfs_collection_free(c);
  vexfs_collection_free(twin);
}

/* ---- magnitudes near VEXFS_MAX_SQUARED_NORM ---- */

/* Rows whose squared norms are just under VEXFS_MAX_SQUARED_NORM, coded without an exact copy and
 * refitted: every get is finite and within the norm limit (what any stored row meets), searches
 * give finite distances, and the database checkpoints, passes vexfs_db_check and reopens. */
static void test_huge_norms(void **state) {
  (void)state;
  enum { DIM = 4 };
  float a = sqrtf(VEXFS_MAX_SQUARED_NORM / DIM) * 0.99f;
  for (size_t s = 1; s < 3; s++)
    for (vexfs_index_kind k = VEXFS_INDEX_FLAT; k <= VEXFS_INDEX_HNSW; k++) {
      char *dir = db_tempdir();
      vexfs_db *db = open_db(dir, 0);
      assert_non_null(db);
      vexfs_collection_config cfg = config(DIM, k, CODED[s], VEXFS_RERANK_NONE);
      vexfs_collection *c = NULL;
      assert_int_equal(vexfs_db_create_collection(db, "c", &cfg, &c), VEXFS_OK);
      float v1[2 * DIM];
      uint64_t ids1[2] = {0, 1};
      for (size_t d = 0; d < DIM; d++) v1[d] = -a, v1[DIM + d] = a;
      assert_int_equal(vexfs_insert(c, ids1, v1, 2), VEXFS_OK);
      /* a second batch a little past the range: a refit widens it by a tenth of its span */
      float v2[DIM];
      uint64_t id2 = 2;
      for (size_t d = 0; d < DIM; d++) v2[d] = a * 1.008f;
      assert_int_equal(vexfs_insert(c, &id2, v2, 1), VEXFS_OK);
      for (int round = 0; round < 2; round++) {
        for (uint64_t id = 0; id < 3; id++) {
          float got[DIM];
          assert_int_equal(vexfs_get(c, id, got), VEXFS_OK);
          /* (decoded, a row may pass VEXFS_MAX_SQUARED_NORM a little: codes move each
           * coordinate by up to half a step; it must stay a finite vector) */
          float f2 = 0;
          for (size_t d = 0; d < DIM; d++) f2 += got[d] * got[d];
          assert_true(f2 <= FLT_MAX);
        }
        uint64_t ids[3];
        float dist[3];
        search1(c, v1, 1, 3, 0, NULL, ids, dist);
        for (size_t i = 0; i < 3; i++) {
          assert_true(ids[i] != UINT64_MAX);
          assert_true(isfinite(dist[i]));
        }
        assert_int_equal(vexfs_db_checkpoint(db), VEXFS_OK);
        assert_int_equal(vexfs_db_close(db), VEXFS_OK);
        assert_int_equal(vexfs_db_check(dir, NULL), VEXFS_OK);
        db = open_db(dir, 0);
        assert_non_null(db);
        assert_int_equal(vexfs_db_get_collection(db, "c", &c), VEXFS_OK);
        assert_int_equal(vexfs_count(c), 3);
      }
      assert_int_equal(vexfs_db_close(db), VEXFS_OK);
      db_rmdir(dir);
      free(dir);
    }
}

/* ---- k, filters, removes, upserts ---- */

/* k above the rows: every row, then empty slots (UINT64_MAX); a filter that admits nothing:
 * nothing; one row: that row alone. On every storage, rerank and index. */
static void test_small_answers(void **state) {
  (void)state;
  enum { DIM = 9, ROWS = 7, K = 20 };
  for (size_t s = 0; s < 3; s++)
    for (size_t r = 0; r < 3; r += 2)
      for (vexfs_index_kind k = VEXFS_INDEX_FLAT; k <= VEXFS_INDEX_HNSW; k++) {
        vexfs_collection *c = make(DIM, k, CODED[s], RERANKS[r], VEXFS_METRIC_L2);
        float v[ROWS * DIM];
        uint64_t ids[ROWS];
        const char *payloads[ROWS];
        char text[ROWS][24];
        for (size_t i = 0; i < ROWS; i++) {
          ids[i] = 10 + i;
          db_vector(i, DIM, v + i * DIM);
          snprintf(text[i], sizeof text[i], "{\"g\":%zu}", i);
          payloads[i] = text[i];
        }
        assert_int_equal(vexfs_upsert(c, ids, v, payloads, ROWS), VEXFS_OK);
        uint64_t got[K];
        float gd[K];
        for (int exact = 0; exact <= 1; exact++) {
          search1(c, v, 1, K, exact, NULL, got, gd);
          int seen[ROWS] = {0};
          for (size_t i = 0; i < ROWS; i++) {
            assert_true(got[i] >= 10 && got[i] < 10 + ROWS);
            assert_true(isfinite(gd[i]));
            assert_false(seen[got[i] - 10]);
            seen[got[i] - 10] = 1;
            if (i) assert_true(gd[i] >= gd[i - 1]);
          }
          for (size_t i = ROWS; i < K; i++) assert_int_equal(got[i], UINT64_MAX);
          search1(c, v, 1, K, exact, "{\"must\":[{\"key\":\"g\",\"match\":{\"value\":99}}]}", got, gd);
          for (size_t i = 0; i < K; i++) assert_int_equal(got[i], UINT64_MAX);
          search1(c, v, 1, K, exact, "{\"must\":[{\"key\":\"g\",\"match\":{\"value\":4}}]}", got, gd);
          assert_int_equal(got[0], 14);
          for (size_t i = 1; i < K; i++) assert_int_equal(got[i], UINT64_MAX);
        }
        vexfs_collection_free(c);
      }
}

/* Remove every row, then insert again (free rows reused, far outside the old range: a refit
 * over no live row), and upsert rows whose replacements leave the range in the same batch: gets
 * and self-searches see only the new vectors. */
static void test_remove_all_and_upsert_refit(void **state) {
  (void)state;
  enum { DIM = 24, ROWS = 200 };
  float *v = malloc((size_t)ROWS * DIM * sizeof *v), got[DIM];
  uint64_t ids[ROWS];
  for (size_t s = 0; s < 3; s++)
    for (size_t r = 0; r < 3; r += 2)
      for (vexfs_index_kind k = VEXFS_INDEX_FLAT; k <= VEXFS_INDEX_HNSW; k++) {
        vexfs_collection *c = make(DIM, k, CODED[s], RERANKS[r], VEXFS_METRIC_L2);
        for (size_t i = 0; i < ROWS; i++) ids[i] = i, db_vector(i, DIM, v + i * DIM);
        assert_int_equal(vexfs_insert(c, ids, v, ROWS), VEXFS_OK);
        assert_int_equal(vexfs_remove(c, ids, ROWS), VEXFS_OK);
        assert_int_equal(vexfs_count(c), 0);
        uint64_t hit[3];
        float hd[3];
        search1(c, v, 1, 3, 0, NULL, hit, hd);
        for (size_t i = 0; i < 3; i++) assert_int_equal(hit[i], UINT64_MAX);
        for (size_t i = 0; i < ROWS; i++) {
          ids[i] = 1000 + i;
          db_vector(5000 + i, DIM, v + i * DIM);
          for (size_t d = 0; d < DIM; d++) v[i * DIM + d] = 50.0f + 10.0f * v[i * DIM + d];
        }
        assert_int_equal(vexfs_insert(c, ids, v, ROWS), VEXFS_OK);
        /* upsert half of them far away, with new ids in the same batch */
        for (size_t i = 0; i < ROWS; i++) {
          ids[i] = i < ROWS / 2 ? 1000 + 2 * i : 3000 + i;
          db_vector(9000 + i, DIM, v + i * DIM);
          for (size_t d = 0; d < DIM; d++) v[i * DIM + d] = -350.0f + 50.0f * v[i * DIM + d];
        }
        assert_int_equal(vexfs_upsert(c, ids, v, NULL, ROWS), VEXFS_OK);
        assert_int_equal(vexfs_count(c), ROWS + ROWS / 2);
        float step = CODED[s] == VEXFS_STORAGE_F16 ? 0.25f
                     : 450.0f * 1.44f / (CODED[s] == VEXFS_STORAGE_SQ4 ? 15 : 255);
        size_t self = 0;
        for (size_t i = 0; i < ROWS; i++) {
          assert_int_equal(vexfs_get(c, ids[i], got), VEXFS_OK);
          for (size_t d = 0; d < DIM; d++) {
            float err = fabsf(got[d] - v[i * DIM + d]);
            if (RERANKS[r] != VEXFS_RERANK_NONE) assert_true(err == 0);
            else assert_true(err <= step);
          }
          search1(c, v + i * DIM, 1, 1, 0, NULL, hit, hd);
          self += hit[0] == ids[i];
        }
        if (CODED[s] != VEXFS_STORAGE_SQ4 || RERANKS[r] != VEXFS_RERANK_NONE) assert_true(self >= ROWS * 9 / 10);
        for (size_t i = 0; i < ROWS / 2; i++) /* the odd ones of the reinsert stay */
          assert_int_equal(vexfs_get(c, 1000 + 2 * i + 1, got), VEXFS_OK);
        vexfs_collection_free(c);
      }
  free(v);
}

/* ---- zero vectors, IP and cosine ---- */

/* Zero rows and a zero query under cosine and IP: finite distances, the F32 twin's ids and
 * distances for FLAT with an exact copy. */
static void test_zero_vectors(void **state) {
  (void)state;
  enum { DIM = 8, ROWS = 40, K = 5 };
  const vexfs_metric metrics[] = {VEXFS_METRIC_IP, VEXFS_METRIC_COSINE};
  float v[ROWS * DIM];
  uint64_t ids[ROWS];
  for (size_t i = 0; i < ROWS; i++) {
    ids[i] = i;
    db_vector(i, DIM, v + i * DIM);
    if (i % 5 == 0)
      for (size_t d = 0; d < DIM; d++) v[i * DIM + d] = i % 10 ? 0.0f : -0.0f;
  }
  float q[2 * DIM] = {0};
  db_vector(777, DIM, q + DIM);
  for (size_t m = 0; m < 2; m++) {
    vexfs_collection *twin = make(DIM, VEXFS_INDEX_FLAT, VEXFS_STORAGE_F32, VEXFS_RERANK_IN_MEMORY,
                                  metrics[m]);
    assert_int_equal(vexfs_insert(twin, ids, v, ROWS), VEXFS_OK);
    uint64_t want[2 * K], got[2 * K];
    float wd[2 * K], gd[2 * K];
    search1(twin, q, 2, K, 1, NULL, want, wd);
    for (size_t s = 0; s < 3; s++)
      for (size_t r = 0; r < 3; r += 2)
        for (vexfs_index_kind k = VEXFS_INDEX_FLAT; k <= VEXFS_INDEX_HNSW; k++) {
          vexfs_collection *c = make(DIM, k, CODED[s], RERANKS[r], metrics[m]);
          assert_int_equal(vexfs_insert(c, ids, v, ROWS), VEXFS_OK);
          for (int exact = 0; exact <= 1; exact++) {
            search1(c, q, 2, K, exact, NULL, got, gd);
            for (size_t i = 0; i < 2 * K; i++) {
              assert_true(got[i] != UINT64_MAX);
              assert_true(isfinite(gd[i]));
            }
            /* the zero query: every distance 1 (IP: 1 - 0; cosine: no direction) */
            for (size_t i = 0; i < K; i++) assert_true(gd[i] == wd[i]);
            if (RERANKS[r] != VEXFS_RERANK_NONE && (k == VEXFS_INDEX_FLAT || exact))
              for (size_t i = K; i < 2 * K; i++) {
                assert_int_equal(got[i], want[i]);
                assert_true(gd[i] == wd[i]);
              }
          }
          vexfs_collection_free(c);
        }
    vexfs_collection_free(twin);
  }
}

/* ---- reopen read-only, check ---- */

/* A coded database reopened read-only answers as before, refuses writes, and passes the check;
 * so does one whose coded collection was emptied. */
static void test_read_only(void **state) {
  (void)state;
  enum { DIM = 33, ROWS = 120, K = 4 };
  char *dir = db_tempdir();
  vexfs_db *db = open_db(dir, 0);
  assert_non_null(db);
  float v[ROWS * DIM];
  uint64_t ids[ROWS];
  for (size_t i = 0; i < ROWS; i++) ids[i] = i, db_vector(i, DIM, v + i * DIM);
  uint64_t before[9][4 * K];
  float bd[9][4 * K];
  char name[16];
  for (size_t s = 0; s < 3; s++)
    for (size_t r = 0; r < 3; r++) {
      snprintf(name, sizeof name, "c%zu%zu", s, r);
      vexfs_collection_config cfg = config(DIM, VEXFS_INDEX_HNSW, CODED[s], RERANKS[r]);
      vexfs_collection *c = NULL;
      assert_int_equal(vexfs_db_create_collection(db, name, &cfg, &c), VEXFS_OK);
      assert_int_equal(vexfs_insert(c, ids, v, ROWS), VEXFS_OK);
      search1(c, v, 4, K, 0, NULL, before[s * 3 + r], bd[s * 3 + r]);
    }
  vexfs_collection_config cfg = config(DIM, VEXFS_INDEX_FLAT, VEXFS_STORAGE_SQ8, VEXFS_RERANK_NONE);
  vexfs_collection *e = NULL;
  assert_int_equal(vexfs_db_create_collection(db, "empty", &cfg, &e), VEXFS_OK);
  assert_int_equal(vexfs_insert(e, ids, v, ROWS), VEXFS_OK);
  assert_int_equal(vexfs_remove(e, ids, ROWS), VEXFS_OK);
  assert_int_equal(vexfs_db_checkpoint(db), VEXFS_OK);
  assert_int_equal(vexfs_db_close(db), VEXFS_OK);
  assert_int_equal(vexfs_db_check(dir, NULL), VEXFS_OK);
  db = open_db(dir, 1);
  assert_non_null(db);
  for (size_t s = 0; s < 3; s++)
    for (size_t r = 0; r < 3; r++) {
      snprintf(name, sizeof name, "c%zu%zu", s, r);
      vexfs_collection *c = NULL;
      assert_int_equal(vexfs_db_get_collection(db, name, &c), VEXFS_OK);
      uint64_t got[4 * K];
      float gd[4 * K];
      search1(c, v, 4, K, 0, NULL, got, gd);
      assert_memory_equal(got, before[s * 3 + r], sizeof got);
      assert_memory_equal(gd, bd[s * 3 + r], sizeof gd);
      assert_true(vexfs_insert(c, ids, v, 1) != VEXFS_OK);
    }
  assert_int_equal(vexfs_db_get_collection(db, "empty", &e), VEXFS_OK);
  assert_int_equal(vexfs_count(e), 0);
  assert_int_equal(vexfs_db_close(db), VEXFS_OK);
  db_rmdir(dir);
  free(dir);
}

/* ---- crafted snapshots ---- */

static int craft_case;

/* F16 codes (NONE) that decode to infinity or NaN; an SQ8 code section cut to no codes. */
static void damage(uint32_t kind, uint8_t **p, size_t *n) {
  if (kind != VX_SEC_CODES) return;
  uint8_t *b = *p;
  uint16_t h = craft_case == 0 ? 0x7c00 : 0x7e00;
  if (craft_case <= 1) memcpy(b + 16 + 2 * 3, &h, 2); /* row 0, coordinate 3 */
  if (craft_case == 2) *n = 16; /* the head alone */
}

static void test_crafted_f16(void **state) {
  (void)state;
  enum { DIM = 8 };
  for (craft_case = 0; craft_case < 3; craft_case++) {
    char *dir = db_tempdir();
    vexfs_db *db = open_db(dir, 0);
    vexfs_collection_config cfg = config(DIM, VEXFS_INDEX_FLAT, VEXFS_STORAGE_F16, VEXFS_RERANK_NONE);
    vexfs_collection *c = NULL;
    assert_int_equal(vexfs_db_create_collection(db, "c", &cfg, &c), VEXFS_OK);
    float v[3 * DIM];
    uint64_t ids[3] = {1, 2, 3};
    for (size_t i = 0; i < 3; i++) db_vector(i, DIM, v + i * DIM);
    assert_int_equal(vexfs_insert(c, ids, v, 3), VEXFS_OK);
    assert_int_equal(vexfs_db_checkpoint(db), VEXFS_OK);
    assert_int_equal(vexfs_db_close(db), VEXFS_OK);
    char snap[DB_PATH_MAX];
    db_join(snap, dir, "snapshot.vxs");
    rewrite_snapshot(snap, damage);
    vexfs_db_options o;
    vexfs_db_options_init(&o);
    db = NULL;
    assert_int_equal(vexfs_db_open(dir, &o, &db), VEXFS_E_CORRUPT);
    assert_null(db);
    db_rmdir(dir);
    free(dir);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_dims),
      cmocka_unit_test(test_zero_span_first_row),
      cmocka_unit_test(test_zero_span_recall),
      cmocka_unit_test(test_huge_norms),
      cmocka_unit_test(test_small_answers),
      cmocka_unit_test(test_remove_all_and_upsert_refit),
      cmocka_unit_test(test_zero_vectors),
      cmocka_unit_test(test_read_only),
      cmocka_unit_test(test_crafted_f16),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

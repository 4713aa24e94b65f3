/* IVF (F32 and SQ8): recall against exact search for every metric, nprobe = nlist answering as
 * FLAT does, recall that never drops as nprobe grows, training and retraining (with searches
 * running meanwhile), removes, filters that still give k results, all-or-nothing batches, batched
 * searches equal to single ones, upserts whose removals meet grown lists, lists chosen exactly
 * when outliers stretch the centroids' quantiser, edge cases (empty, k > n,
 * fewer rows than lists, dim = 1, fewer sample rows than axes), and
 * persistence (a reopened database answers identically without retraining; a log replay trains
 * the same lists). Crafted IVF snapshot sections are refused in test_files.c. */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "collection_impl.h"
#include "db_util.h"
#include "index_util.h"
#include "index/ivf_internal.h"

enum { K = 10 };

static const vexfs_metric metrics[] = {VEXFS_METRIC_L2, VEXFS_METRIC_IP, VEXFS_METRIC_COSINE};
static const vexfs_ivf_codes codes[] = {VEXFS_IVF_CODES_F32, VEXFS_IVF_CODES_SQ8};

static vexfs_collection_config config(vexfs_index_kind kind, vexfs_metric metric, uint32_t dim,
                                      vexfs_ivf_codes code, uint32_t nlist) {
  vexfs_collection_config cfg;
  vexfs_collection_config_init(&cfg);
  cfg.dim = dim;
  cfg.metric = metric;
  cfg.index = kind;
  cfg.threads = 2;
  cfg.ivf_codes = code;
  cfg.ivf_nlist = nlist;
  return cfg;
}

static vexfs_collection *make(vexfs_index_kind kind, vexfs_metric metric, uint32_t dim,
                              vexfs_ivf_codes code, uint32_t nlist) {
  vexfs_collection_config cfg = config(kind, metric, dim, code, nlist);
  vexfs_collection *c;
  assert_int_equal(vexfs_collection_create(&cfg, &c), VEXFS_OK);
  return c;
}

static const ivf_index *ivf_of(const vexfs_collection *c) { return c->index_state; }
static const ivf_struct *structure(const vexfs_collection *c) {
  return atomic_load(&((ivf_index *)ivf_of(c))->cur);
}

typedef struct answers {
  uint64_t *ids;
  float *dist;
  size_t *counts;
} answers;

static answers search(vexfs_collection *c, const float *q, size_t nq, uint32_t nprobe) {
  answers a = {malloc(nq * K * sizeof *a.ids), malloc(nq * K * sizeof *a.dist),
               malloc(nq * sizeof *a.counts)};
  vexfs_search_params p;
  vexfs_search_params_init(&p);
  p.nprobe = nprobe;
  assert_int_equal(vexfs_search(c, q, nq, K, &p, a.ids, a.dist, a.counts), VEXFS_OK);
  return a;
}

static void drop(answers *a) {
  free(a->ids);
  free(a->dist);
  free(a->counts);
}

static double overlap(const answers *a, const answers *e, size_t nq) {
  size_t hit = 0;
  for (size_t q = 0; q < nq; q++)
    for (int i = 0; i < K; i++)
      for (int j = 0; j < K; j++) hit += a->ids[q * K + i] == e->ids[q * K + j];
  return (double)hit / (nq * K);
}

static double recall(vexfs_collection *ivf, vexfs_collection *flat, const float *q, size_t nq,
                     uint32_t nprobe) {
  answers a = search(ivf, q, nq, nprobe), e = search(flat, q, nq, 0);
  double r = overlap(&a, &e, nq);
  drop(&a);
  drop(&e);
  return r;
}

static void test_recall_every_metric_and_code(void **state) {
  (void)state;
  enum { N = 6000, D = 24, NQ = 200 };
  float *v = clustered(N, D, 1), *q = clustered(NQ, D, 2);
  for (int m = 0; m < 3; m++) {
    vexfs_collection *f = make(VEXFS_INDEX_FLAT, metrics[m], D, 0, 0);
    insert_range(f, v, 0, N);
    for (int k = 0; k < 2; k++) {
      vexfs_collection *c = make(VEXFS_INDEX_IVF, metrics[m], D, codes[k], 0);
      insert_range(c, v, 0, N);
      const ivf_struct *st = structure(c);
      assert_non_null(st);
      assert_int_equal(st->nlist, 77); /* sqrt(6000) */
      double r = recall(c, f, q, NQ, 16), rd = recall(c, f, q, NQ, 0);
      print_message("metric %d %s: recall@10 nprobe 16 %.4f, default %.4f\n", (int)metrics[m],
                    k ? "SQ8" : "F32", r, rd);
      assert_true(r >= 0.95);
      assert_true(rd >= 0.85);
      /* returned distances are exact */
      answers a = search(c, q, NQ, 16);
      for (size_t i = 0; i < NQ; i++)
        for (size_t j = 0; j < a.counts[i]; j++) {
          float row[D];
          assert_int_equal(vexfs_get(c, a.ids[i * K + j], row), VEXFS_OK);
          double want = test_distance(metrics[m], q + i * D, row, D);
          assert_true(fabs(a.dist[i * K + j] - want) <= 1e-3 * (1 + fabs(want)));
          if (j) assert_true(a.dist[i * K + j - 1] <= a.dist[i * K + j]);
        }
      drop(&a);
      vexfs_collection_free(c);
    }
    vexfs_collection_free(f);
  }
  free(v);
  free(q);
}

/* c's answers at nprobe equal the FLAT collection f's, ids and distances. */
static void assert_answers_as_flat(vexfs_collection *c, vexfs_collection *f, const float *q,
                                   size_t nq, uint32_t nprobe) {
  answers a = search(c, q, nq, nprobe), e = search(f, q, nq, 0);
  assert_memory_equal(a.ids, e.ids, nq * K * sizeof *a.ids);
  assert_memory_equal(a.dist, e.dist, nq * K * sizeof *a.dist);
  drop(&a);
  drop(&e);
}

/* The largest |P P^T - I| of c's projection: the scan's bounds hold for orthonormal axes, to
 * within its slack (1e-4 of a distance). */
static double orthonormality_error(const vexfs_collection *c) {
  const ivf_index *ix = ivf_of(c);
  const float *p = structure(c)->proj;
  double worst = 0;
  for (size_t a = 0; a < ix->proj_dims; a++)
    for (size_t b = 0; b <= a; b++) {
      double dot = 0;
      for (size_t k = 0; k < ix->dim; k++) dot += (double)p[a * ix->dim + k] * p[b * ix->dim + k];
      double err = fabs(dot - (a == b));
      if (err > worst) worst = err;
    }
  return worst;
}

/* F32 bounds rows through their projections on the principal axes, so with every list probed it
 * answers as FLAT does: with every coordinate projected (dim 20), with a remainder beside 256 axes
 * fitted through the sample's covariance (dim 300) and through the sample itself (dim 1400). */
static void test_every_list_is_flat(void **state) {
  (void)state;
  enum { N = 3000, NQ = 60 };
  const uint32_t dims[] = {20, 300, 1400};
  for (int di = 0; di < 3; di++) {
    uint32_t dim = dims[di];
    float *v = clustered(N, dim, 3), *q = clustered(NQ, dim, 4);
    for (int m = 0; m < 3; m++) {
      vexfs_collection *f = make(VEXFS_INDEX_FLAT, metrics[m], dim, 0, 0);
      vexfs_collection *c = make(VEXFS_INDEX_IVF, metrics[m], dim, VEXFS_IVF_CODES_F32, 0);
      insert_range(f, v, 0, N);
      insert_range(c, v, 0, N);
      assert_non_null(structure(c));
      assert_int_equal(ivf_of(c)->proj_dims, dim < 256 ? dim : 256);
      assert_true(orthonormality_error(c) < 1e-5);
      uint32_t nlist = structure(c)->nlist;
      const uint32_t probes[] = {nlist, VEXFS_IVF_MAX_NLIST};
      for (int p = 0; p < 2; p++) assert_answers_as_flat(c, f, q, NQ, probes[p]);
      vexfs_collection_free(c);
      vexfs_collection_free(f);
    }
    free(v);
    free(q);
  }
}

/* An upsert removes the rows it replaces in the same step that publishes the new ones, after the
 * lists the new rows fill have grown (prepare): the removals must reach the grown lists, or a
 * replaced row stays listed and the row moved into its place is lost (a reopened database then
 * refuses the snapshot). With every list probed, answers equal FLAT's after such upserts. */
static void test_upserts_into_grown_lists(void **state) {
  (void)state;
  enum { N = 3000, D = 16, UP = 1500, NQ = 60 };
  float *v = clustered(N, D, 21), *fresh = clustered(UP, D, 22), *q = clustered(NQ, D, 23);
  uint64_t ids[UP];
  for (size_t i = 0; i < UP; i++) ids[i] = i < UP / 2 ? 2 * i : N + i; /* half replace, half new */
  for (int ci = 0; ci < 2; ci++) {
    vexfs_collection *f = make(VEXFS_INDEX_FLAT, VEXFS_METRIC_L2, D, 0, 0);
    vexfs_collection *c = make(VEXFS_INDEX_IVF, VEXFS_METRIC_L2, D, codes[ci], 0);
    insert_range(f, v, 0, N);
    insert_range(c, v, 0, N);
    assert_non_null(structure(c));
    assert_int_equal(vexfs_upsert(f, ids, fresh, NULL, UP), VEXFS_OK);
    assert_int_equal(vexfs_upsert(c, ids, fresh, NULL, UP), VEXFS_OK);
    assert_int_equal(vexfs_count(c), N + UP / 2);
    size_t listed = 0;
    for (uint32_t l = 0; l < structure(c)->nlist; l++) listed += structure(c)->lists[l].n;
    assert_int_equal(listed, N + UP / 2);
    assert_answers_as_flat(c, f, q, NQ, structure(c)->nlist);
    assert_answers_as_flat(c, f, fresh, NQ, structure(c)->nlist);
    vexfs_collection_free(c);
    vexfs_collection_free(f);
  }
  free(v);
  free(fresh);
  free(q);
}

/* SQ8 on L2 bounds each row's distance through its code's error and the query's, so with every list
 * probed it answers as FLAT does although its codes are lossy: with a head alone (dim 20) and
 * with a tail summed in stages (dim 500: a 240-byte head, a 260-byte tail in two). */
static void test_sq8_l2_every_list_is_flat(void **state) {
  (void)state;
  enum { N = 3000, NQ = 60 };
  const uint32_t dims[] = {20, 500};
  for (int di = 0; di < 2; di++) {
    uint32_t dim = dims[di];
    float *v = clustered(N, dim, 11), *q = clustered(NQ, dim, 12);
    vexfs_collection *f = make(VEXFS_INDEX_FLAT, VEXFS_METRIC_L2, dim, 0, 0);
    vexfs_collection *c = make(VEXFS_INDEX_IVF, VEXFS_METRIC_L2, dim, VEXFS_IVF_CODES_SQ8, 0);
    insert_range(f, v, 0, N);
    insert_range(c, v, 0, N);
    assert_non_null(structure(c));
    assert_int_equal(ivf_of(c)->tail_bytes, di ? 260 : 0);
    assert_answers_as_flat(c, f, q, NQ, structure(c)->nlist);
    vexfs_collection_free(c);
    vexfs_collection_free(f);
    free(v);
    free(q);
  }
}

static void test_more_lists_never_lower_recall(void **state) {
  (void)state;
  enum { N = 5000, D = 16, NQ = 200 };
  float *v = clustered(N, D, 5), *q = clustered(NQ, D, 6);
  vexfs_collection *f = make(VEXFS_INDEX_FLAT, VEXFS_METRIC_L2, D, 0, 0);
  insert_range(f, v, 0, N);
  for (int k = 0; k < 2; k++) {
    vexfs_collection *c = make(VEXFS_INDEX_IVF, VEXFS_METRIC_L2, D, codes[k], 0);
    insert_range(c, v, 0, N);
    double last = 0;
    for (uint32_t np = 1; np <= 128; np *= 2) {
      double r = recall(c, f, q, NQ, np);
      print_message("%s nprobe %u: recall@10 %.4f\n", k ? "SQ8" : "F32", np, r);
      assert_true(r >= last);
      last = r;
    }
    assert_true(last >= 0.99);
    vexfs_collection_free(c);
  }
  vexfs_collection_free(f);
  free(v);
  free(q);
}

/* Searches while inserts train and retrain: every answer has k exact, ascending hits. */
typedef struct searcher {
  vexfs_collection *c;
  const float *q;
  atomic_int *stop;
  size_t bad, done;
} searcher;

static void *search_loop(void *arg) {
  searcher *s = arg;
  enum { D = 16 };
  uint64_t ids[K];
  float dist[K];
  size_t count;
  while (!atomic_load(s->stop)) {
    for (size_t i = 0; i < 20; i++) {
      size_t live = vexfs_count(s->c);
      if (vexfs_search(s->c, s->q + i * D, 1, K, NULL, ids, dist, &count) != VEXFS_OK) s->bad++;
      if (count < (live < K ? live : K)) s->bad++;
      for (size_t j = 0; j < count; j++) {
        float row[D];
        if (vexfs_get(s->c, ids[j], row) != VEXFS_OK) s->bad++;
        else if (fabs(dist[j] - test_distance(VEXFS_METRIC_L2, s->q + i * D, row, D)) > 1e-3)
          s->bad++;
        if (j && dist[j - 1] > dist[j]) s->bad++;
      }
      s->done++;
    }
  }
  return NULL;
}

static void test_training_and_retraining(void **state) {
  (void)state;
  enum { N = 9000, D = 16, BATCH = 250 };
  float *v = clustered(N, D, 7), *q = clustered(20, D, 8);
  for (int k = 0; k < 2; k++) {
    vexfs_collection *c = make(VEXFS_INDEX_IVF, VEXFS_METRIC_L2, D, codes[k], 0);
    atomic_int stop = 0;
    searcher s = {c, q, &stop, 0, 0};
    pthread_t t;
    pthread_create(&t, NULL, search_loop, &s);
    uint64_t trained_at[8];
    size_t trainings = 0;
    for (size_t at = 0; at < N; at += BATCH) {
      insert_range(c, v + at * D, at, BATCH);
      const ivf_struct *st = structure(c);
      size_t live = at + BATCH;
      if (live < IVF_TRAIN_MIN) assert_null(st); /* exact until then */
      else assert_non_null(st);
      if (st && (trainings == 0 || trained_at[trainings - 1] != st->trained_live)) {
        assert_true(trainings < 8);
        trained_at[trainings++] = st->trained_live;
        assert_int_equal(st->nlist, vx_ivf_nlist_for(ivf_of(c), st->trained_live));
      }
    }
    atomic_store(&stop, 1);
    pthread_join(t, NULL);
    /* trained at 1024 (rounded up to a batch: 1250), then at twice that each time */
    assert_int_equal(trainings, 3);
    assert_int_equal(trained_at[0], 1250);
    assert_int_equal(trained_at[1], 2500);
    assert_int_equal(trained_at[2], 5000);
    assert_int_equal(ivf_of(c)->trainings, 3);
    print_message("%s: %zu searches during training, %zu bad\n", k ? "SQ8" : "F32", s.done, s.bad);
    assert_int_equal(s.bad, 0);
    vexfs_collection_free(c);
  }
  free(v);
  free(q);
}

static void test_removes(void **state) {
  (void)state;
  enum { N = 4000, D = 16, NQ = 100 };
  float *v = clustered(N, D, 9), *q = clustered(NQ, D, 10);
  for (int k = 0; k < 2; k++) {
    vexfs_collection *c = make(VEXFS_INDEX_IVF, VEXFS_METRIC_L2, D, codes[k], 0);
    vexfs_collection *f = make(VEXFS_INDEX_FLAT, VEXFS_METRIC_L2, D, 0, 0);
    insert_range(c, v, 0, N);
    insert_range(f, v, 0, N);
    uint64_t odd[N / 2];
    for (size_t i = 0; i < N / 2; i++) odd[i] = 2 * i + 1;
    assert_int_equal(vexfs_remove(c, odd, N / 2), VEXFS_OK);
    assert_int_equal(vexfs_remove(f, odd, N / 2), VEXFS_OK);
    answers a = search(c, q, NQ, 64);
    for (size_t i = 0; i < NQ * K; i++) assert_true(a.ids[i] % 2 == 0);
    drop(&a);
    assert_true(recall(c, f, q, NQ, 64) >= 0.98);
    /* the freed slots are reused by new rows (other vectors), which the lists then hold */
    float *w = clustered(N / 2, D, 11);
    insert_range(c, w, N, N / 2);
    insert_range(f, w, N, N / 2);
    double r = recall(c, f, q, NQ, 64);
    print_message("%s after removing half and refilling: recall@10 %.4f\n", k ? "SQ8" : "F32", r);
    assert_true(r >= 0.98);
    /* every row gone: nothing to find, and the lists are empty */
    uint64_t *all = malloc(N * sizeof *all);
    for (size_t i = 0; i < N / 2; i++) {
      all[i] = 2 * i;
      all[N / 2 + i] = N + i;
    }
    assert_int_equal(vexfs_remove(c, all, N), VEXFS_OK);
    a = search(c, q, NQ, 0);
    for (size_t i = 0; i < NQ; i++) assert_int_equal(a.counts[i], 0);
    drop(&a);
    const ivf_struct *st = structure(c);
    for (uint32_t l = 0; l < st->nlist; l++) assert_int_equal(atomic_load(&st->lists[l].n), 0);
    free(all);
    free(w);
    vexfs_collection_free(c);
    vexfs_collection_free(f);
  }
  free(v);
  free(q);
}

static void test_filters_give_k(void **state) {
  (void)state;
  enum { N = 8000, D = 16, NQ = 40 };
  float *v = clustered(N, D, 12), *q = clustered(NQ, D, 13);
  vexfs_collection *f = make(VEXFS_INDEX_FLAT, VEXFS_METRIC_L2, D, 0, 0);
  insert_range(f, v, 0, N);
  for (int k = 0; k < 2; k++) {
    vexfs_collection *c = make(VEXFS_INDEX_IVF, VEXFS_METRIC_L2, D, codes[k], 0);
    insert_range(c, v, 0, N);
    const uint64_t moduli[] = {2, 10, 100, 1000, 4000, 9000};
    for (int m = 0; m < 6; m++) {
      modulo_filter mc = {c, moduli[m]}, mf = {f, moduli[m]};
      vx_filter fc = {admit_modulo, &mc}, ff = {admit_modulo, &mf};
      uint64_t a[NQ * K], e[NQ * K];
      float da[NQ * K], de[NQ * K];
      size_t ca[NQ], ce[NQ];
      vexfs_search_params p;
      vexfs_search_params_init(&p);
      p.nprobe = 8;
      assert_int_equal(vx_collection_search(c, q, NQ, K, &p, &fc, a, da, ca), VEXFS_OK);
      assert_int_equal(vx_collection_search(f, q, NQ, K, NULL, &ff, e, de, ce), VEXFS_OK);
      size_t admitted = (N + moduli[m] - 1) / moduli[m], want = admitted < K ? admitted : K;
      for (size_t i = 0; i < NQ; i++) {
        assert_int_equal(ca[i], want); /* k whenever k pass */
        assert_int_equal(ce[i], want);
        for (size_t j = 0; j < ca[i]; j++) assert_true(a[i * K + j] % moduli[m] == 0);
      }
    }
    vexfs_collection_free(c);
  }
  vexfs_collection_free(f);
  free(v);
  free(q);
}

static void test_batches_all_or_nothing(void **state) {
  (void)state;
  enum { N = 3000, D = 16, NQ = 50 };
  float *v = clustered(N + 10, D, 14), *q = clustered(NQ, D, 15);
  for (int k = 0; k < 2; k++) {
    vexfs_collection *c = make(VEXFS_INDEX_IVF, VEXFS_METRIC_L2, D, codes[k], 0);
    insert_range(c, v, 0, N);
    answers before = search(c, q, NQ, 8);
    size_t bytes = 0;
    vexfs_metrics m;
    vexfs_metrics_init(&m);
    assert_int_equal(vexfs_collection_metrics(c, &m), VEXFS_OK);
    bytes = m.memory_index;
    uint64_t ids[10];
    for (int i = 0; i < 10; i++) ids[i] = N + i;
    ids[9] = 5; /* already there */
    assert_int_equal(vexfs_insert(c, ids, v + N * D, 10), VEXFS_E_EXISTS);
    ids[9] = N + 9;
    float bad[10 * D];
    memcpy(bad, v + N * D, sizeof bad);
    bad[7 * D + 3] = NAN;
    assert_int_equal(vexfs_insert(c, ids, bad, 10), VEXFS_E_INVALID);
    assert_int_equal(vexfs_count(c), N);
    assert_int_equal(vexfs_collection_metrics(c, &m), VEXFS_OK);
    assert_int_equal(m.memory_index, bytes);
    answers after = search(c, q, NQ, 8);
    assert_memory_equal(before.ids, after.ids, NQ * K * sizeof *before.ids);
    assert_memory_equal(before.dist, after.dist, NQ * K * sizeof *before.dist);
    /* a batch of queries shares list scans and answers as single queries do */
    for (size_t i = 0; i < NQ; i++) {
      answers one = search(c, q + i * D, 1, 8);
      assert_memory_equal(one.ids, after.ids + i * K, K * sizeof *one.ids);
      assert_memory_equal(one.dist, after.dist + i * K, K * sizeof *one.dist);
      drop(&one);
    }
    drop(&before);
    drop(&after);
    vexfs_collection_free(c);
  }
  free(v);
  free(q);
}

static void test_edge_cases(void **state) {
  (void)state;
  for (int k = 0; k < 2; k++) {
    /* empty */
    vexfs_collection *c = make(VEXFS_INDEX_IVF, VEXFS_METRIC_L2, 8, codes[k], 0);
    float q[8] = {0};
    answers a = search(c, q, 1, 0);
    assert_int_equal(a.counts[0], 0);
    assert_int_equal(a.ids[0], UINT64_MAX);
    drop(&a);
    /* k > n, and fewer rows than the lists asked for: exact answers */
    vexfs_collection_free(c);
    c = make(VEXFS_INDEX_IVF, VEXFS_METRIC_L2, 8, codes[k], 64);
    float *v = clustered(6, 8, 16);
    insert_range(c, v, 0, 6);
    a = search(c, v, 1, 0);
    assert_int_equal(a.counts[0], 6);
    assert_int_equal(a.ids[0], 0);
    assert_int_equal(a.ids[6], UINT64_MAX);
    drop(&a);
    free(v);
    vexfs_collection_free(c);
    /* nlist past the rows at training: as many lists as rows */
    c = make(VEXFS_INDEX_IVF, VEXFS_METRIC_L2, 8, codes[k], 4096);
    v = clustered(1100, 8, 17);
    insert_range(c, v, 0, 1100);
    assert_int_equal(structure(c)->nlist, 1100);
    a = search(c, v + 5 * 8, 1, 0);
    assert_int_equal(a.counts[0], K);
    assert_int_equal(a.ids[0], 5);
    drop(&a);
    free(v);
    vexfs_collection_free(c);
    /* dim = 1 */
    c = make(VEXFS_INDEX_IVF, VEXFS_METRIC_L2, 1, codes[k], 0);
    vexfs_collection *f = make(VEXFS_INDEX_FLAT, VEXFS_METRIC_L2, 1, 0, 0);
    v = clustered(3000, 1, 18);
    insert_range(c, v, 0, 3000);
    insert_range(f, v, 0, 3000);
    assert_non_null(structure(c));
    float qs[5] = {-1.5f, -0.2f, 0, 0.4f, 2};
    answers x = search(c, qs, 5, VEXFS_IVF_MAX_NLIST), y = search(f, qs, 5, 0);
    for (size_t i = 0; i < 5 * K; i++) assert_true(x.dist[i] == y.dist[i]); /* ties: any id */
    drop(&x);
    drop(&y);
    free(v);
    vexfs_collection_free(c);
    vexfs_collection_free(f);
  }
  /* F32 trained on fewer sample rows than its 256 axes (nlist 1: 32 rows), both ways of fitting
   * them (dim 300 through the covariance, 1400 through the sample): the axes the sample leaves
   * undetermined are filled in, still orthonormal, and answers stay FLAT's */
  const uint32_t dims[] = {300, 1400};
  for (int di = 0; di < 2; di++) {
    enum { N = 40 };
    float *v = clustered(N, dims[di], 19);
    vexfs_collection *c =
        make(VEXFS_INDEX_IVF, VEXFS_METRIC_L2, dims[di], VEXFS_IVF_CODES_F32, 1);
    vexfs_collection *f = make(VEXFS_INDEX_FLAT, VEXFS_METRIC_L2, dims[di], 0, 0);
    insert_range(c, v, 0, N);
    insert_range(f, v, 0, N);
    assert_non_null(structure(c));
    assert_true(orthonormality_error(c) < 1e-5);
    assert_answers_as_flat(c, f, v, N, 1);
    vexfs_collection_free(c);
    vexfs_collection_free(f);
    free(v);
  }
}

/* ---- persistence ---- */

static vexfs_collection *db_make(vexfs_db *db, const char *name, vexfs_ivf_codes code) {
  vexfs_collection_config cfg = config(VEXFS_INDEX_IVF, VEXFS_METRIC_L2, 16, code, 0);
  cfg.threads = 1;
  vexfs_collection *c;
  assert_int_equal(vexfs_db_create_collection(db, name, &cfg, &c), VEXFS_OK);
  return c;
}

static void same_structure(const vexfs_collection *a, const vexfs_collection *b) {
  const ivf_struct *x = structure(a), *y = structure(b);
  assert_non_null(x);
  assert_non_null(y);
  assert_int_equal(x->nlist, y->nlist);
  assert_int_equal(x->trained_live, y->trained_live);
  assert_int_equal(ivf_of(a)->trainings, ivf_of(b)->trainings);
  assert_memory_equal(x->cent, y->cent, x->nlist * x->cstride * sizeof(float));
  assert_memory_equal(x->perm, y->perm, x->dim * sizeof *x->perm);
  for (uint32_t l = 0; l < x->nlist; l++)
    assert_int_equal(atomic_load(&x->lists[l].n), atomic_load(&y->lists[l].n));
}

static void same_answers(vexfs_collection *a, vexfs_collection *b, const float *q, size_t nq) {
  answers x = search(a, q, nq, 4), y = search(b, q, nq, 4);
  assert_memory_equal(x.ids, y.ids, nq * K * sizeof *x.ids);
  assert_memory_equal(x.dist, y.dist, nq * K * sizeof *x.dist);
  drop(&x);
  drop(&y);
}

static void test_reopen_and_replay(void **state) {
  (void)state;
  enum { NQ = 50 };
  float *q = clustered(NQ, 16, 19);
  for (int k = 0; k < 2; k++) {
    char *dir = db_tempdir(), *copy = db_tempdir();
    vexfs_db *db;
    assert_int_equal(vexfs_db_open(dir, NULL, &db), VEXFS_OK);
    vexfs_collection *c = db_make(db, "c", codes[k]);
    assert_int_equal(db_insert_range(c, 0, 1500), VEXFS_OK);
    uint64_t gone[] = {3, 77, 1000};
    assert_int_equal(vexfs_remove(c, gone, 3), VEXFS_OK);
    assert_int_equal(vexfs_db_checkpoint(db), VEXFS_OK); /* the structure goes to the snapshot */
    /* then, in the log only: more rows, a retraining, a remove */
    for (int b = 0; b < 6; b++) assert_int_equal(db_insert_range(c, 2000 + b * 300, 300), VEXFS_OK);
    assert_true(structure(c)->trained_live > 1500);
    uint64_t more[] = {2100, 5};
    assert_int_equal(vexfs_remove(c, more, 2), VEXFS_OK);
    const char *files[] = {"snapshot.vxs", "wal.log", "LOCK"};
    for (int f = 0; f < 3; f++) assert_int_equal(db_copy_into(dir, copy, files[f]), 0);
    /* the copy replays the log over the snapshot's structure: the same lists */
    vexfs_db *db2;
    assert_int_equal(vexfs_db_open(copy, NULL, &db2), VEXFS_OK);
    vexfs_collection *c2;
    assert_int_equal(vexfs_db_get_collection(db2, "c", &c2), VEXFS_OK);
    same_structure(c, c2);
    same_answers(c, c2, q, NQ);
    assert_int_equal(vexfs_db_close(db2), VEXFS_OK);
    /* a reopened database reads the structure back (no retraining) */
    assert_int_equal(vexfs_db_close(db), VEXFS_OK);
    assert_int_equal(vexfs_db_open(copy, NULL, &db2), VEXFS_OK);
    assert_int_equal(vexfs_db_get_collection(db2, "c", &c2), VEXFS_OK);
    vexfs_db *db3;
    assert_int_equal(vexfs_db_open(dir, NULL, &db3), VEXFS_OK);
    vexfs_collection *c3;
    assert_int_equal(vexfs_db_get_collection(db3, "c", &c3), VEXFS_OK);
    same_structure(c2, c3);
    same_answers(c2, c3, q, NQ);
    assert_int_equal(vexfs_db_close(db2), VEXFS_OK);
    assert_int_equal(vexfs_db_close(db3), VEXFS_OK);
    db_rmdir(dir);
    db_rmdir(copy);
    free(dir);
    free(copy);
  }
  free(q);
}

static int by_float(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

/* The range the SQ8 quantisers are fitted to on L2 leaves out rows farther from the mean than
 * VX_SQ8_OUTLIER_FACTOR times the median distance: checked against a sort on one-coordinate rows
 * (heavy-tailed, with repeats, every length to 40 and some larger), and all rows count when the
 * median is 0. */
static void test_sq8_robust_range(void **state) {
  (void)state;
  uint64_t seed = 9;
  const size_t lengths[] = {1, 2, 3, 4, 5, 7, 8, 16, 31, 40, 257, 1000};
  for (int li = 0; li < 12; li++)
    for (int round = 0; round < 20; round++) {
      size_t n = lengths[li];
      float *v = malloc(n * sizeof *v), *dist = malloc(n * sizeof *dist);
      const float **rows = malloc(n * sizeof *rows);
      double mean = 0;
      for (size_t i = 0; i < n; i++) {
        float u = test_uniform(&seed);
        v[i] = round % 3 == 0 ? (float)(int)(4 * u) : u < 0.05f ? 1000.0f * u : u;
        rows[i] = &v[i];
        mean += v[i];
      }
      mean /= (double)n;
      for (size_t i = 0; i < n; i++) dist[i] = (float)fabs(v[i] - mean);
      float *sorted = malloc(n * sizeof *sorted);
      memcpy(sorted, dist, n * sizeof *sorted);
      qsort(sorted, n, sizeof *sorted, by_float);
      float limit = VX_SQ8_OUTLIER_FACTOR * sorted[n / 2], lo = INFINITY, hi = -INFINITY;
      for (size_t i = 0; i < n; i++)
        if (limit == 0 || dist[i] <= limit) {
          lo = fminf(lo, v[i]);
          hi = fmaxf(hi, v[i]);
        }
      float got_lo = INFINITY, got_hi = -INFINITY;
      assert_int_equal(vx_sq8_extend_range_robust(1, rows, n, &got_lo, &got_hi), 0);
      assert_true(got_lo == lo && got_hi == hi);
      free(v);
      free(dist);
      free(sorted);
      free(rows);
    }
}

/* Rows far from the rest stretch the range of the quantiser that codes the centroids (L2): the
 * others' centroids then share nearly one code, and lists ranked by code distance alone were near
 * random (1 458 of 2 000 self-queries missed at nprobe 8 with 5 rows at +1 000; the flaky
 * test_concurrency IVF test, whose churn sits at +100, missed ~1.5%). The quantisers' ranges now
 * leave outliers out (SQ8's rows' too: 1 131 misses at +1 000 when they shaped it), and a probe
 * ranks exactly every list whose codes leave it possibly among the nearest: so with two lists
 * probed every row's self-query finds it, also when the far rows are too many to be outliers
 * (1 300 of 3 300: 30 misses with lists ranked by code distance, 3 with a shortlist of them
 * ranked exactly but no bound). */
static void test_outliers_keep_the_nearest_lists(void **state) {
  (void)state;
  enum { N = 2000, D = 24 };
  const struct {
    vexfs_ivf_codes codes;
    float far;
    size_t nfar;
  } cases[] = {{VEXFS_IVF_CODES_F32, 100, 5},  {VEXFS_IVF_CODES_F32, 1000, 5},
               {VEXFS_IVF_CODES_SQ8, 100, 5},  {VEXFS_IVF_CODES_SQ8, 1000, 5},
               {VEXFS_IVF_CODES_F32, 100, 1300}};
  for (int ci = 0; ci < 5; ci++) {
    size_t n = N + cases[ci].nfar;
    float *v = test_random_vectors(n, D, 5);
    for (size_t i = N * D; i < n * D; i++) v[i] += cases[ci].far;
    vexfs_collection *c = make(VEXFS_INDEX_IVF, VEXFS_METRIC_L2, D, cases[ci].codes, 0);
    insert_range(c, v, 0, n);
    assert_non_null(structure(c));
    answers a = search(c, v, N, 2);
    size_t missed = 0;
    for (size_t q = 0; q < N; q++) missed += a.ids[q * K] != q || a.dist[q * K] != 0.0f;
    if (missed) print_message("case %d: %zu misses\n", ci, missed);
    assert_int_equal(missed, 0);
    drop(&a);
    vexfs_collection_free(c);
    free(v);
  }
}

/* AUTO answers exactly below VX_AUTO_IVF_ROWS live rows and builds an IVF index at
 * it; removes before the switch stay removed. */
static void test_auto_switches_to_ivf(void **state) {
  (void)state;
  enum { D = 8, NQ = 50 };
  const size_t n = VX_AUTO_IVF_ROWS(D);
  float *v = clustered(n + 500, D, 14), *q = clustered(NQ, D, 15);
  vexfs_collection *a = make(VEXFS_INDEX_AUTO, VEXFS_METRIC_L2, D, VEXFS_IVF_CODES_F32, 0);
  vexfs_collection *f = make(VEXFS_INDEX_FLAT, VEXFS_METRIC_L2, D, VEXFS_IVF_CODES_F32, 0);
  insert_range(a, v, 0, n - 1);
  insert_range(f, v, 0, n + 500);
  assert_string_equal(vexfs_index_in_use(a), "auto");
  uint64_t gone[1] = {7};
  assert_int_equal(vexfs_remove(a, gone, 1), VEXFS_OK);
  assert_int_equal(vexfs_remove(f, gone, 1), VEXFS_OK);
  insert_range(a, v + (n - 1) * D, n - 1, 501);
  assert_string_equal(vexfs_index_in_use(a), "auto:ivf");
  assert_true(recall(a, f, q, NQ, 0) >= 0.9);
  float got[D];
  assert_int_equal(vexfs_get(a, 7, got), VEXFS_E_NOT_FOUND);
  vexfs_collection_free(a);
  vexfs_collection_free(f);
  free(v);
  free(q);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_recall_every_metric_and_code),
      cmocka_unit_test(test_every_list_is_flat),
      cmocka_unit_test(test_upserts_into_grown_lists),
      cmocka_unit_test(test_sq8_l2_every_list_is_flat),
      cmocka_unit_test(test_sq8_robust_range),
      cmocka_unit_test(test_outliers_keep_the_nearest_lists),
      cmocka_unit_test(test_more_lists_never_lower_recall),
      cmocka_unit_test(test_training_and_retraining),
      cmocka_unit_test(test_removes),
      cmocka_unit_test(test_filters_give_k),
      cmocka_unit_test(test_batches_all_or_nothing),
      cmocka_unit_test(test_edge_cases),
      cmocka_unit_test(test_reopen_and_replay),
      cmocka_unit_test(test_auto_switches_to_ivf),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

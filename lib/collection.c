/* Collections: the public create/insert/remove/get/search calls, their validation and locking.
 *
 * Locking. `write_lock` lets one mutation run at a time. `rows_lock` (an rwlock that prefers
 * writers, so inserts are not starved by a stream of searches) is held shared by searches and
 * gets, and exclusively only for the short steps that change what they can see: growing the id
 * map, publishing appended rows, and moving rows on remove. Appended rows are written without
 * it, past the published rows, so searches keep running while an insert copies its vectors; rows
 * reused from earlier removes are written under the exclusive lock, since scans read them. The
 * index then links the new rows while searches run (HNSW uses per-node locks for that). */
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "alloc_internal.h"
#include "collection_impl.h"
#include "collection_internal.h"
#include "errors_internal.h"
#include "index/index.h"
#include "payload/planner.h"
#include "metrics/metrics.h"
#include "pool/pool.h"
#include "simd/simd_internal.h"
#include "store.h"
#include "threadpool.h"
#include "versioned.h"

/* Live collections, for process-wide memory figures. */
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static vexfs_collection *registry;

VEXFS_API void vexfs_collection_config_init_sized(vexfs_collection_config *cfg, size_t size) {
  vexfs_collection_config d = {.struct_size = sizeof d,
                               .metric = VEXFS_METRIC_L2,
                               .index = VEXFS_INDEX_AUTO,
                               .hnsw_m = 16,
                               .hnsw_ef_construction = 200,
                               .hnsw_ef_search = 64};
  vx_versioned_init(cfg, size, &d, sizeof d);
}

VEXFS_API void(vexfs_collection_config_init)(vexfs_collection_config *cfg) {
  vexfs_collection_config_init_sized(cfg, VX_CONFIG_SIZE_0_1);
}

VEXFS_API void vexfs_search_params_init_sized(vexfs_search_params *p, size_t size) {
  vexfs_search_params d = {.struct_size = sizeof d};
  vx_versioned_init(p, size, &d, sizeof d);
}

VEXFS_API void(vexfs_search_params_init)(vexfs_search_params *p) {
  vexfs_search_params_init_sized(p, VX_PARAMS_SIZE_0_1);
}

/* storage and rerank; MAPPED rows need the files of a database (in_database: made for one). */
static vexfs_status check_storage(const char *fn, const vexfs_collection_config *cfg,
                                  int in_database) {
  switch (cfg->storage) {
  case VEXFS_STORAGE_F32: break;
  case VEXFS_STORAGE_F16:
  case VEXFS_STORAGE_SQ8:
  case VEXFS_STORAGE_SQ4:
    if (cfg->index == VEXFS_INDEX_FLAT || cfg->index == VEXFS_INDEX_HNSW) break;
    return vx_fail(VEXFS_E_INVALID, "%s: storage %s works with the FLAT and HNSW indexes only "
                   "(LSH, IVF and AUTO keep F32 rows: IVF has ivf_codes for its own codes)",
                   fn, cfg->storage == VEXFS_STORAGE_F16 ? "F16" :
                   cfg->storage == VEXFS_STORAGE_SQ8 ? "SQ8" : "SQ4");
  default:
    return vx_fail(VEXFS_E_INVALID, "%s: unknown storage %d (F32 = 0, F16 = 1, SQ8 = 2, SQ4 = 3)",
                   fn, (int)cfg->storage);
  }
  switch (cfg->rerank) {
  case VEXFS_RERANK_IN_MEMORY: return VEXFS_OK;
  case VEXFS_RERANK_MAPPED:
    if (in_database) return VEXFS_OK;
    return vx_fail(VEXFS_E_INVALID, "%s: rerank MAPPED keeps the rows in a database's files: "
                   "create the collection with vexfs_db_create_collection in a database opened "
                   "on a directory", fn);
  case VEXFS_RERANK_NONE:
    if (cfg->storage != VEXFS_STORAGE_F32) return VEXFS_OK;
    return vx_fail(VEXFS_E_INVALID, "%s: rerank NONE drops the exact copy, but F32 storage is the "
                   "exact copy (NONE needs another storage)", fn);
  }
  return vx_fail(VEXFS_E_INVALID, "%s: unknown rerank %d (IN_MEMORY = 0, MAPPED = 1, NONE = 2)", fn,
                 (int)cfg->rerank);
}

static vexfs_status check_config(const vexfs_collection_config *cfg, int in_database) {
  const char *fn = "vexfs_collection_create";
  if (cfg->dim == 0 || cfg->dim > VEXFS_MAX_DIM)
    return vx_fail(VEXFS_E_INVALID, "%s: dim is %" PRIu32 "; it must be 1..%u", fn, cfg->dim,
                   VEXFS_MAX_DIM);
  if (cfg->metric != VEXFS_METRIC_L2 && cfg->metric != VEXFS_METRIC_IP &&
      cfg->metric != VEXFS_METRIC_COSINE)
    return vx_fail(VEXFS_E_INVALID, "%s: unknown metric %d (L2 = 1, IP = 2, COSINE = 3)", fn,
                   (int)cfg->metric);
  if (cfg->hnsw_m < 2 || cfg->hnsw_m > 2048)
    return vx_fail(VEXFS_E_INVALID, "%s: hnsw_m is %" PRIu32 "; it must be 2..2048", fn,
                   cfg->hnsw_m);
  if (cfg->hnsw_ef_construction == 0 || cfg->hnsw_ef_search == 0 ||
      cfg->hnsw_ef_construction > VEXFS_MAX_K || cfg->hnsw_ef_search > VEXFS_MAX_K)
    return vx_fail(VEXFS_E_INVALID,
                   "%s: hnsw_ef_construction is %" PRIu32 " and hnsw_ef_search %" PRIu32
                   "; both must be 1..%u",
                   fn, cfg->hnsw_ef_construction, cfg->hnsw_ef_search, VEXFS_MAX_K);
  if (cfg->lsh_tables > VEXFS_LSH_MAX_TABLES || cfg->lsh_bits > VEXFS_LSH_MAX_BITS ||
      cfg->lsh_probes > VEXFS_MAX_K)
    return vx_fail(VEXFS_E_INVALID,
                   "%s: lsh_tables is %" PRIu32 ", lsh_bits %" PRIu32 " and lsh_probes %" PRIu32
                   "; they must be 0 (chosen by the index) or at most %u, %u and %u",
                   fn, cfg->lsh_tables, cfg->lsh_bits, cfg->lsh_probes, VEXFS_LSH_MAX_TABLES,
                   VEXFS_LSH_MAX_BITS, VEXFS_MAX_K);
  if (!(cfg->lsh_bucket_width >= 0 && cfg->lsh_bucket_width <= FLT_MAX))
    return vx_fail(VEXFS_E_INVALID,
                   "%s: lsh_bucket_width is %g; it must be 0 (from the data) or finite and > 0",
                   fn, (double)cfg->lsh_bucket_width);
  if (cfg->ivf_nlist > VEXFS_IVF_MAX_NLIST || cfg->ivf_nprobe > VEXFS_IVF_MAX_NLIST)
    return vx_fail(VEXFS_E_INVALID,
                   "%s: ivf_nlist is %" PRIu32 " and ivf_nprobe %" PRIu32
                   "; both must be 0 (chosen by the index) or at most %u",
                   fn, cfg->ivf_nlist, cfg->ivf_nprobe, VEXFS_IVF_MAX_NLIST);
  if (cfg->ivf_codes != VEXFS_IVF_CODES_F32 && cfg->ivf_codes != VEXFS_IVF_CODES_SQ8)
    return vx_fail(VEXFS_E_INVALID, "%s: unknown ivf_codes %d (F32 = 0, SQ8 = 1)", fn,
                   (int)cfg->ivf_codes);
  if (cfg->lsh_projection != VEXFS_LSH_PROJECTION_RANDOM &&
      cfg->lsh_projection != VEXFS_LSH_PROJECTION_LEARNED)
    return vx_fail(VEXFS_E_INVALID, "%s: unknown lsh_projection %d (RANDOM = 0, LEARNED = 1)", fn,
                   (int)cfg->lsh_projection);
  switch (cfg->index) {
  case VEXFS_INDEX_AUTO:
  case VEXFS_INDEX_FLAT:
  case VEXFS_INDEX_HNSW:
  case VEXFS_INDEX_LSH:
  case VEXFS_INDEX_IVF: return check_storage(fn, cfg, in_database);
  }
  return vx_fail(VEXFS_E_INVALID,
                 "%s: unknown index kind %d (AUTO = 0, FLAT = 1, HNSW = 2, LSH = 3, IVF = 4)", fn,
                 (int)cfg->index);
}

static const vx_index_ops *index_ops(vexfs_index_kind kind) {
  switch (kind) {
  case VEXFS_INDEX_FLAT: return &vx_index_flat;
  case VEXFS_INDEX_HNSW: return &vx_index_hnsw;
  case VEXFS_INDEX_LSH: return &vx_index_lsh;
  case VEXFS_INDEX_IVF: return &vx_index_ivf;
  default: break;
  }
  return &vx_index_auto;
}

VEXFS_API vexfs_status vexfs_collection_create(const vexfs_collection_config *cfg,
                                               vexfs_collection **out) {
  return vx_collection_create(cfg, 0, out);
}

vexfs_status vx_collection_create(const vexfs_collection_config *cfg, int in_database,
                                  vexfs_collection **out) {
  if (out) *out = NULL;
  if (!cfg || !out)
    return vx_fail(VEXFS_E_INVALID, "vexfs_collection_create: %s is NULL", cfg ? "out" : "cfg");
  vexfs_collection_config c;
  vexfs_collection_config_init(&c);
  vexfs_status st =
      vx_versioned_read("vexfs_collection_create", "cfg", &vx_config_kind, &c, cfg);
  if (st == VEXFS_OK) st = check_config(&c, in_database);
  if (st != VEXFS_OK) return st;

  vexfs_collection *col = vx_calloc(1, sizeof *col);
  if (!col) return vx_fail(VEXFS_E_NOMEM, "vexfs_collection_create: out of memory");
  pthread_rwlockattr_t attr;
  pthread_rwlockattr_init(&attr);
  pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
  if (pthread_mutex_init(&col->write_lock, NULL) != 0 ||
      pthread_rwlock_init(&col->rows_lock, &attr) != 0) {
    pthread_rwlockattr_destroy(&attr);
    vx_release(col);
    return vx_fail(VEXFS_E_NOMEM, "vexfs_collection_create: cannot create locks");
  }
  pthread_rwlockattr_destroy(&attr);
  col->metrics = vx_alloc_aligned(sizeof *col->metrics, VX_CACHE_LINE);
  if (!col->metrics) {
    pthread_rwlock_destroy(&col->rows_lock);
    pthread_mutex_destroy(&col->write_lock);
    vx_release(col);
    return vx_fail(VEXFS_E_NOMEM, "vexfs_collection_create: out of memory");
  }
  memset(col->metrics, 0, sizeof *col->metrics);
  col->cfg = c;
  col->index = index_ops(c.index);
  size_t index_bytes = c.index == VEXFS_INDEX_HNSW && c.storage != VEXFS_STORAGE_F32
                           ? vx_hnsw_store_extra(c.hnsw_m)
                           : 0;
  int stored = vx_store_init(&col->store, &c, index_bytes) == 0;
  vx_payloads_init(&col->payloads);
  if (!stored) st = vx_fail(VEXFS_E_NOMEM, "vexfs_collection_create: out of memory");
  if (!stored ||
      (col->index->create && (st = col->index->create(&c, &col->index_state)) != VEXFS_OK)) {
    vx_store_destroy(&col->store);
    pthread_rwlock_destroy(&col->rows_lock);
    pthread_mutex_destroy(&col->write_lock);
    vx_release(col->metrics);
    vx_release(col);
    return st;
  }
  pthread_mutex_lock(&registry_lock);
  col->next = registry;
  registry = col;
  pthread_mutex_unlock(&registry_lock);
  *out = col;
  return VEXFS_OK;
}

VEXFS_API void vexfs_collection_free(vexfs_collection *c) {
  if (c && !c->link) vx_collection_destroy(c);
}

void vx_collection_destroy(vexfs_collection *c) {
  pthread_mutex_lock(&registry_lock);
  for (vexfs_collection **p = &registry; *p; p = &(*p)->next)
    if (*p == c) {
      *p = c->next;
      break;
    }
  pthread_mutex_unlock(&registry_lock);
  vx_metrics_retire(c->metrics); /* its events stay in the process-wide figures */
  vx_release(c->metrics);
  if (c->index->destroy) c->index->destroy(c->index_state);
  for (size_t i = 0; i < c->nindexes; i++) vx_pindex_free(c->indexes[i]);
  vx_payloads_destroy(&c->payloads, atomic_load(&c->store.rows));
  vx_store_destroy(&c->store);
  pthread_rwlock_destroy(&c->rows_lock);
  pthread_mutex_destroy(&c->write_lock);
  vx_release(c);
}

VEXFS_API size_t vexfs_count(const vexfs_collection *c) {
  return c ? atomic_load_explicit(&c->store.live, memory_order_acquire) : 0;
}

VEXFS_API uint32_t vexfs_dim(const vexfs_collection *c) { return c ? c->cfg.dim : 0; }

VEXFS_API const char *vexfs_index_in_use(const vexfs_collection *c) {
  return c ? vx_collection_index_name(c) : NULL;
}

/* Checks that n rows of dim floats are all finite with squared norms of at most
 * VEXFS_MAX_SQUARED_NORM; stores each row's squared norm in norms when given. A squared norm in
 * bounds proves the row finite, so the element scan runs only to name the culprit of a failure. */
static vexfs_status check_rows(const char *fn, const char *what, const float *rows, size_t n,
                               size_t dim, float *norms) {
  const vx_kernels *kern = vx_simd();
  for (size_t i = 0; i < n; i++) {
    const float *row = rows + i * dim;
    float norm = kern->dot(row, row, dim);
    if (!vx_norm_acceptable(norm)) {
      for (size_t j = 0; j < dim; j++)
        if (!isfinite(row[j]))
          return vx_fail(VEXFS_E_INVALID, "%s: %s %zu, element %zu is %s", fn, what, i, j,
                         isnan(row[j]) ? "NaN" : "infinite");
      return vx_fail(VEXFS_E_INVALID,
                     "%s: %s %zu is too large: its squared norm %g is above "
                     "VEXFS_MAX_SQUARED_NORM (%g), where distances could overflow float",
                     fn, what, i, (double)norm, (double)VEXFS_MAX_SQUARED_NORM);
    }
    if (norms) norms[i] = norm;
  }
  return VEXFS_OK;
}

/* F16 storage without an exact copy: every element within half floats' range, since the code
 * is all that is kept (an element past 65504 would be stored as 65504). */
static vexfs_status check_half_floats(const char *fn, const float *rows, size_t n, size_t dim) {
  for (size_t i = 0; i < n * dim; i++)
    if (fabsf(rows[i]) > 65504.0f)
      return vx_fail(VEXFS_E_INVALID, "%s: row %zu, element %zu is %g, beyond what storage F16 "
                     "holds without an exact copy (magnitudes up to 65504)", fn, i / dim, i % dim,
                     (double)rows[i]);
  return VEXFS_OK;
}

/* Fails when ids repeats an id, naming both rows. */
static vexfs_status check_unique(const char *fn, const uint64_t *ids, size_t n) {
  vx_idmap seen = {0};
  if (vx_idmap_reserve(&seen, n) != 0)
    return vx_fail(VEXFS_E_NOMEM, "%s: out of memory checking %zu ids", fn, n);
  vexfs_status st = VEXFS_OK;
  for (size_t i = 0; i < n && st == VEXFS_OK; i++) {
    uint32_t earlier;
    if (ids[i] == UINT64_MAX)
      st = vx_fail(VEXFS_E_INVALID, "%s: row %zu: id UINT64_MAX is reserved", fn, i);
    else if (vx_idmap_find(&seen, ids[i], &earlier))
      st = vx_fail(VEXFS_E_INVALID, "%s: rows %" PRIu32 " and %zu both have id %" PRIu64, fn,
                   earlier, i, ids[i]);
    else
      vx_idmap_put(&seen, ids[i], (uint32_t)i);
  }
  vx_idmap_destroy(&seen);
  return st;
}

/* An insert's log record and the copy of its appended rows, which can run side by side. The
 * caller starts at once on task 0; a pool thread takes task 1 once it has woken (up to hundreds
 * of microseconds), or the caller does when done with task 0. Task 0 is what the call waits on
 * longest: under SYNC_FULL the record, as its device write is the long pole (written second,
 * FULL inserts fell to 0.5x of in-memory in some runs); otherwise the copy (started second, it
 * began a wake-up late: NORMAL inserts at a median 0.84x of in-memory, against 0.90x). The
 * record's error message is kept, as a pool thread may write it. */
typedef struct log_and_fill {
  vexfs_collection *c;
  const char *fn;
  const uint64_t *ids;
  const float *vectors, *norms;
  const char *const *payloads;
  const uint32_t *slots;
  size_t reused, n;
  size_t log_task;
  int upsert;
  vexfs_status logged;
  vx_wal_ticket ticket;
  char message[VX_ERROR_MAX];
} log_and_fill;

static void log_or_fill(void *arg, size_t task, unsigned worker) {
  (void)worker;
  log_and_fill *j = arg;
  vx_store *s = &j->c->store;
  if (task == j->log_task) {
    j->logged = vx_journal_insert(j->c, j->fn, j->ids, j->vectors, j->payloads, j->n, j->upsert,
                                  &j->ticket);
    if (j->logged != VEXFS_OK) snprintf(j->message, sizeof j->message, "%s", vexfs_last_error());
    return;
  }
  for (size_t i = j->reused; i < j->n; i++)
    vx_store_write(s, j->slots[i], j->vectors + i * s->dim, j->ids[i], j->norms[i]);
}

/* The rows of a batch's ids that are in the collection now (an upsert replaces them), into old;
 * for an insert, any is VEXFS_E_EXISTS. */
static vexfs_status present_rows(vexfs_collection *c, const char *fn, const uint64_t *ids,
                                 size_t n, uint32_t *old, size_t *nold) {
  *nold = 0;
  for (size_t i = 0; i < n; i++) {
    uint32_t slot;
    if (!vx_idmap_find(&c->store.map, ids[i], &slot)) continue;
    if (!old)
      return vx_fail(VEXFS_E_EXISTS, "%s: row %zu: id %" PRIu64 " is already in the collection",
                     fn, i, ids[i]);
    old[(*nold)++] = slot;
  }
  return VEXFS_OK;
}

/* The insert itself, under write_lock: rows are valid and unique within the batch; blobs (NULL
 * when no row has a payload) are their parsed payloads (from payloads, for the log), taken over
 * on success. old (an upsert's; NULL for an insert) receives the rows of ids present, which are
 * removed in the same step that publishes the new ones, after one log record for both. */
static vexfs_status insert_locked(vexfs_collection *c, const char *fn, const uint64_t *ids,
                                  const float *vectors, const float *norms,
                                  const char *const *payloads, uint8_t **blobs, size_t n,
                                  uint32_t *slots, uint32_t *old) {
  vx_store *s = &c->store;
  size_t nold;
  vexfs_status st = present_rows(c, fn, ids, n, old, &nold);
  if (st != VEXFS_OK) return st;
  size_t live = atomic_load_explicit(&s->live, memory_order_relaxed);
  if (n - nold > VX_MAX_ROWS - live)
    return vx_fail(VEXFS_E_INVALID, "%s: the collection would exceed %zu vectors", fn,
                   (size_t)VX_MAX_ROWS);
  size_t appended;
  pthread_rwlock_wrlock(&c->rows_lock); /* the id map may grow: gets read it */
  int planned = vx_idmap_reserve(&s->map, live + n) == 0 &&
                vx_store_plan_insert(s, n, slots, &appended) == 0;
  pthread_rwlock_unlock(&c->rows_lock);
  if (!planned) return vx_fail(VEXFS_E_NOMEM, "%s: out of memory for %zu more vectors", fn, n);
  if (blobs) {
    uint32_t top = 0;
    for (size_t i = 0; i < n; i++) top = slots[i] > top ? slots[i] : top;
    if (vx_payloads_reserve(&c->payloads, (size_t)top + 1) != 0)
      return vx_fail(VEXFS_E_NOMEM, "%s: out of memory for %zu payloads", fn, n);
  }
  if (s->coded && vx_store_codes_stretch(s, vectors, n)) {
    /* the batch leaves the codes' range: published codes are re-coded to a wider one first, so
     * that this batch is coded by the quantiser searches will read it with */
    pthread_rwlock_wrlock(&c->rows_lock);
    vx_store_recode(s);
    pthread_rwlock_unlock(&c->rows_lock);
  }
  unsigned threads = vx_resolve_threads(c->cfg.threads);
  if (c->index->prepare &&
      (st = c->index->prepare(c->index_state, s, slots, vectors, norms, n, threads)) != VEXFS_OK)
    return st;
  void *scratch = NULL; /* the remove's, set aside before the record as vexfs_remove does */
  if (nold && c->index->prepare_remove &&
      (st = c->index->prepare_remove(c->index_state, s, &scratch)) != VEXFS_OK) {
    if (c->index->cancel) c->index->cancel(c->index_state, slots, n);
    return st;
  }
  /* Nothing but logging can fail past this point, so the record is written now. Meanwhile, and
   * while it travels to the device, the appended rows (unpublished, so invisible) are filled; a
   * failed log leaves them as scratch that later inserts overwrite. */
  size_t reused = n - appended;
  size_t log_task = vx_journal_waits_for_device(c) ? 0 : 1;
  log_and_fill job = {c, fn, ids, vectors, norms, payloads, slots, reused, n, log_task,
                      old != NULL, VEXFS_OK, {0}, {0}};
  vx_parallel_for(vx_journal_enabled(c) && appended && threads > 1 ? 2 : 1, 2, log_or_fill, &job);
  vexfs_status logged = job.logged;
  if (logged != VEXFS_OK) vx_fail(logged, "%s", job.message);
  if (logged == VEXFS_OK) logged = vx_journal_commit(c, fn, &job.ticket);
  if (logged != VEXFS_OK) {
    if (c->index->cancel) c->index->cancel(c->index_state, slots, n);
    vx_release(scratch);
    return logged;
  }
  pthread_rwlock_wrlock(&c->rows_lock);
  if (nold) { /* searches see the replaced rows or their replacements, never neither */
    if (c->index->remove) c->index->remove(c->index_state, s, old, nold, scratch);
    scratch = NULL;
    vx_collection_detach_payloads(c, old, nold);
    vx_store_free_rows_under(s, old, nold, reused);
  }
  for (size_t i = 0; i < reused; i++)
    vx_store_write(s, slots[i], vectors + i * s->dim, ids[i], norms[i]);
  vx_store_publish_insert(s, slots, n, appended);
  if (blobs) vx_collection_attach_payloads(c, slots, blobs, n);
  if (c->index->publish) c->index->publish(c->index_state, s);
  pthread_rwlock_unlock(&c->rows_lock);
  vx_release(scratch);
  if (c->index->add) c->index->add(c->index_state, s, slots, n, threads);
  return VEXFS_OK;
}

static vexfs_status insert_batch(vexfs_collection *c, const char *fn, const uint64_t *ids,
                                 const float *vectors, const char *const *payloads, size_t n,
                                 int upsert) {
  if (!c) return vx_fail(VEXFS_E_INVALID, "%s: collection is NULL", fn);
  uint64_t t0 = vx_now_ns();
  vexfs_status st = vx_journal_writable(c, fn);
  if (st != VEXFS_OK || n == 0) return st;
  if (!ids || !vectors)
    return vx_fail(VEXFS_E_INVALID, "%s: %s is NULL", fn, ids ? "vectors" : "ids");
  size_t floats;
  if (n > VX_MAX_ROWS || !vx_mul_ok(n, c->cfg.dim, &floats))
    return vx_fail(VEXFS_E_INVALID, "%s: n = %zu is too large", fn, n);
  int with_payloads = 0;
  for (size_t i = 0; payloads && i < n && !with_payloads; i++) with_payloads = payloads[i] != NULL;
  float *norms = vx_pool_get(n * sizeof *norms); /* batch buffers come from the pool */
  uint32_t *slots = vx_pool_get(n * sizeof *slots);
  uint8_t **blobs = with_payloads ? vx_pool_get(n * sizeof *blobs) : NULL;
  uint32_t *old = upsert ? vx_pool_get(n * sizeof *old) : NULL;
  if (!norms || !slots || (with_payloads && !blobs) || (upsert && !old))
    st = vx_fail(VEXFS_E_NOMEM, "%s: out of memory for %zu rows", fn, n);
  if (st == VEXFS_OK) st = check_rows(fn, "row", vectors, n, c->cfg.dim, norms);
  if (st == VEXFS_OK && c->store.coded && !c->store.keeps_rows &&
      c->cfg.storage == VEXFS_STORAGE_F16)
    st = check_half_floats(fn, vectors, n, c->cfg.dim);
  if (st == VEXFS_OK) st = check_unique(fn, ids, n);
  int parsed = 0; /* blobs hold parsed payloads that a failed insert must release */
  if (st == VEXFS_OK && blobs)
    parsed = (st = vx_collection_parse_payloads(fn, payloads, n, blobs)) == VEXFS_OK;
  if (st == VEXFS_OK) {
    pthread_mutex_lock(&c->write_lock);
    st = insert_locked(c, fn, ids, vectors, norms, blobs ? payloads : NULL, blobs, n, slots, old);
    pthread_mutex_unlock(&c->write_lock);
  }
  if (st != VEXFS_OK && parsed) vx_collection_release_payloads(blobs, n);
  vx_pool_put(norms, n * sizeof *norms);
  vx_pool_put(slots, n * sizeof *slots);
  if (blobs) vx_pool_put(blobs, n * sizeof *blobs);
  if (old) vx_pool_put(old, n * sizeof *old);
  if (st == VEXFS_OK && vx_metrics_enabled()) {
    uint64_t end = vx_now_ns();
    vx_metrics_on_insert(c->metrics, n, end - t0, end);
  }
  if (st == VEXFS_OK) vx_journal_after(c);
  return st;
}

VEXFS_API vexfs_status vexfs_insert(vexfs_collection *c, const uint64_t *ids,
                                    const float *vectors, size_t n) {
  return insert_batch(c, "vexfs_insert", ids, vectors, NULL, n, 0);
}

VEXFS_API vexfs_status vexfs_insert_with_payload(vexfs_collection *c, const uint64_t *ids,
                                                 const float *vectors,
                                                 const char *const *payloads_json, size_t n) {
  return insert_batch(c, "vexfs_insert_with_payload", ids, vectors, payloads_json, n, 0);
}

VEXFS_API vexfs_status vexfs_upsert(vexfs_collection *c, const uint64_t *ids, const float *vectors,
                                    const char *const *payloads_json, size_t n) {
  return insert_batch(c, "vexfs_upsert", ids, vectors, payloads_json, n, 1);
}

VEXFS_API vexfs_status vexfs_remove(vexfs_collection *c, const uint64_t *ids, size_t n) {
  const char *fn = "vexfs_remove";
  if (!c) return vx_fail(VEXFS_E_INVALID, "%s: collection is NULL", fn);
  vexfs_status st = vx_journal_writable(c, fn);
  if (st != VEXFS_OK || n == 0) return st;
  if (!ids) return vx_fail(VEXFS_E_INVALID, "%s: ids is NULL", fn);
  st = check_unique(fn, ids, n);
  if (st != VEXFS_OK) return st;

  uint32_t *slots = vx_pool_get(n * sizeof *slots);
  if (!slots) return vx_fail(VEXFS_E_NOMEM, "%s: out of memory for %zu ids", fn, n);
  pthread_mutex_lock(&c->write_lock);
  vx_store *s = &c->store;
  for (size_t i = 0; i < n && st == VEXFS_OK; i++)
    if (!vx_idmap_find(&s->map, ids[i], &slots[i]))
      st = vx_fail(VEXFS_E_NOT_FOUND, "%s: row %zu: id %" PRIu64 " is not in the collection", fn,
                   i, ids[i]);
  /* Everything that can fail comes before the record: the index sets aside its memory first. */
  void *scratch = NULL;
  if (st == VEXFS_OK && c->index->prepare_remove)
    st = c->index->prepare_remove(c->index_state, s, &scratch);
  if (st == VEXFS_OK) st = vx_journal_remove(c, fn, ids, n);
  if (st == VEXFS_OK) {
    pthread_rwlock_wrlock(&c->rows_lock);
    if (c->index->remove) c->index->remove(c->index_state, s, slots, n, scratch);
    scratch = NULL;
    vx_collection_detach_payloads(c, slots, n);
    vx_store_free_rows(s, slots, n);
    pthread_rwlock_unlock(&c->rows_lock);
  }
  vx_release(scratch);
  pthread_mutex_unlock(&c->write_lock);
  vx_pool_put(slots, n * sizeof *slots);
  if (st == VEXFS_OK && vx_metrics_enabled()) vx_metrics_on_remove(c->metrics, n);
  if (st == VEXFS_OK) vx_journal_after(c);
  return st;
}

VEXFS_API vexfs_status vexfs_get(vexfs_collection *c, uint64_t id, float *vector_out) {
  if (!c || !vector_out)
    return vx_fail(VEXFS_E_INVALID, "vexfs_get: %s is NULL", c ? "vector_out" : "collection");
  pthread_rwlock_rdlock(&c->rows_lock);
  uint32_t slot;
  int found = vx_idmap_find(&c->store.map, id, &slot);
  if (found && c->store.keeps_rows)
    memcpy(vector_out, vx_store_row(&c->store, slot), c->cfg.dim * sizeof(float));
  else if (found) /* rerank NONE: the code is the vector */
    vx_codec_decode(&c->store.codec, vx_store_code(&c->store, slot), vector_out);
  pthread_rwlock_unlock(&c->rows_lock);
  if (!found) return vx_fail(VEXFS_E_NOT_FOUND, "vexfs_get: id %" PRIu64 " is not in the collection", id);
  return VEXFS_OK;
}

/* Answers a validated query under the shared lock: through the filter planner when a compiled
 * filter is given, else with the index (and q->filter, if any); with exact, by scoring every
 * admitted row, whatever the index. */
typedef struct index_search {
  const vexfs_collection *c;
  const vx_query *q;
} index_search;

static double index_cost(const void *ctx, double share, int bitmap) {
  const index_search *is = ctx;
  return is->c->index->filtered_cost(is->c->index_state, &is->c->store, is->q, share, bitmap);
}

static vexfs_status answer_locked(vexfs_collection *c, size_t rows, vx_query *q,
                                  const vx_filter_prog *prog, int exact) {
  if (!prog)
    return exact ? vx_flat_search(&c->store, rows, q)
                 : c->index->search(c->index_state, &c->store, rows, q);
  index_search cost_ctx = {c, q};
  vx_plan_input in = {.filter = prog, .indexes = c->indexes, .nindexes = c->nindexes,
                      .payloads = &c->payloads, .store = &c->store, .rows = rows,
                      .index_cost = c->index->filtered_cost && !exact ? index_cost : NULL,
                      .index_ctx = &cost_ctx};
  vx_plan plan;
  vexfs_status st = vx_plan_filter(&in, &plan);
  if (st != VEXFS_OK) return st;
  vx_filter_ctx ctx = {prog, &c->payloads, &c->store};
  vx_filter predicate = {vx_filter_admit, &ctx};
  if (plan.bitmap) predicate = (vx_filter){vx_bitmap_admit, plan.bitmap};
  if (plan.exact) {
    q->listed = 1;
    q->slots = plan.slots;
    q->nslots = plan.n;
    st = vx_flat_search(&c->store, rows, q);
  } else {
    q->filter = &predicate;
    st = exact ? vx_flat_search(&c->store, rows, q)
               : c->index->search(c->index_state, &c->store, rows, q);
  }
  vx_plan_release(&plan);
  return st;
}

/* The payload of each hit, as JSON (NULL where none), read under the same lock as the hits. */
static vexfs_status hit_payloads(vexfs_collection *c, const uint64_t *ids, size_t cells,
                                 char **out) {
  for (size_t i = 0; i < cells; i++) {
    uint32_t slot;
    const uint8_t *blob = ids[i] != UINT64_MAX && vx_idmap_find(&c->store.map, ids[i], &slot)
                              ? vx_payload_of(&c->payloads, slot)
                              : NULL;
    if (blob && !(out[i] = vx_payload_text(blob))) {
      for (size_t j = 0; j < i; j++) vx_release(out[j]), out[j] = NULL;
      return vx_fail(VEXFS_E_NOMEM, "vexfs_search_with_payload: out of memory for payloads");
    }
  }
  return VEXFS_OK;
}

static vexfs_status search(vexfs_collection *c, const char *fn, const float *queries, size_t nq,
                           size_t k, const vexfs_search_params *params, const vx_filter *filter,
                           uint64_t *ids, float *distances, size_t *counts, char **payloads) {
  if (!c || !queries || !ids || !distances)
    return vx_fail(VEXFS_E_INVALID, "%s: %s is NULL", fn,
                   !c ? "collection" : !queries ? "queries" : !ids ? "ids" : "distances");
  vexfs_search_params p;
  vexfs_search_params_init(&p);
  vexfs_status st =
      params ? vx_versioned_read(fn, "params", &vx_params_kind, &p, params) : VEXFS_OK;
  if (st != VEXFS_OK) return st;
  if (nq == 0) return vx_fail(VEXFS_E_INVALID, "%s: nq is 0; pass at least one query", fn);
  if (k == 0 || k > VEXFS_MAX_K)
    return vx_fail(VEXFS_E_INVALID, "%s: k is %zu; it must be 1..%u", fn, k, VEXFS_MAX_K);
  size_t cells, bytes, floats;
  if (!vx_mul_ok(nq, k, &cells) || !vx_mul_ok(cells, sizeof(uint64_t), &bytes) ||
      !vx_mul_ok(nq, c->cfg.dim, &floats) || !vx_mul_ok(floats, sizeof(float), &floats))
    return vx_fail(VEXFS_E_INVALID, "%s: nq = %zu with k = %zu is too large", fn, nq, k);
  uint64_t t0 = vx_now_ns();
  st = check_rows(fn, "query", queries, nq, c->cfg.dim, NULL);
  if (st != VEXFS_OK) return st;
  vx_filter_prog compiled, *prog = NULL;
  if (p.filter_json) {
    if ((st = vx_filter_compile(fn, p.filter_json, &compiled)) != VEXFS_OK) return st;
    prog = &compiled;
  }
  _Atomic uint64_t computed = 0;

  vx_query q = {.queries = queries, .nq = nq, .k = k, .metric = c->cfg.metric, .ids = ids,
                .distances = distances, .counts = counts, .filter = filter,
                .distance_count = &computed,
                .threads = vx_resolve_threads(p.threads ? p.threads : c->cfg.threads),
                .ef = p.ef ? p.ef : c->cfg.hnsw_ef_search,
                .probes = p.probes ? p.probes : c->cfg.lsh_probes,
                .nprobe = p.nprobe ? p.nprobe : c->cfg.ivf_nprobe};
  pthread_rwlock_rdlock(&c->rows_lock);
  size_t rows = atomic_load_explicit(&c->store.rows, memory_order_acquire);
  st = answer_locked(c, rows, &q, prog, p.exact != 0);
  if (st == VEXFS_OK && payloads) st = hit_payloads(c, ids, cells, payloads);
  pthread_rwlock_unlock(&c->rows_lock);
  if (prog) vx_filter_release(prog);
  if (st == VEXFS_OK && vx_metrics_enabled()) {
    uint64_t end = vx_now_ns();
    vx_metrics_on_search(c->metrics, nq, atomic_load(&computed), end - t0, end);
  }
  return st;
}

vexfs_status vx_collection_search(vexfs_collection *c, const float *queries, size_t nq, size_t k,
                                  const vexfs_search_params *params, const vx_filter *filter,
                                  uint64_t *ids, float *distances, size_t *counts) {
  return search(c, "vexfs_search", queries, nq, k, params, filter, ids, distances, counts, NULL);
}

VEXFS_API vexfs_status vexfs_search(vexfs_collection *c, const float *queries, size_t nq,
                                    size_t k, const vexfs_search_params *params, uint64_t *ids,
                                    float *distances, size_t *counts) {
  return search(c, "vexfs_search", queries, nq, k, params, NULL, ids, distances, counts, NULL);
}

VEXFS_API vexfs_status vexfs_search_with_payload(vexfs_collection *c, const float *queries,
                                                 size_t nq, size_t k,
                                                 const vexfs_search_params *params, uint64_t *ids,
                                                 float *distances, size_t *counts,
                                                 char **payloads_out) {
  const char *fn = "vexfs_search_with_payload";
  if (!payloads_out) return vx_fail(VEXFS_E_INVALID, "%s: payloads_out is NULL", fn);
  size_t cells;
  if (vx_mul_ok(nq, k, &cells) && nq && k && k <= VEXFS_MAX_K)
    memset(payloads_out, 0, cells * sizeof *payloads_out);
  return search(c, fn, queries, nq, k, params, NULL, ids, distances, counts, payloads_out);
}

uint64_t vx_collection_slot_id(const vexfs_collection *c, uint32_t slot) {
  return vx_store_id(&c->store, slot);
}

const char *vx_collection_index_name(const vexfs_collection *c) {
  return c->index == &vx_index_auto ? vx_auto_name(c->index_state) : c->index->name;
}

/* The collection's HNSW index (its own, or the one AUTO built), or NULL. */
static const void *hnsw_of(vexfs_collection *c) {
  if (c->index == &vx_index_hnsw) return c->index_state;
  void *built = NULL;
  const vx_index_ops *ops =
      c->index == &vx_index_auto ? vx_auto_built(c->index_state, &built) : NULL;
  return ops == &vx_index_hnsw ? built : NULL;
}

int vx_collection_traverses_exactly(vexfs_collection *c) {
  const void *h = hnsw_of(c);
  return h && vx_hnsw_traverses_exactly(h);
}

int vx_collection_hnsw_codes(vexfs_collection *c, int *lossless, int *exact_traversal) {
  const void *h = hnsw_of(c);
  if (!h) return 0;
  *lossless = vx_hnsw_codes_lossless(h);
  *exact_traversal = vx_hnsw_traverses_exactly(h);
  return 1;
}

int vx_collection_store_codes(vexfs_collection *c, const char **storage, int *lossless) {
  const vx_store *s = &c->store;
  if (!s->coded) return 0;
  *storage = s->codec.kind == VEXFS_STORAGE_F16 ? "f16" : s->codec.kind == VEXFS_STORAGE_SQ8 ? "sq8" : "sq4";
  *lossless = atomic_load_explicit(&((vx_store *)s)->codes_lossless, memory_order_relaxed);
  return 1;
}

vx_metrics *vx_collection_metrics_of(vexfs_collection *c) { return c->metrics; }

void vx_collection_memory(vexfs_collection *c, vx_memory *m) {
  vx_store *s = &c->store;
  pthread_rwlock_rdlock(&c->rows_lock); /* the id map, free list and indexes change under its write side */
  m->mapped = (uint64_t)atomic_load_explicit(&s->mapped, memory_order_relaxed) *
              vx_store_row_bytes(s);
  m->vectors = vx_chunked_bytes(&s->rows_at) - m->mapped + vx_chunked_bytes(&s->codes_at) +
               vx_chunked_bytes(&s->lx_at) +
               vx_chunked_bytes(&s->norms_at) +
               vx_chunked_bytes(&s->ids_at) + s->free_cap * sizeof(uint32_t) +
               (s->map.keys ? (s->map.mask + 1) * (sizeof(uint64_t) + sizeof(uint32_t)) : 0);
  /* a coded HNSW's nodes live beside the codes: their share of the elements is the index's */
  size_t codes = vx_chunked_bytes(&s->codes_at), node_share = 0;
  if (s->coded) node_share = codes / s->codes_at.elem_size * (s->codes_at.elem_size - s->codec.element);
  m->vectors -= node_share;
  m->payloads = atomic_load(&c->payloads.bytes) + vx_chunked_bytes(&c->payloads.at);
  for (size_t i = 0; i < c->nindexes; i++) m->payloads += vx_pindex_memory(c->indexes[i]);
  pthread_rwlock_unlock(&c->rows_lock);
  m->index = node_share + (c->index->memory ? c->index->memory(c->index_state) : 0);
}

void vx_collections_each(void (*fn)(vexfs_collection *c, void *ctx), void *ctx) {
  pthread_mutex_lock(&registry_lock);
  for (vexfs_collection *c = registry; c; c = c->next) fn(c, ctx);
  pthread_mutex_unlock(&registry_lock);
}

uint64_t vx_collections_vectors(void) {
  uint64_t n = 0;
  pthread_mutex_lock(&registry_lock);
  for (vexfs_collection *c = registry; c; c = c->next) n += vexfs_count(c);
  pthread_mutex_unlock(&registry_lock);
  return n;
}

void vx_collections_memory(vx_memory *total) {
  *total = (vx_memory){0};
  pthread_mutex_lock(&registry_lock);
  for (vexfs_collection *c = registry; c; c = c->next) {
    vx_memory m;
    vx_collection_memory(c, &m);
    total->vectors += m.vectors;
    total->index += m.index;
    total->payloads += m.payloads;
    total->mapped += m.mapped;
  }
  pthread_mutex_unlock(&registry_lock);
}

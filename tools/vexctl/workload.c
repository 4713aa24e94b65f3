/* vexctl: the workload engine (workload.h). */
#include "workload.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define QUERY_POOL_ROWS 1024 /* rows drawn from the collection: the queries and insert models */
#define LOAD_CHUNK_ROWS 4096 /* synthetic rows per insert while loading (a signal stops between) */
#define SEED 42              /* the queries and synthetic rows are the same on every run */
#define JITTER 0.01          /* inserted rows: a drawn row, each coordinate scaled by 1 +- 1 % */

/* ---- latency histogram ---- */

double vc_hist_edge(size_t i) { return VC_HIST_MIN_US * exp2((double)i / VC_HIST_PER_DOUBLING); }

void vc_hist_clear(vc_latency_hist *h) {
  memset(h, 0, sizeof *h);
  h->min_us = INFINITY;
}

void vc_hist_add(vc_latency_hist *h, double us) {
  double pos = us > VC_HIST_MIN_US ? log2(us / VC_HIST_MIN_US) * VC_HIST_PER_DOUBLING : 0;
  size_t i = pos < VC_HIST_BUCKETS ? (size_t)pos : VC_HIST_BUCKETS - 1;
  h->bucket[i]++;
  h->count++;
  h->sum_us += us;
  h->min_us = fmin(h->min_us, us);
  h->max_us = fmax(h->max_us, us);
}

void vc_hist_merge(vc_latency_hist *into, const vc_latency_hist *from) {
  for (size_t i = 0; i < VC_HIST_BUCKETS; i++) into->bucket[i] += from->bucket[i];
  into->count += from->count;
  into->sum_us += from->sum_us;
  into->min_us = fmin(into->min_us, from->min_us);
  into->max_us = fmax(into->max_us, from->max_us);
}

double vc_hist_quantile(const vc_latency_hist *h, double q) {
  if (h->count == 0) return NAN;
  uint64_t rank = (uint64_t)ceil(q * (double)h->count), seen = 0;
  if (rank < 1) rank = 1;
  size_t i = 0;
  for (; i < VC_HIST_BUCKETS - 1; i++) {
    seen += h->bucket[i];
    if (seen >= rank) break;
  }
  double mid = sqrt(vc_hist_edge(i) * vc_hist_edge(i + 1)); /* geometric middle of the bucket */
  return fmin(fmax(mid, h->min_us), h->max_us);
}

/* ---- workload names ---- */

static const char *const workload_names[] = {"search", "insert", "mixed"};

int vc_parse_workload(const char *s, vc_workload_kind *out) {
  for (size_t i = 0; s && i < sizeof workload_names / sizeof *workload_names; i++)
    if (!strcmp(s, workload_names[i])) return *out = (vc_workload_kind)i, 0;
  return -1;
}

const char *vc_workload_name(vc_workload_kind k) {
  return (size_t)k < sizeof workload_names / sizeof *workload_names ? workload_names[k] : "?";
}

void vc_workload_config_defaults(vc_workload_config *c) {
  memset(c, 0, sizeof *c);
  c->kind = VC_WORKLOAD_SEARCH;
  c->dim = 128;
  c->rows = 20000;
  c->index = VEXFS_INDEX_HNSW;
  c->threads = 1;
  c->k = 10;
  c->duration_ms = 60000;
  c->interval_ms = 1000;
}

/* Hit rate between two readings of the pool's counters; NaN when no request came between. */
static double pool_hit_rate_between(const vexfs_pool_stats *before, const vexfs_pool_stats *after) {
  uint64_t requests = 0, hits = 0;
  for (uint32_t i = 0; i < after->tier_count && i < VEXFS_POOL_MAX_TIERS; i++) {
    requests += after->tiers[i].requests - before->tiers[i].requests;
    hits += after->tiers[i].hits - before->tiers[i].hits;
  }
  return requests ? (double)hits / (double)requests : NAN;
}

/* ---- random numbers (splitmix64: small, seedable, good enough for drawing rows) ---- */

static uint64_t next_random(uint64_t *state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15u);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return z ^ (z >> 31);
}

static double uniform01(uint64_t *state) { return (double)(next_random(state) >> 11) * 0x1p-53; }

static double gaussian(uint64_t *state) { /* Box-Muller */
  double u = uniform01(state), v = uniform01(state);
  return sqrt(-2 * log(u > 0 ? u : 0x1p-53)) * cos(2 * M_PI * v);
}

/* ---- signals: SIGINT / SIGTERM stop the run; cleanup then happens as usual ---- */

static atomic_int signal_received;

static void on_signal(int signo) { atomic_store(&signal_received, signo); }

/* ---- the engine ---- */

typedef struct worker {
  vc_workload *w;
  pthread_t thread;
  uint64_t rng;
  pthread_mutex_t lock; /* guards the figures below, which collect() takes and clears */
  uint64_t searches, inserts;
  vc_latency_hist latency;
  uint64_t *ids; /* search results and the inserted row */
  float *distances, *row;
} worker;

struct vc_workload {
  const char *cmd;
  vc_workload_config cfg;
  vc_workload_target target;
  vexfs_db *db;
  vexfs_collection *search, *insert, *in_memory; /* in_memory: ours to free */
  char scratch[64];
  float *queries; /* pool_rows x dim */
  size_t pool_rows;
  uint32_t dim;
  atomic_uint_fast64_t next_id;
  atomic_int stop;
  pthread_mutex_t error_lock;
  char error[512]; /* the first failure of a worker, when failed */
  int failed;
  struct sigaction old_int, old_term;
  worker *workers;
};

static int stopping(vc_workload *w) {
  return atomic_load_explicit(&w->stop, memory_order_relaxed) ||
         atomic_load_explicit(&signal_received, memory_order_relaxed);
}

/* Keeps a worker's first failure (vexfs_last_error() is per thread) and stops the run. */
static void worker_failed(vc_workload *w, const char *what, vexfs_status st) {
  const char *msg = vexfs_last_error();
  pthread_mutex_lock(&w->error_lock);
  if (!w->failed)
    snprintf(w->error, sizeof w->error, "%s: %s", what, *msg ? msg : vexfs_status_string(st));
  w->failed = 1;
  pthread_mutex_unlock(&w->error_lock);
  atomic_store(&w->stop, 1);
}

static double seconds_between(const struct timespec *a, const struct timespec *b) {
  return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) * 1e-9;
}

static void *worker_main(void *arg) {
  worker *me = arg;
  vc_workload *w = me->w;
  vexfs_search_params params;
  vexfs_search_params_init(&params);
  params.ef = w->cfg.ef;
  params.threads = 1;
  while (!stopping(w)) {
    const float *model = w->queries + (size_t)(next_random(&me->rng) % w->pool_rows) * w->dim;
    int insert = w->cfg.kind == VC_WORKLOAD_INSERT ||
                 (w->cfg.kind == VC_WORKLOAD_MIXED && uniform01(&me->rng) < VC_MIXED_INSERT_SHARE);
    if (insert) {
      for (uint32_t j = 0; j < w->dim; j++)
        me->row[j] = model[j] * (float)(1 + JITTER * gaussian(&me->rng));
      me->ids[0] = atomic_fetch_add(&w->next_id, 1);
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    vexfs_status st = insert ? vexfs_insert(w->insert, me->ids, me->row, 1)
                             : vexfs_search(w->search, model, 1, w->cfg.k, &params, me->ids,
                                            me->distances, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (st != VEXFS_OK) {
      worker_failed(w, insert ? "insert" : "search", st);
      break;
    }
    pthread_mutex_lock(&me->lock);
    vc_hist_add(&me->latency, seconds_between(&t0, &t1) * 1e6);
    if (insert) me->inserts++;
    else me->searches++;
    pthread_mutex_unlock(&me->lock);
  }
  return NULL;
}

/* Moves every worker's figures since the last call into *s (which it adds to). */
static void collect(vc_workload *w, vc_workload_sample *s) {
  for (uint32_t i = 0; i < w->cfg.threads; i++) {
    worker *me = &w->workers[i];
    pthread_mutex_lock(&me->lock);
    vc_hist_merge(&s->latency, &me->latency);
    s->searches += me->searches;
    s->inserts += me->inserts;
    vc_hist_clear(&me->latency);
    me->searches = me->inserts = 0;
    pthread_mutex_unlock(&me->lock);
  }
}

static void sample_clear(vc_workload_sample *s, double start_s) {
  memset(s, 0, sizeof *s);
  vc_hist_clear(&s->latency);
  s->start_s = start_s;
  s->pool_hit_rate = NAN;
}

/* Sleeps until t (vc_now() time); returns 0 early when the run is stopping. */
static int wait_until(vc_workload *w, double t) {
  for (;;) {
    if (stopping(w)) return 0;
    double left = t - vc_now();
    if (left <= 0) return 1;
    if (left > 0.02) left = 0.02; /* wake up to notice a signal or a failed worker */
    struct timespec ts = {0, (long)(left * 1e9)};
    nanosleep(&ts, NULL);
  }
}

int vc_workload_run(vc_workload *w, vc_interval_fn on_interval, void *ctx,
                    vc_workload_sample *total) {
  uint32_t n = w->cfg.threads;
  vexfs_pool_stats run_start, before, after;
  vexfs_pool_stats_init(&run_start);
  vexfs_pool_stats_init(&after);
  vexfs_pool_get_stats(&run_start);
  before = run_start;
  sample_clear(total, 0);
  atomic_store(&w->stop, 0);
  uint32_t started = 0;
  int rc = VC_OK;
  double t0 = vc_now();
  for (; started < n; started++) {
    int e = pthread_create(&w->workers[started].thread, NULL, worker_main, &w->workers[started]);
    if (e) {
      atomic_store(&w->stop, 1);
      rc = vc_fail(w->cmd, "starting worker %u of %u: %s", started + 1, n, strerror(e));
      break;
    }
  }
  uint64_t done_ms = 0;
  double last_end = 0;
  while (rc == VC_OK && done_ms < w->cfg.duration_ms) {
    uint64_t end_ms = done_ms + w->cfg.interval_ms;
    if (end_ms > w->cfg.duration_ms) end_ms = w->cfg.duration_ms;
    if (!wait_until(w, t0 + (double)end_ms / 1e3)) break;
    vc_workload_sample iv;
    sample_clear(&iv, last_end);
    collect(w, &iv);
    iv.end_s = last_end = vc_now() - t0;
    vexfs_pool_get_stats(&after);
    iv.pool_hit_rate = pool_hit_rate_between(&before, &after);
    before = after;
    vc_hist_merge(&total->latency, &iv.latency);
    total->searches += iv.searches;
    total->inserts += iv.inserts;
    if (on_interval) on_interval(&iv, ctx);
    done_ms = end_ms;
  }
  atomic_store(&w->stop, 1);
  for (uint32_t i = 0; i < started; i++) pthread_join(w->workers[i].thread, NULL);
  total->end_s = last_end;
  total->pool_hit_rate = pool_hit_rate_between(&run_start, &before);
  if (rc != VC_OK) return rc;
  if (w->failed) return vc_fail(w->cmd, "%s", w->error);
  int sig = atomic_load(&signal_received);
  if (sig)
    return vc_fail(w->cmd, "interrupted by %s after %.1f s", sig == SIGINT ? "SIGINT" : "SIGTERM",
                   vc_now() - t0);
  return VC_OK;
}

const vc_workload_target *vc_workload_target_of(const vc_workload *w) { return &w->target; }

/* ---- setup and cleanup ---- */

static int interrupted_while(vc_workload *w, const char *what) {
  return vc_fail(w->cmd, "interrupted while %s", what);
}

/* Loads cfg->rows synthetic rows (standard normal coordinates) into a new in-memory collection. */
static int load_synthetic(vc_workload *w) {
  vexfs_collection_config cc;
  vexfs_collection_config_init(&cc);
  cc.dim = w->cfg.dim;
  cc.index = w->cfg.index;
  vexfs_status st = vexfs_collection_create(&cc, &w->in_memory);
  if (st != VEXFS_OK) return vc_lib_fail(w->cmd, "creating the in-memory collection", st);
  size_t chunk = LOAD_CHUNK_ROWS;
  float *rows = malloc(chunk * w->cfg.dim * sizeof *rows);
  uint64_t *ids = malloc(chunk * sizeof *ids);
  if (!rows || !ids) {
    free(rows);
    free(ids);
    return vc_fail(w->cmd, "out of memory for the synthetic rows");
  }
  uint64_t rng = SEED;
  int rc = VC_OK;
  int tell = vc_stderr_tty(); /* building a large index takes a while: say so on a terminal */
  if (tell)
    fprintf(stderr, "loading %llu synthetic rows x %u (%s)...", (unsigned long long)w->cfg.rows,
            w->cfg.dim, vc_index_name(w->cfg.index));
  for (uint64_t done = 0; done < w->cfg.rows && rc == VC_OK;) {
    if (atomic_load(&signal_received)) {
      rc = interrupted_while(w, "loading the synthetic rows");
      break;
    }
    size_t m = w->cfg.rows - done < chunk ? (size_t)(w->cfg.rows - done) : chunk;
    for (size_t i = 0; i < m; i++) {
      ids[i] = done + i;
      for (uint32_t j = 0; j < w->cfg.dim; j++) rows[i * w->cfg.dim + j] = (float)gaussian(&rng);
    }
    st = vexfs_insert(w->in_memory, ids, rows, m);
    if (st != VEXFS_OK) rc = vc_lib_fail(w->cmd, "loading the synthetic rows", st);
    done += m;
  }
  if (tell) fputs("\r\033[K", stderr);
  free(rows);
  free(ids);
  w->search = w->insert = w->in_memory;
  return rc;
}

#define SCRATCH_PREFIX "vexctl-bench-"

/* Drops the scratch collections that runs killed before their cleanup left behind (SIGKILL, a
 * power cut). With the database open for writing no other run can be using one: the writer's
 * lock is this process's. Only names of the exact form SCRATCH_PREFIX + digits are touched. */
static int drop_leftover_scratch(vc_workload *w) {
  char **names;
  size_t n;
  vexfs_status st = vexfs_db_list_collections(w->db, &names, &n);
  if (st != VEXFS_OK) return vc_lib_fail(w->cmd, "listing the collections", st);
  int rc = VC_OK;
  for (size_t i = 0; rc == VC_OK && i < n; i++) {
    const char *tail = names[i] + strlen(SCRATCH_PREFIX);
    if (strncmp(names[i], SCRATCH_PREFIX, strlen(SCRATCH_PREFIX)) || !*tail ||
        strspn(tail, "0123456789") != strlen(tail) || !strcmp(names[i], w->cfg.name))
      continue;
    if ((st = vexfs_db_drop_collection(w->db, names[i])) != VEXFS_OK)
      rc = vc_lib_fail(w->cmd, names[i], st);
  }
  vexfs_free(names);
  return rc;
}

/* Opens the database collection to search and, for inserts, makes the scratch collection. */
static int open_database(vc_workload *w) {
  int writable = w->cfg.kind != VC_WORKLOAD_SEARCH;
  if (vc_open_collection(w->cmd, w->cfg.db_path, w->cfg.name, writable, &w->db, &w->search) != VC_OK)
    return VC_FAIL;
  if (!writable) return VC_OK;
  vexfs_collection_config cc;
  vexfs_collection_config_init(&cc);
  vexfs_status st = vexfs_collection_get_config(w->search, &cc);
  if (st != VEXFS_OK) return vc_lib_fail(w->cmd, w->cfg.name, st);
  if (drop_leftover_scratch(w) != VC_OK) return VC_FAIL;
  snprintf(w->scratch, sizeof w->scratch, SCRATCH_PREFIX "%ld", (long)getpid());
  st = vexfs_db_create_collection(w->db, w->scratch, &cc, &w->insert);
  if (st != VEXFS_OK) return vc_lib_fail(w->cmd, "creating the scratch collection", st);
  w->target.scratch_name = w->scratch;
  return VC_OK;
}

/* Draws up to QUERY_POOL_ROWS rows of the searched collection (a seeded partial shuffle of its
 * ids); an empty collection gets standard normal rows instead. */
static int draw_queries(vc_workload *w) {
  uint64_t *ids = NULL;
  size_t n = 0;
  vexfs_status st = vexfs_list_ids(w->search, &ids, &n);
  if (st != VEXFS_OK) return vc_lib_fail(w->cmd, "listing the ids", st);
  w->pool_rows = n == 0 ? QUERY_POOL_ROWS : n < QUERY_POOL_ROWS ? n : QUERY_POOL_ROWS;
  w->queries = malloc(w->pool_rows * w->dim * sizeof *w->queries);
  if (!w->queries) {
    vexfs_free(ids);
    return vc_fail(w->cmd, "out of memory for %zu queries", w->pool_rows);
  }
  uint64_t rng = SEED, max_id = 0;
  for (size_t i = 0; i < n; i++) max_id = ids[i] > max_id ? ids[i] : max_id;
  int rc = VC_OK;
  for (size_t i = 0; i < w->pool_rows && rc == VC_OK; i++) {
    float *q = w->queries + i * w->dim;
    if (n == 0) {
      for (uint32_t j = 0; j < w->dim; j++) q[j] = (float)gaussian(&rng);
      continue;
    }
    size_t pick = i + (size_t)(next_random(&rng) % (n - i));
    uint64_t id = ids[pick];
    ids[pick] = ids[i];
    ids[i] = id;
    st = vexfs_get(w->search, id, q);
    if (st != VEXFS_OK) rc = vc_lib_fail(w->cmd, "reading a query row", st);
  }
  vexfs_free(ids);
  /* In memory the inserts go into the searched collection: new ids follow the loaded ones. */
  atomic_store(&w->next_id, w->insert == w->search && n ? max_id + 1 : 0);
  return rc;
}

static int make_workers(vc_workload *w) {
  w->workers = calloc(w->cfg.threads, sizeof *w->workers);
  if (!w->workers) return vc_fail(w->cmd, "out of memory for %u workers", w->cfg.threads);
  for (uint32_t i = 0; i < w->cfg.threads; i++) pthread_mutex_init(&w->workers[i].lock, NULL);
  for (uint32_t i = 0; i < w->cfg.threads; i++) {
    worker *me = &w->workers[i];
    me->w = w;
    me->rng = SEED + 1 + i;
    vc_hist_clear(&me->latency);
    me->ids = malloc(w->cfg.k * sizeof *me->ids);
    me->distances = malloc(w->cfg.k * sizeof *me->distances);
    me->row = malloc(w->dim * sizeof *me->row);
    if (!me->ids || !me->distances || !me->row) return vc_fail(w->cmd, "out of memory for the workers");
  }
  return VC_OK;
}

int vc_workload_open(const char *cmd, const vc_workload_config *cfg, vc_workload **out) {
  *out = NULL;
  vc_workload *w = calloc(1, sizeof *w);
  if (!w) return vc_fail(cmd, "out of memory");
  w->cmd = cmd;
  w->cfg = *cfg;
  pthread_mutex_init(&w->error_lock, NULL);
  atomic_store(&signal_received, 0);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &w->old_int);
  sigaction(SIGTERM, &sa, &w->old_term);

  double t0 = vc_now();
  int rc = cfg->db_path ? open_database(w) : load_synthetic(w);
  if (rc == VC_OK) {
    w->dim = vexfs_dim(w->search);
    rc = draw_queries(w);
  }
  if (rc == VC_OK) rc = make_workers(w);
  if (rc == VC_OK && atomic_load(&signal_received)) rc = interrupted_while(w, "preparing the workload");
  if (rc != VC_OK) {
    vc_workload_close(w, &rc);
    return VC_FAIL;
  }
  w->target.db_path = cfg->db_path;
  w->target.name = cfg->name;
  w->target.collection = w->search;
  w->target.rows = vexfs_count(w->search);
  vexfs_collection_config_init(&w->target.config);
  vexfs_collection_get_config(w->search, &w->target.config);
  w->target.setup_s = vc_now() - t0;
  *out = w;
  return VC_OK;
}

void vc_workload_close(vc_workload *w, int *rc) {
  if (!w) return;
  if (w->target.scratch_name) {
    vexfs_status st = vexfs_db_drop_collection(w->db, w->scratch);
    if (st != VEXFS_OK) *rc = vc_lib_fail(w->cmd, w->scratch, st);
  }
  if (w->db) vc_close_db(w->cmd, w->db, rc);
  vexfs_collection_free(w->in_memory);
  for (uint32_t i = 0; w->workers && i < w->cfg.threads; i++) {
    pthread_mutex_destroy(&w->workers[i].lock);
    free(w->workers[i].ids);
    free(w->workers[i].distances);
    free(w->workers[i].row);
  }
  free(w->workers);
  free(w->queries);
  pthread_mutex_destroy(&w->error_lock);
  sigaction(SIGINT, &w->old_int, NULL);
  sigaction(SIGTERM, &w->old_term, NULL);
  free(w);
}

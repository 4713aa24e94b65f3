/* The performance sampler: a thread that once a second reads the process-wide figures of the
 * library (vexfs_collection_metrics(NULL)) and keeps them in a bounded history (perf_ring.h),
 * for /api/v1/performance and the WebSocket stream.
 *   vector_ops_per_sec etc.: the growth of the library's counters (inserts, which count
 *     upserts, removes, searched queries) since the previous sample over the time between them.
 *     The counters are the process's, so the server's companion collections count too: one row
 *     when a collection is made, one when a UUID is first given an id.
 *   search_latency_*: the library's histogram of every search since the process started (the
 *     library keeps no windowed percentiles).
 *   vectors: the points of the served collections (companions left out). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "perf_ring.h"

/* The counters of the previous sample. */
typedef struct reading {
  uint64_t at_ns; /* CLOCK_MONOTONIC */
  uint64_t inserts, searches, removes;
} reading;

struct vs_perf {
  vs_server *srv;
  pthread_t thread;
  pthread_mutex_t lock; /* all below; held for a whole sample, so that samples come in order */
  pthread_cond_t wake;
  int stopping;
  reading last;
  vs_perf_ring ring;
};

static uint64_t unix_ms_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static reading read_counters(const vexfs_metrics *m) {
  return (reading){vs_now_ns(), m->inserts, m->searches, m->removes};
}

/* Per second from a to b; a counter that went down (vexfs_metrics_reset) counts from 0. */
static double rate(uint64_t a, uint64_t b, double seconds) {
  return seconds > 0 ? (double)(b >= a ? b - a : b) / seconds : 0;
}

/* Takes a sample into the ring and *out. Under p->lock. */
static void sample(vs_perf *p, vs_perf_sample *out) {
  vexfs_metrics m;
  vexfs_metrics_init(&m);
  vexfs_collection_metrics(NULL, &m);
  reading now = read_counters(&m);
  double seconds = (double)(now.at_ns - p->last.at_ns) / 1e9;
  double searches = rate(p->last.searches, now.searches, seconds);
  double inserts = rate(p->last.inserts, now.inserts, seconds);
  *out = (vs_perf_sample){
      .unix_ms = unix_ms_now(),
      .vector_ops_per_sec = searches + inserts + rate(p->last.removes, now.removes, seconds),
      .search_ops_per_sec = searches,
      .insert_ops_per_sec = inserts,
      .search_latency_p50_ms = m.search_latency_us.p50 / 1000,
      .search_latency_p99_ms = m.search_latency_us.p99 / 1000,
      .search_latency_p95_ms = m.search_latency_us.p95 / 1000,
      .memory_pool_hit_rate = m.pool_hit_rate,
      .vectors = vs_catalog_vectors(&p->srv->catalog),
      .simd_acceleration_active = strcmp(vexfs_simd_isa(), "scalar") != 0,
      .simd_isa = vexfs_simd_isa()};
  p->last = now;
  vs_perf_ring_push(&p->ring, out);
}

static void *run(void *arg) {
  vs_perf *p = arg;
  pthread_mutex_lock(&p->lock);
  struct timespec next;
  clock_gettime(CLOCK_MONOTONIC, &next);
  while (!p->stopping) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    next.tv_sec = next.tv_sec + 1 > now.tv_sec ? next.tv_sec + 1 : now.tv_sec + 1; /* no catching up */
    while (!p->stopping && pthread_cond_timedwait(&p->wake, &p->lock, &next) == 0) {
    }
    if (p->stopping) break;
    vs_perf_sample s;
    sample(p, &s);
  }
  pthread_mutex_unlock(&p->lock);
  return NULL;
}

vs_perf *vs_perf_start(vs_server *srv) {
  vs_perf *p = calloc(1, sizeof *p);
  pthread_condattr_t attr;
  if (!p || pthread_condattr_init(&attr) != 0) {
    free(p);
    fprintf(stderr, "vexfs-server: out of memory for the performance sampler\n");
    return NULL;
  }
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_cond_init(&p->wake, &attr);
  pthread_condattr_destroy(&attr);
  pthread_mutex_init(&p->lock, NULL);
  p->srv = srv;
  vexfs_metrics m;
  vexfs_metrics_init(&m);
  vexfs_collection_metrics(NULL, &m);
  p->last = read_counters(&m); /* the first sample's rates are from here */
  if (pthread_create(&p->thread, NULL, run, p) != 0) {
    fprintf(stderr, "vexfs-server: cannot start the performance sampler's thread\n");
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->lock);
    free(p);
    return NULL;
  }
  return p;
}

void vs_perf_stop(vs_perf *p) {
  if (!p) return;
  pthread_mutex_lock(&p->lock);
  p->stopping = 1;
  pthread_cond_signal(&p->wake);
  pthread_mutex_unlock(&p->lock);
  pthread_join(p->thread, NULL);
  pthread_cond_destroy(&p->wake);
  pthread_mutex_destroy(&p->lock);
  free(p);
}

void vs_perf_latest(vs_perf *p, vs_perf_sample *out) {
  pthread_mutex_lock(&p->lock);
  const vs_perf_sample *s = vs_perf_ring_latest(&p->ring);
  if (s) *out = *s;
  else sample(p, out);
  pthread_mutex_unlock(&p->lock);
}

vs_perf_sample *vs_perf_history(vs_perf *p, unsigned duration_s, unsigned interval_s, size_t *n) {
  size_t max = duration_s / (interval_s ? interval_s : 1) + 2; /* a bucket at each end, partly */
  vs_perf_sample *rows = malloc(max * sizeof *rows);
  *n = 0;
  if (!rows) return NULL;
  pthread_mutex_lock(&p->lock);
  *n = vs_perf_ring_read(&p->ring, unix_ms_now(), duration_s, interval_s, rows, max);
  pthread_mutex_unlock(&p->lock);
  return rows;
}

void vs_perf_timestamp(uint64_t unix_ms, char out[32]) {
  time_t t = (time_t)(unix_ms / 1000);
  struct tm tm;
  gmtime_r(&t, &tm);
  size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out + n, 32 - n, ".%03uZ", (unsigned)(unix_ms % 1000));
}

static void put_number(vs_text *out, const char *key, double v) {
  char text[64];
  snprintf(text, sizeof text, ",\"%s\":%.10g", key, isfinite(v) ? v : 0.0);
  vs_text_puts(out, text);
}

void vs_perf_sample_write(vs_text *out, const vs_perf_sample *s) {
  char when[32];
  vs_perf_timestamp(s->unix_ms, when);
  vs_text_puts(out, "{\"timestamp\":\"");
  vs_text_puts(out, when);
  vs_text_puts(out, "\"");
  put_number(out, "vector_ops_per_sec", s->vector_ops_per_sec);
  put_number(out, "search_ops_per_sec", s->search_ops_per_sec);
  put_number(out, "insert_ops_per_sec", s->insert_ops_per_sec);
  put_number(out, "search_latency_p50_ms", s->search_latency_p50_ms);
  put_number(out, "search_latency_p95_ms", s->search_latency_p95_ms);
  put_number(out, "search_latency_p99_ms", s->search_latency_p99_ms);
  put_number(out, "memory_pool_hit_rate", s->memory_pool_hit_rate);
  vs_text_puts(out, ",\"vectors\":");
  vs_text_u64(out, s->vectors);
  vs_text_puts(out, s->simd_acceleration_active ? ",\"simd_acceleration_active\":true"
                                                : ",\"simd_acceleration_active\":false");
  vs_text_puts(out, ",\"simd_isa\":\"");
  vs_text_puts(out, s->simd_isa ? s->simd_isa : "scalar"); /* letters and digits: no escapes */
  vs_text_puts(out, "\"}");
}

/* Recording and reading metrics (see metrics.h). */
#include "metrics.h"

#include <string.h>
#include <time.h>

vx_metrics vx_process_metrics;
static atomic_int disabled;
static atomic_uint next_shard;
static _Thread_local unsigned my_shard = UINT32_MAX;

VEXFS_API void vexfs_metrics_set_enabled(int enabled) { atomic_store(&disabled, !enabled); }

int vx_metrics_enabled(void) { return !atomic_load_explicit(&disabled, memory_order_relaxed); }

uint64_t vx_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline void add(_Atomic uint64_t *c, uint64_t v) {
  atomic_fetch_add_explicit(c, v, memory_order_relaxed);
}

/* ---- histogram ---- */

static unsigned bucket_of(uint64_t ns) {
  if (ns < VX_HIST_SUB) return (unsigned)ns;
  unsigned e = 63u - (unsigned)__builtin_clzll(ns); /* >= 4 */
  unsigned sub = (unsigned)(ns >> (e - 4)) & (VX_HIST_SUB - 1);
  unsigned i = (e - 3) * VX_HIST_SUB + sub;
  return i < VX_HIST_BUCKETS ? i : VX_HIST_BUCKETS - 1;
}

/* Midpoint of a bucket's range, in nanoseconds. */
static double bucket_value(unsigned i) {
  if (i < VX_HIST_SUB) return i;
  unsigned e = i / VX_HIST_SUB + 3, sub = i % VX_HIST_SUB;
  double low = (double)((uint64_t)(VX_HIST_SUB | sub) << (e - 4));
  return low + (double)((uint64_t)1 << (e - 4)) / 2.0;
}

static void hist_record(vx_hist *h, uint64_t ns) {
  if (my_shard == UINT32_MAX) my_shard = atomic_fetch_add(&next_shard, 1) % VX_HIST_SHARDS;
  vx_hist_shard *s = &h->shard[my_shard];
  add(&s->bucket[bucket_of(ns)], 1);
  add(&s->count, 1);
  add(&s->sum_ns, ns);
  uint64_t max = atomic_load_explicit(&s->max_ns, memory_order_relaxed);
  while (ns > max &&
         !atomic_compare_exchange_weak_explicit(&s->max_ns, &max, ns, memory_order_relaxed,
                                                memory_order_relaxed)) {
  }
}

void vx_hist_summary(const vx_hist *h, vexfs_latency_summary *out) {
  uint64_t buckets[VX_HIST_BUCKETS] = {0}, count = 0, sum = 0, max = 0;
  for (unsigned s = 0; s < VX_HIST_SHARDS; s++) {
    const vx_hist_shard *sh = &h->shard[s];
    for (unsigned i = 0; i < VX_HIST_BUCKETS; i++)
      buckets[i] += atomic_load_explicit(&sh->bucket[i], memory_order_relaxed);
    count += atomic_load_explicit(&sh->count, memory_order_relaxed);
    sum += atomic_load_explicit(&sh->sum_ns, memory_order_relaxed);
    uint64_t m = atomic_load_explicit(&sh->max_ns, memory_order_relaxed);
    if (m > max) max = m;
  }
  memset(out, 0, sizeof *out);
  out->count = count;
  out->sum_us = sum / 1e3;
  if (count == 0) return;
  out->mean = sum / 1e3 / count;
  out->max = max / 1e3;
  const double q[4] = {0.5, 0.95, 0.99, 0.999};
  double *dst[4] = {&out->p50, &out->p95, &out->p99, &out->p999};
  uint64_t seen = 0;
  unsigned qi = 0;
  for (unsigned i = 0; i < VX_HIST_BUCKETS && qi < 4; i++) {
    seen += buckets[i];
    while (qi < 4 && seen > 0 && (double)seen >= q[qi] * count) {
      double v = bucket_value(i) / 1e3;
      *dst[qi++] = v > out->max ? out->max : v; /* a bucket's midpoint may pass the true max */
    }
  }
}

/* ---- rates ---- */

static void rate_record(vx_rate *r, uint64_t n) {
  uint64_t now = vx_now_ns() / 1000000000u;
  unsigned slot = (unsigned)(now % 60);
  uint64_t seen = atomic_load_explicit(&r->second[slot], memory_order_relaxed);
  if (seen != now && atomic_compare_exchange_strong(&r->second[slot], &seen, now))
    atomic_store_explicit(&r->count[slot], 0, memory_order_relaxed); /* a new second */
  add(&r->count[slot], n);
}

double vx_rate_per_sec(const vx_rate *r, unsigned seconds) {
  uint64_t now = vx_now_ns() / 1000000000u, total = 0;
  for (unsigned back = 1; back <= seconds && back <= now; back++) { /* whole seconds only */
    uint64_t want = now - back;
    unsigned slot = (unsigned)(want % 60);
    if (atomic_load_explicit(&r->second[slot], memory_order_relaxed) == want)
      total += atomic_load_explicit(&r->count[slot], memory_order_relaxed);
  }
  return (double)total / seconds;
}

/* ---- recording ---- */

void vx_metrics_on_insert(vx_metrics *m, uint64_t vectors, uint64_t ns) {
  vx_metrics *both[2] = {m, &vx_process_metrics};
  for (int i = 0; i < 2; i++) {
    add(&both[i]->inserts, vectors);
    hist_record(&both[i]->insert_latency, ns);
    rate_record(&both[i]->insert_rate, vectors);
  }
}

void vx_metrics_on_search(vx_metrics *m, uint64_t queries, uint64_t distances, uint64_t ns) {
  vx_metrics *both[2] = {m, &vx_process_metrics};
  for (int i = 0; i < 2; i++) {
    add(&both[i]->searches, queries);
    add(&both[i]->distances, distances);
    hist_record(&both[i]->search_latency, ns);
    rate_record(&both[i]->search_rate, queries);
  }
}

void vx_metrics_on_remove(vx_metrics *m, uint64_t vectors) {
  add(&m->removes, vectors);
  add(&vx_process_metrics.removes, vectors);
}

void vx_metrics_clear(vx_metrics *m) {
  /* Counters restart from zero; concurrent recording may land on either side of the reset. */
  _Atomic uint64_t *words = (_Atomic uint64_t *)m;
  for (size_t i = 0; i < sizeof *m / sizeof *words; i++)
    atomic_store_explicit(&words[i], 0, memory_order_relaxed);
}

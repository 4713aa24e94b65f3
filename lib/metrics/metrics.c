/* Recording and reading metrics (see metrics.h). */
#include "metrics.h"

#include <string.h>
#include <time.h>

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

static inline uint64_t get(const _Atomic uint64_t *c) {
  return atomic_load_explicit((_Atomic uint64_t *)c, memory_order_relaxed);
}

static unsigned shard(void) {
  if (my_shard == UINT32_MAX) my_shard = atomic_fetch_add(&next_shard, 1) % VX_SHARDS;
  return my_shard;
}

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

static void record(vx_op_stats *s, uint64_t ops, uint64_t distances, uint64_t ns,
                   uint64_t end_ns) {
  unsigned k = shard();
  vx_op_head *h = &s->head[k];
  add(&h->ops, ops);
  add(&h->calls, 1);
  add(&h->sum_ns, ns);
  if (distances) add(&h->distances, distances);
  uint64_t max = get(&h->max_ns);
  while (ns > max && !atomic_compare_exchange_weak_explicit(&h->max_ns, &max, ns,
                                                            memory_order_relaxed,
                                                            memory_order_relaxed)) {
  }
  /* A new second moves the last one's count into the ring (once a second, not per call). */
  uint64_t sec = end_ns / 1000000000u, cur = get(&h->second);
  if (sec != cur && atomic_compare_exchange_strong(&h->second, &cur, sec)) {
    uint64_t done = atomic_exchange_explicit(&h->in_second, 0, memory_order_relaxed);
    atomic_store_explicit(&s->ring_second[k][cur % VX_RATE_SECONDS], cur, memory_order_relaxed);
    atomic_store_explicit(&s->ring_ops[k][cur % VX_RATE_SECONDS], done, memory_order_relaxed);
  }
  add(&h->in_second, ops);
  add(&s->bucket[k][bucket_of(ns)], 1);
}

void vx_metrics_on_insert(vx_metrics *m, uint64_t vectors, uint64_t ns, uint64_t end_ns) {
  record(&m->insert, vectors, 0, ns, end_ns);
}

void vx_metrics_on_search(vx_metrics *m, uint64_t queries, uint64_t distances, uint64_t ns,
                          uint64_t end_ns) {
  record(&m->search, queries, distances, ns, end_ns);
}

void vx_metrics_on_remove(vx_metrics *m, uint64_t vectors) { add(&m->removes, vectors); }

void vx_metrics_clear(vx_metrics *m) {
  /* Everything restarts from zero; calls recorded meanwhile may land on either side. */
  _Atomic uint64_t *words = (_Atomic uint64_t *)m;
  for (size_t i = 0; i < sizeof *m / sizeof *words; i++)
    atomic_store_explicit(&words[i], 0, memory_order_relaxed);
}

void vx_op_totals_add(vx_op_totals *t, const vx_op_stats *s) {
  for (unsigned k = 0; k < VX_SHARDS; k++) {
    const vx_op_head *h = &s->head[k];
    t->ops += get(&h->ops);
    t->calls += get(&h->calls);
    t->sum_ns += get(&h->sum_ns);
    t->distances += get(&h->distances);
    uint64_t max = get(&h->max_ns);
    if (max > t->max_ns) t->max_ns = max;
    for (unsigned i = 0; i < VX_HIST_BUCKETS; i++) t->bucket[i] += get(&s->bucket[k][i]);
  }
}

void vx_op_totals_summary(const vx_op_totals *t, vexfs_latency_summary *out) {
  memset(out, 0, sizeof *out);
  out->count = t->calls;
  out->sum_us = t->sum_ns / 1e3;
  if (t->calls == 0) return;
  out->mean = t->sum_ns / 1e3 / t->calls;
  out->max = t->max_ns / 1e3;
  uint64_t counted = 0;
  for (unsigned i = 0; i < VX_HIST_BUCKETS; i++) counted += t->bucket[i];
  const double q[4] = {0.5, 0.95, 0.99, 0.999};
  double *dst[4] = {&out->p50, &out->p95, &out->p99, &out->p999};
  uint64_t seen = 0;
  unsigned qi = 0;
  for (unsigned i = 0; i < VX_HIST_BUCKETS && qi < 4; i++) {
    seen += t->bucket[i];
    while (qi < 4 && seen > 0 && (double)seen >= q[qi] * counted) {
      double v = bucket_value(i) / 1e3;
      *dst[qi++] = v > out->max ? out->max : v; /* a bucket's midpoint may pass the true max */
    }
  }
}

double vx_op_rate(const vx_op_stats *s, unsigned seconds) {
  uint64_t now = vx_now_ns() / 1000000000u, total = 0;
  uint64_t first = now > seconds ? now - seconds : 0; /* whole seconds [first, now) */
  for (unsigned k = 0; k < VX_SHARDS; k++) {
    uint64_t cur = get(&s->head[k].second);
    if (cur >= first && cur < now) total += get(&s->head[k].in_second); /* not rolled yet */
    for (unsigned i = 0; i < VX_RATE_SECONDS; i++) {
      uint64_t sec = get(&s->ring_second[k][i]);
      if (sec >= first && sec < now && sec != cur) total += get(&s->ring_ops[k][i]);
    }
  }
  return (double)total / seconds;
}

/* The sampler's history (perf_ring.h): two rings and averaging on read. */
#include "perf_ring.h"

#define MINUTE_MS 60000u

/* Adds the averaged figures of s into sum (the others are the latest's: s is later). */
static void accumulate(vs_perf_sample *sum, const vs_perf_sample *s) {
  sum->vector_ops_per_sec += s->vector_ops_per_sec;
  sum->search_ops_per_sec += s->search_ops_per_sec;
  sum->insert_ops_per_sec += s->insert_ops_per_sec;
  sum->search_latency_p50_ms += s->search_latency_p50_ms;
  sum->search_latency_p99_ms += s->search_latency_p99_ms;
  sum->search_latency_p95_ms += s->search_latency_p95_ms;
  sum->memory_pool_hit_rate += s->memory_pool_hit_rate;
  sum->vectors = s->vectors;
  sum->simd_acceleration_active = s->simd_acceleration_active;
  sum->simd_isa = s->simd_isa;
}

/* The average of n samples whose sums are in sum, stamped at unix_ms. */
static vs_perf_sample average(const vs_perf_sample *sum, size_t n, uint64_t unix_ms) {
  vs_perf_sample a = *sum;
  a.unix_ms = unix_ms;
  a.vector_ops_per_sec /= (double)n;
  a.search_ops_per_sec /= (double)n;
  a.insert_ops_per_sec /= (double)n;
  a.search_latency_p50_ms /= (double)n;
  a.search_latency_p99_ms /= (double)n;
  a.search_latency_p95_ms /= (double)n;
  a.memory_pool_hit_rate /= (double)n;
  return a;
}

static void put(vs_perf_sample *ring, size_t cap, size_t *n, size_t *next, const vs_perf_sample *s) {
  ring[*next] = *s;
  *next = (*next + 1) % cap;
  if (*n < cap) (*n)++;
}

void vs_perf_ring_push(vs_perf_ring *r, const vs_perf_sample *s) {
  if (r->minute_n && s->unix_ms / MINUTE_MS != r->minute.unix_ms / MINUTE_MS) {
    vs_perf_sample m = average(&r->minute, r->minute_n, r->minute.unix_ms / MINUTE_MS * MINUTE_MS);
    put(r->coarse, VS_PERF_COARSE_SAMPLES, &r->coarse_n, &r->coarse_next, &m);
    r->minute_n = 0;
  }
  if (r->minute_n == 0) r->minute = (vs_perf_sample){.unix_ms = s->unix_ms};
  accumulate(&r->minute, s);
  r->minute_n++;
  put(r->fine, VS_PERF_FINE_SAMPLES, &r->fine_n, &r->fine_next, s);
}

const vs_perf_sample *vs_perf_ring_latest(const vs_perf_ring *r) {
  if (r->fine_n == 0) return NULL;
  return &r->fine[(r->fine_next + VS_PERF_FINE_SAMPLES - 1) % VS_PERF_FINE_SAMPLES];
}

/* Gathers samples in time order into buckets, writing each bucket's average when it closes. */
typedef struct buckets {
  uint64_t from_ms, interval_ms; /* samples at or before from_ms are left out */
  vs_perf_sample sum;
  size_t in_sum;
  uint64_t start; /* of the bucket being summed */
  vs_perf_sample *out;
  size_t n, max;
} buckets;

static void close_bucket(buckets *b) {
  if (b->in_sum && b->n < b->max) b->out[b->n++] = average(&b->sum, b->in_sum, b->start);
  b->in_sum = 0;
}

static void add(buckets *b, const vs_perf_sample *s) {
  if (s->unix_ms <= b->from_ms) return;
  uint64_t start = s->unix_ms / b->interval_ms * b->interval_ms;
  if (b->in_sum && start != b->start) close_bucket(b);
  if (b->in_sum == 0) {
    b->sum = (vs_perf_sample){0};
    b->start = start;
  }
  accumulate(&b->sum, s);
  b->in_sum++;
}

static void add_ring(buckets *b, const vs_perf_sample *ring, size_t cap, size_t n, size_t next) {
  for (size_t i = 0; i < n; i++) add(b, &ring[(next + cap - n + i) % cap]);
}

size_t vs_perf_ring_read(const vs_perf_ring *r, uint64_t now_ms, unsigned duration_s,
                         unsigned interval_s, vs_perf_sample *out, size_t max) {
  uint64_t span_ms = (uint64_t)duration_s * 1000u;
  buckets b = {.from_ms = now_ms > span_ms ? now_ms - span_ms : 0,
               .interval_ms = (uint64_t)(interval_s ? interval_s : 1) * 1000u,
               .out = out, .max = max};
  if (duration_s <= VS_PERF_FINE_SAMPLES || interval_s < 60) {
    add_ring(&b, r->fine, VS_PERF_FINE_SAMPLES, r->fine_n, r->fine_next);
  } else {
    add_ring(&b, r->coarse, VS_PERF_COARSE_SAMPLES, r->coarse_n, r->coarse_next);
    if (r->minute_n) {
      vs_perf_sample m = average(&r->minute, r->minute_n,
                                 r->minute.unix_ms / MINUTE_MS * MINUTE_MS);
      add(&b, &m);
    }
  }
  close_bucket(&b);
  return b.n;
}

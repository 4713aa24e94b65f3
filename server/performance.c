/* A stand-in for the performance sampler (server.h's vs_perf): each call of vs_perf_latest
 * computes its sample on the spot from the library's process-wide metrics, the pool's counters
 * and the catalog, with no thread and no ring of past samples. Rates are the library's own over
 * its last whole second; removes have no rate there, so vector_ops_per_sec counts searched
 * queries and inserted (or upserted) vectors only. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server.h"

struct vs_perf {
  vs_server *srv;
};

vs_perf *vs_perf_start(vs_server *srv) {
  vs_perf *p = calloc(1, sizeof *p);
  if (!p) {
    fprintf(stderr, "vexfs-server: out of memory for the performance sampler\n");
    return NULL;
  }
  p->srv = srv;
  return p;
}

void vs_perf_stop(vs_perf *p) { free(p); }

static uint64_t stored_vectors(vs_catalog *cat) {
  uint64_t n = 0;
  pthread_mutex_lock(&cat->lock);
  for (vs_coll *k = cat->list; k; k = k->next)
    if (!k->dropping) n += vexfs_count(k->points);
  pthread_mutex_unlock(&cat->lock);
  return n;
}

void vs_perf_latest(vs_perf *p, vs_perf_sample *out) {
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  vexfs_metrics m;
  vexfs_metrics_init(&m);
  vexfs_collection_metrics(NULL, &m);
  vexfs_pool_stats pool;
  vexfs_pool_stats_init(&pool);
  double hit_rate = vexfs_pool_get_stats(&pool) == VEXFS_OK ? pool.hit_rate : m.pool_hit_rate;
  const char *isa = vexfs_simd_isa();
  *out = (vs_perf_sample){
      .unix_ms = (uint64_t)now.tv_sec * 1000u + (uint64_t)now.tv_nsec / 1000000u,
      .vector_ops_per_sec = m.search_per_sec_1s + m.insert_per_sec_1s,
      .search_ops_per_sec = m.search_per_sec_1s,
      .insert_ops_per_sec = m.insert_per_sec_1s,
      .search_latency_p50_ms = m.search_latency_us.p50 / 1000,
      .search_latency_p99_ms = m.search_latency_us.p99 / 1000,
      .memory_pool_hit_rate = hit_rate,
      .vectors = stored_vectors(&p->srv->catalog),
      .simd_acceleration_active = strcmp(isa, "scalar") != 0,
      .simd_isa = isa};
}

static void put_number(vs_text *t, const char *key, double v) {
  char text[64];
  snprintf(text, sizeof text, ",\"%s\":%.6g", key, isfinite(v) ? v : 0.0);
  vs_text_puts(t, text);
}

void vs_perf_sample_write(vs_text *out, const vs_perf_sample *s) {
  vs_text_puts(out, "{\"timestamp\":\"");
  vs_text_utc_ms(out, s->unix_ms);
  vs_text_puts(out, "\"");
  put_number(out, "vector_ops_per_sec", s->vector_ops_per_sec);
  put_number(out, "search_ops_per_sec", s->search_ops_per_sec);
  put_number(out, "insert_ops_per_sec", s->insert_ops_per_sec);
  put_number(out, "search_latency_p50_ms", s->search_latency_p50_ms);
  put_number(out, "search_latency_p99_ms", s->search_latency_p99_ms);
  put_number(out, "memory_pool_hit_rate", s->memory_pool_hit_rate);
  vs_text_puts(out, ",\"vectors\":");
  vs_text_u64(out, s->vectors);
  vs_text_puts(out, s->simd_acceleration_active ? ",\"simd_acceleration_active\":true"
                                                : ",\"simd_acceleration_active\":false");
  vs_text_puts(out, ",\"simd_isa\":\"");
  vs_text_puts(out, s->simd_isa); /* one of vexfs_simd_isa()'s names: nothing to escape */
  vs_text_puts(out, "\"}");
}

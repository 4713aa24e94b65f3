/* Reading metrics out: the vexfs_metrics struct, JSON and the Prometheus text format. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "../alloc_internal.h"
#include "../buf.h"
#include "../collection_internal.h"
#include "../errors_internal.h"
#include "../versioned.h"
#include "../pool/pool.h"
#include "metrics.h"

VEXFS_API void vexfs_metrics_init_sized(vexfs_metrics *m, size_t size) {
  vexfs_metrics zero = {.struct_size = sizeof zero};
  vx_versioned_init(m, size, &zero, sizeof zero);
}

VEXFS_API void(vexfs_metrics_init)(vexfs_metrics *m) {
  vexfs_metrics_init_sized(m, VX_METRICS_SIZE_0_1);
}

/* Process-wide figures: every live collection's, plus those of freed collections, less what
 * vexfs_metrics_reset(NULL) last saw. */
static pthread_mutex_t process_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
  vx_op_totals search, insert;
  uint64_t removes;
} retired, baseline;

void vx_metrics_retire(const vx_metrics *m) {
  pthread_mutex_lock(&process_lock);
  vx_op_totals_add(&retired.search, &m->search);
  vx_op_totals_add(&retired.insert, &m->insert);
  retired.removes += atomic_load(&m->removes);
  pthread_mutex_unlock(&process_lock);
}

typedef struct process_sum {
  vx_op_totals search, insert;
  uint64_t removes;
  double search_rate[3], insert_rate[3];
} process_sum;

static const unsigned windows[3] = {1, 10, 60};

static void add_collection(vexfs_collection *c, void *arg) {
  process_sum *p = arg;
  const vx_metrics *m = vx_collection_metrics_of(c);
  vx_op_totals_add(&p->search, &m->search);
  vx_op_totals_add(&p->insert, &m->insert);
  p->removes += atomic_load(&m->removes);
  for (int w = 0; w < 3; w++) {
    p->search_rate[w] += vx_op_rate(&m->search, windows[w]);
    p->insert_rate[w] += vx_op_rate(&m->insert, windows[w]);
  }
}

/* a - b, field by field; the max is recomputed from the buckets left. */
static void subtract(vx_op_totals *a, const vx_op_totals *b) {
#define SUB(x) a->x = a->x > b->x ? a->x - b->x : 0
  SUB(ops);
  SUB(calls);
  SUB(sum_ns);
  SUB(distances);
  for (unsigned i = 0; i < VX_HIST_BUCKETS; i++) SUB(bucket[i]);
#undef SUB
  if (b->calls == 0) return;
  a->max_ns = 0;
  for (unsigned i = VX_HIST_BUCKETS; i-- > 0;)
    if (a->bucket[i]) {
      a->max_ns = i < VX_HIST_SUB ? i : (uint64_t)(VX_HIST_SUB | (i % VX_HIST_SUB) | 1) << (i / VX_HIST_SUB - 1);
      break;
    }
}

static void process_totals(process_sum *p) {
  memset(p, 0, sizeof *p);
  vx_collections_each(add_collection, p);
  pthread_mutex_lock(&process_lock);
  vx_op_totals *mine[2] = {&p->search, &p->insert}, *old[2] = {&retired.search, &retired.insert},
               *base[2] = {&baseline.search, &baseline.insert};
  for (int k = 0; k < 2; k++) {
    mine[k]->ops += old[k]->ops;
    mine[k]->calls += old[k]->calls;
    mine[k]->sum_ns += old[k]->sum_ns;
    mine[k]->distances += old[k]->distances;
    if (old[k]->max_ns > mine[k]->max_ns) mine[k]->max_ns = old[k]->max_ns;
    for (unsigned i = 0; i < VX_HIST_BUCKETS; i++) mine[k]->bucket[i] += old[k]->bucket[i];
    subtract(mine[k], base[k]);
  }
  p->removes += retired.removes;
  p->removes = p->removes > baseline.removes ? p->removes - baseline.removes : 0;
  pthread_mutex_unlock(&process_lock);
}

static void fill(vexfs_collection *c, vexfs_metrics *m) {
  process_sum sum; /* about 12 KiB */
  double search_rate[3], insert_rate[3];
  vx_memory mem;
  if (c) {
    const vx_metrics *x = vx_collection_metrics_of(c);
    memset(&sum, 0, sizeof sum);
    vx_op_totals_add(&sum.search, &x->search);
    vx_op_totals_add(&sum.insert, &x->insert);
    sum.removes = atomic_load(&x->removes);
    for (int w = 0; w < 3; w++) {
      search_rate[w] = vx_op_rate(&x->search, windows[w]);
      insert_rate[w] = vx_op_rate(&x->insert, windows[w]);
    }
    m->vectors = vexfs_count(c);
    vx_collection_memory(c, &mem);
  } else {
    process_totals(&sum);
    memcpy(search_rate, sum.search_rate, sizeof search_rate);
    memcpy(insert_rate, sum.insert_rate, sizeof insert_rate);
    vx_collections_memory(&mem);
    m->vectors = vx_collections_vectors();
  }
  m->inserts = sum.insert.ops;
  m->searches = sum.search.ops;
  m->removes = sum.removes;
  m->distance_computations = sum.search.distances;
  vx_op_totals_summary(&sum.search, &m->search_latency_us);
  vx_op_totals_summary(&sum.insert, &m->insert_latency_us);
  m->search_per_sec_1s = search_rate[0];
  m->search_per_sec_10s = search_rate[1];
  m->search_per_sec_60s = search_rate[2];
  m->insert_per_sec_1s = insert_rate[0];
  m->insert_per_sec_10s = insert_rate[1];
  m->insert_per_sec_60s = insert_rate[2];
  m->memory_vectors = mem.vectors;
  m->memory_index = mem.index;
  m->memory_payloads = mem.payloads;
  m->memory_pool = vx_pool_reserved_bytes();
  m->memory_mapped = mem.mapped;
  vexfs_pool_stats ps;
  vexfs_pool_stats_init(&ps);
  m->pool_hit_rate = vexfs_pool_get_stats(&ps) == VEXFS_OK ? ps.hit_rate : 1.0;
  m->simd_isa = vexfs_simd_isa();
}

VEXFS_API vexfs_status vexfs_collection_metrics(vexfs_collection *c, vexfs_metrics *given) {
  const char *fn = "vexfs_collection_metrics";
  if (!given) return vx_fail(VEXFS_E_INVALID, "%s: m is NULL", fn);
  vexfs_status st = vx_versioned_check(fn, "m", &vx_metrics_kind, given);
  if (st != VEXFS_OK) return st;
  vexfs_metrics m;
  vexfs_metrics_init(&m);
  fill(c, &m);
  return vx_versioned_write(fn, "m", &vx_metrics_kind, given, &m);
}

VEXFS_API void vexfs_metrics_reset(vexfs_collection *c) {
  if (c) {
    vx_metrics_clear(vx_collection_metrics_of(c));
    return;
  }
  process_sum counted; /* what the process figures show now: the baseline grows by it */
  process_totals(&counted);
  pthread_mutex_lock(&process_lock);
  vx_op_totals *base[2] = {&baseline.search, &baseline.insert};
  const vx_op_totals *add[2] = {&counted.search, &counted.insert};
  for (int k = 0; k < 2; k++) {
    base[k]->ops += add[k]->ops;
    base[k]->calls += add[k]->calls;
    base[k]->sum_ns += add[k]->sum_ns;
    base[k]->distances += add[k]->distances;
    for (unsigned i = 0; i < VX_HIST_BUCKETS; i++) base[k]->bucket[i] += add[k]->bucket[i];
  }
  baseline.removes += counted.removes;
  pthread_mutex_unlock(&process_lock);
}

/* Text is built in a vx_buf (buf.h); on failure the call reports out of memory. */
static char *finish(vx_buf *t, const char *fn) {
  char *s = vx_buf_take_string(t);
  if (!s) vx_fail(VEXFS_E_NOMEM, "%s: out of memory", fn);
  return s;
}

static void latency_json(vx_buf *t, const char *key, const vexfs_latency_summary *l) {
  vx_buf_printf(t, "\"%s\":{\"p50\":%.3f,\"p95\":%.3f,\"p99\":%.3f,\"p999\":%.3f,\"mean\":%.3f,\"max\":%.3f}",
      key, l->p50, l->p95, l->p99, l->p999, l->mean, l->max);
}

VEXFS_API char *vexfs_metrics_json(vexfs_collection *c) {
  vexfs_metrics m;
  vexfs_metrics_init(&m);
  fill(c, &m);
  vx_buf t = {0};
  const char *name = c ? vx_collection_name(c) : NULL;
  vx_buf_printf(&t, "{");
  if (name) vx_buf_printf(&t, "\"collection\":\"%s\",", name); /* names need no escaping */
  vx_buf_printf(&t,
      "\"inserts\":%llu,\"searches\":%llu,\"removes\":%llu,\"vectors\":%llu,"
      "\"distance_computations\":%llu,",
      (unsigned long long)m.inserts, (unsigned long long)m.searches,
      (unsigned long long)m.removes, (unsigned long long)m.vectors,
      (unsigned long long)m.distance_computations);
  latency_json(&t, "search_latency_us", &m.search_latency_us);
  vx_buf_printf(&t, ",");
  latency_json(&t, "insert_latency_us", &m.insert_latency_us);
  vx_buf_printf(&t,
      ",\"ops_per_sec\":{\"search_1s\":%.3f,\"search_10s\":%.3f,\"search_60s\":%.3f,"
      "\"insert_1s\":%.3f,\"insert_10s\":%.3f,\"insert_60s\":%.3f}",
      m.search_per_sec_1s, m.search_per_sec_10s, m.search_per_sec_60s, m.insert_per_sec_1s,
      m.insert_per_sec_10s, m.insert_per_sec_60s);
  vx_buf_printf(&t, ",\"memory_bytes\":{\"vectors\":%llu,\"index\":%llu,\"payloads\":%llu,\"pool\":%llu,"
      "\"mapped\":%llu}",
      (unsigned long long)m.memory_vectors, (unsigned long long)m.memory_index,
      (unsigned long long)m.memory_payloads, (unsigned long long)m.memory_pool,
      (unsigned long long)m.memory_mapped);
  vexfs_pool_stats ps;
  vexfs_pool_stats_init(&ps);
  vexfs_pool_get_stats(&ps);
  vx_buf_printf(&t, ",\"pool\":{\"hit_rate\":%.6f,\"tiers\":[", ps.hit_rate);
  for (unsigned i = 0; i < ps.tier_count; i++) {
    const vexfs_pool_tier_stats *s = &ps.tiers[i];
    vx_buf_printf(&t,
        "%s{\"block_size\":%llu,\"requests\":%llu,\"hits\":%llu,\"misses_too_big\":%llu,"
        "\"misses_empty\":%llu,\"bytes_in_use\":%llu,\"bytes_reserved\":%llu,\"peak_bytes\":%llu}",
        i ? "," : "", (unsigned long long)s->block_size, (unsigned long long)s->requests,
        (unsigned long long)s->hits, (unsigned long long)s->misses_too_big,
        (unsigned long long)s->misses_empty, (unsigned long long)s->bytes_in_use,
        (unsigned long long)s->bytes_reserved, (unsigned long long)s->peak_bytes);
  }
  vx_buf_printf(&t, "]},\"simd_isa\":\"%s\"", m.simd_isa);
  int lossless, exact_traversal;
  if (c && vx_collection_hnsw_codes(c, &lossless, &exact_traversal))
    vx_buf_printf(&t, ",\"hnsw\":{\"codes_lossless\":%s,\"exact_traversal\":%s}",
                  lossless ? "true" : "false", exact_traversal ? "true" : "false");
  const char *storage;
  if (c && vx_collection_store_codes(c, &storage, &lossless))
    vx_buf_printf(&t, ",\"codes\":{\"storage\":\"%s\",\"lossless\":%s}", storage,
                  lossless ? "true" : "false");
  vx_buf_printf(&t, "}");
  return finish(&t, "vexfs_metrics_json");
}

/* One metric family: HELP and TYPE, then its samples. */
static void family(vx_buf *t, const char *name, const char *type, const char *help) {
  vx_buf_printf(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A sample's name and labels, up to the value: every sample of a named collection carries
 * collection="name" (names are [A-Za-z0-9_.-], so they need no escaping), merged with the
 * sample's own label if it has one (label: `key="value"` or NULL). */
static void sample(vx_buf *t, const char *collection, const char *name, const char *label) {
  if (collection)
    vx_buf_printf(t, "%s{collection=\"%s\"%s%s} ", name, collection, label ? "," : "",
                  label ? label : "");
  else if (label)
    vx_buf_printf(t, "%s{%s} ", name, label);
  else
    vx_buf_printf(t, "%s ", name);
}

static void count_sample(vx_buf *t, const char *collection, const char *name, const char *label,
                         uint64_t value) {
  sample(t, collection, name, label);
  vx_buf_printf(t, "%llu\n", (unsigned long long)value);
}

static void real_sample(vx_buf *t, const char *collection, const char *name, const char *label,
                        double value) {
  sample(t, collection, name, label);
  vx_buf_printf(t, "%.9g\n", value);
}

static void summary(vx_buf *t, const char *collection, const char *name, const char *help,
                    const vexfs_latency_summary *l) {
  family(t, name, "summary", help);
  real_sample(t, collection, name, "quantile=\"0.5\"", l->p50 / 1e6);
  real_sample(t, collection, name, "quantile=\"0.95\"", l->p95 / 1e6);
  real_sample(t, collection, name, "quantile=\"0.99\"", l->p99 / 1e6);
  char part[96];
  snprintf(part, sizeof part, "%s_sum", name);
  real_sample(t, collection, part, NULL, l->sum_us / 1e6);
  snprintf(part, sizeof part, "%s_count", name);
  count_sample(t, collection, part, NULL, l->count);
}

VEXFS_API char *vexfs_metrics_prometheus(vexfs_collection *c) {
  vexfs_metrics m;
  vexfs_metrics_init(&m);
  fill(c, &m);
  const char *who = c ? vx_collection_name(c) : NULL;
  vx_buf t = {0};
  family(&t, "vexfs_inserts_total", "counter", "Vectors inserted.");
  count_sample(&t, who, "vexfs_inserts_total", NULL, m.inserts);
  family(&t, "vexfs_searches_total", "counter", "Queries answered.");
  count_sample(&t, who, "vexfs_searches_total", NULL, m.searches);
  family(&t, "vexfs_removes_total", "counter", "Vectors removed.");
  count_sample(&t, who, "vexfs_removes_total", NULL, m.removes);
  family(&t, "vexfs_distance_computations_total", "counter", "Distances computed by searches.");
  count_sample(&t, who, "vexfs_distance_computations_total", NULL, m.distance_computations);
  family(&t, "vexfs_vectors", "gauge", "Vectors stored.");
  count_sample(&t, who, "vexfs_vectors", NULL, m.vectors);
  summary(&t, who, "vexfs_search_latency_seconds", "Latency of search calls.", &m.search_latency_us);
  summary(&t, who, "vexfs_insert_latency_seconds", "Latency of insert calls.", &m.insert_latency_us);
  family(&t, "vexfs_pool_hit_ratio", "gauge", "Share of scratch requests the pool served.");
  real_sample(&t, who, "vexfs_pool_hit_ratio", NULL, m.pool_hit_rate);
  family(&t, "vexfs_memory_bytes", "gauge", "Bytes held, by kind.");
  count_sample(&t, who, "vexfs_memory_bytes", "kind=\"vectors\"", m.memory_vectors);
  count_sample(&t, who, "vexfs_memory_bytes", "kind=\"index\"", m.memory_index);
  count_sample(&t, who, "vexfs_memory_bytes", "kind=\"payloads\"", m.memory_payloads);
  count_sample(&t, who, "vexfs_memory_bytes", "kind=\"pool\"", m.memory_pool);
  count_sample(&t, who, "vexfs_memory_bytes", "kind=\"mapped\"", m.memory_mapped);
  family(&t, "vexfs_simd_info", "gauge", "The instruction set the distance kernels use.");
  char isa[64];
  snprintf(isa, sizeof isa, "isa=\"%s\"", m.simd_isa);
  count_sample(&t, who, "vexfs_simd_info", isa, 1);
  return finish(&t, "vexfs_metrics_prometheus");
}

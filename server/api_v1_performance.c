/* /api/v1/performance: the sampler's figures now and over time (performance.c), the scratch
 * pool's counters (vexfs_pool_get_stats), the SIMD level (vexfs_simd_isa) and what the CPU
 * offers, and configure, which changes nothing (below).
 * Left out of the reference's answers, which describe a FUSE filesystem with a kernel bridge:
 * fuse_operations, semantic_operations, stack_optimization and bridge_communication (nothing of
 * them exists in a library), target_ops_per_sec and achievement_rate (there are no targets),
 * the small/medium/large pool utilizations (libvexfs has seven tiers, each listed with its own),
 * and simd's speedup_factor and utilization (the library measures neither). The stack and
 * bridge routes, and those that would retune pools or SIMD, answer 404 saying so. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_v1.h"
#include "perf_ring.h"

static json_object *simd_json(void) {
  json_object *o = json_object_new_object();
  json_object_object_add(o, "enabled", json_object_new_boolean(vs_v1_simd_active()));
  json_object_object_add(o, "type", json_object_new_string(vexfs_simd_isa()));
  return o;
}

typedef struct tier_field {
  const char *name;
  size_t offset; /* in vexfs_pool_tier_stats */
  int in_status; /* status lists sizes; metrics, every counter */
  int summed;    /* the pool's total is given too (not of sizes and peaks) */
} tier_field;

#define TIER(field) offsetof(vexfs_pool_tier_stats, field)
static const tier_field tier_fields[] = {
    {"block_size", TIER(block_size), 1, 0},     {"requests", TIER(requests), 0, 1},
    {"hits", TIER(hits), 0, 1},                 {"misses_too_big", TIER(misses_too_big), 0, 1},
    {"misses_empty", TIER(misses_empty), 0, 1}, {"bytes_in_use", TIER(bytes_in_use), 1, 1},
    {"bytes_reserved", TIER(bytes_reserved), 1, 1}, {"peak_bytes", TIER(peak_bytes), 1, 0},
};

static double ratio(uint64_t a, uint64_t b) { return b ? (double)a / (double)b : 0; }

/* The pool as status (sizes and use) or metrics (every counter) lists it. */
static json_object *pools_json(int status) {
  vexfs_pool_stats pool;
  vexfs_pool_stats_init(&pool);
  vexfs_pool_get_stats(&pool);
  json_object *o = json_object_new_object(), *tiers = json_object_new_array();
  uint64_t totals[sizeof tier_fields / sizeof *tier_fields] = {0};
  for (uint32_t t = 0; t < pool.tier_count && t < VEXFS_POOL_MAX_TIERS; t++) {
    const vexfs_pool_tier_stats *ts = &pool.tiers[t];
    json_object *tier = json_object_new_object();
    for (size_t f = 0; f < sizeof tier_fields / sizeof *tier_fields; f++) {
      uint64_t v = *(const uint64_t *)((const char *)ts + tier_fields[f].offset);
      totals[f] += v;
      if (tier_fields[f].in_status || !status)
        json_object_object_add(tier, tier_fields[f].name, json_object_new_uint64(v));
    }
    json_object_object_add(tier, status ? "utilization" : "hit_rate",
                           vs_v1_number(status ? ratio(ts->bytes_in_use, ts->bytes_reserved)
                                                         : ratio(ts->hits, ts->requests)));
    json_object_array_add(tiers, tier);
  }
  if (status) json_object_object_add(o, "enabled", json_object_new_boolean(1));
  json_object_object_add(o, "tier_count", json_object_new_uint64(pool.tier_count));
  json_object_object_add(o, "hit_rate", vs_v1_number(pool.hit_rate));
  for (size_t f = 0; f < sizeof tier_fields / sizeof *tier_fields; f++)
    if (tier_fields[f].summed && (tier_fields[f].in_status || !status))
      json_object_object_add(o, tier_fields[f].name, json_object_new_uint64(totals[f]));
  json_object_object_add(o, "tiers", tiers);
  return o;
}

void vs_v1_pools_status(vs_request *rq, vs_response *rs, char **args) {
  (void)args;
  vs_v1_ok(rq, rs, pools_json(1));
}

void vs_v1_pools_metrics(vs_request *rq, vs_response *rs, char **args) {
  (void)args;
  vs_v1_ok(rq, rs, pools_json(0));
}

void vs_v1_perf_realtime(vs_request *rq, vs_response *rs, char **args) {
  (void)args;
  vs_perf_sample s;
  vs_perf_latest(rq->srv->perf, &s);
  char when[32];
  vs_perf_timestamp(s.unix_ms, when);
  vexfs_metrics m;
  vexfs_metrics_init(&m);
  vexfs_collection_metrics(NULL, &m);
  json_object *o = json_object_new_object(), *ops = json_object_new_object(),
              *pools = json_object_new_object(), *all = pools_json(1), *tiers = NULL;
  json_object_object_add(o, "timestamp", json_object_new_string(when));
  json_object_object_add(ops, "ops_per_sec", vs_v1_number(s.vector_ops_per_sec));
  json_object_object_add(ops, "search_ops_per_sec", vs_v1_number(s.search_ops_per_sec));
  json_object_object_add(ops, "insert_ops_per_sec", vs_v1_number(s.insert_ops_per_sec));
  json_object_object_add(ops, "avg_latency_ms", vs_v1_number(m.search_latency_us.mean / 1000));
  json_object_object_add(ops, "search_latency_p50_ms", vs_v1_number(s.search_latency_p50_ms));
  json_object_object_add(ops, "search_latency_p95_ms", vs_v1_number(s.search_latency_p95_ms));
  json_object_object_add(ops, "search_latency_p99_ms", vs_v1_number(s.search_latency_p99_ms));
  json_object_object_add(ops, "searches", json_object_new_uint64(m.searches));
  json_object_object_add(ops, "inserts", json_object_new_uint64(m.inserts));
  json_object_object_add(ops, "removes", json_object_new_uint64(m.removes));
  json_object_object_add(o, "vector_operations", ops);
  json_object_object_add(pools, "hit_rate", vs_v1_number(s.memory_pool_hit_rate));
  json_object_object_get_ex(all, "tiers", &tiers);
  json_object_object_add(pools, "tiers", json_object_get(tiers));
  json_object_put(all);
  json_object_object_add(o, "memory_pools", pools);
  json_object_object_add(o, "simd_acceleration", simd_json());
  json_object_object_add(o, "vectors", json_object_new_uint64(s.vectors));
  vs_v1_ok(rq, rs, o);
}

/* A duration of the history: digits and a unit, s, m or h ("30s", "5m", "24h"), of 1 s to
 * VS_PERF_MAX_SECONDS; 0 when it is none. */
static unsigned seconds_of(const char *s) {
  char *end = NULL;
  unsigned long v = s[0] >= '1' && s[0] <= '9' ? strtoul(s, &end, 10) : 0;
  if (!end || end - s > 6 || !end[0] || end[1]) return 0;
  unsigned long unit = end[0] == 's' ? 1 : end[0] == 'm' ? 60 : end[0] == 'h' ? 3600 : 0;
  return v * unit <= 24ul * 3600 ? (unsigned)(v * unit) : 0;
}

void vs_v1_perf_history(vs_request *rq, vs_response *rs, char **args) {
  (void)args;
  const char *duration = vs_query_arg(rq, "duration"), *interval = vs_query_arg(rq, "interval");
  if (!duration) duration = "1h";
  if (!interval) interval = "1m";
  unsigned d = seconds_of(duration), i = seconds_of(interval);
  if (!d || !i || i > d) {
    vs_v1_fail(rq, rs, 400, "API_001", "Bad request: `duration` and `interval` are a number and "
               "s, m or h (30s, 5m, 1h), at most 24h, the interval at most the duration; not "
               "duration=%s interval=%s", duration, interval);
    return;
  }
  if (d > VS_PERF_FINE_SAMPLES && i < 60) {
    vs_v1_fail(rq, rs, 400, "API_001", "Bad request: 1 s samples are kept for an hour: an "
               "interval below 1m needs a duration of 1h or less");
    return;
  }
  size_t n = 0;
  vs_perf_sample *rows = vs_perf_history(rq->srv->perf, d, i, &n);
  vs_text t = {.failed = !rows};
  vs_text_puts(&t, "{\"duration\":\"");
  vs_text_puts(&t, duration); /* checked: digits and a letter */
  vs_text_puts(&t, "\",\"interval\":\"");
  vs_text_puts(&t, interval);
  vs_text_puts(&t, "\",\"data_points\":");
  vs_text_u64(&t, n);
  vs_text_puts(&t, ",\"metrics\":[");
  for (size_t r = 0; r < n; r++) {
    if (r) vs_text_put(&t, ",", 1);
    vs_perf_sample_write(&t, &rows[r]);
  }
  vs_text_puts(&t, "]}");
  free(rows);
  vs_ok_body(rq, rs, &t, NULL);
}

void vs_v1_simd_status(vs_request *rq, vs_response *rs, char **args) {
  (void)args;
  vexfs_metrics m;
  vexfs_metrics_init(&m);
  vexfs_collection_metrics(NULL, &m);
  json_object *o = simd_json();
  json_object_object_add(o, "distance_computations", json_object_new_uint64(m.distance_computations));
  vs_v1_ok(rq, rs, o);
}

/* What the CPU offers, as the compiler's runtime check reads CPUID and the state the OS enabled;
 * the library decides for itself which of it to use (vexfs_simd_isa). */
static json_object *cpu_features(void) {
  json_object *o = json_object_new_object();
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  json_object_object_add(o, "sse4_2", json_object_new_boolean(__builtin_cpu_supports("sse4.2")));
  json_object_object_add(o, "avx", json_object_new_boolean(__builtin_cpu_supports("avx")));
  json_object_object_add(o, "avx2", json_object_new_boolean(__builtin_cpu_supports("avx2")));
  json_object_object_add(o, "fma", json_object_new_boolean(__builtin_cpu_supports("fma")));
  json_object_object_add(o, "avx512f", json_object_new_boolean(__builtin_cpu_supports("avx512f")));
  json_object_object_add(o, "avx512bw", json_object_new_boolean(__builtin_cpu_supports("avx512bw")));
  json_object_object_add(o, "avx512vl", json_object_new_boolean(__builtin_cpu_supports("avx512vl")));
  json_object_object_add(o, "avx512dq", json_object_new_boolean(__builtin_cpu_supports("avx512dq")));
  json_object_object_add(o, "avx512vnni", json_object_new_boolean(__builtin_cpu_supports("avx512vnni")));
#elif defined(__aarch64__)
  json_object_object_add(o, "neon", json_object_new_boolean(1)); /* part of AArch64 */
#endif
  return o;
}

void vs_v1_simd_capabilities(vs_request *rq, vs_response *rs, char **args) {
  (void)args;
  const char *cap = getenv("VEXFS_SIMD");
  json_object *o = simd_json();
#if defined(__x86_64__)
  json_object_object_add(o, "architecture", json_object_new_string("x86_64"));
#elif defined(__aarch64__)
  json_object_object_add(o, "architecture", json_object_new_string("aarch64"));
#endif
  json_object_object_add(o, "cpu_features", cpu_features());
  json_object_object_add(o, "vexfs_simd", cap ? json_object_new_string(cap) : NULL);
  vs_v1_ok(rq, rs, o);
}

/* The reference's configure sections and their documented keys. */
static const char *const pool_keys[] = {"small_buffer_count", "medium_buffer_count",
                                        "large_buffer_count", "target_hit_rate", NULL};
static const char *const simd_keys[] = {"enable_avx2", "enable_avx512", "batch_size",
                                        "auto_detect", NULL};
static const char *const stack_keys[] = {"fuse_stack_limit", "heap_threshold",
                                         "enable_monitoring", NULL};
static const char *const bridge_keys[] = {"batch_size", "enable_priority_scheduling",
                                          "target_latency_ns", NULL};
static const struct {
  const char *name;
  const char *const *keys;
  const char *why;
} sections[] = {
    {"memory_pools", pool_keys, "libvexfs sizes its pool's tiers before their first use "
                                "and grows them on demand; they cannot change while it serves"},
    {"simd_acceleration", simd_keys, "libvexfs picks the widest SIMD level the CPU has when it "
                                     "loads; VEXFS_SIMD in the server's environment caps it"},
    {"stack_optimization", stack_keys, "a library has no FUSE stack to tune"},
    {"bridge_communication", bridge_keys, "a library has no kernel bridge to tune"},
};
#define NSECTIONS (sizeof sections / sizeof *sections)

void vs_v1_perf_configure(vs_request *rq, vs_response *rs, char **args) {
  (void)args;
  json_object *body = vs_body(rq, rs);
  if (!body) return;
  const char *names[NSECTIONS + 1] = {NULL};
  for (size_t i = 0; i < NSECTIONS; i++) names[i] = sections[i].name;
  if (vs_v1_known_keys(rq, rs, body, names, "the body") != 0) return;
  json_object *not_applied = json_object_new_object();
  for (size_t i = 0; i < NSECTIONS; i++) {
    json_object *section = NULL;
    if (vs_get_object(rq, rs, body, sections[i].name, 0, &section) != 0 ||
        (section && vs_v1_known_keys(rq, rs, section, sections[i].keys, sections[i].name) != 0)) {
      json_object_put(not_applied);
      return;
    }
    if (section) json_object_object_add(not_applied, sections[i].name, json_object_new_string(sections[i].why));
  }
  json_object *o = json_object_new_object(), *current = json_object_new_object();
  json_object_object_add(o, "status", json_object_new_string("unchanged"));
  json_object_object_add(o, "message", json_object_new_string(
      "vexfs-server changed nothing: the library it serves chooses its pools and SIMD level "
      "itself (not_applied says why for each section given)"));
  json_object_object_add(o, "applied_config", json_object_new_object());
  json_object_object_add(o, "not_applied", not_applied);
  json_object_object_add(o, "restart_required", json_object_new_boolean(0));
  json_object_object_add(current, "simd_acceleration", simd_json());
  json_object_object_add(current, "memory_pools", pools_json(1));
  json_object_object_add(o, "current", current);
  vs_v1_ok(rq, rs, o);
}

void vs_v1_not_applicable(vs_request *rq, vs_response *rs, char **args) {
  (void)args;
  const char *why = strstr(rq->path, "/stack/")        ? "a library has no FUSE stack to measure or tune"
                    : strstr(rq->path, "/bridge/")     ? "a library has no kernel bridge to measure or tune"
                    : strstr(rq->path, "/memory-pools/") ? "libvexfs sizes its pool before its first use; it cannot be retuned while serving (GET .../memory-pools/status and /metrics report it)"
                                                         : "libvexfs picks its SIMD level when it loads (VEXFS_SIMD caps it); GET .../simd/status and /capabilities report it";
  vs_v1_fail(rq, rs, 404, "API_005", "Not found: %s %s does not apply to vexfs-server, which "
             "serves a library (libvexfs): %s", rq->method, rq->path, why);
}

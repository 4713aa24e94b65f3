/* /api/v1's collections: create, list, get, delete, and the SDK's get_stats (a collection's and
 * the whole server's).
 * Left out of the reference's answers: created_at and updated_at (the library keeps no such
 * times), performance_config's optimization_level, memory_pool_allocated, stack and bridge
 * settings (nothing here has them; simd_enabled and simd_type are real), and in
 * performance_metrics stack_violations and bridge_latency_ns (no stack or bridge to measure).
 * The collection's name is its id. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "api_v1.h"

/* VEXFS_INDEX_* order, and VEXFS_METRIC_* less one. */
static const char *const algorithms[] = {"auto", "flat", "hnsw", "lsh", "ivf", NULL};
static const char *const metrics[] = {"l2", "ip", "cosine", NULL};

#define HNSW_LIKE (1u << VEXFS_INDEX_HNSW | 1u << VEXFS_INDEX_AUTO)

typedef enum { U32, FLOAT, NAMED } parameter_kind;

/* A parameter of the SDK's `parameters` (as bindings/python/vexfs/client.py maps them) and the
 * field of the library's configuration it sets. */
typedef struct parameter {
  unsigned algorithms; /* bits 1 << VEXFS_INDEX_* it applies to */
  const char *name;
  parameter_kind kind;
  size_t offset;            /* in vexfs_collection_config */
  const char *const *names; /* NAMED: the values, in the library enum's order */
} parameter;

_Static_assert(sizeof(vexfs_lsh_projection) == sizeof(uint32_t) &&
                   sizeof(vexfs_ivf_codes) == sizeof(uint32_t),
               "the NAMED parameters are written as uint32_t");

static const char *const projections[] = {"random", "learned", NULL};
static const char *const ivf_codes[] = {"f32", "sq8", NULL};
#define AT(field) offsetof(vexfs_collection_config, field)
static const parameter parameters[] = {
    {HNSW_LIKE, "m", U32, AT(hnsw_m), NULL},
    {HNSW_LIKE, "ef_construction", U32, AT(hnsw_ef_construction), NULL},
    {HNSW_LIKE | 1u << VEXFS_INDEX_LSH, "ef_search", U32, AT(hnsw_ef_search), NULL},
    {1u << VEXFS_INDEX_LSH, "num_tables", U32, AT(lsh_tables), NULL},
    {1u << VEXFS_INDEX_LSH, "num_functions", U32, AT(lsh_bits), NULL},
    {1u << VEXFS_INDEX_LSH, "bucket_size", FLOAT, AT(lsh_bucket_width), NULL},
    {1u << VEXFS_INDEX_LSH, "projection_type", NAMED, AT(lsh_projection), projections},
    {1u << VEXFS_INDEX_IVF, "nlist", U32, AT(ivf_nlist), NULL},
    {1u << VEXFS_INDEX_IVF, "nprobe", U32, AT(ivf_nprobe), NULL},
    {1u << VEXFS_INDEX_IVF, "codes", NAMED, AT(ivf_codes), ivf_codes},
};
/* Accepted for HNSW and derived from m by the library (2 m on layer 0, 1 / ln m); the
 * reference's hnsw_config also has max_connections, the same as max_m. */
static const char *const derived[] = {"max_m", "ml", "max_connections", NULL};

static const parameter *find_parameter(const char *name, vexfs_index_kind index) {
  for (size_t i = 0; i < sizeof parameters / sizeof *parameters; i++)
    if ((parameters[i].algorithms >> index & 1) && strcmp(parameters[i].name, name) == 0)
      return &parameters[i];
  return NULL;
}

static int is_derived(const char *name, vexfs_index_kind index, int with_connections) {
  if (!(HNSW_LIKE >> index & 1)) return 0;
  for (int i = 0; derived[i]; i++)
    if (strcmp(derived[i], name) == 0) return with_connections || strcmp(name, "max_connections");
  return 0;
}

/* Reads `where` (parameters or hnsw_config) into cfg for its index kind; -1 after a 400. */
static int read_parameters(vs_request *rq, vs_response *rs, json_object *o, const char *where,
                           vexfs_collection_config *cfg) {
  int hnsw_config = strcmp(where, "hnsw_config") == 0;
  json_object_object_foreach(o, key, v) {
    const parameter *p = find_parameter(key, cfg->index);
    if (!p && is_derived(key, cfg->index, hnsw_config)) continue;
    if (!p) {
      char known[256] = "";
      for (size_t i = 0; i < sizeof parameters / sizeof *parameters; i++)
        if (parameters[i].algorithms >> cfg->index & 1)
          strcat(strcat(known, *known ? ", " : ""), parameters[i].name);
      vs_v1_fail(rq, rs, 400, "API_001", "Bad request: %s: unknown parameter `%s` for algorithm "
                 "%s (known: %s)", where, key, algorithms[cfg->index], *known ? known : "none");
      return -1;
    }
    void *field = (char *)cfg + p->offset;
    uint64_t u = 0;
    int named = 0;
    if (p->kind == U32) {
      if (vs_get_uint(rq, rs, o, key, UINT32_MAX, &u) != 0) return -1;
      *(uint32_t *)field = (uint32_t)u;
    } else if (p->kind == NAMED) {
      if (vs_v1_choice(rq, rs, o, key, p->names, &named) != 0) return -1;
      *(uint32_t *)field = (uint32_t)named;
    } else if (json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)) {
      *(float *)field = (float)json_object_get_double(v);
    } else {
      vs_v1_fail(rq, rs, 400, "API_001", "Bad request: %s.%s must be a number", where, key);
      return -1;
    }
  }
  return 0;
}

/* The parameters in effect, as the SDK names them. */
static json_object *parameters_json(const vexfs_collection_config *cfg) {
  json_object *o = json_object_new_object();
  for (size_t i = 0; i < sizeof parameters / sizeof *parameters; i++) {
    const parameter *p = &parameters[i];
    if (!(p->algorithms >> cfg->index & 1)) continue;
    const void *field = (const char *)cfg + p->offset;
    json_object_object_add(o, p->name,
                           p->kind == U32   ? json_object_new_uint64(*(const uint32_t *)field)
                           : p->kind == NAMED ? json_object_new_string(p->names[*(const uint32_t *)field])
                                              : vs_float(*(const float *)field));
  }
  return o;
}

static json_object *performance_metrics(vs_coll *k) {
  vexfs_metrics m;
  vexfs_metrics_init(&m);
  vexfs_collection_metrics(k->points, &m);
  json_object *o = json_object_new_object();
  json_object_object_add(o, "current_ops_per_sec",
                         vs_v1_number(m.search_per_sec_10s + m.insert_per_sec_10s));
  json_object_object_add(o, "search_ops_per_sec", vs_v1_number(m.search_per_sec_10s));
  json_object_object_add(o, "insert_ops_per_sec", vs_v1_number(m.insert_per_sec_10s));
  json_object_object_add(o, "avg_latency_ms", vs_v1_number(m.search_latency_us.mean / 1000));
  json_object_object_add(o, "p50_latency_ms", vs_v1_number(m.search_latency_us.p50 / 1000));
  json_object_object_add(o, "p99_latency_ms", vs_v1_number(m.search_latency_us.p99 / 1000));
  json_object_object_add(o, "memory_pool_hit_rate", vs_v1_number(m.pool_hit_rate));
  json_object_object_add(o, "simd_acceleration_active", json_object_new_boolean(vs_v1_simd_active()));
  json_object_object_add(o, "searches", json_object_new_uint64(m.searches));
  json_object_object_add(o, "inserts", json_object_new_uint64(m.inserts));
  json_object_object_add(o, "removes", json_object_new_uint64(m.removes));
  return o;
}

static json_object *collection_json(vs_coll *k, int with_performance) {
  vexfs_collection_config cfg;
  vexfs_collection_config_init(&cfg);
  vexfs_collection_get_config(k->points, &cfg);
  json_object *o = json_object_new_object(), *perf = json_object_new_object();
  json_object_object_add(o, "id", json_object_new_string(k->name));
  json_object_object_add(o, "name", json_object_new_string(k->name));
  json_object_object_add(o, "dimension", json_object_new_uint64(cfg.dim));
  json_object_object_add(o, "algorithm", json_object_new_string(algorithms[cfg.index]));
  json_object_object_add(o, "index_in_use", json_object_new_string(vexfs_index_in_use(k->points)));
  json_object_object_add(o, "metric", json_object_new_string(vs_v1_metric_name(cfg.metric)));
  json_object_object_add(o, "status", json_object_new_string("active"));
  json_object_object_add(o, "vector_count", json_object_new_uint64(vexfs_count(k->points)));
  json_object_object_add(o, "parameters", parameters_json(&cfg));
  json_object_object_add(perf, "simd_enabled", json_object_new_boolean(vs_v1_simd_active()));
  json_object_object_add(perf, "simd_type", json_object_new_string(vexfs_simd_isa()));
  json_object_object_add(o, "performance_config", perf);
  if (with_performance) json_object_object_add(o, "performance_metrics", performance_metrics(k));
  return o;
}

/* ?include_performance=true|false (absent: false); -1 after a 400. */
static int include_performance(vs_request *rq, vs_response *rs, int *out) {
  const char *s = vs_query_arg(rq, "include_performance");
  *out = s && (strcmp(s, "true") == 0 || strcmp(s, "1") == 0);
  if (!s || *out || strcmp(s, "false") == 0 || strcmp(s, "0") == 0) return 0;
  vs_v1_fail(rq, rs, 400, "API_001", "Bad request: `include_performance` must be true or false");
  return -1;
}

static const char *const create_keys[] = {"name", "dimension", "algorithm", "metric", "distance",
                                          "parameters", "hnsw_config", "performance_config", NULL};

/* Reads the create body into cfg and *name; -1 after a 400. */
static int read_create(vs_request *rq, vs_response *rs, json_object *body,
                       vexfs_collection_config *cfg, const char **name) {
  json_object *v = NULL, *params = NULL, *hnsw = NULL;
  if (vs_v1_known_keys(rq, rs, body, create_keys, "the body") != 0) return -1;
  if (!json_object_object_get_ex(body, "name", &v) || !json_object_is_type(v, json_type_string)) {
    vs_v1_fail(rq, rs, 400, "API_001", "Bad request: `name` must be a string");
    return -1;
  }
  *name = json_object_get_string(v);
  if (!vs_catalog_name_ok(*name)) {
    vs_v1_fail(rq, rs, 400, "API_006", "Validation error: collection name `%s` must be 1 to 120 "
               "letters, digits, '_', '-' or '.', not starting with '.' or \"__vexfs.\"", *name);
    return -1;
  }
  uint64_t dim = 0;
  if (!json_object_object_get_ex(body, "dimension", &v)) {
    vs_v1_fail(rq, rs, 400, "API_001", "Bad request: missing field `dimension`");
    return -1;
  }
  if (vs_get_uint(rq, rs, body, "dimension", UINT32_MAX, &dim) != 0) return -1;
  if (dim == 0 || dim > VEXFS_MAX_DIM) {
    vs_v1_fail(rq, rs, 400, "API_006", "Validation error: `dimension` must be 1 to %u",
               VEXFS_MAX_DIM);
    return -1;
  }
  cfg->dim = (uint32_t)dim;
  int index = VEXFS_INDEX_HNSW, metric = VEXFS_METRIC_L2 - 1, alias = -1;
  if (vs_v1_choice(rq, rs, body, "algorithm", algorithms, &index) != 0 ||
      vs_v1_choice(rq, rs, body, "metric", metrics, &metric) != 0 ||
      vs_v1_choice(rq, rs, body, "distance", metrics, &alias) != 0)
    return -1;
  if (alias >= 0 && json_object_object_get_ex(body, "metric", NULL) && alias != metric) {
    vs_v1_fail(rq, rs, 400, "API_001", "Bad request: `metric` and `distance` differ");
    return -1;
  }
  cfg->index = (vexfs_index_kind)index;
  cfg->metric = (vexfs_metric)((alias >= 0 ? alias : metric) + 1);
  if (vs_get_object(rq, rs, body, "parameters", 0, &params) != 0 ||
      (params && read_parameters(rq, rs, params, "parameters", cfg) != 0) ||
      vs_get_object(rq, rs, body, "hnsw_config", 0, &hnsw) != 0)
    return -1;
  if (hnsw && !(HNSW_LIKE >> cfg->index & 1)) {
    vs_v1_fail(rq, rs, 400, "API_001", "Bad request: `hnsw_config` is for algorithm hnsw or "
               "auto, not %s", algorithms[cfg->index]);
    return -1;
  }
  if (hnsw && read_parameters(rq, rs, hnsw, "hnsw_config", cfg) != 0) return -1;
  return vs_v1_advisory(rq, rs, body, "performance_config");
}

void vs_v1_collection_create(vs_request *rq, vs_response *rs, char **args) {
  (void)args;
  json_object *body = vs_body(rq, rs);
  if (!body) return;
  vexfs_collection_config cfg;
  vexfs_collection_config_init(&cfg);
  const char *name = NULL;
  if (read_create(rq, rs, body, &cfg, &name) != 0) return;
  vexfs_status st = vs_catalog_create(&rq->srv->catalog, name, &cfg);
  if (st == VEXFS_E_EXISTS) {
    vs_v1_fail(rq, rs, 409, "API_006", "Validation error: collection `%s` already exists", name);
    return;
  }
  if (st != VEXFS_OK) {
    vs_v1_fail_lib(rq, rs, st);
    return;
  }
  vs_coll *k = vs_request_collection(rq, rs, name); /* dropped at once by another request: 404 */
  if (!k) return;
  json_object *o = collection_json(k, 0);
  vs_catalog_put(&rq->srv->catalog, k);
  vs_v1_ok(rq, rs, o);
}

static int by_name(const void *a, const void *b) {
  json_object *x = *(json_object *const *)a, *y = *(json_object *const *)b, *nx, *ny;
  json_object_object_get_ex(x, "name", &nx);
  json_object_object_get_ex(y, "name", &ny);
  return strcmp(json_object_get_string(nx), json_object_get_string(ny));
}

void vs_v1_collections_list(vs_request *rq, vs_response *rs, char **args) {
  (void)args;
  int with_performance = 0;
  uint64_t page = 1, per_page = 100;
  if (include_performance(rq, rs, &with_performance) != 0 ||
      vs_v1_query_uint(rq, rs, "page", UINT32_MAX, &page) != 0 ||
      vs_v1_query_uint(rq, rs, "per_page", 1000, &per_page) != 0)
    return;
  json_object *names = vs_catalog_list(&rq->srv->catalog), *list = json_object_new_array();
  json_object_array_sort(names, by_name);
  size_t total = json_object_array_length(names);
  for (uint64_t i = (page - 1) * per_page; i < total && i < page * per_page; i++) {
    json_object *name = NULL;
    json_object_object_get_ex(json_object_array_get_idx(names, i), "name", &name);
    vs_coll *k = vs_catalog_acquire(&rq->srv->catalog, json_object_get_string(name));
    if (!k) continue; /* dropped meanwhile */
    json_object_array_add(list, collection_json(k, with_performance));
    vs_catalog_put(&rq->srv->catalog, k);
  }
  json_object_put(names);
  json_object *o = json_object_new_object();
  json_object_object_add(o, "collections", list);
  json_object_object_add(o, "total", json_object_new_uint64(total));
  json_object_object_add(o, "page", json_object_new_uint64(page));
  json_object_object_add(o, "per_page", json_object_new_uint64(per_page));
  vs_v1_ok(rq, rs, o);
}

void vs_v1_collection_get(vs_request *rq, vs_response *rs, char **args) {
  int with_performance = 0;
  if (include_performance(rq, rs, &with_performance) != 0) return;
  vs_coll *k = vs_request_collection(rq, rs, args[0]);
  if (!k) return;
  json_object *o = collection_json(k, with_performance);
  vs_catalog_put(&rq->srv->catalog, k);
  vs_v1_ok(rq, rs, o);
}

void vs_v1_collection_delete(vs_request *rq, vs_response *rs, char **args) {
  vexfs_status st = vs_catalog_drop(&rq->srv->catalog, args[0]);
  if (st == VEXFS_E_NOT_FOUND) {
    vs_v1_fail(rq, rs, 404, "API_005", "Not found: collection `%s` does not exist", args[0]);
    return;
  }
  if (st != VEXFS_OK) {
    vs_v1_fail_lib(rq, rs, st);
    return;
  }
  json_object *o = json_object_new_object();
  json_object_object_add(o, "deleted", json_object_new_boolean(1));
  json_object_object_add(o, "name", json_object_new_string(args[0]));
  vs_v1_ok(rq, rs, o);
}

static json_object *memory_json(const vexfs_metrics *m) {
  json_object *o = json_object_new_object();
  json_object_object_add(o, "vectors", json_object_new_uint64(m->memory_vectors));
  json_object_object_add(o, "index", json_object_new_uint64(m->memory_index));
  json_object_object_add(o, "payloads", json_object_new_uint64(m->memory_payloads));
  json_object_object_add(o, "pool", json_object_new_uint64(m->memory_pool));
  json_object_object_add(o, "mapped", json_object_new_uint64(m->memory_mapped));
  return o;
}

/* collection.get_stats() of the SDK (bindings/python/vexfs/client.py's CollectionStats). */
void vs_v1_collection_stats(vs_request *rq, vs_response *rs, char **args) {
  vs_coll *k = vs_request_collection(rq, rs, args[0]);
  if (!k) return;
  vexfs_metrics m;
  vexfs_metrics_init(&m);
  vexfs_collection_metrics(k->points, &m);
  vexfs_collection_config cfg;
  vexfs_collection_config_init(&cfg);
  vexfs_collection_get_config(k->points, &cfg);
  json_object *o = json_object_new_object();
  json_object_object_add(o, "name", json_object_new_string(k->name));
  json_object_object_add(o, "vector_count", json_object_new_uint64(m.vectors));
  json_object_object_add(o, "dimension", json_object_new_uint64(cfg.dim));
  json_object_object_add(o, "algorithm", json_object_new_string(algorithms[cfg.index]));
  json_object_object_add(o, "metric", json_object_new_string(vs_v1_metric_name(cfg.metric)));
  uint64_t in_memory = m.memory_vectors + m.memory_index + m.memory_payloads;
  json_object_object_add(o, "index_size_mb", vs_v1_number((double)in_memory / (1 << 20)));
  json_object_object_add(o, "insert_count", json_object_new_uint64(m.inserts));
  json_object_object_add(o, "search_count", json_object_new_uint64(m.searches));
  json_object_object_add(o, "avg_search_time_ms", vs_v1_number(m.search_latency_us.mean / 1000));
  json_object_object_add(o, "p95_search_time_ms", vs_v1_number(m.search_latency_us.p95 / 1000));
  json_object_object_add(o, "memory_bytes", memory_json(&m));
  vs_catalog_put(&rq->srv->catalog, k);
  vs_v1_ok(rq, rs, o);
}

/* client.get_stats() of the SDK (SystemStats): the served collections, the process's memory
 * and the scratch pool's hits and misses. */
void vs_v1_stats(vs_request *rq, vs_response *rs, char **args) {
  (void)args;
  vexfs_metrics m;
  vexfs_metrics_init(&m);
  vexfs_collection_metrics(NULL, &m);
  vexfs_pool_stats pool;
  vexfs_pool_stats_init(&pool);
  vexfs_pool_get_stats(&pool);
  uint64_t hits = 0, misses = 0;
  for (uint32_t i = 0; i < pool.tier_count && i < VEXFS_POOL_MAX_TIERS; i++) {
    hits += pool.tiers[i].hits;
    misses += pool.tiers[i].misses_too_big + pool.tiers[i].misses_empty;
  }
  json_object *names = vs_catalog_list(&rq->srv->catalog), *o = json_object_new_object();
  json_object_object_add(o, "collection_count", json_object_new_uint64(json_object_array_length(names)));
  json_object_put(names);
  json_object_object_add(o, "vector_count", json_object_new_uint64(vs_catalog_vectors(&rq->srv->catalog)));
  uint64_t memory = m.memory_vectors + m.memory_index + m.memory_payloads + m.memory_pool + m.memory_mapped;
  json_object_object_add(o, "memory_usage_mb", vs_v1_number((double)memory / (1 << 20)));
  json_object_object_add(o, "avg_search_time_ms", vs_v1_number(m.search_latency_us.mean / 1000));
  json_object_object_add(o, "cache_hits", json_object_new_uint64(hits));
  json_object_object_add(o, "cache_misses", json_object_new_uint64(misses));
  json_object_object_add(o, "memory_bytes", memory_json(&m));
  vs_v1_ok(rq, rs, o);
}

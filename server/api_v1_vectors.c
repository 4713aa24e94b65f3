/* /api/v1's vectors: insert one or a batch (all or nothing), get, delete, and search. Ids are the
 * library's u64; a vector sent without one gets one past the largest id /api/v1 has given or been
 * given, as the SDK's client does (found in the collection, below the ids of Qdrant's UUIDs, on
 * first use and when an id was taken through Qdrant's routes meanwhile). Cosine vectors are stored unit length,
 * as through Qdrant's routes (the same collection is served by both).
 * Left out of the reference's answers: created_at and batch_id (nothing keeps them),
 * performance_stats' memory_pool_used, stack_usage_bytes, parallel_threads_used,
 * candidates_evaluated and cache_hit (the library reports none of them per call), query_id. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_v1.h"
#include "qdrant.h"

/* The figures of a call's performance_stats: its time so far under time_key. */
static json_object *performance_stats(vs_request *rq, const char *time_key) {
  vexfs_pool_stats pool;
  vexfs_pool_stats_init(&pool);
  vexfs_pool_get_stats(&pool);
  json_object *o = json_object_new_object();
  json_object_object_add(o, time_key, vs_v1_number((double)(vs_now_ns() - rq->start_ns) / 1e6));
  json_object_object_add(o, "simd_acceleration_used", json_object_new_boolean(vs_v1_simd_active()));
  json_object_object_add(o, "simd_isa", json_object_new_string(vexfs_simd_isa()));
  json_object_object_add(o, "memory_pool_hit_rate", vs_v1_number(pool.hit_rate));
  return o;
}

/* The vectors of an insert. */
typedef struct rows {
  size_t n;
  int batch;     /* rows of vectors/batch, named vectors[i] in messages */
  int given_ids; /* every row named its id (else none did) */
  uint64_t *ids;
  float *vectors;
  char **payloads; /* entries NULL for none */
  json_object **metadata;
} rows;

static void rows_free(rows *r) {
  for (size_t i = 0; r->payloads && i < r->n; i++) free(r->payloads[i]);
  free(r->ids), free(r->vectors), free(r->payloads), free(r->metadata);
}

static const char *const row_keys[] = {"vector", "id", "metadata", "performance_options", NULL};

/* Reads row i of an insert ({"vector", "id", "metadata"}) into r; -1 after a 400. */
static int read_row(vs_request *rq, vs_response *rs, vs_coll *k, json_object *o, size_t i,
                    rows *r) {
  char where[48];
  snprintf(where, sizeof where, r->batch ? "vectors[%zu]" : "the body", i);
  json_object *v = NULL, *metadata = NULL;
  if (!json_object_is_type(o, json_type_object)) {
    vs_v1_fail(rq, rs, 400, "API_001", "Bad request: %s must be an object", where);
    return -1;
  }
  if (vs_v1_known_keys(rq, rs, o, row_keys, where) != 0) return -1;
  if (!json_object_object_get_ex(o, "vector", &v)) {
    vs_v1_fail(rq, rs, 400, "API_001", "Bad request: %s: missing field `vector`", where);
    return -1;
  }
  int has_id = json_object_object_get_ex(o, "id", NULL);
  if (i == 0) r->given_ids = has_id;
  if (has_id != r->given_ids) {
    vs_v1_fail(rq, rs, 400, "API_001", "Bad request: %s: either every vector has an `id` or none "
               "has", where);
    return -1;
  }
  if (vs_read_vector(rq, rs, k, v, r->vectors + i * k->dim, where) != 0 ||
      vs_get_uint(rq, rs, o, "id", UINT64_MAX - 1, &r->ids[i]) != 0 ||
      vs_get_object(rq, rs, o, "metadata", 0, &metadata) != 0)
    return -1;
  r->metadata[i] = metadata;
  if (metadata &&
      !(r->payloads[i] = strdup(json_object_to_json_string_ext(metadata, JSON_C_TO_STRING_PLAIN)))) {
    vs_v1_fail(rq, rs, 503, "API_008", "Service unavailable: out of memory");
    return -1;
  }
  return 0;
}

static int rows_read(vs_request *rq, vs_response *rs, vs_coll *k, json_object *const *items,
                     size_t n, rows *r) {
  r->n = n; /* r->batch is the caller's */
  r->ids = calloc(n ? n : 1, sizeof *r->ids);
  r->vectors = malloc((n ? n : 1) * k->dim * sizeof *r->vectors);
  r->payloads = calloc(n ? n : 1, sizeof *r->payloads);
  r->metadata = calloc(n ? n : 1, sizeof *r->metadata);
  if (!r->ids || !r->vectors || !r->payloads || !r->metadata) {
    vs_v1_fail(rq, rs, 503, "API_008", "Service unavailable: out of memory for %zu vectors", n);
    return -1;
  }
  for (size_t i = 0; i < n; i++)
    if (read_row(rq, rs, k, items[i], i, r) != 0) return -1;
  return 0;
}

/* Inserts the rows, giving ids to rows without; 0, or -1 after a failure. Under k->write. */
static int insert_rows(vs_request *rq, vs_response *rs, vs_coll *k, rows *r) {
  vexfs_status st = VEXFS_OK;
  for (int attempt = 0; attempt < 2; attempt++) {
    uint64_t first = 0;
    if (!r->given_ids) {
      st = vs_coll_take_ids(k, r->n, &first);
      if (st == VEXFS_E_INVALID) {
        vs_v1_fail(rq, rs, 400, "API_006", "Validation error: no room for %zu more ids past "
                   "those stored; give the vectors ids", r->n);
        return -1;
      }
      if (st != VEXFS_OK) break;
      for (size_t i = 0; i < r->n; i++) r->ids[i] = first + i;
    }
    st = vexfs_insert_with_payload(k->points, r->ids, r->vectors, (const char *const *)r->payloads,
                                   r->n);
    if (st == VEXFS_OK && r->given_ids) vs_coll_saw_ids(k, r->ids, r->n);
    if (st != VEXFS_E_EXISTS || r->given_ids) break;
    vs_coll_saw_ids(k, NULL, 0); /* ids were taken another way (Qdrant's routes): look again */
  }
  if (st == VEXFS_OK) return 0;
  vs_v1_fail_lib(rq, rs, st);
  return -1;
}

/* Reads and inserts items (n vectors) into the collection args[0]; the caller answers. */
static vs_coll *insert(vs_request *rq, vs_response *rs, const char *name, json_object *const *items,
                       size_t n, rows *r) {
  vs_coll *k = vs_request_collection(rq, rs, name);
  if (!k) return NULL;
  if (rows_read(rq, rs, k, items, n, r) == 0) {
    pthread_mutex_lock(&k->write);
    int rc = insert_rows(rq, rs, k, r);
    pthread_mutex_unlock(&k->write);
    if (rc == 0) return k;
  }
  vs_catalog_put(&rq->srv->catalog, k);
  return NULL;
}

void vs_v1_vector_insert(vs_request *rq, vs_response *rs, char **args) {
  json_object *body = vs_body(rq, rs);
  if (!body || vs_v1_advisory(rq, rs, body, "performance_options") != 0) return;
  rows r = {0};
  vs_coll *k = insert(rq, rs, args[0], &body, 1, &r);
  if (k) {
    json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_uint64(r.ids[0]));
    json_object_object_add(o, "collection_id", json_object_new_string(k->name));
    json_object_object_add(o, "metadata", json_object_get(r.metadata[0]));
    json_object_object_add(o, "performance_stats", performance_stats(rq, "processing_time_ms"));
    vs_catalog_put(&rq->srv->catalog, k);
    vs_v1_ok(rq, rs, o);
  }
  rows_free(&r);
}

static const char *const batch_keys[] = {"vectors", "performance_options", NULL};

void vs_v1_vectors_insert_batch(vs_request *rq, vs_response *rs, char **args) {
  json_object *body = vs_body(rq, rs), *list = NULL;
  if (!body || vs_v1_known_keys(rq, rs, body, batch_keys, "the body") != 0 ||
      vs_v1_advisory(rq, rs, body, "performance_options") != 0)
    return;
  if (!json_object_object_get_ex(body, "vectors", &list) || !json_object_is_type(list, json_type_array)) {
    vs_v1_fail(rq, rs, 400, "API_001", "Bad request: `vectors` must be a list of "
               "{\"vector\": [...], \"metadata\": {...}, \"id\": n}");
    return;
  }
  size_t n = json_object_array_length(list);
  json_object **items = calloc(n ? n : 1, sizeof *items);
  if (!items) {
    vs_v1_fail(rq, rs, 503, "API_008", "Service unavailable: out of memory for %zu vectors", n);
    return;
  }
  for (size_t i = 0; i < n; i++) items[i] = json_object_array_get_idx(list, i);
  rows r = {.batch = 1};
  vs_coll *k = insert(rq, rs, args[0], items, n, &r);
  free(items);
  if (k) {
    vs_catalog_put(&rq->srv->catalog, k);
    json_object *o = json_object_new_object(), *ids = json_object_new_array_ext((int)n);
    for (size_t i = 0; i < n; i++) json_object_array_add(ids, json_object_new_uint64(r.ids[i]));
    json_object *stats = performance_stats(rq, "total_time_ms"), *ms;
    json_object_object_get_ex(stats, "total_time_ms", &ms);
    double seconds = json_object_get_double(ms) / 1000;
    json_object_object_add(stats, "ops_per_sec", vs_v1_number(seconds > 0 ? (double)n / seconds : 0));
    json_object_object_add(o, "inserted", json_object_new_uint64(n));
    json_object_object_add(o, "failed", json_object_new_int(0));
    json_object_object_add(o, "vector_ids", ids);
    json_object_object_add(o, "performance_stats", stats);
    vs_v1_ok(rq, rs, o);
  }
  rows_free(&r);
}

/* A vector id of the path: decimal digits, below 2^64 - 1; -1 after a 400. */
static int path_id(vs_request *rq, vs_response *rs, const char *s, uint64_t *id) {
  char *end = NULL;
  errno = 0;
  unsigned long long v = s[0] >= '0' && s[0] <= '9' ? strtoull(s, &end, 10) : 0;
  if (!end || *end || errno == ERANGE || v == UINT64_MAX) {
    vs_v1_fail(rq, rs, 400, "API_001", "Bad request: vector id `%s` must be an integer from 0 "
               "to 18446744073709551614", s);
    return -1;
  }
  *id = v;
  return 0;
}

/* The metadata of a stored vector: its payload parsed, or null. */
static json_object *metadata_of(vs_coll *k, uint64_t id) {
  char *text = NULL;
  json_object *o = vexfs_get_payload(k->points, id, &text) == VEXFS_OK && text
                       ? vs_parse_payload(text) : NULL;
  vexfs_free(text);
  return o;
}

void vs_v1_vector_get(vs_request *rq, vs_response *rs, char **args) {
  uint64_t id;
  if (path_id(rq, rs, args[1], &id) != 0) return;
  vs_coll *k = vs_request_collection(rq, rs, args[0]);
  if (!k) return;
  float *v = malloc(k->dim * sizeof *v);
  vexfs_status st = v ? vexfs_get(k->points, id, v) : VEXFS_E_NOMEM;
  if (st == VEXFS_E_NOT_FOUND) {
    vs_v1_fail(rq, rs, 404, "API_005", "Not found: no vector %s in collection `%s`", args[1], k->name);
  } else if (st != VEXFS_OK) {
    vs_v1_fail_lib(rq, rs, st);
  } else {
    json_object *o = json_object_new_object(), *list = json_object_new_array_ext((int)k->dim);
    for (uint32_t i = 0; i < k->dim; i++) json_object_array_add(list, vs_float(v[i]));
    json_object_object_add(o, "id", json_object_new_uint64(id));
    json_object_object_add(o, "vector", list);
    json_object_object_add(o, "metadata", metadata_of(k, id));
    vs_v1_ok(rq, rs, o);
  }
  free(v);
  vs_catalog_put(&rq->srv->catalog, k);
}

/* Removes ids (all or nothing) and answers {"deleted": n, "ids": [...]}. */
static void remove_ids(vs_request *rq, vs_response *rs, const char *name, const uint64_t *ids,
                       size_t n) {
  vs_coll *k = vs_request_collection(rq, rs, name);
  if (!k) return;
  pthread_mutex_lock(&k->write);
  vexfs_status st = vexfs_remove(k->points, ids, n);
  pthread_mutex_unlock(&k->write);
  vs_catalog_put(&rq->srv->catalog, k);
  if (st != VEXFS_OK) {
    vs_v1_fail_lib(rq, rs, st);
    return;
  }
  json_object *o = json_object_new_object(), *list = json_object_new_array_ext((int)n);
  for (size_t i = 0; i < n; i++) json_object_array_add(list, json_object_new_uint64(ids[i]));
  json_object_object_add(o, "deleted", json_object_new_uint64(n));
  json_object_object_add(o, "ids", list);
  vs_v1_ok(rq, rs, o);
}

void vs_v1_vector_delete(vs_request *rq, vs_response *rs, char **args) {
  uint64_t id;
  if (path_id(rq, rs, args[1], &id) == 0) remove_ids(rq, rs, args[0], &id, 1);
}

static const char *const delete_keys[] = {"ids", NULL};

void vs_v1_vectors_delete(vs_request *rq, vs_response *rs, char **args) {
  json_object *body = vs_body(rq, rs), *list = NULL;
  if (!body || vs_v1_known_keys(rq, rs, body, delete_keys, "the body") != 0) return;
  if (!json_object_object_get_ex(body, "ids", &list) || !json_object_is_type(list, json_type_array)) {
    vs_v1_fail(rq, rs, 400, "API_001", "Bad request: `ids` must be a list of vector ids");
    return;
  }
  size_t n = json_object_array_length(list);
  uint64_t *ids = malloc((n ? n : 1) * sizeof *ids);
  if (!ids) {
    vs_v1_fail(rq, rs, 503, "API_008", "Service unavailable: out of memory");
    return;
  }
  for (size_t i = 0; i < n; i++) {
    json_object *v = json_object_array_get_idx(list, i);
    if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0 ||
        (ids[i] = json_object_get_uint64(v)) == UINT64_MAX) {
      vs_v1_fail(rq, rs, 400, "API_001", "Bad request: ids[%zu] must be an integer from 0 to "
                 "18446744073709551614", i);
      free(ids);
      return;
    }
  }
  remove_ids(rq, rs, args[0], ids, n);
  free(ids);
}

/* The SDK's filter shorthand {"key": value, ...} (no must, should, must_not or min_should) as
 * the Qdrant filter it means, every key matching its value; any other filter as it is. A new
 * reference. */
static json_object *qdrant_filter(json_object *f) {
  static const char *const clauses[] = {"must", "should", "must_not", "min_should"};
  for (size_t i = 0; i < sizeof clauses / sizeof *clauses; i++)
    if (json_object_object_get_ex(f, clauses[i], NULL)) return json_object_get(f);
  json_object *must = json_object_new_array(), *out = json_object_new_object();
  json_object_object_foreach(f, key, value) {
    json_object *cond = json_object_new_object(), *match = json_object_new_object();
    json_object_object_add(match, "value", json_object_get(value));
    json_object_object_add(cond, "key", json_object_new_string(key));
    json_object_object_add(cond, "match", match);
    json_object_array_add(must, cond);
  }
  json_object_object_add(out, "must", must);
  return out;
}

/* A similarity from a distance, larger nearer, as the SDK scores: 1 - distance for cosine (the
 * cosine) and ip (the dot product), 1 / (1 + distance) for l2. */
static float score_of(vexfs_metric m, float distance) {
  return m == VEXFS_METRIC_L2 ? 1.0f / (1.0f + distance) : 1.0f - distance;
}

static const char *const search_keys[] = {"vector", "limit", "k", "filters", "filter", "ef",
                                          "performance_options", NULL};

/* Reads limit (or k) and ef of a search; -1 after a 400. */
static int read_search(vs_request *rq, vs_response *rs, json_object *body, uint64_t *limit,
                       uint64_t *ef, json_object **filter) {
  uint64_t k = 0;
  json_object *filters = NULL;
  if (vs_v1_known_keys(rq, rs, body, search_keys, "the body") != 0 ||
      vs_v1_advisory(rq, rs, body, "performance_options") != 0 ||
      vs_get_uint(rq, rs, body, "limit", VEXFS_MAX_K, limit) != 0 ||
      vs_get_uint(rq, rs, body, "k", VEXFS_MAX_K, &k) != 0 ||
      vs_get_uint(rq, rs, body, "ef", VEXFS_MAX_K, ef) != 0 ||
      vs_get_object(rq, rs, body, "filters", 0, &filters) != 0 ||
      vs_get_object(rq, rs, body, "filter", 0, filter) != 0)
    return -1;
  if (json_object_object_get_ex(body, "k", NULL)) {
    if (json_object_object_get_ex(body, "limit", NULL) && k != *limit) {
      vs_v1_fail(rq, rs, 400, "API_001", "Bad request: `limit` and `k` differ");
      return -1;
    }
    *limit = k;
  }
  if (filters && *filter) {
    vs_v1_fail(rq, rs, 400, "API_001", "Bad request: give `filters` or `filter`, not both");
    return -1;
  }
  if (filters) *filter = filters;
  if (*limit == 0) {
    vs_v1_fail(rq, rs, 400, "API_006", "Validation error: `limit` must be 1 to %u", VEXFS_MAX_K);
    return -1;
  }
  return 0;
}

/* The hits of a search as {"results": [...], "total_results": n, "performance_stats": {...}}. */
static json_object *results_json(vs_request *rq, vs_coll *k, const uint64_t *ids,
                                 const float *distances, size_t n) {
  json_object *results = json_object_new_array_ext((int)n), *o = json_object_new_object();
  for (size_t i = 0; i < n; i++) {
    json_object *hit = json_object_new_object();
    json_object_object_add(hit, "id", json_object_new_uint64(ids[i]));
    json_object_object_add(hit, "score", vs_float(score_of(k->metric, distances[i])));
    json_object_object_add(hit, "distance", vs_float(distances[i]));
    json_object_object_add(hit, "metadata", metadata_of(k, ids[i]));
    json_object_array_add(results, hit);
  }
  json_object_object_add(o, "results", results);
  json_object_object_add(o, "total_results", json_object_new_uint64(n));
  json_object_object_add(o, "performance_stats", performance_stats(rq, "search_time_ms"));
  return o;
}

void vs_v1_search(vs_request *rq, vs_response *rs, char **args) {
  json_object *body = vs_body(rq, rs), *given = NULL, *v = NULL;
  uint64_t limit = 10, ef = 0;
  if (!body || read_search(rq, rs, body, &limit, &ef, &given) != 0) return;
  if (!json_object_object_get_ex(body, "vector", &v)) {
    vs_v1_fail(rq, rs, 400, "API_001", "Bad request: missing field `vector`");
    return;
  }
  vs_coll *k = vs_request_collection(rq, rs, args[0]);
  if (!k) return;
  json_object *filter = given && json_object_object_length(given) ? qdrant_filter(given) : NULL;
  float *q = malloc(k->dim * sizeof *q);
  char *filter_json = NULL;
  size_t stored = vexfs_count(k->points), want = limit < stored ? (size_t)limit : stored, n = 0;
  uint64_t *ids = malloc((want ? want : 1) * sizeof *ids);
  float *distances = malloc((want ? want : 1) * sizeof *distances);
  if (!q || !ids || !distances) {
    vs_v1_fail(rq, rs, 503, "API_008", "Service unavailable: out of memory for %zu hits", want);
  } else if (vs_read_vector(rq, rs, k, v, q, "vector") == 0 &&
             (!filter || (filter_json = vs_filter_translate(rq, rs, k, filter, "filters")))) {
    vexfs_search_params params;
    vexfs_search_params_init(&params);
    params.ef = (uint32_t)ef;
    params.filter_json = filter_json;
    vexfs_status st = want ? vexfs_search(k->points, q, 1, want, &params, ids, distances, &n)
                           : VEXFS_OK;
    if (st == VEXFS_OK) vs_v1_ok(rq, rs, results_json(rq, k, ids, distances, n));
    else vs_v1_fail_lib(rq, rs, st);
  }
  free(filter_json), free(q), free(ids), free(distances);
  json_object_put(filter);
  vs_catalog_put(&rq->srv->catalog, k);
}

/* Qdrant's search and query routes, one and batched. A query is a vector or the id of a stored
 * point (whose vector is used and which is left out of its own results). Scores follow Qdrant:
 * cosine similarity, dot product, euclidean distance; score_threshold keeps the better side. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "qdrant.h"

#define VS_EXACT_BELOW_KB 20000 /* Qdrant's default optimizers_config.indexing_threshold */

typedef struct search_req {
  float *vector;
  uint64_t exclude; /* a point left out (the query's own); UINT64_MAX: none */
  char *filter;     /* the library's filter_json, or NULL */
  uint64_t limit, offset, ef;
  int exact, has_threshold;
  double threshold;
  json_object *with_payload; /* NULL: false */
  int with_vector;
} search_req;

static void search_free(search_req *s) {
  free(s->vector);
  free(s->filter);
}

/* Reads a vector, or a point id whose stored vector is used. */
static int read_target(vs_request *rq, vs_response *rs, vs_coll *k, json_object *v,
                       search_req *s) {
  if (!(s->vector = malloc(k->dim * sizeof(float)))) {
    vs_fail(rq, rs, 503, "Service unavailable: out of memory");
    return -1;
  }
  if (vs_is_vector(rq, v)) return vs_read_vector(rq, rs, k, v, s->vector, "query");
  json_object *one = json_object_new_array();
  json_object_array_add(one, json_object_get(v));
  uint8_t found = 0;
  int rc = vs_ids_lookup(rq, rs, k, one, &s->exclude, &found);
  json_object_put(one);
  if (rc != 0) return -1;
  if (!found || vexfs_get(k->points, s->exclude, s->vector) != VEXFS_OK) {
    vs_fail(rq, rs, 404, "Not found: No point with id %s found",
            json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
    return -1;
  }
  return 0;
}

/* The query of a /query request: a vector, a point id, or {"nearest": either}. */
static int read_query(vs_request *rq, vs_response *rs, vs_coll *k, json_object *body,
                      search_req *s) {
  json_object *q = NULL, *using = NULL;
  if (json_object_object_get_ex(body, "prefetch", NULL)) {
    vs_fail(rq, rs, 400, "Bad request: `prefetch` is not supported by vexfs-server");
    return -1;
  }
  if (json_object_object_get_ex(body, "using", &using) && json_object_is_type(using, json_type_string) &&
      json_object_get_string_len(using) > 0) {
    vs_fail(rq, rs, 400, "Bad request: named vectors (`using`) are not supported by vexfs-server");
    return -1;
  }
  if (!json_object_object_get_ex(body, "query", &q) || json_object_is_type(q, json_type_null)) {
    vs_fail(rq, rs, 400, "Bad request: `query` is required (a vector, a point id or "
                         "{\"nearest\": ...})");
    return -1;
  }
  if (json_object_is_type(q, json_type_object)) {
    json_object *nearest = NULL;
    if (!json_object_object_get_ex(q, "nearest", &nearest)) {
      json_object_object_foreach(q, kind, v) {
        (void)v;
        vs_fail(rq, rs, 400, "Bad request: query `%s` is not supported by vexfs-server "
                             "(nearest is)", kind);
        return -1;
      }
      vs_fail(rq, rs, 400, "Bad request: `query` is empty");
      return -1;
    }
    q = nearest;
  }
  return read_target(rq, rs, k, q, s);
}

/* Everything of one search or query but its target. */
static int read_options(vs_request *rq, vs_response *rs, vs_coll *k, json_object *body,
                        search_req *s) {
  json_object *filter = NULL, *params = NULL, *threshold = NULL, *with_payload = NULL;
  s->limit = 10;
  if (vs_get_uint(rq, rs, body, "limit", VEXFS_MAX_K, &s->limit) != 0 ||
      vs_get_uint(rq, rs, body, "offset", VEXFS_MAX_K, &s->offset) != 0 ||
      vs_get_bool(rq, rs, body, "with_vector", &s->with_vector) != 0 ||
      vs_get_object(rq, rs, body, "filter", 0, &filter) != 0 ||
      vs_get_object(rq, rs, body, "params", 0, &params) != 0)
    return -1;
  if (json_object_object_get_ex(body, "with_payload", &with_payload) &&
      !json_object_is_type(with_payload, json_type_null)) {
    if (vs_payload_selector_ok(rq, rs, with_payload) != 0) return -1;
    s->with_payload = with_payload;
  }
  if (json_object_object_get_ex(body, "score_threshold", &threshold) &&
      !json_object_is_type(threshold, json_type_null)) {
    if (!json_object_is_type(threshold, json_type_double) &&
        !json_object_is_type(threshold, json_type_int)) {
      vs_fail(rq, rs, 400, "Bad request: `score_threshold` must be a number");
      return -1;
    }
    s->has_threshold = 1;
    s->threshold = json_object_get_double(threshold);
  }
  if (params && (vs_get_uint(rq, rs, params, "hnsw_ef", VEXFS_MAX_K, &s->ef) != 0 ||
                 vs_get_bool(rq, rs, params, "exact", &s->exact) != 0))
    return -1;
  if (s->limit + s->offset > VEXFS_MAX_K - 1) {
    vs_fail(rq, rs, 400, "Bad request: `limit` + `offset` must be below %u", VEXFS_MAX_K);
    return -1;
  }
  if (filter && !(s->filter = vs_filter_translate(rq, rs, k, filter, "filter"))) return -1;
  return 0;
}

static int read_search(vs_request *rq, vs_response *rs, vs_coll *k, json_object *body,
                       search_req *s, int query_form) {
  *s = (search_req){.exclude = UINT64_MAX};
  if (!json_object_is_type(body, json_type_object)) {
    vs_fail(rq, rs, 400, "Bad request: each search must be an object");
    return -1;
  }
  if (query_form) return read_query(rq, rs, k, body, s) == 0 ? read_options(rq, rs, k, body, s) : -1;
  json_object *v = NULL;
  if (!json_object_object_get_ex(body, "vector", &v)) {
    vs_fail(rq, rs, 400, "Bad request: missing field `vector`");
    return -1;
  }
  if (json_object_is_type(v, json_type_object)) { /* {"name": ..., "vector": [...]} */
    json_object *name = NULL, *inner = NULL;
    if ((json_object_object_get_ex(v, "name", &name) && json_object_get_string_len(name) > 0) ||
        !json_object_object_get_ex(v, "vector", &inner)) {
      vs_fail(rq, rs, 400, "Bad request: named vectors are not supported by vexfs-server");
      return -1;
    }
    v = inner;
  }
  if (!vs_is_vector(rq, v)) {
    vs_fail(rq, rs, 400, "Bad request: `vector` must be a list of %u numbers", k->dim);
    return -1;
  }
  return read_target(rq, rs, k, v, s) == 0 ? read_options(rq, rs, k, body, s) : -1;
}

static double score_of(vexfs_metric m, float distance) {
  if (m == VEXFS_METRIC_L2) return sqrt(distance > 0 ? (double)distance : 0.0);
  return 1.0 - (double)distance; /* cosine similarity, dot product */
}

/* Runs one search and appends its scored points, a list; -1 after vs_fail. */
static int run_search(vs_request *rq, vs_response *rs, vs_coll *k, search_req *s, vs_text *out) {
  size_t stored = vexfs_count(k->points);
  size_t want = (size_t)(s->limit + s->offset) + (s->exclude != UINT64_MAX);
  if (want > stored) want = stored; /* there are no more hits: a huge limit allocates nothing */
  vs_text_put(out, "[", 1);
  if (s->limit == 0 || want == 0) {
    vs_text_put(out, "]", 1);
    return 0;
  }
  uint64_t *ids = malloc(want * sizeof *ids);
  float *dist = malloc(want * sizeof *dist);
  char **payloads = s->with_payload ? calloc(want, sizeof *payloads) : NULL;
  size_t count = 0;
  vexfs_search_params p;
  vexfs_search_params_init(&p);
  p.filter_json = s->filter;
  p.threads = 1; /* requests run in parallel already */
  p.ef = (uint32_t)s->ef;
  /* as in Qdrant, whose segments stay unindexed (searched exactly) below its indexing threshold */
  p.exact = s->exact || (double)stored * k->dim * sizeof(float) < VS_EXACT_BELOW_KB * 1024.0;
  int allocated = ids && dist && (!s->with_payload || payloads);
  vexfs_status st = !allocated ? VEXFS_E_NOMEM
                    : payloads ? vexfs_search_with_payload(k->points, s->vector, 1, want, &p, ids,
                                                           dist, &count, payloads)
                               : vexfs_search(k->points, s->vector, 1, want, &p, ids, dist, &count);
  if (st != VEXFS_OK) {
    if (allocated) vs_fail_lib(rq, rs, st);
    else vs_fail(rq, rs, 503, "Service unavailable: out of memory for %zu hits", want);
    count = 0;
  }
  size_t skipped = 0, written = 0;
  for (size_t i = 0; i < count; i++) {
    char *text = payloads ? payloads[i] : NULL;
    if (payloads) payloads[i] = NULL;
    double score = score_of(k->metric, dist[i]);
    int below = s->has_threshold &&
                (k->metric == VEXFS_METRIC_L2 ? score > s->threshold : score < s->threshold);
    if (ids[i] == s->exclude || below || skipped++ < s->offset || written >= s->limit) {
      vexfs_free(text);
      continue;
    }
    float shown = (float)score;
    size_t mark = out->len;
    if (written) vs_text_put(out, ",", 1);
    if (vs_point_write(out, k, ids[i], s->with_payload, s->with_vector, text, 1, &shown) == 0)
      written++;
    else if (!out->failed) /* the point went meanwhile: its comma goes too */
      out->p[out->len = mark] = 0;
  }
  for (size_t i = 0; payloads && i < want; i++) vexfs_free(payloads[i]);
  free(ids), free(dist), free(payloads);
  vs_text_put(out, "]", 1);
  return st == VEXFS_OK ? 0 : -1;
}

/* One search of a request's body, or each of its `searches`; query_form selects /query. */
static void searches(vs_request *rq, vs_response *rs, char **args, int query_form, int batch) {
  json_object *body = vs_body(rq, rs), *list = NULL;
  if (!body) return;
  if (batch && (!json_object_object_get_ex(body, "searches", &list) ||
                !json_object_is_type(list, json_type_array))) {
    vs_fail(rq, rs, 400, "Bad request: `searches` must be a list");
    return;
  }
  vs_coll *k = vs_request_collection(rq, rs, args[0]);
  if (!k) return;
  size_t n = batch ? json_object_array_length(list) : 1;
  vs_text out = {0};
  int ok = 1;
  if (batch) vs_text_put(&out, "[", 1);
  for (size_t i = 0; ok && i < n; i++) {
    search_req s;
    if (i) vs_text_put(&out, ",", 1);
    if (query_form) vs_text_puts(&out, "{\"points\":");
    ok = read_search(rq, rs, k, batch ? json_object_array_get_idx(list, i) : body, &s,
                     query_form) == 0 &&
         run_search(rq, rs, k, &s, &out) == 0;
    search_free(&s);
    if (query_form) vs_text_put(&out, "}", 1);
  }
  if (batch) vs_text_put(&out, "]", 1);
  vs_catalog_put(&rq->srv->catalog, k);
  if (ok) vs_ok_text(rq, rs, &out);
  else vs_text_free(&out); /* rs holds the failure */
}

void vs_points_search(vs_request *rq, vs_response *rs, char **args) {
  searches(rq, rs, args, 0, 0);
}

void vs_points_search_batch(vs_request *rq, vs_response *rs, char **args) {
  searches(rq, rs, args, 0, 1);
}

void vs_points_query(vs_request *rq, vs_response *rs, char **args) { searches(rq, rs, args, 1, 0); }

void vs_points_query_batch(vs_request *rq, vs_response *rs, char **args) {
  searches(rq, rs, args, 1, 1);
}

int vs_search_is_light(json_object *body) {
  json_object *v, *params;
  if (!json_object_is_type(body, json_type_object)) return 1; /* answered at once with a 400 */
  if (json_object_object_get_ex(body, "filter", &v) && !json_object_is_type(v, json_type_null))
    return 0;
  if (json_object_object_get_ex(body, "params", &params) &&
      json_object_object_get_ex(params, "exact", &v) && json_object_get_boolean(v))
    return 0;
  int64_t hits = 10;
  if (json_object_object_get_ex(body, "limit", &v)) hits = json_object_get_int64(v);
  if (json_object_object_get_ex(body, "offset", &v)) hits += json_object_get_int64(v);
  return hits <= 256;
}

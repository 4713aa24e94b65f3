/* Qdrant's service and collection routes: the root and health checks, collections (create, info,
 * list, exists, delete) and payload field indexes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qdrant.h"

vs_coll *vs_request_collection(vs_request *rq, vs_response *rs, const char *name) {
  vs_coll *k = vs_catalog_acquire(&rq->srv->catalog, name);
  if (!k) vs_fail(rq, rs, 404, "Not found: Collection `%s` doesn't exist!", name);
  return k;
}

void vs_root(vs_request *rq, vs_response *rs, char **args) {
  (void)rq, (void)args;
  json_object *o = json_object_new_object(); /* not enveloped, as Qdrant's */
  json_object_object_add(o, "title", json_object_new_string("vexfs-server - vector search engine"));
  json_object_object_add(o, "version", json_object_new_string(VS_API_VERSION));
  json_object_object_add(o, "vexfs_version", json_object_new_string(vexfs_version_string()));
  json_object_object_add(o, "simd", json_object_new_string(vexfs_simd_isa()));
  rs->text = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
  rs->status = 200;
  json_object_put(o);
}

void vs_health(vs_request *rq, vs_response *rs, char **args) {
  (void)args;
  rs->status = 200;
  rs->content_type = "text/plain";
  rs->text = strdup(strcmp(rq->path, "/healthz") == 0   ? "healthz check passed"
                    : strcmp(rq->path, "/livez") == 0 ? "livez check passed"
                                                      : "all shards are ready");
}

static const char *distance_name(vexfs_metric m) {
  return m == VEXFS_METRIC_COSINE ? "Cosine" : m == VEXFS_METRIC_IP ? "Dot" : "Euclid";
}

void vs_collections_list(vs_request *rq, vs_response *rs, char **args) {
  (void)args;
  json_object *r = json_object_new_object();
  json_object_object_add(r, "collections", vs_catalog_list(&rq->srv->catalog));
  vs_ok(rq, rs, r);
}

/* Reads {"size", "distance"} (and Qdrant's per-vector hnsw_config) into cfg; -1 after 400. */
static int read_vectors(vs_request *rq, vs_response *rs, json_object *vectors,
                        vexfs_collection_config *cfg) {
  json_object *size, *distance;
  if (!json_object_object_get_ex(vectors, "size", &size)) {
    vs_fail(rq, rs, 400, "Bad request: `vectors` needs `size` and `distance` (named vectors "
                         "are not supported by vexfs-server)");
    return -1;
  }
  uint64_t dim = 0;
  if (vs_get_uint(rq, rs, vectors, "size", VEXFS_MAX_DIM, &dim) != 0) return -1;
  if (dim == 0) {
    vs_fail(rq, rs, 400, "Bad request: `vectors.size` must be 1 to %u", VEXFS_MAX_DIM);
    return -1;
  }
  cfg->dim = (uint32_t)dim;
  const char *d = json_object_object_get_ex(vectors, "distance", &distance)
                      ? json_object_get_string(distance)
                      : NULL;
  if (d && strcmp(d, "Cosine") == 0) cfg->metric = VEXFS_METRIC_COSINE;
  else if (d && strcmp(d, "Euclid") == 0) cfg->metric = VEXFS_METRIC_L2;
  else if (d && strcmp(d, "Dot") == 0) cfg->metric = VEXFS_METRIC_IP;
  else {
    vs_fail(rq, rs, 400, "Bad request: `vectors.distance` must be Cosine, Euclid or Dot, not %s",
            d ? d : "missing");
    return -1;
  }
  return 0;
}

static int read_hnsw(vs_request *rq, vs_response *rs, json_object *hnsw,
                     vexfs_collection_config *cfg) {
  uint64_t m = cfg->hnsw_m, ef = cfg->hnsw_ef_construction;
  if (vs_get_uint(rq, rs, hnsw, "m", 128, &m) != 0 ||
      vs_get_uint(rq, rs, hnsw, "ef_construct", 4096, &ef) != 0)
    return -1;
  if (ef == 0) {
    vs_fail(rq, rs, 400, "Bad request: `hnsw_config.ef_construct` must be at least 1");
    return -1;
  }
  cfg->index = m == 0 ? VEXFS_INDEX_FLAT : VEXFS_INDEX_HNSW; /* Qdrant: m = 0, no graph */
  cfg->hnsw_m = m == 0 ? 16 : (uint32_t)m;
  cfg->hnsw_ef_construction = (uint32_t)ef;
  cfg->hnsw_ef_search = (uint32_t)(ef > 64 ? ef : 64); /* Qdrant searches with ef_construct */
  return 0;
}

void vs_collection_create(vs_request *rq, vs_response *rs, char **args) {
  const char *name = args[0];
  json_object *body = vs_body(rq, rs), *vectors = NULL, *hnsw = NULL, *inner = NULL;
  if (!body) return;
  if (!vs_catalog_name_ok(name)) {
    vs_fail(rq, rs, 400, "Bad request: collection name `%s` must be 1 to 120 letters, digits, "
                         "'_', '-' or '.', not starting with '.' or \"__vexfs.\"", name);
    return;
  }
  vexfs_collection_config cfg;
  vexfs_collection_config_init(&cfg);
  cfg.index = VEXFS_INDEX_HNSW;
  cfg.hnsw_m = 16;
  cfg.hnsw_ef_construction = 100;
  cfg.hnsw_ef_search = 100;
  if (vs_get_object(rq, rs, body, "vectors", 1, &vectors) != 0 ||
      read_vectors(rq, rs, vectors, &cfg) != 0 ||
      vs_get_object(rq, rs, body, "hnsw_config", 0, &hnsw) != 0 ||
      (hnsw && read_hnsw(rq, rs, hnsw, &cfg) != 0) ||
      vs_get_object(rq, rs, vectors, "hnsw_config", 0, &inner) != 0 ||
      (inner && read_hnsw(rq, rs, inner, &cfg) != 0))
    return;
  vexfs_status st = vs_catalog_create(&rq->srv->catalog, name, &cfg);
  if (st == VEXFS_E_EXISTS)
    vs_fail(rq, rs, 409, "Wrong input: Collection `%s` already exists!", name);
  else if (st != VEXFS_OK)
    vs_fail_lib(rq, rs, st);
  else
    vs_ok(rq, rs, json_object_new_boolean(1));
}

void vs_collection_delete(vs_request *rq, vs_response *rs, char **args) {
  vexfs_status st = vs_catalog_drop(&rq->srv->catalog, args[0]);
  if (st == VEXFS_E_NOT_FOUND)
    vs_fail(rq, rs, 404, "Not found: Collection `%s` doesn't exist!", args[0]);
  else if (st != VEXFS_OK)
    vs_fail_lib(rq, rs, st);
  else
    vs_ok(rq, rs, json_object_new_boolean(1));
}

void vs_collection_exists(vs_request *rq, vs_response *rs, char **args) {
  vs_coll *k = vs_catalog_acquire(&rq->srv->catalog, args[0]);
  int exists = k != NULL;
  if (k) vs_catalog_put(&rq->srv->catalog, k);
  json_object *r = json_object_new_object();
  json_object_object_add(r, "exists", json_object_new_boolean(exists));
  vs_ok(rq, rs, r);
}

/* How many points have a value at `field`. */
static size_t points_with(vs_coll *k, const char *field) {
  json_object *f = json_object_new_object(), *not = json_object_new_array(),
              *cond = json_object_new_object(), *key = json_object_new_object();
  json_object_object_add(key, "key", json_object_new_string(field));
  json_object_object_add(cond, "is_empty", key);
  json_object_array_add(not, cond);
  json_object_object_add(f, "must_not", not);
  uint64_t *ids = NULL;
  size_t n = 0;
  vexfs_list_ids_filtered(k->points, json_object_to_json_string(f), &ids, &n);
  vexfs_free(ids);
  json_object_put(f);
  return n;
}

void vs_collection_get(vs_request *rq, vs_response *rs, char **args) {
  vs_coll *k = vs_request_collection(rq, rs, args[0]);
  if (!k) return;
  vexfs_collection_config cfg;
  vexfs_collection_config_init(&cfg);
  vexfs_collection_get_config(k->points, &cfg);
  size_t count = vexfs_count(k->points);
  json_object *r = json_object_new_object(), *config = json_object_new_object(),
              *params = json_object_new_object(), *vectors = json_object_new_object(),
              *hnsw = json_object_new_object(), *schema_out = json_object_new_object();
  json_object_object_add(r, "status", json_object_new_string("green"));
  json_object_object_add(r, "optimizer_status", json_object_new_string("ok"));
  json_object_object_add(r, "indexed_vectors_count", json_object_new_uint64(count));
  json_object_object_add(r, "points_count", json_object_new_uint64(count));
  json_object_object_add(r, "segments_count", json_object_new_int(1));
  json_object_object_add(vectors, "size", json_object_new_int((int)cfg.dim));
  json_object_object_add(vectors, "distance", json_object_new_string(distance_name(cfg.metric)));
  json_object_object_add(params, "vectors", vectors);
  json_object_object_add(params, "shard_number", json_object_new_int(1));
  json_object_object_add(params, "replication_factor", json_object_new_int(1));
  json_object_object_add(params, "write_consistency_factor", json_object_new_int(1));
  json_object_object_add(params, "on_disk_payload", json_object_new_boolean(0));
  json_object_object_add(config, "params", params);
  json_object_object_add(hnsw, "m", json_object_new_int(cfg.index == VEXFS_INDEX_HNSW ? (int)cfg.hnsw_m : 0));
  json_object_object_add(hnsw, "ef_construct", json_object_new_int((int)cfg.hnsw_ef_construction));
  json_object_object_add(hnsw, "full_scan_threshold", json_object_new_int(10000));
  json_object_object_add(hnsw, "on_disk", json_object_new_boolean(0));
  json_object_object_add(config, "hnsw_config", hnsw);
  json_object_object_add(config, "vexfs_index", json_object_new_string(vexfs_index_in_use(k->points)));
  json_object_object_add(r, "config", config);
  json_object *schema = vs_coll_schema(k);
  if (schema) {
    json_object_object_foreach(schema, field, type) {
      json_object *entry = json_object_new_object();
      json_object_object_add(entry, "data_type", json_object_get(type));
      json_object_object_add(entry, "points", json_object_new_uint64(points_with(k, field)));
      json_object_object_add(schema_out, field, entry);
    }
    json_object_put(schema);
  }
  json_object_object_add(r, "payload_schema", schema_out);
  vs_catalog_put(&rq->srv->catalog, k);
  vs_ok(rq, rs, r);
}

/* The library's indexes that serve a Qdrant field type; 0 when there are none. */
static int kinds_of(const char *type, vexfs_payload_index_kind kinds[2]) {
  if (strcmp(type, "keyword") == 0 || strcmp(type, "bool") == 0 || strcmp(type, "uuid") == 0) {
    kinds[0] = VEXFS_PAYLOAD_INDEX_KEYWORD;
    return 1;
  }
  if (strcmp(type, "float") == 0) {
    kinds[0] = VEXFS_PAYLOAD_INDEX_NUMERIC;
    return 1;
  }
  if (strcmp(type, "integer") == 0) { /* match and range */
    kinds[0] = VEXFS_PAYLOAD_INDEX_KEYWORD;
    kinds[1] = VEXFS_PAYLOAD_INDEX_NUMERIC;
    return 2;
  }
  return 0;
}

/* Makes the library's indexes over field exactly `kinds` (none: drops both kinds). */
static vexfs_status set_field_indexes(vs_coll *k, const char *field,
                                      const vexfs_payload_index_kind *kinds, int nkinds) {
  static const vexfs_payload_index_kind all[] = {VEXFS_PAYLOAD_INDEX_KEYWORD,
                                                 VEXFS_PAYLOAD_INDEX_NUMERIC};
  vexfs_status st = VEXFS_OK;
  for (int a = 0; a < 2 && st == VEXFS_OK; a++) {
    int wanted = 0;
    for (int i = 0; i < nkinds; i++) wanted |= kinds[i] == all[a];
    st = wanted ? vexfs_create_payload_index(k->points, field, all[a])
                : vexfs_drop_payload_index(k->points, field, all[a]);
    if (st == (wanted ? VEXFS_E_EXISTS : VEXFS_E_NOT_FOUND)) st = VEXFS_OK;
  }
  return st;
}

void vs_index_create(vs_request *rq, vs_response *rs, char **args) {
  json_object *body = vs_body(rq, rs), *field = NULL, *schema_v = NULL;
  if (!body) return;
  if (!json_object_object_get_ex(body, "field_name", &field) ||
      !json_object_is_type(field, json_type_string)) {
    vs_fail(rq, rs, 400, "Bad request: `field_name` must be a string");
    return;
  }
  const char *type = NULL;
  if (json_object_object_get_ex(body, "field_schema", &schema_v)) {
    json_object *t = schema_v;
    if (json_object_is_type(schema_v, json_type_object)) json_object_object_get_ex(schema_v, "type", &t);
    if (json_object_is_type(t, json_type_string)) type = json_object_get_string(t);
  }
  vexfs_payload_index_kind kinds[2];
  int nkinds = type ? kinds_of(type, kinds) : 0;
  if (nkinds == 0) {
    vs_fail(rq, rs, 400, "Bad request: `field_schema` %s is not supported by vexfs-server "
                         "(keyword, integer, float, bool and uuid are)", type ? type : "(missing)");
    return;
  }
  vs_coll *k = vs_request_collection(rq, rs, args[0]);
  if (!k) return;
  const char *name = json_object_get_string(field);
  pthread_mutex_lock(&k->write);
  vexfs_status st = set_field_indexes(k, name, kinds, nkinds);
  json_object *schema = st == VEXFS_OK ? vs_coll_schema(k) : NULL;
  if (st == VEXFS_OK && !schema) st = VEXFS_E_NOMEM;
  if (st == VEXFS_OK) {
    json_object_object_add(schema, name, json_object_new_string(type));
    st = vs_coll_set_schema(k, schema);
  }
  pthread_mutex_unlock(&k->write);
  vs_catalog_put(&rq->srv->catalog, k);
  if (st != VEXFS_OK) vs_fail_lib(rq, rs, st);
  else vs_ok_operation(rq, rs);
}

void vs_index_delete(vs_request *rq, vs_response *rs, char **args) {
  vs_coll *k = vs_request_collection(rq, rs, args[0]);
  if (!k) return;
  pthread_mutex_lock(&k->write);
  json_object *schema = vs_coll_schema(k);
  vexfs_status st = schema ? VEXFS_OK : VEXFS_E_NOMEM;
  if (schema && json_object_object_get_ex(schema, args[1], NULL)) {
    st = set_field_indexes(k, args[1], NULL, 0);
    json_object_object_del(schema, args[1]);
    if (st == VEXFS_OK) st = vs_coll_set_schema(k, schema);
    else json_object_put(schema);
  } else {
    json_object_put(schema);
  }
  pthread_mutex_unlock(&k->write);
  vs_catalog_put(&rq->srv->catalog, k);
  if (st != VEXFS_OK) vs_fail_lib(rq, rs, st);
  else vs_ok_operation(rq, rs);
}

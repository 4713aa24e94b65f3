/* Chroma's system routes (heartbeat, version, pre-flight checks, identity, the default tenant and
 * database) and its collection routes. Collections take their space (l2, cosine, ip) and HNSW
 * parameters from `configuration.hnsw` (or `configuration.spann`'s space), else from the older
 * metadata keys hnsw:space, hnsw:M, hnsw:construction_ef and hnsw:search_ef, with Chroma's
 * defaults (l2, M 16, ef 100 both); a key the configuration gives wins over the metadata's.
 * Records are always indexed with HNSW. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chroma.h"

#define DEFAULT_M 16
#define DEFAULT_EF 100
#define MAX_LIST 1000000u

static void answer(vs_request *rq, vs_response *rs, vs_text *body) {
  vs_ok_body(rq, rs, body, NULL);
}

void vs_chroma_heartbeat(vs_request *rq, vs_response *rs, char **args) {
  (void)args;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  vs_text t = {0};
  vs_text_puts(&t, "{\"nanosecond heartbeat\":");
  vs_text_u64(&t, (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
  vs_text_put(&t, "}", 1);
  answer(rq, rs, &t);
}

void vs_chroma_healthcheck(vs_request *rq, vs_response *rs, char **args) {
  (void)args;
  vs_chroma_answer(rq, rs, "{\"is_executor_ready\":true,\"is_log_client_ready\":true}", 200);
}

void vs_chroma_version(vs_request *rq, vs_response *rs, char **args) {
  (void)args;
  vs_chroma_answer(rq, rs, "\"" VS_CHROMA_VERSION "\"", 200);
}

void vs_chroma_preflight(vs_request *rq, vs_response *rs, char **args) {
  (void)args;
  char text[96];
  snprintf(text, sizeof text, "{\"max_batch_size\":%u,\"supports_base64_encoding\":true}",
           VS_CHROMA_MAX_BATCH);
  vs_chroma_answer(rq, rs, text, 200);
}

void vs_chroma_identity(vs_request *rq, vs_response *rs, char **args) {
  (void)args;
  vs_chroma_answer(rq, rs, "{\"user_id\":\"\",\"tenant\":\"" VS_CHROMA_TENANT
                           "\",\"databases\":[\"" VS_CHROMA_DATABASE "\"]}", 200);
}

void vs_chroma_tenant_get(vs_request *rq, vs_response *rs, char **args) {
  char *scope[2] = {args[0], VS_CHROMA_DATABASE};
  if (vs_chroma_check_scope(rq, rs, scope) == 0)
    vs_chroma_answer(rq, rs, "{\"name\":\"" VS_CHROMA_TENANT "\"}", 200);
}

#define DATABASE_JSON "{\"id\":\"00000000-0000-0000-0000-000000000000\",\"name\":\"" \
  VS_CHROMA_DATABASE "\",\"tenant\":\"" VS_CHROMA_TENANT "\"}"

void vs_chroma_databases_list(vs_request *rq, vs_response *rs, char **args) {
  char *scope[2] = {args[0], VS_CHROMA_DATABASE};
  if (vs_chroma_check_scope(rq, rs, scope) == 0) vs_chroma_answer(rq, rs, "[" DATABASE_JSON "]", 200);
}

void vs_chroma_database_get(vs_request *rq, vs_response *rs, char **args) {
  if (vs_chroma_check_scope(rq, rs, args) == 0) vs_chroma_answer(rq, rs, DATABASE_JSON, 200);
}

/* The dimension of a collection's records: 0 before its first add. */
static uint32_t dimension(vs_server *srv, const vs_chroma_info *info) {
  vexfs_status st;
  vs_coll *k = vs_chroma_points(srv, info, 0, &st);
  uint32_t dim = k ? k->dim : 0;
  if (k) vs_catalog_put(&srv->catalog, k);
  return dim;
}

static void answer_collection(vs_request *rq, vs_response *rs, const vs_chroma_info *info) {
  vs_text t = {0};
  vs_chroma_write_collection(&t, info, dimension(rq->srv, info));
  answer(rq, rs, &t);
}

/* A query argument that is a count (absent: dflt); -1 after a 400. */
static int query_count(vs_request *rq, vs_response *rs, const char *key, size_t dflt, size_t *out) {
  const char *v = vs_query_arg(rq, key);
  *out = dflt;
  if (!v) return 0;
  char *end = NULL;
  unsigned long long n = strtoull(v, &end, 10);
  if (!*v || *end || v[0] == '-' || n > MAX_LIST) {
    vs_fail(rq, rs, 400, "`%s` must be an integer from 0 to %u", key, MAX_LIST);
    return -1;
  }
  *out = (size_t)n;
  return 0;
}

void vs_chroma_collections_list(vs_request *rq, vs_response *rs, char **args) {
  size_t limit, offset, n = 0;
  if (vs_chroma_check_scope(rq, rs, args) != 0 || query_count(rq, rs, "limit", MAX_LIST, &limit) ||
      query_count(rq, rs, "offset", 0, &offset))
    return;
  vs_chroma_info *infos = vs_chroma_list(rq->srv, offset, limit, &n);
  if (!infos) {
    vs_fail(rq, rs, 503, "out of memory");
    return;
  }
  vs_text t = {0};
  vs_text_put(&t, "[", 1);
  for (size_t i = 0; i < n; i++) {
    if (i) vs_text_put(&t, ",", 1);
    vs_chroma_write_collection(&t, &infos[i], dimension(rq->srv, &infos[i]));
  }
  vs_text_put(&t, "]", 1);
  vs_chroma_infos_free(infos, n);
  answer(rq, rs, &t);
}

void vs_chroma_collections_count(vs_request *rq, vs_response *rs, char **args) {
  if (vs_chroma_check_scope(rq, rs, args) != 0) return;
  vs_text t = {0};
  vs_text_u64(&t, vs_chroma_count(rq->srv));
  answer(rq, rs, &t);
}

/* Chroma's rule for names: 3 to 512 of [a-zA-Z0-9._-], starting and ending with a letter or
 * digit, no "..", and not an IPv4 address. */
static int name_ok(const char *s) {
  size_t n = strlen(s);
  if (n < 3 || n > 512 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1]) ||
      strstr(s, ".."))
    return 0;
  for (size_t i = 0; i < n; i++)
    if (!isalnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '_' && s[i] != '-') return 0;
  struct in_addr a;
  return inet_pton(AF_INET, s, &a) != 1;
}

static int read_name(vs_request *rq, vs_response *rs, json_object *v, const char **out) {
  if (!json_object_is_type(v, json_type_string) || !name_ok(json_object_get_string(v))) {
    vs_fail(rq, rs, 400, "Validation error: collection names are 3 to 512 characters of letters, "
                         "digits, '.', '_' and '-', start and end with a letter or digit, hold no "
                         "\"..\" and are not IPv4 addresses");
    return -1;
  }
  *out = json_object_get_string(v);
  return 0;
}

/* Collection metadata: an object of strings, numbers and booleans (null: none). */
static int read_metadata(vs_request *rq, vs_response *rs, json_object *v, json_object **out) {
  *out = NULL;
  if (!v || json_object_is_type(v, json_type_null)) return 0;
  int ok = json_object_is_type(v, json_type_object);
  if (ok) {
    json_object_object_foreach(v, key, value) {
      (void)key;
      if (!vs_chroma_scalar_type(value)) ok = 0;
    }
  }
  if (!ok) {
    vs_fail(rq, rs, 400, "`metadata` must be an object of strings, numbers and booleans");
    return -1;
  }
  *out = v;
  return 0;
}

static int read_space(vs_request *rq, vs_response *rs, json_object *v, vexfs_metric *out) {
  const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
  if (strcmp(s, "l2") == 0) *out = VEXFS_METRIC_L2;
  else if (strcmp(s, "cosine") == 0) *out = VEXFS_METRIC_COSINE;
  else if (strcmp(s, "ip") == 0) *out = VEXFS_METRIC_IP;
  else {
    vs_fail(rq, rs, 400, "the space must be \"l2\", \"cosine\" or \"ip\"");
    return -1;
  }
  return 0;
}

/* An HNSW parameter of o under key (a configuration key or a metadata one), kept when absent. */
static int read_param(vs_request *rq, vs_response *rs, json_object *o, const char *key,
                      uint32_t lo, uint32_t hi, uint32_t *out) {
  json_object *v = NULL;
  if (!o || !json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
    return 0;
  int64_t n = json_object_get_int64(v);
  if (!json_object_is_type(v, json_type_int) || n < lo || n > hi) {
    vs_fail(rq, rs, 400, "`%s` must be an integer from %u to %u", key, lo, hi);
    return -1;
  }
  *out = (uint32_t)n;
  return 0;
}

/* The space and HNSW parameters of a create, into info; its configuration_json, made. */
static int read_configuration(vs_request *rq, vs_response *rs, json_object *cfg,
                              json_object *metadata, vs_chroma_info *info) {
  info->metric = VEXFS_METRIC_L2;
  info->m = DEFAULT_M;
  info->ef_construction = info->ef_search = DEFAULT_EF;
  json_object *hnsw = NULL, *spann = NULL, *space = NULL, *ef = NULL;
  if (cfg && !json_object_is_type(cfg, json_type_null) && !json_object_is_type(cfg, json_type_object)) {
    vs_fail(rq, rs, 400, "`configuration` must be an object");
    return -1;
  }
  if (cfg && json_object_is_type(cfg, json_type_object)) {
    json_object_object_get_ex(cfg, "hnsw", &hnsw);
    json_object_object_get_ex(cfg, "spann", &spann);
    json_object_object_get_ex(cfg, "embedding_function", &ef);
  }
  json_object *given = hnsw && json_object_is_type(hnsw, json_type_object) ? hnsw
                       : spann && json_object_is_type(spann, json_type_object) ? spann : NULL;
  /* the configuration's where it says, else the metadata's */
  if (metadata && (read_param(rq, rs, metadata, "hnsw:M", 2, 2048, &info->m) ||
                   read_param(rq, rs, metadata, "hnsw:construction_ef", 1, VEXFS_MAX_K, &info->ef_construction) ||
                   read_param(rq, rs, metadata, "hnsw:search_ef", 1, VEXFS_MAX_K, &info->ef_search)))
    return -1;
  if (given && json_object_object_get_ex(given, "space", &space) && !json_object_is_type(space, json_type_null)) {
    if (read_space(rq, rs, space, &info->metric) != 0) return -1;
  } else if (metadata && json_object_object_get_ex(metadata, "hnsw:space", &space) &&
             read_space(rq, rs, space, &info->metric) != 0) {
    return -1;
  }
  if (given == hnsw && hnsw &&
      (read_param(rq, rs, hnsw, "max_neighbors", 2, 2048, &info->m) ||
       read_param(rq, rs, hnsw, "ef_construction", 1, VEXFS_MAX_K, &info->ef_construction) ||
       read_param(rq, rs, hnsw, "ef_search", 1, VEXFS_MAX_K, &info->ef_search)))
    return -1;
  json_object *out = json_object_new_object(), *h = json_object_new_object();
  json_object_object_add(h, "space", json_object_new_string(
      info->metric == VEXFS_METRIC_COSINE ? "cosine" : info->metric == VEXFS_METRIC_IP ? "ip" : "l2"));
  json_object_object_add(h, "ef_construction", json_object_new_int64(info->ef_construction));
  json_object_object_add(h, "ef_search", json_object_new_int64(info->ef_search));
  json_object_object_add(h, "max_neighbors", json_object_new_int64(info->m));
  json_object_object_add(out, "hnsw", h);
  json_object_object_add(out, "spann", NULL);
  json_object_object_add(out, "embedding_function", ef ? json_object_get(ef) : NULL);
  info->configuration = out;
  return 0;
}

void vs_chroma_collection_create(vs_request *rq, vs_response *rs, char **args) {
  json_object *body = vs_body(rq, rs), *v = NULL, *metadata = NULL, *cfg = NULL;
  int get_or_create = 0;
  const char *name = NULL;
  if (!body || vs_chroma_check_scope(rq, rs, args) != 0) return;
  if (!json_object_object_get_ex(body, "name", &v)) {
    vs_fail(rq, rs, 400, "missing field `name`");
    return;
  }
  json_object_object_get_ex(body, "configuration", &cfg);
  json_object *given_metadata = NULL;
  json_object_object_get_ex(body, "metadata", &given_metadata);
  vs_chroma_info info = {0};
  if (read_name(rq, rs, v, &name) || read_metadata(rq, rs, given_metadata, &metadata) ||
      vs_get_bool(rq, rs, body, "get_or_create", &get_or_create) ||
      read_configuration(rq, rs, cfg, metadata, &info))
    return;
  info.name = strdup(name);
  info.metadata = metadata ? json_object_get(metadata) : NULL;
  vexfs_status st = info.name ? vs_chroma_create(rq->srv, &info) : VEXFS_E_NOMEM;
  if (st == VEXFS_E_EXISTS && !get_or_create)
    vs_fail(rq, rs, 409, "Collection [%s] already exists", name);
  else if (st != VEXFS_OK && st != VEXFS_E_EXISTS)
    vs_fail_lib(rq, rs, st);
  else
    answer_collection(rq, rs, &info);
  vs_chroma_info_free(&info);
}

/* The collection a path names by name (by_id 0) or id, after the scope check; -1 after a 404. */
static int collection_of(vs_request *rq, vs_response *rs, char **args, int by_id,
                         vs_chroma_info *info) {
  if (vs_chroma_check_scope(rq, rs, args) != 0) return -1;
  if (vs_chroma_find(rq->srv, args[2], by_id, info) == 0) return 0;
  vs_fail(rq, rs, 404, "Collection [%s] does not exist", args[2]);
  return -1;
}

void vs_chroma_collection_get(vs_request *rq, vs_response *rs, char **args) {
  vs_chroma_info info = {0};
  if (collection_of(rq, rs, args, 0, &info) != 0) return;
  answer_collection(rq, rs, &info);
  vs_chroma_info_free(&info);
}

void vs_chroma_collection_get_by_id(vs_request *rq, vs_response *rs, char **args) {
  vs_chroma_info info = {0};
  if (collection_of(rq, rs, args, 1, &info) != 0) return;
  answer_collection(rq, rs, &info);
  vs_chroma_info_free(&info);
}

/* PUT .../collections/{id}: new_name, new_metadata, new_configuration (hnsw.ef_search only: the
 * rest is fixed once records are indexed). */
void vs_chroma_collection_modify(vs_request *rq, vs_response *rs, char **args) {
  json_object *body = vs_body(rq, rs), *v = NULL, *metadata = NULL, *cfg = NULL, *hnsw = NULL;
  vs_chroma_info info = {0};
  if (!body || collection_of(rq, rs, args, 1, &info) != 0) return;
  const char *name = NULL;
  uint32_t ef_search = 0;
  int bad = json_object_object_get_ex(body, "new_name", &v) && !json_object_is_type(v, json_type_null) &&
            read_name(rq, rs, v, &name);
  json_object *given_metadata = NULL;
  json_object_object_get_ex(body, "new_metadata", &given_metadata);
  bad = bad || read_metadata(rq, rs, given_metadata, &metadata);
  json_object *space = NULL;
  vexfs_metric metric = info.metric;
  if (!bad && metadata && json_object_object_get_ex(metadata, "hnsw:space", &space) &&
      (read_space(rq, rs, space, &metric) != 0 || metric != info.metric)) {
    if (metric != info.metric)
      vs_fail(rq, rs, 400, "new_metadata: hnsw:space cannot be changed once a collection exists");
    bad = 1;
  }
  if (!bad && json_object_object_get_ex(body, "new_configuration", &cfg) &&
      !json_object_is_type(cfg, json_type_null) && !json_object_is_type(cfg, json_type_object)) {
    vs_fail(rq, rs, 400, "`new_configuration` must be an object");
    bad = 1;
  }
  if (!bad && cfg && json_object_is_type(cfg, json_type_object)) {
    json_object_object_foreach(cfg, key, value) {
      if (strcmp(key, "hnsw") == 0 && json_object_is_type(value, json_type_object)) hnsw = value;
      else if (strcmp(key, "embedding_function") != 0 && !json_object_is_type(value, json_type_null)) {
        vs_fail(rq, rs, 400, "new_configuration: `%s` cannot be changed by vexfs-server (only "
                             "hnsw.ef_search can)", key);
        bad = 1;
        break;
      }
    }
    if (!bad && hnsw) {
      json_object_object_foreach(hnsw, key, value) {
        (void)value;
        if (strcmp(key, "ef_search") != 0) {
          vs_fail(rq, rs, 400, "new_configuration.hnsw: `%s` cannot be changed once a collection "
                               "exists (only ef_search can)", key);
          bad = 1;
          break;
        }
      }
      bad = bad || read_param(rq, rs, hnsw, "ef_search", 1, VEXFS_MAX_K, &ef_search);
    }
  }
  if (!bad) {
    vexfs_status st = vs_chroma_modify(rq->srv, info.id, name, metadata, ef_search);
    if (st == VEXFS_E_EXISTS) vs_fail(rq, rs, 409, "Collection [%s] already exists", name);
    else if (st != VEXFS_OK) vs_fail_lib(rq, rs, st);
    else vs_chroma_answer(rq, rs, "{}", 200);
  }
  vs_chroma_info_free(&info);
}

void vs_chroma_collection_delete(vs_request *rq, vs_response *rs, char **args) {
  if (vs_chroma_check_scope(rq, rs, args) != 0) return;
  vexfs_status st = vs_chroma_delete(rq->srv, args[2]);
  if (st == VEXFS_E_NOT_FOUND) vs_fail(rq, rs, 404, "Collection [%s] does not exist", args[2]);
  else if (st != VEXFS_OK) vs_fail_lib(rq, rs, st);
  else vs_chroma_answer(rq, rs, "{}", 200);
}

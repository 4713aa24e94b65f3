/* Method + path -> handler. Patterns are '/'-separated segments where "{}" takes any one segment
 * as an argument (libmicrohttpd has percent-decoded the path already). */
#include <stdlib.h>
#include <string.h>

#include "chroma.h"
#include "api_v1.h"
#include "qdrant.h"

typedef struct route {
  const char *method, *pattern;
  vs_handler handler;
  vs_light_fn light; /* which requests the polling thread answers itself; NULL: none */
} route;

static int always(json_object *body) {
  (void)body;
  return 1;
}

static const route routes[] = {
    {"GET", "/", vs_root, always},
    {"GET", "/healthz", vs_health, always},
    {"GET", "/livez", vs_health, always},
    {"GET", "/readyz", vs_health, always},
    {"GET", "/metrics", vs_metrics, NULL},
    {"GET", "/collections", vs_collections_list, NULL},
    {"PUT", "/collections/{}", vs_collection_create, NULL},
    {"GET", "/collections/{}", vs_collection_get, NULL},
    {"DELETE", "/collections/{}", vs_collection_delete, NULL},
    {"GET", "/collections/{}/exists", vs_collection_exists, NULL},
    {"PUT", "/collections/{}/index", vs_index_create, NULL},
    {"DELETE", "/collections/{}/index/{}", vs_index_delete, NULL},
    {"PUT", "/collections/{}/points", vs_points_upsert, NULL},
    {"POST", "/collections/{}/points", vs_points_retrieve, NULL},
    {"GET", "/collections/{}/points/{}", vs_point_get, always},
    {"POST", "/collections/{}/points/delete", vs_points_delete, NULL},
    {"POST", "/collections/{}/points/count", vs_points_count, NULL},
    {"POST", "/collections/{}/points/scroll", vs_points_scroll, NULL},
    {"POST", "/collections/{}/points/search", vs_points_search, vs_search_is_light},
    {"POST", "/collections/{}/points/search/batch", vs_points_search_batch, NULL},
    {"POST", "/collections/{}/points/query", vs_points_query, vs_search_is_light},
    {"POST", "/collections/{}/points/query/batch", vs_points_query_batch, NULL},
    {"POST", "/collections/{}/points/payload", vs_payload_set, NULL},
    {"PUT", "/collections/{}/points/payload", vs_payload_overwrite, NULL},
    {"POST", "/collections/{}/points/payload/delete", vs_payload_delete, NULL},
    {"POST", "/collections/{}/points/payload/clear", vs_payload_clear, NULL},
#define CHROMA_DB "/api/v2/tenants/{}/databases/{}"
#define CHROMA_COLLECTION CHROMA_DB "/collections/{}"
    {"GET", "/api/v2/heartbeat", vs_chroma_heartbeat, always},
    {"GET", "/api/v2/healthcheck", vs_chroma_healthcheck, always},
    {"GET", "/api/v2/version", vs_chroma_version, always},
    {"GET", "/api/v2/pre-flight-checks", vs_chroma_preflight, always},
    {"GET", "/api/v2/auth/identity", vs_chroma_identity, always},
    {"GET", "/api/v2/tenants/{}", vs_chroma_tenant_get, always},
    {"GET", "/api/v2/tenants/{}/databases", vs_chroma_databases_list, always},
    {"GET", CHROMA_DB, vs_chroma_database_get, always},
    {"GET", CHROMA_DB "/collections", vs_chroma_collections_list, NULL},
    {"POST", CHROMA_DB "/collections", vs_chroma_collection_create, NULL},
    {"GET", CHROMA_DB "/collections_count", vs_chroma_collections_count, NULL},
    {"GET", CHROMA_DB "/collections/by-id/{}", vs_chroma_collection_get_by_id, NULL},
    {"GET", CHROMA_COLLECTION, vs_chroma_collection_get, NULL},
    {"PUT", CHROMA_COLLECTION, vs_chroma_collection_modify, NULL},
    {"DELETE", CHROMA_COLLECTION, vs_chroma_collection_delete, NULL},
    {"POST", CHROMA_COLLECTION "/add", vs_chroma_add, NULL},
    {"POST", CHROMA_COLLECTION "/upsert", vs_chroma_upsert, NULL},
    {"POST", CHROMA_COLLECTION "/update", vs_chroma_update, NULL},
    {"POST", CHROMA_COLLECTION "/get", vs_chroma_get, NULL},
    {"POST", CHROMA_COLLECTION "/delete", vs_chroma_delete_records, NULL},
    {"GET", CHROMA_COLLECTION "/count", vs_chroma_count_records, always},
    {"POST", CHROMA_COLLECTION "/query", vs_chroma_query, vs_chroma_query_is_light},
    {"POST", "/api/v1/collections", vs_v1_collection_create, NULL},
    {"GET", "/api/v1/collections", vs_v1_collections_list, NULL},
    {"GET", "/api/v1/collections/{}", vs_v1_collection_get, NULL},
    {"DELETE", "/api/v1/collections/{}", vs_v1_collection_delete, NULL},
    {"GET", "/api/v1/collections/{}/stats", vs_v1_collection_stats, NULL},
    {"GET", "/api/v1/stats", vs_v1_stats, NULL},
    {"POST", "/api/v1/collections/{}/vectors", vs_v1_vector_insert, NULL},
    {"POST", "/api/v1/collections/{}/vectors/batch", vs_v1_vectors_insert_batch, NULL},
    {"POST", "/api/v1/collections/{}/vectors/delete", vs_v1_vectors_delete, NULL},
    {"GET", "/api/v1/collections/{}/vectors/{}", vs_v1_vector_get, NULL},
    {"DELETE", "/api/v1/collections/{}/vectors/{}", vs_v1_vector_delete, NULL},
    {"POST", "/api/v1/collections/{}/search", vs_v1_search, NULL},
    {"GET", "/api/v1/performance/metrics/realtime", vs_v1_perf_realtime, NULL},
    {"GET", "/api/v1/performance/metrics/history", vs_v1_perf_history, NULL},
    {"GET", "/api/v1/performance/memory-pools/status", vs_v1_pools_status, NULL},
    {"GET", "/api/v1/performance/memory-pools/metrics", vs_v1_pools_metrics, NULL},
    {"GET", "/api/v1/performance/simd/capabilities", vs_v1_simd_capabilities, NULL},
    {"GET", "/api/v1/performance/simd/status", vs_v1_simd_status, NULL},
    {"POST", "/api/v1/performance/configure", vs_v1_perf_configure, NULL},
    {"POST", "/api/v1/performance/memory-pools/configure", vs_v1_not_applicable, NULL},
    {"POST", "/api/v1/performance/memory-pools/optimize", vs_v1_not_applicable, NULL},
    {"POST", "/api/v1/performance/simd/enable", vs_v1_not_applicable, NULL},
    {"POST", "/api/v1/performance/simd/benchmark", vs_v1_not_applicable, NULL},
    {"GET", "/api/v1/performance/stack/{}", vs_v1_not_applicable, NULL},
    {"POST", "/api/v1/performance/stack/{}", vs_v1_not_applicable, NULL},
    {"GET", "/api/v1/performance/bridge/{}", vs_v1_not_applicable, NULL},
    {"POST", "/api/v1/performance/bridge/{}", vs_v1_not_applicable, NULL},
};

/* Matches path against pattern, filling args; 1 on a match. */
static int match(const char *pattern, const char *path, char **args, int max_args, int *nargs) {
  *nargs = 0;
  const char *p = pattern, *s = path;
  for (;;) {
    if (*p == '/' && *s == '/') {
      p++, s++;
      continue;
    }
    if (!*p || !*s) return !*p && !*s;
    size_t plen = strcspn(p, "/"), slen = strcspn(s, "/");
    if (plen == 2 && p[0] == '{' && p[1] == '}') {
      if (slen == 0 || *nargs == max_args) return 0;
      if (!(args[*nargs] = strndup(s, slen))) return 0;
      (*nargs)++;
    } else if (plen != slen || memcmp(p, s, plen) != 0) {
      return 0;
    }
    p += plen, s += slen;
  }
}

int vs_route(const char *method, const char *path, vs_handler *out, vs_light_fn *light,
             char **args, int max_args, unsigned *status) {
  size_t plen = strlen(path);
  char trimmed[4096];
  if (plen > 1 && path[plen - 1] == '/' && plen < sizeof trimmed) { /* "/collections/" too */
    memcpy(trimmed, path, plen - 1);
    trimmed[plen - 1] = 0;
    path = trimmed;
  }
  *status = 404;
  for (size_t i = 0; i < sizeof routes / sizeof *routes; i++) {
    int n = 0;
    int hit = match(routes[i].pattern, path, args, max_args, &n);
    if (hit && strcmp(routes[i].method, method) == 0) {
      *out = routes[i].handler;
      *light = routes[i].light;
      return 1;
    }
    for (int j = 0; j < n; j++) free(args[j]), args[j] = NULL;
    if (hit) *status = 405;
  }
  return 0;
}

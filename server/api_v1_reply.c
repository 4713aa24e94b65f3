/* What /api/v1's handlers share: the error body, {"error": {"code": "API_005", "type":
 * "Resource not found", "message": "..."}} with the codes of the reference's "Error Codes"
 * (API_001 .. API_008), where Qdrant's routes have their envelope (reply.c); answers, plain JSON
 * objects; and the checks of request keys and choices. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_v1.h"

#define PREFIX "/api/v1"

typedef struct code {
  const char *code, *type;
} code;

static const code codes[] = {
    {"API_001", "Invalid request format"}, {"API_002", "Authentication failed"},
    {"API_003", "Authorization denied"},   {"API_004", "Rate limit exceeded"},
    {"API_005", "Resource not found"},     {"API_006", "Validation error"},
    {"API_007", "Internal server error"},  {"API_008", "Service unavailable"},
};

/* The code of an error that names none, by its HTTP status. A 400 of a helper shared with
 * Qdrant's routes says which kind it is in Qdrant's words: "Bad request: ..." for a request
 * not shaped as it must be (API_001), "Wrong input: ..." for a well-formed value that does not
 * fit, such as a vector of another dimension (API_006). */
static const char *code_of(unsigned status, const char *message) {
  switch (status) {
  case 400: return strncmp(message, "Wrong input", 11) == 0 ? "API_006" : "API_001";
  case 401: return "API_002";
  case 403: return "API_003";
  case 404: return "API_005";
  case 409: case 422: return "API_006";
  case 429: return "API_004";
  case 503: return "API_008";
  default: return status >= 500 ? "API_007" : "API_001"; /* 405, 413 */
  }
}

/* Library statuses: the one table of their codes (the HTTP status is vs_http_status's). */
static const struct {
  vexfs_status st;
  const char *code;
} lib_codes[] = {
    {VEXFS_E_INVALID, "API_006"},     {VEXFS_E_DIMENSION, "API_006"},
    {VEXFS_E_EXISTS, "API_006"},      {VEXFS_E_NOT_FOUND, "API_005"},
    {VEXFS_E_UNSUPPORTED, "API_001"}, {VEXFS_E_READONLY, "API_003"},
    {VEXFS_E_NOMEM, "API_008"},       {VEXFS_E_BUSY, "API_008"},
};

int vs_v1_request(const vs_request *rq) {
  size_t n = sizeof PREFIX - 1;
  return rq && rq->path && strncmp(rq->path, PREFIX, n) == 0 &&
         (rq->path[n] == 0 || rq->path[n] == '/');
}

void vs_v1_error(vs_request *rq, vs_response *rs, unsigned status, const char *code_name,
                 const char *message) {
  (void)rq;
  if (!code_name) code_name = code_of(status, message);
  const char *type = "";
  for (size_t i = 0; i < sizeof codes / sizeof *codes; i++)
    if (strcmp(codes[i].code, code_name) == 0) type = codes[i].type;
  json_object *err = json_object_new_object(), *body = json_object_new_object();
  json_object_object_add(err, "code", json_object_new_string(code_name));
  json_object_object_add(err, "type", json_object_new_string(type));
  json_object_object_add(err, "message", json_object_new_string(message));
  json_object_object_add(body, "error", err);
  vs_text t = {0};
  vs_text_json(&t, body);
  json_object_put(body);
  free(rs->text);
  rs->text = t.failed ? NULL : t.p;
  if (t.failed) vs_text_free(&t);
  rs->status = rs->text ? status : 500;
  rs->content_type = NULL;
}

void vs_v1_fail(vs_request *rq, vs_response *rs, unsigned status, const char *code_name,
                const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  vs_v1_error(rq, rs, status, code_name, msg);
}

void vs_v1_fail_lib(vs_request *rq, vs_response *rs, vexfs_status st) {
  const char *code_name = "API_007"; /* IO, CORRUPT, STATE */
  for (size_t i = 0; i < sizeof lib_codes / sizeof *lib_codes; i++)
    if (lib_codes[i].st == st) code_name = lib_codes[i].code;
  vs_v1_fail(rq, rs, vs_http_status(st), code_name, "%s: %s", vexfs_status_string(st),
             vexfs_last_error());
}

void vs_v1_ok(vs_request *rq, vs_response *rs, json_object *o) {
  vs_text t = {0};
  vs_text_json(&t, o);
  json_object_put(o);
  vs_ok_body(rq, rs, &t, NULL);
}

int vs_v1_known_keys(vs_request *rq, vs_response *rs, json_object *o, const char *const *known,
                     const char *where) {
  json_object_object_foreach(o, key, v) {
    (void)v;
    size_t i = 0;
    while (known[i] && strcmp(known[i], key) != 0) i++;
    if (!known[i]) {
      vs_v1_fail(rq, rs, 400, "API_001", "Bad request: %s: unknown key `%s`", where, key);
      return -1;
    }
  }
  return 0;
}

/* The keys the reference documents for performance_config and performance_options. */
static const char *const advisory_keys[] = {
    "optimization_level", "memory_pool_size", "enable_simd", "enable_stack_optimization",
    "enable_enhanced_bridge", "target_ops_per_sec", "use_memory_pools", "parallel_processing",
    "batch_processing", "priority", "low_latency_mode", "cache_results", "batch_size", NULL};

int vs_v1_advisory(vs_request *rq, vs_response *rs, json_object *o, const char *key) {
  json_object *options = NULL;
  if (vs_get_object(rq, rs, o, key, 0, &options) != 0) return -1;
  return options ? vs_v1_known_keys(rq, rs, options, advisory_keys, key) : 0;
}

int vs_v1_choice(vs_request *rq, vs_response *rs, json_object *o, const char *key,
                 const char *const *names, int *index) {
  json_object *v = NULL;
  if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null)) return 0;
  char list[256] = "";
  for (int i = 0; names[i]; i++) {
    if (json_object_is_type(v, json_type_string) && strcmp(json_object_get_string(v), names[i]) == 0) {
      *index = i;
      return 0;
    }
    snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", names[i]);
  }
  if (!json_object_is_type(v, json_type_string))
    vs_v1_fail(rq, rs, 400, "API_001", "Bad request: `%s` must be a string: one of %s", key, list);
  else
    vs_v1_fail(rq, rs, 400, "API_006", "Validation error: `%s` must be one of %s, not \"%s\"", key,
               list, json_object_get_string(v));
  return -1;
}

int vs_v1_query_uint(vs_request *rq, vs_response *rs, const char *key, uint64_t max,
                     uint64_t *out) {
  const char *s = vs_query_arg(rq, key);
  if (!s) return 0;
  char *end = NULL;
  unsigned long long v = s[0] >= '0' && s[0] <= '9' ? strtoull(s, &end, 10) : 0;
  if (!end || *end || v == 0 || v > max) {
    vs_v1_fail(rq, rs, 400, "API_001", "Bad request: query argument `%s` must be an integer "
               "from 1 to %llu", key, (unsigned long long)max);
    return -1;
  }
  *out = v;
  return 0;
}

const char *vs_v1_metric_name(vexfs_metric m) {
  return m == VEXFS_METRIC_COSINE ? "cosine" : m == VEXFS_METRIC_IP ? "ip" : "l2";
}

int vs_v1_simd_active(void) { return strcmp(vexfs_simd_isa(), "scalar") != 0; }

json_object *vs_v1_number(double v) {
  char text[32];
  snprintf(text, sizeof text, "%.9g", isfinite(v) ? v : 0.0);
  return json_object_new_double_s(isfinite(v) ? v : 0.0, text);
}

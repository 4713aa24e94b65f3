/* Reading JavaScript arguments into exactly what the C calls take. What a C type cannot hold
 * exactly throws a VexfsError VEXFS_E_INVALID (wrong types too), never wraps, floors or cuts:
 * integers are Numbers that are integers (up to 2^53 - 1, above which a Number is not exact) or
 * BigInts, in the parameter's range; ids stop at 2^64 - 2 (2^64 - 1 is NO_ID); strings hold no
 * NUL. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addon.h"

int get_floats(napi_env env, napi_value v, float **data, size_t *n, const char *what) {
  bool is_typed = false;
  napi_typedarray_type type;
  void *p;
  if (napi_is_typedarray(env, v, &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(env, v, &type, n, &p, NULL, NULL) != napi_ok ||
      type != napi_float32_array) {
    char msg[96];
    snprintf(msg, sizeof msg, "%s must be a Float32Array", what);
    throw_invalid(env, msg);
    return -1;
  }
  *data = p;
  return 0;
}

int check_row_count(napi_env env, size_t n, size_t floats, uint32_t dim) {
  if (floats == n * dim) return 0;
  char msg[128];
  snprintf(msg, sizeof msg, "%zu ids need %zu floats of vectors, got %zu", n, n * dim, floats);
  throw_vexfs(env, VEXFS_E_DIMENSION, msg);
  return -1;
}

/* What v is, for a message: a Number or BigInt as JavaScript prints it (a BigInt with its n),
 * anything else by its type. */
static void describe(napi_env env, napi_value v, char *buf, size_t size) {
  static const char *const types[] = {
      [napi_undefined] = "undefined", [napi_null] = "null",         [napi_boolean] = "a boolean",
      [napi_number] = "a number",     [napi_string] = "a string",   [napi_symbol] = "a symbol",
      [napi_object] = "an object",    [napi_function] = "a function", [napi_external] = "an external",
      [napi_bigint] = "a BigInt"};
  napi_valuetype t = napi_undefined;
  napi_value text;
  size_t len;
  napi_typeof(env, v, &t);
  if ((t == napi_number || t == napi_bigint) && napi_coerce_to_string(env, v, &text) == napi_ok &&
      napi_get_value_string_utf8(env, text, buf, size - 1, &len) == napi_ok) {
    if (t == napi_bigint) strcpy(buf + len, "n");
    return;
  }
  snprintf(buf, size, "%s", (unsigned)t < sizeof types / sizeof *types ? types[t] : "a value");
}

/* v as an integer min..max; 0, or -1 with an error thrown. */
static int get_integer(napi_env env, napi_value v, uint64_t min, uint64_t max, uint64_t *out,
                       const char *what) {
  napi_valuetype t = napi_undefined;
  napi_typeof(env, v, &t);
  if (t == napi_number) {
    double d = 0;
    napi_get_value_double(env, v, &d);
    if (d >= 0 && d <= MAX_SAFE_INTEGER && d == (double)(uint64_t)d) *out = (uint64_t)d;
    else t = napi_undefined; /* not an exact integer */
  } else if (t == napi_bigint) {
    bool lossless = false;
    napi_get_value_bigint_uint64(env, v, out, &lossless); /* negative or wider: not lossless */
    if (!lossless) t = napi_undefined;
  }
  if ((t == napi_number || t == napi_bigint) && *out >= min && *out <= max) return 0;
  char value[64], msg[256];
  describe(env, v, value, sizeof value);
  snprintf(msg, sizeof msg, "%s must be an integer %" PRIu64 "..%" PRIu64 "%s, not %s", what, min,
           max, max > MAX_SAFE_INTEGER ? " (a BigInt above 2^53 - 1)" : "", value);
  throw_invalid(env, msg);
  return -1;
}

int get_u32(napi_env env, napi_value v, uint32_t min, uint32_t max, uint32_t *out, const char *what) {
  uint64_t x;
  if (get_integer(env, v, min, max, &x, what) != 0) return -1;
  *out = (uint32_t)x;
  return 0;
}

int get_number(napi_env env, napi_value v, double *out, const char *what) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t == napi_number && napi_get_value_double(env, v, out) == napi_ok) return 0;
  char msg[96];
  snprintf(msg, sizeof msg, "%s must be a number", what);
  throw_invalid(env, msg);
  return -1;
}

int get_u64(napi_env env, napi_value v, uint64_t *out, const char *what) {
  return get_integer(env, v, 0, UINT64_MAX, out, what);
}

int get_id(napi_env env, napi_value v, uint64_t *id, const char *what) {
  return get_integer(env, v, 0, UINT64_MAX - 1, id, what);
}

int get_ids(napi_env env, napi_value v, uint64_t **ids, size_t *n, uint64_t **owned) {
  bool is_typed = false, is_array = false;
  napi_typedarray_type type;
  void *p;
  char what[32];
  *owned = NULL;
  if (napi_is_typedarray(env, v, &is_typed) == napi_ok && is_typed &&
      napi_get_typedarray_info(env, v, &type, n, &p, NULL, NULL) == napi_ok &&
      type == napi_biguint64_array) {
    *ids = p;
    for (size_t i = 0; i < *n; i++) /* every value but NO_ID is an id */
      if ((*ids)[i] == UINT64_MAX) {
        napi_value reserved;
        uint64_t unused;
        napi_create_bigint_uint64(env, UINT64_MAX, &reserved);
        snprintf(what, sizeof what, "ids[%zu]", i);
        return get_id(env, reserved, &unused, what); /* throws, naming it */
      }
    return 0;
  }
  if (napi_is_array(env, v, &is_array) != napi_ok || !is_array) {
    throw_invalid(env, "ids must be a BigUint64Array or an array of non-negative integers");
    return -1;
  }
  uint32_t len;
  napi_get_array_length(env, v, &len);
  *owned = malloc((len ? len : 1) * sizeof **owned);
  if (!*owned) {
    throw_vexfs(env, VEXFS_E_NOMEM, "out of memory");
    return -1;
  }
  for (uint32_t i = 0; i < len; i++) {
    napi_value e;
    napi_get_element(env, v, i, &e);
    snprintf(what, sizeof what, "ids[%u]", i);
    if (get_id(env, e, &(*owned)[i], what) != 0) {
      free(*owned);
      *owned = NULL;
      return -1;
    }
  }
  *ids = *owned;
  *n = len;
  return 0;
}

int get_string(napi_env env, napi_value v, const char *what, char **out) {
  napi_valuetype t = napi_undefined;
  size_t len;
  char msg[128];
  *out = NULL;
  napi_typeof(env, v, &t);
  if (t != napi_string || napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) {
    snprintf(msg, sizeof msg, "%s must be a string", what);
    throw_invalid(env, msg);
    return -1;
  }
  if (!(*out = malloc(len + 1))) {
    throw_vexfs(env, VEXFS_E_NOMEM, "out of memory");
    return -1;
  }
  napi_get_value_string_utf8(env, v, *out, len + 1, &len);
  size_t end = strlen(*out);
  if (end == len) return 0;
  free(*out);
  *out = NULL;
  snprintf(msg, sizeof msg, "%s contains a NUL character at byte %zu (C text would end there)",
           what, end);
  throw_invalid(env, msg);
  return -1;
}

int get_optional_string(napi_env env, napi_value v, const char *what, char **out) {
  napi_valuetype t = napi_undefined;
  *out = NULL;
  napi_typeof(env, v, &t);
  return t == napi_undefined || t == napi_null ? 0 : get_string(env, v, what, out);
}

int get_search_request(napi_env env, const napi_value *argv, const wrapped *w, search_request *r) {
  float *queries;
  size_t floats;
  uint32_t k;
  memset(r, 0, sizeof *r);
  vexfs_search_params_init(&r->params);
  if (get_floats(env, argv[0], &queries, &floats, "query") != 0 ||
      get_u32(env, argv[1], 1, VEXFS_MAX_K, &k, "k") != 0 || /* before k results are allocated */
      get_u32(env, argv[2], 0, UINT32_MAX, &r->params.ef, "ef") != 0 ||
      get_u32(env, argv[4], 0, UINT32_MAX, &r->params.threads, "threads") != 0 ||
      get_u32(env, argv[5], 0, UINT32_MAX, &r->params.probes, "probes") != 0 ||
      get_u32(env, argv[6], 0, UINT32_MAX, &r->params.nprobe, "nprobe") != 0)
    return -1;
  bool exact = false;
  napi_valuetype type;
  napi_typeof(env, argv[7], &type);
  if (type != napi_undefined && (type != napi_boolean || napi_get_value_bool(env, argv[7], &exact) != napi_ok)) {
    throw_invalid(env, "exact must be true or false");
    return -1;
  }
  r->params.exact = exact;
  if (floats == 0 || floats % w->dim) {
    throw_vexfs(env, VEXFS_E_DIMENSION, "the query length must be a non-zero multiple of dim");
    return -1;
  }
  if (get_optional_string(env, argv[3], "filter", &r->filter) != 0) return -1;
  r->queries = queries;
  r->nq = floats / w->dim;
  r->k = k;
  r->params.filter_json = r->filter;
  return 0;
}

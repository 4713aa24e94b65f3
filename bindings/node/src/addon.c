/* The vexfs Node-API addon: module functions, errors and argument helpers. Only node_api.h is
 * used (no V8 or C++ API), so one binary serves every Node major with N-API 8. */
#include "addon.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static napi_ref error_class; /* VexfsError, registered by index.js */

napi_value make_error(napi_env env, vexfs_status st, const char *message) {
  napi_value code, msg, err = NULL, ctor;
  napi_create_string_utf8(env, vexfs_status_name(st), NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &msg);
  if (error_class && napi_get_reference_value(env, error_class, &ctor) == napi_ok && ctor) {
    napi_value args[2] = {msg, code};
    if (napi_new_instance(env, ctor, 2, args, &err) == napi_ok) return err;
  }
  napi_create_error(env, code, msg, &err);
  return err;
}

void throw_vexfs(napi_env env, vexfs_status st, const char *message) {
  napi_throw(env, make_error(env, st, message));
}

void throw_invalid(napi_env env, const char *message) { throw_vexfs(env, VEXFS_E_INVALID, message); }

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
    return 0;
  }
  *data = p;
  return 1;
}

int get_id(napi_env env, napi_value v, uint64_t *id, const char *what) {
  napi_valuetype t;
  bool lossless = true;
  double d = -1;
  napi_typeof(env, v, &t);
  if (t == napi_bigint) {
    napi_get_value_bigint_uint64(env, v, id, &lossless);
    if (lossless) return 0;
  } else if (t == napi_number) {
    napi_get_value_double(env, v, &d);
    if (d >= 0 && d <= 9007199254740991.0 && d == (double)(uint64_t)d) {
      *id = (uint64_t)d;
      return 0;
    }
  }
  char msg[128];
  snprintf(msg, sizeof msg, "%s is not a non-negative integer (use a BigInt above 2^53)", what);
  throw_invalid(env, msg);
  return -1;
}

int get_ids(napi_env env, napi_value v, uint64_t **ids, size_t *n, uint64_t **owned) {
  bool is_typed = false, is_array = false;
  napi_typedarray_type type;
  void *p;
  *owned = NULL;
  if (napi_is_typedarray(env, v, &is_typed) == napi_ok && is_typed &&
      napi_get_typedarray_info(env, v, &type, n, &p, NULL, NULL) == napi_ok &&
      type == napi_biguint64_array) {
    *ids = p;
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
    char what[32];
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

int get_string(napi_env env, napi_value v, char **out) {
  napi_valuetype t;
  *out = NULL;
  napi_typeof(env, v, &t);
  if (t == napi_undefined || t == napi_null) return 0;
  size_t len;
  if (t != napi_string || napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) {
    throw_invalid(env, "expected a string");
    return -1;
  }
  if (!(*out = malloc(len + 1))) {
    throw_vexfs(env, VEXFS_E_NOMEM, "out of memory");
    return -1;
  }
  napi_get_value_string_utf8(env, v, *out, len + 1, &len);
  return 0;
}

wrapped *this_collection(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv) {
  napi_value self;
  wrapped *w = NULL;
  napi_get_cb_info(env, info, argc, argv, &self, NULL);
  if (napi_unwrap(env, self, (void **)&w) != napi_ok || !w || !w->c) {
    throw_vexfs(env, VEXFS_E_STATE, "the collection is closed");
    return NULL;
  }
  return w;
}

napi_value search_result(napi_env env, const uint64_t *ids, const float *dist, const size_t *counts,
                         size_t nq, size_t k, int single) {
  size_t n = single ? counts[0] : nq * k;
  napi_value out, ids_buf, dist_buf, ids_arr, dist_arr;
  void *ip, *dp;
  napi_create_object(env, &out);
  napi_create_arraybuffer(env, n * sizeof(uint64_t), &ip, &ids_buf);
  napi_create_arraybuffer(env, n * sizeof(float), &dp, &dist_buf);
  if (n) {
    memcpy(ip, ids, n * sizeof(uint64_t));
    memcpy(dp, dist, n * sizeof(float));
  }
  napi_create_typedarray(env, napi_biguint64_array, n, ids_buf, 0, &ids_arr);
  napi_create_typedarray(env, napi_float32_array, n, dist_buf, 0, &dist_arr);
  napi_set_named_property(env, out, "ids", ids_arr);
  napi_set_named_property(env, out, "distances", dist_arr);
  if (!single) {
    napi_value counts_buf, counts_arr;
    void *cp;
    napi_create_arraybuffer(env, nq * sizeof(uint32_t), &cp, &counts_buf);
    for (size_t q = 0; q < nq; q++) ((uint32_t *)cp)[q] = (uint32_t)counts[q];
    napi_create_typedarray(env, napi_uint32_array, nq, counts_buf, 0, &counts_arr);
    napi_set_named_property(env, out, "counts", counts_arr);
  }
  return out;
}

static napi_value set_error_class(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (error_class) napi_delete_reference(env, error_class);
  napi_create_reference(env, argv[0], 1, &error_class);
  return NULL;
}

static napi_value simd_isa(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value s;
  napi_create_string_utf8(env, vexfs_simd_isa(), NAPI_AUTO_LENGTH, &s);
  return s;
}

/* Process-wide metrics as JSON text (index.js parses it). */
static napi_value process_metrics(napi_env env, napi_callback_info info) {
  (void)info;
  char *json = vexfs_metrics_json(NULL);
  if (!json) {
    throw_vexfs(env, VEXFS_E_NOMEM, vexfs_last_error());
    return NULL;
  }
  napi_value s;
  napi_create_string_utf8(env, json, NAPI_AUTO_LENGTH, &s);
  vexfs_free(json);
  return s;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"setErrorClass", NULL, set_error_class, NULL, NULL, NULL, napi_default, NULL},
      {"simdIsa", NULL, simd_isa, NULL, NULL, NULL, napi_default, NULL},
      {"metricsJson", NULL, process_metrics, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof *props, props);
  napi_value version;
  napi_create_string_utf8(env, vexfs_version_string(), NAPI_AUTO_LENGTH, &version);
  napi_set_named_property(env, exports, "version", version);
  define_collection(env, exports);
  define_database(env, exports);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)

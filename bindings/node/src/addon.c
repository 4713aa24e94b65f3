/* The vexfs Node-API addon: module functions, errors and search results. Only node_api.h is
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

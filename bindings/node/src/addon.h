/* Shared pieces of the Node-API addon: error throwing, argument reading, the Collection wrapper. */
#ifndef VEXFS_NODE_ADDON_H
#define VEXFS_NODE_ADDON_H

#include <node_api.h>
#include <stdint.h>

#include <vexfs/vexfs.h>

/* The JS object's native side: the collection, NULL once closed. */
typedef struct wrapped {
  vexfs_collection *c;
  uint32_t dim;
  uint32_t pending; /* async calls in flight (main thread only): close() waits for none */
} wrapped;

/* Throws a VexfsError (the class index.js registered) with code = status name and message. */
void throw_vexfs(napi_env env, vexfs_status st, const char *message);
/* Makes (without throwing) the VexfsError for st and message. */
napi_value make_error(napi_env env, vexfs_status st, const char *message);
/* Throws for a failed N-API call or a bad argument: a TypeError-like VEXFS_E_INVALID. */
void throw_invalid(napi_env env, const char *message);

/* The wrapped collection of `this`; throws and returns NULL when closed. */
wrapped *this_collection(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv);

/* A Float32Array's data and length; 0 and a thrown error when v is not one. */
int get_floats(napi_env env, napi_value v, float **data, size_t *n, const char *what);
/* One id from a number (an exact integer up to 2^53) or a BigInt; what names it in the error.
 * 0, or -1 with an error thrown. */
int get_id(napi_env env, napi_value v, uint64_t *id, const char *what);
/* Ids from a BigUint64Array (no copy) or an array of numbers/bigints (copied into *owned,
 * released with free). 0, or -1 with an error thrown. */
int get_ids(napi_env env, napi_value v, uint64_t **ids, size_t *n, uint64_t **owned);
/* A string argument (malloc'ed, NUL-terminated) or NULL for undefined/null. -1 on error. */
int get_string(napi_env env, napi_value v, char **out);

void define_collection(napi_env env, napi_value exports);
/* searchAsync / addAsync: napi_create_async_work on the libuv pool. */
napi_value collection_add_async(napi_env env, napi_callback_info info);
napi_value collection_search_async(napi_env env, napi_callback_info info);

/* Builds {ids: BigUint64Array, distances: Float32Array, counts: Uint32Array} for a search's
 * results (copies them). Single query: trimmed to its count, no counts. */
napi_value search_result(napi_env env, const uint64_t *ids, const float *dist, const size_t *counts,
                         size_t nq, size_t k, int single);

#endif

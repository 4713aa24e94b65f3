/* Shared pieces of the Node-API addon: error throwing, argument reading, the Collection wrapper. */
#ifndef VEXFS_NODE_ADDON_H
#define VEXFS_NODE_ADDON_H

#include <node_api.h>
#include <stdint.h>

#include <vexfs/vexfs.h>

typedef struct db_shared db_shared;

/* The JS object's native side: the collection, NULL once closed (or, for a database's
 * collection, once dropped or its database closed). */
typedef struct wrapped {
  vexfs_collection *c;
  uint32_t dim;
  uint32_t pending; /* async calls in flight (main thread only): close() waits for none */
  db_shared *owner; /* the database a borrowed collection belongs to; NULL when standalone */
} wrapped;

/* A database shared by its JS object and the collection wrappers made from it, counted so that
 * finalizers may run in any order: the database handle (NULL once closed) and the wrappers it
 * must invalidate when a collection is dropped or the database closed. Main thread only. */
struct db_shared {
  vexfs_db *db;
  size_t refs;
  wrapped **cols;
  size_t n, cap;
};
/* Lists w under s and takes a reference. 0, or -1 when out of memory. */
int db_adopt(db_shared *s, wrapped *w);
/* Unlists w and drops its reference (freeing s at the last). */
void db_disown(db_shared *s, wrapped *w);

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
void define_database(napi_env env, napi_value exports);
/* A new NativeCollection for a collection borrowed from a database (adopted by owner). */
napi_value wrap_borrowed(napi_env env, vexfs_collection *c, db_shared *owner);
/* A failed call's status as a thrown VexfsError with vexfs_last_error(); returns NULL. */
napi_value check(napi_env env, vexfs_status st);
/* A uint32 argument (0 when not a number). */
uint32_t u32_arg(napi_env env, napi_value v);
/* A collection config from 8 arguments: dim, metric, index, m, efConstruction, efSearch,
 * threads, seed (the library checks them). */
void config_args(napi_env env, const napi_value *argv, vexfs_collection_config *cfg);
/* searchAsync / addAsync: napi_create_async_work on the libuv pool. */
napi_value collection_add_async(napi_env env, napi_callback_info info);
napi_value collection_search_async(napi_env env, napi_callback_info info);

/* Builds {ids: BigUint64Array, distances: Float32Array, counts: Uint32Array} for a search's
 * results (copies them). Single query: trimmed to its count, no counts. */
napi_value search_result(napi_env env, const uint64_t *ids, const float *dist, const size_t *counts,
                         size_t nq, size_t k, int single);

#endif

/* Shared pieces of the Node-API addon: error throwing, argument reading, the Collection wrapper. */
#ifndef VEXFS_NODE_ADDON_H
#define VEXFS_NODE_ADDON_H

#include <node_api.h>
#include <stdint.h>

#include <vexfs/vexfs.h>

/* 2^53 - 1, Number.MAX_SAFE_INTEGER: up to it every integer is a Number, exactly. */
#define MAX_SAFE_INTEGER 9007199254740991u

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

/* Arguments (arguments.c): each returns 0, or -1 with a VexfsError thrown (VEXFS_E_INVALID for
 * what the C type cannot hold exactly: wrong types, non-integers, out of range, NUL in text);
 * what names the argument in the message. */
/* A Float32Array's data and length. */
int get_floats(napi_env env, napi_value v, float **data, size_t *n, const char *what);
/* That floats hold n rows of dim (VEXFS_E_DIMENSION otherwise). */
int check_row_count(napi_env env, size_t n, size_t floats, uint32_t dim);
/* An integer min..max: a Number that is an integer, or a BigInt. */
int get_u32(napi_env env, napi_value v, uint32_t min, uint32_t max, uint32_t *out, const char *what);
/* A Number (any: the library checks the range). */
int get_number(napi_env env, napi_value v, double *out, const char *what);
/* An integer 0..2^64 - 1 (a BigInt above 2^53 - 1, where Numbers stop being exact). */
int get_u64(napi_env env, napi_value v, uint64_t *out, const char *what);
/* One id: an integer 0..2^64 - 2 (2^64 - 1 is NO_ID). */
int get_id(napi_env env, napi_value v, uint64_t *id, const char *what);
/* Ids from a BigUint64Array (no copy) or an array of numbers/bigints (copied into *owned,
 * released with free). */
int get_ids(napi_env env, napi_value v, uint64_t **ids, size_t *n, uint64_t **owned);
/* A string (malloc'ed, NUL-terminated; holding no NUL of its own). */
int get_string(napi_env env, napi_value v, const char *what, char **out);
/* The same, or NULL for undefined/null. */
int get_optional_string(napi_env env, napi_value v, const char *what, char **out);

/* A search's arguments (queries, k, ef, filterJson|null, threads, probes, nprobe, exact?),
 * checked against w's dim. */
#define VX_SEARCH_ARGS 8
typedef struct search_request {
  const float *queries;
  size_t nq, k;
  vexfs_search_params params; /* filter_json is filter */
  char *filter;               /* malloc'ed, or NULL; freed by the caller once 0 was returned */
} search_request;
int get_search_request(napi_env env, const napi_value *argv, const wrapped *w, search_request *r);

void define_collection(napi_env env, napi_value exports);
void define_database(napi_env env, napi_value exports);
/* A new NativeCollection for a collection borrowed from a database (adopted by owner). */
napi_value wrap_borrowed(napi_env env, vexfs_collection *c, db_shared *owner);
/* A failed call's status as a thrown VexfsError with vexfs_last_error(); returns NULL. */
napi_value check(napi_env env, vexfs_status st);
/* A collection config from VX_CONFIG_ARGS arguments: dim, metric, index, m, efConstruction,
 * efSearch, threads, seed, lshTables, lshBits, lshProbes, lshBucketWidth, lshProjection,
 * ivfNlist, nprobe, ivfCodes, storage, rerank, each exact in its C type (the library checks their
 * ranges). 0, or -1 with an error thrown. */
#define VX_CONFIG_ARGS 18
int config_args(napi_env env, const napi_value *argv, vexfs_collection_config *cfg);
/* searchAsync / addAsync: napi_create_async_work on the libuv pool. */
napi_value collection_add_async(napi_env env, napi_callback_info info);
napi_value collection_search_async(napi_env env, napi_callback_info info);

/* Builds {ids: BigUint64Array, distances: Float32Array, counts: Uint32Array} for a search's
 * results (copies them). Single query: trimmed to its count, no counts. */
napi_value search_result(napi_env env, const uint64_t *ids, const float *dist, const size_t *counts,
                         size_t nq, size_t k, int single);

#endif

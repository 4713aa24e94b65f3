/* The native Collection class: constructor, finalizer, and the synchronous calls. index.js puts
 * the documented JavaScript shape (options objects, JSON, aliases) on top. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addon.h"

#define ARGS(n)      \
  size_t argc = (n); \
  napi_value argv[(n) ? (n) : 1]

static napi_ref collection_class; /* NativeCollection, for wrap_borrowed */

/* What wrap_borrowed passes the constructor, as an external. */
typedef struct borrowed {
  vexfs_collection *c;
  db_shared *owner;
} borrowed;

static void finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  wrapped *w = data;
  if (w->owner) db_disown(w->owner, w); /* the database owns the collection */
  else vexfs_collection_free(w->c);
  free(w);
}

int config_args(napi_env env, const napi_value *argv, vexfs_collection_config *cfg) {
  uint32_t metric, index, projection, codes, storage, rerank;
  double width;
  vexfs_collection_config_init(cfg);
  if (get_u32(env, argv[0], 0, UINT32_MAX, &cfg->dim, "dim") != 0 ||
      get_u32(env, argv[1], 0, UINT32_MAX, &metric, "metric") != 0 ||
      get_u32(env, argv[2], 0, UINT32_MAX, &index, "index") != 0 ||
      get_u32(env, argv[3], 0, UINT32_MAX, &cfg->hnsw_m, "m") != 0 ||
      get_u32(env, argv[4], 0, UINT32_MAX, &cfg->hnsw_ef_construction, "efConstruction") != 0 ||
      get_u32(env, argv[5], 0, UINT32_MAX, &cfg->hnsw_ef_search, "efSearch") != 0 ||
      get_u32(env, argv[6], 0, UINT32_MAX, &cfg->threads, "threads") != 0 ||
      get_u64(env, argv[7], &cfg->hnsw_seed, "seed") != 0 ||
      get_u32(env, argv[8], 0, UINT32_MAX, &cfg->lsh_tables, "lshTables") != 0 ||
      get_u32(env, argv[9], 0, UINT32_MAX, &cfg->lsh_bits, "lshBits") != 0 ||
      get_u32(env, argv[10], 0, UINT32_MAX, &cfg->lsh_probes, "lshProbes") != 0 ||
      get_number(env, argv[11], &width, "lshBucketWidth") != 0 ||
      get_u32(env, argv[12], 0, UINT32_MAX, &projection, "lshProjection") != 0 ||
      get_u32(env, argv[13], 0, UINT32_MAX, &cfg->ivf_nlist, "ivfNlist") != 0 ||
      get_u32(env, argv[14], 0, UINT32_MAX, &cfg->ivf_nprobe, "nprobe") != 0 ||
      get_u32(env, argv[15], 0, UINT32_MAX, &codes, "ivfCodes") != 0 ||
      get_u32(env, argv[16], 0, UINT32_MAX, &storage, "storage") != 0 ||
      get_u32(env, argv[17], 0, UINT32_MAX, &rerank, "rerank") != 0)
    return -1;
  cfg->metric = (vexfs_metric)metric;
  cfg->index = (vexfs_index_kind)index;
  cfg->lsh_bucket_width = (float)width; /* the library refuses what is not finite and >= 0 */
  cfg->lsh_projection = (vexfs_lsh_projection)projection;
  cfg->ivf_codes = (vexfs_ivf_codes)codes;
  cfg->storage = (vexfs_storage)storage;
  cfg->rerank = (vexfs_rerank)rerank;
  return 0;
}

/* Finishes a borrowed collection's wrapper: new NativeCollection(external) */
static napi_value construct_borrowed(napi_env env, napi_value self, napi_value external) {
  borrowed *b;
  napi_get_value_external(env, external, (void **)&b);
  wrapped *w = calloc(1, sizeof *w);
  if (!w || db_adopt(b->owner, w) != 0) {
    free(w);
    throw_vexfs(env, VEXFS_E_NOMEM, "out of memory");
    return NULL;
  }
  w->c = b->c;
  w->dim = vexfs_dim(b->c);
  w->owner = b->owner;
  napi_wrap(env, self, w, finalize, NULL, NULL);
  return self;
}

napi_value wrap_borrowed(napi_env env, vexfs_collection *c, db_shared *owner) {
  borrowed b = {c, owner};
  napi_value ctor, external, out = NULL;
  napi_get_reference_value(env, collection_class, &ctor);
  napi_create_external(env, &b, NULL, NULL, &external);
  napi_new_instance(env, ctor, 1, &external, &out);
  return out;
}

/* new Collection(dim, metric, index, m, efConstruction, efSearch, threads, seed, lshTables,
 *                lshBits, lshProbes, lshBucketWidth, lshProjection, ivfNlist, nprobe, ivfCodes,
 *                storage, rerank) */
static napi_value construct(napi_env env, napi_callback_info info) {
  ARGS(VX_CONFIG_ARGS);
  napi_value self;
  napi_get_cb_info(env, info, &argc, argv, &self, NULL);
  napi_valuetype first;
  napi_typeof(env, argv[0], &first);
  if (first == napi_external) return construct_borrowed(env, self, argv[0]);
  vexfs_collection_config cfg;
  if (config_args(env, argv, &cfg) != 0) return NULL;
  wrapped *w = calloc(1, sizeof *w);
  if (!w) {
    throw_vexfs(env, VEXFS_E_NOMEM, "out of memory");
    return NULL;
  }
  vexfs_status st = vexfs_collection_create(&cfg, &w->c);
  if (st != VEXFS_OK) {
    free(w);
    throw_vexfs(env, st, vexfs_last_error());
    return NULL;
  }
  w->dim = cfg.dim;
  napi_wrap(env, self, w, finalize, NULL, NULL);
  return self;
}

napi_value check(napi_env env, vexfs_status st) {
  if (st != VEXFS_OK) throw_vexfs(env, st, vexfs_last_error());
  return NULL;
}

/* close(): frees a standalone collection now (a database's collection: lets go of this object
 * only); later calls throw VEXFS_E_STATE. */
static napi_value close_collection(napi_env env, napi_callback_info info) {
  napi_value self;
  wrapped *w = NULL;
  napi_get_cb_info(env, info, NULL, NULL, &self, NULL);
  if (napi_unwrap(env, self, (void **)&w) == napi_ok && w && w->pending) {
    throw_vexfs(env, VEXFS_E_STATE, "close: async calls on this collection are still running");
    return NULL;
  }
  if (w && w->c) {
    if (!w->owner) vexfs_collection_free(w->c);
    w->c = NULL;
  }
  return NULL;
}

/* config(): {dim, metric, index, m, efConstruction, efSearch, threads, seed, lshTables, lshBits,
 * lshProbes, lshBucketWidth, lshProjection, ivfNlist, nprobe, ivfCodes, storage, rerank} as
 * numbers; the seed as
 * a BigInt when a Number cannot hold it exactly (above 2^53 - 1) */
static napi_value config(napi_env env, napi_callback_info info) {
  ARGS(0);
  wrapped *w = this_collection(env, info, &argc, argv);
  if (!w) return NULL;
  vexfs_collection_config cfg;
  vexfs_collection_config_init(&cfg);
  vexfs_status st = vexfs_collection_get_config(w->c, &cfg);
  if (st != VEXFS_OK) return check(env, st);
  const struct {
    const char *name;
    double value;
  } fields[] = {{"dim", cfg.dim}, {"metric", cfg.metric}, {"index", cfg.index},
                {"m", cfg.hnsw_m}, {"efConstruction", cfg.hnsw_ef_construction},
                {"efSearch", cfg.hnsw_ef_search}, {"threads", cfg.threads},
                {"lshTables", cfg.lsh_tables}, {"lshBits", cfg.lsh_bits},
                {"lshProbes", cfg.lsh_probes}, {"lshBucketWidth", cfg.lsh_bucket_width},
                {"lshProjection", cfg.lsh_projection}, {"ivfNlist", cfg.ivf_nlist},
                {"nprobe", cfg.ivf_nprobe}, {"ivfCodes", cfg.ivf_codes},
                {"storage", cfg.storage}, {"rerank", cfg.rerank}};
  napi_value out, v;
  napi_create_object(env, &out);
  for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
    napi_create_double(env, fields[i].value, &v);
    napi_set_named_property(env, out, fields[i].name, v);
  }
  if (cfg.hnsw_seed <= MAX_SAFE_INTEGER) napi_create_double(env, (double)cfg.hnsw_seed, &v);
  else napi_create_bigint_uint64(env, cfg.hnsw_seed, &v);
  napi_set_named_property(env, out, "seed", v);
  return out;
}

/* ids(): every id, ascending, as a BigUint64Array */
static napi_value list_ids(napi_env env, napi_callback_info info) {
  ARGS(0);
  wrapped *w = this_collection(env, info, &argc, argv);
  if (!w) return NULL;
  uint64_t *ids;
  size_t n;
  vexfs_status st = vexfs_list_ids(w->c, &ids, &n);
  if (st != VEXFS_OK) return check(env, st);
  napi_value buf, arr;
  void *data;
  napi_create_arraybuffer(env, n * sizeof *ids, &data, &buf);
  if (n) memcpy(data, ids, n * sizeof *ids);
  vexfs_free(ids);
  napi_create_typedarray(env, napi_biguint64_array, n, buf, 0, &arr);
  return arr;
}

/* add(ids, vectors, payloads?: (string|null)[]) and upsert(ids, vectors, payloads?) */
static napi_value write_rows(napi_env env, napi_callback_info info, int upsert) {
  ARGS(3);
  wrapped *w = this_collection(env, info, &argc, argv);
  if (!w) return NULL;
  uint64_t *ids, *owned;
  float *vec;
  size_t n, floats;
  if (get_ids(env, argv[0], &ids, &n, &owned) != 0) return NULL;
  if (get_floats(env, argv[1], &vec, &floats, "vectors") != 0 ||
      check_row_count(env, n, floats, w->dim) != 0) {
    free(owned);
    return NULL;
  }
  char **payloads = NULL;
  bool has_payloads = false;
  uint32_t given = 0;
  if (argc > 2) napi_is_array(env, argv[2], &has_payloads);
  if (has_payloads) napi_get_array_length(env, argv[2], &given);
  if (has_payloads && given != n) {
    char msg[96];
    snprintf(msg, sizeof msg, "%u payloads for %zu ids", given, n);
    free(owned);
    throw_invalid(env, msg);
    return NULL;
  }
  if (has_payloads && !(payloads = calloc(n ? n : 1, sizeof *payloads))) {
    free(owned);
    throw_vexfs(env, VEXFS_E_NOMEM, "out of memory");
    return NULL;
  }
  for (size_t i = 0; has_payloads && i < n; i++) {
    napi_value e;
    char what[32];
    napi_get_element(env, argv[2], (uint32_t)i, &e);
    snprintf(what, sizeof what, "payloads[%zu]", i);
    if (get_optional_string(env, e, what, &payloads[i]) != 0) { /* thrown */
      for (size_t j = 0; j < i; j++) free(payloads[j]);
      free(payloads);
      free(owned);
      return NULL;
    }
  }
  vexfs_status st =
      upsert         ? vexfs_upsert(w->c, ids, vec, (const char *const *)payloads, n)
      : has_payloads ? vexfs_insert_with_payload(w->c, ids, vec, (const char *const *)payloads, n)
                     : vexfs_insert(w->c, ids, vec, n);
  for (size_t i = 0; payloads && i < n; i++) free(payloads[i]);
  free(payloads);
  free(owned);
  return check(env, st);
}

static napi_value add(napi_env env, napi_callback_info info) { return write_rows(env, info, 0); }

static napi_value upsert(napi_env env, napi_callback_info info) {
  return write_rows(env, info, 1);
}

/* search(query: Float32Array, k, ef, filterJson|null, threads, probes, nprobe) */
static napi_value search(napi_env env, napi_callback_info info) {
  ARGS(VX_SEARCH_ARGS);
  wrapped *w = this_collection(env, info, &argc, argv);
  search_request r;
  if (!w || get_search_request(env, argv, w, &r) != 0) return NULL;
  size_t nq = r.nq, k = r.k;
  uint64_t ids_one[64];
  float dist_one[64];
  size_t count_one;
  int small = nq == 1 && k <= 64; /* the common case: no allocation */
  uint64_t *ids = small ? ids_one : malloc(nq * k * sizeof *ids);
  float *dist = small ? dist_one : malloc(nq * k * sizeof *dist);
  size_t *counts = small ? &count_one : malloc(nq * sizeof *counts);
  napi_value out = NULL;
  vexfs_status st;
  if (!ids || !dist || !counts)
    throw_vexfs(env, VEXFS_E_NOMEM, "out of memory for the results");
  else if ((st = vexfs_search(w->c, r.queries, nq, k, &r.params, ids, dist, counts)) != VEXFS_OK)
    throw_vexfs(env, st, vexfs_last_error());
  else
    out = search_result(env, ids, dist, counts, nq, k, nq == 1);
  if (!small) free(ids), free(dist), free(counts);
  free(r.filter);
  return out;
}

static napi_value remove_ids(napi_env env, napi_callback_info info) {
  ARGS(1);
  wrapped *w = this_collection(env, info, &argc, argv);
  uint64_t *ids, *owned;
  size_t n;
  if (!w || get_ids(env, argv[0], &ids, &n, &owned) != 0) return NULL;
  vexfs_status st = vexfs_remove(w->c, ids, n);
  free(owned);
  return check(env, st);
}

static napi_value get(napi_env env, napi_callback_info info) {
  ARGS(1);
  wrapped *w = this_collection(env, info, &argc, argv);
  uint64_t id;
  if (!w || get_id(env, argv[0], &id, "id") != 0) return NULL;
  napi_value buf, arr;
  void *data;
  napi_create_arraybuffer(env, w->dim * sizeof(float), &data, &buf);
  vexfs_status st = vexfs_get(w->c, id, data);
  if (st != VEXFS_OK) return check(env, st);
  napi_create_typedarray(env, napi_float32_array, w->dim, buf, 0, &arr);
  return arr;
}

static napi_value count(napi_env env, napi_callback_info info) {
  ARGS(0);
  wrapped *w = this_collection(env, info, &argc, argv);
  if (!w) return NULL;
  napi_value n;
  napi_create_double(env, (double)vexfs_count(w->c), &n);
  return n;
}

/* Returns JSON text from a library call that hands over a string (NULL: null). */
static napi_value take_string(napi_env env, char *s) {
  napi_value v;
  if (!s) {
    napi_get_null(env, &v);
    return v;
  }
  napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v);
  vexfs_free(s);
  return v;
}

static napi_value metrics_json(napi_env env, napi_callback_info info) {
  ARGS(0);
  wrapped *w = this_collection(env, info, &argc, argv);
  if (!w) return NULL;
  char *json = vexfs_metrics_json(w->c);
  if (!json) return check(env, VEXFS_E_NOMEM);
  return take_string(env, json);
}

static napi_value get_payload(napi_env env, napi_callback_info info) {
  ARGS(1);
  wrapped *w = this_collection(env, info, &argc, argv);
  uint64_t id;
  if (!w || get_id(env, argv[0], &id, "id") != 0) return NULL;
  char *json;
  vexfs_status st = vexfs_get_payload(w->c, id, &json);
  return st == VEXFS_OK ? take_string(env, json) : check(env, st);
}

/* setPayload(id, json|null, merge) */
static napi_value set_payload(napi_env env, napi_callback_info info) {
  ARGS(3);
  wrapped *w = this_collection(env, info, &argc, argv);
  uint64_t id;
  char *json;
  bool merge = false;
  if (!w || get_id(env, argv[0], &id, "id") != 0 ||
      get_optional_string(env, argv[1], "payload", &json) != 0)
    return NULL;
  napi_get_value_bool(env, argv[2], &merge);
  vexfs_status st = vexfs_set_payload(w->c, id, json, merge ? VEXFS_PAYLOAD_MERGE : VEXFS_PAYLOAD_REPLACE);
  free(json);
  return check(env, st);
}

/* createPayloadIndex(key, kind) / dropPayloadIndex(key, kind), kind 1 keyword, 2 numeric */
static napi_value payload_index(napi_env env, napi_callback_info info, int create) {
  ARGS(2);
  wrapped *w = this_collection(env, info, &argc, argv);
  char *key;
  uint32_t kind;
  if (!w || get_u32(env, argv[1], 0, UINT32_MAX, &kind, "kind") != 0 ||
      get_string(env, argv[0], "key", &key) != 0)
    return NULL;
  vexfs_status st = create ? vexfs_create_payload_index(w->c, key, (vexfs_payload_index_kind)kind)
                           : vexfs_drop_payload_index(w->c, key, (vexfs_payload_index_kind)kind);
  free(key);
  return check(env, st);
}
static napi_value create_index(napi_env env, napi_callback_info info) { return payload_index(env, info, 1); }
static napi_value drop_index(napi_env env, napi_callback_info info) { return payload_index(env, info, 0); }

void define_collection(napi_env env, napi_value exports) {
#define METHOD(name, fn) {name, NULL, fn, NULL, NULL, NULL, napi_default, NULL}
  napi_property_descriptor methods[] = {
      METHOD("add", add),
      METHOD("upsert", upsert),
      METHOD("addAsync", collection_add_async),
      METHOD("search", search),
      METHOD("searchAsync", collection_search_async),
      METHOD("remove", remove_ids),
      METHOD("get", get),
      METHOD("count", count),
      METHOD("metricsJson", metrics_json),
      METHOD("getPayload", get_payload),
      METHOD("setPayload", set_payload),
      METHOD("createPayloadIndex", create_index),
      METHOD("dropPayloadIndex", drop_index),
      METHOD("close", close_collection),
      METHOD("config", config),
      METHOD("ids", list_ids),
  };
#undef METHOD
  napi_value cls;
  napi_define_class(env, "NativeCollection", NAPI_AUTO_LENGTH, construct, NULL,
                    sizeof methods / sizeof *methods, methods, &cls);
  napi_create_reference(env, cls, 1, &collection_class);
  napi_set_named_property(env, exports, "NativeCollection", cls);
}

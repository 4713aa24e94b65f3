/* The native Database class: vexfs_db_* over a db_shared, which its collection wrappers share,
 * so that a dropped collection or a closed database turns their wrappers off instead of leaving
 * them pointing at freed memory. index.js adds the documented shape. */
#include <stdlib.h>
#include <string.h>

#include "addon.h"

int db_adopt(db_shared *s, wrapped *w) {
  if (s->n == s->cap) {
    size_t cap = s->cap ? 2 * s->cap : 8;
    wrapped **cols = realloc(s->cols, cap * sizeof *cols);
    if (!cols) return -1;
    s->cols = cols;
    s->cap = cap;
  }
  s->cols[s->n++] = w;
  s->refs++;
  return 0;
}

/* Drops a reference; the last one (the database is closed by then) frees s. */
static void release(db_shared *s) {
  if (--s->refs) return;
  free(s->cols);
  free(s);
}

void db_disown(db_shared *s, wrapped *w) {
  for (size_t i = 0; i < s->n; i++)
    if (s->cols[i] == w) {
      s->cols[i] = s->cols[--s->n];
      break;
    }
  release(s);
}

/* Turns off the wrappers of collection c, or of every collection when c is NULL. */
static void invalidate(db_shared *s, vexfs_collection *c) {
  for (size_t i = 0; i < s->n; i++)
    if (!c || s->cols[i]->c == c) s->cols[i]->c = NULL;
}

/* Whether an async call still runs on one of the database's collections (c, or any). */
static int busy(db_shared *s, vexfs_collection *c) {
  for (size_t i = 0; i < s->n; i++)
    if ((!c || s->cols[i]->c == c) && s->cols[i]->pending) return 1;
  return 0;
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  db_shared *s = data;
  if (s->db) { /* never closed: close it (checkpointing) now that nothing can reach it */
    invalidate(s, NULL);
    vexfs_db_close(s->db);
    s->db = NULL;
  }
  release(s);
}

static db_shared *this_db(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv) {
  napi_value self;
  db_shared *s = NULL;
  napi_get_cb_info(env, info, argc, argv, &self, NULL);
  if (napi_unwrap(env, self, (void **)&s) != napi_ok || !s || !s->db) {
    throw_vexfs(env, VEXFS_E_STATE, "the database is closed");
    return NULL;
  }
  return s;
}

/* new NativeDatabase(path|null, sync, readOnly, checkpointBytes) */
static napi_value construct(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4], self;
  napi_get_cb_info(env, info, &argc, argv, &self, NULL);
  vexfs_db_options opts;
  vexfs_db_options_init(&opts);
  uint32_t sync;
  bool read_only = false;
  char *path;
  if (get_u32(env, argv[1], 0, UINT32_MAX, &sync, "sync") != 0 ||
      get_u64(env, argv[3], &opts.wal_checkpoint_bytes, "checkpointBytes") != 0 ||
      get_optional_string(env, argv[0], "path", &path) != 0)
    return NULL;
  opts.sync = (vexfs_sync_mode)sync;
  napi_get_value_bool(env, argv[2], &read_only);
  opts.read_only = read_only;
  db_shared *s = calloc(1, sizeof *s);
  if (!s) {
    free(path);
    throw_vexfs(env, VEXFS_E_NOMEM, "out of memory");
    return NULL;
  }
  vexfs_status st = vexfs_db_open(path, &opts, &s->db);
  free(path);
  if (st != VEXFS_OK) {
    free(s);
    return check(env, st);
  }
  s->refs = 1; /* the JS object's */
  napi_wrap(env, self, s, finalize, NULL, NULL);
  return self;
}

/* The database of `this` and its first argument, a collection name (malloc'ed); 0, or -1 with
 * an error thrown. argv has room for argc arguments. */
static int db_and_name(napi_env env, napi_callback_info info, size_t argc, napi_value *argv,
                       db_shared **s, char **name) {
  if (!(*s = this_db(env, info, &argc, argv))) return -1;
  return get_string(env, argv[0], "name", name);
}

/* createCollection(name, then the arguments of new Collection) */
static napi_value create_collection(napi_env env, napi_callback_info info) {
  napi_value argv[1 + VX_CONFIG_ARGS];
  db_shared *s;
  char *name;
  if (db_and_name(env, info, 1 + VX_CONFIG_ARGS, argv, &s, &name) != 0) return NULL;
  vexfs_collection_config cfg;
  if (config_args(env, argv + 1, &cfg) != 0) {
    free(name);
    return NULL;
  }
  vexfs_collection *c;
  vexfs_status st = vexfs_db_create_collection(s->db, name, &cfg, &c);
  free(name);
  return st == VEXFS_OK ? wrap_borrowed(env, c, s) : check(env, st);
}

static napi_value get_collection(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  db_shared *s;
  char *name;
  if (db_and_name(env, info, 1, argv, &s, &name) != 0) return NULL;
  vexfs_collection *c;
  vexfs_status st = vexfs_db_get_collection(s->db, name, &c);
  free(name);
  return st == VEXFS_OK ? wrap_borrowed(env, c, s) : check(env, st);
}

static napi_value drop_collection(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  db_shared *s;
  char *name;
  if (db_and_name(env, info, 1, argv, &s, &name) != 0) return NULL;
  vexfs_collection *c;
  vexfs_status st = vexfs_db_get_collection(s->db, name, &c);
  if (st == VEXFS_OK && busy(s, c)) {
    free(name);
    throw_vexfs(env, VEXFS_E_STATE, "dropCollection: async calls on this collection are running");
    return NULL;
  }
  if (st == VEXFS_OK) st = vexfs_db_drop_collection(s->db, name);
  free(name);
  if (st != VEXFS_OK) return check(env, st);
  invalidate(s, c);
  return NULL;
}

static napi_value list_collections(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  db_shared *s = this_db(env, info, &argc, NULL);
  if (!s) return NULL;
  char **names;
  size_t n;
  vexfs_status st = vexfs_db_list_collections(s->db, &names, &n);
  if (st != VEXFS_OK) return check(env, st);
  napi_value out, v;
  napi_create_array_with_length(env, n, &out);
  for (size_t i = 0; i < n; i++) {
    napi_create_string_utf8(env, names[i], NAPI_AUTO_LENGTH, &v);
    napi_set_element(env, out, (uint32_t)i, v);
  }
  vexfs_free(names);
  return out;
}

static napi_value checkpoint(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  db_shared *s = this_db(env, info, &argc, NULL);
  return s ? check(env, vexfs_db_checkpoint(s->db)) : NULL;
}

/* close(): checkpoints and frees; idempotent. Refused while async calls run on a collection. */
static napi_value close_db(napi_env env, napi_callback_info info) {
  napi_value self;
  db_shared *s = NULL;
  napi_get_cb_info(env, info, NULL, NULL, &self, NULL);
  if (napi_unwrap(env, self, (void **)&s) != napi_ok || !s || !s->db) return NULL;
  if (busy(s, NULL)) {
    throw_vexfs(env, VEXFS_E_STATE, "close: async calls on its collections are still running");
    return NULL;
  }
  invalidate(s, NULL);
  vexfs_status st = vexfs_db_close(s->db);
  s->db = NULL;
  return check(env, st);
}

void define_database(napi_env env, napi_value exports) {
#define METHOD(name, fn) {name, NULL, fn, NULL, NULL, NULL, napi_default, NULL}
  napi_property_descriptor methods[] = {
      METHOD("createCollection", create_collection),
      METHOD("getCollection", get_collection),
      METHOD("dropCollection", drop_collection),
      METHOD("listCollections", list_collections),
      METHOD("checkpoint", checkpoint),
      METHOD("close", close_db),
  };
#undef METHOD
  napi_value cls;
  napi_define_class(env, "NativeDatabase", NAPI_AUTO_LENGTH, construct, NULL,
                    sizeof methods / sizeof *methods, methods, &cls);
  napi_set_named_property(env, exports, "NativeDatabase", cls);
}

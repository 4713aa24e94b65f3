/* Qdrant's payload routes: set (merge keys), overwrite, delete keys and clear, on the points
 * named by id or selected by a filter. Each point's change is one logged library call, under the
 * collection's write lock. */
#include <stdlib.h>
#include <string.h>

#include "qdrant.h"

typedef enum change { SET, OVERWRITE, DELETE_KEYS, CLEAR } change;

/* The payload of id without `keys` (dotted paths), as JSON text (malloc'd), or NULL. A failure
 * of the server's own (memory: the library's text always parses) is answered here. */
static char *without_keys(vs_request *rq, vs_response *rs, vs_coll *k, uint64_t id,
                          json_object *keys, vexfs_status *st) {
  char *text = NULL;
  if ((*st = vexfs_get_payload(k->points, id, &text)) != VEXFS_OK || !text) return NULL;
  json_object *p = vs_parse_payload(text);
  vexfs_free(text);
  if (!p) {
    *st = VEXFS_E_NOMEM;
    vs_fail(rq, rs, 503, "Service unavailable: out of memory");
    return NULL;
  }
  size_t n = json_object_array_length(keys);
  for (size_t i = 0; i < n; i++)
    vs_path_delete(p, json_object_get_string(json_object_array_get_idx(keys, i)));
  char *out = strdup(json_object_to_json_string_ext(p, JSON_C_TO_STRING_PLAIN));
  json_object_put(p);
  if (!out) {
    *st = VEXFS_E_NOMEM;
    vs_fail(rq, rs, 503, "Service unavailable: out of memory");
  }
  return out;
}

static void apply(vs_request *rq, vs_response *rs, char **args, change what) {
  json_object *body = vs_body(rq, rs), *payload = NULL, *keys = NULL;
  if (!body) return;
  if (what == SET || what == OVERWRITE) {
    if (vs_get_object(rq, rs, body, "payload", 1, &payload) != 0) return;
    if (json_object_object_get_ex(body, "key", NULL)) {
      vs_fail(rq, rs, 400, "Bad request: `key` (setting a nested path) is not supported by "
                           "vexfs-server; set the top-level key");
      return;
    }
  }
  if (what == DELETE_KEYS) {
    size_t i = 0, n = 0;
    if (json_object_object_get_ex(body, "keys", &keys) &&
        json_object_is_type(keys, json_type_array))
      for (n = json_object_array_length(keys); i < n; i++)
        if (!json_object_is_type(json_object_array_get_idx(keys, i), json_type_string)) break;
    if (!keys || !json_object_is_type(keys, json_type_array) || i < n) {
      vs_fail(rq, rs, 400, "Bad request: `keys` must be a list of strings");
      return;
    }
  }
  vs_coll *k = vs_request_collection(rq, rs, args[0]);
  if (!k) return;
  const char *text = payload ? json_object_to_json_string_ext(payload, JSON_C_TO_STRING_PLAIN) : NULL;
  pthread_mutex_lock(&k->write);
  uint64_t *ids = NULL;
  size_t n = 0;
  if (vs_selected_ids(rq, rs, k, body, 1, &ids, &n) == 0) { /* Qdrant: 404 for a missing id */
    vexfs_status st = VEXFS_OK;
    for (size_t i = 0; i < n && st == VEXFS_OK; i++) {
      char *rest = NULL;
      switch (what) {
      case SET: st = vexfs_set_payload(k->points, ids[i], text, VEXFS_PAYLOAD_MERGE); break;
      case OVERWRITE: st = vexfs_set_payload(k->points, ids[i], text, VEXFS_PAYLOAD_REPLACE); break;
      case CLEAR: st = vexfs_set_payload(k->points, ids[i], NULL, VEXFS_PAYLOAD_REPLACE); break;
      case DELETE_KEYS:
        rest = without_keys(rq, rs, k, ids[i], keys, &st);
        if (st == VEXFS_OK && rest)
          st = vexfs_set_payload(k->points, ids[i], rest, VEXFS_PAYLOAD_REPLACE);
        free(rest);
        break;
      }
    }
    if (st == VEXFS_OK) vs_ok_operation(rq, rs);
    else if (!rs->text) vs_fail_lib(rq, rs, st); /* else answered where it failed */
  }
  pthread_mutex_unlock(&k->write);
  free(ids);
  vs_catalog_put(&rq->srv->catalog, k);
}

void vs_payload_set(vs_request *rq, vs_response *rs, char **args) { apply(rq, rs, args, SET); }

void vs_payload_overwrite(vs_request *rq, vs_response *rs, char **args) {
  apply(rq, rs, args, OVERWRITE);
}

void vs_payload_delete(vs_request *rq, vs_response *rs, char **args) {
  apply(rq, rs, args, DELETE_KEYS);
}

void vs_payload_clear(vs_request *rq, vs_response *rs, char **args) {
  apply(rq, rs, args, CLEAR);
}

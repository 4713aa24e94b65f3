/* Qdrant filters to the library's filter_json. The library speaks Qdrant's filter language
 * (match value/any/except, range, values_count, is_empty, is_null, has_id, must/should/
 * must_not), so the translation checks for the conditions it lacks, which get a 400 naming them
 * instead of a silently different answer, and maps has_id's point ids (UUIDs) to the library's.
 * Everything else (operand types, key syntax) the library checks and names itself. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"

typedef struct walk {
  vs_request *rq;
  vs_response *rs;
  vs_coll *k;
} walk;

static int filter_node(walk *w, json_object *f, const char *where);

static int unsupported(walk *w, const char *where, const char *what) {
  vs_fail(w->rq, w->rs, 400, "Bad request: %s: %s is not supported by vexfs-server", where, what);
  return -1;
}

static int has_id(walk *w, json_object *cond, json_object *list, const char *where) {
  if (!json_object_is_type(list, json_type_array)) {
    vs_fail(w->rq, w->rs, 400, "Bad request: %s.has_id must be a list of point ids", where);
    return -1;
  }
  size_t n = json_object_array_length(list);
  uint64_t *ids = malloc((n ? n : 1) * sizeof *ids);
  uint8_t *found = malloc(n ? n : 1);
  int rc = -1;
  if (!ids || !found) {
    vs_fail(w->rq, w->rs, 503, "Service unavailable: out of memory");
  } else if (vs_ids_lookup(w->rq, w->rs, w->k, list, ids, found) == 0) {
    json_object *mapped = json_object_new_array_ext((int)n);
    for (size_t i = 0; i < n; i++)
      if (found[i]) json_object_array_add(mapped, json_object_new_uint64(ids[i]));
    json_object_object_add(cond, "has_id", mapped); /* UUIDs never stored match nothing */
    rc = 0;
  }
  free(ids);
  free(found);
  return rc;
}

static int field_condition(walk *w, json_object *cond, const char *where) {
  json_object_object_foreach(cond, key, v) {
    char at[512];
    snprintf(at, sizeof at, "%s.%s", where, key);
    if (strncmp(key, "geo_", 4) == 0) return unsupported(w, at, "a geo condition");
    if (strcmp(key, "match") == 0 && json_object_is_type(v, json_type_object)) {
      static const char *const text[] = {"text", "phrase", "text_any"};
      for (size_t i = 0; i < sizeof text / sizeof *text; i++)
        if (json_object_object_get_ex(v, text[i], NULL)) {
          snprintf(at, sizeof at, "%s.match.%s", where, text[i]);
          return unsupported(w, at, "full-text match");
        }
    }
    if (strcmp(key, "range") == 0 && json_object_is_type(v, json_type_object)) {
      json_object_object_foreach(v, bound, x) {
        (void)bound;
        if (json_object_is_type(x, json_type_string))
          return unsupported(w, at, "a datetime range");
      }
    }
  }
  return 0;
}

static int condition(walk *w, json_object *cond, const char *where) {
  if (!json_object_is_type(cond, json_type_object)) {
    vs_fail(w->rq, w->rs, 400, "Bad request: %s must be a condition object", where);
    return -1;
  }
  json_object *v;
  if (json_object_object_get_ex(cond, "key", NULL)) return field_condition(w, cond, where);
  if (json_object_object_get_ex(cond, "has_id", &v)) return has_id(w, cond, v, where);
  if (json_object_object_get_ex(cond, "nested", NULL))
    return unsupported(w, where, "a nested condition");
  if (json_object_object_get_ex(cond, "has_vector", NULL))
    return unsupported(w, where, "has_vector");
  if (json_object_object_get_ex(cond, "is_empty", NULL) ||
      json_object_object_get_ex(cond, "is_null", NULL))
    return 0;
  return filter_node(w, cond, where); /* a nested filter; the library names what is unknown */
}

static int filter_node(walk *w, json_object *f, const char *where) {
  if (!json_object_is_type(f, json_type_object)) {
    vs_fail(w->rq, w->rs, 400, "Bad request: %s must be a filter object", where);
    return -1;
  }
  if (json_object_object_get_ex(f, "min_should", NULL)) {
    char at[512];
    snprintf(at, sizeof at, "%s.min_should", where);
    return unsupported(w, at, "min_should");
  }
  static const char *const clauses[] = {"must", "should", "must_not"};
  for (size_t c = 0; c < 3; c++) {
    json_object *v;
    if (!json_object_object_get_ex(f, clauses[c], &v)) continue;
    if (json_object_is_type(v, json_type_null)) { /* null means absent to Qdrant */
      json_object_object_del(f, clauses[c]);
      continue;
    }
    char at[512];
    if (!json_object_is_type(v, json_type_array)) {
      snprintf(at, sizeof at, "%s.%s", where, clauses[c]);
      if (condition(w, v, at) != 0) return -1;
      continue;
    }
    size_t n = json_object_array_length(v);
    for (size_t i = 0; i < n; i++) {
      snprintf(at, sizeof at, "%s.%s[%zu]", where, clauses[c], i);
      if (condition(w, json_object_array_get_idx(v, i), at) != 0) return -1;
    }
  }
  return 0;
}

char *vs_filter_translate(vs_request *rq, vs_response *rs, vs_coll *k, json_object *filter,
                          const char *where) {
  walk w = {rq, rs, k};
  if (filter_node(&w, filter, where) != 0) return NULL;
  char *text = strdup(json_object_to_json_string_ext(filter, JSON_C_TO_STRING_PLAIN));
  if (!text) vs_fail(rq, rs, 503, "Service unavailable: out of memory");
  return text;
}

int vs_filter_ids(vs_request *rq, vs_response *rs, vs_coll *k, json_object *filter,
                  uint64_t **ids, size_t *n) {
  char *text = NULL;
  if (filter && !(text = vs_filter_translate(rq, rs, k, filter, "filter"))) return -1;
  vexfs_status st = vexfs_list_ids_filtered(k->points, text, ids, n);
  free(text);
  if (st != VEXFS_OK) {
    vs_fail_lib(rq, rs, st);
    return -1;
  }
  return 0;
}

/* Chroma's `where` translated to the library's (Qdrant-style) filter. Operators: $eq $ne $gt $gte
 * $lt $lte $in $nin on a metadata key, $contains and $not_contains on a list-valued one (the
 * library matches a list when any element matches), {"key": value} for $eq, $and and $or over
 * lists of clauses; several keys in one object must all match. As in Chroma (since 0.5.12), $ne,
 * $nin and $not_contains admit records that lack the key: they become must_not conditions. */
#include <string.h>

#include "chroma.h"

#define MAX_DEPTH 32 /* nesting of $and / $or, far below the body's own limit */

typedef struct walk {
  vs_request *rq;
  vs_response *rs;
  vs_text *out;
} walk;

static int is_number(json_object *v) {
  return json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double);
}

/* {"key": key, <rest>}: rest is the condition's JSON after the key. */
static void condition_open(walk *w, const char *key) {
  vs_text_puts(w->out, "{\"key\":");
  vs_text_string(w->out, key);
  vs_text_put(w->out, ",", 1);
}

/* key equals v: the library matches strings, integers and booleans; a fractional number is the
 * range [v, v]. */
static void equals(walk *w, const char *key, json_object *v) {
  condition_open(w, key);
  int fractional = json_object_is_type(v, json_type_double);
  vs_text_puts(w->out, fractional ? "\"range\":{\"gte\":" : "\"match\":{\"value\":");
  vs_text_json(w->out, v);
  if (fractional) {
    vs_text_puts(w->out, ",\"lte\":");
    vs_text_json(w->out, v);
  }
  vs_text_puts(w->out, "}}");
}

/* key equals one of the n values of list (a scalar when list is one): any of them, or, negated,
 * none (records without the key included). */
static int match(walk *w, const char *key, json_object *list, int negated) {
  int one = !json_object_is_type(list, json_type_array);
  size_t n = one ? 1 : json_object_array_length(list);
  vs_text_puts(w->out, negated ? "{\"must_not\":[" : one ? "" : "{\"should\":[");
  for (size_t i = 0; i < n; i++) {
    if (i) vs_text_put(w->out, ",", 1);
    equals(w, key, one ? list : json_object_array_get_idx(list, i));
  }
  vs_text_puts(w->out, negated || !one ? "]}" : "");
  return 0;
}

static int field(walk *w, const char *key, json_object *v, const char *at) {
  if (strpbrk(key, ".[]")) {
    vs_fail(w->rq, w->rs, 400, "%s: metadata key \"%s\" holds a '.', '[' or ']', which "
                               "vexfs-server's filters read as a path: such keys are stored but "
                               "cannot be filtered on", at, key);
    return -1;
  }
  if (strncmp(key, VS_CHROMA_RESERVED, sizeof VS_CHROMA_RESERVED - 1) == 0 || !*key) {
    vs_fail(w->rq, w->rs, 400, "%s: \"%s\" is not a metadata key clients may filter on", at, key);
    return -1;
  }
  if (vs_chroma_scalar_type(v)) return match(w, key, v, 0);
  if (!json_object_is_type(v, json_type_object) || json_object_object_length(v) != 1) {
    vs_fail(w->rq, w->rs, 400, "%s: the value of \"%s\" must be a string, number or boolean, or an "
                               "object of one operator", at, key);
    return -1;
  }
  json_object_object_foreach(v, op, operand) {
    static const char *const ranges[] = {"$gt", "$gte", "$lt", "$lte"};
    for (size_t i = 0; i < sizeof ranges / sizeof *ranges; i++) {
      if (strcmp(op, ranges[i]) != 0) continue;
      if (!is_number(operand)) {
        vs_fail(w->rq, w->rs, 400, "%s: %s on \"%s\" takes a number", at, op, key);
        return -1;
      }
      condition_open(w, key);
      vs_text_puts(w->out, "\"range\":{\"");
      vs_text_puts(w->out, op + 1);
      vs_text_puts(w->out, "\":");
      vs_text_json(w->out, operand);
      vs_text_puts(w->out, "}}");
      return 0;
    }
    int in = strcmp(op, "$in") == 0, nin = strcmp(op, "$nin") == 0;
    int contains = strcmp(op, "$contains") == 0, not_contains = strcmp(op, "$not_contains") == 0;
    if (strcmp(op, "$eq") == 0 || strcmp(op, "$ne") == 0 || contains || not_contains) {
      if (!vs_chroma_scalar_type(operand)) {
        vs_fail(w->rq, w->rs, 400, "%s: %s on \"%s\" takes a string, number or boolean", at, op, key);
        return -1;
      }
      return match(w, key, operand, op[1] == 'n' || not_contains);
    }
    if (in || nin) {
      size_t n = json_object_is_type(operand, json_type_array) ? json_object_array_length(operand) : 0;
      for (size_t i = 0; i < n; i++)
        if (!vs_chroma_scalar_type(json_object_array_get_idx(operand, i))) n = 0;
      if (n == 0) {
        vs_fail(w->rq, w->rs, 400, "%s: %s on \"%s\" takes a non-empty list of strings, numbers "
                                   "or booleans", at, op, key);
        return -1;
      }
      return match(w, key, operand, nin);
    }
    vs_fail(w->rq, w->rs, 400, "%s: unsupported operator %s on \"%s\" (vexfs-server takes $eq, $ne, "
                               "$gt, $gte, $lt, $lte, $in, $nin, $contains and $not_contains)", at, op, key);
    return -1;
  }
  return -1;
}

static int clause(walk *w, json_object *where, const char *at, int depth);

/* "$and" / "$or": {"must"|"should": [each clause]}. */
static int logical(walk *w, const char *op, json_object *list, const char *at, int depth) {
  size_t n = json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;
  if (n == 0) {
    vs_fail(w->rq, w->rs, 400, "%s: %s takes a non-empty list of where clauses", at, op);
    return -1;
  }
  vs_text_puts(w->out, strcmp(op, "$and") == 0 ? "{\"must\":[" : "{\"should\":[");
  for (size_t i = 0; i < n; i++) {
    if (i) vs_text_put(w->out, ",", 1);
    if (clause(w, json_object_array_get_idx(list, i), at, depth + 1) != 0) return -1;
  }
  vs_text_puts(w->out, "]}");
  return 0;
}

/* A where object: its keys' conditions, all of which must hold. */
static int clause(walk *w, json_object *where, const char *at, int depth) {
  if (!json_object_is_type(where, json_type_object) || json_object_object_length(where) == 0) {
    vs_fail(w->rq, w->rs, 400, "%s: a where clause must be a non-empty object", at);
    return -1;
  }
  if (depth > MAX_DEPTH) {
    vs_fail(w->rq, w->rs, 400, "%s: $and / $or nest deeper than %d", at, MAX_DEPTH);
    return -1;
  }
  vs_text_puts(w->out, "{\"must\":[");
  int first = 1;
  json_object_object_foreach(where, key, v) {
    if (!first) vs_text_put(w->out, ",", 1);
    first = 0;
    int rc = strcmp(key, "$and") == 0 || strcmp(key, "$or") == 0 ? logical(w, key, v, at, depth)
             : key[0] == '$' ? (vs_fail(w->rq, w->rs, 400, "%s: unknown operator %s (logical "
                                                          "operators: $and, $or)", at, key), -1)
                             : field(w, key, v, at);
    if (rc != 0) return -1;
  }
  vs_text_puts(w->out, "]}");
  return 0;
}

int vs_chroma_filter(vs_request *rq, vs_response *rs, json_object *where, const uint64_t *ids,
                     size_t n, vs_text *out) {
  walk w = {rq, rs, out};
  int empty = !where || (json_object_is_type(where, json_type_object) &&
                         json_object_object_length(where) == 0);
  vs_text_puts(out, "{\"must\":[");
  if (!empty && clause(&w, where, "where", 0) != 0) return -1;
  if (ids) {
    if (!empty) vs_text_put(out, ",", 1);
    vs_text_puts(out, "{\"has_id\":[");
    for (size_t i = 0; i < n; i++) {
      if (i) vs_text_put(out, ",", 1);
      vs_text_u64(out, ids[i]);
    }
    vs_text_puts(out, "]}");
  }
  vs_text_puts(out, "]}");
  if (out->failed) {
    vs_fail(rq, rs, 503, "out of memory for the filter");
    return -1;
  }
  return 0;
}

int vs_chroma_no_where_document(vs_request *rq, vs_response *rs, json_object *body) {
  json_object *v = NULL;
  if (!json_object_object_get_ex(body, "where_document", &v) || json_object_is_type(v, json_type_null) ||
      (json_object_is_type(v, json_type_object) && json_object_object_length(v) == 0))
    return 0;
  vs_fail(rq, rs, 400, "where_document is not supported by vexfs-server: documents are stored and "
                       "returned, not indexed for text search; filter on metadata with where");
  return -1;
}

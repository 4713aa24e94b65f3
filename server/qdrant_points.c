/* Qdrant's point routes: upsert (list and batch forms), retrieve, get one, delete by ids or
 * filter, count and scroll. An upsert is one vexfs_upsert: points that exist are replaced in
 * the same log record that adds the new ones, so a crash keeps all of a batch or none. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qdrant.h"

int vs_payload_selector_ok(vs_request *rq, vs_response *rs, json_object *sel) {
  if (!sel || json_object_is_type(sel, json_type_boolean) ||
      json_object_is_type(sel, json_type_null))
    return 0;
  json_object *list = sel;
  if (json_object_is_type(sel, json_type_object)) { /* exactly one of include, exclude */
    int include = json_object_object_get_ex(sel, "include", &list);
    json_object *other;
    if (include == json_object_object_get_ex(sel, "exclude", include ? &other : &list) ||
        json_object_object_length(sel) != 1)
      list = NULL;
  }
  if (list && json_object_is_type(list, json_type_array)) {
    size_t n = json_object_array_length(list), i = 0;
    while (i < n && json_object_is_type(json_object_array_get_idx(list, i), json_type_string)) i++;
    if (i == n) return 0;
  }
  vs_fail(rq, rs, 400, "Bad request: `with_payload` must be true, false, a list of keys, "
                       "{\"include\": [...]} or {\"exclude\": [...]}");
  return -1;
}

void vs_path_delete(json_object *o, const char *path) {
  const char *dot = strchr(path, '.');
  if (!dot) {
    json_object_object_del(o, path);
    return;
  }
  char head[VEXFS_MAX_KEY_BYTES + 1];
  size_t n = (size_t)(dot - path);
  if (n > VEXFS_MAX_KEY_BYTES) return;
  memcpy(head, path, n);
  head[n] = 0;
  json_object *child;
  if (json_object_object_get_ex(o, head, &child) && json_object_is_type(child, json_type_object))
    vs_path_delete(child, dot + 1);
}

/* Copies the value at a dotted path of src into dst, making the objects on the way. */
static void path_copy(json_object *src, json_object *dst, const char *path) {
  const char *dot = strchr(path, '.');
  char head[VEXFS_MAX_KEY_BYTES + 1];
  size_t n = dot ? (size_t)(dot - path) : strlen(path);
  if (n > VEXFS_MAX_KEY_BYTES) return;
  memcpy(head, path, n);
  head[n] = 0;
  json_object *v, *into;
  if (!json_object_object_get_ex(src, head, &v)) return;
  if (!dot) {
    json_object_object_add(dst, head, json_object_get(v));
    return;
  }
  if (!json_object_is_type(v, json_type_object)) return;
  if (!json_object_object_get_ex(dst, head, &into)) {
    into = json_object_new_object();
    json_object_object_add(dst, head, into);
  }
  if (json_object_is_type(into, json_type_object)) path_copy(v, into, dot + 1);
}

/* The payload as the selector (not true/false) asks: the keys (dotted paths) it includes, or
 * all but those it excludes. */
static json_object *select_keys(const char *text, json_object *sel) {
  json_object *all = text ? vs_parse_payload(text) : NULL, *keys = sel, *out;
  int exclude = json_object_is_type(sel, json_type_object) &&
                json_object_object_get_ex(sel, "exclude", &keys);
  if (json_object_is_type(sel, json_type_object) && !exclude)
    json_object_object_get_ex(sel, "include", &keys);
  size_t n = json_object_array_length(keys);
  if (exclude) {
    out = NULL; /* deep copy wants an empty destination */
    if (!all || json_object_deep_copy(all, &out, NULL) != 0) out = json_object_new_object();
    for (size_t i = 0; i < n; i++)
      vs_path_delete(out, json_object_get_string(json_object_array_get_idx(keys, i)));
  } else {
    out = json_object_new_object();
    for (size_t i = 0; all && i < n; i++)
      path_copy(all, out, json_object_get_string(json_object_array_get_idx(keys, i)));
  }
  json_object_put(all);
  return out;
}

int vs_point_write(vs_text *out, vs_coll *k, uint64_t id, json_object *with_payload,
                   int with_vector, char *text, int have_text, const float *score) {
  int want = with_payload && !(json_object_is_type(with_payload, json_type_boolean) &&
                               !json_object_get_boolean(with_payload));
  if (want && !have_text && vexfs_get_payload(k->points, id, &text) != VEXFS_OK) return -1;
  float *v = NULL;
  if (with_vector && (!(v = malloc(k->dim * sizeof *v)) || vexfs_get(k->points, id, v) != VEXFS_OK)) {
    free(v);
    vexfs_free(text);
    return -1;
  }
  char uuid[37];
  vs_text_puts(out, "{\"id\":");
  if (vs_id_uuid(k, id, uuid)) {
    vs_text_put(out, "\"", 1);
    vs_text_puts(out, uuid); /* hex digits and dashes: nothing to escape */
    vs_text_put(out, "\"", 1);
  } else {
    vs_text_u64(out, id);
  }
  vs_text_puts(out, ",\"payload\":");
  if (want && json_object_is_type(with_payload, json_type_boolean)) {
    vs_text_puts(out, text ? text : "{}"); /* the library's text, byte for byte */
  } else if (want) {
    json_object *selected = select_keys(text, with_payload);
    vs_text_json(out, selected);
    json_object_put(selected);
  } else {
    vs_text_puts(out, "null");
  }
  vexfs_free(text);
  vs_text_puts(out, ",\"vector\":");
  if (v) {
    for (uint32_t i = 0; i < k->dim; i++) {
      vs_text_put(out, i ? "," : "[", 1);
      vs_text_float(out, v[i]);
    }
    vs_text_put(out, "]", 1);
    free(v);
  } else {
    vs_text_puts(out, "null");
  }
  if (score) {
    vs_text_puts(out, ",\"version\":0,\"score\":");
    vs_text_float(out, *score);
  }
  vs_text_put(out, "}", 1);
  return 0;
}

json_object *vs_point_record(vs_coll *k, uint64_t id, json_object *with_payload, int with_vector) {
  vs_text t = {0};
  if (vs_point_write(&t, k, id, with_payload, with_vector, NULL, 0, NULL) != 0 || t.failed) {
    vs_text_free(&t);
    return NULL;
  }
  return vs_raw_json(t.p);
}

int vs_is_vector(const vs_request *rq, json_object *v) {
  size_t n;
  return json_object_is_type(v, json_type_array) || vs_vectors_lookup(rq->vectors, v, &n);
}

size_t vs_vector_length(const vs_request *rq, json_object *v) {
  size_t n = 0;
  if (vs_vectors_lookup(rq->vectors, v, &n)) return n; /* the body check read it */
  return json_object_is_type(v, json_type_array) ? json_object_array_length(v) : SIZE_MAX;
}

int vs_read_floats(vs_request *rq, vs_response *rs, json_object *v, uint32_t dim, int normalize,
                   float *out, const char *what) {
  size_t n = 0;
  const float *lifted = vs_vectors_lookup(rq->vectors, v, &n);
  if (!lifted && !json_object_is_type(v, json_type_array)) {
    vs_fail(rq, rs, 400, "Bad request: %s: the vector must be a list of %u numbers (named "
                         "vectors are not supported by vexfs-server)", what, dim);
    return -1;
  }
  if (!lifted) n = json_object_array_length(v);
  if (n != dim) {
    vs_fail(rq, rs, 400, "Wrong input: Vector dimension error: expected dim: %u, got %zu (%s)",
            dim, n, what);
    return -1;
  }
  for (size_t i = 0; i < n; i++) {
    json_object *x = lifted ? NULL : json_object_array_get_idx(v, i);
    double d = lifted ? lifted[i] : json_object_get_double(x);
    if ((!lifted && !json_object_is_type(x, json_type_double) && !json_object_is_type(x, json_type_int)) ||
        !isfinite((float)d)) {
      vs_fail(rq, rs, 400, "Bad request: %s: coordinate %zu is not a finite 32-bit float", what, i);
      return -1;
    }
    out[i] = (float)d;
  }
  return vs_check_floats(rq, rs, out, n, normalize, what);
}

int vs_check_floats(vs_request *rq, vs_response *rs, float *out, size_t n, int normalize,
                    const char *what) {
  double norm = 0;
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(out[i])) {
      vs_fail(rq, rs, 400, "Bad request: %s: coordinate %zu is not a finite 32-bit float", what, i);
      return -1;
    }
    norm += (double)out[i] * out[i];
  }
  if (normalize) { /* unit length, in double so that tiny and huge norms both come out at 1 */
    double scale = norm > 0 ? 1.0 / sqrt(norm) : 0.0;
    for (size_t i = 0; norm > 0 && i < n; i++) out[i] = (float)(out[i] * scale);
    return 0;
  }
  if (norm > VEXFS_MAX_SQUARED_NORM * 0.99) { /* with a margin for the library's float sum */
    vs_fail(rq, rs, 400, "Bad request: %s: the vector's squared norm %g is above %g", what, norm,
            (double)VEXFS_MAX_SQUARED_NORM);
    return -1;
  }
  return 0;
}

int vs_read_vector(vs_request *rq, vs_response *rs, vs_coll *k, json_object *v, float *out,
                   const char *what) {
  /* cosine vectors are stored at unit length, as Qdrant stores them */
  return vs_read_floats(rq, rs, v, k->dim, k->metric == VEXFS_METRIC_COSINE, out, what);
}

static int read_vector(vs_request *rq, vs_response *rs, vs_coll *k, json_object *v, float *out,
                       size_t row) {
  char what[32];
  snprintf(what, sizeof what, "point %zu", row);
  return vs_read_vector(rq, rs, k, v, out, what);
}

/* The points of an upsert, in either form. */
typedef struct batch {
  size_t n;
  json_object **ids;
  float *vectors;
  char **payloads; /* entries NULL for none */
  uint64_t *lib_ids;
} batch;

static void batch_free(batch *b) {
  for (size_t i = 0; b->payloads && i < b->n; i++) free(b->payloads[i]);
  free(b->ids), free(b->vectors), free(b->payloads), free(b->lib_ids);
}

static int read_payload(vs_request *rq, vs_response *rs, json_object *p, char **out, size_t row) {
  if (!p || json_object_is_type(p, json_type_null)) return 0;
  if (!json_object_is_type(p, json_type_object)) {
    vs_fail(rq, rs, 400, "Bad request: point %zu: the payload must be an object", row);
    return -1;
  }
  if (!(*out = strdup(json_object_to_json_string_ext(p, JSON_C_TO_STRING_PLAIN)))) {
    vs_fail(rq, rs, 503, "Service unavailable: out of memory");
    return -1;
  }
  return 0;
}

static int batch_alloc(vs_request *rq, vs_response *rs, batch *b, size_t n, uint32_t dim) {
  b->n = n;
  b->ids = calloc(n ? n : 1, sizeof *b->ids);
  b->vectors = malloc((n ? n : 1) * dim * sizeof(float));
  b->payloads = calloc(n ? n : 1, sizeof *b->payloads);
  b->lib_ids = malloc((n ? n : 1) * sizeof *b->lib_ids);
  if (b->ids && b->vectors && b->payloads && b->lib_ids) return 0;
  vs_fail(rq, rs, 503, "Service unavailable: out of memory for %zu points", n);
  return -1;
}

static int read_list_form(vs_request *rq, vs_response *rs, vs_coll *k, json_object *points,
                          batch *b) {
  if (!json_object_is_type(points, json_type_array)) {
    vs_fail(rq, rs, 400, "Bad request: `points` must be a list");
    return -1;
  }
  size_t n = json_object_array_length(points);
  if (batch_alloc(rq, rs, b, n, k->dim) != 0) return -1;
  for (size_t i = 0; i < n; i++) {
    json_object *p = json_object_array_get_idx(points, i), *v = NULL, *payload = NULL;
    if (!json_object_is_type(p, json_type_object) ||
        !json_object_object_get_ex(p, "id", &b->ids[i]) ||
        !json_object_object_get_ex(p, "vector", &v)) {
      vs_fail(rq, rs, 400, "Bad request: point %zu needs `id` and `vector`", i);
      return -1;
    }
    json_object_object_get_ex(p, "payload", &payload);
    if (read_vector(rq, rs, k, v, b->vectors + i * k->dim, i) != 0 ||
        read_payload(rq, rs, payload, &b->payloads[i], i) != 0)
      return -1;
  }
  return 0;
}

static int read_batch_form(vs_request *rq, vs_response *rs, vs_coll *k, json_object *form,
                           batch *b) {
  json_object *ids, *vectors, *payloads = NULL;
  if (!json_object_is_type(form, json_type_object) ||
      !json_object_object_get_ex(form, "ids", &ids) ||
      !json_object_object_get_ex(form, "vectors", &vectors) ||
      !json_object_is_type(ids, json_type_array) || !json_object_is_type(vectors, json_type_array)) {
    vs_fail(rq, rs, 400, "Bad request: `batch` needs lists `ids` and `vectors`");
    return -1;
  }
  size_t n = json_object_array_length(ids);
  json_object_object_get_ex(form, "payloads", &payloads);
  if (json_object_is_type(payloads, json_type_null)) payloads = NULL;
  if (json_object_array_length(vectors) != n ||
      (payloads && (!json_object_is_type(payloads, json_type_array) ||
                    json_object_array_length(payloads) != n))) {
    vs_fail(rq, rs, 400, "Bad request: `batch` has %zu ids but %zu vectors%s", n,
            json_object_array_length(vectors), payloads ? " or another count of payloads" : "");
    return -1;
  }
  if (batch_alloc(rq, rs, b, n, k->dim) != 0) return -1;
  for (size_t i = 0; i < n; i++) {
    b->ids[i] = json_object_array_get_idx(ids, i);
    if (read_vector(rq, rs, k, json_object_array_get_idx(vectors, i), b->vectors + i * k->dim,
                    i) != 0 ||
        (payloads &&
         read_payload(rq, rs, json_object_array_get_idx(payloads, i), &b->payloads[i], i) != 0))
      return -1;
  }
  return 0;
}

typedef struct order {
  uint64_t id;
  size_t at;
} order;

static int by_id_then_position(const void *a, const void *b) {
  const order *x = a, *y = b;
  if (x->id != y->id) return x->id < y->id ? -1 : 1;
  return x->at < y->at ? -1 : x->at > y->at;
}

/* Keeps the last occurrence of each id (later points of a batch win, as in Qdrant), compacting
 * the batch in place. */
static int dedupe(vs_request *rq, vs_response *rs, batch *b, uint32_t dim) {
  order *o = malloc((b->n ? b->n : 1) * sizeof *o);
  uint8_t *keep = calloc(b->n ? b->n : 1, 1);
  if (!o || !keep) {
    free(o), free(keep);
    vs_fail(rq, rs, 503, "Service unavailable: out of memory");
    return -1;
  }
  for (size_t i = 0; i < b->n; i++) o[i] = (order){b->lib_ids[i], i};
  qsort(o, b->n, sizeof *o, by_id_then_position);
  for (size_t i = 0; i < b->n; i++)
    if (i + 1 == b->n || o[i + 1].id != o[i].id) keep[o[i].at] = 1;
  size_t m = 0;
  for (size_t i = 0; i < b->n; i++) {
    if (!keep[i]) {
      free(b->payloads[i]);
      continue;
    }
    b->lib_ids[m] = b->lib_ids[i];
    b->payloads[m] = b->payloads[i];
    memmove(b->vectors + m * dim, b->vectors + i * dim, dim * sizeof(float));
    m++;
  }
  b->n = m;
  free(o), free(keep);
  return 0;
}

void vs_points_upsert(vs_request *rq, vs_response *rs, char **args) {
  json_object *body = vs_body(rq, rs), *points = NULL, *form = NULL;
  if (!body) return;
  vs_coll *k = vs_request_collection(rq, rs, args[0]);
  if (!k) return;
  batch b = {0};
  int parsed = json_object_object_get_ex(body, "points", &points)
                   ? read_list_form(rq, rs, k, points, &b)
               : json_object_object_get_ex(body, "batch", &form)
                   ? read_batch_form(rq, rs, k, form, &b)
                   : (vs_fail(rq, rs, 400, "Bad request: the body needs `points` or `batch`"), -1);
  if (parsed == 0) {
    /* held to the end: a number checked here must not be given to another request's UUID
     * before it is written (libvexfs writes one batch of a collection at a time anyway) */
    pthread_mutex_lock(&k->write);
    if (vs_ids_assign(rq, rs, k, b.ids, b.n, b.lib_ids) == 0 && dedupe(rq, rs, &b, k->dim) == 0) {
      vexfs_status st = vexfs_upsert(k->points, b.lib_ids, b.vectors,
                                     (const char *const *)b.payloads, b.n);
      if (st == VEXFS_OK) vs_coll_saw_ids(k, b.lib_ids, b.n); /* ids taken (Chroma, /api/v1) */
      if (st == VEXFS_OK) vs_ok_operation(rq, rs);
      else vs_fail_lib(rq, rs, st);
    }
    pthread_mutex_unlock(&k->write);
  }
  batch_free(&b);
  vs_catalog_put(&rq->srv->catalog, k);
}

/* The stored points among the listed ids, as ids (found[i] says which); -1 after vs_fail. */
static int existing_ids(vs_request *rq, vs_response *rs, vs_coll *k, json_object *list,
                        uint64_t **ids, uint8_t **found, size_t *n) {
  if (!json_object_is_type(list, json_type_array)) {
    vs_fail(rq, rs, 400, "Bad request: the point ids must be a list");
    return -1;
  }
  *n = json_object_array_length(list);
  *ids = malloc((*n ? *n : 1) * sizeof **ids);
  *found = malloc(*n ? *n : 1);
  if (!*ids || !*found) {
    vs_fail(rq, rs, 503, "Service unavailable: out of memory");
    return -1;
  }
  if (vs_ids_lookup(rq, rs, k, list, *ids, *found) != 0) return -1;
  float *scratch = malloc(k->dim * sizeof *scratch);
  for (size_t i = 0; i < *n; i++)
    if ((*found)[i] && (!scratch || vexfs_get(k->points, (*ids)[i], scratch) != VEXFS_OK))
      (*found)[i] = 0;
  free(scratch);
  return 0;
}

void vs_points_retrieve(vs_request *rq, vs_response *rs, char **args) {
  json_object *body = vs_body(rq, rs), *list = NULL, *with_payload = NULL;
  if (!body) return;
  int with_vector = 0;
  if (!json_object_object_get_ex(body, "ids", &list)) {
    vs_fail(rq, rs, 400, "Bad request: missing field `ids`");
    return;
  }
  if (!json_object_object_get_ex(body, "with_payload", &with_payload) ||
      json_object_is_type(with_payload, json_type_null))
    with_payload = NULL;
  json_object *yes = json_object_new_boolean(1);
  if (vs_payload_selector_ok(rq, rs, with_payload) != 0 ||
      vs_get_bool(rq, rs, body, "with_vector", &with_vector) != 0) {
    json_object_put(yes);
    return;
  }
  vs_coll *k = vs_request_collection(rq, rs, args[0]);
  if (!k) {
    json_object_put(yes);
    return;
  }
  uint64_t *ids = NULL;
  uint8_t *found = NULL;
  size_t n = 0;
  if (existing_ids(rq, rs, k, list, &ids, &found, &n) == 0) {
    json_object *out = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
      json_object *r = found[i] ? vs_point_record(k, ids[i], with_payload ? with_payload : yes,
                                                  with_vector)
                                : NULL;
      if (r) json_object_array_add(out, r);
    }
    vs_ok(rq, rs, out);
  }
  free(ids), free(found);
  json_object_put(yes);
  vs_catalog_put(&rq->srv->catalog, k);
}

void vs_point_get(vs_request *rq, vs_response *rs, char **args) {
  vs_coll *k = vs_request_collection(rq, rs, args[0]);
  if (!k) return;
  json_object *list = json_object_new_array(), *yes = json_object_new_boolean(1);
  char *end = NULL;
  int digits = args[1][0] >= '0' && args[1][0] <= '9'; /* strtoull alone takes "+5", " 5" */
  errno = 0;
  unsigned long long num = digits ? strtoull(args[1], &end, 10) : 0;
  json_object_array_add(list, digits && *end == 0 && errno != ERANGE
                                  ? json_object_new_uint64(num)
                                  : json_object_new_string(args[1]));
  uint64_t *ids = NULL;
  uint8_t *found = NULL;
  size_t n = 0;
  if (existing_ids(rq, rs, k, list, &ids, &found, &n) == 0) {
    json_object *r = found[0] ? vs_point_record(k, ids[0], yes, 1) : NULL;
    if (r) vs_ok(rq, rs, r);
    else vs_fail(rq, rs, 404, "Not found: No point with id %s found", args[1]);
  }
  free(ids), free(found);
  json_object_put(list), json_object_put(yes);
  vs_catalog_put(&rq->srv->catalog, k);
}

/* The ids a request selects by `points` (a list of ids; those not stored are skipped) or by
 * `filter`; *ids freed with free(). -1 after vs_fail. */
int vs_selected_ids(vs_request *rq, vs_response *rs, vs_coll *k, json_object *body, int must_exist,
                    uint64_t **ids, size_t *n) {
  json_object *list = NULL, *filter = NULL;
  if (json_object_object_get_ex(body, "points", &list) && !json_object_is_type(list, json_type_null)) {
    uint8_t *found = NULL;
    if (existing_ids(rq, rs, k, list, ids, &found, n) != 0) {
      free(found);
      return -1;
    }
    size_t m = 0;
    for (size_t i = 0; i < *n; i++) {
      if (!found[i] && must_exist) {
        vs_fail(rq, rs, 404, "Not found: No point with id %s found",
                json_object_to_json_string_ext(json_object_array_get_idx(list, i),
                                               JSON_C_TO_STRING_PLAIN));
        free(found);
        return -1;
      }
      if (found[i]) (*ids)[m++] = (*ids)[i];
    }
    *n = m;
    free(found);
    return 0;
  }
  if (vs_get_object(rq, rs, body, "filter", 0, &filter) != 0) return -1;
  if (!filter) {
    vs_fail(rq, rs, 400, "Bad request: the body needs `points` (ids) or `filter`");
    return -1;
  }
  uint64_t *listed_ids = NULL;
  if (vs_filter_ids(rq, rs, k, filter, &listed_ids, n) != 0) return -1;
  *ids = malloc((*n ? *n : 1) * sizeof **ids);
  if (*ids && *n) memcpy(*ids, listed_ids, *n * sizeof **ids);
  vexfs_free(listed_ids);
  if (*ids) return 0;
  vs_fail(rq, rs, 503, "Service unavailable: out of memory");
  return -1;
}

/* Removes those of ids (which may repeat) that are stored, in one call. Under k->write. */
static vexfs_status remove_present(vs_coll *k, uint64_t *ids, size_t n) {
  float *scratch = malloc(k->dim * sizeof *scratch);
  if (!scratch) return VEXFS_E_NOMEM;
  qsort(ids, n, sizeof *ids, vs_compare_ids);
  size_t m = 0;
  for (size_t i = 0; i < n; i++)
    if ((m == 0 || ids[m - 1] != ids[i]) && vexfs_get(k->points, ids[i], scratch) == VEXFS_OK)
      ids[m++] = ids[i];
  free(scratch);
  return m ? vexfs_remove(k->points, ids, m) : VEXFS_OK;
}

void vs_points_delete(vs_request *rq, vs_response *rs, char **args) {
  json_object *body = vs_body(rq, rs);
  if (!body) return;
  vs_coll *k = vs_request_collection(rq, rs, args[0]);
  if (!k) return;
  pthread_mutex_lock(&k->write);
  uint64_t *ids = NULL;
  size_t n = 0;
  if (vs_selected_ids(rq, rs, k, body, 0, &ids, &n) == 0) { /* missing ids: nothing to do */
    vexfs_status st = remove_present(k, ids, n);
    if (st == VEXFS_OK) vs_ok_operation(rq, rs);
    else vs_fail_lib(rq, rs, st);
  }
  pthread_mutex_unlock(&k->write);
  free(ids);
  vs_catalog_put(&rq->srv->catalog, k);
}

void vs_points_count(vs_request *rq, vs_response *rs, char **args) {
  json_object *body = vs_body(rq, rs), *filter = NULL;
  if (!body || vs_get_object(rq, rs, body, "filter", 0, &filter) != 0) return;
  vs_coll *k = vs_request_collection(rq, rs, args[0]);
  if (!k) return;
  size_t n = 0;
  uint64_t *ids = NULL;
  if (!filter || vs_filter_ids(rq, rs, k, filter, &ids, &n) == 0) {
    if (!filter) n = vexfs_count(k->points);
    json_object *r = json_object_new_object();
    json_object_object_add(r, "count", json_object_new_uint64(n));
    vs_ok(rq, rs, r);
  }
  vexfs_free(ids);
  vs_catalog_put(&rq->srv->catalog, k);
}

/* A point in scroll order: numbers ascending, then UUIDs ascending as Qdrant orders them. */
typedef struct scroll_key {
  uint64_t id;
  int is_uuid;
  char uuid[37];
} scroll_key;

static int scroll_order(const void *a, const void *b) {
  const scroll_key *x = a, *y = b;
  if (x->is_uuid != y->is_uuid) return x->is_uuid - y->is_uuid;
  if (x->is_uuid) return strcmp(x->uuid, y->uuid);
  return (x->id > y->id) - (x->id < y->id);
}

void vs_points_scroll(vs_request *rq, vs_response *rs, char **args) {
  json_object *body = vs_body(rq, rs), *filter = NULL, *with_payload = NULL, *offset = NULL;
  if (!body) return;
  uint64_t limit = 10;
  int with_vector = 0;
  if (json_object_object_get_ex(body, "order_by", NULL)) {
    vs_fail(rq, rs, 400, "Bad request: `order_by` is not supported by vexfs-server (scroll "
                         "returns points by id)");
    return;
  }
  if (!json_object_object_get_ex(body, "with_payload", &with_payload) ||
      json_object_is_type(with_payload, json_type_null))
    with_payload = NULL;
  scroll_key from = {0};
  if (json_object_object_get_ex(body, "offset", &offset) &&
      !json_object_is_type(offset, json_type_null)) {
    int kind = vs_point_id_parse(offset, &from.id, from.uuid);
    if (kind == 0) {
      vs_fail(rq, rs, 400, "Bad request: `offset` must be a point id (an unsigned integer or a UUID)");
      return;
    }
    from.is_uuid = kind == 2;
  }
  if (vs_get_object(rq, rs, body, "filter", 0, &filter) != 0 ||
      vs_get_uint(rq, rs, body, "limit", VEXFS_MAX_K, &limit) != 0 ||
      vs_get_bool(rq, rs, body, "with_vector", &with_vector) != 0 ||
      vs_payload_selector_ok(rq, rs, with_payload) != 0)
    return;
  vs_coll *k = vs_request_collection(rq, rs, args[0]);
  if (!k) return;
  uint64_t *ids = NULL;
  size_t n = 0;
  scroll_key *keys = NULL;
  if (vs_filter_ids(rq, rs, k, filter, &ids, &n) == 0 &&
      !(keys = malloc((n ? n : 1) * sizeof *keys)))
    vs_fail(rq, rs, 503, "Service unavailable: out of memory");
  if (keys) {
    for (size_t i = 0; i < n; i++) {
      keys[i].id = ids[i];
      keys[i].is_uuid = vs_id_uuid(k, ids[i], keys[i].uuid);
    }
    qsort(keys, n, sizeof *keys, scroll_order);
    size_t i = 0, lo = 0, hi = n; /* the first point at or after the offset */
    while (lo < hi) {
      size_t mid = lo + (hi - lo) / 2;
      if (scroll_order(&keys[mid], &from) < 0) lo = mid + 1;
      else hi = mid;
    }
    json_object *points = json_object_new_array(), *yes = json_object_new_boolean(1);
    for (i = lo; i < n && (uint64_t)json_object_array_length(points) < limit; i++) {
      json_object *r = vs_point_record(k, keys[i].id, with_payload ? with_payload : yes,
                                       with_vector);
      if (r) json_object_array_add(points, r);
    }
    json_object *r = json_object_new_object();
    json_object_object_add(r, "points", points);
    json_object_object_add(r, "next_page_offset",
                           i >= n          ? NULL
                           : keys[i].is_uuid ? json_object_new_string(keys[i].uuid)
                                             : json_object_new_uint64(keys[i].id));
    json_object_put(yes);
    vs_ok(rq, rs, r);
  }
  free(keys);
  vexfs_free(ids);
  vs_catalog_put(&rq->srv->catalog, k);
}

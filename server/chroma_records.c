/* Chroma's record routes: add, upsert, update, get, delete and count. A record is a point of the
 * collection's points (chroma.h): new string ids get the next library id, counting up; the
 * string id is found again through the keyword index on its payload key (vs_coll_take_ids). Writes of a collection
 * run one at a time (k->write), each as one library call, so a batch is stored whole or not at
 * all, and as Chroma does: add skips ids already stored, update skips ids not stored, upsert
 * updates those stored (metadata merged key by key, a null value removing its key) and adds the
 * others. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>

#include "chroma.h"
#include "qdrant.h"

/* A batch of records as a request gives them: lists of n entries, or NULL where absent. */
typedef struct batch {
  size_t n;
  json_object *ids, *embeddings, *metadatas, *documents, *uris;
  uint32_t dim;   /* of the embeddings (0: none given) */
  float *vectors; /* dim each, of the embeddings given, in order (malloc'd; NULL when none):
                     only those, so that an update of many ids with one embedding and nulls
                     costs one row, not one per id */
  size_t *at;     /* at[i]: embeddings[i]'s row in vectors, SIZE_MAX for null (an update
                     keeps the stored vector) */
} batch;

static void batch_free(batch *b) {
  free(b->vectors);
  free(b->at);
}

/* Whether a string holds "\u0000", which ids, documents and URIs may not (they are C strings to
 * the library's keyword index and to the answers written). */
static int has_nul(json_object *s) {
  return strlen(json_object_get_string(s)) != (size_t)json_object_get_string_len(s);
}

typedef enum write_kind { ADD, UPSERT, UPDATE } write_kind;

static int id_compare(const void *a, const void *b) {
  return strcmp(json_object_get_string(*(json_object *const *)a),
                json_object_get_string(*(json_object *const *)b));
}

int vs_chroma_read_ids(vs_request *rq, vs_response *rs, json_object *ids, size_t max, size_t *n) {
  *n = json_object_is_type(ids, json_type_array) ? json_object_array_length(ids) : 0;
  if (*n == 0 || *n > max) {
    vs_fail(rq, rs, 400, "`ids` must be a list of 1 to %zu strings", max);
    return -1;
  }
  json_object **sorted = malloc(*n * sizeof *sorted);
  if (!sorted) {
    vs_fail(rq, rs, 503, "out of memory");
    return -1;
  }
  for (size_t i = 0; i < *n; i++) {
    sorted[i] = json_object_array_get_idx(ids, i);
    if (!json_object_is_type(sorted[i], json_type_string) || json_object_get_string_len(sorted[i]) == 0 ||
        has_nul(sorted[i])) {
      free(sorted);
      vs_fail(rq, rs, 400, "`ids[%zu]` must be a non-empty string without \\u0000", i);
      return -1;
    }
  }
  qsort(sorted, *n, sizeof *sorted, id_compare);
  for (size_t i = 1; i < *n; i++)
    if (id_compare(&sorted[i - 1], &sorted[i]) == 0) {
      vs_fail(rq, rs, 400, "Expected IDs to be unique, found duplicates of: %s",
              json_object_get_string(sorted[i]));
      free(sorted);
      return -1;
    }
  free(sorted);
  return 0;
}

/* A list field of the batch: absent or null (NULL), else n entries. */
static int read_list(vs_request *rq, vs_response *rs, json_object *body, const char *key,
                     size_t n, json_object **out) {
  json_object *v = NULL;
  *out = NULL;
  if (!json_object_object_get_ex(body, key, &v) || json_object_is_type(v, json_type_null)) return 0;
  if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) != n) {
    vs_fail(rq, rs, 400, "`%s` must be a list of %zu entries, one per id", key, n);
    return -1;
  }
  *out = v;
  return 0;
}

/* Each entry of list is null or of type t. */
static int check_entries(vs_request *rq, vs_response *rs, json_object *list, const char *key,
                         json_type t, const char *what) {
  for (size_t i = 0; list && i < json_object_array_length(list); i++) {
    json_object *e = json_object_array_get_idx(list, i);
    if ((!json_object_is_type(e, json_type_null) && !json_object_is_type(e, t)) ||
        (t == json_type_string && json_object_is_type(e, t) && has_nul(e))) {
      vs_fail(rq, rs, 400, "`%s[%zu]` must be %s (without \\u0000) or null", key, i, what);
      return -1;
    }
  }
  return 0;
}

/* A string, number or boolean, or a non-empty list of one of those types (Chroma's lists). */
static int metadata_value_ok(json_object *v) {
  if (vs_chroma_scalar_type(v)) return 1;
  size_t n = json_object_is_type(v, json_type_array) ? json_object_array_length(v) : 0;
  int type = n ? vs_chroma_scalar_type(json_object_array_get_idx(v, 0)) : 0;
  for (size_t i = 1; type && i < n; i++)
    if (vs_chroma_scalar_type(json_object_array_get_idx(v, i)) != type) type = 0;
  return type != 0;
}

/* Record metadata: keys not reserved, values as metadata_value_ok says (or null, which removes
 * the key, where removing means something: updates). */
static int check_metadatas(vs_request *rq, vs_response *rs, json_object *list) {
  if (check_entries(rq, rs, list, "metadatas", json_type_object, "an object") != 0) return -1;
  for (size_t i = 0; list && i < json_object_array_length(list); i++) {
    json_object *m = json_object_array_get_idx(list, i);
    if (!json_object_is_type(m, json_type_object)) continue;
    json_object_object_foreach(m, key, value) {
      if (!*key || strncmp(key, VS_CHROMA_RESERVED, sizeof VS_CHROMA_RESERVED - 1) == 0) {
        vs_fail(rq, rs, 400, "`metadatas[%zu]`: the key \"%s\" is reserved", i, key);
        return -1;
      }
      if (!json_object_is_type(value, json_type_null) && !metadata_value_ok(value)) {
        vs_fail(rq, rs, 400, "`metadatas[%zu]`: the value of \"%s\" must be a string, number or "
                             "boolean, or a non-empty list of one of those types", i, key);
        return -1;
      }
    }
  }
  return 0;
}

/* The numbers an embedding holds: a list's length, or for a base64 string (the client's form
 * when pre-flight-checks says supports_base64_encoding) its bytes / 4; 0 when it is neither. */
static size_t embedding_length(const vs_request *rq, json_object *e) {
  size_t n = vs_vector_length(rq, e); /* a list, or one the body's check lifted */
  if (n != SIZE_MAX) return n;
  if (!json_object_is_type(e, json_type_string)) return 0;
  size_t len = (size_t)json_object_get_string_len(e), pad = 0;
  const char *s = json_object_get_string(e);
  while (pad < 2 && pad < len && s[len - 1 - pad] == '=') pad++;
  size_t bytes = len % 4 ? 1 : len / 4 * 3 - pad;
  return bytes % 4 ? 0 : bytes / 4;
}

/* Reads embedding e (a list, or base64 of little-endian float32s) of dim numbers into out. -1
 * after a 400 naming `what`. */
static int read_embedding(vs_request *rq, vs_response *rs, json_object *e, uint32_t dim, float *out,
                          const char *what) {
  if (vs_vector_length(rq, e) != SIZE_MAX) return vs_read_floats(rq, rs, e, dim, 0, out, what);
  gnutls_datum_t text = {(unsigned char *)json_object_get_string(e),
                         (unsigned)json_object_get_string_len(e)}, raw = {0};
  int ok = gnutls_base64_decode2(&text, &raw) == 0 && raw.size == (size_t)dim * 4;
  for (uint32_t i = 0; ok && i < dim; i++) { /* little-endian, whatever this machine is */
    const unsigned char *p = raw.data + 4 * i;
    uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    memcpy(&out[i], &u, sizeof u);
  }
  gnutls_free(raw.data);
  if (!ok) {
    vs_fail(rq, rs, 400, "%s: a string embedding must be base64 of %u little-endian float32s", what, dim);
    return -1;
  }
  return vs_check_floats(rq, rs, out, dim, 0, what);
}

static int read_batch(vs_request *rq, vs_response *rs, json_object *body, write_kind kind, batch *b) {
  *b = (batch){0};
  if (!json_object_object_get_ex(body, "ids", &b->ids)) {
    vs_fail(rq, rs, 400, "missing field `ids`");
    return -1;
  }
  if (vs_chroma_read_ids(rq, rs, b->ids, VS_CHROMA_MAX_BATCH, &b->n) ||
      read_list(rq, rs, body, "embeddings", b->n, &b->embeddings) ||
      read_list(rq, rs, body, "metadatas", b->n, &b->metadatas) ||
      read_list(rq, rs, body, "documents", b->n, &b->documents) ||
      read_list(rq, rs, body, "uris", b->n, &b->uris) || check_metadatas(rq, rs, b->metadatas) ||
      check_entries(rq, rs, b->documents, "documents", json_type_string, "a string") ||
      check_entries(rq, rs, b->uris, "uris", json_type_string, "a string"))
    return -1;
  if (!b->embeddings && kind != UPDATE) {
    vs_fail(rq, rs, 400, "`embeddings` are required: vexfs-server stores the embeddings it is "
                         "given and computes none");
    return -1;
  }
  for (size_t i = 0; b->embeddings && i < b->n; i++) {
    json_object *e = json_object_array_get_idx(b->embeddings, i);
    if (kind == UPDATE && json_object_is_type(e, json_type_null)) continue;
    size_t len = embedding_length(rq, e);
    if (len == 0 || len > VEXFS_MAX_DIM) {
      vs_fail(rq, rs, 400, "`embeddings[%zu]` must be a list of 1 to %u numbers (or their base64)",
              i, VEXFS_MAX_DIM);
      return -1;
    }
    if (b->dim && len != b->dim) {
      vs_fail(rq, rs, 400, "Inconsistent dimensions in provided embeddings: %u, then %zu at "
                           "embeddings[%zu]", b->dim, len, i);
      return -1;
    }
    b->dim = (uint32_t)len;
  }
  if (!b->dim) return 0;
  size_t rows = 0;
  for (size_t i = 0; i < b->n; i++)
    rows += !json_object_is_type(json_object_array_get_idx(b->embeddings, i), json_type_null);
  b->vectors = malloc(rows * b->dim * sizeof *b->vectors);
  b->at = malloc(b->n * sizeof *b->at);
  if (!b->vectors || !b->at) {
    vs_fail(rq, rs, 503, "out of memory");
    return -1;
  }
  for (size_t i = 0, row = 0; i < b->n; i++) {
    json_object *e = json_object_array_get_idx(b->embeddings, i);
    b->at[i] = SIZE_MAX;
    if (json_object_is_type(e, json_type_null)) continue;
    char what[48];
    snprintf(what, sizeof what, "embeddings[%zu]", i);
    if (read_embedding(rq, rs, e, b->dim, b->vectors + row * b->dim, what) != 0) return -1;
    b->at[i] = row++;
  }
  return 0;
}

typedef struct found {
  const char *id;
  uint64_t at;
} found;

static int found_compare(const void *a, const void *b) {
  return strcmp(((const found *)a)->id, ((const found *)b)->id);
}

int vs_chroma_lookup_ids(vs_request *rq, vs_response *rs, vs_coll *k, json_object *list,
                         uint64_t *ids) {
  size_t n = json_object_array_length(list), nhits = 0;
  for (size_t i = 0; i < n; i++) ids[i] = UINT64_MAX;
  vs_text filter = {0};
  vs_text_puts(&filter, "{\"must\":[{\"key\":\"" VS_CHROMA_KEY_ID "\",\"match\":{\"any\":");
  vs_text_json(&filter, list);
  vs_text_puts(&filter, "}}]}");
  uint64_t *hits = NULL;
  vexfs_status st = filter.failed ? VEXFS_E_NOMEM
                                  : vexfs_list_ids_filtered(k->points, filter.p, &hits, &nhits);
  vs_text_free(&filter);
  found *stored = nhits ? calloc(nhits, sizeof *stored) : NULL;
  vs_chroma_record *records = nhits ? calloc(nhits, sizeof *records) : NULL;
  if (st == VEXFS_OK && nhits && (!stored || !records)) st = VEXFS_E_NOMEM;
  size_t m = 0;
  for (size_t i = 0; st == VEXFS_OK && i < nhits; i++)
    if (vs_chroma_record_read(k, hits[i], &records[m]) == 0 && records[m].id) {
      stored[m] = (found){records[m].id, hits[i]};
      m++;
    } else {
      vs_chroma_record_free(&records[m]);
    }
  if (st == VEXFS_OK) {
    if (m) qsort(stored, m, sizeof *stored, found_compare);
    for (size_t i = 0; i < n; i++) {
      found key = {json_object_get_string(json_object_array_get_idx(list, i)), 0};
      found *hit = m ? bsearch(&key, stored, m, sizeof *stored, found_compare) : NULL;
      if (hit) ids[i] = hit->at;
    }
  }
  for (size_t i = 0; i < m; i++) vs_chroma_record_free(&records[i]);
  free(records);
  free(stored);
  vexfs_free(hits);
  if (st != VEXFS_OK) vs_fail_lib(rq, rs, st);
  return st == VEXFS_OK ? 0 : -1;
}

/* The payload of record i: its id, document and URI (the batch's, else the stored record's) and
 * metadata (the stored one with the batch's keys set over it, null values removing theirs). */
static char *payload_text(const batch *b, size_t i, const vs_chroma_record *old) {
  json_object *o = json_object_new_object(), *v;
  if (!o) return NULL;
  json_object_object_add(o, VS_CHROMA_KEY_ID, json_object_get(json_object_array_get_idx(b->ids, i)));
  const char *document = old ? old->document : NULL, *uri = old ? old->uri : NULL;
  if (b->documents && (v = json_object_array_get_idx(b->documents, i)) && json_object_is_type(v, json_type_string))
    document = json_object_get_string(v);
  if (b->uris && (v = json_object_array_get_idx(b->uris, i)) && json_object_is_type(v, json_type_string))
    uri = json_object_get_string(v);
  if (document) json_object_object_add(o, VS_CHROMA_KEY_DOCUMENT, json_object_new_string(document));
  if (uri) json_object_object_add(o, VS_CHROMA_KEY_URI, json_object_new_string(uri));
  if (old && old->metadata) {
    json_object_object_foreach(old->metadata, key, value) json_object_object_add(o, key, json_object_get(value));
  }
  json_object *given = b->metadatas ? json_object_array_get_idx(b->metadatas, i) : NULL;
  if (given && json_object_is_type(given, json_type_object)) {
    json_object_object_foreach(given, key, value) {
      if (json_object_is_type(value, json_type_null)) json_object_object_del(o, key);
      else json_object_object_add(o, key, json_object_get(value));
    }
  }
  const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
  char *copy = text ? strdup(text) : NULL;
  json_object_put(o);
  return copy;
}

/* The collection a record route names by id, with its points (NULL before its first add, made
 * then when dim > 0); records of dim numbers (0: none) must fit. -1 after a failure answered. */
static int open_points(vs_request *rq, vs_response *rs, char **args, uint32_t dim, int create,
                       vs_chroma_info *info, vs_coll **k) {
  *k = NULL;
  if (vs_chroma_check_scope(rq, rs, args) != 0) return -1;
  if (vs_chroma_find(rq->srv, args[2], 1, info) != 0) {
    vs_fail(rq, rs, 404, "Collection [%s] does not exist", args[2]);
    return -1;
  }
  vexfs_status st;
  *k = vs_chroma_points(rq->srv, info, create ? dim : 0, &st);
  if (st == VEXFS_E_NOT_FOUND) /* deleted since it was looked up */
    vs_fail(rq, rs, 404, "Collection [%s] does not exist", args[2]);
  else if (st != VEXFS_OK)
    vs_fail_lib(rq, rs, st);
  if (st != VEXFS_OK) {
    vs_chroma_info_free(info);
    return -1;
  }
  if (*k && dim && (*k)->dim != dim) {
    vs_fail(rq, rs, 400, "Collection expecting embedding with dimension of %u, got %u", (*k)->dim, dim);
    vs_catalog_put(&rq->srv->catalog, *k);
    vs_chroma_info_free(info);
    return -1;
  }
  return 0;
}

static void close_points(vs_request *rq, vs_chroma_info *info, vs_coll *k) {
  if (k) vs_catalog_put(&rq->srv->catalog, k);
  vs_chroma_info_free(info);
}

/* The payload index kinds a metadata value wants: strings and booleans a keyword index (for
 * $eq, $in, $contains), integers both (and the numeric one for ranges), fractional numbers a
 * numeric one; a list, its elements'. */
static unsigned index_kinds(json_object *v) {
  if (json_object_is_type(v, json_type_array))
    return json_object_array_length(v) ? index_kinds(json_object_array_get_idx(v, 0)) : 0;
  if (json_object_is_type(v, json_type_string) || json_object_is_type(v, json_type_boolean))
    return 1u << VEXFS_PAYLOAD_INDEX_KEYWORD;
  if (json_object_is_type(v, json_type_int))
    return 1u << VEXFS_PAYLOAD_INDEX_KEYWORD | 1u << VEXFS_PAYLOAD_INDEX_NUMERIC;
  return json_object_is_type(v, json_type_double) ? 1u << VEXFS_PAYLOAD_INDEX_NUMERIC : 0;
}

/* Whether the collection has an index of kind over key (indexes: vexfs_list_payload_indexes's
 * list, parsed). */
static int has_index(json_object *indexes, const char *key, vexfs_payload_index_kind kind) {
  for (size_t i = 0; i < json_object_array_length(indexes); i++) {
    json_object *e = json_object_array_get_idx(indexes, i), *k = NULL, *t = NULL;
    if (json_object_object_get_ex(e, "key", &k) && json_object_object_get_ex(e, "kind", &t) &&
        strcmp(json_object_get_string(k), key) == 0 &&
        strcmp(json_object_get_string(t), kind == VEXFS_PAYLOAD_INDEX_KEYWORD ? "keyword" : "numeric") == 0)
      return 1;
  }
  return 0;
}

/* Indexes the batch's metadata keys as Chroma indexes every key, so that a where is answered from
 * the rows it admits: each key and kind (index_kinds) not indexed yet gets its index, while the
 * collection has room (VEXFS_MAX_PAYLOAD_INDEXES, the id's included). Keys a where cannot name
 * (with '.', '[' or ']') are left out. Results never depend on indexes: one that cannot be made
 * only leaves that key's filters slower. Under k->write, after the batch is written. */
static void index_metadata(vs_coll *k, const batch *b) {
  char *text = NULL;
  if (!b->metadatas || vexfs_list_payload_indexes(k->points, &text) != VEXFS_OK) return;
  json_object *indexes = vs_parse_payload(text);
  vexfs_free(text);
  size_t count = json_object_is_type(indexes, json_type_array) ? json_object_array_length(indexes) : 0;
  for (size_t i = 0; indexes && i < b->n && count < VEXFS_MAX_PAYLOAD_INDEXES; i++) {
    json_object *m = json_object_array_get_idx(b->metadatas, i);
    if (!json_object_is_type(m, json_type_object)) continue;
    json_object_object_foreach(m, key, value) {
      if (strpbrk(key, ".[]")) continue;
      unsigned kinds = index_kinds(value);
      for (vexfs_payload_index_kind kind = VEXFS_PAYLOAD_INDEX_KEYWORD;
           kind <= VEXFS_PAYLOAD_INDEX_NUMERIC && count < VEXFS_MAX_PAYLOAD_INDEXES; kind++) {
        if (!(kinds & 1u << kind) || has_index(indexes, key, kind)) continue;
        if (vexfs_create_payload_index(k->points, key, kind) != VEXFS_OK) continue;
        json_object *made = json_object_new_object();
        json_object_object_add(made, "key", json_object_new_string(key));
        json_object_object_add(made, "kind", json_object_new_string(
            kind == VEXFS_PAYLOAD_INDEX_KEYWORD ? "keyword" : "numeric"));
        json_object_array_add(indexes, made);
        count++;
      }
    }
  }
  json_object_put(indexes);
}

/* Whether a record of the batch is written: add skips stored ids, update the others. */
static int written(write_kind kind, int exists) {
  return kind == ADD ? !exists : kind == UPDATE ? exists : 1;
}

/* The writes of a batch under k->write: which records are stored (lookup), which are written
 * (skipping as the kind says), their vectors (the batch's, else the stored ones) and payloads,
 * then one library call. */
static void write_batch(vs_request *rq, vs_response *rs, vs_coll *k, const batch *b, write_kind kind) {
  size_t n = b->n, m = 0, writes = 0;
  uint64_t *stored = malloc(n * sizeof *stored), *ids = malloc(n * sizeof *ids);
  char **payloads = calloc(n, sizeof *payloads);
  float *vectors = NULL;
  int ok = stored && ids && payloads;
  if (!ok) vs_fail(rq, rs, 503, "out of memory");
  ok = ok && vs_chroma_lookup_ids(rq, rs, k, b->ids, stored) == 0;
  for (size_t i = 0; ok && i < n; i++) writes += written(kind, stored[i] != UINT64_MAX);
  if (ok && writes && !(vectors = malloc(writes * k->dim * sizeof *vectors))) {
    vs_fail(rq, rs, 503, "out of memory");
    ok = 0;
  }
  for (size_t i = 0; ok && i < n; i++) {
    int exists = stored[i] != UINT64_MAX;
    if (!written(kind, exists)) continue;
    vs_chroma_record old = {0};
    if (exists && vs_chroma_record_read(k, stored[i], &old) != 0) {
      vs_fail(rq, rs, 503, "out of memory reading record %s",
              json_object_get_string(json_object_array_get_idx(b->ids, i)));
      ok = 0;
      break;
    }
    if (b->at && b->at[i] != SIZE_MAX)
      memcpy(vectors + m * k->dim, b->vectors + b->at[i] * k->dim, k->dim * sizeof *vectors);
    else if (vexfs_get(k->points, stored[i], vectors + m * k->dim) != VEXFS_OK)
      vs_fail_lib(rq, rs, VEXFS_E_NOT_FOUND), ok = 0;
    if (ok && !(payloads[m] = payload_text(b, i, exists ? &old : NULL))) {
      vs_fail(rq, rs, 503, "out of memory");
      ok = 0;
    }
    vs_chroma_record_free(&old);
    if (ok) ids[m++] = exists ? stored[i] : UINT64_MAX; /* given below */
  }
  vexfs_status st = VEXFS_OK;
  size_t fresh = 0;
  for (size_t i = 0; ok && i < m; i++) fresh += ids[i] == UINT64_MAX;
  uint64_t next = 0;
  if (ok && fresh && (st = vs_coll_take_ids(k, fresh, &next)) != VEXFS_OK) {
    if (st == VEXFS_E_INVALID) vs_fail(rq, rs, 400, "no room for %zu more records", fresh);
    else vs_fail_lib(rq, rs, st);
    ok = 0;
  }
  for (size_t i = 0; ok && i < m; i++)
    if (ids[i] == UINT64_MAX) ids[i] = next++;
  if (ok && m)
    st = kind == ADD ? vexfs_insert_with_payload(k->points, ids, vectors, (const char *const *)payloads, m)
                     : vexfs_upsert(k->points, ids, vectors, (const char *const *)payloads, m);
  if (ok && st == VEXFS_E_EXISTS) vs_coll_saw_ids(k, NULL, 0); /* taken through another API */
  if (ok && st != VEXFS_OK) vs_fail_lib(rq, rs, st);
  else if (ok) vs_chroma_answer(rq, rs, "{}", kind == ADD ? 201 : 200);
  if (ok && st == VEXFS_OK && m) index_metadata(k, b);
  for (size_t i = 0; payloads && i < m; i++) free(payloads[i]);
  free(payloads);
  free(vectors);
  free(ids);
  free(stored);
}

static void write_records(vs_request *rq, vs_response *rs, char **args, write_kind kind) {
  json_object *body = vs_body(rq, rs);
  batch b = {0};
  vs_chroma_info info = {0};
  vs_coll *k = NULL;
  /* the records' collection is made once they are known good, by an add or upsert */
  if (body && read_batch(rq, rs, body, kind, &b) == 0 &&
      open_points(rq, rs, args, b.dim, kind != UPDATE, &info, &k) == 0) {
    if (!k) { /* an update of a collection without records: none to update */
      vs_chroma_answer(rq, rs, "{}", 200);
    } else {
      pthread_mutex_lock(&k->write);
      write_batch(rq, rs, k, &b, kind);
      pthread_mutex_unlock(&k->write);
    }
    close_points(rq, &info, k);
  }
  batch_free(&b);
}

void vs_chroma_add(vs_request *rq, vs_response *rs, char **args) { write_records(rq, rs, args, ADD); }
void vs_chroma_upsert(vs_request *rq, vs_response *rs, char **args) { write_records(rq, rs, args, UPSERT); }
void vs_chroma_update(vs_request *rq, vs_response *rs, char **args) { write_records(rq, rs, args, UPDATE); }

int vs_chroma_stored_ids(vs_request *rq, vs_response *rs, vs_coll *k, json_object *list,
                         uint64_t **ids, size_t *n) {
  *ids = NULL;
  if (vs_chroma_read_ids(rq, rs, list, SIZE_MAX, n) != 0) return -1;
  if (!(*ids = malloc(*n * sizeof **ids))) {
    vs_fail(rq, rs, 503, "out of memory");
    return -1;
  }
  if (vs_chroma_lookup_ids(rq, rs, k, list, *ids) != 0) {
    free(*ids);
    *ids = NULL;
    return -1;
  }
  size_t m = 0;
  for (size_t i = 0; i < *n; i++)
    if ((*ids)[i] != UINT64_MAX) (*ids)[m++] = (*ids)[i];
  *n = m;
  qsort(*ids, *n, sizeof **ids, vs_compare_ids);
  return 0;
}

/* The library ids a get or delete selects, ascending (*out freed with free()): by `ids` and
 * `where` (both: those of the ids that match), else all. -1 after a failure answered. */
static int select_ids(vs_request *rq, vs_response *rs, vs_coll *k, json_object *body,
                      uint64_t **out, size_t *n) {
  json_object *list = NULL, *where = NULL;
  *out = NULL;
  *n = 0;
  if (json_object_object_get_ex(body, "ids", &list) && json_object_is_type(list, json_type_null)) list = NULL;
  if (json_object_object_get_ex(body, "where", &where) && json_object_is_type(where, json_type_null)) where = NULL;
  size_t nids = 0;
  uint64_t *ids = NULL;
  if (list && vs_chroma_stored_ids(rq, rs, k, list, &ids, &nids) != 0) return -1;
  if (list && !where) {
    *out = ids;
    *n = nids;
    return 0;
  }
  vs_text filter = {0};
  int rc = where ? vs_chroma_filter(rq, rs, where, ids, nids, &filter) : 0;
  free(ids);
  if (rc != 0) {
    vs_text_free(&filter);
    return -1;
  }
  uint64_t *listed = NULL;
  vexfs_status st = vexfs_list_ids_filtered(k->points, filter.p, &listed, n);
  vs_text_free(&filter);
  if (st == VEXFS_OK && *n && !(*out = malloc(*n * sizeof **out))) st = VEXFS_E_NOMEM;
  if (st == VEXFS_OK && *n) memcpy(*out, listed, *n * sizeof **out);
  vexfs_free(listed);
  if (st != VEXFS_OK) {
    *n = 0;
    vs_fail_lib(rq, rs, st);
    return -1;
  }
  return 0;
}

void vs_chroma_get(vs_request *rq, vs_response *rs, char **args) {
  json_object *body = vs_body(rq, rs), *include = NULL;
  vs_chroma_include inc = {.documents = 1, .metadatas = 1};
  uint64_t limit = UINT64_MAX, offset = 0;
  if (body) json_object_object_get_ex(body, "include", &include);
  if (!body || vs_chroma_no_where_document(rq, rs, body) ||
      vs_chroma_read_include(rq, rs, include, &inc, 0) ||
      vs_get_uint(rq, rs, body, "limit", UINT64_MAX - 1, &limit) ||
      vs_get_uint(rq, rs, body, "offset", UINT64_MAX - 1, &offset))
    return;
  vs_chroma_info info = {0};
  vs_coll *k = NULL;
  if (open_points(rq, rs, args, 0, 0, &info, &k) != 0) return;
  uint64_t *ids = NULL;
  size_t n = 0;
  if (k && select_ids(rq, rs, k, body, &ids, &n) != 0) {
    close_points(rq, &info, k);
    return;
  }
  size_t first = offset < n ? (size_t)offset : n, count = n - first, got = 0, bytes = 0;
  if (count > limit) count = (size_t)limit;
  vs_chroma_record *records = calloc(count ? count : 1, sizeof *records);
  vs_text t = {.failed = !records};
  for (size_t i = 0; records && i < count && bytes <= VS_CHROMA_MAX_ANSWER; i++)
    if (vs_chroma_record_read(k, ids[first + i], &records[got]) == 0) { /* else removed since */
      bytes += records[got].bytes;
      ids[first + got++] = ids[first + i];
    }
  count = got;
  if (bytes > VS_CHROMA_MAX_ANSWER) {
    for (size_t i = 0; i < count; i++) vs_chroma_record_free(&records[i]);
    free(records);
    free(ids);
    close_points(rq, &info, k);
    vs_fail(rq, rs, 400, "the records asked for hold more than %u MiB: get them in pages (limit, "
                         "offset)", VS_CHROMA_MAX_ANSWER >> 20);
    return;
  }
  vs_text_put(&t, "{", 1);
  for (int f = VS_CHROMA_IDS; f < VS_CHROMA_DISTANCES; f++) {
    vs_text_put(&t, "\"", 1);
    vs_text_puts(&t, vs_chroma_field_names[f]);
    vs_text_puts(&t, "\":");
    if (vs_chroma_included(&inc, (vs_chroma_field)f))
      vs_chroma_write_field(&t, (vs_chroma_field)f, k, records, ids + first, NULL, count);
    else
      vs_text_puts(&t, "null");
    vs_text_put(&t, ",", 1);
  }
  vs_chroma_write_include(&t, &inc);
  vs_text_put(&t, "}", 1);
  for (size_t i = 0; records && i < count; i++) vs_chroma_record_free(&records[i]);
  free(records);
  free(ids);
  close_points(rq, &info, k);
  vs_ok_body(rq, rs, &t, NULL);
}

void vs_chroma_delete_records(vs_request *rq, vs_response *rs, char **args) {
  json_object *body = vs_body(rq, rs), *v = NULL;
  uint64_t limit = UINT64_MAX;
  if (!body || vs_chroma_no_where_document(rq, rs, body) ||
      vs_get_uint(rq, rs, body, "limit", UINT64_MAX - 1, &limit))
    return;
  /* without ids or where, nothing (as Chroma: never every record) */
  int has_ids = json_object_object_get_ex(body, "ids", &v) && !json_object_is_type(v, json_type_null);
  int has_where = json_object_object_get_ex(body, "where", &v) && !json_object_is_type(v, json_type_null);
  vs_chroma_info info = {0};
  vs_coll *k = NULL;
  if (open_points(rq, rs, args, 0, 0, &info, &k) != 0) return;
  uint64_t *ids = NULL;
  size_t n = 0;
  if (k) pthread_mutex_lock(&k->write);
  if (!k || !(has_ids || has_where) || select_ids(rq, rs, k, body, &ids, &n) == 0) {
    if (n > limit) n = (size_t)limit;
    vexfs_status st = n ? vexfs_remove(k->points, ids, n) : VEXFS_OK;
    if (st != VEXFS_OK) {
      vs_fail_lib(rq, rs, st);
    } else {
      vs_text t = {0};
      vs_text_puts(&t, "{\"deleted\":");
      vs_text_u64(&t, n);
      vs_text_put(&t, "}", 1);
      vs_ok_body(rq, rs, &t, NULL);
    }
  }
  if (k) pthread_mutex_unlock(&k->write);
  free(ids);
  close_points(rq, &info, k);
}

void vs_chroma_count_records(vs_request *rq, vs_response *rs, char **args) {
  vs_chroma_info info = {0};
  vs_coll *k = NULL;
  if (open_points(rq, rs, args, 0, 0, &info, &k) != 0) return;
  vs_text t = {0};
  vs_text_u64(&t, k ? vexfs_count(k->points) : 0);
  close_points(rq, &info, k);
  vs_ok_body(rq, rs, &t, NULL);
}

/* Chroma's answer shapes: errors, collections, `include`, and the fields of a stored record. */
#include <stdlib.h>
#include <string.h>

#include "chroma.h"

void vs_text_string(vs_text *t, const char *s) {
  if (!s) {
    vs_text_puts(t, "null");
    return;
  }
  json_object *o = json_object_new_string(s);
  if (!o) t->failed = 1;
  else vs_text_json(t, o);
  json_object_put(o);
}

void vs_chroma_answer(vs_request *rq, vs_response *rs, const char *json, unsigned status) {
  vs_text t = {0};
  vs_text_puts(&t, json);
  vs_ok_body(rq, rs, &t, NULL);
  if (rs->status == 200) rs->status = status; /* (not when the text could not be made: 503) */
}

int vs_chroma_scalar_type(json_object *v) {
  if (json_object_is_type(v, json_type_string)) return 1;
  if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)) return 2;
  return json_object_is_type(v, json_type_boolean) ? 3 : 0;
}

/* The error kinds Chroma's server names in its bodies, by status. */
static const char *error_kind(unsigned status) {
  switch (status) {
  case 400: return "InvalidArgumentError";
  case 401: return "AuthError";
  case 403: return "PermissionDenied";
  case 404: return "NotFoundError";
  case 409: return "UniqueConstraintError";
  case 413: return "PayloadTooLargeError";
  case 503: return "ServiceUnavailableError";
  default: return status < 500 ? "InvalidArgumentError" : "InternalError";
  }
}

void vs_chroma_error_text(vs_text *out, unsigned status, const char *message) {
  vs_text_puts(out, "{\"error\":");
  vs_text_string(out, error_kind(status));
  vs_text_puts(out, ",\"message\":");
  vs_text_string(out, message);
  vs_text_put(out, "}", 1);
}

void vs_chroma_write_collection(vs_text *out, const vs_chroma_info *info, uint32_t dim) {
  vs_text_puts(out, "{\"id\":\"");
  vs_text_puts(out, info->id);
  vs_text_puts(out, "\",\"name\":");
  vs_text_string(out, info->name);
  vs_text_puts(out, ",\"configuration_json\":");
  vs_text_json(out, info->configuration);
  vs_text_puts(out, ",\"metadata\":");
  vs_text_json(out, info->metadata);
  vs_text_puts(out, ",\"dimension\":");
  if (dim) vs_text_u64(out, dim);
  else vs_text_puts(out, "null");
  vs_text_puts(out, ",\"tenant\":\"" VS_CHROMA_TENANT "\",\"database\":\"" VS_CHROMA_DATABASE
                    "\",\"log_position\":0,\"version\":0}");
}

int vs_chroma_check_scope(vs_request *rq, vs_response *rs, char **args) {
  if (strcmp(args[0], VS_CHROMA_TENANT) != 0) {
    vs_fail(rq, rs, 404, "Tenant [%s] not found: vexfs-server serves the tenant " VS_CHROMA_TENANT
                         " only", args[0]);
    return -1;
  }
  if (strcmp(args[1], VS_CHROMA_DATABASE) != 0) {
    vs_fail(rq, rs, 404, "Database [%s] not found: vexfs-server serves the database "
                         VS_CHROMA_DATABASE " only", args[1]);
    return -1;
  }
  return 0;
}

int vs_chroma_read_include(vs_request *rq, vs_response *rs, json_object *include,
                           vs_chroma_include *inc, int distances_ok) {
  if (!include || json_object_is_type(include, json_type_null)) return 0; /* the default given */
  if (!json_object_is_type(include, json_type_array)) {
    vs_fail(rq, rs, 400, "`include` must be a list of field names");
    return -1;
  }
  *inc = (vs_chroma_include){0};
  for (size_t i = 0; i < json_object_array_length(include); i++) {
    const char *f = json_object_get_string(json_object_array_get_idx(include, i));
    if (!json_object_is_type(json_object_array_get_idx(include, i), json_type_string)) f = "";
    if (strcmp(f, "documents") == 0) inc->documents = 1;
    else if (strcmp(f, "metadatas") == 0) inc->metadatas = 1;
    else if (strcmp(f, "embeddings") == 0) inc->embeddings = 1;
    else if (strcmp(f, "uris") == 0) inc->uris = 1;
    else if (strcmp(f, "distances") == 0 && distances_ok) inc->distances = 1;
    else {
      vs_fail(rq, rs, 400, "`include` has an unknown field %s: expected documents, metadatas, "
                           "embeddings, uris%s", json_object_to_json_string(
                               json_object_array_get_idx(include, i)),
              distances_ok ? " or distances" : "");
      return -1;
    }
  }
  return 0;
}

void vs_chroma_record_free(vs_chroma_record *r) {
  json_object_put(r->payload);
  json_object_put(r->metadata);
  *r = (vs_chroma_record){0};
}

int vs_chroma_record_parse(const char *payload, vs_chroma_record *r) {
  *r = (vs_chroma_record){0};
  if (!payload) return 0;
  r->bytes = strlen(payload);
  if (!(r->payload = vs_parse_payload(payload))) return -1;
  json_object_object_foreach(r->payload, key, value) {
    if (strncmp(key, VS_CHROMA_RESERVED, sizeof VS_CHROMA_RESERVED - 1) == 0) {
      const char *s = json_object_is_type(value, json_type_string) ? json_object_get_string(value)
                                                                   : NULL;
      if (strcmp(key, VS_CHROMA_KEY_ID) == 0) r->id = s;
      else if (strcmp(key, VS_CHROMA_KEY_DOCUMENT) == 0) r->document = s;
      else if (strcmp(key, VS_CHROMA_KEY_URI) == 0) r->uri = s;
      continue;
    }
    if (!r->metadata && !(r->metadata = json_object_new_object())) return -1;
    json_object_object_add(r->metadata, key, json_object_get(value));
  }
  return 0;
}

int vs_chroma_record_read(vs_coll *k, uint64_t id, vs_chroma_record *r) {
  char *text = NULL;
  *r = (vs_chroma_record){0};
  if (vexfs_get_payload(k->points, id, &text) != VEXFS_OK) return -1;
  int rc = vs_chroma_record_parse(text, r);
  vexfs_free(text);
  return rc;
}

void vs_chroma_write_field(vs_text *out, vs_chroma_field field, vs_coll *k,
                           const vs_chroma_record *records, const uint64_t *ids,
                           const float *distances, size_t n) {
  float *vector = field == VS_CHROMA_EMBEDDINGS ? malloc((k ? k->dim : 1) * sizeof *vector) : NULL;
  if (field == VS_CHROMA_EMBEDDINGS && !vector) out->failed = 1;
  vs_text_put(out, "[", 1);
  for (size_t i = 0; i < n && !out->failed; i++) {
    const vs_chroma_record *r = &records[i];
    if (i) vs_text_put(out, ",", 1);
    switch (field) {
    case VS_CHROMA_IDS: vs_text_string(out, r->id ? r->id : ""); break;
    case VS_CHROMA_DOCUMENTS: vs_text_string(out, r->document); break;
    case VS_CHROMA_URIS: vs_text_string(out, r->uri); break;
    case VS_CHROMA_METADATAS: vs_text_json(out, r->metadata); break;
    case VS_CHROMA_DISTANCES: vs_text_float(out, distances[i]); break;
    case VS_CHROMA_EMBEDDINGS:
      if (vexfs_get(k->points, ids[i], vector) != VEXFS_OK) { /* removed since it was listed */
        vs_text_puts(out, "null");
        break;
      }
      vs_text_put(out, "[", 1);
      for (uint32_t d = 0; d < k->dim; d++) {
        if (d) vs_text_put(out, ",", 1);
        vs_text_float(out, vector[d]);
      }
      vs_text_put(out, "]", 1);
      break;
    case VS_CHROMA_FIELDS: break;
    }
  }
  vs_text_put(out, "]", 1);
  free(vector);
}

const char *const vs_chroma_field_names[VS_CHROMA_FIELDS] = {
    "ids", "embeddings", "documents", "metadatas", "uris", "distances"};

int vs_chroma_included(const vs_chroma_include *inc, vs_chroma_field field) {
  switch (field) {
  case VS_CHROMA_IDS: return 1;
  case VS_CHROMA_EMBEDDINGS: return inc->embeddings;
  case VS_CHROMA_DOCUMENTS: return inc->documents;
  case VS_CHROMA_METADATAS: return inc->metadatas;
  case VS_CHROMA_URIS: return inc->uris;
  case VS_CHROMA_DISTANCES: return inc->distances;
  case VS_CHROMA_FIELDS: break;
  }
  return 0;
}

void vs_chroma_write_include(vs_text *out, const vs_chroma_include *inc) {
  vs_text_puts(out, "\"include\":[");
  int first = 1;
  for (int f = VS_CHROMA_EMBEDDINGS; f < VS_CHROMA_FIELDS; f++) {
    if (!vs_chroma_included(inc, (vs_chroma_field)f)) continue;
    if (!first) vs_text_put(out, ",", 1);
    first = 0;
    vs_text_string(out, vs_chroma_field_names[f]);
  }
  vs_text_put(out, "]", 1);
}

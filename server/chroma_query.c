/* Chroma's query: the n_results nearest records of each query embedding that `where` (and `ids`)
 * admit, with distances in Chroma's convention, which is the library's: squared L2, 1 - cosine,
 * 1 - dot product. Searched with the collection's ef_search (raised to n_results); the hits'
 * records are read one by one after the search, within VS_CHROMA_MAX_ANSWER bytes, and those
 * removed meanwhile are left out. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chroma.h"
#include "qdrant.h"

/* One query's answer of fields, as lists of lists. */
static void write_answer(vs_text *t, const vs_chroma_include *inc, vs_coll *k, size_t nq,
                         size_t kk, const vs_chroma_record *records, const uint64_t *ids,
                         const float *distances, const size_t *counts) {
  vs_text_put(t, "{", 1);
  for (int f = VS_CHROMA_IDS; f < VS_CHROMA_FIELDS; f++) {
    vs_text_put(t, "\"", 1);
    vs_text_puts(t, vs_chroma_field_names[f]);
    vs_text_puts(t, "\":");
    if (!vs_chroma_included(inc, (vs_chroma_field)f)) {
      vs_text_puts(t, "null,");
      continue;
    }
    vs_text_put(t, "[", 1);
    for (size_t q = 0; q < nq; q++) {
      if (q) vs_text_put(t, ",", 1);
      size_t at = q * kk;
      vs_chroma_write_field(t, (vs_chroma_field)f, k, records + at, ids + at, distances + at,
                            counts[q]);
    }
    vs_text_puts(t, "],");
  }
  vs_chroma_write_include(t, inc);
  vs_text_put(t, "}", 1);
}

/* The query embeddings: nq lists of one dimension, read into *vectors (malloc'd). -1 after a
 * 400. */
static int read_queries(vs_request *rq, vs_response *rs, json_object *queries, size_t *nq,
                        size_t *dim, float **vectors) {
  *nq = json_object_is_type(queries, json_type_array) ? json_object_array_length(queries) : 0;
  *vectors = NULL;
  if (*nq == 0) {
    vs_fail(rq, rs, 400, "`query_embeddings` must be a list of one or more embeddings");
    return -1;
  }
  *dim = vs_vector_length(rq, json_object_array_get_idx(queries, 0));
  for (size_t q = 0; q < *nq; q++) /* every length before the table is sized */
    if (vs_vector_length(rq, json_object_array_get_idx(queries, q)) != *dim || *dim == 0 ||
        *dim > VEXFS_MAX_DIM) {
      vs_fail(rq, rs, 400, "`query_embeddings[%zu]` must be a list of 1 to %u numbers, as many as "
                           "the first one's", q, VEXFS_MAX_DIM);
      return -1;
    }
  if (!(*vectors = malloc(*nq * *dim * sizeof **vectors))) {
    vs_fail(rq, rs, 503, "out of memory");
    return -1;
  }
  for (size_t q = 0; q < *nq; q++) {
    char what[48];
    snprintf(what, sizeof what, "query_embeddings[%zu]", q);
    if (vs_read_floats(rq, rs, json_object_array_get_idx(queries, q), (uint32_t)*dim, 0,
                       *vectors + q * *dim, what) != 0)
      return -1;
  }
  return 0;
}

/* The filter of `where` and `ids` (the stored ones of them) into filter, left empty when there
 * are neither. -1 after a failure answered. */
static int query_filter(vs_request *rq, vs_response *rs, vs_coll *k, json_object *where,
                        json_object *list, vs_text *filter) {
  if (!where && !list) return 0;
  size_t n = 0;
  uint64_t *only = NULL;
  if (list && vs_chroma_stored_ids(rq, rs, k, list, &only, &n) != 0) return -1;
  int rc = vs_chroma_filter(rq, rs, where, only, n, filter);
  free(only);
  return rc;
}

/* Reads the records of the hits, dropping those removed since the search, within the answer's
 * budget of payload bytes. -1 after a 400 when over it. */
static int read_hits(vs_request *rq, vs_response *rs, vs_coll *k, size_t nq, size_t kk,
                     uint64_t *ids, float *distances, size_t *counts, vs_chroma_record *records) {
  size_t bytes = 0;
  for (size_t q = 0; q < nq; q++) {
    size_t at = q * kk, kept = 0;
    for (size_t i = 0; i < counts[q] && bytes <= VS_CHROMA_MAX_ANSWER; i++) {
      if (vs_chroma_record_read(k, ids[at + i], &records[at + kept]) != 0) continue;
      bytes += records[at + kept].bytes;
      ids[at + kept] = ids[at + i];
      distances[at + kept++] = distances[at + i];
    }
    counts[q] = kept;
  }
  if (bytes <= VS_CHROMA_MAX_ANSWER) return 0;
  vs_fail(rq, rs, 400, "the records these queries find hold more than %u MiB: ask for fewer "
                       "queries or n_results at a time", VS_CHROMA_MAX_ANSWER >> 20);
  return -1;
}

void vs_chroma_query(vs_request *rq, vs_response *rs, char **args) {
  json_object *body = vs_body(rq, rs), *queries = NULL, *include = NULL, *list = NULL,
              *where = NULL, *texts = NULL;
  vs_chroma_include inc = {.documents = 1, .metadatas = 1, .distances = 1};
  uint64_t n_results = 10;
  if (!body) return;
  json_object_object_get_ex(body, "include", &include);
  if (vs_chroma_no_where_document(rq, rs, body) || vs_chroma_read_include(rq, rs, include, &inc, 1) ||
      vs_get_uint(rq, rs, body, "n_results", VEXFS_MAX_K, &n_results))
    return;
  if (json_object_object_get_ex(body, "query_texts", &texts) && !json_object_is_type(texts, json_type_null)) {
    vs_fail(rq, rs, 400, "`query_texts` need an embedding function, which vexfs-server does not "
                         "run: send query_embeddings");
    return;
  }
  if (n_results == 0) {
    vs_fail(rq, rs, 400, "`n_results` must be at least 1");
    return;
  }
  if (json_object_object_get_ex(body, "ids", &list) && json_object_is_type(list, json_type_null)) list = NULL;
  if (json_object_object_get_ex(body, "where", &where) && json_object_is_type(where, json_type_null)) where = NULL;
  json_object_object_get_ex(body, "query_embeddings", &queries);
  size_t nq = 0, dim = 0;
  float *vectors = NULL;
  vs_chroma_info info = {0};
  vexfs_status st;
  if (read_queries(rq, rs, queries, &nq, &dim, &vectors) != 0 ||
      vs_chroma_check_scope(rq, rs, args) != 0) {
    free(vectors);
    return;
  }
  if (vs_chroma_find(rq->srv, args[2], 1, &info) != 0) {
    free(vectors);
    vs_fail(rq, rs, 404, "Collection [%s] does not exist", args[2]);
    return;
  }
  vs_coll *k = vs_chroma_points(rq->srv, &info, 0, &st);
  size_t stored = k ? vexfs_count(k->points) : 0; /* no more hits than records, as Chroma */
  size_t kk = stored < n_results ? stored : (size_t)n_results;
  float *distances = malloc((nq * kk + 1) * sizeof *distances);
  uint64_t *ids = malloc((nq * kk + 1) * sizeof *ids);
  size_t *counts = calloc(nq, sizeof *counts);
  vs_chroma_record *records = NULL;
  vs_text filter = {0};
  int ok = 1;
  if (nq * kk > VS_CHROMA_MAX_HITS) {
    vs_fail(rq, rs, 400, "%zu queries of n_results %zu ask for more than %u hits in one request",
            nq, kk, VS_CHROMA_MAX_HITS);
    ok = 0;
  } else if (!distances || !ids || !counts || !(records = calloc(nq * kk + 1, sizeof *records))) {
    vs_fail(rq, rs, 503, "out of memory");
    ok = 0;
  } else if (k && k->dim != dim) {
    vs_fail(rq, rs, 400, "Collection expecting embedding with dimension of %u, got %zu", k->dim, dim);
    ok = 0;
  }
  ok = ok && (!k || query_filter(rq, rs, k, where, list, &filter) == 0);
  if (ok && k && kk) {
    vexfs_search_params p;
    vexfs_search_params_init(&p);
    p.ef = info.ef_search;
    p.filter_json = filter.p;
    st = vexfs_search(k->points, vectors, nq, kk, &p, ids, distances, counts);
    if (st != VEXFS_OK) vs_fail_lib(rq, rs, st);
    ok = st == VEXFS_OK && read_hits(rq, rs, k, nq, kk, ids, distances, counts, records) == 0;
  }
  if (ok) {
    vs_text t = {0};
    write_answer(&t, &inc, k, nq, kk, records, ids, distances, counts);
    vs_ok_body(rq, rs, &t, NULL);
  }
  for (size_t q = 0; records && q < nq; q++)
    for (size_t i = 0; i < counts[q]; i++) vs_chroma_record_free(&records[q * kk + i]);
  vs_text_free(&filter);
  free(records), free(counts), free(ids), free(distances), free(vectors);
  if (k) vs_catalog_put(&rq->srv->catalog, k);
  vs_chroma_info_free(&info);
}

int vs_chroma_query_is_light(json_object *body) {
  json_object *v;
  if (!json_object_is_type(body, json_type_object)) return 1; /* answered at once with a 400 */
  static const char *const heavy[] = {"where", "ids", "where_document"}; /* filtered: may scan */
  for (size_t i = 0; i < sizeof heavy / sizeof *heavy; i++)
    if (json_object_object_get_ex(body, heavy[i], &v) && !json_object_is_type(v, json_type_null))
      return 0;
  int64_t hits = 10;
  if (json_object_object_get_ex(body, "n_results", &v)) hits = json_object_get_int64(v);
  if (!json_object_object_get_ex(body, "query_embeddings", &v) ||
      !json_object_is_type(v, json_type_array))
    return 1;
  return hits * (int64_t)json_object_array_length(v) <= 256;
}

/* Chroma's query: the n_results nearest records of each query embedding that `where` (and `ids`)
 * admit, with distances in Chroma's convention, which is the library's: squared L2, 1 - cosine,
 * 1 - dot product. Searched with the collection's ef_search (raised to n_results). */
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
                            counts ? counts[q] : 0);
    }
    vs_text_puts(t, "],");
  }
  vs_chroma_write_include(t, inc);
  vs_text_put(t, "}", 1);
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
  size_t nq = json_object_object_get_ex(body, "query_embeddings", &queries) &&
                      json_object_is_type(queries, json_type_array)
                  ? json_object_array_length(queries)
                  : 0;
  if (nq == 0 || n_results == 0) {
    vs_fail(rq, rs, 400, nq ? "`n_results` must be at least 1"
                            : "`query_embeddings` must be a list of one or more embeddings");
    return;
  }
  if (json_object_object_get_ex(body, "ids", &list) && json_object_is_type(list, json_type_null)) list = NULL;
  if (json_object_object_get_ex(body, "where", &where) && json_object_is_type(where, json_type_null)) where = NULL;
  size_t dim = vs_vector_length(rq, json_object_array_get_idx(queries, 0));
  if (dim == 0 || dim > VEXFS_MAX_DIM) {
    vs_fail(rq, rs, 400, "`query_embeddings[0]` must be a list of 1 to %u numbers", VEXFS_MAX_DIM);
    return;
  }
  vs_chroma_info info = {0};
  vexfs_status st;
  if (vs_chroma_check_scope(rq, rs, args) != 0) return;
  if (vs_chroma_find(rq->srv, args[2], 1, &info) != 0) {
    vs_fail(rq, rs, 404, "Collection [%s] does not exist", args[2]);
    return;
  }
  vs_coll *k = vs_chroma_points(rq->srv, &info, 0, &st);
  size_t stored = k ? vexfs_count(k->points) : 0; /* no more hits than records, as Chroma */
  size_t kk = stored < n_results ? stored : (size_t)n_results;
  if (nq * kk > VS_CHROMA_MAX_HITS) {
    vs_fail(rq, rs, 400, "%zu queries of n_results %zu ask for more than %u hits in one request",
            nq, kk, VS_CHROMA_MAX_HITS);
    if (k) vs_catalog_put(&rq->srv->catalog, k);
    vs_chroma_info_free(&info);
    return;
  }
  if (k && kk == 0) { /* an empty collection: nothing to search */
    vs_catalog_put(&rq->srv->catalog, k);
    k = NULL;
  }
  float *vectors = malloc(nq * dim * sizeof *vectors), *distances = malloc((nq * kk + 1) * sizeof *distances);
  uint64_t *ids = malloc((nq * kk + 1) * sizeof *ids), *only = NULL;
  size_t *counts = calloc(nq, sizeof *counts), nonly = 0;
  char **payloads = calloc(nq * kk + 1, sizeof *payloads);
  vs_chroma_record *records = calloc(nq * kk + 1, sizeof *records);
  vs_text filter = {0};
  int ok = vectors && distances && ids && counts && payloads && records;
  if (!ok) vs_fail(rq, rs, 503, "out of memory");
  if (ok && k && k->dim != dim) {
    vs_fail(rq, rs, 400, "Collection expecting embedding with dimension of %u, got %zu", k->dim, dim);
    ok = 0;
  }
  for (size_t q = 0; ok && q < nq; q++) {
    char what[48];
    snprintf(what, sizeof what, "query_embeddings[%zu]", q);
    ok = vs_read_floats(rq, rs, json_object_array_get_idx(queries, q), (uint32_t)dim, 0,
                        vectors + q * dim, what) == 0;
  }
  ok = ok && (!list || vs_chroma_read_ids(rq, rs, list, SIZE_MAX, &nonly) == 0);
  if (ok && k && list) { /* restricted to these records: the stored ones, by library id */
    ok = (only = malloc(nonly * sizeof *only)) != NULL;
    if (!ok) vs_fail(rq, rs, 503, "out of memory");
    ok = ok && vs_chroma_lookup_ids(rq, rs, k, list, only) == 0;
    if (ok) {
      size_t m = 0;
      for (size_t i = 0; i < nonly; i++)
        if (only[i] != UINT64_MAX) only[m++] = only[i];
      nonly = m;
      qsort(only, nonly, sizeof *only, vs_compare_ids);
    }
  }
  if (ok && k && (where || list)) ok = vs_chroma_filter(rq, rs, where, list ? only : NULL, nonly, &filter) == 0;
  if (ok && k) {
    vexfs_search_params p;
    vexfs_search_params_init(&p);
    p.ef = info.ef_search;
    p.filter_json = filter.p;
    st = vexfs_search_with_payload(k->points, vectors, nq, kk, &p, ids, distances, counts, payloads);
    if (st != VEXFS_OK) {
      vs_fail_lib(rq, rs, st);
      ok = 0;
    }
    for (size_t i = 0; ok && i < nq * kk; i++) vs_chroma_record_parse(payloads[i], &records[i]);
  }
  if (ok) {
    vs_text t = {0};
    write_answer(&t, &inc, k, nq, kk, records, ids, distances, k ? counts : NULL);
    vs_ok_body(rq, rs, &t, NULL);
  }
  for (size_t i = 0; records && payloads && i < nq * kk; i++) {
    vs_chroma_record_free(&records[i]);
    vexfs_free(payloads[i]);
  }
  vs_text_free(&filter);
  free(records), free(payloads), free(counts), free(only), free(ids), free(distances), free(vectors);
  if (k) vs_catalog_put(&rq->srv->catalog, k);
  vs_chroma_info_free(&info);
}

/* The Qdrant REST API's handlers (vs_handler), by file. args[0] is the collection name, args[1]
 * a point id or field name, as the route (routes.c) gives them. */
#ifndef VEXFS_SERVER_QDRANT_H
#define VEXFS_SERVER_QDRANT_H

#include "server.h"

/* qdrant_collections.c */
void vs_root(vs_request *rq, vs_response *rs, char **args);
void vs_health(vs_request *rq, vs_response *rs, char **args);
void vs_collections_list(vs_request *rq, vs_response *rs, char **args);
void vs_collection_create(vs_request *rq, vs_response *rs, char **args);
void vs_collection_get(vs_request *rq, vs_response *rs, char **args);
void vs_collection_delete(vs_request *rq, vs_response *rs, char **args);
void vs_collection_exists(vs_request *rq, vs_response *rs, char **args);
void vs_index_create(vs_request *rq, vs_response *rs, char **args);
void vs_index_delete(vs_request *rq, vs_response *rs, char **args);

/* metrics.c: GET /metrics (Qdrant serves one too), the Prometheus text of every collection. */
void vs_metrics(vs_request *rq, vs_response *rs, char **args);

/* qdrant_points.c */
void vs_points_upsert(vs_request *rq, vs_response *rs, char **args);
void vs_points_retrieve(vs_request *rq, vs_response *rs, char **args);
void vs_point_get(vs_request *rq, vs_response *rs, char **args);
void vs_points_delete(vs_request *rq, vs_response *rs, char **args);
void vs_points_count(vs_request *rq, vs_response *rs, char **args);
void vs_points_scroll(vs_request *rq, vs_response *rs, char **args);

/* qdrant_payload.c */
void vs_payload_set(vs_request *rq, vs_response *rs, char **args);
void vs_payload_overwrite(vs_request *rq, vs_response *rs, char **args);
void vs_payload_delete(vs_request *rq, vs_response *rs, char **args);
void vs_payload_clear(vs_request *rq, vs_response *rs, char **args);

/* qdrant_search.c */
void vs_points_search(vs_request *rq, vs_response *rs, char **args);
void vs_points_search_batch(vs_request *rq, vs_response *rs, char **args);
void vs_points_query(vs_request *rq, vs_response *rs, char **args);
void vs_points_query_batch(vs_request *rq, vs_response *rs, char **args);
/* A single search or query without a filter or an exact scan, of at most 256 hits. */
int vs_search_is_light(json_object *body);

/* What retrieve, scroll and search share: a point as Qdrant returns it. with_payload is a
 * selector (true, false, a list of keys, {"include": [...]} or {"exclude": [...]}), checked by
 * vs_payload_selector_ok. */
int vs_payload_selector_ok(vs_request *rq, vs_response *rs, json_object *selector);
/* Deletes the value at a dotted path ("a.b": key b of object a) of o, when there is one. */
void vs_path_delete(json_object *o, const char *path);
/* Appends {"id", "payload", "vector"} of a stored point (null where not asked for), and with a
 * score `"version": 0, "score"` as a search hit has them; payload_text (the library's, taken) is
 * the point's payload when have_payload_text, else it is read. -1 when the point is gone. */
int vs_point_write(vs_text *out, vs_coll *k, uint64_t id, json_object *with_payload,
                   int with_vector, char *payload_text, int have_payload_text, const float *score);
/* The same as a json-c value (serialized as that text), or NULL when the point is gone. */
json_object *vs_point_record(vs_coll *k, uint64_t id, json_object *with_payload, int with_vector);

/* Whether v is a vector: a list, or a placeholder of one the body's check lifted. */
int vs_is_vector(const vs_request *rq, json_object *v);
/* Reads a vector of k->dim finite numbers into out, normalized for cosine (as Qdrant stores
 * them), else with a squared norm the library accepts; -1 after a 400 naming `what`. */
int vs_read_vector(vs_request *rq, vs_response *rs, vs_coll *k, json_object *v, float *out,
                   const char *what);
/* As vs_read_vector for dim numbers, made unit length when normalize is set. */
int vs_read_floats(vs_request *rq, vs_response *rs, json_object *v, uint32_t dim, int normalize,
                   float *out, const char *what);
/* Checks n floats as vs_read_floats does once it has them (finite, a norm the library takes, or
 * made unit length); -1 after a 400 naming `what`. */
int vs_check_floats(vs_request *rq, vs_response *rs, float *out, size_t n, int normalize,
                    const char *what);
/* How many numbers vector v holds (SIZE_MAX when it is not a list). */
size_t vs_vector_length(const vs_request *rq, json_object *v);

/* The stored points a request selects by `points` (ids: one not stored is a 404 with must_exist,
 * else skipped) or by `filter`; *ids freed with free(). -1 after vs_fail. */
int vs_selected_ids(vs_request *rq, vs_response *rs, vs_coll *k, json_object *body, int must_exist,
                    uint64_t **ids, size_t *n);

#endif

/* The earlier VexFS REST API, /api/v1 (reference 000, "REST API" and "Performance Monitoring
 * API"), over the same catalog as Qdrant's routes: a collection made through either is seen by
 * both, and ids are the library's u64. Answers are plain JSON objects; errors are
 * {"error": {"code": "API_00x", "type": ..., "message": ...}} (api_v1_reply.c). args[0] is the
 * collection name, args[1] a vector id. */
#ifndef VEXFS_SERVER_API_V1_H
#define VEXFS_SERVER_API_V1_H

#include "server.h"

/* api_v1_collections.c */
void vs_v1_collection_create(vs_request *rq, vs_response *rs, char **args);
void vs_v1_collections_list(vs_request *rq, vs_response *rs, char **args);
void vs_v1_collection_get(vs_request *rq, vs_response *rs, char **args);
void vs_v1_collection_delete(vs_request *rq, vs_response *rs, char **args);
void vs_v1_collection_stats(vs_request *rq, vs_response *rs, char **args);
void vs_v1_stats(vs_request *rq, vs_response *rs, char **args);

/* api_v1_vectors.c */
void vs_v1_vector_insert(vs_request *rq, vs_response *rs, char **args);
void vs_v1_vectors_insert_batch(vs_request *rq, vs_response *rs, char **args);
void vs_v1_vector_get(vs_request *rq, vs_response *rs, char **args);
void vs_v1_vector_delete(vs_request *rq, vs_response *rs, char **args);
void vs_v1_vectors_delete(vs_request *rq, vs_response *rs, char **args);
void vs_v1_search(vs_request *rq, vs_response *rs, char **args);

/* api_v1_performance.c */
void vs_v1_perf_realtime(vs_request *rq, vs_response *rs, char **args);
void vs_v1_perf_history(vs_request *rq, vs_response *rs, char **args);
void vs_v1_pools_status(vs_request *rq, vs_response *rs, char **args);
void vs_v1_pools_metrics(vs_request *rq, vs_response *rs, char **args);
void vs_v1_simd_capabilities(vs_request *rq, vs_response *rs, char **args);
void vs_v1_simd_status(vs_request *rq, vs_response *rs, char **args);
void vs_v1_perf_configure(vs_request *rq, vs_response *rs, char **args);
/* The reference's FUSE, stack and bridge routes and those that would retune the library: 404
 * saying why. */
void vs_v1_not_applicable(vs_request *rq, vs_response *rs, char **args);

/* api_v1_reply.c */
/* Answers 200 with o (taken) as it is. */
void vs_v1_ok(vs_request *rq, vs_response *rs, json_object *o);
/* Whether every key of o is one of known (NULL-terminated); -1 after a 400 API_001 naming the
 * first that is not, in `where`. */
int vs_v1_known_keys(vs_request *rq, vs_response *rs, json_object *o, const char *const *known,
                     const char *where);
/* The reference's performance_config / performance_options at key of o: absent, or an object of
 * the documented keys (their values change nothing: the library always uses its pools and the
 * widest SIMD the CPU has). -1 after a 400. */
int vs_v1_advisory(vs_request *rq, vs_response *rs, json_object *o, const char *key);
/* A string field of o that must be one of names (NULL-terminated): *index gets its position,
 * left as it is when the key is absent. -1 after a 400 (API_001 not a string, API_006 none of
 * them). */
int vs_v1_choice(vs_request *rq, vs_response *rs, json_object *o, const char *key,
                 const char *const *names, int *index);
/* A query argument that is an unsigned integer of 1..max (absent: *out unchanged); -1 after a 400. */
int vs_v1_query_uint(vs_request *rq, vs_response *rs, const char *key, uint64_t max,
                     uint64_t *out);
/* The library's name of a metric: "l2", "ip", "cosine". */
const char *vs_v1_metric_name(vexfs_metric m);
/* Whether the library runs a SIMD level (not "scalar"). */
int vs_v1_simd_active(void);
/* A figure (rate, time, ratio) to nine significant digits; 0 for one that is not finite. */
json_object *vs_v1_number(double v);

#endif

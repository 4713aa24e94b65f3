/* Chroma's REST API (/api/v2), as the chromadb clients speak it, over the server's catalog.
 *
 * A Chroma collection is a row of the registry (chroma_registry.c) and, from its first add on
 * (Chroma collections take their dimension from the first embeddings), a library collection of
 * the catalog named by the Chroma collection's id (a UUID), so that a rename changes only the
 * registry. Its records are points whose payload is the record's metadata plus the reserved keys
 * below (Chroma refuses metadata keys starting "chroma:"), under a keyword index on the id key:
 * the string id, the document and the URI are as durable as the vector, written in one call.
 * Only the default tenant and database exist.
 *
 * Parts: chroma_registry.c (collections, durable), chroma_collections.c (system and collection
 * routes), chroma_records.c (add, upsert, update, get, delete, count), chroma_query.c (query),
 * chroma_where.c (where -> library filter), chroma_reply.c (answers and errors in Chroma's
 * shapes, record fields). */
#ifndef VEXFS_SERVER_CHROMA_H
#define VEXFS_SERVER_CHROMA_H

#include "server.h"

#define VS_CHROMA_TENANT "default_tenant"
#define VS_CHROMA_DATABASE "default_database"
#define VS_CHROMA_VERSION "1.0.0" /* the Chroma server API level served */
#define VS_CHROMA_MAX_BATCH 10000u  /* records per add/upsert/update (pre-flight-checks) */
#define VS_CHROMA_MAX_HITS (1u << 24) /* queries x n_results of one query request */
#define VS_CHROMA_MAX_ANSWER (64u << 20) /* bytes of stored payloads one get or query reads */
#define VS_CHROMA_KEY_ID "chroma:id"
#define VS_CHROMA_KEY_DOCUMENT "chroma:document"
#define VS_CHROMA_KEY_URI "chroma:uri"
#define VS_CHROMA_RESERVED "chroma:"

/* chroma_registry.c. The registry is read from the database at vs_chroma_open; its collection
 * is made at the first create. */
typedef struct vs_chroma vs_chroma;
vexfs_status vs_chroma_open(vs_server *srv);
void vs_chroma_close(vs_server *srv);

/* A collection's description, as the registry holds it now (copies the caller owns and frees
 * with vs_chroma_info_free). */
typedef struct vs_chroma_info {
  char id[37];
  char *name;
  json_object *metadata, *configuration;
  vexfs_metric metric;
  uint32_t m, ef_construction, ef_search;
} vs_chroma_info;
void vs_chroma_info_free(vs_chroma_info *info);
/* Looks a collection up by name (by_id 0) or id; 0 with *info filled, or -1 when none. */
int vs_chroma_find(vs_server *srv, const char *key, int by_id, vs_chroma_info *info);
/* Creates a collection (info's name, metadata, configuration, metric and HNSW parameters taken
 * as given; the id is made here, into info->id). VEXFS_E_EXISTS with info filled with the
 * existing one's description when the name is taken. */
vexfs_status vs_chroma_create(vs_server *srv, vs_chroma_info *info);
/* Changes the name (NULL: kept), metadata (NULL: kept) and search width (0: kept) of id.
 * VEXFS_E_EXISTS: the new name is taken; VEXFS_E_NOT_FOUND: no such collection. */
vexfs_status vs_chroma_modify(vs_server *srv, const char *id, const char *name,
                              json_object *metadata, uint32_t ef_search);
/* Deletes the collection called name and its records. */
vexfs_status vs_chroma_delete(vs_server *srv, const char *name);
/* The descriptions of every collection, in order of creation, from offset, at most limit;
 * *n receives how many (the array freed with vs_chroma_infos_free). */
vs_chroma_info *vs_chroma_list(vs_server *srv, size_t offset, size_t limit, size_t *n);
void vs_chroma_infos_free(vs_chroma_info *infos, size_t n);
size_t vs_chroma_count(vs_server *srv);
/* The catalog's collection holding id's records (the caller gives it back with
 * vs_catalog_put), made with dimension dim when it does not exist yet and dim > 0; NULL when
 * it does not exist (dim 0) or could not be made (*st says why). */
vs_coll *vs_chroma_points(vs_server *srv, const vs_chroma_info *info, uint32_t dim,
                          vexfs_status *st);

/* chroma_reply.c */
/* The Chroma error body {"error": "<kind>", "message": "..."} of an HTTP status (vs_fail calls
 * it for /api/v2 paths). */
void vs_chroma_error_text(vs_text *out, unsigned status, const char *message);
/* A collection as Chroma answers it. */
void vs_chroma_write_collection(vs_text *out, const vs_chroma_info *info, uint32_t dim);
/* The tenant and database a path names (args[0], args[1]) exist; -1 after a 404 otherwise. */
int vs_chroma_check_scope(vs_request *rq, vs_response *rs, char **args);
/* The record fields `include` asks for. */
typedef struct vs_chroma_include {
  int documents, metadatas, embeddings, distances, uris;
} vs_chroma_include;
/* Reads include (NULL: the default given) into *inc; -1 after a 400. distances_ok: whether
 * "distances" may be asked for (query) or not (get). */
int vs_chroma_read_include(vs_request *rq, vs_response *rs, json_object *include,
                           vs_chroma_include *inc, int distances_ok);
/* The parts of a stored payload: the metadata (user keys, a new object or NULL when none), the
 * document and URI (borrowed from the parsed payload, NULL when none), and the string id. */
typedef struct vs_chroma_record {
  json_object *payload; /* parsed; owns the strings below */
  const char *id, *document, *uri;
  json_object *metadata;
  size_t bytes; /* of the payload's text */
} vs_chroma_record;
/* Reads point id of k (its payload; the vector is not read). -1 when it is gone. */
int vs_chroma_record_read(vs_coll *k, uint64_t id, vs_chroma_record *r);
/* As read, from a payload text the caller has. */
int vs_chroma_record_parse(const char *payload, vs_chroma_record *r);
void vs_chroma_record_free(vs_chroma_record *r);
/* The fields of records an answer lists. */
typedef enum vs_chroma_field {
  VS_CHROMA_IDS, VS_CHROMA_EMBEDDINGS, VS_CHROMA_DOCUMENTS, VS_CHROMA_METADATAS, VS_CHROMA_URIS,
  VS_CHROMA_DISTANCES, VS_CHROMA_FIELDS
} vs_chroma_field;
extern const char *const vs_chroma_field_names[VS_CHROMA_FIELDS];
/* Whether include asks for field (ids: always). */
int vs_chroma_included(const vs_chroma_include *inc, vs_chroma_field field);
/* Appends the list of one field of n records (library ids[i], distances[i] for distances;
 * embeddings are read from k). */
void vs_chroma_write_field(vs_text *out, vs_chroma_field field, vs_coll *k,
                           const vs_chroma_record *records, const uint64_t *ids,
                           const float *distances, size_t n);
/* Appends "include":[...] of the fields asked for. */
void vs_chroma_write_include(vs_text *out, const vs_chroma_include *inc);
/* Answers status (200, or 201 for an add) with a JSON text given whole. */
void vs_chroma_answer(vs_request *rq, vs_response *rs, const char *json, unsigned status);
/* What a metadata value is as Chroma types them: 1 a string, 2 a number, 3 a boolean, 0 none of
 * those (null, an object, a list). */
int vs_chroma_scalar_type(json_object *v);
/* Appends a JSON string (escaped as JSON needs), or null for NULL. */
void vs_text_string(vs_text *t, const char *s);

/* chroma_records.c: ids must be a list of 1 .. max distinct non-empty strings (*n of them); -1
 * after a 400. */
int vs_chroma_read_ids(vs_request *rq, vs_response *rs, json_object *ids, size_t max, size_t *n);
/* The library ids of the string ids given (checked by vs_chroma_read_ids; ids[i] = UINT64_MAX
 * where none is stored). -1 after a failure answered. */
int vs_chroma_lookup_ids(vs_request *rq, vs_response *rs, vs_coll *k, json_object *list,
                         uint64_t *ids);

/* The stored ones of the string ids of list (checked by vs_chroma_read_ids) as library ids,
 * ascending, *n of them in *ids (freed with free()). -1 after a failure answered. */
int vs_chroma_stored_ids(vs_request *rq, vs_response *rs, vs_coll *k, json_object *list,
                         uint64_t **ids, size_t *n);

/* chroma_where.c: appends the library filter of a `where` (an object; checked) to out, and of
 * a list of library ids when ids is not NULL (n of them, ascending) as a further condition.
 * -1 after a 400 naming what is wrong. */
int vs_chroma_filter(vs_request *rq, vs_response *rs, json_object *where, const uint64_t *ids,
                     size_t n, vs_text *out);
/* A `where_document`: a clear 400 (documents are stored, not indexed for text search). */
int vs_chroma_no_where_document(vs_request *rq, vs_response *rs, json_object *body);

/* Handlers (vs_handler): args are the path's {tenant}, {database} and collection. */
void vs_chroma_heartbeat(vs_request *rq, vs_response *rs, char **args);
void vs_chroma_healthcheck(vs_request *rq, vs_response *rs, char **args);
void vs_chroma_version(vs_request *rq, vs_response *rs, char **args);
void vs_chroma_preflight(vs_request *rq, vs_response *rs, char **args);
void vs_chroma_identity(vs_request *rq, vs_response *rs, char **args);
void vs_chroma_tenant_get(vs_request *rq, vs_response *rs, char **args);
void vs_chroma_databases_list(vs_request *rq, vs_response *rs, char **args);
void vs_chroma_database_get(vs_request *rq, vs_response *rs, char **args);
void vs_chroma_collections_list(vs_request *rq, vs_response *rs, char **args);
void vs_chroma_collections_count(vs_request *rq, vs_response *rs, char **args);
void vs_chroma_collection_create(vs_request *rq, vs_response *rs, char **args);
void vs_chroma_collection_get(vs_request *rq, vs_response *rs, char **args);
void vs_chroma_collection_get_by_id(vs_request *rq, vs_response *rs, char **args);
void vs_chroma_collection_modify(vs_request *rq, vs_response *rs, char **args);
void vs_chroma_collection_delete(vs_request *rq, vs_response *rs, char **args);
void vs_chroma_add(vs_request *rq, vs_response *rs, char **args);
void vs_chroma_upsert(vs_request *rq, vs_response *rs, char **args);
void vs_chroma_update(vs_request *rq, vs_response *rs, char **args);
void vs_chroma_get(vs_request *rq, vs_response *rs, char **args);
void vs_chroma_delete_records(vs_request *rq, vs_response *rs, char **args);
void vs_chroma_count_records(vs_request *rq, vs_response *rs, char **args);
void vs_chroma_query(vs_request *rq, vs_response *rs, char **args);
/* Whether a query is light enough for the polling thread (server.h, vs_light_fn): unfiltered,
 * at most 256 hits in all. */
int vs_chroma_query_is_light(json_object *body);

#endif

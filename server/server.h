/* vexfs-server: what the parts of the server share. The server is a consumer of the public C API
 * only (vexfs/vexfs.h): it links libvexfs.so.1 like any other program.
 *
 * Parts, one concern per file:
 *   main.c          options, signals, start and orderly stop
 *   http.c          libmicrohttpd: bodies, limits, API keys, the worker queue (suspend/resume), logs
 *   poll.c          the polling threads, one per libmicrohttpd daemon
 *   websocket.c     GET /ws/performance: the handshake, and the WebSocket thread's streams (wslay)
 *   json_check.c    the strict check of request bodies json-c lacks
 *   routes.c        method + path -> handler
 *   reply.c         Qdrant's response envelope and errors, JSON helpers
 *   catalog.c       the database, its collections and each one's companion (payload schema, UUIDs)
 *   performance.c   the performance sampler: vector operations, latencies, pool, SIMD
 *   point_ids.c     Qdrant point ids (u64 or UUID) <-> the library's u64 ids
 *   filter.c        Qdrant filters checked and translated to the library's filter_json
 *   qdrant_collections.c, qdrant_points.c, qdrant_payload.c, qdrant_search.c: the REST API
 *   api_v1_reply.c  the earlier VexFS REST API (/api/v1): its error bodies and codes, answers
 *   api_v1_collections.c, api_v1_vectors.c, api_v1_performance.c: that API (api_v1.h)
 *   performance.c   the sampler of process-wide figures and its history (perf_ring.c)
 *   chroma_*.c      Chroma's REST API (/api/v2; chroma.h lists its parts) */
#ifndef VEXFS_SERVER_H
#define VEXFS_SERVER_H

#include <json-c/json.h>
#include <pthread.h>
#include <stdint.h>

#include "float_text.h"
#include "vexfs/vexfs.h"

#define VS_API_VERSION "1.18.0" /* the Qdrant REST API level served, for the client's check */

typedef struct vs_options {
  const char *data;      /* database directory; NULL = in memory */
  const char *host;      /* default 127.0.0.1 */
  unsigned port;         /* default 6333; 0 = any free port */
  const char *api_key;   /* NULL = no authentication */
  int insecure;          /* allow a non-loopback address without an API key */
  size_t max_body;       /* bytes, default 32 MiB */
  unsigned idle_timeout; /* seconds a connection may stay idle, default 60 */
  unsigned max_connections;
  unsigned max_websockets; /* open at once, default 64 */
  unsigned threads;      /* polling threads and request workers, each; default: online CPUs */
  unsigned busy_poll_us; /* a polling thread polls this long at most before it sleeps (poll.c) */
  int log_requests;      /* --log-level info */
  vexfs_sync_mode sync;
  const char *tls_cert, *tls_key;
} vs_options;

/* One collection as the server sees it: the library's collection of points and its companion,
 * "__vexfs.<name>", of 1-d rows: row 0 holds {"payload_schema": {...}} (the field indexes made
 * through the API), and each other row maps a UUID ({"uuid": "..."}) to the u64 id the point has
 * (the row's own id). Both live in the same database, so the mapping is as durable as the points. */
typedef struct vs_coll {
  char name[VEXFS_MAX_NAME + 1];
  vexfs_collection *points;
  vexfs_collection *meta;
  vexfs_metric metric;
  uint32_t dim;
  pthread_mutex_t write;  /* one writer at a time: UUIDs are given ids, payload changes read
                             before they write */
  unsigned refs;          /* requests using it (vs_catalog_acquire); under the catalog's lock */
  int dropping;           /* a drop waits for refs to reach 0; no new request gets it */
  uint64_t uuid_floor;    /* the lowest id given to a UUID (UINT64_MAX: none yet); under write */
  uint64_t next_id;       /* a hint: the first id past the largest below the UUIDs', which
                             points written without ids take (vs_coll_take_ids); under write */
  int next_id_known;      /* 0: next_id is to be looked up */
  struct vs_coll *next;
} vs_coll;

typedef struct vs_catalog {
  vexfs_db *db;
  pthread_mutex_t lock; /* the list and each collection's refs; held only briefly */
  pthread_cond_t idle;  /* a collection's last request let go of it */
  vs_coll *list;
} vs_catalog;

typedef struct vs_perf vs_perf; /* the sampler and its ring (performance.c) */

typedef struct vs_server {
  vs_options opt;
  vs_catalog catalog;
  struct vs_chroma *chroma; /* Chroma's collections (chroma_registry.c) */
  _Atomic uint64_t operation_id;
  vs_perf *perf;
} vs_server;

/* The vectors a body's check lifted out of its text (json_check.c says which). */
typedef struct vs_vectors {
  uint64_t nonce; /* set by the caller, random: in each placeholder */
  float *values;  /* every lifted vector's coordinates, one after the other */
  size_t nvalues, values_cap;
  size_t *first, *count; /* per vector: its first value and how many */
  size_t n, cap;
} vs_vectors;

/* A request as handlers see it: the body is parsed before the handler runs. */
typedef struct vs_request {
  vs_server *srv;
  const char *method, *path;
  void *conn;          /* struct MHD_Connection *, for query arguments (vs_query_arg) */
  json_object *body;   /* NULL when the request has no body */
  const vs_vectors *vectors; /* lifted out of the body (vs_read_vector finds them); may be NULL */
  uint64_t start_ns;
} vs_request;

typedef struct vs_response {
  unsigned status; /* HTTP status */
  char *text;      /* the body, malloc'd */
  const char *content_type; /* NULL: application/json */
} vs_response;

typedef void (*vs_handler)(vs_request *rq, vs_response *rs, char **args);

/* http.c: serves srv over HTTP(S) until vs_http_stop; *port receives the port bound. Returns
 * NULL after printing why to stderr. */
typedef struct vs_http vs_http;
vs_http *vs_http_start(vs_server *srv, unsigned *port);
/* Stops accepting, lets requests in progress finish (at most grace_s seconds), then closes every
 * connection and stops the workers. */
void vs_http_stop(vs_http *h, unsigned grace_s);

/* poll.c: runs n libmicrohttpd daemons (external epoll mode), one thread each, which poll
 * without sleeping for up to busy_poll_us after activity (adaptively; 0: never) before they sleep
 * in epoll_wait. vs_pollers_new makes what the threads need (NULL when it cannot), and
 * vs_pollers_run starts them (-1 when one cannot start; vs_pollers_stop then stops those that
 * did). */
struct MHD_Daemon;
typedef struct vs_pollers vs_pollers;
vs_pollers *vs_pollers_new(struct MHD_Daemon *const *daemons, unsigned n, unsigned busy_poll_us);
int vs_pollers_run(vs_pollers *all);
/* Wakes the thread of daemon: a connection of it was resumed (libmicrohttpd signals that only
 * to its own threads). Thread-safe. */
void vs_pollers_wake(vs_pollers *all, const struct MHD_Daemon *daemon);
/* Called from a daemon's callback: it is to run again at once. A daemon at its connection limit
 * that closes one takes the listening socket back only when it runs next (its own threads would
 * be told through their ITC, which external polling lacks). */
void vs_pollers_run_again(void);
/* Has every daemon stop accepting (MHD_quiesce_daemon, by its own thread, so that no call races
 * its MHD_run) and returns once all have; they go on serving the connections they have. */
void vs_pollers_quiesce(vs_pollers *all);
/* Stops and joins the threads and frees all; the daemons are the caller's to stop afterwards. */
void vs_pollers_stop(vs_pollers *all);

/* websocket.c: WebSocket streams (GET /ws/performance; README.md gives its messages), served by
 * one thread of their own over the sockets libmicrohttpd upgrades. vs_ws_start returns NULL
 * after printing why to stderr. */
typedef struct vs_ws vs_ws;
vs_ws *vs_ws_start(vs_server *srv, vs_pollers *pollers);
/* Whether url is a WebSocket's path. */
int vs_ws_path(const char *url);
/* Answers a request for a WebSocket's path, on a polling thread (version: its HTTP version): the
 * 101 response to queue, which holds one of --max-websockets places until vs_ws_release_place
 * (when the request completes); or NULL with the error in rs (405, 400, 426, 503). */
struct MHD_Response;
struct MHD_Response *vs_ws_accept(vs_ws *ws, vs_request *rq, vs_response *rs, const char *version);
void vs_ws_release_place(vs_ws *ws);
/* Sends every WebSocket a close frame 1001, gives them a second to answer, and hands them back
 * to libmicrohttpd (whose polling threads must still run); later handshakes get 503. Once only:
 * a second call does nothing. */
void vs_ws_stop(vs_ws *ws);
/* Stops (when vs_ws_stop has not) and frees ws, after the daemons have stopped. */
void vs_ws_free(vs_ws *ws);

/* json_check.c: whether text[0, len) (followed by a NUL) is one strict RFC 8259 value, nested at most
 * max_depth deep, with finite numbers, valid UTF-8, paired surrogates and no \u0000 in keys.
 * 0, with *rewritten (malloc'd; NULL when text needs no change) the text json-c is to parse:
 * wide integers made doubles, vectors (into *vectors, when not NULL) replaced by placeholders;
 * or -1 with the byte offset and the problem. */
int vs_json_check(const char *text, size_t len, int max_depth, vs_vectors *vectors,
                  char **rewritten, size_t *rewritten_len, size_t *at, const char **why);
/* The coordinates a placeholder string stands for (*count of them), or NULL when o is none. */
const float *vs_vectors_lookup(const vs_vectors *v, json_object *o, size_t *count);
void vs_vectors_free(vs_vectors *v);

/* Whether a request (its parsed body, NULL when none) is light enough for the polling thread to
 * answer itself, without the two thread hand-offs of a worker: bounded work, such as a health
 * check or an unfiltered search of a few hits. */
typedef int (*vs_light_fn)(json_object *body);
/* routes.c: finds the handler of method + path and its lightness test (NULL: always a worker's);
 * args receives the path's {parameters}, malloc'd (the caller frees them). Returns 0 with
 * *status 404 (no such path) or 405 (no such method on it) when none. */
int vs_route(const char *method, const char *path, vs_handler *out, vs_light_fn *light,
             char **args, int max_args, unsigned *status);
#define VS_MAX_ARGS 3

/* reply.c */
uint64_t vs_now_ns(void);
void vs_ok(vs_request *rq, vs_response *rs, json_object *result); /* takes result */
void vs_fail(vs_request *rq, vs_response *rs, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Fails with the HTTP status a library status maps to and vexfs_last_error()'s message. */
void vs_fail_lib(vs_request *rq, vs_response *rs, vexfs_status st);
/* For a request of /api/v1 both write that API's error body instead (api_v1_reply.c), so that
 * the helpers the two APIs share (fields, vectors, filters, ids) and http.c's early answers
 * (401, 404, 405, 413, 503) answer each API in its own shape. */
unsigned vs_http_status(vexfs_status st);
/* An operation's answer: {"operation_id": n, "status": "completed"}. */
void vs_ok_operation(vs_request *rq, vs_response *rs);
/* A JSON value that serializes as `text` (malloc'd; taken), unparsed. */
json_object *vs_raw_json(char *text);
/* A payload as the library returns it, parsed (as deep as the library allows), or NULL when
 * out of memory. */
#define VEXFS_PAYLOAD_DEPTH 64
json_object *vs_parse_payload(const char *text);
/* A float as nine significant digits, which read back as the same float (float_text.h). */
json_object *vs_float(float v);

/* A JSON text being written. An allocation that fails marks it failed (appends then do
 * nothing), which vs_ok_text and vs_ok_body answer with a 503. */
typedef struct vs_text {
  char *p; /* NUL-terminated; malloc'd */
  size_t len, cap;
  int failed;
} vs_text;
void vs_text_put(vs_text *t, const char *s, size_t n);
void vs_text_puts(vs_text *t, const char *s);
void vs_text_u64(vs_text *t, uint64_t v);
void vs_text_float(vs_text *t, float v);
/* o serialized (plain, slashes unescaped), or null for NULL. */
void vs_text_json(vs_text *t, json_object *o);
void vs_text_free(vs_text *t);
/* Answers 200 with Qdrant's envelope around result, the text of one JSON value (freed). */
void vs_ok_text(vs_request *rq, vs_response *rs, vs_text *result);
/* Answers 200 with body as it is (taken), of content_type (NULL: application/json). */
void vs_ok_body(vs_request *rq, vs_response *rs, vs_text *body, const char *content_type);
/* api_v1_reply.c: the error body of /api/v1, {"error": {"code": "API_005", "type": "Resource
 * not found", "message": "..."}} with the reference's codes (API_001 .. API_008). code NULL: the
 * one status implies (vs_v1_code). */
int vs_v1_request(const vs_request *rq);
void vs_v1_error(vs_request *rq, vs_response *rs, unsigned status, const char *code,
                 const char *message);
void vs_v1_fail(vs_request *rq, vs_response *rs, unsigned status, const char *code,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* The HTTP status and code of a library status, with vexfs_last_error()'s message. */
void vs_v1_fail_lib(vs_request *rq, vs_response *rs, vexfs_status st);

/* The query argument `key` of the request, or NULL. */
const char *vs_query_arg(vs_request *rq, const char *key);

/* performance.c: a thread samples the process-wide figures once a second into a ring of one
 * hour of 1 s samples and one day of 1 min averages (perf_ring.h). */
typedef struct vs_perf_sample {
  uint64_t unix_ms;             /* when it was taken */
  double vector_ops_per_sec;    /* inserts, upserts, removes and searched queries per second */
  double search_ops_per_sec, insert_ops_per_sec;
  double search_latency_p50_ms, search_latency_p99_ms;
  double search_latency_p95_ms; /* (the SDKs report it; appended to the interface as given) */
  double memory_pool_hit_rate;  /* 0..1 */
  uint64_t vectors;             /* stored in every collection */
  int simd_acceleration_active; const char *simd_isa;
} vs_perf_sample;
vs_perf *vs_perf_start(vs_server *srv);  /* NULL after printing why to stderr */
void vs_perf_stop(vs_perf *p);
/* The latest sample (taken now when none has been yet). Thread-safe. */
void vs_perf_latest(vs_perf *p, vs_perf_sample *out);
/* Writes s as the flat JSON object of the reference's stream and history rows:
   {"timestamp":"2026-12-03T17:05:00.123Z","vector_ops_per_sec":...,"memory_pool_hit_rate":...,
    "simd_acceleration_active":true, ...} */
void vs_perf_sample_write(vs_text *out, const vs_perf_sample *s);
/* The samples of the last duration_s seconds, averaged over interval_s (perf_ring.h says how):
 * *n rows, oldest first, malloc'd (NULL with *n 0 when none or out of memory). Thread-safe. */
vs_perf_sample *vs_perf_history(vs_perf *p, unsigned duration_s, unsigned interval_s, size_t *n);
/* "2026-12-03T17:05:00.123Z" of a time in ms since the epoch, into out. */
void vs_perf_timestamp(uint64_t unix_ms, char out[32]);

/* Field helpers: each returns 0 and sets *out (or leaves a default when the key is absent and
 * `required` is 0), or -1 after vs_fail with a message naming `where`. */
int vs_get_object(vs_request *rq, vs_response *rs, json_object *o, const char *key, int required,
                  json_object **out);
int vs_get_uint(vs_request *rq, vs_response *rs, json_object *o, const char *key, uint64_t max,
                uint64_t *out);
int vs_get_bool(vs_request *rq, vs_response *rs, json_object *o, const char *key, int *out);
/* The body as an object (absent: an empty one, owned by rq). */
json_object *vs_body(vs_request *rq, vs_response *rs);

/* catalog.c */
vexfs_status vs_catalog_open(vs_catalog *cat, const vs_options *opt);
vexfs_status vs_catalog_close(vs_catalog *cat);
/* The collection called name for one request, which gives it back with vs_catalog_put; NULL
 * when there is none (or it is being dropped). A drop waits only for the requests using that
 * collection, so a long request holds up nothing else. */
vs_coll *vs_catalog_acquire(vs_catalog *cat, const char *name);
void vs_catalog_put(vs_catalog *cat, vs_coll *k);
/* [{"name": ...}, ...] of the collections, as GET /collections lists them. */
json_object *vs_catalog_list(vs_catalog *cat);
/* The points of every collection (companions left out). */
uint64_t vs_catalog_vectors(vs_catalog *cat);
vexfs_status vs_catalog_create(vs_catalog *cat, const char *name,
                               const vexfs_collection_config *cfg);
vexfs_status vs_catalog_drop(vs_catalog *cat, const char *name);
/* Whether name is one clients may use (not a companion's). */
int vs_catalog_name_ok(const char *name);
/* The payload schema ({"field": "keyword", ...}), a new reference; NULL on failure. */
json_object *vs_coll_schema(vs_coll *k);
/* Replaces the payload schema (takes schema). Under k->write. */
vexfs_status vs_coll_set_schema(vs_coll *k, json_object *schema);
/* Ids for n points written without ids of their own (Chroma's records, /api/v1 vectors sent
 * without one): *first .. *first + n - 1, past the largest id below the UUIDs' (looked up once,
 * then kept as a hint). VEXFS_E_INVALID (said in vexfs_last_error's stead by the caller) when
 * no n ids are left below the UUIDs'. Under k->write. */
vexfs_status vs_coll_take_ids(vs_coll *k, size_t n, uint64_t *first);
/* Keeps the hint past ids written with ids given; with ids NULL, forgets it (ids were taken
 * another way: a write with taken ids failed as existing). Under k->write. */
void vs_coll_saw_ids(vs_coll *k, const uint64_t *ids, size_t n);

/* point_ids.c: Qdrant point ids. */
/* Reads a point id (an unsigned integer, or a UUID string) into *num (numbers) or uuid (36 chars
 * and NUL, canonical lower case); returns 1 for a number, 2 for a UUID, 0 if it is neither. */
int vs_point_id_parse(json_object *v, uint64_t *num, char uuid[37]);
int vs_uuid_parse(const char *s, char uuid[37]);
/* Resolves point ids to the library's ids for reading: found[i] = 0 for a UUID never stored.
 * ids must have room for n. Returns -1 after vs_fail. */
int vs_ids_lookup(vs_request *rq, vs_response *rs, vs_coll *k, json_object *list, uint64_t *ids,
                  uint8_t *found);
/* As lookup, for writing (under k->write): UUIDs never stored are given fresh ids, recorded in
 * the companion before the call returns; a number that a UUID already holds fails. */
int vs_ids_assign(vs_request *rq, vs_response *rs, vs_coll *k, json_object *const *given,
                  size_t n, uint64_t *ids);
/* qsort/bsearch order of u64 ids. */
int vs_compare_ids(const void *a, const void *b);
/* Whether a UUID maps to id (then copied into uuid). */
int vs_id_uuid(vs_coll *k, uint64_t id, char uuid[37]);
/* The client's form of a library id: its UUID string when one maps to it, else the number. */
json_object *vs_id_json(vs_coll *k, uint64_t id);

/* filter.c: a Qdrant filter checked and translated to the library's filter_json (has_id's UUIDs
 * mapped to ids). Returns a malloc'd string, or NULL after vs_fail (400 naming the unsupported
 * or malformed condition). `where` names the filter in messages ("filter"). */
char *vs_filter_translate(vs_request *rq, vs_response *rs, vs_coll *k, json_object *filter,
                          const char *where);
/* The ids a filter admits (NULL filter: all), ascending; *ids freed with vexfs_free. -1 after
 * vs_fail. */
int vs_filter_ids(vs_request *rq, vs_response *rs, vs_coll *k, json_object *filter,
                  uint64_t **ids, size_t *n);

/* The collection a request names (args[0]) under the catalog's shared hold, or NULL after a 404
 * (the hold is then released). */
vs_coll *vs_request_collection(vs_request *rq, vs_response *rs, const char *name);

#endif

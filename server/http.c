/* HTTP on libmicrohttpd. Its polling threads (--threads daemons on one listening socket, each
 * run by a thread of poll.c) move bytes and answer
 * light requests themselves (health checks, unfiltered searches of a few hits: bounded work, and
 * two thread hand-offs saved); any other request whose body has arrived is suspended and queued
 * for a worker thread, which parses the body, runs the handler and resumes the connection with
 * the answer, so a long search or insert never stalls other connections. A WebSocket's
 * handshake is answered on the polling thread too (websocket.c takes the socket from there).
 * Limits: bodies past --max-body get 413 (at once when Content-Length says so), idle
 * connections close after --idle-timeout, connections are capped at --max-connections. */
#include <fcntl.h>
#include <netdb.h>
#include <sys/random.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

#include "server.h"

#define DISCARD_MAX (64u << 20) /* bytes of an oversized chunked body read to answer it */
#define JSON_DEPTH 64
#define LIGHT_BODY_MAX (64u << 10) /* larger bodies are parsed by a worker */ /* bodies nest payloads at depth 3, which the library allows 64 deep */

typedef struct job job;
struct vs_http {
  vs_server *srv;
  struct MHD_Daemon **daemons;
  MHD_socket *listeners; /* each daemon's descriptor of the one listening socket: theirs until
                            they are quiesced, then ours to close */
  unsigned ndaemons;
  vs_pollers *pollers;
  vs_ws *ws;
  int running; /* every polling and worker thread started */
  pthread_mutex_t lock;
  pthread_cond_t wake;
  job *head, **tail;
  int stopping; /* no more jobs: new requests get 503 */
  pthread_t *workers;
  unsigned nworkers;
  atomic_size_t in_flight; /* requests begun and not yet completed */
  atomic_size_t suspended; /* connections a worker has yet to hand back */
  char *cert, *key;
};

/* One request, from its first header to its completion. */
struct job {
  vs_http *h;
  struct MHD_Connection *conn;
  const struct MHD_Daemon *daemon; /* the connection's, whose thread a resume must wake */
  char *body;
  size_t len, cap;
  unsigned early_status; /* 401 or 413, answered without reading further */
  size_t discarded;      /* bytes of a body past --max-body, read and dropped */
  int queued, done;
  int parsed, parse_ok;  /* the body was parsed (by the polling thread, for a light request) */
  int websocket;         /* holds a WebSocket's place (vs_ws_accept) */
  vs_vectors vectors;    /* lifted out of the body by its check */
  vs_handler handler;
  char *args[VS_MAX_ARGS];
  vs_request rq;
  vs_response rs;
  char *path;
  job *next;
};

static int key_matches(const char *given, const char *key) {
  size_t lg = strlen(given), lk = strlen(key);
  unsigned char diff = lg != lk;
  for (size_t i = 0; i < lk; i++) /* time depends on the key's length only */
    diff |= (unsigned char)(given[i < lg ? i : 0] ^ key[i]);
  return diff == 0;
}

static int authorized(vs_http *h, struct MHD_Connection *conn, const char *url) {
  const char *key = h->srv->opt.api_key;
  if (!key || strcmp(url, "/healthz") == 0 || strcmp(url, "/livez") == 0 ||
      strcmp(url, "/readyz") == 0)
    return 1;
  const char *given = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "api-key");
  if (given && key_matches(given, key)) return 1;
  const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
  return auth && strncasecmp(auth, "Bearer ", 7) == 0 && key_matches(auth + 7, key);
}

static enum MHD_Result send_response(job *j) {
  vs_response *rs = &j->rs;
  size_t len = rs->text ? strlen(rs->text) : 0;
  struct MHD_Response *r =
      MHD_create_response_from_buffer(len, rs->text, MHD_RESPMEM_MUST_FREE);
  if (!r) return MHD_NO;
  rs->text = NULL; /* the response owns it */
  MHD_add_response_header(r, "Content-Type", rs->content_type ? rs->content_type : "application/json");
  if (rs->status == 401) MHD_add_response_header(r, "WWW-Authenticate", "Bearer");
  if (rs->status == 426) { /* only WebSocket paths answer it */
    MHD_add_response_header(r, "Upgrade", "websocket");
    MHD_add_response_header(r, "Sec-WebSocket-Version", "13");
  }
  enum MHD_Result ok = MHD_queue_response(j->conn, rs->status, r);
  MHD_destroy_response(r);
  return ok;
}

static enum MHD_Result answer_now(job *j, unsigned status) {
  if (status == 401)
    vs_fail(&j->rq, &j->rs, 401, "Unauthorized: a valid api-key header or Bearer token is required");
  else if (status == 413)
    vs_fail(&j->rq, &j->rs, 413, "Payload too large: the body exceeds %zu bytes (--max-body)",
            j->h->srv->opt.max_body);
  else if (status == 503)
    vs_fail(&j->rq, &j->rs, 503, "Service unavailable: the server is shutting down");
  else if (status == 405)
    vs_fail(&j->rq, &j->rs, 405, "Method not allowed: %s %s", j->rq.method, j->path);
  else
    vs_fail(&j->rq, &j->rs, 404, "Not found: %s %s", j->rq.method, j->path);
  j->queued = j->done = 1;
  return send_response(j);
}

/* The nonce of a body's vector placeholders: unguessable from the body alone (a placeholder only
 * ever stands for a vector of its own request, so this needs no more), and without a system
 * call per request: splitmix64 over a per-thread sequence seeded once by getrandom. */
static uint64_t next_nonce(void) {
  static _Thread_local uint64_t state;
  static _Thread_local int seeded;
  if (!seeded) {
    if (getrandom(&state, sizeof state, 0) != sizeof state) state = vs_now_ns();
    seeded = 1;
  }
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* Parses the body into rq.body; 0, or -1 after a 400. */
static int parse_body(job *j) {
  if (j->len == 0) return 0;
  size_t at, len;
  const char *why;
  char *rewritten;
  j->vectors.nonce = next_nonce();
  if (vs_json_check(j->body, j->len, JSON_DEPTH, &j->vectors, &rewritten, &len, &at, &why) != 0) {
    vs_fail(&j->rq, &j->rs, 400, "Bad request: malformed JSON body at byte %zu: %s", at, why);
    return -1;
  }
  j->rq.vectors = &j->vectors;
  if (rewritten) {
    free(j->body);
    j->body = rewritten;
    j->len = len;
  }
  json_tokener *tok = json_tokener_new_ex(JSON_DEPTH);
  if (!tok) {
    vs_fail(&j->rq, &j->rs, 503, "Service unavailable: out of memory");
    return -1;
  }
  json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
  j->rq.body = json_tokener_parse_ex(tok, j->body, (int)j->len);
  enum json_tokener_error err = json_tokener_get_error(tok);
  size_t end = json_tokener_get_parse_end(tok);
  json_tokener_free(tok);
  if (err == json_tokener_success && j->rq.body) return 0;
  json_object_put(j->rq.body);
  j->rq.body = NULL;
  vs_fail(&j->rq, &j->rs, 400, "Bad request: malformed JSON body at byte %zu: %s", end,
          err == json_tokener_continue ? "unexpected end of input" : json_tokener_error_desc(err));
  return -1;
}

static void run(job *j) {
  if (!j->parsed) {
    j->parsed = 1;
    j->parse_ok = parse_body(j) == 0;
  }
  if (j->parse_ok) {
    j->rq.start_ns = j->rq.start_ns ? j->rq.start_ns : vs_now_ns();
    j->handler(&j->rq, &j->rs, j->args);
    if (!j->rs.text) vs_fail(&j->rq, &j->rs, 500, "Internal error: no answer");
  }
  json_object_put(j->rq.body);
  j->rq.body = NULL;
  j->rq.vectors = NULL;
  vs_vectors_free(&j->vectors);
  free(j->body);
  j->body = NULL;
}

/* A request for a WebSocket: the switch to it (101), or the error vs_ws_accept gave. */
static enum MHD_Result upgrade(job *j, const char *version) {
  struct MHD_Response *r = vs_ws_accept(j->h->ws, &j->rq, &j->rs, version);
  j->queued = j->done = 1;
  if (!r) return send_response(j);
  j->websocket = 1;
  j->rs.status = MHD_HTTP_SWITCHING_PROTOCOLS; /* for the log */
  enum MHD_Result ok = MHD_queue_response(j->conn, MHD_HTTP_SWITCHING_PROTOCOLS, r);
  MHD_destroy_response(r);
  return ok;
}

static void *worker(void *arg) {
  vs_http *h = arg;
  pthread_mutex_lock(&h->lock);
  for (;;) {
    while (!h->head && !h->stopping) pthread_cond_wait(&h->wake, &h->lock);
    if (!h->head) break; /* stopping, queue drained */
    job *j = h->head;
    h->head = j->next;
    if (!h->head) h->tail = &h->head;
    pthread_mutex_unlock(&h->lock);
    run(j);
    const struct MHD_Daemon *daemon = j->daemon; /* j may be freed once resumed */
    j->done = 1;
    MHD_resume_connection(j->conn);
    vs_pollers_wake(h->pollers, daemon);
    pthread_mutex_lock(&h->lock);
  }
  pthread_mutex_unlock(&h->lock);
  return NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **state) {
  vs_http *h = cls;
  job *j = *state;
  if (!j) { /* headers have arrived */
    if (!(j = calloc(1, sizeof *j))) return MHD_NO;
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_DAEMON);
    j->h = h;
    j->conn = conn;
    j->daemon = info ? info->daemon : NULL;
    j->rq = (vs_request){.srv = h->srv, .method = method, .conn = conn, .start_ns = vs_now_ns()};
    j->path = strdup(url);
    j->rq.path = j->path;
    *state = j;
    atomic_fetch_add(&h->in_flight, 1);
    if (!j->path) return MHD_NO;
    const char *length = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
    if (!authorized(h, conn, url)) j->early_status = 401;
    else if (length && strtoull(length, NULL, 10) > h->srv->opt.max_body) j->early_status = 413;
    return j->early_status ? answer_now(j, j->early_status) : MHD_YES;
  }
  if (j->queued) { /* resumed by the worker, or a body after an early answer */
    *upload_size = 0;
    if (j->done && j->rs.text) {
      atomic_fetch_sub(&h->suspended, 1);
      return send_response(j);
    }
    return MHD_YES;
  }
  if (*upload_size) {
    size_t n = *upload_size;
    *upload_size = 0;
    if (j->discarded || j->len + n > h->srv->opt.max_body) {
      /* a body without Content-Length grew too large: read on to answer 413 at its end (an
       * answer queued mid-upload is not sent), for up to DISCARD_MAX more bytes, then hang up */
      free(j->body);
      j->body = NULL;
      j->len = j->cap = 0;
      j->discarded += n;
      return j->discarded > DISCARD_MAX ? MHD_NO : MHD_YES;
    }
    if (j->len + n + 1 > j->cap) { /* doubling: a body of many small chunks is copied O(n) */
      size_t cap = j->cap ? j->cap : 4096;
      while (cap < j->len + n + 1) cap *= 2;
      char *grown = realloc(j->body, cap);
      if (!grown) return MHD_NO;
      j->body = grown;
      j->cap = cap;
    }
    memcpy(j->body + j->len, upload, n);
    j->len += n;
    j->body[j->len] = 0;
    return MHD_YES;
  }
  if (j->discarded) return answer_now(j, 413);
  if (vs_ws_path(url)) return upgrade(j, version);
  unsigned status;
  vs_light_fn light = NULL;
  if (!vs_route(method, url, &j->handler, &light, j->args, VS_MAX_ARGS, &status))
    return answer_now(j, status);
  if (light && j->len <= LIGHT_BODY_MAX) { /* answered here when light: no hand-offs */
    j->parsed = 1;
    j->parse_ok = parse_body(j) == 0;
    if (!j->parse_ok || light(j->rq.body)) {
      run(j);
      j->queued = j->done = 1;
      return send_response(j);
    }
  }
  pthread_mutex_lock(&h->lock);
  if (h->stopping) {
    pthread_mutex_unlock(&h->lock);
    json_object_put(j->rq.body);
    j->rq.body = NULL;
    return answer_now(j, 503);
  }
  j->queued = 1;
  atomic_fetch_add(&h->suspended, 1);
  MHD_suspend_connection(conn);
  *h->tail = j;
  h->tail = &j->next;
  pthread_mutex_unlock(&h->lock);
  pthread_cond_signal(&h->wake); /* after the unlock: the woken worker finds the lock free */
  return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **state,
                         enum MHD_RequestTerminationCode why) {
  (void)conn, (void)why;
  vs_http *h = cls;
  job *j = *state;
  if (!j) return;
  if (h->srv->opt.log_requests)
    fprintf(stderr, "%s %s %u %lluus\n", j->rq.method, j->path ? j->path : "?",
            j->done ? j->rs.status : 0, (unsigned long long)((vs_now_ns() - j->rq.start_ns) / 1000));
  if (j->websocket) vs_ws_release_place(h->ws);
  for (int i = 0; i < VS_MAX_ARGS; i++) free(j->args[i]);
  free(j->rs.text);
  free(j->body);
  free(j->path);
  free(j);
  *state = NULL;
  atomic_fetch_sub(&h->in_flight, 1);
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **state,
                          enum MHD_ConnectionNotificationCode code) {
  (void)cls, (void)conn, (void)state;
  if (code == MHD_CONNECTION_NOTIFY_CLOSED) vs_pollers_run_again();
}

static int hexval(char c) {
  return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                      : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Percent-decodes the path and arguments in place, as libmicrohttpd would, except "%00", kept
 * as it is: a NUL would cut "a%00b" to "a" unseen, where "a%00b" fails as a name. */
static size_t unescape(void *cls, struct MHD_Connection *conn, char *s) {
  (void)cls, (void)conn;
  char *o = s;
  for (const char *p = s; *p; p++) {
    int hi, lo;
    if (*p == '%' && (hi = hexval(p[1])) >= 0 && (lo = hexval(p[2])) >= 0 && (hi || lo)) {
      *o++ = (char)(hi * 16 + lo);
      p += 2;
    } else {
      *o++ = *p;
    }
  }
  *o = 0;
  return (size_t)(o - s);
}

static char *read_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *text = size >= 0 ? malloc((size_t)size + 1) : NULL;
  if (text && fread(text, 1, (size_t)size, f) != (size_t)size) {
    free(text);
    text = NULL;
  }
  if (text) text[size] = 0;
  fclose(f);
  return text;
}

/* Closes the listening socket's descriptors (once the daemons have let go of them). */
static void close_listeners(vs_http *h) {
  for (unsigned i = 0; i < h->ndaemons; i++) {
    if (h->listeners[i] != MHD_INVALID_SOCKET) close(h->listeners[i]);
    h->listeners[i] = MHD_INVALID_SOCKET;
  }
}

/* Stops the daemons, whose threads have stopped or never ran. */
static void stop_daemons(vs_http *h) {
  for (unsigned i = 0; i < h->ndaemons; i++) MHD_quiesce_daemon(h->daemons[i]); /* again: harmless */
  close_listeners(h);
  for (unsigned i = 0; i < h->ndaemons; i++) MHD_stop_daemon(h->daemons[i]);
  h->ndaemons = 0;
}

static void free_http(vs_http *h) {
  free(h->daemons);
  free(h->listeners);
  free(h->workers);
  free(h->cert);
  free(h->key);
  pthread_mutex_destroy(&h->lock);
  pthread_cond_destroy(&h->wake);
  free(h);
}

vs_http *vs_http_start(vs_server *srv, unsigned *port) {
  const vs_options *o = &srv->opt;
  vs_http *h = calloc(1, sizeof *h);
  if (!h) return NULL;
  h->srv = srv;
  h->tail = &h->head;
  pthread_mutex_init(&h->lock, NULL);
  pthread_cond_init(&h->wake, NULL);
  char service[16];
  snprintf(service, sizeof service, "%u", o->port);
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                           .ai_flags = AI_PASSIVE | AI_NUMERICSERV}, *addr = NULL;
  int gai = getaddrinfo(o->host, service, &hints, &addr);
  if (gai != 0) {
    fprintf(stderr, "vexfs-server: --host %s: %s\n", o->host, gai_strerror(gai));
    free_http(h);
    return NULL;
  }
  unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_ALLOW_UPGRADE | MHD_USE_ITC |
                   (addr->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0);
  if (o->tls_cert) {
    if (!(h->cert = read_file(o->tls_cert)) || !(h->key = read_file(o->tls_key))) {
      fprintf(stderr, "vexfs-server: cannot read %s\n", h->cert ? o->tls_key : o->tls_cert);
      freeaddrinfo(addr);
      free_http(h);
      return NULL;
    }
    flags |= MHD_USE_TLS;
  }
  struct MHD_OptionItem tls[] = {
      {h->cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, h->cert},
      {MHD_OPTION_HTTPS_MEM_KEY, 0, h->key},
      {MHD_OPTION_END, 0, NULL}};
  /* one daemon per polling thread; the first binds, the others share its socket through a
   * descriptor of their own (a daemon that fails to start may close the one it was given).
   * Connections are shared out as libmicrohttpd's own thread pool does: each daemon takes its
   * part of the limit */
  unsigned n = o->threads < o->max_connections ? o->threads : o->max_connections;
  h->daemons = calloc(n, sizeof *h->daemons);
  h->listeners = calloc(n, sizeof *h->listeners);
  for (unsigned i = 0; h->daemons && h->listeners && i < n; i++) {
    unsigned limit = o->max_connections / n + (i < o->max_connections % n);
    MHD_socket own = i == 0 ? MHD_INVALID_SOCKET : fcntl(h->listeners[0], F_DUPFD_CLOEXEC, 0);
    if (i > 0 && own == MHD_INVALID_SOCKET) break;
    struct MHD_OptionItem where[] = {
        i == 0 ? (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, addr->ai_addr}
               : (struct MHD_OptionItem){MHD_OPTION_LISTEN_SOCKET, (intptr_t)own, NULL},
        {MHD_OPTION_END, 0, NULL}};
    h->daemons[i] = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, h, MHD_OPTION_ARRAY, where, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, h, MHD_OPTION_NOTIFY_CONNECTION, on_connection, NULL,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)o->idle_timeout, MHD_OPTION_CONNECTION_LIMIT, limit,
        MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL, MHD_OPTION_ARRAY, tls, MHD_OPTION_END);
    if (!h->daemons[i]) {
      if (own != MHD_INVALID_SOCKET && fcntl(own, F_GETFD) != -1) close(own); /* if it did not */
      break;
    }
    const union MHD_DaemonInfo *info =
        i == 0 ? MHD_get_daemon_info(h->daemons[0], MHD_DAEMON_INFO_LISTEN_FD) : NULL;
    h->listeners[i] = i == 0 ? (info ? info->listen_fd : MHD_INVALID_SOCKET) : own;
    h->ndaemons++;
    if (h->listeners[i] == MHD_INVALID_SOCKET) break;
  }
  freeaddrinfo(addr);
  /* the pollers are made before the workers start (a worker wakes them through h->pollers) and
   * run last, once there are workers to take what they queue */
  if (h->ndaemons == n) h->pollers = vs_pollers_new(h->daemons, n, o->busy_poll_us);
  if (h->pollers) h->ws = vs_ws_start(srv, h->pollers);
  h->workers = h->ws ? calloc(o->threads, sizeof *h->workers) : NULL;
  for (unsigned i = 0; h->workers && i < o->threads; i++)
    if (pthread_create(&h->workers[i], NULL, worker, h) == 0) h->nworkers++;
  if (h->pollers && h->nworkers > 0 && vs_pollers_run(h->pollers) == 0) h->running = 1;
  if (!h->running) {
    if (h->ndaemons == 0)
      fprintf(stderr, "vexfs-server: cannot listen on %s port %u (in use, or not an address here)\n",
              o->host, o->port);
    else
      fprintf(stderr, "vexfs-server: cannot start the polling and worker threads\n");
    vs_http_stop(h, 0);
    return NULL;
  }
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->daemons[0], MHD_DAEMON_INFO_BIND_PORT);
  *port = info ? info->port : o->port;
  return h;
}

void vs_http_stop(vs_http *h, unsigned grace_s) {
  if (h->running) {
    vs_pollers_quiesce(h->pollers); /* no new connections */
    close_listeners(h); /* connections waiting in the backlog are refused now, not after grace */
    vs_ws_stop(h->ws); /* streams have no end to wait for: they are closed (1001) first */
    /* requests being answered get up to grace_s; bodies still arriving, 2 s */
    for (unsigned waited = 0; waited < grace_s * 100; waited++) {
      if (atomic_load(&h->suspended) == 0 && (atomic_load(&h->in_flight) == 0 || waited >= 200))
        break;
      usleep(10000);
    }
  }
  pthread_mutex_lock(&h->lock);
  h->stopping = 1;
  pthread_cond_broadcast(&h->wake);
  pthread_mutex_unlock(&h->lock);
  for (unsigned i = 0; i < h->nworkers; i++) pthread_join(h->workers[i], NULL);
  /* every job is done and its connection resumed; libmicrohttpd must have taken each back
   * before it stops (it aborts on a suspended one) */
  for (int waited = 0; h->pollers && atomic_load(&h->suspended) > 0 && waited < 1000; waited++)
    usleep(1000);
  if (h->pollers) vs_pollers_stop(h->pollers);
  h->pollers = NULL;
  stop_daemons(h);
  if (h->ws) vs_ws_free(h->ws); /* after the daemons, which call into it until they stop */
  free_http(h);
}

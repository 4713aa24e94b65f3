/* WebSocket streams (GET /ws/performance) on connections libmicrohttpd upgrades: the handshake's
 * check and answer here, the frames through wslay's event API.
 *
 * Threads: libmicrohttpd hands an upgraded socket over on its polling thread (on_upgrade), which
 * queues it for the one WebSocket thread of the server. That thread owns every upgraded socket
 * (non-blocking, edge-triggered in its own epoll set) and, per connection, a wslay context and a
 * timerfd that ticks at the connection's subscribed interval; a tick queues one sample of the
 * performance sampler. One thread is enough: its work per tick is one sample written out per
 * subscriber, at 100 ms at the fastest, and nothing it does waits, so the polling threads and
 * request workers never wait on a WebSocket, nor one WebSocket on another.
 *
 * Bounds: --max-websockets connections (a place is taken when the 101 is queued and given back
 * when libmicrohttpd has let go of the connection; beyond them 503 before any upgrade); client
 * messages of 64 KiB (wslay closes with 1009 past that); and 1 MiB queued for a client, counted
 * with a frame's overhead so that pongs owed to a flood of empty pings count too: a client that
 * does not read its stream, or that makes the server owe it more than that, is dropped.
 *
 * Stop (vs_ws_stop, before the daemons stop): every WebSocket is sent a close frame 1001, gets
 * CLOSE_GRACE_MS to answer it, and is handed back to libmicrohttpd (MHD_UPGRADE_ACTION_CLOSE),
 * which closes its socket; an upgrade that completes after that is closed as it arrives. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <wslay/wslay.h>

#include "server.h"

#define WS_PATH "/ws/performance"
#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11" /* RFC 6455, section 1.3 */
#define MAX_MESSAGE (64u << 10)
#define MAX_QUEUED (1u << 20)
#define FRAME_COST 64 /* a queued message's bookkeeping and frame header, beyond its payload */
#define INTERVAL_MIN_MS 100
#define INTERVAL_MAX_MS 60000
#define INTERVAL_DEFAULT_MS 1000
#define CLOSE_GRACE_MS 1000
#define JSON_DEPTH 8
#define WAKE_TAG UINT64_MAX /* epoll data of the thread's eventfd; a connection's: slot * 2, and
                               slot * 2 + 1 for its timer */

/* A socket libmicrohttpd has handed over, on its way to the WebSocket thread. */
typedef struct upgraded {
  MHD_socket fd;
  struct MHD_UpgradeResponseHandle *urh;
  const struct MHD_Daemon *daemon; /* whose polling thread is to be woken when it is handed back */
  char *extra;                     /* bytes libmicrohttpd read past the request */
  size_t extra_len;
  struct upgraded *next;
} upgraded;

typedef struct ws_conn {
  vs_ws *ws;
  int used;
  upgraded u;
  size_t extra_off;
  int timer;   /* timerfd of the subscription */
  int metrics; /* subscribed to performance_metrics */
  int overflow; /* more is owed than MAX_QUEUED */
  wslay_event_context_ptr ctx;
} ws_conn;

struct vs_ws {
  vs_server *srv;
  vs_pollers *pollers;
  int epfd, wake_fd;
  pthread_t thread;
  int started, joined;
  atomic_int stopping;
  atomic_uint places; /* taken by accepted handshakes, given back by vs_ws_release_place */
  pthread_mutex_t lock;
  upgraded *pending; /* under lock */
  int gone;          /* under lock: the thread has ended; later upgrades are closed at once */
  ws_conn *slots;    /* the thread's own */
  unsigned nslots, open;
};

static void wake(vs_ws *ws) {
  uint64_t one = 1;
  ssize_t written = write(ws->wake_fd, &one, sizeof one);
  (void)written; /* fails only on a counter about to overflow: readable already */
}

/* ---- the handshake (polling threads) ---- */

int vs_ws_path(const char *url) { return strcmp(url, WS_PATH) == 0; }

/* Whether a header's comma-separated list holds token (case-insensitive). */
static int has_token(const char *list, const char *token) {
  size_t n = strlen(token);
  for (const char *p = list; p && *p;) {
    p += strspn(p, " \t,");
    size_t len = strcspn(p, ",");
    while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t')) len--;
    if (len == n && strncasecmp(p, token, n) == 0) return 1;
    p = strchr(p, ',');
  }
  return 0;
}

/* Whether key is the base64 of 16 bytes, as Sec-WebSocket-Key must be. */
static int key_ok(const char *key) {
  if (!key || strlen(key) != 24) return 0;
  gnutls_datum_t in = {(unsigned char *)key, 24}, out = {0};
  int ok = gnutls_base64_decode2(&in, &out) == 0 && out.size == 16;
  gnutls_free(out.data);
  return ok;
}

/* Sec-WebSocket-Accept for key: base64(SHA-1(key GUID)), into out (29 bytes); 0 or -1. */
static int accept_text(const char *key, char out[29]) {
  char joined[24 + sizeof WS_GUID];
  unsigned char digest[20];
  memcpy(joined, key, 24);
  memcpy(joined + 24, WS_GUID, sizeof WS_GUID);
  if (gnutls_hash_fast(GNUTLS_DIG_SHA1, joined, sizeof joined - 1, digest) != 0) return -1;
  gnutls_datum_t in = {digest, sizeof digest}, b64 = {0};
  int ok = gnutls_base64_encode2(&in, &b64) == 0 && b64.size == 28;
  if (ok) {
    memcpy(out, b64.data, 28);
    out[28] = 0;
  }
  gnutls_free(b64.data);
  return ok ? 0 : -1;
}

static int take_place(vs_ws *ws) {
  unsigned n = atomic_load(&ws->places);
  do
    if (n >= ws->srv->opt.max_websockets) return -1;
  while (!atomic_compare_exchange_weak(&ws->places, &n, n + 1));
  return 0;
}

void vs_ws_release_place(vs_ws *ws) { atomic_fetch_sub(&ws->places, 1); }

static void on_upgrade(void *cls, struct MHD_Connection *conn, void *state, const char *extra_in,
                       size_t extra_in_size, MHD_socket sock,
                       struct MHD_UpgradeResponseHandle *urh);

struct MHD_Response *vs_ws_accept(vs_ws *ws, vs_request *rq, vs_response *rs,
                                  const char *version) {
  struct MHD_Connection *conn = rq->conn;
  const char *upgrade = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Upgrade");
  const char *connection = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Connection");
  const char *ws_version =
      MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Sec-WebSocket-Version");
  const char *key = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Sec-WebSocket-Key");
  char accept[29];
  if (strcmp(rq->method, "GET") != 0) {
    vs_fail(rq, rs, 405, "Method not allowed: %s %s (a WebSocket opens with GET)", rq->method,
            rq->path);
  } else if (strcmp(version, MHD_HTTP_VERSION_1_1) != 0) {
    vs_fail(rq, rs, 400, "Bad request: a WebSocket opens over HTTP/1.1, not %s", version);
  } else if (!has_token(upgrade, "websocket") || !has_token(connection, "upgrade")) {
    vs_fail(rq, rs, 426, "Upgrade required: %s is a WebSocket; open it with Upgrade: websocket, "
            "Connection: Upgrade, Sec-WebSocket-Version: 13 and a Sec-WebSocket-Key", rq->path);
  } else if (!ws_version || strcmp(ws_version, "13") != 0) {
    vs_fail(rq, rs, 426, "Upgrade required: Sec-WebSocket-Version %s is not served; 13 is",
            ws_version ? ws_version : "(none)");
  } else if (!key_ok(key) || accept_text(key, accept) != 0) {
    vs_fail(rq, rs, 400, "Bad request: Sec-WebSocket-Key must be the base64 of 16 bytes");
  } else if (atomic_load(&ws->stopping)) {
    vs_fail(rq, rs, 503, "Service unavailable: the server is shutting down");
  } else if (take_place(ws) != 0) {
    vs_fail(rq, rs, 503, "Service unavailable: %u WebSockets are open, as many as "
            "--max-websockets allows", ws->srv->opt.max_websockets);
  } else {
    struct MHD_Response *r = MHD_create_response_for_upgrade(on_upgrade, ws); /* with
                                                             Connection: Upgrade */
    if (r && MHD_add_response_header(r, "Upgrade", "websocket") == MHD_YES &&
        MHD_add_response_header(r, "Sec-WebSocket-Accept", accept) == MHD_YES)
      return r;
    if (r) MHD_destroy_response(r);
    vs_ws_release_place(ws);
    vs_fail(rq, rs, 503, "Service unavailable: out of memory");
  }
  return NULL;
}

/* On a polling thread: the 101 is sent and the socket is the server's; the WebSocket thread
 * takes it. */
static void on_upgrade(void *cls, struct MHD_Connection *conn, void *state, const char *extra_in,
                       size_t extra_in_size, MHD_socket sock,
                       struct MHD_UpgradeResponseHandle *urh) {
  (void)state;
  vs_ws *ws = cls;
  const union MHD_ConnectionInfo *info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_DAEMON);
  upgraded *u = calloc(1, sizeof *u);
  if (u) *u = (upgraded){.fd = sock, .urh = urh, .daemon = info ? info->daemon : NULL};
  if (u && extra_in_size) {
    if ((u->extra = malloc(extra_in_size))) memcpy(u->extra, extra_in, extra_in_size);
    u->extra_len = extra_in_size;
  }
  pthread_mutex_lock(&ws->lock);
  int take = u && (u->extra || !extra_in_size) && !ws->gone;
  if (take) {
    u->next = ws->pending;
    ws->pending = u;
  }
  pthread_mutex_unlock(&ws->lock);
  if (take) {
    wake(ws);
    return;
  }
  if (u) free(u->extra);
  free(u);
  MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
  vs_pollers_run_again(); /* this thread's daemon is to see the close */
}

/* ---- the connections (the WebSocket thread) ---- */

static size_t owed(ws_conn *c) {
  return wslay_event_get_queued_msg_length(c->ctx) +
         wslay_event_get_queued_msg_count(c->ctx) * FRAME_COST;
}

static ssize_t on_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
                       void *user) {
  (void)flags;
  ws_conn *c = user;
  if (c->overflow || owed(c) > MAX_QUEUED) { /* pongs pile up for a client that sends and does
                                                not read */
    c->overflow = 1;
    wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
    return -1;
  }
  if (c->extra_off < c->u.extra_len) {
    size_t n = c->u.extra_len - c->extra_off < len ? c->u.extra_len - c->extra_off : len;
    memcpy(buf, c->u.extra + c->extra_off, n);
    c->extra_off += n;
    return (ssize_t)n;
  }
  ssize_t n = recv(c->u.fd, buf, len, 0);
  if (n > 0) return n;
  wslay_event_set_error(ctx, n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)
                                 ? WSLAY_ERR_WOULDBLOCK : WSLAY_ERR_CALLBACK_FAILURE);
  return -1; /* 0: the client hung up */
}

static ssize_t on_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                       void *user) {
  ws_conn *c = user;
  ssize_t n = send(c->u.fd, data, len, MSG_NOSIGNAL | (flags & WSLAY_MSG_MORE ? MSG_MORE : 0));
  if (n >= 0) return n;
  wslay_event_set_error(ctx, errno == EAGAIN || errno == EWOULDBLOCK ? WSLAY_ERR_WOULDBLOCK
                                                                     : WSLAY_ERR_CALLBACK_FAILURE);
  return -1;
}

/* Queues text as one text message, unless that would owe the client more than MAX_QUEUED. */
static void queue_text(ws_conn *c, const char *text, size_t len) {
  if (owed(c) + len + FRAME_COST > MAX_QUEUED) {
    c->overflow = 1;
    return;
  }
  struct wslay_event_msg msg = {WSLAY_TEXT_FRAME, (const uint8_t *)text, len};
  if (wslay_event_queue_msg(c->ctx, &msg) == WSLAY_ERR_NOMEM) c->overflow = 1;
}

/* Queues o serialized (and puts it). */
static void queue_json(ws_conn *c, json_object *o) {
  vs_text t = {0};
  vs_text_json(&t, o);
  json_object_put(o);
  if (t.failed) c->overflow = 1; /* out of memory: the client cannot be told what it is owed */
  else queue_text(c, t.p, t.len);
  vs_text_free(&t);
}

static void queue_error(ws_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void queue_error(ws_conn *c, const char *fmt, ...) {
  char message[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(message, sizeof message, fmt, ap);
  va_end(ap);
  json_object *o = json_object_new_object();
  json_object_object_add(o, "type", json_object_new_string("error"));
  json_object_object_add(o, "message", json_object_new_string(message));
  queue_json(c, o);
}

static void set_timer(ws_conn *c, unsigned interval_ms) {
  struct itimerspec t = {0}; /* all zero: disarmed */
  if (interval_ms) {
    t.it_interval.tv_sec = interval_ms / 1000;
    t.it_interval.tv_nsec = (long)(interval_ms % 1000) * 1000000;
    t.it_value.tv_nsec = 1; /* the first sample at once */
  }
  timerfd_settime(c->timer, 0, &t, NULL);
}

/* {"type":"subscribe","channels":[...],"interval":ms}: replaces the subscription. */
static void subscribe(ws_conn *c, json_object *m) {
  json_object *channels = NULL, *interval = NULL;
  if (!json_object_object_get_ex(m, "channels", &channels) ||
      !json_object_is_type(channels, json_type_array) || json_object_array_length(channels) == 0) {
    queue_error(c, "subscribe: `channels` must be a non-empty array of channel names "
                   "(performance_metrics, optimization_events)");
    return;
  }
  int metrics = 0;
  for (size_t i = 0; i < json_object_array_length(channels); i++) {
    json_object *ch = json_object_array_get_idx(channels, i);
    const char *name =
        json_object_is_type(ch, json_type_string) ? json_object_get_string(ch) : NULL;
    if (name && strcmp(name, "performance_metrics") == 0) {
      metrics = 1;
    } else if (!name || strcmp(name, "optimization_events") != 0) {
      /* optimization_events is accepted and never emits: the library has no such events */
      queue_error(c, "subscribe: unknown channel %s: the channels are performance_metrics and "
                     "optimization_events", json_object_to_json_string(ch));
      return;
    }
  }
  int64_t ms = INTERVAL_DEFAULT_MS;
  if (json_object_object_get_ex(m, "interval", &interval)) {
    ms = json_object_is_type(interval, json_type_int) ? json_object_get_int64(interval) : -1;
    if (ms < INTERVAL_MIN_MS || ms > INTERVAL_MAX_MS) {
      queue_error(c, "subscribe: `interval` must be an integer from %d to %d (milliseconds)",
                  INTERVAL_MIN_MS, INTERVAL_MAX_MS);
      return;
    }
  }
  c->metrics = metrics;
  set_timer(c, metrics ? (unsigned)ms : 0);
  json_object *ack = json_object_new_object();
  json_object_object_add(ack, "type", json_object_new_string("subscribed"));
  json_object_object_add(ack, "channels", json_object_get(channels));
  json_object_object_add(ack, "interval", json_object_new_int64(ms));
  queue_json(c, ack);
}

static void unsubscribe(ws_conn *c) {
  c->metrics = 0;
  set_timer(c, 0);
  json_object *ack = json_object_new_object();
  json_object_object_add(ack, "type", json_object_new_string("unsubscribed"));
  queue_json(c, ack);
}

static void on_message(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
                       void *user) {
  (void)ctx;
  ws_conn *c = user;
  if (arg->opcode == WSLAY_BINARY_FRAME) {
    queue_error(c, "binary messages are not understood: send JSON text");
    return;
  }
  if (arg->opcode != WSLAY_TEXT_FRAME) return; /* close, ping, pong: wslay answers them */
  json_tokener *tok = json_tokener_new_ex(JSON_DEPTH);
  if (!tok) {
    c->overflow = 1;
    return;
  }
  json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
  json_object *m = json_tokener_parse_ex(tok, (const char *)arg->msg, (int)arg->msg_length);
  enum json_tokener_error err = json_tokener_get_error(tok);
  size_t end = json_tokener_get_parse_end(tok);
  json_tokener_free(tok);
  json_object *type = NULL;
  if (err != json_tokener_success || end != arg->msg_length) {
    queue_error(c, "malformed JSON at byte %zu: %s", end,
                err == json_tokener_continue  ? "unexpected end of input"
                : err == json_tokener_success ? "text after the value"
                                              : json_tokener_error_desc(err));
  } else if (!json_object_object_get_ex(m, "type", &type) ||
             !json_object_is_type(type, json_type_string)) {
    queue_error(c, "a message is a JSON object with a string `type`: subscribe or unsubscribe");
  } else if (strcmp(json_object_get_string(type), "subscribe") == 0) {
    subscribe(c, m);
  } else if (strcmp(json_object_get_string(type), "unsubscribe") == 0) {
    unsubscribe(c);
  } else {
    queue_error(c, "unknown message type %s: subscribe or unsubscribe",
                json_object_to_json_string(type));
  }
  json_object_put(m);
}

/* A tick of the subscription: the latest sample, as
 * {"type":"performance_metrics","timestamp":...,"metrics":{...}}. */
static void on_tick(ws_conn *c) {
  uint64_t ticks;
  if (read(c->timer, &ticks, sizeof ticks) != sizeof ticks || !c->metrics) return;
  vs_perf_sample s;
  vs_perf_latest(c->ws->srv->perf, &s);
  char when[32];
  vs_perf_timestamp(s.unix_ms, when);
  vs_text t = {0};
  vs_text_puts(&t, "{\"type\":\"performance_metrics\",\"timestamp\":\"");
  vs_text_puts(&t, when);
  vs_text_puts(&t, "\",\"metrics\":");
  vs_perf_sample_write(&t, &s);
  vs_text_puts(&t, "}");
  if (t.failed) c->overflow = 1;
  else queue_text(c, t.p, t.len);
  vs_text_free(&t);
}

/* Hands the connection back to libmicrohttpd, which closes its socket. */
static void release(ws_conn *c) {
  vs_ws *ws = c->ws;
  if (c->overflow && ws->srv->opt.log_requests)
    fprintf(stderr, "websocket: dropped a client owed more than %u bytes\n", MAX_QUEUED);
  epoll_ctl(ws->epfd, EPOLL_CTL_DEL, c->u.fd, NULL);
  close(c->timer);
  wslay_event_context_free(c->ctx);
  free(c->u.extra);
  MHD_upgrade_action(c->u.urh, MHD_UPGRADE_ACTION_CLOSE);
  vs_pollers_wake(ws->pollers, c->u.daemon);
  c->used = 0;
  ws->open--;
}

/* Reads and writes what the socket allows; releases the connection when it has failed, is
 * closed both ways, or is owed too much. */
static void service(ws_conn *c) {
  if (wslay_event_recv(c->ctx) != 0 || wslay_event_send(c->ctx) != 0 || c->overflow ||
      (!wslay_event_want_read(c->ctx) && !wslay_event_want_write(c->ctx)))
    release(c);
}

static void begin_close(ws_conn *c) {
  static const char reason[] = "server shutting down";
  c->metrics = 0;
  set_timer(c, 0);
  wslay_event_queue_close(c->ctx, WSLAY_CODE_GOING_AWAY, (const uint8_t *)reason,
                          sizeof reason - 1);
  service(c);
}

/* Takes an upgraded socket into a free slot (a place was taken for it, so there is one). */
static void adopt(vs_ws *ws, upgraded *u) {
  static const struct wslay_event_callbacks callbacks = {
      .recv_callback = on_recv, .send_callback = on_send, .on_msg_recv_callback = on_message};
  ws_conn *c = NULL;
  for (unsigned i = 0; i < ws->nslots && !c; i++)
    if (!ws->slots[i].used) c = &ws->slots[i];
  int flags = fcntl(u->fd, F_GETFL);
  uint64_t slot = c ? (uint64_t)(c - ws->slots) : 0;
  struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
                           .data.u64 = slot * 2};
  struct epoll_event tick = {.events = EPOLLIN, .data.u64 = slot * 2 + 1};
  if (c) *c = (ws_conn){.ws = ws, .used = 1, .u = *u, .timer = -1};
  if (!c || flags < 0 || fcntl(u->fd, F_SETFL, flags | O_NONBLOCK) != 0 ||
      (c->timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)) < 0 ||
      wslay_event_context_server_init(&c->ctx, &callbacks, c) != 0 ||
      epoll_ctl(ws->epfd, EPOLL_CTL_ADD, c->timer, &tick) != 0 ||
      epoll_ctl(ws->epfd, EPOLL_CTL_ADD, u->fd, &ev) != 0) {
    if (c && c->timer >= 0) close(c->timer);
    if (c && c->ctx) wslay_event_context_free(c->ctx);
    if (c) c->used = 0;
    free(u->extra);
    MHD_upgrade_action(u->urh, MHD_UPGRADE_ACTION_CLOSE);
    vs_pollers_wake(ws->pollers, u->daemon);
    free(u);
    return;
  }
  free(u);
  ws->open++;
  wslay_event_config_set_max_recv_msg_length(c->ctx, MAX_MESSAGE);
  if (atomic_load(&ws->stopping)) begin_close(c);
  else service(c); /* bytes libmicrohttpd read already raise no event */
}

/* Takes the sockets queued by on_upgrade; with last, also closes the door behind them. */
static void adopt_pending(vs_ws *ws, int last) {
  pthread_mutex_lock(&ws->lock);
  upgraded *list = ws->pending;
  ws->pending = NULL;
  ws->gone = last;
  pthread_mutex_unlock(&ws->lock);
  while (list) {
    upgraded *next = list->next;
    adopt(ws, list);
    list = next;
  }
}

static void *ws_loop(void *arg) {
  vs_ws *ws = arg;
  uint64_t deadline = 0; /* of the close grace, once stopping */
  for (;;) {
    int timeout = -1, adopting = 0;
    if (deadline) {
      uint64_t now = vs_now_ns();
      timeout = now >= deadline ? 0 : (int)((deadline - now) / 1000000) + 1;
    }
    struct epoll_event ev[64];
    int n = epoll_wait(ws->epfd, ev, 64, timeout);
    for (int i = 0; i < n; i++) {
      if (ev[i].data.u64 == WAKE_TAG) {
        uint64_t count;
        ssize_t got = read(ws->wake_fd, &count, sizeof count);
        (void)got;
        adopting = 1;
        continue;
      }
      ws_conn *c = &ws->slots[ev[i].data.u64 / 2];
      if (!c->used) continue; /* released earlier in this round */
      if (ev[i].data.u64 % 2) on_tick(c);
      service(c);
    }
    if (adopting) adopt_pending(ws, 0); /* after the round: its events name no reused slot */
    if (atomic_load(&ws->stopping) && !deadline) {
      deadline = vs_now_ns() + (uint64_t)CLOSE_GRACE_MS * 1000000u;
      for (unsigned i = 0; i < ws->nslots; i++)
        if (ws->slots[i].used) begin_close(&ws->slots[i]);
    }
    if (deadline && (ws->open == 0 || vs_now_ns() >= deadline)) break;
  }
  adopt_pending(ws, 1); /* late ones are told 1001 and released below */
  for (unsigned i = 0; i < ws->nslots; i++)
    if (ws->slots[i].used) release(&ws->slots[i]);
  return NULL;
}

vs_ws *vs_ws_start(vs_server *srv, vs_pollers *pollers) {
  vs_ws *ws = calloc(1, sizeof *ws);
  if (!ws) return NULL;
  ws->srv = srv;
  ws->pollers = pollers;
  ws->nslots = srv->opt.max_websockets;
  ws->epfd = epoll_create1(EPOLL_CLOEXEC);
  ws->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  pthread_mutex_init(&ws->lock, NULL);
  atomic_init(&ws->stopping, 0);
  atomic_init(&ws->places, 0);
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = WAKE_TAG};
  ws->slots = calloc(ws->nslots, sizeof *ws->slots);
  if (ws->slots && ws->epfd >= 0 && ws->wake_fd >= 0 &&
      epoll_ctl(ws->epfd, EPOLL_CTL_ADD, ws->wake_fd, &ev) == 0 &&
      pthread_create(&ws->thread, NULL, ws_loop, ws) == 0) {
    ws->started = 1;
    return ws;
  }
  fprintf(stderr, "vexfs-server: cannot start the WebSocket thread\n");
  vs_ws_free(ws);
  return NULL;
}

void vs_ws_stop(vs_ws *ws) {
  atomic_store(&ws->stopping, 1);
  if (!ws->started || ws->joined) return;
  wake(ws);
  pthread_join(ws->thread, NULL);
  ws->joined = 1;
}

void vs_ws_free(vs_ws *ws) {
  vs_ws_stop(ws);
  if (ws->epfd >= 0) close(ws->epfd);
  if (ws->wake_fd >= 0) close(ws->wake_fd);
  pthread_mutex_destroy(&ws->lock);
  free(ws->slots);
  free(ws);
}

/* Qdrant's response envelope ({"result": ..., "status": "ok", "time": seconds}; errors
 * {"status": {"error": "..."}, "time": seconds}; a request of /api/v1 gets that API's error body
 * instead, api_v1_reply.c's, and one of /api/v2 Chroma's) and the small JSON helpers handlers
 * share. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>

#include "chroma.h"

uint64_t vs_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Seconds since the request began, to the microsecond: its text into out (32 bytes). */
static double elapsed_text(const vs_request *rq, char out[32]) {
  uint64_t us = rq ? (vs_now_ns() - rq->start_ns) / 1000 : 0;
  snprintf(out, 32, "%llu.%06llu", (unsigned long long)(us / 1000000),
           (unsigned long long)(us % 1000000));
  return (double)us / 1e6;
}

static json_object *elapsed(const vs_request *rq) {
  char text[32];
  double s = elapsed_text(rq, text);
  return json_object_new_double_s(s, text);
}

static void finish(vs_response *rs, unsigned status, json_object *envelope) {
  const char *text = json_object_to_json_string_ext(envelope, JSON_C_TO_STRING_PLAIN |
                                                                  JSON_C_TO_STRING_NOSLASHESCAPE);
  free(rs->text);
  rs->text = text ? strdup(text) : NULL;
  rs->status = rs->text ? status : 500;
  json_object_put(envelope);
}

void vs_ok(vs_request *rq, vs_response *rs, json_object *result) {
  json_object *e = json_object_new_object();
  json_object_object_add(e, "result", result);
  json_object_object_add(e, "status", json_object_new_string("ok"));
  json_object_object_add(e, "time", elapsed(rq));
  finish(rs, 200, e);
}

void vs_text_put(vs_text *t, const char *s, size_t n) {
  if (t->failed) return;
  if (t->len + n + 1 > t->cap) {
    size_t cap = t->cap ? t->cap : 1024;
    while (cap < t->len + n + 1) cap *= 2;
    char *grown = realloc(t->p, cap);
    if (!grown) {
      t->failed = 1;
      return;
    }
    t->p = grown;
    t->cap = cap;
  }
  memcpy(t->p + t->len, s, n);
  t->len += n;
  t->p[t->len] = 0;
}

void vs_text_puts(vs_text *t, const char *s) { vs_text_put(t, s, strlen(s)); }

void vs_text_u64(vs_text *t, uint64_t v) {
  char digits[20], *d = digits + sizeof digits;
  do *--d = (char)('0' + v % 10);
  while ((v /= 10) != 0);
  vs_text_put(t, d, (size_t)(digits + sizeof digits - d));
}

void vs_text_float(vs_text *t, float v) {
  char text[VS_FLOAT_TEXT_MAX];
  vs_text_put(t, text, vs_float_text(v, text));
}

void vs_text_json(vs_text *t, json_object *o) {
  size_t n = 0;
  const char *text = json_object_to_json_string_length(
      o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
  if (text) vs_text_put(t, text, n);
  else t->failed = 1;
}

void vs_text_free(vs_text *t) {
  free(t->p);
  *t = (vs_text){0};
}

void vs_ok_body(vs_request *rq, vs_response *rs, vs_text *body, const char *content_type) {
  if (body->failed || !body->p) {
    vs_text_free(body);
    vs_fail(rq, rs, 503, "Service unavailable: out of memory for the answer");
    return;
  }
  free(rs->text);
  rs->text = body->p;
  *body = (vs_text){0};
  rs->status = 200;
  rs->content_type = content_type;
}

void vs_ok_text(vs_request *rq, vs_response *rs, vs_text *result) {
  vs_text e = {.failed = result->failed || !result->p};
  if (!e.failed) {
    char time[32];
    elapsed_text(rq, time);
    vs_text_put(&e, "{\"result\":", 10);
    vs_text_put(&e, result->p, result->len);
    vs_text_puts(&e, ",\"status\":\"ok\",\"time\":");
    vs_text_puts(&e, time);
    vs_text_put(&e, "}", 1);
  }
  vs_text_free(result);
  vs_ok_body(rq, rs, &e, NULL);
}

void vs_ok_operation(vs_request *rq, vs_response *rs) {
  json_object *r = json_object_new_object();
  json_object_object_add(r, "operation_id", json_object_new_uint64(++rq->srv->operation_id));
  json_object_object_add(r, "status", json_object_new_string("completed"));
  vs_ok(rq, rs, r);
}

void vs_fail(vs_request *rq, vs_response *rs, unsigned status, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  int len = vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (len >= (int)sizeof msg) { /* cut short: drop a UTF-8 sequence the cut left incomplete */
    size_t last = sizeof msg - 2;
    while (last > 0 && ((unsigned char)msg[last] & 0xC0) == 0x80) last--;
    unsigned char lead = (unsigned char)msg[last];
    size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    if (last + need > sizeof msg - 1) msg[last] = 0;
  }
  if (vs_v1_request(rq)) {
    vs_v1_error(rq, rs, status, NULL, msg);
    return;
  }
  if (rq && rq->path && strncmp(rq->path, "/api/v2/", 8) == 0) { /* Chroma's shape */
    vs_text body = {0};
    vs_chroma_error_text(&body, status, msg);
    free(rs->text);
    rs->text = body.failed ? NULL : body.p;
    rs->status = rs->text ? status : 500;
    rs->content_type = NULL;
    if (body.failed) vs_text_free(&body);
    return;
  }
  json_object *err = json_object_new_object();
  json_object_object_add(err, "error", json_object_new_string(msg));
  json_object *e = json_object_new_object();
  json_object_object_add(e, "status", err);
  json_object_object_add(e, "time", elapsed(rq));
  finish(rs, status, e);
}

unsigned vs_http_status(vexfs_status st) {
  switch (st) {
  case VEXFS_OK: return 200;
  case VEXFS_E_INVALID:
  case VEXFS_E_DIMENSION:
  case VEXFS_E_UNSUPPORTED: return 400;
  case VEXFS_E_NOT_FOUND: return 404;
  case VEXFS_E_EXISTS: return 409;
  case VEXFS_E_READONLY: return 403;
  case VEXFS_E_NOMEM:
  case VEXFS_E_BUSY: return 503;
  default: return 500; /* IO, CORRUPT, STATE */
  }
}

void vs_fail_lib(vs_request *rq, vs_response *rs, vexfs_status st) {
  if (vs_v1_request(rq)) {
    vs_v1_fail_lib(rq, rs, st);
    return;
  }
  vs_fail(rq, rs, vs_http_status(st), "%s: %s", vexfs_status_string(st), vexfs_last_error());
}

static int print_raw(json_object *o, struct printbuf *pb, int level, int flags) {
  (void)level, (void)flags;
  const char *text = json_object_get_userdata(o);
  return printbuf_memappend(pb, text, (int)strlen(text));
}

static void free_raw(json_object *o, void *text) {
  (void)o;
  free(text);
}

json_object *vs_raw_json(char *text) {
  json_object *o = json_object_new_object();
  json_object_set_serializer(o, print_raw, text, free_raw);
  return o;
}

json_object *vs_parse_payload(const char *text) {
  json_tokener *tok = json_tokener_new_ex(VEXFS_PAYLOAD_DEPTH);
  json_object *o = tok ? json_tokener_parse_ex(tok, text, (int)strlen(text)) : NULL;
  if (tok) json_tokener_free(tok);
  return o;
}

json_object *vs_float(float v) {
  char text[VS_FLOAT_TEXT_MAX];
  vs_float_text(v, text);
  return json_object_new_double_s((double)v, text);
}

const char *vs_query_arg(vs_request *rq, const char *key) {
  return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, key);
}

json_object *vs_body(vs_request *rq, vs_response *rs) {
  if (!rq->body) rq->body = json_object_new_object();
  if (!json_object_is_type(rq->body, json_type_object)) {
    vs_fail(rq, rs, 400, "Bad request: the body must be a JSON object");
    return NULL;
  }
  return rq->body;
}

int vs_get_object(vs_request *rq, vs_response *rs, json_object *o, const char *key, int required,
                  json_object **out) {
  json_object *v = NULL;
  if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null)) {
    if (!required) return 0;
    vs_fail(rq, rs, 400, "Bad request: missing field `%s`", key);
    return -1;
  }
  if (!json_object_is_type(v, json_type_object)) {
    vs_fail(rq, rs, 400, "Bad request: `%s` must be an object", key);
    return -1;
  }
  *out = v;
  return 0;
}

int vs_get_uint(vs_request *rq, vs_response *rs, json_object *o, const char *key, uint64_t max,
                uint64_t *out) {
  json_object *v = NULL;
  if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null)) return 0;
  if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0 ||
      json_object_get_uint64(v) > max) {
    vs_fail(rq, rs, 400, "Bad request: `%s` must be an integer from 0 to %llu", key,
            (unsigned long long)max);
    return -1;
  }
  *out = json_object_get_uint64(v);
  return 0;
}

int vs_get_bool(vs_request *rq, vs_response *rs, json_object *o, const char *key, int *out) {
  json_object *v = NULL;
  if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null)) return 0;
  if (!json_object_is_type(v, json_type_boolean)) {
    vs_fail(rq, rs, 400, "Bad request: `%s` must be true or false", key);
    return -1;
  }
  *out = json_object_get_boolean(v);
  return 0;
}

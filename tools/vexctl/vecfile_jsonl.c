/* vexctl: parsing a .jsonl file for import: one {"id": <u64>, "vector": [...], "payload": {...}}
 * per line (id optional: then --ids-from + row; payload optional or null). Each line is read by
 * the strict JSON reader (json_in.h), and its faults are worded here for a line of this format.
 * Coordinates are read from their own text with strtof (vj_floats). A payload's text is kept as
 * written (its span, cut out of the line in place) and then checked by the library itself, so
 * that every line is known good before the first row is imported. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vexfs/vexfs.h>

#include "cli.h"
#include "json_in.h"
#include "vecfile.h"

/* Nesting a line may have: deeper than the library allows, so that a payload nested too deep is
 * refused by the library, in its words (library_check). */
#define LINE_MAX_DEPTH (2 * VJ_MAX_DEPTH)

/* One line being read: its text (NUL-terminated) and where messages go. */
typedef struct line_ctx {
  const char *start;
  uint64_t line;
  char *err;
  size_t errlen;
} line_ctx;

/* "line L, column C: <formatted>" with C the column of `at`; returns -1. */
static int syntax(const line_ctx *l, const char *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int syntax(const line_ctx *l, const char *at, const char *fmt, ...) {
  int n = snprintf(l->err, l->errlen, "line %llu, column %zu: ", (unsigned long long)l->line,
                   (size_t)(at - l->start) + 1);
  if (n > 0 && (size_t)n < l->errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l->err + n, l->errlen - (size_t)n, fmt, ap);
    va_end(ap);
  }
  return -1;
}

enum { ID = 1, VECTOR = 2, PAYLOAD = 4 };

/* Where member m starts, for messages about it: its name, or right after the ',' before it. */
static const char *member_start(const vj_value *m, int first) {
  const char *at = m->key_src;
  while (!first && (at[-1] == ' ' || at[-1] == '\t' || at[-1] == '\r')) at--;
  return at;
}

/* Which member m is, by its name as written: the format's names have no escapes, so a name is
 * read as it stands in the line. Returns ID, VECTOR or PAYLOAD, or -1 after saying why not. */
static int member_of(const line_ctx *l, const vj_value *m, int first) {
  static const char *const names[] = {[ID] = "id", [VECTOR] = "vector", [PAYLOAD] = "payload"};
  const char *name = m->key_src + 1;
  size_t len = 0;
  for (; name[len] != '"'; len++) {
    if (!name[len]) return syntax(l, name + len, "the key's string does not end");
    if (name[len] == '\\' || len + 1 >= 16)
      return syntax(l, name + len, "unknown key (a line holds \"id\", \"vector\" and \"payload\")");
  }
  for (int which = ID; which <= PAYLOAD; which *= 2)
    if (strlen(names[which]) == len && !memcmp(name, names[which], len)) return which;
  return syntax(l, member_start(m, first),
                "unknown key \"%.*s\" (a line holds \"id\", \"vector\" and \"payload\")", (int)len,
                name);
}

static int read_id(const line_ctx *l, const vj_value *v, uint64_t *id) {
  if (v->type != VJ_NUMBER) return syntax(l, v->src, "\"id\" must be a non-negative integer");
  int len = (int)v->len, integer = v->src[0] != '-';
  for (int i = 0; i < len && integer; i++) integer = !strchr(".eE", v->src[i]);
  if (!integer)
    return syntax(l, v->src, "\"id\" must be a non-negative integer, not %.*s", len, v->src);
  errno = 0;
  unsigned long long n = strtoull(v->src, NULL, 10);
  if (errno == ERANGE || n == UINT64_MAX)
    return syntax(l, v->src, "\"id\" %.*s is not below %llu", len, v->src,
                  (unsigned long long)UINT64_MAX);
  *id = n;
  return 0;
}

/* The first n elements of the array v as the row's coordinates. */
static int read_coordinates(const line_ctx *l, const vj_value *v, size_t n, vf_source *s) {
  if (!n) return 0; /* an empty vector: vf_end_row says so */
  float *out = vf_push_floats(s, n);
  if (!out) return syntax(l, v->src, "out of memory");
  size_t bad;
  switch (vj_floats(v->items, n, out, &bad)) {
  case VJ_FLOATS_NOT_A_NUMBER:
    return syntax(l, v->items[bad].src, "coordinate %zu is not a number", bad);
  case VJ_FLOATS_BEYOND_FLOAT32:
    return syntax(l, v->items[bad].src, "coordinate %zu (%.*s) is beyond float32's range", bad,
                  (int)v->items[bad].len, v->items[bad].src);
  default: return 0;
  }
}

/* A fault inside "vector" v, at `at`: the coordinates before it are read first, so that the
 * first fault on the line is the one reported. */
static int vector_fault(const line_ctx *l, const vj_value *v, const char *at, vf_source *s) {
  if (*v->src != '[') return syntax(l, v->src, "expected '[' to open \"vector\"");
  const vj_value *last = v->n ? &v->items[v->n - 1] : NULL;
  int in_element = last && !last->len;
  if (read_coordinates(l, v, in_element ? v->n - 1 : v->n, s)) return -1;
  if (!in_element) return syntax(l, at, "expected ',' or ']' in \"vector\"");
  const char *e = last->src ? last->src : at;
  static const char *const not_finite[] = {"NaN", "Infinity", "-Infinity"};
  for (size_t i = 0; i < sizeof not_finite / sizeof *not_finite; i++)
    if (!strncmp(e, not_finite[i], strlen(not_finite[i])))
      return syntax(l, e, "coordinate %zu is %s: vectors must be finite numbers", v->n - 1,
                    not_finite[i]);
  return syntax(l, e, "coordinate %zu is not a number", v->n - 1);
}

/* Has the library judge payloads[0..n) (n <= CHUNK; strict JSON: UTF-8, duplicate keys, nesting)
 * by inserting them into a scratch in-memory collection. Returns 0, or -1 with err
 * "line L: <the library's reason>" for the first it refuses (lines: the payloads' lines). */
enum { CHUNK = 4096 };
static int library_check(const char *const *payloads, const uint64_t *lines, size_t n, char *err,
                         size_t errlen) {
  static const float zero[CHUNK];
  uint64_t ids[CHUNK];
  for (size_t i = 0; i < n; i++) ids[i] = i;
  vexfs_collection_config cfg;
  vexfs_collection_config_init(&cfg);
  cfg.dim = 1;
  cfg.index = VEXFS_INDEX_FLAT;
  cfg.threads = 1;
  vexfs_collection *c = NULL;
  vexfs_status st = vexfs_collection_create(&cfg, &c);
  if (st == VEXFS_OK) st = vexfs_insert_with_payload(c, ids, zero, payloads, n);
  vexfs_collection_free(c);
  if (st == VEXFS_OK) return 0;
  /* "vexfs_insert_with_payload: row 2: payload is not valid JSON: ..." */
  const char *msg = vexfs_last_error(), *row = strstr(msg, "row ");
  char *after;
  unsigned long long r = row ? strtoull(row + 4, &after, 10) : 0;
  if (!row || r >= n || *after != ':')
    return vc_errf(err, errlen, "a payload the library refuses: %s", msg);
  return vc_errf(err, errlen, "line %llu: %s", (unsigned long long)lines[r], after + 2);
}

/* Every payload of the file, a chunk at a time. */
static int check_payloads(vf_source *s, char *err, size_t errlen) {
  for (uint64_t first = 0; first < s->rows; first += CHUNK) {
    size_t n = s->rows - first < CHUNK ? (size_t)(s->rows - first) : CHUNK;
    if (library_check(s->payloads + first, s->lines + first, n, err, errlen)) return -1;
  }
  return 0;
}

/* A fault inside "payload" v, at `at`. */
static int payload_fault(const line_ctx *l, const vj_value *v, const char *at, const vj_fault *f) {
  if (*v->src != '{') return syntax(l, v->src, "\"payload\" must be an object or null");
  if (!*at) return syntax(l, v->src, "the payload object does not end on this line");
  /* Said as for every other payload, in the library's words: it reads the rest of the line, whose
   * first fault is this one. */
  if (library_check(&v->src, &l->line, 1, l->err, l->errlen)) return -1;
  return vc_errf(l->err, l->errlen, "line %llu: payload is not valid JSON: line 1, column %zu: %s",
                 (unsigned long long)l->line, (size_t)(at - v->src) + 1, f->what);
}

/* What a line holds. */
typedef struct line_row {
  int seen; /* ID | VECTOR | PAYLOAD */
  uint64_t id;
  const char *payload; /* NULL: none */
  size_t payload_len;
} line_row;

/* The members of the line's object, in order, up to the fault (NULL: none) when there is one;
 * the coordinates go to s, the rest to *r. */
static int read_members(const line_ctx *l, const vj_value *obj, const vj_fault *f, vf_source *s,
                        line_row *r) {
  const char *at = f ? l->start + f->at : NULL;
  const vj_value *m = NULL;
  for (size_t i = 0; i < obj->n; i++) {
    m = &obj->items[i];
    if (!m->key_src) break; /* the fault came before its name */
    int which = member_of(l, m, i == 0);
    if (which < 0) return -1;
    if (r->seen & which) return syntax(l, member_start(m, 0), "key \"%s\" appears twice", m->key);
    r->seen |= which;
    if (!m->src) break; /* the fault came before its value */
    int broken = !m->len;
    if (which == ID) {
      if (broken) return syntax(l, m->src, "\"id\" must be a non-negative integer");
      if (read_id(l, m, &r->id)) return -1;
    } else if (which == VECTOR) {
      if (broken) return vector_fault(l, m, at, s);
      if (m->type != VJ_ARRAY) return syntax(l, m->src, "expected '[' to open \"vector\"");
      if (read_coordinates(l, m, m->n, s)) return -1;
    } else {
      if (broken) return payload_fault(l, m, at, f);
      if (m->type == VJ_OBJECT) r->payload = m->src, r->payload_len = m->len;
      else if (m->type != VJ_NULL)
        return syntax(l, m->src, "\"payload\" must be an object or null");
    }
  }
  if (!f) return 0;
  if (obj->len) return syntax(l, at, "text after the object");
  if (m && !m->key_src) return syntax(l, at, "expected a key in double quotes");
  if (m && !m->src) return syntax(l, at, "expected ':' after the key");
  if (m && m->len) return syntax(l, at, "expected ',' or '}' after the member \"%s\"", m->key);
  return syntax(l, at, "%s", f->what);
}

/* One line that is not blank; p is its first character that is not a space. */
static int parse_line(vf_source *s, const line_ctx *l, const char *p) {
  if (*p != '{') return syntax(l, p, "expected a JSON object {\"id\": ..., \"vector\": [...]}");
  vj_value obj;
  vj_fault fault;
  int faulty = vj_parse_tree(l->start, LINE_MAX_DEPTH, &obj, &fault) != 0;
  line_row r = {0, 0, NULL, 0};
  int rc = read_members(l, &obj, faulty ? &fault : NULL, s, &r);
  vj_free_contents(&obj);
  if (rc) return -1; /* always so when faulty */
  if (!(r.seen & VECTOR))
    return syntax(l, l->start + strlen(l->start), "the line has no \"vector\"");
  if (r.payload) ((char *)r.payload)[r.payload_len] = '\0'; /* the line is read: cut it out */
  return vf_end_row(s, l->line, r.seen & ID, r.id, r.payload, l->err, l->errlen);
}

int vf_parse_jsonl(vf_source *s, size_t len, char *err, size_t errlen) {
  char *p = s->text, *end = p + len;
  for (uint64_t line = 1; p < end; line++) {
    char *nl = memchr(p, '\n', (size_t)(end - p)), *eol = nl ? nl : end;
    *eol = '\0';
    line_ctx l = {p, line, err, errlen};
    if (strlen(p) != (size_t)(eol - p)) return syntax(&l, p + strlen(p), "a NUL byte");
    const char *first = p + strspn(p, " \t\r");
    if (*first && parse_line(s, &l, first)) return -1;
    p = eol + 1;
  }
  s->layout = VF_ROWS_F32;
  s->data = (const unsigned char *)s->owned;
  return s->any_payload ? check_payloads(s, err, errlen) : 0;
}

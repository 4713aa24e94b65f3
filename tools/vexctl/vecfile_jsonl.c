/* vexctl: parsing a .jsonl file for import: one {"id": <u64>, "vector": [...], "payload": {...}}
 * per line (id optional: then --ids-from + row; payload optional or null). Coordinates are read
 * from their own text with strtof. A payload's text is kept as written (cut out of the line in
 * place) and then checked by the library itself, so that every line is known good before the
 * first row is imported. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vexfs/vexfs.h>

#include "vecfile.h"

/* One line being parsed: its text (NUL-terminated) and where the parser stands. */
typedef struct line_parser {
  const char *start, *p;
  uint64_t line;
  char *err;
  size_t errlen;
} line_parser;

static int syntax(line_parser *l, const char *fmt, ...) {
  int n = snprintf(l->err, l->errlen, "line %llu, column %zu: ", (unsigned long long)l->line,
                   (size_t)(l->p - l->start) + 1);
  if (n > 0 && (size_t)n < l->errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l->err + n, l->errlen - (size_t)n, fmt, ap);
    va_end(ap);
  }
  return -1;
}

static void skip_space(line_parser *l) {
  while (*l->p == ' ' || *l->p == '\t' || *l->p == '\r') l->p++;
}

static int expect(line_parser *l, char ch, const char *what) {
  skip_space(l);
  if (*l->p != ch) return syntax(l, "expected %s", what);
  l->p++;
  return 0;
}

/* A JSON number's extent (RFC 8259 grammar) from l->p; 0 when there is none. */
static size_t number_length(const char *p) {
  const char *q = p;
  if (*q == '-') q++;
  if (*q == '0') q++;
  else if (*q >= '1' && *q <= '9') while (*q >= '0' && *q <= '9') q++;
  else return 0;
  if (*q == '.') {
    if (*++q < '0' || *q > '9') return 0;
    while (*q >= '0' && *q <= '9') q++;
  }
  if (*q == 'e' || *q == 'E') {
    q++;
    if (*q == '+' || *q == '-') q++;
    if (*q < '0' || *q > '9') return 0;
    while (*q >= '0' && *q <= '9') q++;
  }
  return (size_t)(q - p);
}

static int parse_key(line_parser *l, char *key, size_t n) {
  if (expect(l, '"', "a key in double quotes")) return -1;
  size_t len = 0;
  while (*l->p && *l->p != '"') {
    if (*l->p == '\\' || len + 1 >= n) return syntax(l, "unknown key (a line holds \"id\", "
                                                        "\"vector\" and \"payload\")");
    key[len++] = *l->p++;
  }
  if (!*l->p) return syntax(l, "the key's string does not end");
  l->p++;
  key[len] = '\0';
  return 0;
}

static int parse_id(line_parser *l, uint64_t *id) {
  skip_space(l);
  size_t len = number_length(l->p);
  if (!len) return syntax(l, "\"id\" must be a non-negative integer");
  if (*l->p == '-' || strcspn(l->p, ".eE") < len)
    return syntax(l, "\"id\" must be a non-negative integer, not %.*s", (int)len, l->p);
  errno = 0;
  unsigned long long v = strtoull(l->p, NULL, 10);
  if (errno == ERANGE || v == UINT64_MAX)
    return syntax(l, "\"id\" %.*s is not below %llu", (int)len, l->p,
                  (unsigned long long)UINT64_MAX);
  *id = v;
  l->p += len;
  return 0;
}

static int parse_vector(line_parser *l, vf_source *s) {
  if (expect(l, '[', "'[' to open \"vector\"")) return -1;
  skip_space(l);
  if (*l->p == ']') return l->p++, 0; /* an empty vector: vf_end_row says so */
  for (unsigned i = 0;; i++) {
    skip_space(l);
    size_t len = number_length(l->p);
    if (!len) {
      if (!strncmp(l->p, "NaN", 3) || !strncmp(l->p, "Infinity", 8) ||
          !strncmp(l->p, "-Infinity", 9))
        return syntax(l, "coordinate %u is %.*s: vectors must be finite numbers", i,
                      l->p[0] == 'N' ? 3 : l->p[0] == 'I' ? 8 : 9, l->p);
      return syntax(l, "coordinate %u is not a number", i);
    }
    float v;
    if (vf_parse_float(l->p, len, &v) != 0) return syntax(l, "coordinate %u is not a number", i);
    if (isinf(v)) /* the text is beyond float32's range */
      return syntax(l, "coordinate %u (%.*s) is beyond float32's range", i, (int)len, l->p);
    if (vf_push_float(s, v)) return syntax(l, "out of memory");
    l->p += len;
    skip_space(l);
    if (*l->p == ']') return l->p++, 0;
    if (*l->p != ',') return syntax(l, "expected ',' or ']' in \"vector\"");
    l->p++;
  }
}

/* Finds the end of the payload object starting at l->p ('{'): strings and nesting are followed
 * here, the rest of JSON's grammar is the library's to check. Sets *end past the '}'. */
static int scan_payload(line_parser *l, const char **end) {
  skip_space(l);
  if (!strncmp(l->p, "null", 4)) {
    l->p += 4;
    *end = NULL;
    return 0;
  }
  if (*l->p != '{') return syntax(l, "\"payload\" must be an object or null");
  const char *q = l->p;
  size_t depth = 0;
  do {
    if (*q == '"') {
      for (q++; *q && *q != '"'; q++)
        if (*q == '\\' && q[1]) q++;
      if (!*q) break;
    } else if (*q == '{' || *q == '[') {
      depth++;
    } else if (*q == '}' || *q == ']') {
      depth--;
    }
    q++;
  } while (*q && depth);
  if (depth) return syntax(l, "the payload object does not end on this line");
  l->p = q;
  *end = q;
  return 0;
}

static int parse_line(vf_source *s, line_parser *l) {
  enum { ID = 1, VECTOR = 2, PAYLOAD = 4 };
  int seen = 0;
  uint64_t id = 0;
  const char *payload = NULL, *payload_end = NULL;
  if (expect(l, '{', "a JSON object {\"id\": ..., \"vector\": [...]}")) return -1;
  skip_space(l);
  if (*l->p != '}')
    for (;;) {
      char key[16];
      const char *key_at = l->p;
      if (parse_key(l, key, sizeof key) || expect(l, ':', "':' after the key")) return -1;
      int which = !strcmp(key, "id") ? ID : !strcmp(key, "vector") ? VECTOR
                : !strcmp(key, "payload") ? PAYLOAD : 0;
      if (!which || (seen & which)) {
        l->p = key_at;
        return syntax(l, which ? "key \"%s\" appears twice"
                               : "unknown key \"%s\" (a line holds \"id\", \"vector\" and "
                                 "\"payload\")", key);
      }
      seen |= which;
      int rc;
      if (which == ID) rc = parse_id(l, &id);
      else if (which == VECTOR) rc = parse_vector(l, s);
      else {
        skip_space(l);
        payload = l->p;
        rc = scan_payload(l, &payload_end);
        if (!payload_end) payload = NULL;
      }
      if (rc) return -1;
      skip_space(l);
      if (*l->p == '}') break;
      if (*l->p != ',') return syntax(l, "expected ',' or '}' after the member \"%s\"", key);
      l->p++;
    }
  l->p++;
  skip_space(l);
  if (*l->p) return syntax(l, "text after the object");
  if (!(seen & VECTOR)) return syntax(l, "the line has no \"vector\"");
  if (payload_end) *(char *)payload_end = '\0'; /* the line is parsed: cut the payload out */
  return vf_end_row(s, l->line, seen & ID, id, payload, l->err, l->errlen);
}

/* Has the library check every payload (strict JSON: UTF-8, duplicate keys, nesting) by inserting
 * them into a scratch in-memory collection, a chunk at a time. */
static int check_payloads(vf_source *s, char *err, size_t errlen) {
  enum { CHUNK = 4096 };
  static const float zero[CHUNK];
  uint64_t ids[CHUNK];
  for (size_t i = 0; i < CHUNK; i++) ids[i] = i;
  vexfs_collection_config cfg;
  vexfs_collection_config_init(&cfg);
  cfg.dim = 1;
  cfg.index = VEXFS_INDEX_FLAT;
  cfg.threads = 1;
  for (uint64_t first = 0; first < s->rows; first += CHUNK) {
    size_t n = s->rows - first < CHUNK ? (size_t)(s->rows - first) : CHUNK;
    vexfs_collection *c = NULL;
    vexfs_status st = vexfs_collection_create(&cfg, &c);
    if (st == VEXFS_OK) st = vexfs_insert_with_payload(c, ids, zero, s->payloads + first, n);
    vexfs_collection_free(c);
    if (st == VEXFS_OK) continue;
    /* "vexfs_insert_with_payload: row 2: payload is not valid JSON: ..." */
    const char *msg = vexfs_last_error(), *row = strstr(msg, "row ");
    char *after;
    unsigned long long r = row ? strtoull(row + 4, &after, 10) : 0;
    if (!row || r >= n || *after != ':')
      return snprintf(err, errlen, "a payload the library refuses: %s", msg), -1;
    return snprintf(err, errlen, "line %llu: %s", (unsigned long long)s->lines[first + r],
                    after + 2), -1;
  }
  return 0;
}

int vf_parse_jsonl(vf_source *s, size_t len, char *err, size_t errlen) {
  char *p = s->text, *end = p + len;
  for (uint64_t line = 1; p < end; line++) {
    char *nl = memchr(p, '\n', (size_t)(end - p)), *eol = nl ? nl : end;
    *eol = '\0';
    line_parser l = {p, p, line, err, errlen};
    skip_space(&l);
    if (strlen(p) != (size_t)(eol - p)) {
      l.p = p + strlen(p);
      return syntax(&l, "a NUL byte");
    }
    if (*l.p && parse_line(s, &l)) return -1;
    p = eol + 1;
  }
  s->layout = VF_ROWS_F32;
  s->data = (const unsigned char *)s->owned;
  return s->any_payload ? check_payloads(s, err, errlen) : 0;
}

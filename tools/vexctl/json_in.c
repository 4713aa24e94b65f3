/* vexctl: the strict JSON reader (json_in.h). */
#include "json_in.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct parser {
  const char *start, *p;
  int max_depth;
  vj_fault *fault;
  int failed;
} parser;

/* Records the first fault, at `at`; returns -1. */
static int fail_at(parser *ps, const char *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail_at(parser *ps, const char *at, const char *fmt, ...) {
  if (ps->failed) return -1;
  ps->failed = 1;
  ps->fault->at = (size_t)(at - ps->start);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(ps->fault->what, sizeof ps->fault->what, fmt, ap);
  va_end(ap);
  return -1;
}
#define fail(ps, ...) fail_at(ps, (ps)->p, __VA_ARGS__)

static void skip_space(parser *ps) {
  while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r') ps->p++;
}

void vj_free_contents(vj_value *v) {
  for (size_t i = 0; i < v->n; i++) vj_free_contents(&v->items[i]);
  free(v->items);
  free(v->text);
  free(v->key);
}

void vj_free(vj_value *v) {
  if (!v) return;
  vj_free_contents(v);
  free(v);
}

static int hex4(parser *ps, unsigned *out) {
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    char c = ps->p[i];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
    else return fail(ps, "\\u needs four hex digits");
  }
  ps->p += 4;
  *out = v;
  return 0;
}

static size_t put_utf8(char *o, unsigned cp) {
  if (cp < 0x80) return o[0] = (char)cp, 1;
  if (cp < 0x800) return o[0] = (char)(0xc0 | cp >> 6), o[1] = (char)(0x80 | (cp & 0x3f)), 2;
  if (cp < 0x10000) {
    o[0] = (char)(0xe0 | cp >> 12);
    o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
    o[2] = (char)(0x80 | (cp & 0x3f));
    return 3;
  }
  o[0] = (char)(0xf0 | cp >> 18);
  o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
  o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
  o[3] = (char)(0x80 | (cp & 0x3f));
  return 4;
}

/* An escape after the backslash: the decoded bytes go to o; returns their count or -1. */
static int escape(parser *ps, char *o) {
  char c = *ps->p++;
  static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
  const char *at = c ? strchr(from, c) : NULL;
  if (at) return o[0] = to[at - from], 1;
  if (c != 'u') return ps->p--, fail(ps, "unknown escape \\%c", c ? c : '0');
  unsigned cp = 0;
  if (hex4(ps, &cp)) return -1;
  if (cp >= 0xdc00 && cp <= 0xdfff) return fail(ps, "a lone low surrogate");
  if (cp >= 0xd800 && cp <= 0xdbff) {
    unsigned lo = 0;
    if (ps->p[0] != '\\' || ps->p[1] != 'u') return fail(ps, "a high surrogate without its pair");
    ps->p += 2;
    if (hex4(ps, &lo)) return -1;
    if (lo < 0xdc00 || lo > 0xdfff) return fail(ps, "a high surrogate without its pair");
    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
  }
  return (int)put_utf8(o, cp);
}

/* A string after its opening quote; the decoded text is never longer than the source. */
static char *string(parser *ps) {
  const char *end = ps->p;
  while (*end && *end != '"') end += (*end == '\\' && end[1]) ? 2 : 1;
  char *out = malloc((size_t)(end - ps->p) + 1), *o = out;
  if (!out) return fail(ps, "out of memory"), NULL;
  for (;;) {
    unsigned char c = (unsigned char)*ps->p;
    if (c == '"') break;
    if (!c) return free(out), fail(ps, "unterminated string"), NULL;
    if (c < 0x20) return free(out), fail(ps, "a control character inside a string"), NULL;
    ps->p++;
    if (c != '\\') {
      *o++ = (char)c;
      continue;
    }
    int n = escape(ps, o);
    if (n < 0) return free(out), NULL;
    o += n;
  }
  ps->p++;
  *o = 0;
  return out;
}

static int digits(parser *ps) {
  if (*ps->p < '0' || *ps->p > '9') return fail(ps, "a digit expected");
  while (*ps->p >= '0' && *ps->p <= '9') ps->p++;
  return 0;
}

static int number(parser *ps, vj_value *v) {
  if (*ps->p == '-') ps->p++;
  if (*ps->p == '0') ps->p++;
  else if (digits(ps)) return -1;
  if (*ps->p == '.') {
    ps->p++;
    if (digits(ps)) return -1;
  }
  if (*ps->p == 'e' || *ps->p == 'E') {
    ps->p++;
    if (*ps->p == '+' || *ps->p == '-') ps->p++;
    if (digits(ps)) return -1;
  }
  v->type = VJ_NUMBER; /* its text is its span */
  return 0;
}

static int value(parser *ps, vj_value *v, int depth);

/* Appends a zeroed slot to v->items; NULL when out of memory. */
static vj_value *grow(parser *ps, vj_value *v, size_t *cap) {
  if (v->n == *cap) {
    size_t ncap = *cap ? *cap * 2 : 4;
    vj_value *items = realloc(v->items, ncap * sizeof *items);
    if (!items) return fail(ps, "out of memory"), NULL;
    v->items = items;
    *cap = ncap;
  }
  vj_value *slot = &v->items[v->n++];
  memset(slot, 0, sizeof *slot);
  return slot;
}

/* An array or object after its opening bracket. */
static int container(parser *ps, vj_value *v, int depth, char close) {
  size_t cap = 0;
  v->type = close == ']' ? VJ_ARRAY : VJ_OBJECT;
  skip_space(ps);
  if (*ps->p == close) return ps->p++, 0;
  for (;;) {
    vj_value *item = grow(ps, v, &cap);
    if (!item) return -1;
    skip_space(ps);
    if (close == '}') {
      if (*ps->p != '"') return fail(ps, "a member name in quotes expected");
      item->key_src = ps->p++;
      if (!(item->key = string(ps))) return -1;
      for (size_t i = 0; i + 1 < v->n; i++)
        if (!strcmp(v->items[i].key, item->key))
          return fail_at(ps, item->key_src, "key \"%s\" appears twice", item->key);
      skip_space(ps);
      if (*ps->p != ':') return fail(ps, "':' expected after a member name");
      ps->p++;
    }
    if (value(ps, item, depth + 1)) return -1;
    skip_space(ps);
    if (*ps->p == close) return ps->p++, 0;
    if (*ps->p != ',') return fail(ps, "',' or '%c' expected", close);
    ps->p++;
  }
}

static int literal(parser *ps, vj_value *v, const char *word, vj_type type) {
  size_t n = strlen(word);
  if (strncmp(ps->p, word, n)) return fail(ps, "not a JSON value");
  ps->p += n;
  v->type = type;
  return 0;
}

/* One value of any type; on success its span ends where the parser stands. */
static int value(parser *ps, vj_value *v, int depth) {
  if (depth > ps->max_depth) return fail(ps, "nested deeper than %d", ps->max_depth);
  skip_space(ps);
  v->src = ps->p;
  char c = *ps->p;
  int rc;
  if (c == '{' || c == '[') {
    ps->p++;
    rc = container(ps, v, depth, c == '{' ? '}' : ']');
  } else if (c == '"') {
    ps->p++;
    v->type = VJ_STRING;
    rc = (v->text = string(ps)) ? 0 : -1;
  } else if (c == '-' || (c >= '0' && c <= '9')) {
    rc = number(ps, v);
  } else if (c == 't') {
    rc = literal(ps, v, "true", VJ_TRUE);
  } else if (c == 'f') {
    rc = literal(ps, v, "false", VJ_FALSE);
  } else if (c == 'n') {
    rc = literal(ps, v, "null", VJ_NULL);
  } else {
    return fail(ps, c ? "not a JSON value" : "unexpected end of text");
  }
  if (rc == 0) v->len = (size_t)(ps->p - v->src);
  return rc;
}

int vj_parse_tree(const char *text, int max_depth, vj_value *root, vj_fault *fault) {
  parser ps = {text, text, max_depth, fault, 0};
  memset(root, 0, sizeof *root);
  if (value(&ps, root, 1) == 0) {
    skip_space(&ps);
    if (!*ps.p) return 0;
    fail(&ps, "text after the JSON value");
  }
  return -1;
}

vj_value *vj_parse(const char *text, char *err, size_t errlen) {
  vj_value *v = malloc(sizeof *v);
  if (!v) return snprintf(err, errlen, "out of memory"), NULL;
  vj_fault f;
  if (vj_parse_tree(text, VJ_MAX_DEPTH, v, &f) == 0) return v;
  snprintf(err, errlen, "column %zu: %s", f.at + 1, f.what);
  vj_free(v);
  return NULL;
}

int vj_floats(const vj_value *items, size_t n, float *out, size_t *bad) {
  for (size_t i = 0; i < n; i++) {
    const vj_value *x = &items[i];
    char *end;
    if (x->type != VJ_NUMBER) return *bad = i, VJ_FLOATS_NOT_A_NUMBER;
    out[i] = strtof(x->src, &end); /* stops where the number's span does */
    if (end != x->src + x->len) return *bad = i, VJ_FLOATS_NOT_A_NUMBER;
    if (isinf(out[i])) return *bad = i, VJ_FLOATS_BEYOND_FLOAT32; /* strtof's overflow */
  }
  return VJ_FLOATS_OK;
}

const vj_value *vj_get(const vj_value *obj, const char *key) {
  if (!obj || obj->type != VJ_OBJECT) return NULL;
  for (size_t i = 0; i < obj->n; i++)
    if (!strcmp(obj->items[i].key, key)) return &obj->items[i];
  return NULL;
}

uint64_t vj_get_u64(const vj_value *obj, const char *key, uint64_t fallback) {
  const vj_value *v = vj_get(obj, key);
  if (!v || v->type != VJ_NUMBER || v->src[0] == '-') return fallback;
  errno = 0;
  char *end;
  unsigned long long n = strtoull(v->src, &end, 10);
  return errno || end != v->src + v->len ? fallback : (uint64_t)n;
}

const char *vj_get_str(const vj_value *obj, const char *key, const char *fallback) {
  const vj_value *v = vj_get(obj, key);
  return v && v->type == VJ_STRING ? v->text : fallback;
}

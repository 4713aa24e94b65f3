/* A strict check of request bodies (RFC 8259) before json-c parses them: json-c's strict mode
 * still takes single quotes, NaN and Infinity, control characters in strings and anything after
 * a NUL byte, saturates integers it cannot hold, cuts object keys at "\u0000" and replaces lone
 * surrogates, each of which would change a client's data without a word.
 *
 * The same pass lifts the request's vectors out of the text: a list of numbers under "vector",
 * "query" or "nearest", or in the list under "vectors" (Chroma's "embeddings" and
 * "query_embeddings" too; never below "payload", "payloads" or "filter", nor Chroma's
 * "metadatas", "metadata", "new_metadata", "where", "configuration" or "new_configuration"),
 * is read into a float table and replaced by a placeholder string, so that json-c
 * makes no object per coordinate (most of a search's or an upsert's parsing time). The
 * placeholder holds a random number drawn per request, so a client cannot forge one. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"

/* An edit of the text: ".0" after an integer too wide for 64 bits (so that json-c reads a double
 * instead of saturating it), or a lifted vector's placeholder over [at, end). */
typedef struct edit {
  size_t at, end;
  size_t vector; /* SIZE_MAX: a widening */
} edit;

typedef struct scan {
  const unsigned char *p, *end, *start;
  int depth, max_depth;
  const char *why;
  edit *edits;
  size_t nedits, edits_cap;
  vs_vectors *vectors;
} scan;

/* Where a value sits, as far as lifting vectors goes. */
typedef struct place {
  int excluded;            /* below "payload", "filter" and the like: user data, kept as text */
  int vector;              /* a vector may sit here */
  int elements_are_vectors; /* (a list under "vectors", "embeddings" or "query_embeddings") */
} place;

static int fail(scan *s, const char *why) {
  s->why = why;
  return -1;
}

static void skip_space(scan *s) {
  while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
    s->p++;
}

static int hex4(scan *s, unsigned *out) {
  if (s->end - s->p < 4) return fail(s, "a \\u escape needs 4 hex digits");
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    unsigned char c = s->p[i];
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
          : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (d < 0) return fail(s, "a \\u escape needs 4 hex digits");
    v = v * 16 + (unsigned)d;
  }
  s->p += 4;
  *out = v;
  return 0;
}

/* One UTF-8 sequence at s->p (its first byte at least 0x80): shortest form, no surrogates, at
 * most U+10FFFF. */
static int utf8(scan *s) {
  unsigned char c = *s->p;
  int n = c >= 0xC2 && c <= 0xDF ? 1 : c >= 0xE0 && c <= 0xEF ? 2 : c >= 0xF0 && c <= 0xF4 ? 3 : -1;
  if (n < 0 || s->end - s->p <= n) return fail(s, "invalid UTF-8");
  uint32_t cp = c & (n == 1 ? 0x1F : n == 2 ? 0x0F : 0x07);
  for (int i = 1; i <= n; i++) {
    if ((s->p[i] & 0xC0) != 0x80) return fail(s, "invalid UTF-8");
    cp = cp << 6 | (s->p[i] & 0x3F);
  }
  if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
      (cp >= 0xD800 && cp <= 0xDFFF))
    return fail(s, "invalid UTF-8");
  s->p += n + 1;
  return 0;
}

static int string(scan *s, int is_key) {
  s->p++; /* the opening quote */
  while (s->p < s->end) {
    unsigned char c = *s->p;
    if (c == '"') {
      s->p++;
      return 0;
    }
    if (c < 0x20) return fail(s, "a control character in a string (escape it)");
    if (c >= 0x80) {
      if (utf8(s) != 0) return -1;
      continue;
    }
    s->p++;
    if (c != '\\') continue;
    if (s->p == s->end) break;
    c = *s->p++;
    if (strchr("\"\\/bfnrt", c) && c) continue;
    if (c != 'u') return fail(s, "an unknown escape in a string");
    unsigned u;
    if (hex4(s, &u) != 0) return -1;
    if (u == 0 && is_key) return fail(s, "\\u0000 in an object key");
    if (u >= 0xDC00 && u <= 0xDFFF) return fail(s, "a lone low surrogate in a string");
    if (u >= 0xD800 && u <= 0xDBFF) { /* a low surrogate must follow */
      unsigned lo;
      if (s->end - s->p < 2 || s->p[0] != '\\' || s->p[1] != 'u')
        return fail(s, "a lone high surrogate in a string");
      s->p += 2;
      if (hex4(s, &lo) != 0) return -1;
      if (lo < 0xDC00 || lo > 0xDFFF) return fail(s, "a lone high surrogate in a string");
    }
  }
  return fail(s, "an unterminated string");
}

static int add_edit(scan *s, edit e) {
  if (s->nedits == s->edits_cap) {
    size_t cap = s->edits_cap ? 2 * s->edits_cap : 16;
    edit *grown = realloc(s->edits, cap * sizeof *grown);
    if (!grown) return fail(s, "out of memory");
    s->edits = grown;
    s->edits_cap = cap;
  }
  s->edits[s->nedits++] = e;
  return 0;
}

static int digits(scan *s) {
  const unsigned char *from = s->p;
  while (s->p < s->end && *s->p >= '0' && *s->p <= '9') s->p++;
  return s->p > from ? 0 : -1;
}

static int number(scan *s) {
  const unsigned char *from = s->p;
  int negative = *s->p == '-', integer = 1;
  if (negative) s->p++;
  if (s->p < s->end && *s->p == '0') s->p++;
  else if (digits(s) != 0) return fail(s, "a malformed number");
  if (s->p < s->end && *s->p == '.') {
    s->p++;
    integer = 0;
    if (digits(s) != 0) return fail(s, "a malformed number");
  }
  int exponent = 0;
  if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
    s->p++;
    integer = 0;
    exponent = 1;
    if (s->p < s->end && (*s->p == '+' || *s->p == '-')) s->p++;
    if (digits(s) != 0) return fail(s, "a malformed number");
  }
  size_t len = (size_t)(s->p - from);
  /* only an exponent or over 300 digits can pass DBL_MAX (the body ends in a NUL) */
  if ((exponent || len > 300) && !isfinite(strtod((const char *)from, NULL)))
    return fail(s, "a number too large for a double");
  if (!integer || len - (size_t)negative < 19) return 0; /* 18 digits fit any 64 bits */
  char text[32];
  int wide = len >= sizeof text;
  if (!wide) {
    memcpy(text, from, len);
    text[len] = 0;
    errno = 0;
    if (negative) (void)strtoll(text, NULL, 10);
    else (void)strtoull(text, NULL, 10);
    wide = errno == ERANGE;
  }
  if (wide) { /* json-c would saturate it: it is read as a double, as Qdrant reads it */
    size_t at = (size_t)(s->p - s->start);
    return add_edit(s, (edit){at, at, SIZE_MAX});
  }
  return 0;
}

static int word(scan *s, const char *w) {
  size_t n = strlen(w);
  if ((size_t)(s->end - s->p) < n || memcmp(s->p, w, n) != 0) return fail(s, "an unexpected character");
  s->p += n;
  return 0;
}

static int value(scan *s, place where);

static int key_is(const unsigned char *key, size_t len, const char *name) {
  return strlen(name) == len && memcmp(key, name, len) == 0;
}

static int container(scan *s, char close, place where) {
  if (++s->depth > s->max_depth) return fail(s, "nesting deeper than 64");
  s->p++;
  skip_space(s);
  if (s->p < s->end && *s->p == close) {
    s->p++;
    s->depth--;
    return 0;
  }
  for (;;) {
    skip_space(s);
    place inner = {where.excluded, where.elements_are_vectors, 0};
    if (close == '}') {
      if (s->p == s->end || *s->p != '"') return fail(s, "an object key must be a string");
      const unsigned char *key = s->p + 1;
      if (string(s, 1) != 0) return -1;
      size_t len = (size_t)(s->p - 1 - key);
      inner.excluded = where.excluded || key_is(key, len, "payload") ||
                       key_is(key, len, "payloads") || key_is(key, len, "filter") ||
                       key_is(key, len, "metadatas") || key_is(key, len, "metadata") ||
                       key_is(key, len, "new_metadata") || key_is(key, len, "where") ||
                       key_is(key, len, "configuration") || key_is(key, len, "new_configuration");
      inner.vector = !inner.excluded && (key_is(key, len, "vector") ||
                                         key_is(key, len, "query") || key_is(key, len, "nearest"));
      inner.elements_are_vectors = !inner.excluded && (key_is(key, len, "vectors") ||
                                                       key_is(key, len, "embeddings") ||
                                                       key_is(key, len, "query_embeddings"));
      skip_space(s);
      if (s->p == s->end || *s->p != ':') return fail(s, "a ':' must follow an object key");
      s->p++;
    }
    if (value(s, inner) != 0) return -1;
    skip_space(s);
    if (s->p < s->end && *s->p == ',') {
      s->p++;
      continue;
    }
    if (s->p < s->end && *s->p == close) {
      s->p++;
      s->depth--;
      return 0;
    }
    return fail(s, close == '}' ? "a ',' or '}' was expected" : "a ',' or ']' was expected");
  }
}

/* The value of the number text [p, end) (valid JSON, finite): exactly as strtod reads it. Up to
 * 19 significant digits and a power of ten up to 22 take Clinger's fast path (both exact in a
 * double, so one rounding); anything else goes to strtod. "%.9g" output, what clients send for
 * floats, always takes the fast path. */
static double decimal(const unsigned char *p, const unsigned char *end) {
  static const double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                 1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
  const unsigned char *from = p;
  int negative = *p == '-';
  p += negative;
  uint64_t m = 0;
  int ndigits = 0, scale = 0;
  for (; p < end && *p >= '0' && *p <= '9'; p++) {
    if (ndigits || *p != '0') ndigits++;
    m = m * 10 + (uint64_t)(*p - '0');
  }
  if (p < end && *p == '.')
    for (p++; p < end && *p >= '0' && *p <= '9'; p++, scale--) {
      if (ndigits || *p != '0') ndigits++;
      m = m * 10 + (uint64_t)(*p - '0');
    }
  if (p < end && (*p == 'e' || *p == 'E')) {
    p++;
    int sign = 1, e = 0;
    if (*p == '+' || *p == '-') sign = *p++ == '-' ? -1 : 1;
    for (; p < end && *p >= '0' && *p <= '9' && e < 10000; p++) e = e * 10 + (*p - '0');
    scale += sign * e;
  }
  if (ndigits > 19 || m > (1ull << 53) || scale < -22 || scale > 22)
    return strtod((const char *)from, NULL);
  double v = scale < 0 ? (double)m / pow10[-scale] : (double)m * pow10[scale];
  return negative ? -v : v;
}

/* A list of numbers at s->p, read into the vector table and marked for its placeholder; 1 when
 * it was one, 0 (nothing consumed) when it holds anything else, -1 on a malformed number. */
static int lift_vector(scan *s) {
  const unsigned char *open = s->p;
  vs_vectors *v = s->vectors;
  size_t first = v->nvalues, edits = s->nedits;
  s->p++;
  skip_space(s);
  if (s->p < s->end && *s->p == ']') goto not_one;
  for (;;) {
    skip_space(s);
    if (s->p == s->end || !(*s->p == '-' || (*s->p >= '0' && *s->p <= '9'))) goto not_one;
    const unsigned char *at = s->p;
    if (number(s) != 0) return -1;
    s->nedits = edits; /* a wide integer here is read by strtod below, not widened */
    if (v->nvalues == v->values_cap) {
      size_t cap = v->values_cap ? 2 * v->values_cap : 256;
      float *grown = realloc(v->values, cap * sizeof *grown);
      if (!grown) return fail(s, "out of memory");
      v->values = grown;
      v->values_cap = cap;
    }
    double d = decimal(at, s->p); /* finite: number() checked */
    v->values[v->nvalues++] = fabs(d) > 3.4028235e38 ? (d < 0 ? -INFINITY : INFINITY) : (float)d;
    skip_space(s);
    if (s->p < s->end && *s->p == ',') {
      s->p++;
      continue;
    }
    if (s->p < s->end && *s->p == ']') break;
    goto not_one;
  }
  s->p++;
  if (v->n == v->cap) {
    size_t cap = v->cap ? 2 * v->cap : 16;
    size_t *first_grown = realloc(v->first, cap * sizeof *first_grown);
    if (first_grown) v->first = first_grown;
    size_t *count_grown = first_grown ? realloc(v->count, cap * sizeof *count_grown) : NULL;
    if (!count_grown) return fail(s, "out of memory");
    v->count = count_grown;
    v->cap = cap;
  }
  v->first[v->n] = first;
  v->count[v->n] = v->nvalues - first;
  return add_edit(s, (edit){(size_t)(open - s->start), (size_t)(s->p - s->start), v->n++}) == 0
             ? 1
             : -1;
not_one:
  s->p = open;
  s->nedits = edits;
  v->nvalues = first;
  return 0;
}

static int value(scan *s, place where) {
  skip_space(s);
  if (s->p == s->end) return fail(s, "unexpected end of input");
  if (*s->p == '[' && where.vector && s->vectors) {
    int lifted = lift_vector(s);
    if (lifted != 0) return lifted < 0 ? -1 : 0;
  }
  switch (*s->p) {
  case '{': return container(s, '}', where);
  case '[': return container(s, ']', where);
  case '"': return string(s, 0);
  case 't': return word(s, "true");
  case 'f': return word(s, "false");
  case 'n': return word(s, "null");
  default:
    if (*s->p == '-' || (*s->p >= '0' && *s->p <= '9')) return number(s);
    return fail(s, *s->p == '\'' ? "strings take double quotes" : "an unexpected character");
  }
}

/* text with the edits made (in the order of the text): ".0" after wide integers, placeholders
 * ("\u0001<nonce>:<index>") for lifted vectors. */
static int rewrite(const char *text, size_t len, const edit *edits, size_t n,
                   const vs_vectors *vectors, char **out, size_t *out_len) {
  char placeholder[48];
  size_t room = len + 1;
  for (size_t i = 0; i < n; i++) room += edits[i].vector == SIZE_MAX ? 2 : sizeof placeholder;
  char *o = malloc(room), *w = o;
  if (!o) return -1;
  size_t from = 0;
  for (size_t i = 0; i < n; i++) {
    memcpy(w, text + from, edits[i].at - from);
    w += edits[i].at - from;
    if (edits[i].vector == SIZE_MAX) {
      *w++ = '.', *w++ = '0';
    } else {
      int m = snprintf(placeholder, sizeof placeholder, "\"\\u0001%016llx:%zu\"",
                       (unsigned long long)vectors->nonce, edits[i].vector);
      memcpy(w, placeholder, (size_t)m);
      w += m;
    }
    from = edits[i].end;
  }
  memcpy(w, text + from, len - from);
  w += len - from;
  *w = 0;
  *out = o;
  *out_len = (size_t)(w - o);
  return 0;
}

int vs_json_check(const char *text, size_t len, int max_depth, vs_vectors *vectors,
                  char **rewritten, size_t *rewritten_len, size_t *at, const char **why) {
  scan s = {.p = (const unsigned char *)text, .end = (const unsigned char *)text + len,
            .start = (const unsigned char *)text, .max_depth = max_depth, .vectors = vectors};
  *rewritten = NULL;
  if (value(&s, (place){0, 0, 0}) == 0) {
    skip_space(&s);
    if (s.p == s.end) {
      int rc = s.nedits ? rewrite(text, len, s.edits, s.nedits, vectors, rewritten, rewritten_len)
                        : 0;
      free(s.edits);
      if (rc == 0) return 0;
      fail(&s, "out of memory");
      s.p = s.end;
    } else {
      fail(&s, "more after the value");
    }
  }
  free(s.edits);
  *at = (size_t)(s.p - s.start);
  *why = s.why;
  return -1;
}

const float *vs_vectors_lookup(const vs_vectors *v, json_object *o, size_t *count) {
  if (!v || !json_object_is_type(o, json_type_string)) return NULL;
  const char *text = json_object_get_string(o);
  char prefix[32];
  int n = snprintf(prefix, sizeof prefix, "\001%016llx:", (unsigned long long)v->nonce);
  if (strncmp(text, prefix, (size_t)n) != 0) return NULL;
  char *end = NULL;
  unsigned long long i = strtoull(text + n, &end, 10);
  if (*end || i >= v->n) return NULL;
  *count = v->count[i];
  return v->values + v->first[i];
}

void vs_vectors_free(vs_vectors *v) {
  free(v->values);
  free(v->first);
  free(v->count);
  memset(v, 0, sizeof *v);
}

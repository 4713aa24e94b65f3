/* A strict check of request bodies (RFC 8259) before json-c parses them: json-c's strict mode
 * still takes single quotes, NaN and Infinity, control characters in strings and anything after
 * a NUL byte, saturates integers it cannot hold, cuts object keys at "\u0000" and replaces lone
 * surrogates, each of which would change a client's data without a word. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"

typedef struct scan {
  const unsigned char *p, *end, *start;
  int depth, max_depth;
  const char *why;
  size_t *wide, nwide, wide_cap; /* where integers too wide for 64 bits end */
} scan;

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
  if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
    s->p++;
    integer = 0;
    if (s->p < s->end && (*s->p == '+' || *s->p == '-')) s->p++;
    if (digits(s) != 0) return fail(s, "a malformed number");
  }
  size_t len = (size_t)(s->p - from);
  if (!isfinite(strtod((const char *)from, NULL))) /* the body ends in a NUL */
    return fail(s, "a number too large for a double");
  if (!integer) return 0;
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
    if (s->nwide == s->wide_cap) {
      size_t cap = s->wide_cap ? 2 * s->wide_cap : 8;
      size_t *grown = realloc(s->wide, cap * sizeof *grown);
      if (!grown) return fail(s, "out of memory");
      s->wide = grown;
      s->wide_cap = cap;
    }
    s->wide[s->nwide++] = (size_t)(s->p - s->start);
  }
  return 0;
}

static int word(scan *s, const char *w) {
  size_t n = strlen(w);
  if ((size_t)(s->end - s->p) < n || memcmp(s->p, w, n) != 0) return fail(s, "an unexpected character");
  s->p += n;
  return 0;
}

static int value(scan *s);

static int container(scan *s, char close) {
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
    if (close == '}') {
      if (s->p == s->end || *s->p != '"') return fail(s, "an object key must be a string");
      if (string(s, 1) != 0) return -1;
      skip_space(s);
      if (s->p == s->end || *s->p != ':') return fail(s, "a ':' must follow an object key");
      s->p++;
    }
    if (value(s) != 0) return -1;
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

static int value(scan *s) {
  skip_space(s);
  if (s->p == s->end) return fail(s, "unexpected end of input");
  switch (*s->p) {
  case '{': return container(s, '}');
  case '[': return container(s, ']');
  case '"': return string(s, 0);
  case 't': return word(s, "true");
  case 'f': return word(s, "false");
  case 'n': return word(s, "null");
  default:
    if (*s->p == '-' || (*s->p >= '0' && *s->p <= '9')) return number(s);
    return fail(s, *s->p == '\'' ? "strings take double quotes" : "an unexpected character");
  }
}

int vs_json_check(const char *text, size_t len, int max_depth, size_t *at, const char **why,
                  size_t **wide, size_t *nwide) {
  scan s = {(const unsigned char *)text, (const unsigned char *)text + len,
            (const unsigned char *)text, 0, max_depth, NULL, NULL, 0, 0};
  if (value(&s) == 0) {
    skip_space(&s);
    if (s.p == s.end) {
      *wide = s.wide;
      *nwide = s.nwide;
      return 0;
    }
    fail(&s, "more after the value");
  }
  free(s.wide);
  *at = (size_t)(s.p - s.start);
  *why = s.why;
  return -1;
}

char *vs_json_widen(const char *text, size_t len, const size_t *wide, size_t nwide) {
  char *out = malloc(len + 2 * nwide + 1), *o = out;
  if (!out) return NULL;
  size_t from = 0;
  for (size_t i = 0; i < nwide; i++) {
    memcpy(o, text + from, wide[i] - from);
    o += wide[i] - from;
    *o++ = '.', *o++ = '0';
    from = wide[i];
  }
  memcpy(o, text + from, len - from);
  o[len - from] = 0;
  return out;
}

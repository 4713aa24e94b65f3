/* Strict JSON text (RFC 8259) to packed JSON, in one recursive-descent pass that writes the packed
 * form as it goes. Errors name the line and column. Numbers without a fraction or exponent that
 * fit 64 bits stay exact integers; the rest are doubles (parsed in the C locale, whatever the
 * process's locale). Strings must be valid UTF-8; \u escapes, surrogate pairs included, are
 * resolved. Duplicate keys in an object are an error: which one a reader meant is not knowable. */
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "../alloc_internal.h"
#include "packed.h"

typedef struct parser {
  const char *s, *start, *end;
  vx_buf *out;
  char *error;
  size_t errlen;
  int failed; /* -1 syntax, -2 memory */
} parser;

__attribute__((format(printf, 2, 3))) static int fail_at(parser *ps, const char *fmt, ...) {
  if (ps->failed) return -1;
  ps->failed = -1;
  size_t line = 1, column = 1;
  for (const char *c = ps->start; c < ps->s; c++) {
    if (*c == '\n') {
      line++;
      column = 1;
    } else if (((unsigned char)*c & 0xc0) != 0x80) { /* count characters, not UTF-8 bytes */
      column++;
    }
  }
  if (ps->errlen) {
    int n = snprintf(ps->error, ps->errlen, "line %zu, column %zu: ", line, column);
    if (n >= 0 && (size_t)n < ps->errlen) {
      va_list ap;
      va_start(ap, fmt);
      vsnprintf(ps->error + n, ps->errlen - (size_t)n, fmt, ap);
      va_end(ap);
    }
  }
  return -1;
}

static void skip_space(parser *ps) {
  while (ps->s < ps->end && (*ps->s == ' ' || *ps->s == '\t' || *ps->s == '\n' || *ps->s == '\r'))
    ps->s++;
}

static size_t varint_len(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    n++;
  }
  return n;
}

/* Inserts the varints v[0, nv) at `at`, before the bytes written since: a string's or a
 * container's lengths are known only once its body is written. */
static void insert_varints(vx_buf *b, size_t at, const uint64_t *v, size_t nv) {
  size_t body = b->n - at, h = 0;
  for (size_t i = 0; i < nv; i++) h += varint_len(v[i]);
  if (vx_buf_reserve(b, h) != 0) return;
  memmove(b->p + at + h, b->p + at, body);
  size_t end = b->n + h;
  b->n = at;
  for (size_t i = 0; i < nv; i++) vx_j_put_varint(b, v[i]);
  b->n = end;
}

static int expect_word(parser *ps, const char *word, uint8_t tag) {
  size_t n = strlen(word);
  if ((size_t)(ps->end - ps->s) < n || memcmp(ps->s, word, n) != 0)
    return fail_at(ps, "unexpected character; expected a value");
  ps->s += n;
  vx_buf_byte(ps->out, tag);
  return 0;
}

/* ---- numbers ---- */

static int parse_number(parser *ps) {
  const char *p = ps->s, *e = ps->end;
  int negative = p < e && *p == '-';
  if (negative) p++;
  if (p >= e || *p < '0' || *p > '9') return fail_at(ps, "expected a digit");
  if (*p == '0' && p + 1 < e && p[1] >= '0' && p[1] <= '9')
    return fail_at(ps, "numbers may not have leading zeros");
  const char *digits = p;
  while (p < e && *p >= '0' && *p <= '9') p++;
  int integral = 1;
  if (p < e && *p == '.') {
    integral = 0;
    if (++p >= e || *p < '0' || *p > '9') return fail_at(ps, "expected a digit after '.'");
    while (p < e && *p >= '0' && *p <= '9') p++;
  }
  if (p < e && (*p == 'e' || *p == 'E')) {
    integral = 0;
    p++;
    if (p < e && (*p == '+' || *p == '-')) p++;
    if (p >= e || *p < '0' || *p > '9') return fail_at(ps, "expected a digit in the exponent");
    while (p < e && *p >= '0' && *p <= '9') p++;
  }
  if (integral) {
    uint64_t v = 0;
    int overflow = 0;
    for (const char *d = digits; d < p && !overflow; d++)
      overflow = __builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, (uint64_t)(*d - '0'), &v);
    if (!overflow && !negative) {
      vx_buf_byte(ps->out, v > INT64_MAX ? VX_J_UINT : VX_J_INT);
      vx_j_put_varint(ps->out, v > INT64_MAX ? v : v << 1);
      ps->s = p;
      return 0;
    }
    if (!overflow && v <= (uint64_t)INT64_MAX + 1) {
      int64_t n = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
      vx_buf_byte(ps->out, VX_J_INT);
      vx_j_put_varint(ps->out, ((uint64_t)n << 1) ^ (uint64_t)(n >> 63));
      ps->s = p;
      return 0;
    }
  }
  char local[64], *copy = local;
  size_t n = (size_t)(p - ps->s);
  if (n >= sizeof local && !(copy = vx_alloc(n + 1))) {
    ps->failed = -2;
    return -1;
  }
  memcpy(copy, ps->s, n);
  copy[n] = 0;
  locale_t c_locale = vx_json_c_locale();
  double d = c_locale ? strtod_l(copy, NULL, c_locale) : strtod(copy, NULL);
  if (copy != local) vx_release(copy);
  if (!isfinite(d)) return fail_at(ps, "number is out of the range of a double");
  vx_buf_byte(ps->out, VX_J_DOUBLE);
  vx_buf_put(ps->out, &d, sizeof d);
  ps->s = p;
  return 0;
}

/* ---- strings ---- */

static int hex4(const char *p, unsigned *out) {
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    char c = p[i];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
    else return -1;
  }
  *out = v;
  return 0;
}

static void put_utf8(vx_buf *b, unsigned cp) {
  if (cp < 0x80) {
    vx_buf_byte(b, (uint8_t)cp);
  } else if (cp < 0x800) {
    vx_buf_byte(b, (uint8_t)(0xc0 | cp >> 6));
    vx_buf_byte(b, (uint8_t)(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    vx_buf_byte(b, (uint8_t)(0xe0 | cp >> 12));
    vx_buf_byte(b, (uint8_t)(0x80 | ((cp >> 6) & 0x3f)));
    vx_buf_byte(b, (uint8_t)(0x80 | (cp & 0x3f)));
  } else {
    vx_buf_byte(b, (uint8_t)(0xf0 | cp >> 18));
    vx_buf_byte(b, (uint8_t)(0x80 | ((cp >> 12) & 0x3f)));
    vx_buf_byte(b, (uint8_t)(0x80 | ((cp >> 6) & 0x3f)));
    vx_buf_byte(b, (uint8_t)(0x80 | (cp & 0x3f)));
  }
}

/* Length of the valid UTF-8 sequence at p (RFC 3629: no overlongs, no surrogates, <= U+10FFFF),
 * or 0. */
static size_t utf8_length(const unsigned char *p, const unsigned char *e) {
  unsigned c = p[0];
  size_t n;
  unsigned cp;
  if (c < 0xc2 || c > 0xf4) return 0;
  if (c < 0xe0) n = 2, cp = c & 0x1f;
  else if (c < 0xf0) n = 3, cp = c & 0x0f;
  else n = 4, cp = c & 0x07;
  if ((size_t)(e - p) < n) return 0;
  for (size_t i = 1; i < n; i++) {
    if ((p[i] & 0xc0) != 0x80) return 0;
    cp = cp << 6 | (p[i] & 0x3f);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
      (cp >= 0xd800 && cp <= 0xdfff))
    return 0;
  return n;
}

/* Decodes the string at ps->s (on its opening quote) into out as varint length + bytes. */
static int parse_string(parser *ps) {
  vx_buf *b = ps->out;
  size_t mark = b->n;
  ps->s++;
  for (;;) {
    if (ps->s >= ps->end) return fail_at(ps, "unterminated string");
    unsigned char c = (unsigned char)*ps->s;
    if (c == '"') break;
    if (c < 0x20) return fail_at(ps, "control character in a string; escape it");
    if (c == '\\') {
      if (ps->end - ps->s < 2) return fail_at(ps, "unterminated escape");
      char esc = ps->s[1];
      const char *simple = strchr("\"\\/bfnrt", esc);
      if (esc && simple) {
        static const char decoded[] = "\"\\/\b\f\n\r\t";
        vx_buf_byte(b, (uint8_t)decoded[simple - "\"\\/bfnrt"]);
        ps->s += 2;
        continue;
      }
      unsigned cp, low;
      if (esc != 'u' || ps->end - ps->s < 6 || hex4(ps->s + 2, &cp) != 0)
        return fail_at(ps, "invalid escape sequence");
      ps->s += 6;
      if (cp >= 0xdc00 && cp <= 0xdfff) return fail_at(ps, "lone low surrogate in \\u escape");
      if (cp >= 0xd800 && cp <= 0xdbff) {
        if (ps->end - ps->s < 6 || ps->s[0] != '\\' || ps->s[1] != 'u' ||
            hex4(ps->s + 2, &low) != 0 || low < 0xdc00 || low > 0xdfff)
          return fail_at(ps, "high surrogate not followed by a low surrogate");
        ps->s += 6;
        cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
      }
      put_utf8(b, cp);
      continue;
    }
    size_t n = c < 0x80 ? 1 : utf8_length((const unsigned char *)ps->s, (const unsigned char *)ps->end);
    if (n == 0) return fail_at(ps, "invalid UTF-8 in a string");
    vx_buf_put(b, ps->s, n);
    ps->s += n;
  }
  ps->s++;
  uint64_t len = b->n - mark;
  insert_varints(b, mark, &len, 1);
  return 0;
}

/* ---- arrays and objects ---- */

static int parse_value(parser *ps, unsigned depth);

static int key_compare(const uint8_t *base, size_t a, size_t b) {
  const uint8_t *pa = base + a, *pb = base + b;
  size_t la = (size_t)vx_j_varint(&pa), lb = (size_t)vx_j_varint(&pb);
  int c = memcmp(pa, pb, la < lb ? la : lb);
  return c ? c : (la > lb) - (la < lb);
}

static int key_order(const void *a, const void *b, void *base) {
  return key_compare(base, *(const size_t *)a, *(const size_t *)b);
}

/* Whether two members of the object being built share a key: small objects compare pairwise,
 * large ones sort their key offsets. */
static int has_duplicate_key(parser *ps, size_t *keys, size_t n) {
  const uint8_t *base = ps->out->p;
  if (n <= 16) {
    for (size_t i = 1; i < n; i++)
      for (size_t j = 0; j < i; j++)
        if (key_compare(base, keys[i], keys[j]) == 0) return 1;
    return 0;
  }
  qsort_r(keys, n, sizeof *keys, key_order, (void *)base);
  for (size_t i = 1; i < n; i++)
    if (key_compare(base, keys[i], keys[i - 1]) == 0) return 1;
  return 0;
}

static int parse_container(parser *ps, unsigned depth, int object) {
  if (depth >= VX_JSON_MAX_DEPTH)
    return fail_at(ps, "nested deeper than %d arrays and objects", VX_JSON_MAX_DEPTH);
  vx_buf *b = ps->out;
  vx_buf_byte(b, object ? VX_J_OBJECT : VX_J_ARRAY);
  size_t body = b->n;
  uint64_t count = 0;
  vx_buf keys = {.pooled = 1}; /* offsets of the keys, for the duplicate check */
  char close = object ? '}' : ']';
  ps->s++;
  skip_space(ps);
  int st = 0;
  if (ps->s < ps->end && *ps->s == close) {
    ps->s++;
  } else {
    for (;;) {
      skip_space(ps);
      if (object) {
        if (ps->s >= ps->end || *ps->s != '"') {
          st = fail_at(ps, "expected a string key");
          break;
        }
        size_t at = b->n - body;
        vx_buf_put(&keys, &at, sizeof at);
        if ((st = parse_string(ps)) != 0) break;
        skip_space(ps);
        if (ps->s >= ps->end || *ps->s != ':') {
          st = fail_at(ps, "expected ':' after an object key");
          break;
        }
        ps->s++;
      }
      if ((st = parse_value(ps, depth + 1)) != 0) break;
      count++;
      skip_space(ps);
      if (ps->s < ps->end && *ps->s == ',') {
        ps->s++;
        continue;
      }
      if (ps->s < ps->end && *ps->s == close) {
        ps->s++;
        break;
      }
      st = fail_at(ps, object ? "expected ',' or '}'" : "expected ',' or ']'");
      break;
    }
  }
  if (st == 0 && object && count > 1 && !keys.failed && !b->failed) {
    size_t *offsets = (size_t *)keys.p;
    for (size_t i = 0; i < count; i++) offsets[i] += body;
    if (has_duplicate_key(ps, offsets, count)) st = fail_at(ps, "an object repeats a key");
  }
  if (keys.failed) ps->failed = -2, st = -1;
  vx_buf_free(&keys);
  if (st != 0) return st;
  uint64_t header[2] = {count, b->n - body};
  insert_varints(b, body, header, 2);
  return 0;
}

static int parse_value(parser *ps, unsigned depth) {
  skip_space(ps);
  if (ps->out->failed) {
    ps->failed = -2;
    return -1;
  }
  if (ps->s >= ps->end) return fail_at(ps, "unexpected end of input; expected a value");
  switch (*ps->s) {
  case '{': return parse_container(ps, depth, 1);
  case '[': return parse_container(ps, depth, 0);
  case '"': vx_buf_byte(ps->out, VX_J_STRING); return parse_string(ps);
  case 't': return expect_word(ps, "true", VX_J_TRUE);
  case 'f': return expect_word(ps, "false", VX_J_FALSE);
  case 'n': return expect_word(ps, "null", VX_J_NULL);
  default:
    if (*ps->s == '-' || (*ps->s >= '0' && *ps->s <= '9')) return parse_number(ps);
    return fail_at(ps, "unexpected character '%c'; expected a value",
                   (unsigned char)*ps->s >= 0x20 && (unsigned char)*ps->s < 0x7f ? *ps->s : '?');
  }
}

int vx_json_parse(const char *text, size_t len, vx_buf *out, char *error, size_t errlen) {
  parser ps = {text, text, text + len, out, error, errlen, 0};
  if (errlen) error[0] = 0;
  size_t mark = out->n;
  if (parse_value(&ps, 0) == 0) {
    skip_space(&ps);
    if (ps.s < ps.end) fail_at(&ps, "unexpected text after the value");
  }
  if (out->failed) ps.failed = -2;
  if (ps.failed) out->n = mark;
  return ps.failed;
}

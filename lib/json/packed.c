/* Reading packed JSON: sizes, member lookup, writing it back as JSON text, and merging objects. */
#include <locale.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "packed.h"

size_t vx_j_size(const uint8_t *v) {
  const uint8_t *p = v + 1;
  switch (v[0]) {
  case VX_J_INT:
  case VX_J_UINT: vx_j_varint(&p); return (size_t)(p - v);
  case VX_J_DOUBLE: return 1 + sizeof(double);
  case VX_J_STRING: {
    size_t n = (size_t)vx_j_varint(&p);
    return (size_t)(p - v) + n;
  }
  case VX_J_ARRAY:
  case VX_J_OBJECT: {
    vx_j_varint(&p);
    size_t body = (size_t)vx_j_varint(&p);
    return (size_t)(p - v) + body;
  }
  default: return 1;
  }
}

const char *vx_j_type_name(const uint8_t *v) {
  switch (vx_j_type(v)) {
  case VX_J_NULL: return "null";
  case VX_J_FALSE:
  case VX_J_TRUE: return "a boolean";
  case VX_J_INT:
  case VX_J_UINT: return "an integer";
  case VX_J_DOUBLE: return "a number";
  case VX_J_STRING: return "a string";
  case VX_J_ARRAY: return "an array";
  default: return "an object";
  }
}

const uint8_t *vx_j_member(const uint8_t *v, const char *key, size_t keylen) {
  if (v[0] != VX_J_OBJECT) return NULL;
  vx_j_iter it;
  vx_j_open(v, &it);
  const char *k;
  size_t kl;
  const uint8_t *val;
  while (vx_j_next(&it, &k, &kl, &val))
    if (kl == keylen && memcmp(k, key, keylen) == 0) return val;
  return NULL;
}

/* Bytes byte c takes inside a JSON string as written: 1, or 2 for the short escapes, 6 for
 * \u00XX. */
static size_t escaped_size(unsigned char c) {
  if (c >= 0x20 && c != '"' && c != '\\') return 1;
  return c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t' ? 2 : 6;
}

static void write_string(const char *s, size_t n, vx_buf *out) {
  vx_buf_byte(out, '"');
  size_t run = 0; /* bytes copied as they are, flushed in one put */
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (escaped_size(c) == 1) continue;
    vx_buf_put(out, s + run, i - run);
    run = i + 1;
    switch (c) {
    case '"': vx_buf_put(out, "\\\"", 2); break;
    case '\\': vx_buf_put(out, "\\\\", 2); break;
    case '\n': vx_buf_put(out, "\\n", 2); break;
    case '\r': vx_buf_put(out, "\\r", 2); break;
    case '\t': vx_buf_put(out, "\\t", 2); break;
    default: vx_buf_printf(out, "\\u%04x", c); break;
    }
  }
  vx_buf_put(out, s + run, n - run);
  vx_buf_byte(out, '"');
}

static size_t string_size(const char *s, size_t n) {
  size_t size = 2;
  for (size_t i = 0; i < n; i++) size += escaped_size((unsigned char)s[i]);
  return size;
}

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;
static void make_c_locale(void) { c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0); }

locale_t vx_json_c_locale(void) {
  pthread_once(&c_locale_once, make_c_locale);
  return c_locale;
}

/* Formats d into text (40 bytes) as the shortest of %.15g .. %.17g that reads back as the same
 * double, in the C locale, kept a double when read back (2.0 prints as "2.0", not "2").
 * Returns its length. */
static size_t format_double(double d, char *text) {
  locale_t c = vx_json_c_locale();
  locale_t old = c ? uselocale(c) : (locale_t)0;
  for (int digits = 15; digits <= 17; digits++) {
    snprintf(text, 40, "%.*g", digits, d);
    if (strtod(text, NULL) == d) break;
  }
  if (old) uselocale(old);
  if (!strpbrk(text, ".eEn")) strcat(text, ".0");
  return strlen(text);
}

static void write_double(double d, vx_buf *out) {
  char text[40];
  vx_buf_put(out, text, format_double(d, text));
}

void vx_json_write(const uint8_t *v, vx_buf *out) {
  switch (v[0]) {
  case VX_J_NULL: vx_buf_put(out, "null", 4); return;
  case VX_J_FALSE: vx_buf_put(out, "false", 5); return;
  case VX_J_TRUE: vx_buf_put(out, "true", 4); return;
  case VX_J_INT: vx_buf_printf(out, "%lld", (long long)vx_j_int(v)); return;
  case VX_J_UINT: vx_buf_printf(out, "%llu", (unsigned long long)vx_j_uint(v)); return;
  case VX_J_DOUBLE: write_double(vx_j_number(v), out); return;
  case VX_J_STRING: {
    size_t n;
    const char *s = vx_j_string(v, &n);
    write_string(s, n, out);
    return;
  }
  default: break;
  }
  vx_j_iter it;
  vx_j_open(v, &it);
  vx_buf_byte(out, it.object ? '{' : '[');
  const char *key;
  size_t keylen;
  const uint8_t *val;
  for (int first = 1; vx_j_next(&it, &key, &keylen, &val); first = 0) {
    if (!first) vx_buf_byte(out, ',');
    if (it.object) {
      write_string(key, keylen, out);
      vx_buf_byte(out, ':');
    }
    vx_json_write(val, out);
  }
  vx_buf_byte(out, it.object ? '}' : ']');
}

size_t vx_json_text_size(const uint8_t *v) {
  char text[40];
  switch (v[0]) {
  case VX_J_NULL:
  case VX_J_TRUE: return 4;
  case VX_J_FALSE: return 5;
  case VX_J_INT: return (size_t)snprintf(text, sizeof text, "%lld", (long long)vx_j_int(v));
  case VX_J_UINT:
    return (size_t)snprintf(text, sizeof text, "%llu", (unsigned long long)vx_j_uint(v));
  case VX_J_DOUBLE: return format_double(vx_j_number(v), text);
  case VX_J_STRING: {
    size_t n;
    const char *s = vx_j_string(v, &n);
    return string_size(s, n);
  }
  default: break;
  }
  vx_j_iter it;
  size_t count = vx_j_open(v, &it);
  size_t size = 2 + (count ? count - 1 : 0); /* brackets and commas */
  const char *key;
  size_t keylen;
  const uint8_t *val;
  while (vx_j_next(&it, &key, &keylen, &val))
    size += (it.object ? string_size(key, keylen) + 1 : 0) + vx_json_text_size(val);
  return size;
}

static void put_member(vx_buf *b, const char *key, size_t keylen, const uint8_t *val) {
  vx_j_put_varint(b, keylen);
  vx_buf_put(b, key, keylen);
  vx_buf_put(b, val, vx_j_size(val));
}

void vx_json_merge(const uint8_t *base, const uint8_t *patch, vx_buf *out) {
  vx_buf body = {0};
  uint64_t count = 0;
  vx_j_iter it;
  const char *key;
  size_t keylen;
  const uint8_t *val;
  vx_j_open(base, &it);
  while (vx_j_next(&it, &key, &keylen, &val))
    if (!vx_j_member(patch, key, keylen)) {
      put_member(&body, key, keylen, val);
      count++;
    }
  vx_j_open(patch, &it);
  while (vx_j_next(&it, &key, &keylen, &val)) {
    put_member(&body, key, keylen, val);
    count++;
  }
  vx_buf_byte(out, VX_J_OBJECT);
  vx_j_put_varint(out, count);
  vx_j_put_varint(out, body.n);
  vx_buf_put(out, body.p, body.n);
  if (body.failed) out->failed = 1;
  vx_buf_free(&body);
}

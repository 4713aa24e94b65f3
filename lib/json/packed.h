/* Packed JSON: the compact binary form in which payloads (and parsed filters) are kept.
 *
 * A value is a tag byte followed by its body:
 *   NULL, FALSE, TRUE      nothing
 *   INT                    zig-zag varint (int64)
 *   UINT                   varint (integers above INT64_MAX)
 *   DOUBLE                 8 bytes, little-endian IEEE 754
 *   STRING                 varint byte length, UTF-8 bytes (escapes resolved)
 *   ARRAY                  varint count, varint body length, the elements
 *   OBJECT                 varint count, varint body length, then per member: varint key length,
 *                          key bytes, value
 * Members keep their order in the text; keys are unique (the parser rejects duplicates), so a
 * member is found by a linear scan that can skip whole values by their lengths.
 *
 * Readers trust the encoding: it comes from vx_json_parse (or, later, a checked file). */
#ifndef VEXFS_JSON_PACKED_H
#define VEXFS_JSON_PACKED_H

#include <locale.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../buf.h"

enum {
  VX_J_NULL = 0,
  VX_J_FALSE,
  VX_J_TRUE,
  VX_J_INT,
  VX_J_UINT,
  VX_J_DOUBLE,
  VX_J_STRING,
  VX_J_ARRAY,
  VX_J_OBJECT,
};

#define VX_JSON_MAX_DEPTH 64 /* nesting of arrays and objects */

/* Parses len bytes of JSON text (RFC 8259, strict) and appends its packed form to out.
 * 0 on success; -1 on a syntax error, with `error` (errlen bytes) saying what and where
 * ("line 1, column 9: expected ':' after an object key"); -2 when out of memory. */
int vx_json_parse(const char *text, size_t len, vx_buf *out, char *error, size_t errlen);

/* The "C" numeric locale, made once, in which numbers are read and written whatever the
 * process's locale; (locale_t)0 if it could not be made. */
locale_t vx_json_c_locale(void);

/* Appends the JSON text of a packed value (compact, no spaces). */
void vx_json_write(const uint8_t *v, vx_buf *out);

/* The length of the text vx_json_write writes for v, without writing it. It is at most
 * 6 * vx_j_size(v) + 2: no packed byte writes more than 6 (a control character in a string
 * becomes \u00XX; `false,` in an array is one tag byte), and an outer pair of brackets. */
size_t vx_json_text_size(const uint8_t *v);

/* Appends the packed object `base` with the members of the packed object `patch` set over it:
 * members of patch replace those of base with the same key, others are appended. */
void vx_json_merge(const uint8_t *base, const uint8_t *patch, vx_buf *out);

static inline uint64_t vx_j_varint(const uint8_t **p) {
  uint64_t v = 0;
  for (unsigned shift = 0;; shift += 7) {
    uint8_t b = *(*p)++;
    v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) return v;
  }
}

static inline void vx_j_put_varint(vx_buf *b, uint64_t v) {
  while (v >= 0x80) {
    vx_buf_byte(b, (uint8_t)(v | 0x80));
    v >>= 7;
  }
  vx_buf_byte(b, (uint8_t)v);
}

static inline unsigned vx_j_type(const uint8_t *v) { return v[0]; }

/* "null", "a boolean", "an integer", "a number", "a string", "an array" or "an object", for
 * messages. */
const char *vx_j_type_name(const uint8_t *v);

/* Bytes the whole value occupies, tag included. */
size_t vx_j_size(const uint8_t *v);

static inline int vx_j_is_number(const uint8_t *v) {
  return v[0] == VX_J_INT || v[0] == VX_J_UINT || v[0] == VX_J_DOUBLE;
}
static inline int64_t vx_j_int(const uint8_t *v) { /* VX_J_INT */
  const uint8_t *p = v + 1;
  uint64_t z = vx_j_varint(&p);
  return (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
}
static inline uint64_t vx_j_uint(const uint8_t *v) { /* VX_J_UINT */
  const uint8_t *p = v + 1;
  return vx_j_varint(&p);
}
/* Any number as a double. */
static inline double vx_j_number(const uint8_t *v) {
  if (v[0] == VX_J_INT) return (double)vx_j_int(v);
  if (v[0] == VX_J_UINT) return (double)vx_j_uint(v);
  double d;
  memcpy(&d, v + 1, sizeof d);
  return d;
}
static inline const char *vx_j_string(const uint8_t *v, size_t *len) { /* VX_J_STRING */
  const uint8_t *p = v + 1;
  *len = (size_t)vx_j_varint(&p);
  return (const char *)p;
}

/* Iteration over the elements of an array or the members of an object. */
typedef struct vx_j_iter {
  const uint8_t *p, *end;
  int object;
} vx_j_iter;

/* Starts iterating the array or object v; returns its element count. */
static inline size_t vx_j_open(const uint8_t *v, vx_j_iter *it) {
  const uint8_t *p = v + 1;
  size_t count = (size_t)vx_j_varint(&p);
  size_t body = (size_t)vx_j_varint(&p);
  it->p = p;
  it->end = p + body;
  it->object = v[0] == VX_J_OBJECT;
  return count;
}

/* The next element (and, in an object, its key); 0 at the end. key may be NULL for arrays. */
static inline int vx_j_next(vx_j_iter *it, const char **key, size_t *keylen, const uint8_t **val) {
  if (it->p >= it->end) return 0;
  if (key) {
    *key = NULL;
    *keylen = 0;
  }
  if (it->object) {
    size_t n = (size_t)vx_j_varint(&it->p);
    if (key) {
      *key = (const char *)it->p;
      *keylen = n;
    }
    it->p += n;
  }
  *val = it->p;
  it->p += vx_j_size(it->p);
  return 1;
}

/* The member `key` of object v, or NULL. */
const uint8_t *vx_j_member(const uint8_t *v, const char *key, size_t keylen);

#endif

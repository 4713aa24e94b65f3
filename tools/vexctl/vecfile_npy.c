/* vexctl: checking a .npy file for import (numpy's format, versions 1.0, 2.0 and 3.0): the magic,
 * the header dict {'descr', 'fortran_order', 'shape'}, and that the data is all there. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vexfs/vexfs.h>

#include "cli.h"
#include "vecfile.h"

#define MAX_RANK 32

typedef struct npy_header {
  char descr[32];
  int fortran;
  int rank;
  uint64_t shape[MAX_RANK];
} npy_header;

/* A cursor over the header's Python literal (not NUL-terminated). */
typedef struct cursor {
  const char *p, *end;
} cursor;

static void skip_space(cursor *c) {
  while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n')) c->p++;
}

static int eat(cursor *c, char ch) {
  skip_space(c);
  if (c->p < c->end && *c->p == ch) return c->p++, 1;
  return 0;
}

/* A quoted Python string without escapes, into out. */
static int quoted(cursor *c, char *out, size_t n) {
  skip_space(c);
  if (c->p >= c->end || (*c->p != '\'' && *c->p != '"')) return -1;
  char q = *c->p++;
  size_t len = 0;
  while (c->p < c->end && *c->p != q) {
    if (*c->p == '\\' || len + 1 >= n) return -1;
    out[len++] = *c->p++;
  }
  if (c->p >= c->end) return -1;
  c->p++;
  out[len] = '\0';
  return 0;
}

static int shape_tuple(cursor *c, npy_header *h) {
  if (!eat(c, '(')) return -1;
  h->rank = 0;
  for (;;) {
    if (eat(c, ')')) return 0;
    skip_space(c);
    if (c->p >= c->end || *c->p < '0' || *c->p > '9' || h->rank == MAX_RANK) return -1;
    uint64_t v = 0;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
      if (v > (UINT64_MAX - 9) / 10) return -1;
      v = v * 10 + (uint64_t)(*c->p++ - '0');
    }
    h->shape[h->rank++] = v;
    if (!eat(c, ',')) return eat(c, ')') ? 0 : -1;
  }
}

static int parse_dict(const char *text, size_t len, npy_header *h) {
  cursor c = {text, text + len};
  int seen = 0; /* bits: descr, fortran_order, shape */
  if (!eat(&c, '{')) return -1;
  while (!eat(&c, '}')) {
    char key[32];
    if (quoted(&c, key, sizeof key) || !eat(&c, ':')) return -1;
    skip_space(&c);
    if (!strcmp(key, "descr")) {
      if (quoted(&c, h->descr, sizeof h->descr)) return -1;
      seen |= 1;
    } else if (!strcmp(key, "fortran_order")) {
      size_t left = (size_t)(c.end - c.p);
      if (left >= 4 && !memcmp(c.p, "True", 4)) h->fortran = 1, c.p += 4;
      else if (left >= 5 && !memcmp(c.p, "False", 5)) h->fortran = 0, c.p += 5;
      else return -1;
      seen |= 2;
    } else if (!strcmp(key, "shape")) {
      if (shape_tuple(&c, h)) return -1;
      seen |= 4;
    } else {
      return -1;
    }
    if (!eat(&c, ',')) {
      if (!eat(&c, '}')) return -1;
      break;
    }
  }
  return seen == 7 ? 0 : -1;
}

/* numpy's name of a descr ("<i1" -> "int8"), for messages. */
static void dtype_name(const char *descr, char *out, size_t n) {
  static const struct { char kind; const char *name; } kinds[] = {
      {'f', "float"}, {'i', "int"}, {'u', "uint"}, {'c', "complex"}};
  const char *d = descr;
  if (*d == '<' || *d == '>' || *d == '|' || *d == '=') d++;
  char *end;
  long bytes = d[0] ? strtol(d + 1, &end, 10) : 0;
  if (d[0] == 'b' && !strcmp(d, "b1")) {
    snprintf(out, n, "bool");
    return;
  }
  for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
    if (d[0] == kinds[i].kind && bytes > 0 && !*end) {
      snprintf(out, n, "%s%ld%s", kinds[i].name, bytes * 8, descr[0] == '>' ? " (big-endian)" : "");
      return;
    }
  snprintf(out, n, "dtype '%s'", descr);
}

static void shape_text(const npy_header *h, char *out, size_t n) {
  size_t len = (size_t)snprintf(out, n, "(");
  for (int i = 0; i < h->rank && len + 24 < n; i++)
    len += (size_t)snprintf(out + len, n - len, "%s%llu", i ? ", " : "",
                            (unsigned long long)h->shape[i]);
  snprintf(out + len, n - len, "%s", h->rank == 1 ? ",)" : ")");
}

int vf_check_npy(vf_source *s, char *err, size_t errlen) {
  const unsigned char *m = s->data;
  size_t size = s->map_len;
  if (size < 6 || memcmp(m, "\x93NUMPY", 6) != 0)
    return vc_errf(err, errlen,
                   "not a .npy file (it does not start with numpy's magic \\x93NUMPY)");
  if (size < 10) return vc_errf(err, errlen, "truncated npy header (%zu bytes)", size);
  unsigned major = m[6], minor = m[7];
  if (major < 1 || major > 3 || minor != 0)
    return vc_errf(err, errlen, "npy format version %u.%u (this vexctl reads 1.0, 2.0 and 3.0)",
                   major, minor);
  size_t prefix = major == 1 ? 10 : 12;
  if (size < prefix) return vc_errf(err, errlen, "truncated npy header (%zu bytes)", size);
  size_t hlen = major == 1 ? (size_t)m[8] | (size_t)m[9] << 8
                           : (size_t)m[8] | (size_t)m[9] << 8 | (size_t)m[10] << 16 |
                                 (size_t)m[11] << 24;
  if (hlen > size - prefix)
    return vc_errf(err, errlen, "truncated npy header: it says %zu bytes, the file has %zu after "
                                "the prefix", hlen, size - prefix);
  npy_header h = {0};
  if (parse_dict((const char *)m + prefix, hlen, &h) != 0)
    return vc_errf(err, errlen, "malformed npy header (expected {'descr': ..., 'fortran_order': "
                                "..., 'shape': (...)})");
  char type[48], shape[256];
  dtype_name(h.descr, type, sizeof type);
  shape_text(&h, shape, sizeof shape);
  size_t elem = !strcmp(h.descr, "<f4") ? 4 : !strcmp(h.descr, "<f8") ? 8 : 0;
  if (h.rank != 2 || !elem)
    return vc_errf(err, errlen, "expected a 2-D float32 or float64 array, got %s %s", type, shape);
  uint64_t rows = h.shape[0], cols = h.shape[1];
  if (cols == 0 || cols > VEXFS_MAX_DIM)
    return vc_errf(err, errlen, "rows of %llu coordinates (1..%u allowed)",
                   (unsigned long long)cols, VEXFS_MAX_DIM);
  size_t have = size - prefix - hlen;
  if (rows > have / elem / cols)
    return vc_errf(err, errlen,
                   "truncated: a %s %s array needs %.0f bytes of data, the file has %zu", type,
                   shape, (double)rows * (double)cols * (double)elem, have);
  if (rows * cols * elem != have)
    return vc_errf(err, errlen, "%zu bytes after the %s %s array's data", have - rows * cols * elem,
                   type, shape);
  s->rows = rows;
  s->dim = (uint32_t)cols;
  s->data = m + prefix + hlen;
  int aligned = (prefix + hlen) % elem == 0;
  if (h.fortran) s->layout = elem == 4 ? VF_COLS_F32 : VF_COLS_F64;
  else s->layout = elem == 8 ? VF_ROWS_F64 : VF_ROWS_F32;
  if (!aligned) /* numpy pads headers to 64 bytes; a writer that does not is refused */
    return vc_errf(err, errlen, "the npy data starts at byte %zu, not a multiple of %zu",
                   prefix + hlen, elem);
  return 0;
}

/* vexctl: what the text formats' parsers (jsonl, csv) share: the growing tables of rows, ids,
 * lines and payloads, and reading a float32 from its text. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vexfs/vexfs.h>

#include "cli.h"
#include "vecfile.h"

/* Grows *p to hold at least need elements of size bytes, doubling; 0, or -1. */
static int grow(void *p, size_t *cap, size_t need, size_t size) {
  if (need <= *cap) return 0;
  size_t n = *cap ? *cap : 1024;
  while (n < need) n *= 2;
  void *q = realloc(*(void **)p, n * size);
  if (!q) return -1;
  *(void **)p = q;
  *cap = n;
  return 0;
}

int vf_push_float(vf_source *s, float v) {
  float *at = vf_push_floats(s, 1);
  if (!at) return -1;
  *at = v;
  return 0;
}

float *vf_push_floats(vf_source *s, size_t n) {
  if (grow(&s->owned, &s->floats_cap, s->floats_used + n, sizeof *s->owned)) return NULL;
  s->floats_used += n;
  return s->owned + s->floats_used - n;
}

int vf_end_row(vf_source *s, uint64_t line, int has_id, uint64_t id, const char *payload,
               char *err, size_t errlen) {
  size_t got = s->floats_used - (size_t)s->rows * s->dim;
  if (s->rows == 0) {
    if (got == 0) return vc_errf(err, errlen, "line %llu: no coordinates",
                                 (unsigned long long)line);
    if (got > VEXFS_MAX_DIM)
      return vc_errf(err, errlen, "line %llu: %zu coordinates (1..%u allowed)",
                     (unsigned long long)line, got, VEXFS_MAX_DIM);
    s->dim = (uint32_t)got;
  } else if (got != s->dim) {
    return vc_errf(err, errlen, "line %llu: %zu coordinates, expected %u (as on line %llu)",
                   (unsigned long long)line, got, s->dim, (unsigned long long)s->lines[0]);
  }
  size_t r = (size_t)s->rows;
  if (!has_id && s->ids_from > UINT64_MAX - 1 - r)
    return vc_errf(err, errlen, "line %llu: --ids-from %llu + row %zu is past the largest id",
                   (unsigned long long)line, (unsigned long long)s->ids_from, r);
  size_t ids_cap = s->rows_cap, lines_cap = s->rows_cap, payloads_cap = s->rows_cap;
  if (grow(&s->ids, &ids_cap, r + 1, sizeof *s->ids) ||
      grow(&s->lines, &lines_cap, r + 1, sizeof *s->lines) ||
      grow(&s->payloads, &payloads_cap, r + 1, sizeof *s->payloads))
    return vc_errf(err, errlen, "line %llu: out of memory", (unsigned long long)line);
  s->rows_cap = payloads_cap;
  s->ids[r] = has_id ? id : s->ids_from + r;
  s->lines[r] = line;
  s->payloads[r] = payload;
  s->any_payload |= payload != NULL;
  s->rows++;
  return 0;
}

int vf_parse_float(const char *text, size_t len, float *out) {
  if (len == 0) return -1;
  char *end;
  errno = 0;
  float v = strtof(text, &end);
  if (end != text + len) return -1;
  *out = v;
  return 0;
}

/* vexctl: checking a TEXMEX .fvecs / .bvecs file for import: per row a little-endian int32
 * dimension word, then that many float32 (fvecs) or uint8 (bvecs) values. Every row's word must
 * be the first row's, and the file a whole number of rows. */
#include <stdio.h>
#include <string.h>

#include <vexfs/vexfs.h>

#include "cli.h"
#include "vecfile.h"

static int32_t word_at(const unsigned char *p) {
  uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
  int32_t v;
  memcpy(&v, &u, sizeof v);
  return v;
}

static int bad_word(char *err, size_t errlen, uint64_t row, size_t at, int32_t w, int32_t d) {
  return vc_errf(err, errlen, "row %llu at byte %zu: dimension word %d, expected %d (the first "
                 "row's)", (unsigned long long)row, at, w, d);
}

int vf_check_texmex(vf_source *s, char *err, size_t errlen) {
  const size_t elem = s->format == VF_FVECS ? 4 : 1;
  const size_t size = s->map_len;
  const unsigned char *m = s->data;
  if (size == 0) return vc_errf(err, errlen, "the file is empty");
  if (size < 4)
    return vc_errf(err, errlen, "truncated: %zu bytes, less than row 0's dimension word", size);
  int32_t d = word_at(m);
  if (d <= 0 || (uint32_t)d > VEXFS_MAX_DIM)
    return vc_errf(err, errlen, "row 0 at byte 0: dimension word %d is not 1..%u", d,
                   VEXFS_MAX_DIM);
  const size_t row_bytes = 4 + (size_t)d * elem;
  uint64_t row = 0;
  size_t at = 0;
  for (; size - at >= row_bytes; at += row_bytes, row++) {
    int32_t w = word_at(m + at);
    if (w != d) return bad_word(err, errlen, row, at, w, d);
  }
  if (at != size) {
    int32_t w = size - at >= 4 ? word_at(m + at) : d;
    if (w != d) return bad_word(err, errlen, row, at, w, d);
    return vc_errf(err, errlen,
                   "truncated: row %llu at byte %zu has %zu of its %zu bytes (the file's size "
                   "%zu is not a whole number of %zu-byte rows)",
                   (unsigned long long)row, at, size - at, row_bytes, size, row_bytes);
  }
  s->rows = row;
  s->dim = (uint32_t)d;
  s->layout = s->format == VF_FVECS ? VF_TEXMEX_F32 : VF_TEXMEX_U8;
  return 0;
}

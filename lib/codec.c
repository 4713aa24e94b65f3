/* Row codes (see codec.h). */
#include "codec.h"

#include <math.h>
#include <string.h>

#include "alloc_internal.h"

/* F16 distances between two stored codes decode one side in pieces of this many coordinates. */
#define F16_PIECE 256u

int vx_codec_init(vx_codec *c, vexfs_storage kind, uint32_t dim) {
  memset(c, 0, sizeof *c);
  c->kind = kind;
  c->dim = dim;
  c->kern = vx_simd();
  c->code_bytes = vx_codec_code_bytes(kind, dim);
  c->element = (c->code_bytes + 7) & ~(size_t)7;
  if (kind == VEXFS_STORAGE_F16) return 0;
  c->range_lo = vx_alloc(dim * sizeof(float));
  c->range_hi = vx_alloc(dim * sizeof(float));
  if (vx_sq8_init_levels(&c->sq, dim, kind == VEXFS_STORAGE_SQ4 ? 15 : 255) != 0 || !c->range_lo ||
      !c->range_hi)
    return -1;
  for (uint32_t d = 0; d < dim; d++) {
    c->range_lo[d] = INFINITY;
    c->range_hi[d] = -INFINITY;
  }
  return 0;
}

void vx_codec_destroy(vx_codec *c) {
  vx_sq8_destroy(&c->sq);
  vx_release(c->range_lo);
  vx_release(c->range_hi);
  memset(c, 0, sizeof *c);
}

float vx_codec_encode(const vx_codec *c, const float *x, uint8_t *code) {
  switch (c->kind) {
  case VEXFS_STORAGE_F16: c->kern->f32_to_f16(x, (uint16_t *)(void *)code, c->dim); return 0;
  case VEXFS_STORAGE_SQ4: {
    const vx_sq8 *q = &c->sq;
    float lx = 0;
    memset(code, 0, c->code_bytes); /* an odd dim's last high nibble stays 0 */
    for (uint32_t d = 0; d < c->dim; d++) {
      uint8_t v = vx_sq8_code_of(q, d, x[d]);
      code[d / 2] |= (uint8_t)(d & 1 ? v << 4 : v);
      lx += q->lo[d] * (float)v;
    }
    return lx;
  }
  default: return vx_sq8_encode(&c->sq, x, code);
  }
}

/* Coordinate d's code value. */
static inline uint32_t code_at(const vx_codec *c, const uint8_t *code, uint32_t d) {
  return c->kind == VEXFS_STORAGE_SQ4 ? (code[d / 2] >> (d & 1 ? 4 : 0)) & 15u : code[d];
}

float vx_codec_lx(const vx_codec *c, const uint8_t *code) {
  if (c->kind == VEXFS_STORAGE_F16) return 0;
  float lx = 0;
  for (uint32_t d = 0; d < c->dim; d++) lx += c->sq.lo[d] * (float)code_at(c, code, d);
  return lx;
}

void vx_codec_decode(const vx_codec *c, const uint8_t *code, float *out) {
  switch (c->kind) {
  case VEXFS_STORAGE_F16: c->kern->f16_to_f32((const uint16_t *)(const void *)code, out, c->dim); return;
  case VEXFS_STORAGE_SQ4:
    for (uint32_t d = 0; d < c->dim; d++)
      out[d] = c->sq.lo[d] + c->sq.scale * (float)code_at(c, code, d);
    return;
  default: vx_sq8_decode(&c->sq, code, 0, c->dim, out);
  }
}

/* The widest span of the range coded so far. */
static float range_span(const vx_codec *c) {
  float span = 0;
  for (uint32_t d = 0; d < c->dim; d++)
    if (c->range_hi[d] - c->range_lo[d] > span) span = c->range_hi[d] - c->range_lo[d];
  return span;
}

int vx_codec_extend(vx_codec *c, const float *const *rows, size_t n) {
  if (c->kind == VEXFS_STORAGE_F16 || n == 0) return 0;
  /* Fitted to a range of width 0 (rows all one point), the quantiser's step is vx_sq8_fit's
   * fallback of 1, no step of the data: vx_sq8_covers would then accept any later rows within
   * 255 of that point and code them to whole units (data within [0, 1] after a zero first row:
   * every coordinate 0 or 1). Rows that give the range a width refit it, exactly, as a first
   * batch would. (The range is the data's: a widened zero span stays zero.) */
  int degenerate = c->fitted && range_span(c) == 0;
  vx_sq8_extend_range(c->dim, rows, n, c->range_lo, c->range_hi);
  if (degenerate && range_span(c) > 0) c->refit_exact = 1;
  return !c->fitted || c->refit_exact || !vx_sq8_covers(&c->sq, c->range_lo, c->range_hi);
}

void vx_codec_refit(vx_codec *c) {
  if (c->kind == VEXFS_STORAGE_F16) return;
  if (c->fitted && !c->refit_exact) vx_sq8_fit_widened(&c->sq, c->range_lo, c->range_hi);
  else vx_sq8_fit(&c->sq, c->range_lo, c->range_hi);
  c->fitted = 1;
  c->refit_exact = 0;
}

float vx_codec_f16_codes(const vx_codec *c, const uint16_t *a, const uint16_t *b, int dot) {
  float piece[F16_PIECE], sum = 0;
  for (uint32_t d = 0; d < c->dim; d += F16_PIECE) {
    uint32_t n = c->dim - d < F16_PIECE ? c->dim - d : F16_PIECE;
    c->kern->f16_to_f32(a + d, piece, n);
    sum += dot ? c->kern->f16_dot(piece, b + d, n) : c->kern->f16_l2sq(piece, b + d, n);
  }
  return sum;
}

size_t vx_codec_rerank_depth(const vx_codec *c, size_t k) {
  if (c->kind == VEXFS_STORAGE_SQ4) return 4 * k + 64;
  return k + (k > 16 ? k : 16);
}

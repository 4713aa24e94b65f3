/* The codes of a collection whose storage is not F32 (vexfs_storage): one code per row, which
 * searches score instead of the f32 row, and which stands for the row where no exact copy is
 * kept (rerank NONE).
 *
 *   F16: each coordinate as an IEEE half (2 bytes): relative error at most 2^-11 a coordinate.
 *   SQ8: x[d] ~ lo[d] + scale * c[d], c[d] in 0..255 (index/sq8.h), one byte a coordinate.
 *   SQ4: the same with c[d] in 0..15, two coordinates a byte (low nibble first).
 *
 * SQ ranges are fitted to the first rows coded, exactly (so that integer data such as pixels
 * codes losslessly), and refitted, 10% wider, when later rows leave them (store.c re-codes the
 * published rows then). Each SQ code comes with a float, lx = sum lo[d] * c[d], the dot
 * product's correction (the store keeps it beside the code).
 *
 * Distances between a point (a query, or a stored row) and a code are those of the decoded
 * vectors, approximated: SQ codes both sides (so integer kernels sum them), F16 reads the point
 * as f32. Threading: a codec is read by any number of threads; fitting it is the caller's to
 * serialise against them. */
#ifndef VEXFS_CODEC_H
#define VEXFS_CODEC_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "index/sq8.h"
#include "simd/simd_internal.h"
#include "vexfs/vexfs.h"

typedef struct vx_codec {
  vexfs_storage kind; /* F16, SQ8 or SQ4 */
  uint32_t dim;
  size_t code_bytes;   /* F16: 2 dim; SQ8: dim; SQ4: (dim + 1) / 2 */
  size_t element;      /* code_bytes rounded up to 8: a code's room in the store */
  vx_sq8 sq;           /* SQ8, SQ4: the quantiser (levels 255 or 15) */
  int fitted;          /* SQ: sq has been fitted to rows */
  int refit_exact;     /* SQ: the next refit fits the range exactly, not widened (vx_codec_extend) */
  float *range_lo, *range_hi; /* SQ: per-coordinate range of every row coded so far */
  const vx_kernels *kern;
} vx_codec;

/* A point codes are scored against: its f32 vector (may be NULL for a stored row, whose code is
 * then read instead), its code and lx (SQ; a query is coded by vx_codec_encode), and its
 * squared norm. */
typedef struct vx_codec_point {
  const float *vec;
  const uint8_t *code;
  float lx, norm;
} vx_codec_point;

/* 0, or -1 when out of memory (then destroy it). */
int vx_codec_init(vx_codec *c, vexfs_storage kind, uint32_t dim);
void vx_codec_destroy(vx_codec *c);

/* Codes x (dim floats, finite) into code (code_bytes); returns its lx. Coordinates outside an SQ
 * range are clamped to it. */
float vx_codec_encode(const vx_codec *c, const float *x, uint8_t *code);
/* A code's lx (SQ: sum lo[d] * c[d]; F16: 0), as vx_codec_encode returns it. */
float vx_codec_lx(const vx_codec *c, const uint8_t *code);
/* Bytes of one row's code for storage `kind` (F16, SQ8 or SQ4) at dim. */
static inline size_t vx_codec_code_bytes(vexfs_storage kind, uint32_t dim) {
  return kind == VEXFS_STORAGE_F16 ? 2 * (size_t)dim
         : kind == VEXFS_STORAGE_SQ4 ? ((size_t)dim + 1) / 2
                                     : dim;
}
/* Bytes of a query's code (vx_codec_encode_query): F16 scores the f32 query itself and codes
 * nothing. */
static inline size_t vx_codec_query_bytes(vexfs_storage kind, uint32_t dim) {
  return kind == VEXFS_STORAGE_F16 ? 0 : vx_codec_code_bytes(kind, dim);
}
/* Codes a query for scoring against codes (code holds vx_codec_query_bytes); returns its lx. */
static inline float vx_codec_encode_query(const vx_codec *c, const float *x, uint8_t *code) {
  return c->kind == VEXFS_STORAGE_F16 ? 0 : vx_codec_encode(c, x, code);
}
/* The vector code stands for, into out (dim floats). */
void vx_codec_decode(const vx_codec *c, const uint8_t *code, float *out);

/* Whether the n rows (rows[i], dim floats each) lie in the SQ range (F16: always): if not, the
 * range is widened to hold them and 1 is returned: the caller refits (vx_codec_refit) and
 * re-codes every published row before coding these. */
int vx_codec_extend(vx_codec *c, const float *const *rows, size_t n);
/* Fits the quantiser to the range: exactly the first time, then 10% wider on each side. */
void vx_codec_refit(vx_codec *c);

/* F16 between two stored codes (a's coordinates decoded a piece at a time): the squared L2
 * distance, or (dot) the dot product. */
float vx_codec_f16_codes(const vx_codec *c, const uint16_t *a, const uint16_t *b, int dot);

/* Squared L2 distance between the decoded vectors of a point and a code. (These three are
 * inline: graph traversal calls them for every neighbour it scores.) */
static inline float vx_codec_l2(const vx_codec *c, const vx_codec_point *a, const uint8_t *code) {
  float s2 = c->sq.scale * c->sq.scale;
  switch (c->kind) {
  case VEXFS_STORAGE_F16: {
    const uint16_t *row = (const uint16_t *)(const void *)code;
    return a->vec ? c->kern->f16_l2sq(a->vec, row, c->dim)
                  : vx_codec_f16_codes(c, (const uint16_t *)(const void *)a->code, row, 0);
  }
  case VEXFS_STORAGE_SQ4: return s2 * (float)c->kern->u4_l2sq(a->code, code, c->dim);
  default: return s2 * (float)c->kern->u8_l2sq(a->code, code, c->dim);
  }
}

/* Dot product of the decoded vectors of a point and a code of correction lx. */
static inline float vx_codec_dot(const vx_codec *c, const vx_codec_point *a, const uint8_t *code,
                                 float lx) {
  const vx_sq8 *q = &c->sq;
  uint32_t sum;
  switch (c->kind) {
  case VEXFS_STORAGE_F16: {
    const uint16_t *row = (const uint16_t *)(const void *)code;
    return a->vec ? c->kern->f16_dot(a->vec, row, c->dim)
                  : vx_codec_f16_codes(c, (const uint16_t *)(const void *)a->code, row, 1);
  }
  case VEXFS_STORAGE_SQ4: sum = c->kern->u4_dot(a->code, code, c->dim); break;
  default: sum = c->kern->u8_dot(a->code, code, c->dim); break;
  }
  return (float)(q->lo_sq + (double)q->scale * (a->lx + lx) +
                 (double)q->scale * q->scale * sum);
}

/* Coordinates a bounded distance sums between its looks at the bound: a quarter of the vector,
 * a multiple of 64 (whole SIMD blocks, and whole bytes of SQ4 codes); 0 below 256 coordinates,
 * where it sums in one go. */
static inline uint32_t vx_codec_piece(uint32_t dim) { return dim / 4 & ~63u; }

/* s2 * the sum of squared differences of 8-bit codes a and b, given up once it exceeds bound
 * (then a value above bound); sums of pieces are exact, so the distance does not depend on it. */
static inline float vx_u8_l2_within(const vx_kernels *k, const uint8_t *a, const uint8_t *b,
                                    uint32_t dim, float s2, float bound) {
  uint32_t piece = vx_codec_piece(dim);
  if (piece == 0) return s2 * (float)k->u8_l2sq(a, b, dim);
  uint32_t limit = bound / s2 < 4.0e9f ? (uint32_t)(bound / s2) + 1 : UINT32_MAX, sum = 0;
  for (uint32_t d = 0; d < dim && sum <= limit; d += piece) {
    uint32_t n = dim - d < 2 * piece ? dim - d : piece; /* the last piece takes the rest */
    sum += k->u8_l2sq(a + d, b + d, n);
    if (n != piece) break;
  }
  return s2 * (float)sum;
}

/* vx_codec_l2 of a query point (a->vec set), given up once a partial sum exceeds bound: the
 * distance, or a partial sum above bound (searches drop such a neighbour either way, and most
 * of those they score are farther than their current ef-th). F16 always sums piece by piece,
 * so that its rounding does not depend on the bound. */
static inline float vx_codec_l2_within(const vx_codec *c, const vx_codec_point *a,
                                       const uint8_t *code, float bound) {
  uint32_t piece = vx_codec_piece(c->dim);
  if (piece == 0 || c->kind == VEXFS_STORAGE_SQ4) /* (SQ4 is cheap enough whole) */
    return vx_codec_l2(c, a, code);
  float sum = 0;
  if (c->kind == VEXFS_STORAGE_F16) {
    const uint16_t *row = (const uint16_t *)(const void *)code;
    for (uint32_t d = 0; d < c->dim && sum <= bound; d += piece) {
      uint32_t n = c->dim - d < 2 * piece ? c->dim - d : piece; /* the last piece takes the rest */
      sum += c->kern->f16_l2sq(a->vec + d, row + d, n);
      if (n != piece) break;
    }
    return sum;
  }
  return vx_u8_l2_within(c->kern, a->code, code, c->dim, c->sq.scale * c->sq.scale, bound);
}

/* The metric's distance between a point and a code (its row's squared norm: norm). */
static inline float vx_codec_distance(const vx_codec *c, vexfs_metric metric,
                                      const vx_codec_point *a, const uint8_t *code, float lx,
                                      float norm) {
  if (metric == VEXFS_METRIC_L2) return vx_codec_l2(c, a, code);
  float dot = vx_codec_dot(c, a, code, lx);
  if (metric == VEXFS_METRIC_IP) return 1.0f - dot;
  if (a->norm <= 0 || norm <= 0) return 1.0f;
  return 1.0f - dot / sqrtf(a->norm * norm);
}

/* How many of a scan's best hits by code a search re-scores exactly for k results: codes order
 * rows nearly right, coarser ones (SQ4) less so. */
size_t vx_codec_rerank_depth(const vx_codec *c, size_t k);

#endif

/* Scalar quantisation to 8-bit (or narrower) codes: x[d] ~ lo[d] + scale * code[d], code[d] in
 * [0, levels] (255 for 8-bit codes, 15 for 4-bit ones, which lib/codec.c packs two a byte).
 *
 * One scale for all coordinates (per-coordinate offsets), so that distances between codes are
 * plain integer sums the u8 kernels compute:
 *   L2(x, y)  ~ scale^2 * sum (cx - cy)^2
 *   dot(x, y) ~ sum lo^2 + scale * (Lx + Ly) + scale^2 * sum cx*cy,   Lx = sum lo[d] * cx[d]
 * Data of integers within 256 consecutive values (pixels) is coded exactly. */
#ifndef VEXFS_SQ8_H
#define VEXFS_SQ8_H

#include <stddef.h>
#include <stdint.h>

typedef struct vx_sq8 {
  uint32_t dim;
  float *lo;       /* dim offsets */
  uint32_t levels; /* the largest code */
  float scale;     /* value of one code step */
  float inv_scale;
  double lo_sq;    /* sum of lo[d]^2 */
} vx_sq8;

/* Allocates the offsets of a quantiser to codes 0..levels; 0 or -1 when out of memory. */
int vx_sq8_init_levels(vx_sq8 *q, uint32_t dim, uint32_t levels);
/* The same for 8-bit codes (levels 255). */
int vx_sq8_init(vx_sq8 *q, uint32_t dim);
void vx_sq8_destroy(vx_sq8 *q);

/* Per-coordinate ranges of n rows (row i at rows[i], dim floats each), merged into lo/hi. */
void vx_sq8_extend_range(uint32_t dim, const float *const *rows, size_t n, float *lo, float *hi);

/* The same over the rows that are not outliers: a row farther from the rows' mean than
 * VX_SQ8_OUTLIER_FACTOR times the median such distance does not widen the range (it is coded
 * clamped, with its error), so that a few far rows do not coarsen every other row's code. All
 * rows count when that median is 0. 0, or -1 when out of memory (nothing merged). */
#define VX_SQ8_OUTLIER_FACTOR 4.0f
int vx_sq8_extend_range_robust(uint32_t dim, const float *const *rows, size_t n, float *lo,
                               float *hi);

/* Sets the quantiser to cover [lo, hi] per coordinate. */
void vx_sq8_fit(vx_sq8 *q, const float *lo, const float *hi);

/* Widens [lo, hi] by a tenth of its largest span on each side, so that data drifting past a
 * range refits rarely, and fits q to it. */
void vx_sq8_fit_widened(vx_sq8 *q, float *lo, float *hi);

/* Whether every coordinate of [lo, hi] is inside what q codes without clamping. */
int vx_sq8_covers(const vx_sq8 *q, const float *lo, const float *hi);

/* The code of value v at coordinate d (clamped to 0..levels). */
static inline uint8_t vx_sq8_code_of(const vx_sq8 *q, uint32_t d, float v) {
  float c = (v - q->lo[d]) * q->inv_scale, top = (float)q->levels;
  c = c < 0 ? 0 : c > top ? top : c;
  /* nearbyintf's rounding (to nearest, ties to even) without its call, which baseline x86-64
   * cannot inline: adding and taking away 1.5 * 2^23 leaves c rounded, for 0 <= c < 2^22 */
  return (uint8_t)((c + 0x1.8p23f) - 0x1.8p23f);
}

/* Codes x (clamped to the range), one byte a coordinate; returns Lx = sum lo[d] * code[d]. */
float vx_sq8_encode(const vx_sq8 *q, const float *x, uint8_t *code);

/* |x - decode(code)|: how far the vector code stands for lies from x (0 when lossless). */
float vx_sq8_error(const vx_sq8 *q, const float *x, const uint8_t *code);

/* The vector codes [first, first + n) stand for: out[i] = lo[d] + scale * code[i], d = first + i.
 * One function for every use, so that whether a code is lossless (below) and what decoding gives
 * agree to the bit. */
void vx_sq8_decode(const vx_sq8 *q, const uint8_t *code, uint32_t first, uint32_t n, float *out);

/* Whether code decodes to x exactly, bit for bit (integers within 256 consecutive values, with
 * scale 1, do). */
int vx_sq8_lossless(const vx_sq8 *q, const float *x, const uint8_t *code);

#endif

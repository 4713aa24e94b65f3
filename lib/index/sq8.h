/* Scalar quantisation to 8-bit codes, for graph traversal: x[d] ~ lo[d] + scale * code[d].
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
  float scale;     /* value of one code step */
  float inv_scale;
  double lo_sq;    /* sum of lo[d]^2 */
} vx_sq8;

/* Allocates the offsets; 0 or -1 when out of memory. */
int vx_sq8_init(vx_sq8 *q, uint32_t dim);
void vx_sq8_destroy(vx_sq8 *q);

/* Per-coordinate ranges of n rows (row i at rows[i], dim floats each), merged into lo/hi. */
void vx_sq8_extend_range(uint32_t dim, const float *const *rows, size_t n, float *lo, float *hi);

/* Sets the quantiser to cover [lo, hi] per coordinate. */
void vx_sq8_fit(vx_sq8 *q, const float *lo, const float *hi);

/* Whether every coordinate of [lo, hi] is inside what q codes without clamping. */
int vx_sq8_covers(const vx_sq8 *q, const float *lo, const float *hi);

/* Codes x (clamped to the range); returns Lx = sum lo[d] * code[d]. */
float vx_sq8_encode(const vx_sq8 *q, const float *x, uint8_t *code);

/* The vector codes [first, first + n) stand for: out[i] = lo[d] + scale * code[i], d = first + i.
 * One function for every use, so that whether a code is lossless (below) and what decoding gives
 * agree to the bit. */
void vx_sq8_decode(const vx_sq8 *q, const uint8_t *code, uint32_t first, uint32_t n, float *out);

/* Whether code decodes to x exactly, bit for bit (integers within 256 consecutive values, with
 * scale 1, do). */
int vx_sq8_lossless(const vx_sq8 *q, const float *x, const uint8_t *code);

#endif

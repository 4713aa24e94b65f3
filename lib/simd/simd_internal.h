/* Distance kernels: one table per instruction set, one chosen at load time. */
#ifndef VEXFS_SIMD_INTERNAL_H
#define VEXFS_SIMD_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

typedef struct vx_kernels {
  const char *isa; /* "scalar" | "avx2" | "avx2vnni" | "avx512" | "avx512vnni" | "neon" */

  /* One to one, over d floats at any alignment. cosine returns 1 - cos(a, b), and 1 when either
   * vector is zero. */
  float (*l2sq)(const float *a, const float *b, size_t d);
  float (*dot)(const float *a, const float *b, size_t d);
  float (*cosine)(const float *a, const float *b, size_t d);

  /* One query against n rows of d floats, `stride` floats apart: out[i] = f(q, base + i*stride). */
  void (*l2sq_many)(const float *q, const float *base, size_t stride, size_t n, size_t d,
                    float *out);
  void (*dot_many)(const float *q, const float *base, size_t stride, size_t n, size_t d,
                   float *out);
  void (*cosine_many)(const float *q, const float *base, size_t stride, size_t n, size_t d,
                      float *out);

  /* Over 8-bit codes (scalar quantisation), d <= 65536 so sums fit 32 bits: the sum of squared
   * differences, and the sum of products. */
  uint32_t (*u8_l2sq)(const uint8_t *a, const uint8_t *b, size_t d);
  uint32_t (*u8_dot)(const uint8_t *a, const uint8_t *b, size_t d);

  /* Over 4-bit codes, two a byte (the low nibble holds the even coordinate, the high nibble the
   * odd one), d coordinates in (d + 1) / 2 bytes at any alignment; d <= 65536. Exact: the sum of
   * squared differences, and the sum of products. For odd d the last byte's high nibble is
   * padding and is not read as a coordinate. */
  uint32_t (*u4_l2sq)(const uint8_t *a, const uint8_t *b, size_t d);
  uint32_t (*u4_dot)(const uint8_t *a, const uint8_t *b, size_t d);

  /* IEEE binary16 (f16) rows, stored as their bits in uint16_t, against an f32 query of d floats,
   * any length and alignment: each row element is decoded exactly and the sums run in f32 as in
   * l2sq and dot on the decoded row (so tables agree to rounding, not bit for bit). */
  float (*f16_l2sq)(const float *q, const uint16_t *row, size_t d);
  float (*f16_dot)(const float *q, const uint16_t *row, size_t d);

  /* Conversions of n values at any alignment; every table gives the same bits. f32_to_f16 rounds
   * to nearest, ties to even, and clamps what lies beyond f16's range to +-65504 (the largest
   * finite f16) where IEEE would give +-infinity: magnitudes from 65520 up, infinities included,
   * so a stored vector stays finite. NaN must not be passed. f16_to_f32 is exact (a NaN stays a
   * NaN, its payload bits not promised). */
  void (*f32_to_f16)(const float *in, uint16_t *out, size_t n);
  void (*f16_to_f32)(const uint16_t *in, float *out, size_t n);

  /* Register-blocked dot-product tile for batched search (a GEMM micro-kernel):
   *   c[r*ldc + j] (+)= sum over k < kc of a[r*lda + k] * bp[k*gemm_nr + j]
   * for r < gemm_mr, j < gemm_nr. `a` is gemm_mr database rows read in place (any alignment);
   * `bp` is a packed panel of gemm_nr queries, k-major and 64-byte aligned. c is overwritten, or
   * added to when accumulate is nonzero. */
  unsigned gemm_mr, gemm_nr;
  void (*gemm_tile)(size_t kc, const float *a, size_t lda, const float *bp, float *c, size_t ldc,
                    int accumulate);
} vx_kernels;

/* The table chosen at load time (CPU features capped by VEXFS_SIMD). Never NULL. */
const vx_kernels *vx_simd(void);

/* Every table this build contains and this CPU can run, best last; *n receives the count. For
 * tests and benchmarks that compare instruction sets. */
const vx_kernels *const *vx_simd_available(size_t *n);

/* Per-ISA tables, each defined in its own translation unit built with its own flags. */
extern const vx_kernels vx_kernels_scalar;
#if defined(__x86_64__)
extern const vx_kernels vx_kernels_avx2;
extern const vx_kernels vx_kernels_avx2vnni;   /* avx2 with its byte kernels on AVX-VNNI */
extern const vx_kernels vx_kernels_avx512;
extern const vx_kernels vx_kernels_avx512vnni; /* avx512 with its byte kernels on AVX512-VNNI */
#endif
#if defined(__aarch64__)
extern const vx_kernels vx_kernels_neon;
#endif

#endif

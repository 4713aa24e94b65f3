/* AVX-512 (F/BW/VL/DQ) primitives that the avx512 and avx512vnni tables share: the f32 and f16
 * kernels, the 4-bit codes and the GEMM tile. Included by kernels_avx512.c and
 * kernels_avx512vnni.c, each built with its own flags; the includer defines nibble_dot, the byte
 * arithmetic that differs. Tails are masked loads and stores, so the heads cover everything. */
#ifndef VEXFS_KERNELS_AVX512_H
#define VEXFS_KERNELS_AVX512_H

#include <immintrin.h>
#include <stdint.h>

#include "simd_internal.h"

static inline __mmask16 tail_mask(size_t rest) { return (__mmask16)((1u << rest) - 1u); }

static inline float isa_dot(const float *a, const float *b, size_t d) {
  __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
  size_t i = 0;
  for (; i + 64 <= d; i += 64) {
    s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
    s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
    s2 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 32), _mm512_loadu_ps(b + i + 32), s2);
    s3 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 48), _mm512_loadu_ps(b + i + 48), s3);
  }
  for (; i + 16 <= d; i += 16)
    s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
  if (i < d) {
    __mmask16 m = tail_mask(d - i);
    s1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), s1);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

static inline float isa_l2sq(const float *a, const float *b, size_t d) {
  __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
  size_t i = 0;
  for (; i + 64 <= d; i += 64) {
    __m512 e0 = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
    __m512 e1 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16));
    __m512 e2 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 32), _mm512_loadu_ps(b + i + 32));
    __m512 e3 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 48), _mm512_loadu_ps(b + i + 48));
    s0 = _mm512_fmadd_ps(e0, e0, s0);
    s1 = _mm512_fmadd_ps(e1, e1, s1);
    s2 = _mm512_fmadd_ps(e2, e2, s2);
    s3 = _mm512_fmadd_ps(e3, e3, s3);
  }
  for (; i + 16 <= d; i += 16) {
    __m512 e = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
    s0 = _mm512_fmadd_ps(e, e, s0);
  }
  if (i < d) {
    __mmask16 m = tail_mask(d - i);
    __m512 e = _mm512_sub_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i));
    s1 = _mm512_fmadd_ps(e, e, s1);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

static inline void isa_dot_norms(const float *a, const float *b, size_t d, float *ab, float *aa,
                                 float *bb) {
  __m512 sab = _mm512_setzero_ps(), saa = sab, sbb = sab;
  for (size_t i = 0; i < d; i += 16) {
    __mmask16 m = d - i >= 16 ? (__mmask16)0xffff : tail_mask(d - i);
    __m512 x = _mm512_maskz_loadu_ps(m, a + i), y = _mm512_maskz_loadu_ps(m, b + i);
    sab = _mm512_fmadd_ps(x, y, sab);
    saa = _mm512_fmadd_ps(x, x, saa);
    sbb = _mm512_fmadd_ps(y, y, sbb);
  }
  *ab = _mm512_reduce_add_ps(sab);
  *aa = _mm512_reduce_add_ps(saa);
  *bb = _mm512_reduce_add_ps(sbb);
}

/* Horizontal sum in unsigned arithmetic: _mm512_reduce_add_epi32 adds signed ints, which may
 * overflow (undefined) for sums past 2^31 that still fit 32 bits unsigned. */
static inline uint32_t hsum16_u32(__m512i v) {
  __m256i s = _mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1));
  __m128i t = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
  t = _mm_add_epi32(t, _mm_shuffle_epi32(t, 0x4e));
  t = _mm_add_epi32(t, _mm_shuffle_epi32(t, 0xb1));
  return (uint32_t)_mm_cvtsi128_si32(t);
}

/* Lanes below rest when fewer than 16 remain, else all 16. */
static inline __mmask16 mask16(size_t rest) {
  return rest >= 16 ? (__mmask16)0xffff : tail_mask(rest);
}

static inline size_t isa_f16_to_f32_head(const uint16_t *in, float *out, size_t n) {
  for (size_t i = 0; i < n; i += 16) {
    __mmask16 m = mask16(n - i);
    _mm512_mask_storeu_ps(out + i, m, _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, in + i)));
  }
  return n;
}

/* Clamped first: vcvtps2ph rounds what lies past +-65504 to infinity. */
static inline size_t isa_f32_to_f16_head(const float *in, uint16_t *out, size_t n) {
  const __m512 lo = _mm512_set1_ps(-65504.0f), hi = _mm512_set1_ps(65504.0f);
  for (size_t i = 0; i < n; i += 16) {
    __mmask16 m = mask16(n - i);
    __m512 x = _mm512_min_ps(_mm512_max_ps(_mm512_maskz_loadu_ps(m, in + i), lo), hi);
    _mm256_mask_storeu_epi16(out + i, m,
                             _mm512_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  }
  return n;
}

/* Up to 16 elements, the lanes past the end reading 0 on both sides (so adding nothing). */
static inline __m512 f16_step(__m512 s, const float *q, const uint16_t *row, size_t rest, int l2) {
  __mmask16 m = mask16(rest);
  __m512 x = _mm512_maskz_loadu_ps(m, q), y = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, row));
  if (l2) x = y = _mm512_sub_ps(x, y);
  return _mm512_fmadd_ps(x, y, s);
}

static inline float isa_f16_head(const float *q, const uint16_t *row, size_t d, size_t *done,
                                 int l2) {
  __m512 s0 = _mm512_setzero_ps(), s1 = s0;
  size_t i = 0;
  for (; i + 32 <= d; i += 32) {
    s0 = f16_step(s0, q + i, row + i, 16, l2);
    s1 = f16_step(s1, q + i + 16, row + i + 16, 16, l2);
  }
  for (; i < d; i += 16) s0 = f16_step(s0, q + i, row + i, d - i, l2);
  *done = d;
  return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

/* s0, s1 + the products of the byte pairs (x0, y0) and (x1, y1), every byte below 16, summed in
 * 32-bit lanes (how the two accumulators share the work is the includer's choice). */
static inline void nibble_dot(__m512i *s0, __m512i *s1, __m512i x0, __m512i y0, __m512i x1,
                              __m512i y1);

/* Up to 64 bytes of 4-bit codes (masked: bytes past the end read 0 and add nothing). The nibbles
 * split (shifts are of 16-bit lanes, hence the mask after), then for l2 their absolute
 * differences, which are below 16 too. */
static inline void u4_step(__m512i *s0, __m512i *s1, const uint8_t *a, const uint8_t *b,
                           size_t rest, int l2) {
  const __m512i low = _mm512_set1_epi8(0x0f);
  __mmask64 m = rest >= 64 ? ~(__mmask64)0 : ((__mmask64)1 << rest) - 1;
  __m512i x = _mm512_maskz_loadu_epi8(m, a), y = _mm512_maskz_loadu_epi8(m, b);
  __m512i x0 = _mm512_and_si512(x, low), y0 = _mm512_and_si512(y, low);
  __m512i x1 = _mm512_and_si512(_mm512_srli_epi16(x, 4), low);
  __m512i y1 = _mm512_and_si512(_mm512_srli_epi16(y, 4), low);
  if (l2) {
    x0 = y0 = _mm512_abs_epi8(_mm512_sub_epi8(x0, y0));
    x1 = y1 = _mm512_abs_epi8(_mm512_sub_epi8(x1, y1));
  }
  nibble_dot(s0, s1, x0, y0, x1, y1);
}

static inline uint32_t isa_u4_head(const uint8_t *a, const uint8_t *b, size_t n, size_t *done,
                                   int l2) {
  __m512i s0 = _mm512_setzero_si512(), s1 = s0;
  for (size_t i = 0; i < n; i += 64) u4_step(&s0, &s1, a + i, b + i, n - i, l2);
  *done = n;
  return hsum16_u32(_mm512_add_epi32(s0, s1));
}

/* 12 rows x 32 columns: 24 accumulators, 2 panel loads and 12 broadcasts per k, which keeps the
 * FMA units busy rather than the load ports. */
#define ISA_GEMM_MR 12
#define ISA_GEMM_NR 32

static void isa_gemm_tile(size_t kc, const float *a, size_t lda, const float *bp, float *c,
                          size_t ldc, int accumulate) {
  __m512 acc[ISA_GEMM_MR][2];
  for (int r = 0; r < ISA_GEMM_MR; r++) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
  for (size_t k = 0; k < kc; k++) {
    __m512 b0 = _mm512_load_ps(bp + k * ISA_GEMM_NR);
    __m512 b1 = _mm512_load_ps(bp + k * ISA_GEMM_NR + 16);
#pragma GCC unroll 12
    for (int r = 0; r < ISA_GEMM_MR; r++) {
      __m512 x = _mm512_set1_ps(a[r * lda + k]);
      acc[r][0] = _mm512_fmadd_ps(x, b0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(x, b1, acc[r][1]);
    }
  }
  for (int r = 0; r < ISA_GEMM_MR; r++) {
    float *row = c + r * ldc;
    if (accumulate) {
      acc[r][0] = _mm512_add_ps(acc[r][0], _mm512_loadu_ps(row));
      acc[r][1] = _mm512_add_ps(acc[r][1], _mm512_loadu_ps(row + 16));
    }
    _mm512_storeu_ps(row, acc[r][0]);
    _mm512_storeu_ps(row + 16, acc[r][1]);
  }
}

#endif

/* AVX2 + FMA + F16C primitives that the avx2 and avx2vnni tables share: the f32 and f16 kernels,
 * the 4-bit codes and the GEMM tile. Included by kernels_avx2.c and kernels_avx2vnni.c, each built
 * with its own flags; the includer defines nibble_dot, the byte arithmetic that differs. */
#ifndef VEXFS_KERNELS_AVX2_H
#define VEXFS_KERNELS_AVX2_H

#include <immintrin.h>
#include <stdint.h>

#include "simd_internal.h"

static inline float hsum8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

/* Lane mask for the last `rest` (1..7) elements: lanes below rest are loaded, the others read 0. */
static inline __m256i tail_mask(size_t rest) {
  static const int32_t ramp[8] = {0, 1, 2, 3, 4, 5, 6, 7};
  return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)rest), _mm256_loadu_si256((const void *)ramp));
}

static inline float isa_dot(const float *a, const float *b, size_t d) {
  __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
  size_t i = 0;
  for (; i + 32 <= d; i += 32) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
    s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), s2);
    s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), s3);
  }
  for (; i + 8 <= d; i += 8)
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
  if (i < d) {
    __m256i m = tail_mask(d - i);
    s1 = _mm256_fmadd_ps(_mm256_maskload_ps(a + i, m), _mm256_maskload_ps(b + i, m), s1);
  }
  return hsum8(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
}

static inline float isa_l2sq(const float *a, const float *b, size_t d) {
  __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
  size_t i = 0;
  for (; i + 32 <= d; i += 32) {
    __m256 e0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
    __m256 e1 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8));
    __m256 e2 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16));
    __m256 e3 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24));
    s0 = _mm256_fmadd_ps(e0, e0, s0);
    s1 = _mm256_fmadd_ps(e1, e1, s1);
    s2 = _mm256_fmadd_ps(e2, e2, s2);
    s3 = _mm256_fmadd_ps(e3, e3, s3);
  }
  for (; i + 8 <= d; i += 8) {
    __m256 e = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
    s0 = _mm256_fmadd_ps(e, e, s0);
  }
  if (i < d) {
    __m256i m = tail_mask(d - i);
    __m256 e = _mm256_sub_ps(_mm256_maskload_ps(a + i, m), _mm256_maskload_ps(b + i, m));
    s1 = _mm256_fmadd_ps(e, e, s1);
  }
  return hsum8(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
}

static inline void isa_dot_norms(const float *a, const float *b, size_t d, float *ab, float *aa,
                                 float *bb) {
  __m256 sab = _mm256_setzero_ps(), saa = sab, sbb = sab;
  size_t i = 0;
  for (; i + 8 <= d; i += 8) {
    __m256 x = _mm256_loadu_ps(a + i), y = _mm256_loadu_ps(b + i);
    sab = _mm256_fmadd_ps(x, y, sab);
    saa = _mm256_fmadd_ps(x, x, saa);
    sbb = _mm256_fmadd_ps(y, y, sbb);
  }
  if (i < d) {
    __m256i m = tail_mask(d - i);
    __m256 x = _mm256_maskload_ps(a + i, m), y = _mm256_maskload_ps(b + i, m);
    sab = _mm256_fmadd_ps(x, y, sab);
    saa = _mm256_fmadd_ps(x, x, saa);
    sbb = _mm256_fmadd_ps(y, y, sbb);
  }
  *ab = hsum8(sab);
  *aa = hsum8(saa);
  *bb = hsum8(sbb);
}

static inline uint32_t hsum8_epi32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
  return (uint32_t)_mm_cvtsi128_si32(s);
}

/* Eight f16 values at any alignment, decoded exactly (vcvtph2ps). */
static inline __m256 load_f16x8(const uint16_t *p) {
  return _mm256_cvtph_ps(_mm_loadu_si128((const void *)p));
}

static inline size_t isa_f16_to_f32_head(const uint16_t *in, float *out, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, load_f16x8(in + i));
  return i;
}

/* Clamped first: vcvtps2ph rounds what lies past +-65504 to infinity. */
static inline size_t isa_f32_to_f16_head(const float *in, uint16_t *out, size_t n) {
  const __m256 lo = _mm256_set1_ps(-65504.0f), hi = _mm256_set1_ps(65504.0f);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 x = _mm256_min_ps(_mm256_max_ps(_mm256_loadu_ps(in + i), lo), hi);
    _mm_storeu_si128((void *)(out + i),
                     _mm256_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  }
  return i;
}

static inline __m256 f16_step(__m256 s, const float *q, const uint16_t *row, int l2) {
  __m256 x = _mm256_loadu_ps(q), y = load_f16x8(row);
  if (l2) x = y = _mm256_sub_ps(x, y);
  return _mm256_fmadd_ps(x, y, s);
}

static inline float isa_f16_head(const float *q, const uint16_t *row, size_t d, size_t *done,
                                 int l2) {
  __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
  size_t i = 0;
  for (; i + 32 <= d; i += 32) {
    s0 = f16_step(s0, q + i, row + i, l2);
    s1 = f16_step(s1, q + i + 8, row + i + 8, l2);
    s2 = f16_step(s2, q + i + 16, row + i + 16, l2);
    s3 = f16_step(s3, q + i + 24, row + i + 24, l2);
  }
  for (; i + 8 <= d; i += 8) s0 = f16_step(s0, q + i, row + i, l2);
  *done = i;
  return hsum8(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
}

/* s0, s1 + the products of the byte pairs (x0, y0) and (x1, y1), every byte below 16, summed in
 * 32-bit lanes (how the two accumulators share the work is the includer's choice). */
static inline void nibble_dot(__m256i *s0, __m256i *s1, __m256i x0, __m256i y0, __m256i x1,
                              __m256i y1);

/* 32 bytes of 4-bit codes: the nibbles split (AVX2 shifts 16-bit lanes, hence the mask after),
 * then for l2 their absolute differences, which are below 16 too. */
static inline void u4_step(__m256i *s0, __m256i *s1, __m256i x, __m256i y, int l2) {
  const __m256i low = _mm256_set1_epi8(0x0f);
  __m256i x0 = _mm256_and_si256(x, low), y0 = _mm256_and_si256(y, low);
  __m256i x1 = _mm256_and_si256(_mm256_srli_epi16(x, 4), low);
  __m256i y1 = _mm256_and_si256(_mm256_srli_epi16(y, 4), low);
  if (l2) {
    x0 = y0 = _mm256_abs_epi8(_mm256_sub_epi8(x0, y0));
    x1 = y1 = _mm256_abs_epi8(_mm256_sub_epi8(x1, y1));
  }
  nibble_dot(s0, s1, x0, y0, x1, y1);
}

/* Whole 32-byte blocks, then one of 16 (zero-extended: zero bytes add nothing). */
static inline uint32_t isa_u4_head(const uint8_t *a, const uint8_t *b, size_t n, size_t *done,
                                   int l2) {
  __m256i s0 = _mm256_setzero_si256(), s1 = s0;
  size_t i = 0;
  for (; i + 32 <= n; i += 32)
    u4_step(&s0, &s1, _mm256_loadu_si256((const void *)(a + i)),
            _mm256_loadu_si256((const void *)(b + i)), l2);
  if (i + 16 <= n) {
    u4_step(&s0, &s1, _mm256_zextsi128_si256(_mm_loadu_si128((const void *)(a + i))),
            _mm256_zextsi128_si256(_mm_loadu_si128((const void *)(b + i))), l2);
    i += 16;
  }
  *done = i;
  return hsum8_epi32(_mm256_add_epi32(s0, s1));
}

/* 6 rows x 16 columns: 12 accumulators, 2 panel loads and 1 broadcast per k. */
#define ISA_GEMM_MR 6
#define ISA_GEMM_NR 16

static void isa_gemm_tile(size_t kc, const float *a, size_t lda, const float *bp, float *c,
                          size_t ldc, int accumulate) {
  __m256 acc[ISA_GEMM_MR][2];
  for (int r = 0; r < ISA_GEMM_MR; r++) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
  for (size_t k = 0; k < kc; k++) {
    __m256 b0 = _mm256_load_ps(bp + k * ISA_GEMM_NR);
    __m256 b1 = _mm256_load_ps(bp + k * ISA_GEMM_NR + 8);
#pragma GCC unroll 6
    for (int r = 0; r < ISA_GEMM_MR; r++) {
      __m256 x = _mm256_broadcast_ss(a + r * lda + k);
      acc[r][0] = _mm256_fmadd_ps(x, b0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(x, b1, acc[r][1]);
    }
  }
  for (int r = 0; r < ISA_GEMM_MR; r++) {
    float *row = c + r * ldc;
    if (accumulate) {
      acc[r][0] = _mm256_add_ps(acc[r][0], _mm256_loadu_ps(row));
      acc[r][1] = _mm256_add_ps(acc[r][1], _mm256_loadu_ps(row + 8));
    }
    _mm256_storeu_ps(row, acc[r][0]);
    _mm256_storeu_ps(row + 8, acc[r][1]);
  }
}

#endif

/* AVX-512 (F/BW/VL/DQ) kernels. Compiled with those flags; only called after cpu.c confirmed the
 * CPU has them and the OS saves ZMM state. */
#include <immintrin.h>

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

/* Codes widen to 16 bits; madd sums pairs of squares (or products) into 32-bit lanes. The tail is
 * a masked byte load (AVX-512BW), so no scalar loop. */
static inline __m512i load_u8x32(const uint8_t *p, size_t rest) {
  __mmask32 m = rest >= 32 ? (__mmask32)0xffffffffu : (__mmask32)((1u << rest) - 1u);
  return _mm512_cvtepu8_epi16(_mm256_maskz_loadu_epi8(m, p));
}

static uint32_t isa_u8_l2sq(const uint8_t *a, const uint8_t *b, size_t d) {
  __m512i s0 = _mm512_setzero_si512(), s1 = s0;
  size_t i = 0;
  for (; i + 64 <= d; i += 64) {
    __m512i e0 = _mm512_sub_epi16(load_u8x32(a + i, 32), load_u8x32(b + i, 32));
    __m512i e1 = _mm512_sub_epi16(load_u8x32(a + i + 32, 32), load_u8x32(b + i + 32, 32));
    s0 = _mm512_add_epi32(s0, _mm512_madd_epi16(e0, e0));
    s1 = _mm512_add_epi32(s1, _mm512_madd_epi16(e1, e1));
  }
  for (; i < d; i += 32) {
    __m512i e = _mm512_sub_epi16(load_u8x32(a + i, d - i), load_u8x32(b + i, d - i));
    s0 = _mm512_add_epi32(s0, _mm512_madd_epi16(e, e));
  }
  return hsum16_u32(_mm512_add_epi32(s0, s1));
}

static uint32_t isa_u8_dot(const uint8_t *a, const uint8_t *b, size_t d) {
  __m512i s0 = _mm512_setzero_si512(), s1 = s0;
  size_t i = 0;
  for (; i + 64 <= d; i += 64) {
    s0 = _mm512_add_epi32(s0, _mm512_madd_epi16(load_u8x32(a + i, 32), load_u8x32(b + i, 32)));
    s1 = _mm512_add_epi32(s1, _mm512_madd_epi16(load_u8x32(a + i + 32, 32),
                                                  load_u8x32(b + i + 32, 32)));
  }
  for (; i < d; i += 32)
    s0 = _mm512_add_epi32(s0, _mm512_madd_epi16(load_u8x32(a + i, d - i), load_u8x32(b + i, d - i)));
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

#define ISA_NAME "avx512"
#define ISA_TABLE vx_kernels_avx512
#include "kernels_template.h"

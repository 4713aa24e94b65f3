/* AVX-512 (F/BW/VL/DQ) kernels. Compiled with those flags; only called after cpu.c confirmed the
 * CPU has them and the OS saves ZMM state. The f32, f16, 4-bit and GEMM kernels are in
 * kernels_avx512.h, shared with avx512vnni. */
#include "kernels_avx512.h"

/* maddubs sums byte-product pairs into 16 bits (at most 2 * 15 * 15 each, nowhere near saturating),
 * the two halves add, and madd against ones widens pairs of those into 32 bits. */
static inline void nibble_dot(__m512i *s0, __m512i *s1, __m512i x0, __m512i y0, __m512i x1,
                              __m512i y1) {
  (void)s1;
  __m512i p = _mm512_add_epi16(_mm512_maddubs_epi16(x0, y0), _mm512_maddubs_epi16(x1, y1));
  *s0 = _mm512_add_epi32(*s0, _mm512_madd_epi16(p, _mm512_set1_epi16(1)));
}

/* Codes widen to 16 bits (for l2, into their differences); madd sums pairs of squares or
 * products into 32-bit lanes. Up to 32 bytes, masked (AVX-512BW): bytes past the end read 0. */
static inline __m512i u8_madd(__m512i s, const uint8_t *a, const uint8_t *b, size_t rest, int l2) {
  __mmask32 m = rest >= 32 ? (__mmask32)0xffffffffu : (__mmask32)((1u << rest) - 1u);
  __m512i x = _mm512_cvtepu8_epi16(_mm256_maskz_loadu_epi8(m, a));
  __m512i y = _mm512_cvtepu8_epi16(_mm256_maskz_loadu_epi8(m, b));
  if (l2) x = y = _mm512_sub_epi16(x, y);
  return _mm512_add_epi32(s, _mm512_madd_epi16(x, y));
}

static inline uint32_t isa_u8_head(const uint8_t *a, const uint8_t *b, size_t d, size_t *done,
                                   int l2) {
  __m512i s0 = _mm512_setzero_si512(), s1 = s0;
  size_t i = 0;
  for (; i + 64 <= d; i += 64) {
    s0 = u8_madd(s0, a + i, b + i, 32, l2);
    s1 = u8_madd(s1, a + i + 32, b + i + 32, 32, l2);
  }
  for (; i < d; i += 32) s0 = u8_madd(s0, a + i, b + i, d - i, l2);
  *done = d;
  return hsum16_u32(_mm512_add_epi32(s0, s1));
}

#define ISA_NAME "avx512"
#define ISA_TABLE vx_kernels_avx512
#include "kernels_template.h"

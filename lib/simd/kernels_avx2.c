/* AVX2 + FMA + F16C kernels. Compiled with -mavx2 -mfma -mf16c; only called after cpu.c confirmed
 * support. The f32, f16, 4-bit and GEMM kernels are in kernels_avx2.h, shared with avx2vnni. */
#include "kernels_avx2.h"

/* maddubs sums byte-product pairs into 16 bits (at most 2 * 15 * 15 each, nowhere near saturating),
 * the two halves add, and madd against ones widens pairs of those into 32 bits. */
static inline void nibble_dot(__m256i *s0, __m256i *s1, __m256i x0, __m256i y0, __m256i x1,
                              __m256i y1) {
  (void)s1;
  __m256i p = _mm256_add_epi16(_mm256_maddubs_epi16(x0, y0), _mm256_maddubs_epi16(x1, y1));
  *s0 = _mm256_add_epi32(*s0, _mm256_madd_epi16(p, _mm256_set1_epi16(1)));
}

/* Codes widen to 16 bits (for l2, into their differences); madd sums pairs of squares or
 * products into 32-bit lanes. */
static inline uint32_t isa_u8_head(const uint8_t *a, const uint8_t *b, size_t d, size_t *done,
                                   int l2) {
  __m256i s0 = _mm256_setzero_si256(), s1 = s0;
  size_t i = 0;
  for (; i + 32 <= d; i += 32) {
    __m256i x0 = _mm256_cvtepu8_epi16(_mm_loadu_si128((const void *)(a + i)));
    __m256i y0 = _mm256_cvtepu8_epi16(_mm_loadu_si128((const void *)(b + i)));
    __m256i x1 = _mm256_cvtepu8_epi16(_mm_loadu_si128((const void *)(a + i + 16)));
    __m256i y1 = _mm256_cvtepu8_epi16(_mm_loadu_si128((const void *)(b + i + 16)));
    if (l2) {
      x0 = y0 = _mm256_sub_epi16(x0, y0);
      x1 = y1 = _mm256_sub_epi16(x1, y1);
    }
    s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(x0, y0));
    s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(x1, y1));
  }
  if (i + 16 <= d) { /* one 16-byte step more, so that d = 784 (Fashion-MNIST) leaves no tail */
    __m256i x = _mm256_cvtepu8_epi16(_mm_loadu_si128((const void *)(a + i)));
    __m256i y = _mm256_cvtepu8_epi16(_mm_loadu_si128((const void *)(b + i)));
    if (l2) x = y = _mm256_sub_epi16(x, y);
    s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(x, y));
    i += 16;
  }
  *done = i;
  return hsum8_epi32(_mm256_add_epi32(s0, s1));
}

#define ISA_NAME "avx2"
#define ISA_TABLE vx_kernels_avx2
#include "kernels_template.h"

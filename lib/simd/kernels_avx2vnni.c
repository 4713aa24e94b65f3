/* AVX2 + AVX-VNNI kernels: the avx2 table with its byte kernels on vpdpbusd, which sums four byte
 * products into each 32-bit lane in one instruction. Compiled with -mavx2 -mfma -mf16c -mavxvnni;
 * only called after cpu.c found AVX-VNNI. The rest is kernels_avx2.h, as in the avx2 table. */
#include "kernels_avx2.h"

/* Nibbles are below 128, so vpdpbusd's signed operand takes them as they are. */
static inline void nibble_dot(__m256i *s0, __m256i *s1, __m256i x0, __m256i y0, __m256i x1,
                              __m256i y1) {
  *s0 = _mm256_dpbusd_avx_epi32(*s0, x0, y0);
  *s1 = _mm256_dpbusd_avx_epi32(*s1, x1, y1);
}

/* vpdpbusd multiplies unsigned bytes by signed ones, so y goes in with its top bit flipped, which
 * reads as y - 128: s gathers x * (y - 128) in 32-bit lanes and sx the plain sums of x (vpsadbw,
 * in 64-bit lanes), and x * y = x * (y - 128) + 128 * x. No lane can overflow for d <= 65536, and
 * the final sum is taken modulo 2^32, where the true one fits. */
static inline void u8_step(__m256i *s, __m256i *sx, __m256i x, __m256i y) {
  *s = _mm256_dpbusd_avx_epi32(*s, x, _mm256_xor_si256(y, _mm256_set1_epi8((char)0x80)));
  *sx = _mm256_add_epi64(*sx, _mm256_sad_epu8(x, _mm256_setzero_si256()));
}

/* For l2 both operands are |a - b| (saturating differences either way round, one of them 0). */
static inline void u8_block(__m256i *s, __m256i *sx, const uint8_t *a, const uint8_t *b, int l2) {
  __m256i x = _mm256_loadu_si256((const void *)a), y = _mm256_loadu_si256((const void *)b);
  if (l2) x = y = _mm256_or_si256(_mm256_subs_epu8(x, y), _mm256_subs_epu8(y, x));
  u8_step(s, sx, x, y);
}

static inline uint32_t isa_u8_head(const uint8_t *a, const uint8_t *b, size_t d, size_t *done,
                                   int l2) {
  __m256i s0 = _mm256_setzero_si256(), s1 = s0, sx = s0;
  size_t i = 0;
  for (; i + 64 <= d; i += 64) { /* two chains: vpdpbusd's latency is several cycles */
    u8_block(&s0, &sx, a + i, b + i, l2);
    u8_block(&s1, &sx, a + i + 32, b + i + 32, l2);
  }
  if (i + 32 <= d) {
    u8_block(&s0, &sx, a + i, b + i, l2);
    i += 32;
  }
  *done = i;
  /* sx's 64-bit lanes each hold less than 2^32, so summing its 32-bit halves sums them */
  return hsum8_epi32(_mm256_add_epi32(s0, s1)) + 128u * hsum8_epi32(sx);
}

#define ISA_NAME "avx2vnni"
#define ISA_TABLE vx_kernels_avx2vnni
#include "kernels_template.h"

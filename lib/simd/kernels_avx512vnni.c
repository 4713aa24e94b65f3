/* AVX-512 + AVX512-VNNI kernels: the avx512 table with its byte kernels on vpdpbusd, which sums
 * four byte products into each 32-bit lane in one instruction. Compiled with the avx512 flags and
 * -mavx512vnni; only called after cpu.c found AVX512-VNNI. The rest is kernels_avx512.h, as in the
 * avx512 table. */
#include "kernels_avx512.h"

/* Nibbles are below 128, so vpdpbusd's signed operand takes them as they are. */
static inline void nibble_dot(__m512i *s0, __m512i *s1, __m512i x0, __m512i y0, __m512i x1,
                              __m512i y1) {
  *s0 = _mm512_dpbusd_epi32(*s0, x0, y0);
  *s1 = _mm512_dpbusd_epi32(*s1, x1, y1);
}

/* vpdpbusd multiplies unsigned bytes by signed ones, so y goes in with its top bit flipped, which
 * reads as y - 128: s gathers x * (y - 128) in 32-bit lanes and sx the plain sums of x (vpsadbw,
 * in 64-bit lanes), and x * y = x * (y - 128) + 128 * x. For l2 both operands are |a - b|
 * (saturating differences either way round, one of them 0). Up to 64 bytes, masked: bytes past the
 * end read 0 and add nothing. No lane can overflow for d <= 65536, and the final sum is taken
 * modulo 2^32, where the true one fits. */
static inline void u8_step(__m512i *s, __m512i *sx, const uint8_t *a, const uint8_t *b,
                           size_t rest, int l2) {
  __mmask64 m = rest >= 64 ? ~(__mmask64)0 : ((__mmask64)1 << rest) - 1;
  __m512i x = _mm512_maskz_loadu_epi8(m, a), y = _mm512_maskz_loadu_epi8(m, b);
  if (l2) x = y = _mm512_or_si512(_mm512_subs_epu8(x, y), _mm512_subs_epu8(y, x));
  *s = _mm512_dpbusd_epi32(*s, x, _mm512_xor_si512(y, _mm512_set1_epi8((char)0x80)));
  *sx = _mm512_add_epi64(*sx, _mm512_sad_epu8(x, _mm512_setzero_si512()));
}

static inline uint32_t isa_u8_head(const uint8_t *a, const uint8_t *b, size_t d, size_t *done,
                                   int l2) {
  __m512i s0 = _mm512_setzero_si512(), s1 = s0, sx = s0;
  size_t i = 0;
  for (; i + 128 <= d; i += 128) { /* two chains: vpdpbusd's latency is several cycles */
    u8_step(&s0, &sx, a + i, b + i, 64, l2);
    u8_step(&s1, &sx, a + i + 64, b + i + 64, 64, l2);
  }
  for (; i < d; i += 64) u8_step(&s0, &sx, a + i, b + i, d - i, l2);
  *done = d;
  /* sx's 64-bit lanes each hold less than 2^32, so summing its 32-bit halves sums them */
  return hsum16_u32(_mm512_add_epi32(s0, s1)) + 128u * hsum16_u32(sx);
}

#define ISA_NAME "avx512vnni"
#define ISA_TABLE vx_kernels_avx512vnni
#include "kernels_template.h"

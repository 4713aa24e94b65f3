/* AArch64 Advanced SIMD (NEON) kernels; built only for aarch64, where NEON is mandatory. */
#include <arm_neon.h>

#include "simd_internal.h"

static inline float isa_dot(const float *a, const float *b, size_t d) {
  float32x4_t s0 = vdupq_n_f32(0), s1 = s0, s2 = s0, s3 = s0;
  size_t i = 0;
  for (; i + 16 <= d; i += 16) {
    s0 = vfmaq_f32(s0, vld1q_f32(a + i), vld1q_f32(b + i));
    s1 = vfmaq_f32(s1, vld1q_f32(a + i + 4), vld1q_f32(b + i + 4));
    s2 = vfmaq_f32(s2, vld1q_f32(a + i + 8), vld1q_f32(b + i + 8));
    s3 = vfmaq_f32(s3, vld1q_f32(a + i + 12), vld1q_f32(b + i + 12));
  }
  for (; i + 4 <= d; i += 4) s0 = vfmaq_f32(s0, vld1q_f32(a + i), vld1q_f32(b + i));
  float s = vaddvq_f32(vaddq_f32(vaddq_f32(s0, s1), vaddq_f32(s2, s3)));
  for (; i < d; i++) s += a[i] * b[i];
  return s;
}

static inline float isa_l2sq(const float *a, const float *b, size_t d) {
  float32x4_t s0 = vdupq_n_f32(0), s1 = s0, s2 = s0, s3 = s0;
  size_t i = 0;
  for (; i + 16 <= d; i += 16) {
    float32x4_t e0 = vsubq_f32(vld1q_f32(a + i), vld1q_f32(b + i));
    float32x4_t e1 = vsubq_f32(vld1q_f32(a + i + 4), vld1q_f32(b + i + 4));
    float32x4_t e2 = vsubq_f32(vld1q_f32(a + i + 8), vld1q_f32(b + i + 8));
    float32x4_t e3 = vsubq_f32(vld1q_f32(a + i + 12), vld1q_f32(b + i + 12));
    s0 = vfmaq_f32(s0, e0, e0);
    s1 = vfmaq_f32(s1, e1, e1);
    s2 = vfmaq_f32(s2, e2, e2);
    s3 = vfmaq_f32(s3, e3, e3);
  }
  for (; i + 4 <= d; i += 4) {
    float32x4_t e = vsubq_f32(vld1q_f32(a + i), vld1q_f32(b + i));
    s0 = vfmaq_f32(s0, e, e);
  }
  float s = vaddvq_f32(vaddq_f32(vaddq_f32(s0, s1), vaddq_f32(s2, s3)));
  for (; i < d; i++) s += (a[i] - b[i]) * (a[i] - b[i]);
  return s;
}

static inline void isa_dot_norms(const float *a, const float *b, size_t d, float *ab, float *aa,
                                 float *bb) {
  float32x4_t sab = vdupq_n_f32(0), saa = sab, sbb = sab;
  size_t i = 0;
  for (; i + 4 <= d; i += 4) {
    float32x4_t x = vld1q_f32(a + i), y = vld1q_f32(b + i);
    sab = vfmaq_f32(sab, x, y);
    saa = vfmaq_f32(saa, x, x);
    sbb = vfmaq_f32(sbb, y, y);
  }
  float tab = vaddvq_f32(sab), taa = vaddvq_f32(saa), tbb = vaddvq_f32(sbb);
  for (; i < d; i++) {
    tab += a[i] * b[i];
    taa += a[i] * a[i];
    tbb += b[i] * b[i];
  }
  *ab = tab;
  *aa = taa;
  *bb = tbb;
}

/* Byte products widen to 16 bits (255 * 255 fits) and pairs of them into 32. For l2 both operands
 * are the absolute differences, bytes too. */
static inline uint32_t isa_u8_head(const uint8_t *a, const uint8_t *b, size_t d, size_t *done,
                                   int l2) {
  uint32x4_t s0 = vdupq_n_u32(0), s1 = s0;
  size_t i = 0;
  for (; i + 16 <= d; i += 16) {
    uint8x16_t x = vld1q_u8(a + i), y = vld1q_u8(b + i);
    if (l2) x = y = vabdq_u8(x, y);
    s0 = vpadalq_u16(s0, vmull_u8(vget_low_u8(x), vget_low_u8(y)));
    s1 = vpadalq_u16(s1, vmull_high_u8(x, y));
  }
  *done = i;
  return vaddvq_u32(vaddq_u32(s0, s1));
}

/* 16 bytes of 4-bit codes: the nibbles split, then for l2 their absolute differences. Products
 * are at most 15 * 15, so four of them share a 16-bit lane before widening into s. */
static inline uint32x4_t u4_step(uint32x4_t s, uint8x16_t x, uint8x16_t y, int l2) {
  const uint8x16_t low = vdupq_n_u8(0x0f);
  uint8x16_t x0 = vandq_u8(x, low), y0 = vandq_u8(y, low);
  uint8x16_t x1 = vshrq_n_u8(x, 4), y1 = vshrq_n_u8(y, 4);
  if (l2) {
    x0 = y0 = vabdq_u8(x0, y0);
    x1 = y1 = vabdq_u8(x1, y1);
  }
  uint16x8_t p = vmull_u8(vget_low_u8(x0), vget_low_u8(y0));
  p = vmlal_high_u8(p, x0, y0);
  p = vmlal_u8(p, vget_low_u8(x1), vget_low_u8(y1));
  p = vmlal_high_u8(p, x1, y1);
  return vpadalq_u16(s, p);
}

/* Whole 16-byte blocks, then one of 8 (zero-extended: zero bytes add nothing). */
static inline uint32_t isa_u4_head(const uint8_t *a, const uint8_t *b, size_t n, size_t *done,
                                   int l2) {
  uint32x4_t s = vdupq_n_u32(0);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) s = u4_step(s, vld1q_u8(a + i), vld1q_u8(b + i), l2);
  if (i + 8 <= n) {
    s = u4_step(s, vcombine_u8(vld1_u8(a + i), vdup_n_u8(0)),
                vcombine_u8(vld1_u8(b + i), vdup_n_u8(0)), l2);
    i += 8;
  }
  *done = i;
  return vaddvq_u32(s);
}

/* Four f16 values at any alignment, decoded exactly (fcvtl). */
static inline float32x4_t load_f16x4(const uint16_t *p) {
  return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p)));
}

static inline size_t isa_f16_to_f32_head(const uint16_t *in, float *out, size_t n) {
  size_t i = 0;
  for (; i + 4 <= n; i += 4) vst1q_f32(out + i, load_f16x4(in + i));
  return i;
}

/* Clamped first: fcvtn rounds (to nearest even, the FPCR default) what lies past +-65504 to
 * infinity. */
static inline size_t isa_f32_to_f16_head(const float *in, uint16_t *out, size_t n) {
  const float32x4_t lo = vdupq_n_f32(-65504.0f), hi = vdupq_n_f32(65504.0f);
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    float32x4_t x = vminq_f32(vmaxq_f32(vld1q_f32(in + i), lo), hi);
    vst1_u16(out + i, vreinterpret_u16_f16(vcvt_f16_f32(x)));
  }
  return i;
}

static inline float32x4_t f16_step(float32x4_t s, const float *q, const uint16_t *row, int l2) {
  float32x4_t x = vld1q_f32(q), y = load_f16x4(row);
  if (l2) x = y = vsubq_f32(x, y);
  return vfmaq_f32(s, x, y);
}

static inline float isa_f16_head(const float *q, const uint16_t *row, size_t d, size_t *done,
                                 int l2) {
  float32x4_t s0 = vdupq_n_f32(0), s1 = s0, s2 = s0, s3 = s0;
  size_t i = 0;
  for (; i + 16 <= d; i += 16) {
    s0 = f16_step(s0, q + i, row + i, l2);
    s1 = f16_step(s1, q + i + 4, row + i + 4, l2);
    s2 = f16_step(s2, q + i + 8, row + i + 8, l2);
    s3 = f16_step(s3, q + i + 12, row + i + 12, l2);
  }
  for (; i + 4 <= d; i += 4) s0 = f16_step(s0, q + i, row + i, l2);
  *done = i;
  return vaddvq_f32(vaddq_f32(vaddq_f32(s0, s1), vaddq_f32(s2, s3)));
}

/* 8 rows x 8 columns: 16 accumulators. */
#define ISA_GEMM_MR 8
#define ISA_GEMM_NR 8

static void isa_gemm_tile(size_t kc, const float *a, size_t lda, const float *bp, float *c,
                          size_t ldc, int accumulate) {
  float32x4_t acc[ISA_GEMM_MR][2];
  for (int r = 0; r < ISA_GEMM_MR; r++) acc[r][0] = acc[r][1] = vdupq_n_f32(0);
  for (size_t k = 0; k < kc; k++) {
    float32x4_t b0 = vld1q_f32(bp + k * ISA_GEMM_NR), b1 = vld1q_f32(bp + k * ISA_GEMM_NR + 4);
    for (int r = 0; r < ISA_GEMM_MR; r++) {
      float32x4_t x = vdupq_n_f32(a[r * lda + k]);
      acc[r][0] = vfmaq_f32(acc[r][0], x, b0);
      acc[r][1] = vfmaq_f32(acc[r][1], x, b1);
    }
  }
  for (int r = 0; r < ISA_GEMM_MR; r++) {
    float *row = c + r * ldc;
    if (accumulate) {
      acc[r][0] = vaddq_f32(acc[r][0], vld1q_f32(row));
      acc[r][1] = vaddq_f32(acc[r][1], vld1q_f32(row + 4));
    }
    vst1q_f32(row, acc[r][0]);
    vst1q_f32(row + 4, acc[r][1]);
  }
}

#define ISA_NAME "neon"
#define ISA_TABLE vx_kernels_neon
#include "kernels_template.h"

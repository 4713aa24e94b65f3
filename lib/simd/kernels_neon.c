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

/* Differences widen to 16 bits (|e| <= 255 fits a signed lane); squares accumulate in 32 bits. */
static uint32_t isa_u8_l2sq(const uint8_t *a, const uint8_t *b, size_t d) {
  uint32x4_t s0 = vdupq_n_u32(0), s1 = s0;
  size_t i = 0;
  for (; i + 16 <= d; i += 16) {
    uint8x16_t x = vld1q_u8(a + i), y = vld1q_u8(b + i);
    int16x8_t lo = vreinterpretq_s16_u16(vsubl_u8(vget_low_u8(x), vget_low_u8(y)));
    int16x8_t hi = vreinterpretq_s16_u16(vsubl_u8(vget_high_u8(x), vget_high_u8(y)));
    s0 = vaddq_u32(s0, vreinterpretq_u32_s32(vmull_s16(vget_low_s16(lo), vget_low_s16(lo))));
    s1 = vaddq_u32(s1, vreinterpretq_u32_s32(vmull_high_s16(lo, lo)));
    s0 = vaddq_u32(s0, vreinterpretq_u32_s32(vmull_s16(vget_low_s16(hi), vget_low_s16(hi))));
    s1 = vaddq_u32(s1, vreinterpretq_u32_s32(vmull_high_s16(hi, hi)));
  }
  uint32_t s = vaddvq_u32(vaddq_u32(s0, s1));
  for (; i < d; i++) {
    int e = (int)a[i] - (int)b[i];
    s += (uint32_t)(e * e);
  }
  return s;
}

static uint32_t isa_u8_dot(const uint8_t *a, const uint8_t *b, size_t d) {
  uint32x4_t s = vdupq_n_u32(0);
  size_t i = 0;
  for (; i + 16 <= d; i += 16) {
    uint8x16_t x = vld1q_u8(a + i), y = vld1q_u8(b + i);
    s = vpadalq_u16(s, vmull_u8(vget_low_u8(x), vget_low_u8(y)));
    s = vpadalq_u16(s, vmull_high_u8(x, y));
  }
  uint32_t t = vaddvq_u32(s);
  for (; i < d; i++) t += (uint32_t)a[i] * b[i];
  return t;
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

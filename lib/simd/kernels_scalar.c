/* Portable reference kernels: the baseline every other instruction set is tested against. */
#include "simd_internal.h"

static inline float isa_dot(const float *a, const float *b, size_t d) {
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i = 0;
  for (; i + 4 <= d; i += 4) {
    s0 += a[i] * b[i];
    s1 += a[i + 1] * b[i + 1];
    s2 += a[i + 2] * b[i + 2];
    s3 += a[i + 3] * b[i + 3];
  }
  for (; i < d; i++) s0 += a[i] * b[i];
  return (s0 + s1) + (s2 + s3);
}

static inline float isa_l2sq(const float *a, const float *b, size_t d) {
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i = 0;
  for (; i + 4 <= d; i += 4) {
    float e0 = a[i] - b[i], e1 = a[i + 1] - b[i + 1];
    float e2 = a[i + 2] - b[i + 2], e3 = a[i + 3] - b[i + 3];
    s0 += e0 * e0;
    s1 += e1 * e1;
    s2 += e2 * e2;
    s3 += e3 * e3;
  }
  for (; i < d; i++) s0 += (a[i] - b[i]) * (a[i] - b[i]);
  return (s0 + s1) + (s2 + s3);
}

static inline void isa_dot_norms(const float *a, const float *b, size_t d, float *ab, float *aa,
                                 float *bb) {
  float sab = 0, saa = 0, sbb = 0;
  for (size_t i = 0; i < d; i++) {
    sab += a[i] * b[i];
    saa += a[i] * a[i];
    sbb += b[i] * b[i];
  }
  *ab = sab;
  *aa = saa;
  *bb = sbb;
}

/* No vectors here: the shared loops in kernels_template.h do all the f16 and byte-code work. */
static inline size_t isa_f16_to_f32_head(const uint16_t *in, float *out, size_t n) {
  (void)in, (void)out, (void)n;
  return 0;
}

static inline size_t isa_f32_to_f16_head(const float *in, uint16_t *out, size_t n) {
  (void)in, (void)out, (void)n;
  return 0;
}

static inline float isa_f16_head(const float *q, const uint16_t *row, size_t d, size_t *done,
                                 int l2) {
  (void)q, (void)row, (void)d, (void)l2;
  *done = 0;
  return 0;
}

static inline uint32_t isa_u8_head(const uint8_t *a, const uint8_t *b, size_t d, size_t *done,
                                   int l2) {
  (void)a, (void)b, (void)d, (void)l2;
  *done = 0;
  return 0;
}

static inline uint32_t isa_u4_head(const uint8_t *a, const uint8_t *b, size_t n, size_t *done,
                                   int l2) {
  (void)a, (void)b, (void)n, (void)l2;
  *done = 0;
  return 0;
}

#define ISA_GEMM_MR 4
#define ISA_GEMM_NR 8

static void isa_gemm_tile(size_t kc, const float *a, size_t lda, const float *bp, float *c,
                          size_t ldc, int accumulate) {
  float acc[ISA_GEMM_MR][ISA_GEMM_NR] = {{0}};
  for (size_t k = 0; k < kc; k++)
    for (int r = 0; r < ISA_GEMM_MR; r++)
      for (int j = 0; j < ISA_GEMM_NR; j++) acc[r][j] += a[r * lda + k] * bp[k * ISA_GEMM_NR + j];
  for (int r = 0; r < ISA_GEMM_MR; r++)
    for (int j = 0; j < ISA_GEMM_NR; j++)
      c[r * ldc + j] = accumulate ? c[r * ldc + j] + acc[r][j] : acc[r][j];
}

#define ISA_NAME "scalar"
#define ISA_TABLE vx_kernels_scalar
#include "kernels_template.h"

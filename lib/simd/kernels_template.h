/* Builds a vx_kernels table from one instruction set's primitives. Included once by each ISA's
 * file, after it has defined, as static inline functions compiled with that ISA's flags:
 *   float isa_dot(const float *a, const float *b, size_t d);
 *   float isa_l2sq(const float *a, const float *b, size_t d);
 *   void  isa_dot_norms(const float *a, const float *b, size_t d, float *ab, float *aa, float *bb);
 *   uint32_t isa_u8_l2sq(const uint8_t *a, const uint8_t *b, size_t d);
 *   uint32_t isa_u8_dot(const uint8_t *a, const uint8_t *b, size_t d);
 *   void  isa_gemm_tile(size_t kc, const float *a, size_t lda, const float *bp, float *c,
 *                       size_t ldc, int accumulate);   (ISA_GEMM_MR rows of a, ISA_GEMM_NR panel)
 * and the macros ISA_NAME (a string) and ISA_TABLE (the table's symbol). The shared loops live here
 * so that every ISA runs the same logic around its own arithmetic. */
#include <math.h>

static inline float isa_cosine_from(float ab, float aa, float bb) {
  if (aa <= 0.0f || bb <= 0.0f) return 1.0f; /* a zero vector has cosine 0 to everything */
  double d = 1.0 - (double)ab / sqrt((double)aa * (double)bb);
  return d < 0.0 ? 0.0f : (float)d;
}

static float isa_cosine(const float *a, const float *b, size_t d) {
  float ab, aa, bb;
  isa_dot_norms(a, b, d, &ab, &aa, &bb);
  return isa_cosine_from(ab, aa, bb);
}

static float isa_dot_fn(const float *a, const float *b, size_t d) { return isa_dot(a, b, d); }
static float isa_l2sq_fn(const float *a, const float *b, size_t d) { return isa_l2sq(a, b, d); }

static void isa_l2sq_many(const float *q, const float *base, size_t stride, size_t n, size_t d,
                          float *out) {
  for (size_t i = 0; i < n; i++) out[i] = isa_l2sq(q, base + i * stride, d);
}

static void isa_dot_many(const float *q, const float *base, size_t stride, size_t n, size_t d,
                         float *out) {
  for (size_t i = 0; i < n; i++) out[i] = isa_dot(q, base + i * stride, d);
}

static void isa_cosine_many(const float *q, const float *base, size_t stride, size_t n, size_t d,
                            float *out) {
  for (size_t i = 0; i < n; i++) out[i] = isa_cosine(q, base + i * stride, d);
}

const vx_kernels ISA_TABLE = {
    .isa = ISA_NAME,
    .l2sq = isa_l2sq_fn,
    .dot = isa_dot_fn,
    .cosine = isa_cosine,
    .l2sq_many = isa_l2sq_many,
    .dot_many = isa_dot_many,
    .cosine_many = isa_cosine_many,
    .u8_l2sq = isa_u8_l2sq,
    .u8_dot = isa_u8_dot,
    .gemm_mr = ISA_GEMM_MR,
    .gemm_nr = ISA_GEMM_NR,
    .gemm_tile = isa_gemm_tile,
};

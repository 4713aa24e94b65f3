/* Builds a vx_kernels table from one instruction set's primitives. Included once by each ISA's
 * file, after it has defined, as static inline functions compiled with that ISA's flags:
 *   float isa_dot(const float *a, const float *b, size_t d);
 *   float isa_l2sq(const float *a, const float *b, size_t d);
 *   void  isa_dot_norms(const float *a, const float *b, size_t d, float *ab, float *aa, float *bb);
 *   void  isa_gemm_tile(size_t kc, const float *a, size_t lda, const float *bp, float *c,
 *                       size_t ldc, int accumulate);   (ISA_GEMM_MR rows of a, ISA_GEMM_NR panel)
 * and the heads, which do what whole vectors can from the start of the data and leave the rest
 * (none, where masked loads reach the end) to the shared loops here:
 *   size_t isa_f16_to_f32_head(const uint16_t *in, float *out, size_t n);   returns how many done
 *   size_t isa_f32_to_f16_head(const float *in, uint16_t *out, size_t n);   the same, clamped
 *   float isa_f16_head(const float *q, const uint16_t *row, size_t d, size_t *done, int l2);
 *   uint32_t isa_u8_head(const uint8_t *a, const uint8_t *b, size_t d, size_t *done, int l2);
 *   uint32_t isa_u4_head(const uint8_t *a, const uint8_t *b, size_t n, size_t *done, int l2);
 * (the sum of squared differences when l2, else of products, over the first *done elements, for
 * u4 the first *done of n whole bytes; exact for the codes; l2 is a constant at each call, so its
 * branches fold away), and the macros ISA_NAME (a string) and ISA_TABLE (the table's symbol). The
 * shared loops live here so that every ISA runs the same logic around its own arithmetic. */
#include <math.h>
#include <string.h>

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

/* IEEE binary16 in software: the scalar table's conversions and the other tables' tails. Decoding
 * is exact; a subnormal is its 10-bit mantissa times 2^-24, which f32 holds exactly. */
static inline float isa_f16_decode(uint16_t h) {
  uint32_t exp = (uint32_t)h >> 10 & 0x1fu, man = h & 0x3ffu, bits;
  if (exp == 0) {
    float m = (float)man * 0x1p-24f;
    memcpy(&bits, &m, sizeof bits);
  } else {
    bits = (exp == 31 ? 0xffu : exp + 112) << 23 | man << 13; /* rebias 15 -> 127 */
  }
  bits |= (uint32_t)(h & 0x8000u) << 16;
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}

/* Round to nearest, ties to even, on the bits; +-65504 from 65504 up (vx_kernels.f32_to_f16). */
static inline uint16_t isa_f16_encode(float f) {
  uint32_t x;
  memcpy(&x, &f, sizeof x);
  uint16_t sign = (uint16_t)(x >> 16 & 0x8000u);
  uint32_t a = x & 0x7fffffffu;
  if (a >= 0x477fe000u) return sign | 0x7bffu; /* 65504.0f */
  if (a >= 0x38800000u) {                      /* 2^-14 up: normal */
    a -= 112u << 23;
    /* drop 13 mantissa bits, rounding up past half and at half when odd; a carry out of the
     * mantissa correctly bumps the exponent */
    return sign | (uint16_t)((a + 0xfffu + (a >> 13 & 1u)) >> 13);
  }
  if (a <= 0x33000000u) return sign; /* up to 2^-25, the tie between 0 and 2^-24: to even 0 */
  /* subnormal: the value m * 2^(e - 150) is q * 2^-24 with q = m >> (126 - e), then rounded */
  uint32_t shift = 126 - (a >> 23), m = (a & 0x7fffffu) | 0x800000u;
  uint32_t q = m >> shift, rest = m & ((1u << shift) - 1), half = 1u << (shift - 1);
  return sign | (uint16_t)(q + (rest > half || (rest == half && (q & 1u))));
}

static void isa_f16_to_f32(const uint16_t *in, float *out, size_t n) {
  for (size_t i = isa_f16_to_f32_head(in, out, n); i < n; i++) out[i] = isa_f16_decode(in[i]);
}

static void isa_f32_to_f16(const float *in, uint16_t *out, size_t n) {
  for (size_t i = isa_f32_to_f16_head(in, out, n); i < n; i++) out[i] = isa_f16_encode(in[i]);
}

static inline float isa_f16_sum(const float *q, const uint16_t *row, size_t d, int l2) {
  size_t i;
  float s = isa_f16_head(q, row, d, &i, l2);
  for (; i < d; i++) {
    float x = q[i], y = isa_f16_decode(row[i]);
    s += l2 ? (x - y) * (x - y) : x * y;
  }
  return s;
}

static float isa_f16_l2sq(const float *q, const uint16_t *row, size_t d) {
  return isa_f16_sum(q, row, d, 1);
}

static float isa_f16_dot(const float *q, const uint16_t *row, size_t d) {
  return isa_f16_sum(q, row, d, 0);
}

static inline uint32_t isa_code_term(int x, int y, int l2) {
  return (uint32_t)(l2 ? (x - y) * (x - y) : x * y);
}

static inline uint32_t isa_u8_sum(const uint8_t *a, const uint8_t *b, size_t d, int l2) {
  size_t i;
  uint32_t s = isa_u8_head(a, b, d, &i, l2);
  for (; i < d; i++) s += isa_code_term(a[i], b[i], l2);
  return s;
}

static uint32_t isa_u8_l2sq(const uint8_t *a, const uint8_t *b, size_t d) {
  return isa_u8_sum(a, b, d, 1);
}

static uint32_t isa_u8_dot(const uint8_t *a, const uint8_t *b, size_t d) {
  return isa_u8_sum(a, b, d, 0);
}

/* 4-bit codes: the head covers whole bytes from the start, these loops the remaining ones and an
 * odd d's last coordinate, the low nibble of byte d / 2 (its high nibble is padding). */
static inline uint32_t isa_u4_sum(const uint8_t *a, const uint8_t *b, size_t d, int l2) {
  size_t i;
  uint32_t s = isa_u4_head(a, b, d / 2, &i, l2);
  for (; i < d / 2; i++)
    s += isa_code_term(a[i] & 15, b[i] & 15, l2) + isa_code_term(a[i] >> 4, b[i] >> 4, l2);
  if (d & 1) s += isa_code_term(a[d / 2] & 15, b[d / 2] & 15, l2);
  return s;
}

static uint32_t isa_u4_l2sq(const uint8_t *a, const uint8_t *b, size_t d) {
  return isa_u4_sum(a, b, d, 1);
}

static uint32_t isa_u4_dot(const uint8_t *a, const uint8_t *b, size_t d) {
  return isa_u4_sum(a, b, d, 0);
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
    .u4_l2sq = isa_u4_l2sq,
    .u4_dot = isa_u4_dot,
    .f16_l2sq = isa_f16_l2sq,
    .f16_dot = isa_f16_dot,
    .f32_to_f16 = isa_f32_to_f16,
    .f16_to_f32 = isa_f16_to_f32,
    .gemm_mr = ISA_GEMM_MR,
    .gemm_nr = ISA_GEMM_NR,
    .gemm_tile = isa_gemm_tile,
};

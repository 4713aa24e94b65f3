/* Every kernel of every instruction set this CPU runs, against the scalar reference or an exact
 * one: dims 1..1100 (0..300 and up to 65536 for the byte and f16 kernels), unaligned pointers,
 * strided rows, the blocked micro-kernel, f16 conversion (all 65536 values, every halfway case).
 * Also the load-time choice. A VNNI table is tested wherever the CPU has it (vx_simd_available). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "simd/cpu_internal.h"
#include "simd/simd_internal.h"
#include "test_util.h"

#define MAX_DIM 1100

/* Tolerance for a sum of d products whose magnitudes add up to `scale`. */
static double tol(double scale) { return 2e-6 * scale + 1e-6; }

static void test_one_to_one_parity(void **state) {
  (void)state;
  size_t n;
  const vx_kernels *const *tabs = vx_simd_available(&n);
  float *a = test_random_vectors(MAX_DIM + 8, 1, 1), *b = test_random_vectors(MAX_DIM + 8, 1, 2);
  const vx_kernels *ref = &vx_kernels_scalar;
  for (size_t t = 0; t < n; t++) {
    for (size_t d = 1; d <= MAX_DIM; d++) {
      size_t oa = d % 4, ob = (d / 4) % 3; /* misaligned by 0..3 and 0..2 floats */
      const float *x = a + oa, *y = b + ob;
      double sab = 0, sl2 = 0;
      for (size_t i = 0; i < d; i++) {
        sab += fabs((double)x[i] * y[i]);
        sl2 += ((double)x[i] - y[i]) * ((double)x[i] - y[i]);
      }
      assert_float_equal(tabs[t]->dot(x, y, d), ref->dot(x, y, d), tol(sab));
      assert_float_equal(tabs[t]->l2sq(x, y, d), ref->l2sq(x, y, d), tol(sl2));
      assert_float_equal(tabs[t]->cosine(x, y, d), ref->cosine(x, y, d), 1e-5);
      assert_float_equal(tabs[t]->cosine(x, y, d), test_distance(VEXFS_METRIC_COSINE, x, y, d), 1e-5);
    }
  }
  free(a);
  free(b);
}

static void test_one_to_many_parity(void **state) {
  (void)state;
  size_t n;
  const vx_kernels *const *tabs = vx_simd_available(&n);
  enum { ROWS = 9 };
  const size_t dims[] = {1, 3, 15, 16, 17, 63, 96, 128, 129, 384, 767, 768, 1100};
  for (size_t di = 0; di < sizeof dims / sizeof *dims; di++) {
    size_t d = dims[di], stride = d + 5;
    float *base = test_random_vectors(ROWS * stride + 1, 1, d);
    float *q = test_random_vectors(d + 1, 1, d + 1);
    for (size_t t = 0; t < n; t++) {
      float got[ROWS];
      tabs[t]->l2sq_many(q + 1, base + 1, stride, ROWS, d, got);
      for (size_t i = 0; i < ROWS; i++)
        assert_float_equal(got[i], vx_kernels_scalar.l2sq(q + 1, base + 1 + i * stride, d), tol(4.0 * d));
      tabs[t]->dot_many(q + 1, base + 1, stride, ROWS, d, got);
      for (size_t i = 0; i < ROWS; i++)
        assert_float_equal(got[i], vx_kernels_scalar.dot(q + 1, base + 1 + i * stride, d), tol(d));
      tabs[t]->cosine_many(q + 1, base + 1, stride, ROWS, d, got);
      for (size_t i = 0; i < ROWS; i++)
        assert_float_equal(got[i], vx_kernels_scalar.cosine(q + 1, base + 1 + i * stride, d), 1e-5);
    }
    free(base);
    free(q);
  }
}

static void test_gemm_tile_parity(void **state) {
  (void)state;
  size_t n;
  const vx_kernels *const *tabs = vx_simd_available(&n);
  const size_t kcs[] = {1, 2, 7, 64, 196, 256};
  for (size_t t = 0; t < n; t++) {
    const vx_kernels *k = tabs[t];
    size_t mr = k->gemm_mr, nr = k->gemm_nr, lda = 261, ldc = nr + 3;
    float *a = test_random_vectors(mr * lda + 1, 1, 31 + t);
    float *bp = aligned_alloc(64, 256 * nr * sizeof(float));
    float *c = malloc(mr * ldc * sizeof *c);
    for (size_t i = 0; i < 256 * nr; i++) bp[i] = (float)i / 1000.0f - 3.0f;
    for (size_t ki = 0; ki < sizeof kcs / sizeof *kcs; ki++) {
      size_t kc = kcs[ki];
      for (int accumulate = 0; accumulate <= 1; accumulate++) {
        for (size_t i = 0; i < mr * ldc; i++) c[i] = 0.5f;
        k->gemm_tile(kc, a + 1, lda, bp, c, ldc, accumulate);
        for (size_t r = 0; r < mr; r++)
          for (size_t j = 0; j < nr; j++) {
            double want = accumulate ? 0.5 : 0, scale = 0;
            for (size_t kk = 0; kk < kc; kk++) {
              want += (double)a[1 + r * lda + kk] * bp[kk * nr + j];
              scale += fabs((double)a[1 + r * lda + kk] * bp[kk * nr + j]);
            }
            assert_float_equal(c[r * ldc + j], want, tol(scale));
          }
        assert_float_equal(c[ldc - 1], 0.5f, 0); /* columns past nr untouched */
      }
    }
    free(a);
    free(bp);
    free(c);
  }
}

static void test_u8_parity(void **state) {
  (void)state;
  size_t n;
  const vx_kernels *const *tabs = vx_simd_available(&n);
  uint8_t *a = malloc(MAX_DIM + 8), *b = malloc(MAX_DIM + 8);
  uint64_t seed = 3;
  for (size_t i = 0; i < MAX_DIM + 8; i++) {
    a[i] = (uint8_t)test_rng(&seed);
    b[i] = i % 7 ? (uint8_t)test_rng(&seed) : 255; /* extremes too */
  }
  a[5] = 0;
  for (size_t t = 0; t < n; t++)
    for (size_t d = 1; d <= MAX_DIM; d++) {
      const uint8_t *x = a + d % 5, *y = b + d % 3; /* misaligned */
      uint64_t l2 = 0, dot = 0;
      for (size_t i = 0; i < d; i++) {
        l2 += (uint64_t)((int)x[i] - y[i]) * (uint64_t)((int)x[i] - y[i]);
        dot += (uint64_t)x[i] * y[i];
      }
      assert_int_equal(tabs[t]->u8_l2sq(x, y, d), l2);
      assert_int_equal(tabs[t]->u8_dot(x, y, d), dot);
    }
  /* the largest sums still fit: 65536 coordinates at the extremes */
  uint8_t *hi = malloc(65536), *lo = calloc(65536, 1);
  memset(hi, 255, 65536);
  for (size_t t = 0; t < n; t++) {
    assert_int_equal(tabs[t]->u8_l2sq(hi, lo, 65536), 65536u * 255u * 255u);
    assert_int_equal(tabs[t]->u8_dot(hi, hi, 65536), 65536u * 255u * 255u);
  }
  free(hi);
  free(lo);
  free(a);
  free(b);
}

/* Lengths for the byte and f16 kernels: every one up to 300 (all tail shapes of every vector
 * width), then some large and odd ones, up to the 65536 the integer kernels allow. */
static const size_t long_dims[] = {511, 1023, 1025, 4097, 65535, 65536};
#define N_DIMS (301 + sizeof long_dims / sizeof *long_dims)
#define MAX_LEN 65536
static size_t dim_at(size_t i) { return i <= 300 ? i : long_dims[i - 301]; }

/* Byte data for the integer kernels. Pattern 0: random bytes; 1: random picks among the values
 * the tricks could get wrong (0, 15, 127 and 128 around the sign flip VNNI uses, 255, nibbles at
 * 0 and 15); 2 and up: those values in turn. */
static void fill_bytes(uint8_t *p, size_t n, int pattern, uint64_t seed) {
  static const uint8_t extremes[] = {0, 15, 127, 128, 255, 0xf0, 0x0f, 0xff};
  for (size_t i = 0; i < n; i++) {
    uint64_t r = test_rng(&seed);
    p[i] = pattern == 0 ? (uint8_t)r : pattern == 1 ? extremes[r % 8] : extremes[(pattern + i) % 8];
  }
}

/* The 4-bit coordinate i of codes packed two a byte, low nibble first. */
static unsigned nibble(const uint8_t *p, size_t i) { return p[i / 2] >> (i % 2 * 4) & 15u; }

/* u8 and u4 against plain 64-bit loops: exact equality. The buffers hold random bytes past the
 * codes, so an odd d's padding nibble is garbage and must not count. */
static void test_byte_kernels_exact(void **state) {
  (void)state;
  size_t n;
  const vx_kernels *const *tabs = vx_simd_available(&n);
  uint8_t *a = malloc(MAX_LEN + 8), *b = malloc(MAX_LEN + 8);
  for (int pattern = 0; pattern < 4; pattern++) {
    fill_bytes(a, MAX_LEN + 8, pattern, 11 + pattern);
    fill_bytes(b, MAX_LEN + 8, pattern == 3 ? 0 : pattern, 29 + pattern);
    for (size_t di = 0; di < N_DIMS; di++) {
      size_t d = dim_at(di);
      const uint8_t *x = a + di % 4, *y = b + (di / 4) % 3; /* misaligned by 0..3 and 0..2 */
      uint64_t l2 = 0, dot = 0, l2_4 = 0, dot_4 = 0;
      for (size_t i = 0; i < d; i++) {
        int e = (int)x[i] - (int)y[i], e4 = (int)nibble(x, i) - (int)nibble(y, i);
        l2 += (uint64_t)(e * e);
        dot += (uint64_t)x[i] * y[i];
        l2_4 += (uint64_t)(e4 * e4);
        dot_4 += (uint64_t)nibble(x, i) * nibble(y, i);
      }
      for (size_t t = 0; t < n; t++) {
        assert_int_equal(tabs[t]->u8_l2sq(x, y, d), l2);
        assert_int_equal(tabs[t]->u8_dot(x, y, d), dot);
        assert_int_equal(tabs[t]->u4_l2sq(x, y, d), l2_4);
        assert_int_equal(tabs[t]->u4_dot(x, y, d), dot_4);
      }
    }
  }
  /* the largest 4-bit sums: 65536 coordinates at 15 and 0 */
  memset(a, 0xff, MAX_LEN / 2);
  memset(b, 0, MAX_LEN / 2);
  for (size_t t = 0; t < n; t++) {
    assert_int_equal(tabs[t]->u4_l2sq(a, b, MAX_LEN), 65536u * 225u);
    assert_int_equal(tabs[t]->u4_dot(a, a, MAX_LEN), 65536u * 225u);
    assert_int_equal(tabs[t]->u4_dot(a, b, MAX_LEN), 0);
  }
  free(a);
  free(b);
}

/* Independent references for f16: the value straight from the format's definition, and the
 * nearest f16 (ties to even through rint in double, where every step is exact), clamped. */
static double f16_value(uint16_t h) {
  int e = h >> 10 & 31, m = h & 1023;
  double v = e == 0 ? ldexp(m, -24) : e == 31 ? (m ? NAN : INFINITY) : ldexp(m + 1024, e - 25);
  return h & 0x8000 ? -v : v;
}

static uint16_t f16_nearest(float x) {
  uint16_t sign = signbit(x) ? 0x8000 : 0;
  double a = fabs((double)x);
  if (a >= 65520.0) return sign | 0x7bff;                    /* clamped, not infinity */
  if (a < 0x1p-14) return sign | (uint16_t)rint(a * 0x1p24); /* 1024 is the least normal */
  int e;
  double r = rint(ldexp(frexp(a, &e), 11)); /* 11 significant bits: 1024..2048 */
  if (r == 2048) r = 1024, e++;
  return sign | (uint16_t)((e + 14) << 10 | ((int)r - 1024));
}

static int is_nan_f16(uint16_t h) { return (h & 0x7c00) == 0x7c00 && (h & 0x3ff); }

/* Every one of the 65536 f16 values decodes to its exact value on every table (NaN to a NaN),
 * and every other one encodes back to itself (infinities clamp to +-65504); NaN, which must not
 * be encoded, goes back in as 0. */
static void test_f16_exhaustive_round_trip(void **state) {
  (void)state;
  size_t n;
  const vx_kernels *const *tabs = vx_simd_available(&n);
  uint16_t *h = malloc((65536 + 3) * sizeof *h), *back = malloc((65536 + 3) * sizeof *back);
  float *f = malloc((65536 + 3) * sizeof *f);
  for (size_t t = 0; t < n; t++) {
    size_t o = t % 4; /* misaligned by 0..3 elements */
    for (size_t i = 0; i < 65536; i++) h[o + i] = (uint16_t)i;
    tabs[t]->f16_to_f32(h + o, f + o, 65536);
    for (uint32_t i = 0; i < 65536; i++) {
      double want = f16_value((uint16_t)i);
      if (is_nan_f16((uint16_t)i)) {
        assert_true(isnan(f[o + i]));
        f[o + i] = 0;
      } else if (!(f[o + i] == want && !signbit(f[o + i]) == !signbit(want))) {
        fail_msg("%s: f16 %04x decodes to %a, want %a", tabs[t]->isa, i, (double)f[o + i], want);
      }
    }
    tabs[t]->f32_to_f16(f + o, back + o, 65536);
    for (uint32_t i = 0; i < 65536; i++) {
      uint16_t want = is_nan_f16((uint16_t)i)  ? 0
                      : (i & 0x7fff) == 0x7c00 ? (uint16_t)((i & 0x8000) | 0x7bff)
                                               : (uint16_t)i;
      if (back[o + i] != want) fail_msg("%s: f16 %04x -> %04x", tabs[t]->isa, i, back[o + i]);
    }
  }
  free(h);
  free(back);
  free(f);
}

/* f32 -> f16 against the nearest-value reference: the halfway point between every two adjacent
 * f16 magnitudes and one f32 step either side of it (both signs), subnormals, the clamp
 * boundary, and a sweep of f32 bit patterns over the whole range. */
static void test_f32_to_f16_rounding(void **state) {
  (void)state;
  size_t n;
  const vx_kernels *const *tabs = vx_simd_available(&n);
  enum { HALVES = 0x7bff, SWEEP = 1 << 20 };
  size_t cap = 6 * HALVES + SWEEP + 64, m = 0;
  float *x = malloc(cap * sizeof *x);
  uint16_t *got = malloc(cap * sizeof *got);
  for (uint16_t h = 0; h < HALVES; h++) {
    float mid = (float)((f16_value(h) + f16_value(h + 1)) / 2); /* exact: 12 significant bits */
    float around[3] = {nextafterf(mid, 0), mid, nextafterf(mid, INFINITY)};
    for (int k = 0; k < 3; k++) x[m++] = around[k], x[m++] = -around[k];
  }
  static const float edges[] = {0.0f, -0.0f, 0x1p-25f, 0x1.000002p-25f, 0x1p-24f, 0x1.8p-24f,
                                0x1p-26f, 0x1p-149f, 0x1p-126f, 0x1.ff8p-15f, 0x1p-14f, 65504.0f,
                                65519.0f, 0x1.ffdffep15f, 65520.0f, 65536.0f, 1e10f, INFINITY,
                                3.4e38f, -65519.0f, -65520.0f, -INFINITY, 1.0f, -1.0f};
  for (size_t k = 0; k < sizeof edges / sizeof *edges; k++) x[m++] = edges[k];
  uint64_t seed = 5;
  for (size_t k = 0; k < SWEEP; k++) {
    uint32_t bits = (uint32_t)test_rng(&seed);
    if ((bits & 0x7f800000u) == 0x7f800000u) bits &= 0xff7fffffu; /* no NaN: off the top exponent */
    memcpy(&x[m++], &bits, sizeof bits);
  }
  for (size_t t = 0; t < n; t++) {
    size_t o = t % 4 + 1;
    tabs[t]->f32_to_f16(x, got, m - o); /* a length with a tail on every vector width */
    for (size_t i = 0; i < m - o; i++)
      if (got[i] != f16_nearest(x[i]))
        fail_msg("%s: %a -> %04x, want %04x", tabs[t]->isa, (double)x[i], got[i],
                 f16_nearest(x[i]));
  }
  free(x);
  free(got);
}

/* f16 distances against double precision on the decoded row. Tolerance: any f32 evaluation of a
 * dot product of d terms, in any summation order, with or without FMA, is within
 * gamma(d) = d u / (1 - d u) of the sum of the terms' magnitudes, u = 2^-24 (Higham, "Accuracy
 * and Stability of Numerical Algorithms", 3.1); l2sq's rounded difference adds two roundings a
 * term, and assert_float_equal rounds the double reference to float, one more. So
 * gamma(d + 3) * sum|term| bounds every table's error: no flaky failure, whatever the order of
 * the sums, while a wrong or missing element shows (it costs a whole term, about sum|term| / d). */
static void test_f16_distance_parity(void **state) {
  (void)state;
  size_t n;
  const vx_kernels *const *tabs = vx_simd_available(&n);
  const size_t len = MAX_LEN + 8;
  float *q = test_random_vectors(len, 1, 71), *v = test_random_vectors(len, 1, 72);
  uint16_t *row = malloc(len * sizeof *row);
  vx_kernels_scalar.f32_to_f16(v, row, len);
  uint64_t seed = 73;
  for (size_t i = 0; i < len; i += 1 + test_rng(&seed) % 13) { /* extremes too */
    static const uint16_t odd[] = {0x0001, 0x83ff, 0x0400, 0x7bff, 0xfbff, 0x8000, 0x3c00};
    row[i] = odd[test_rng(&seed) % 7];
  }
  for (size_t di = 0; di < N_DIMS; di++) {
    size_t d = dim_at(di);
    const float *x = q + di % 4;
    const uint16_t *y = row + (di / 4) % 3; /* misaligned by 0..3 and 0..2 */
    double dot = 0, l2 = 0, dot_mag = 0;
    for (size_t i = 0; i < d; i++) {
      double yi = f16_value(y[i]);
      dot += x[i] * yi;
      dot_mag += fabs(x[i] * yi);
      l2 += (x[i] - yi) * (x[i] - yi);
    }
    double nu = (d + 3) * 0x1p-24, gamma = nu / (1 - nu);
    for (size_t t = 0; t < n; t++) {
      assert_float_equal(tabs[t]->f16_dot(x, y, d), dot, gamma * dot_mag);
      assert_float_equal(tabs[t]->f16_l2sq(x, y, d), l2, gamma * l2);
    }
  }
  free(q);
  free(v);
  free(row);
}

static void test_zero_vectors_and_special_values(void **state) {
  (void)state;
  size_t n;
  const vx_kernels *const *tabs = vx_simd_available(&n);
  float z[33] = {0}, x[33];
  for (int i = 0; i < 33; i++) x[i] = (float)i;
  for (size_t t = 0; t < n; t++) {
    assert_float_equal(tabs[t]->cosine(z, x, 33), 1.0f, 0);
    assert_float_equal(tabs[t]->cosine(x, x, 33), 0.0f, 1e-6);
    assert_float_equal(tabs[t]->l2sq(x, x, 33), 0.0f, 0);
  }
}

/* The table in use: the best this CPU has, or the level VEXFS_SIMD caps it at. */
static void test_dispatch_choice(void **state) {
  (void)state;
  size_t n;
  const vx_kernels *const *tabs = vx_simd_available(&n);
  assert_true(n >= 1);
  assert_ptr_equal(tabs[0], &vx_kernels_scalar);
  /* a cap names a level; the CPU's best table at or below it is used */
  const char *cap = getenv("VEXFS_SIMD");
  const char *want = tabs[n - 1]->isa;
#if defined(__x86_64__)
  static const char *const levels[] = {"scalar", "avx2", "avx2vnni", "avx512", "avx512vnni"};
#else
  static const char *const levels[] = {"scalar", "neon"};
#endif
  size_t nl = sizeof levels / sizeof *levels, cap_at = nl;
  for (size_t l = 0; cap && l < nl; l++)
    if (strcmp(cap, levels[l]) == 0) cap_at = l;
  if (cap_at < nl) /* the best table at or below the cap; tabs run in the same order */
    for (size_t t = 0, l = 0; t < n; t++) {
      while (l < nl && strcmp(levels[l], tabs[t]->isa)) l++;
      assert_true(l < nl);
      if (l <= cap_at) want = tabs[t]->isa;
    }
  assert_string_equal(vexfs_simd_isa(), want);
  assert_ptr_equal(vx_simd(), vx_simd());
#if defined(__x86_64__)
  /* each table is there exactly when CPUID (and XGETBV) says so, in this order */
  const vx_kernels *expect[5] = {&vx_kernels_scalar};
  size_t m = 1;
  if (vx_cpu_has_avx2_fma()) expect[m++] = &vx_kernels_avx2;
  if (vx_cpu_has_avx2_vnni()) expect[m++] = &vx_kernels_avx2vnni;
  if (vx_cpu_has_avx512()) expect[m++] = &vx_kernels_avx512;
  if (vx_cpu_has_avx512_vnni()) expect[m++] = &vx_kernels_avx512vnni;
  assert_int_equal(n, m);
  for (size_t t = 0; t < n; t++) assert_ptr_equal(tabs[t], expect[t]);
  if (vx_cpu_has_avx2_vnni() || vx_cpu_has_avx512()) assert_true(vx_cpu_has_avx2_fma());
  if (vx_cpu_has_avx512_vnni()) assert_true(vx_cpu_has_avx512());
#endif
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_one_to_one_parity),
      cmocka_unit_test(test_one_to_many_parity),
      cmocka_unit_test(test_gemm_tile_parity),
      cmocka_unit_test(test_u8_parity),
      cmocka_unit_test(test_byte_kernels_exact),
      cmocka_unit_test(test_f16_exhaustive_round_trip),
      cmocka_unit_test(test_f32_to_f16_rounding),
      cmocka_unit_test(test_f16_distance_parity),
      cmocka_unit_test(test_zero_vectors_and_special_values),
      cmocka_unit_test(test_dispatch_choice),
  };
  return cmocka_run_group_tests_name("simd", tests, NULL, NULL);
}

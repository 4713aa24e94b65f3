/* Every kernel of every instruction set this CPU runs, against the scalar reference: dims 1..1100,
 * unaligned pointers, strided rows, and the blocked micro-kernel. Also the load-time choice. */
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
  if (cap && strcmp(cap, "scalar") == 0) want = "scalar";
  if (cap && strcmp(cap, "avx2") == 0 && n >= 2 && strcmp(tabs[1]->isa, "avx2") == 0) want = "avx2";
  assert_string_equal(vexfs_simd_isa(), want);
  assert_ptr_equal(vx_simd(), vx_simd());
#if defined(__x86_64__)
  if (vx_cpu_has_avx512()) assert_true(vx_cpu_has_avx2_fma());
  assert_int_equal(n, 1 + vx_cpu_has_avx2_fma() + vx_cpu_has_avx512());
#endif
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_one_to_one_parity),
      cmocka_unit_test(test_one_to_many_parity),
      cmocka_unit_test(test_gemm_tile_parity),
      cmocka_unit_test(test_u8_parity),
      cmocka_unit_test(test_zero_vectors_and_special_values),
      cmocka_unit_test(test_dispatch_choice),
  };
  return cmocka_run_group_tests_name("simd", tests, NULL, NULL);
}

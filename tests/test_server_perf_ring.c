/* The performance sampler's history (server/perf_ring.c): buckets aligned to the interval since
 * the epoch, averaged rates and latest states, the window's edge, the one-hour bound of the 1 s
 * samples, and the minute averages that answer longer windows. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "perf_ring.h"

/* this cmocka has no assert_double_equal */
#define assert_near(a, b) assert_true(fabs((double)(a) - (double)(b)) < 1e-9)

#define T0 1789999200000ull /* ms since the epoch: a whole hour */

static vs_perf_sample at(uint64_t unix_ms, double ops, uint64_t vectors) {
  return (vs_perf_sample){.unix_ms = unix_ms, .vector_ops_per_sec = ops, .search_ops_per_sec = ops / 2,
                          .memory_pool_hit_rate = 0.5, .vectors = vectors, .simd_isa = "avx2",
                          .simd_acceleration_active = 1};
}

static void test_empty(void **state) {
  (void)state;
  vs_perf_ring *r = calloc(1, sizeof *r);
  vs_perf_sample out[4];
  assert_null(vs_perf_ring_latest(r));
  assert_int_equal(vs_perf_ring_read(r, T0, 60, 1, out, 4), 0);
  free(r);
}

static void test_buckets_average_rates_and_keep_the_latest_state(void **state) {
  (void)state;
  vs_perf_ring *r = calloc(1, sizeof *r);
  for (uint64_t s = 0; s < 20; s++) { /* 1 s apart, 250 ms past each second */
    vs_perf_sample x = at(T0 + s * 1000 + 250, (double)s, 100 + s);
    vs_perf_ring_push(r, &x);
  }
  assert_int_equal(vs_perf_ring_latest(r)->vectors, 119);
  vs_perf_sample out[8];
  /* the last 20 s at 10 s: seconds 0..9 and 10..19, each the mean of its ten */
  size_t n = vs_perf_ring_read(r, T0 + 20000, 20, 10, out, 8);
  assert_int_equal(n, 2);
  assert_int_equal(out[0].unix_ms, T0);
  assert_int_equal(out[1].unix_ms, T0 + 10000);
  assert_near(out[0].vector_ops_per_sec, 4.5);
  assert_near(out[1].vector_ops_per_sec, 14.5);
  assert_near(out[1].search_ops_per_sec, 7.25);
  assert_near(out[1].memory_pool_hit_rate, 0.5);
  assert_int_equal(out[0].vectors, 109); /* a state: the bucket's latest */
  assert_int_equal(out[1].vectors, 119);
  assert_string_equal(out[1].simd_isa, "avx2");
  assert_int_equal(out[1].simd_acceleration_active, 1);
  /* the last 5 s at 1 s: one row each, as taken (the edge: after now - 5 s) */
  n = vs_perf_ring_read(r, T0 + 20000, 5, 1, out, 8);
  assert_int_equal(n, 5);
  for (size_t i = 0; i < n; i++) {
    assert_int_equal(out[i].unix_ms, T0 + (15 + i) * 1000);
    assert_near(out[i].vector_ops_per_sec, (double)(15 + i));
  }
  /* buckets start at multiples of the interval, not at the window's start: 7 s back at 5 s */
  n = vs_perf_ring_read(r, T0 + 20000, 7, 5, out, 8);
  assert_int_equal(n, 2);
  assert_int_equal(out[0].unix_ms, T0 + 10000); /* seconds 13 and 14 */
  assert_near(out[0].vector_ops_per_sec, 13.5);
  assert_int_equal(out[1].unix_ms, T0 + 15000);
  assert_near(out[1].vector_ops_per_sec, 17);
  /* room for fewer rows than there are: the oldest first, then no more */
  assert_int_equal(vs_perf_ring_read(r, T0 + 20000, 20, 1, out, 3), 3);
  assert_int_equal(out[2].unix_ms, T0 + 2000); /* rows are stamped with their bucket's start */
  free(r);
}

static void test_an_hour_of_seconds_then_minutes(void **state) {
  (void)state;
  vs_perf_ring *r = calloc(1, sizeof *r);
  const uint64_t seconds = 3 * 3600; /* three hours: the 1 s ring wraps twice */
  for (uint64_t s = 0; s < seconds; s++) {
    vs_perf_sample x = at(T0 + s * 1000, (double)(s / 60), s); /* ops: the minute's number */
    vs_perf_ring_push(r, &x);
  }
  uint64_t now = T0 + seconds * 1000;
  vs_perf_sample *out = calloc(4000, sizeof *out);
  /* 1 s samples: only the last hour's are kept, and the one at the window's edge is left out */
  size_t n = vs_perf_ring_read(r, now, 3600, 1, out, 4000);
  assert_int_equal(n, VS_PERF_FINE_SAMPLES - 1);
  assert_int_equal(out[0].unix_ms, now - 3599 * 1000);
  assert_int_equal(out[n - 1].vectors, seconds - 1);
  /* three hours at 1 min: the minute averages, one per minute, the last one still gathering */
  n = vs_perf_ring_read(r, now, 3 * 3600, 60, out, 4000);
  assert_int_equal(n, 179); /* minute 0 starts at the window's edge, so it is left out */
  for (size_t i = 0; i < n; i++) {
    assert_int_equal(out[i].unix_ms, T0 + (i + 1) * 60000);
    assert_near(out[i].vector_ops_per_sec, (double)(i + 1));
    assert_int_equal(out[i].vectors, (i + 2) * 60 - 1);
  }
  /* two hours at 1 h: each the mean of its minutes */
  n = vs_perf_ring_read(r, now, 2 * 3600, 3600, out, 4000);
  assert_int_equal(n, 2);
  assert_int_equal(out[0].unix_ms, (T0 + 3600 * 1000) / 3600000 * 3600000);
  free(out);
  free(r);
}

static void test_a_day_bounds_the_minutes(void **state) {
  (void)state;
  vs_perf_ring *r = calloc(1, sizeof *r);
  const uint64_t minutes = VS_PERF_COARSE_SAMPLES + 100;
  for (uint64_t m = 0; m < minutes; m++) { /* one sample a minute */
    vs_perf_sample x = at(T0 + m * 60000, 1, m);
    vs_perf_ring_push(r, &x);
  }
  vs_perf_sample *out = calloc(2000, sizeof *out);
  size_t n = vs_perf_ring_read(r, T0 + minutes * 60000, VS_PERF_MAX_SECONDS, 60, out, 2000);
  /* the closed minutes the ring holds (the oldest, past the window, and the one at its edge
   * left out) and the minute being gathered */
  assert_int_equal(n, VS_PERF_COARSE_SAMPLES - 1);
  assert_int_equal(out[n - 1].vectors, minutes - 1);
  assert_int_equal(out[0].vectors, minutes - VS_PERF_COARSE_SAMPLES + 1);
  free(out);
  free(r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_empty),
      cmocka_unit_test(test_buckets_average_rates_and_keep_the_latest_state),
      cmocka_unit_test(test_an_hour_of_seconds_then_minutes),
      cmocka_unit_test(test_a_day_bounds_the_minutes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

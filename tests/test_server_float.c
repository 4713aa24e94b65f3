/* vexfs-server's float writer (server/float_text.c) against printf("%.9g"), which it replaces:
 * the same text for millions of floats (random bit patterns, decimals of every magnitude, exact
 * binary fractions whose ninth digit is a rounding tie, the smallest and largest binades), each
 * reading back as the same float;
 * and JSON's null for what JSON cannot write. */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "float_text.h"

static uint64_t next(uint64_t *s) { /* xorshift64 */
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

/* v's text is printf's, and reads back as v, bit for bit. */
static void check(float v) {
  char got[VS_FLOAT_TEXT_MAX], want[32];
  size_t n = vs_float_text(v, got);
  snprintf(want, sizeof want, "%.9g", (double)v);
  if (strcmp(got, want) != 0 || n != strlen(got)) fail_msg("%a: \"%s\", printf \"%s\"", (double)v, got, want);
  float back = strtof(got, NULL);
  if (memcmp(&back, &v, sizeof v) != 0) fail_msg("%a: \"%s\" reads back as %a", (double)v, got, (double)back);
}

static void test_random_bit_patterns(void **state) {
  (void)state;
  uint64_t s = 0x9E3779B97F4A7C15ull;
  for (int i = 0; i < 2000000; i++) {
    uint32_t bits = (uint32_t)next(&s);
    float v;
    memcpy(&v, &bits, sizeof v);
    if (isfinite(v)) check(v);
  }
}

static void test_decimals_and_ties(void **state) {
  (void)state;
  uint64_t s = 12345;
  for (int i = 0; i < 1000000; i++) {
    /* decimals of up to 7 digits at every scale, and dyadic fractions, whose exact value can end
     * in a 5 at the tenth digit (55.28515625): printf rounds those ties to even */
    float decimal = (float)((double)(next(&s) % 10000000) * pow(10.0, (double)(int)(next(&s) % 80) - 45));
    if (isfinite(decimal)) check(decimal);
    check((float)(next(&s) % 1000000) / (float)(1u << (next(&s) % 24)));
  }
  for (int e = -45; e <= 38; e++) { /* powers of ten and their neighbours */
    float p = (float)pow(10.0, e);
    check(p), check(nextafterf(p, 0)), check(nextafterf(p, INFINITY)), check(-p);
  }
  check(0.0f), check(-0.0f), check(FLT_MAX), check(FLT_MIN), check(FLT_TRUE_MIN), check(-FLT_MAX);
  check(999999999.0f), check(100000000.0f), check(0.0001f), check(0.00001f), check(123456789.0f);
}

/* The smallest and largest binades, where the scaling takes several roundings: every 5th
 * mantissa of exponent fields 0 (subnormals), 1, 2, 253 and 254, and two floats whose scaled value
 * lands within those roundings of a tie. */
static void test_extreme_binades(void **state) {
  (void)state;
  const uint32_t fields[] = {0, 1, 2, 253, 254};
  for (size_t f = 0; f < sizeof fields / sizeof *fields; f++)
    for (uint32_t m = 0; m < (1u << 23); m += 5) {
      uint32_t bits = fields[f] << 23 | m;
      float v;
      memcpy(&v, &bits, sizeof v);
      check(v);
    }
  check(0x1.22283cp-127f), check(0x1.ad990cp+127f);
}

static void test_what_json_lacks_is_null(void **state) {
  (void)state;
  char got[VS_FLOAT_TEXT_MAX];
  const float odd[] = {NAN, -NAN, INFINITY, -INFINITY};
  for (size_t i = 0; i < sizeof odd / sizeof *odd; i++) {
    assert_int_equal(vs_float_text(odd[i], got), 4);
    assert_string_equal(got, "null");
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_random_bit_patterns),
      cmocka_unit_test(test_decimals_and_ties),
      cmocka_unit_test(test_extreme_binades),
      cmocka_unit_test(test_what_json_lacks_is_null),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

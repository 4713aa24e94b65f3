/* Floats as JSON text, the same text as printf's "%.9g" (nine significant digits, which always
 * read back as the same float), mostly without printf: its exact multi-precision conversion took
 * 210 ns a float here (this takes 40), a tenth of a search answer's making and 25 us of each
 * 128-d vector an answer carries.
 *
 * How: the float is exact as a double; scaling it by a power of ten in double arithmetic is off
 * by at most a few roundings (about 1e-7 of a unit of the ninth digit), so the nine digits
 * rounded from it are printf's unless the scaled value lies that near a tie; there (one float in
 * tens of thousands; exact ties among them) printf writes it. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "float_text.h"

/* How near a tie the scaled value may come before printf decides: far above the scaling's error,
 * at most 4 roundings of a value below 1e9 (each within half an ulp, 6e-8: 2.4e-7 all told). */
#define NEAR_TIE 1e-5

/* x * 10^e, e in [-60, 60]: a product of exact powers (10^22 is the largest exact double). */
static double scale10(double x, int e) {
  static const double exact[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
  for (; e > 22; e -= 22) x *= 1e22;
  for (; e < -22; e += 22) x /= 1e22;
  return e >= 0 ? x * exact[e] : x / exact[-e];
}

size_t vs_float_text(float v, char out[VS_FLOAT_TEXT_MAX]) {
  char *o = out;
  if (!isfinite(v)) return (size_t)(stpcpy(out, "null") - out); /* JSON has no NaN or infinity */
  if (signbit(v)) *o++ = '-';
  double x = fabs((double)v);
  if (x == 0) {
    *o++ = '0';
    *o = 0;
    return (size_t)(o - out);
  }
  int e10 = (int)floor(log10(x)); /* the decimal exponent: corrected below if off by one */
  uint64_t digits = 0;
  for (int tries = 0; tries < 3; tries++) {
    double scaled = scale10(x, 8 - e10);
    if (fabs(scaled - floor(scaled) - 0.5) < NEAR_TIE) /* the roundings may decide it: printf's */
      return (size_t)(o - out) + (size_t)snprintf(o, VS_FLOAT_TEXT_MAX - (size_t)(o - out), "%.9g", x);
    digits = (uint64_t)nearbyint(scaled);
    if (digits >= 1000000000u) e10++;
    else if (digits < 100000000u) e10--;
    else break;
  }
  char d[10];
  for (int i = 8; i >= 0; i--, digits /= 10) d[i] = (char)('0' + digits % 10);
  int n = 9;
  while (n > 1 && d[n - 1] == '0') n--; /* %g drops trailing zeros */
  if (e10 < -4 || e10 >= 9) { /* d.ddde±XX */
    *o++ = d[0];
    if (n > 1) {
      *o++ = '.';
      memcpy(o, d + 1, (size_t)n - 1);
      o += n - 1;
    }
    *o++ = 'e';
    *o++ = e10 < 0 ? '-' : '+';
    int a = e10 < 0 ? -e10 : e10;
    *o++ = (char)('0' + a / 10);
    *o++ = (char)('0' + a % 10);
  } else if (e10 >= 0) { /* ddd.ddd */
    for (int i = 0; i < n || i <= e10; i++) {
      if (i == e10 + 1) *o++ = '.';
      *o++ = i < n ? d[i] : '0';
    }
  } else { /* 0.000ddd */
    *o++ = '0';
    *o++ = '.';
    for (int i = -1; i > e10; i--) *o++ = '0';
    memcpy(o, d, (size_t)n);
    o += n;
  }
  *o = 0;
  return (size_t)(o - out);
}

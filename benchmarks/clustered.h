/* Clustered synthetic vectors for the C benchmarks (auto_crossover.c, server/): 100 centres with
 * coordinates uniform in [0, 1), then each row a centre drawn uniformly plus uniform noise in
 * [-0.05, 0.05) per coordinate, from xorshift64* on the state given (not 0). Uniform floats take
 * the top 24 bits of a draw, so they are exact in float. */
#ifndef VEXFS_BENCH_CLUSTERED_H
#define VEXFS_BENCH_CLUSTERED_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static inline uint64_t clustered_next(uint64_t *s) { /* xorshift64* */
  *s ^= *s >> 12, *s ^= *s << 25, *s ^= *s >> 27;
  return *s * 2685821657736338717ull;
}

static inline float clustered_uniform(uint64_t *s) {
  return (float)(clustered_next(s) >> 40) / (float)(1 << 24);
}

/* rows * dim floats, malloc'd; exits on out of memory. */
static inline float *clustered_rows(size_t rows, size_t dim, uint64_t state) {
  float *centres = malloc(100 * dim * sizeof *centres), *v = malloc(rows * dim * sizeof *v);
  if (!centres || !v) {
    fprintf(stderr, "out of memory for %zu x %zu floats\n", rows, dim);
    exit(1);
  }
  for (size_t i = 0; i < 100 * dim; i++) centres[i] = clustered_uniform(&state);
  for (size_t i = 0; i < rows; i++) {
    const float *c = centres + clustered_next(&state) % 100 * dim;
    for (size_t d = 0; d < dim; d++) v[i * dim + d] = c[d] + 0.1f * (clustered_uniform(&state) - 0.5f);
  }
  free(centres);
  return v;
}

#endif

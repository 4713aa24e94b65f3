/* Fashion-MNIST for the C benchmarks (fashion_mnist.h is the C++ twin): the gzipped IDX images of
 * Debian's dataset-fashion-mnist ($FASHION_MNIST_DIR, else /usr/share/datasets/fashion-mnist),
 * through `gzip -dc`, as floats. */
#ifndef VEXFS_BENCH_FASHION_MNIST_C_H
#define VEXFS_BENCH_FASHION_MNIST_C_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* part "train" or "t10k": n rows of *dim floats (malloc'ed), or NULL when it cannot be read. */
static float *fashion_mnist(const char *part, size_t *n, size_t *dim) {
  const char *dir = getenv("FASHION_MNIST_DIR");
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "gzip -dc '%s/%s-images-idx3-ubyte.gz' 2>/dev/null",
           dir ? dir : "/usr/share/datasets/fashion-mnist", part);
  FILE *f = popen(cmd, "r");
  unsigned char h[16];
  if (!f) return NULL;
  if (fread(h, 1, 16, f) != 16) {
    pclose(f);
    return NULL;
  }
#define BE(o) ((size_t)h[o] << 24 | (size_t)h[o + 1] << 16 | (size_t)h[o + 2] << 8 | h[o + 3])
  *n = BE(4);
  *dim = BE(8) * BE(12);
#undef BE
  unsigned char *raw = malloc(*n * *dim);
  float *v = malloc(*n * *dim * sizeof *v);
  int ok = raw && v && fread(raw, 1, *n * *dim, f) == *n * *dim;
  pclose(f);
  for (size_t i = 0; ok && i < *n * *dim; i++) v[i] = raw[i];
  free(raw);
  if (!ok) free(v);
  return ok ? v : NULL;
}

/* Multiplies n rows of dim floats by a random orthogonal matrix (Gram-Schmidt of a Gaussian one,
 * fixed by seed): distances and neighbours stay, but the coordinates stop being small integers,
 * the "rotated" Fashion-MNIST. Rows rotated with the same seed share the matrix. */
static inline void fashion_mnist_rotate(float *v, size_t n, size_t dim, uint64_t seed) {
  double *m = malloc(dim * dim * sizeof *m), *t = malloc(dim * sizeof *t);
  if (!m || !t) {
    fprintf(stderr, "out of memory for a %zu x %zu rotation\n", dim, dim);
    exit(1);
  }
  uint64_t s = seed;
  for (size_t i = 0; i < dim * dim; i++) { /* Box-Muller on an LCG */
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    double u1 = ((s >> 11) + 1) * 0x1p-53;
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    double u2 = (s >> 11) * 0x1p-53;
    m[i] = sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2);
  }
  for (size_t i = 0; i < dim; i++) {
    for (size_t j = 0; j < i; j++) {
      double d = 0;
      for (size_t k = 0; k < dim; k++) d += m[i * dim + k] * m[j * dim + k];
      for (size_t k = 0; k < dim; k++) m[i * dim + k] -= d * m[j * dim + k];
    }
    double nn = 0;
    for (size_t k = 0; k < dim; k++) nn += m[i * dim + k] * m[i * dim + k];
    for (size_t k = 0; k < dim; k++) m[i * dim + k] /= sqrt(nn);
  }
  for (size_t r = 0; r < n; r++) {
    float *x = v + r * dim;
    for (size_t i = 0; i < dim; i++) {
      double d = 0;
      for (size_t k = 0; k < dim; k++) d += m[i * dim + k] * x[k];
      t[i] = d;
    }
    for (size_t i = 0; i < dim; i++) x[i] = (float)t[i];
  }
  free(t);
  free(m);
}

#endif

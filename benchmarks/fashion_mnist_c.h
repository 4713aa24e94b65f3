/* Fashion-MNIST for the C benchmarks (fashion_mnist.h is the C++ twin): the gzipped IDX images of
 * Debian's dataset-fashion-mnist ($FASHION_MNIST_DIR, else /usr/share/datasets/fashion-mnist),
 * through `gzip -dc`, as floats. */
#ifndef VEXFS_BENCH_FASHION_MNIST_C_H
#define VEXFS_BENCH_FASHION_MNIST_C_H

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

#endif

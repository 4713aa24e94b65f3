// A seeded random rotation of a dataset (memory_bench's and scale_bench's "rotated" data):
// distances, hence neighbours, stay; the coordinates stop being small integers or axis-aligned.
#ifndef VEXFS_BENCH_ROTATION_H
#define VEXFS_BENCH_ROTATION_H

#include "../fashion_mnist.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

// A d x d orthogonal matrix, row-major, the same on every machine for a seed: Gaussian entries
// (splitmix64, Box-Muller), the rows orthonormalized by modified Gram-Schmidt, all in double.
inline std::vector<double> random_orthogonal(size_t d, uint64_t seed) {
  uint64_t state = seed;
  auto uniform = [&state] {  // in (0, 1]
    uint64_t z = state += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return (double)(((z ^ (z >> 31)) >> 11) + 1) * 0x1.0p-53;
  };
  std::vector<double> q(d * d);
  for (size_t i = 0; i < q.size(); i += 2) {
    double r = std::sqrt(-2 * std::log(uniform())), t = 2 * M_PI * uniform();
    q[i] = r * std::cos(t);
    if (i + 1 < q.size()) q[i + 1] = r * std::sin(t);
  }
  auto dot = [d](const double *a, const double *b) {
    double s = 0;
    for (size_t k = 0; k < d; k++) s += a[k] * b[k];
    return s;
  };
  for (size_t i = 0; i < d; i++) {
    double *qi = &q[i * d];
    for (size_t j = 0; j < i; j++) {
      const double *qj = &q[j * d];
      double p = dot(qi, qj);
      for (size_t k = 0; k < d; k++) qi[k] -= p * qj[k];
    }
    double norm = std::sqrt(dot(qi, qi));
    for (size_t k = 0; k < d; k++) qi[k] /= norm;
  }
  return q;
}

// Each row x becomes Q^T x (the sum of x_j times Q's row j), in double, rounded once to float.
inline Data rotated(const Data &d, const std::vector<double> &q) {
  Data r;
  r.n = d.n;
  r.dim = d.dim;
  r.v.resize(d.v.size());
  std::vector<double> y(d.dim);
  for (size_t i = 0; i < d.n; i++) {
    const float *x = &d.v[i * d.dim];
    std::fill(y.begin(), y.end(), 0.0);
    for (size_t j = 0; j < d.dim; j++) {
      if (x[j] == 0) continue;
      const double *qj = &q[j * d.dim], xj = x[j];
      for (size_t k = 0; k < d.dim; k++) y[k] += xj * qj[k];
    }
    std::copy(y.begin(), y.end(), &r.v[i * d.dim]);
  }
  return r;
}

#endif

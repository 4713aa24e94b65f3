// The scale benchmark's synthetic data: a mixture of Gaussians, standing in for embeddings.
//
// 1024 clusters, each row drawn from one chosen uniformly. Cluster centres have N(0, 1)
// coordinates. A row is its centre plus noise whose coordinate j has standard deviation
// sigma_c / sqrt(1 + j / 16): a decaying spectrum, so that the noise's effective dimension
// ((sum s^2)^2 / sum s^4) is about 70 of 96 and 86 of 128, as embeddings use most but not all of
// their dimensions. sigma_c is drawn per cluster, uniform in [0.75, 1.25). Finally every row, queries
// too, is multiplied by one seeded random orthogonal matrix (rotation.h), so that no coordinate
// axis is special (a per-coordinate quantiser gains nothing from the spectrum being axis-aligned).
//
// Rows come from one sequential stream (splitmix64, Box-Muller), so the first n rows of a larger
// draw are the draw of n rows: the benchmark's sizes are prefixes of one set. Queries come from
// the same mixture on another stream.
#ifndef VEXFS_BENCH_GAUSSIAN_MIXTURE_H
#define VEXFS_BENCH_GAUSSIAN_MIXTURE_H

#include "../ann/rotation.h"
#include "../fashion_mnist.h"

#include <cmath>
#include <cstdint>
#include <vector>

struct GaussianMixture {
  static constexpr size_t kClusters = 1024;
  size_t dim;
  std::vector<float> centres, sigma, spectrum;
  std::vector<double> rotation;

  GaussianMixture(size_t d, uint64_t seed) : dim(d), centres(kClusters * d), sigma(kClusters), spectrum(d) {
    uint64_t s = seed;
    for (auto &c : centres) c = (float)normal(s);
    for (auto &g : sigma) g = (float)(0.75 + 0.5 * uniform(s));
    for (size_t j = 0; j < d; j++) spectrum[j] = (float)(1.0 / std::sqrt(1.0 + j / 16.0));
    rotation = random_orthogonal(d, seed ^ 0x5ca1ab1eull);
  }

  // n rows from the stream whose state is `stream` (any value; a different one per set).
  Data draw(size_t n, uint64_t stream) const {
    Data raw;
    raw.n = n;
    raw.dim = dim;
    raw.v.resize(n * dim);
    uint64_t s = stream;
    for (size_t i = 0; i < n; i++) {
      size_t c = next(s) % kClusters;
      float *x = &raw.v[i * dim];
      for (size_t j = 0; j < dim; j++)
        x[j] = centres[c * dim + j] + sigma[c] * spectrum[j] * (float)normal(s);
    }
    return rotated(raw, rotation);
  }

 private:
  static uint64_t next(uint64_t &s) {  // splitmix64
    uint64_t z = s += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  static double uniform(uint64_t &s) { return (double)((next(s) >> 11) + 1) * 0x1.0p-53; }  // (0, 1]
  static double normal(uint64_t &s) {  // Box-Muller, one of the pair
    double r = std::sqrt(-2 * std::log(uniform(s)));
    return r * std::cos(2 * M_PI * uniform(s));
  }
};

#endif

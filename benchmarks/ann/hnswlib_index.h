// hnswlib (Debian's libhnswlib-dev, header-only) as the ANN benchmarks run it: an L2
// HierarchicalNSW over a Data set, built on some threads, answering one query as ids.
#ifndef VEXFS_BENCH_HNSWLIB_INDEX_H
#define VEXFS_BENCH_HNSWLIB_INDEX_H

#include <hnswlib/hnswlib.h>

#include "../fashion_mnist.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

struct HnswlibIndex {
  std::unique_ptr<hnswlib::L2Space> space;
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> alg;

  // Rows get their row numbers as labels; threads > 1 add them from a shared counter.
  void build(const Data &d, int m, int ef_construction, int threads) {
    space.reset(new hnswlib::L2Space(d.dim));
    alg.reset(new hnswlib::HierarchicalNSW<float>(space.get(), d.n, m, ef_construction));
    alg->addPoint(d.v.data(), 0);
    std::atomic<size_t> next{1};
    auto work = [&] {
      for (size_t i; (i = next++) < d.n;) alg->addPoint(d.v.data() + i * d.dim, i);
    };
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; t++) pool.emplace_back(work);
    work();
    for (auto &t : pool) t.join();
  }

  // The k nearest labels to q, nearest first; UINT64_MAX past those found.
  void knn(const float *q, size_t k, uint64_t *out) const {
    auto res = alg->searchKnn(q, k);
    std::fill(out + res.size(), out + k, UINT64_MAX);
    for (size_t i = res.size(); i-- > 0; res.pop()) out[i] = res.top().second;
  }

  void reset() {
    alg.reset();
    space.reset();
  }
};

#endif

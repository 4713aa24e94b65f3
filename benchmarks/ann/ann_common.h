// What the ANN benchmarks (ann_bench, lsh_ivf_bench, memory_bench) share: process RSS, failing on a
// libvexfs error, an HNSW config, exact ground truth, recall@k, agreement of two results and the
// median of samples.
#ifndef VEXFS_BENCH_ANN_COMMON_H
#define VEXFS_BENCH_ANN_COMMON_H

#include <vexfs/vexfs.h>

#include "../fashion_mnist.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unordered_set>
#include <vector>

inline size_t rss_bytes() {
  FILE *f = fopen("/proc/self/statm", "r");
  long pages = 0, resident = 0;
  if (f && fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
  if (f) fclose(f);
  return (size_t)resident * 4096;
}

inline void check(vexfs_status st, const char *what) {
  if (st != VEXFS_OK) {
    fprintf(stderr, "%s: %s\n", what, vexfs_last_error());
    exit(1);
  }
}

// Recall@k of nq result rows of k ids against the exact ones.
inline double recall_of(const std::vector<uint64_t> &got, const std::vector<uint64_t> &truth, size_t nq,
                        size_t k = 10) {
  size_t hit = 0;
  for (size_t q = 0; q < nq; q++) {
    std::unordered_set<uint64_t> t(truth.begin() + q * k, truth.begin() + (q + 1) * k);
    for (size_t i = 0; i < k; i++) hit += t.count(got[q * k + i]);
  }
  return (double)hit / (nq * k);
}

// The exact k nearest train rows (ids = row numbers) of the first nq test rows: libvexfs FLAT, a
// batch on every core (not measured).
inline std::vector<uint64_t> exact_truth(const Data &train, const Data &test, size_t nq, size_t k = 10) {
  std::vector<uint64_t> truth(nq * k);
  vexfs_collection_config cfg;
  vexfs_collection_config_init(&cfg);
  cfg.dim = (uint32_t)train.dim;
  cfg.index = VEXFS_INDEX_FLAT;
  vexfs_collection *flat;
  check(vexfs_collection_create(&cfg, &flat), "create flat");
  std::vector<uint64_t> ids(train.n);
  for (size_t i = 0; i < train.n; i++) ids[i] = i;
  check(vexfs_insert(flat, ids.data(), train.v.data(), train.n), "insert flat");
  std::vector<float> dist(nq * k);
  check(vexfs_search(flat, test.v.data(), nq, k, nullptr, truth.data(), dist.data(), nullptr), "gt");
  vexfs_collection_free(flat);
  return truth;
}

// Queries whose top-k id sets agree.
inline size_t agreeing(const uint64_t *a, const uint64_t *b, size_t nq, size_t k = 10) {
  size_t same = 0;
  for (size_t q = 0; q < nq; q++) {
    std::unordered_set<uint64_t> t(a + q * k, a + (q + 1) * k);
    size_t hit = 0;
    for (size_t i = 0; i < k; i++) hit += t.count(b[q * k + i]);
    same += hit == k;
  }
  return same;
}

// A libvexfs HNSW collection's config: M, efConstruction, threads for batch work.
inline vexfs_collection_config hnsw_config(size_t dim, int m, int ef_construction, int threads) {
  vexfs_collection_config cfg;
  vexfs_collection_config_init(&cfg);
  cfg.dim = (uint32_t)dim;
  cfg.index = VEXFS_INDEX_HNSW;
  cfg.hnsw_m = (uint32_t)m;
  cfg.hnsw_ef_construction = (uint32_t)ef_construction;
  cfg.threads = (uint32_t)threads;
  return cfg;
}

// "a/b" as "1.23x", or "-" when either is not positive (not reached, not run).
inline std::string ratio_text(double a, double b) {
  if (a <= 0 || b <= 0) return "-";
  char s[32];
  snprintf(s, sizeof s, "%.2fx", a / b);
  return s;
}

inline double median(std::vector<double> s) {
  if (s.empty()) return 0;
  std::sort(s.begin(), s.end());
  return s[s.size() / 2];
}

#endif

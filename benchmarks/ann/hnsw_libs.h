// The HNSW libraries the ANN benchmarks (ann_bench, scale_bench) compare, behind one interface:
// libvexfs HNSW and hnswlib, each built from a Data set on some threads and answering one query
// at a given ef. M, efConstruction and k are fixed when the Lib is made.
#ifndef VEXFS_BENCH_HNSW_LIBS_H
#define VEXFS_BENCH_HNSW_LIBS_H

#include <vexfs/vexfs.h>

#include "../fashion_mnist.h"
#include "ann_common.h"
#include "hnswlib_index.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

struct Lib {
  std::string name;
  std::function<void(const Data &, int threads)> build;
  std::function<void(int ef)> set_ef;
  std::function<void(const float *q, uint64_t *out)> search;  // k ids
  std::function<void()> drop;
};

// libvexfs VEXFS_INDEX_HNSW, one vexfs_insert of every row (ids = row numbers); searches on one
// thread, one at a time (not thread-safe). `storage` is what traversal reads (F32: the index's
// 8-bit codes; F16, SQ8, SQ4: the store's codes), re-ranked on the rows kept in memory.
inline Lib make_vexfs_hnsw(int m, int ef_construction, size_t k,
                           vexfs_storage storage = VEXFS_STORAGE_F32) {
  auto col = std::make_shared<vexfs_collection *>(nullptr);
  auto params = std::make_shared<vexfs_search_params>();
  auto dist = std::make_shared<std::vector<float>>(k);  // one query at a time: shared
  Lib l;
  const char *names[] = {"libvexfs", "libvexfs-f16", "libvexfs-sq8", "libvexfs-sq4"};
  l.name = (unsigned)storage < 4 ? names[storage] : "libvexfs-?";
  l.build = [=](const Data &d, int threads) {
    vexfs_collection_config cfg = hnsw_config(d.dim, m, ef_construction, threads);
    cfg.storage = storage;
    check(vexfs_collection_create(&cfg, col.get()), "create");
    std::vector<uint64_t> ids(d.n);
    for (size_t i = 0; i < d.n; i++) ids[i] = i;
    check(vexfs_insert(*col, ids.data(), d.v.data(), d.n), "insert");
    vexfs_search_params_init(params.get());
    params->threads = 1;
  };
  l.set_ef = [params](int ef) { params->ef = ef; };
  l.search = [=](const float *q, uint64_t *out) {
    check(vexfs_search(*col, q, 1, k, params.get(), out, dist->data(), nullptr), "search");
  };
  l.drop = [col] {
    vexfs_collection_free(*col);
    *col = nullptr;
  };
  return l;
}

inline Lib make_hnswlib(int m, int ef_construction, size_t k) {
  auto s = std::make_shared<HnswlibIndex>();
  Lib l;
  l.name = "hnswlib";
  l.build = [=](const Data &d, int threads) { s->build(d, m, ef_construction, threads); };
  l.set_ef = [s](int ef) { s->alg->setEf(ef); };
  l.search = [=](const float *q, uint64_t *out) { s->knn(q, k, out); };
  l.drop = [s] { s->reset(); };
  return l;
}

#endif

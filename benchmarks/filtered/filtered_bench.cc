// Filtered search on Fashion-MNIST (60000 x 784): libvexfs HNSW with payloads, a Qdrant-style
// range filter and its planner, against hnswlib's filtered searchKnn, in one process on the same
// data, M=16, efConstruction=200, ef=64, k=10, one query at a time on one thread.
//
// Debian's hnswlib (0.6.2) has no filtered search (filter functors arrived in 0.7), so its
// filtered figures are what its users do instead: post-filtering, asking for k / share results
// (ef raised to match) and keeping the admitted ones.
//
// Each training vector gets a payload {"b": bucket} with the bucket drawn uniformly from [0, 1000)
// independently of the vector, so "b < 500/100/10/1" admits 50%, 10%, 1% and 0.1% of the rows.
// hnswlib gets the same predicate as a filter functor over the bucket array. Ground truth: the
// exact filtered top 10 by brute force (plain loops, independent of both libraries).
// Reports recall@10 and median QPS over interleaved rounds, each as a ratio to the library's own
// unfiltered QPS; libvexfs is measured with a numeric payload index on "b" (the planner's listed
// rows) and without one (sampled estimate, predicate tested per row).
//
// usage: filtered_bench [--rounds N] [--queries N] [--threads N]
#include <hnswlib/hnswlib.h>
#include <vexfs/vexfs.h>

#include "../fashion_mnist.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr int kM = 16, kEfc = 200, kEf = 64, kK = 10;
const int kLimits[] = {500, 100, 10, 1}; // "b < limit" admits limit / 1000 of the rows

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

void check(vexfs_status st, const char *what) {
  if (st != VEXFS_OK) {
    fprintf(stderr, "%s: %s\n", what, vexfs_last_error());
    exit(1);
  }
}

// Exact filtered top-k ids of each query (limit 1000 = no filter).
std::vector<std::vector<uint64_t>> ground_truth(const Data &train, const Data &test, size_t nq,
                                                const std::vector<int> &bucket, int limit) {
  std::vector<std::vector<uint64_t>> out(nq);
  std::vector<std::pair<float, uint64_t>> all;
  for (size_t q = 0; q < nq; q++) {
    all.clear();
    const float *qv = &test.v[q * test.dim];
    for (size_t i = 0; i < train.n; i++) {
      if (bucket[i] >= limit) continue;
      const float *x = &train.v[i * train.dim];
      float d = 0;
      for (size_t j = 0; j < train.dim; j++) d += (qv[j] - x[j]) * (qv[j] - x[j]);
      all.emplace_back(d, i);
    }
    size_t k = std::min<size_t>(kK, all.size());
    std::partial_sort(all.begin(), all.begin() + k, all.end());
    for (size_t i = 0; i < k; i++) out[q].push_back(all[i].second);
  }
  return out;
}

double recall(const std::vector<std::vector<uint64_t>> &got,
              const std::vector<std::vector<uint64_t>> &truth) {
  size_t hit = 0, total = 0;
  for (size_t q = 0; q < truth.size(); q++) {
    total += truth[q].size();
    for (uint64_t id : truth[q]) hit += std::count(got[q].begin(), got[q].end(), id);
  }
  return total ? (double)hit / total : 1.0;
}

struct Run {
  double qps;
  std::vector<std::vector<uint64_t>> ids;
  double distances = 0; // per query (libvexfs metrics)
};

Run run_vexfs(vexfs_collection *c, const Data &test, size_t nq, const char *filter) {
  vexfs_search_params p;
  vexfs_search_params_init(&p);
  p.ef = kEf;
  p.threads = 1;
  p.filter_json = filter;
  Run r{0, std::vector<std::vector<uint64_t>>(nq)};
  uint64_t ids[kK];
  float dist[kK];
  size_t count;
  vexfs_metrics_reset(c);
  double t0 = now();
  for (size_t q = 0; q < nq; q++) {
    check(vexfs_search(c, &test.v[q * test.dim], 1, kK, &p, ids, dist, &count), "vexfs_search");
    r.ids[q].assign(ids, ids + count);
  }
  r.qps = nq / (now() - t0);
  vexfs_metrics m;
  vexfs_metrics_init(&m);
  check(vexfs_collection_metrics(c, &m), "metrics");
  r.distances = (double)m.distance_computations / nq;
  return r;
}

// Post-filtering: k / share results from the graph, the admitted ones kept (k at most).
Run run_hnswlib(hnswlib::HierarchicalNSW<float> &h, const Data &test, size_t nq,
                const std::vector<int> &bucket, int limit) {
  size_t fetch = std::min<size_t>((size_t)kK * 1000 / limit, bucket.size());
  h.setEf(std::max<size_t>(kEf, fetch));
  Run r{0, std::vector<std::vector<uint64_t>>(nq)};
  std::vector<std::pair<float, uint64_t>> kept;
  double t0 = now();
  for (size_t q = 0; q < nq; q++) {
    auto res = h.searchKnn(&test.v[q * test.dim], fetch);
    kept.clear();
    for (; !res.empty(); res.pop())
      if (bucket[res.top().second] < limit) kept.emplace_back(res.top().first, res.top().second);
    std::sort(kept.begin(), kept.end());
    for (size_t i = 0; i < kept.size() && i < (size_t)kK; i++) r.ids[q].push_back(kept[i].second);
  }
  r.qps = nq / (now() - t0);
  return r;
}

} // namespace

int main(int argc, char **argv) {
  int rounds = 5;
  size_t nq = 300;
  unsigned threads = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--rounds")) rounds = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--queries")) nq = strtoul(argv[i + 1], nullptr, 10);
    else if (!strcmp(argv[i], "--threads")) threads = (unsigned)atoi(argv[i + 1]);
  }
  Data train = load_fashion_mnist("train");
  Data test = load_fashion_mnist("t10k");
  nq = std::min(nq, test.n);

  std::vector<int> bucket(train.n);
  uint64_t state = 12345;
  for (auto &b : bucket) { // splitmix64
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    b = (int)((z ^ (z >> 31)) % 1000);
  }

  // libvexfs: one batch with payloads, built on `threads` threads
  vexfs_collection_config cfg;
  vexfs_collection_config_init(&cfg);
  cfg.dim = (uint32_t)train.dim;
  cfg.index = VEXFS_INDEX_HNSW;
  cfg.hnsw_m = kM;
  cfg.hnsw_ef_construction = kEfc;
  cfg.threads = threads;
  vexfs_collection *c;
  check(vexfs_collection_create(&cfg, &c), "create");
  std::vector<uint64_t> ids(train.n);
  std::vector<std::string> json(train.n);
  std::vector<const char *> payloads(train.n);
  for (size_t i = 0; i < train.n; i++) {
    ids[i] = i;
    json[i] = "{\"b\":" + std::to_string(bucket[i]) + "}";
    payloads[i] = json[i].c_str();
  }
  double t0 = now();
  check(vexfs_insert_with_payload(c, ids.data(), train.v.data(), payloads.data(), train.n), "insert");
  double vexfs_build = now() - t0;

  hnswlib::L2Space space(train.dim);
  hnswlib::HierarchicalNSW<float> h(&space, train.n, kM, kEfc, 100);
  t0 = now();
  {
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < threads; t++)
      pool.emplace_back([&, t] {
        for (size_t i = t; i < train.n; i += threads) h.addPoint(&train.v[i * train.dim], i);
      });
    for (auto &th : pool) th.join();
  }
  double hnswlib_build = now() - t0;
  printf("built %zu x %zu on %u threads: libvexfs %.1f s (payloads included), hnswlib %.1f s\n",
         train.n, train.dim, threads, vexfs_build, hnswlib_build);

  // the rows, the filters, and their ground truth; "none" = no filter
  struct Case {
    const char *name;
    int limit;
    std::string filter;
    std::vector<std::vector<uint64_t>> truth;
  };
  std::vector<Case> cases;
  cases.push_back({"none", 1000, "", {}});
  for (int limit : kLimits) {
    char name[32];
    snprintf(name, sizeof name, "%.1f%%", limit / 10.0);
    cases.push_back({strdup(name), limit,
                     "{\"must\":[{\"key\":\"b\",\"range\":{\"lt\":" + std::to_string(limit) + "}}]}", {}});
  }
  for (auto &cs : cases) cs.truth = ground_truth(train, test, nq, bucket, cs.limit);

  // three configurations measured in interleaved rounds: vexfs without index, vexfs with the
  // numeric index, hnswlib
  enum { NOINDEX, INDEXED, HNSWLIB, CONFIGS };
  std::vector<std::vector<std::vector<double>>> qps(CONFIGS, std::vector<std::vector<double>>(cases.size()));
  std::vector<std::vector<double>> rec(CONFIGS, std::vector<double>(cases.size()));
  std::vector<std::vector<double>> work(CONFIGS, std::vector<double>(cases.size()));
  for (int round = 0; round < rounds; round++)
    for (int config : {NOINDEX, INDEXED, HNSWLIB}) {
      if (config == INDEXED && round == 0)
        check(vexfs_create_payload_index(c, "b", VEXFS_PAYLOAD_INDEX_NUMERIC), "index");
      if (config == NOINDEX && round > 0)
        check(vexfs_drop_payload_index(c, "b", VEXFS_PAYLOAD_INDEX_NUMERIC), "drop");
      if (config == INDEXED && round > 0)
        check(vexfs_create_payload_index(c, "b", VEXFS_PAYLOAD_INDEX_NUMERIC), "index");
      for (size_t i = 0; i < cases.size(); i++) {
        const Case &cs = cases[i];
        Run r = config == HNSWLIB ? run_hnswlib(h, test, nq, bucket, cs.limit)
                                  : run_vexfs(c, test, nq, cs.limit < 1000 ? cs.filter.c_str() : nullptr);
        qps[config][i].push_back(r.qps);
        rec[config][i] = recall(r.ids, cs.truth);
        work[config][i] = r.distances;
      }
    }

  printf("\n%zu queries, k=%d, ef=%d, 1 thread, median of %d interleaved rounds\n\n", nq, kK, kEf, rounds);
  printf("| filter admits | libvexfs recall@10 | libvexfs QPS | vs unfiltered | libvexfs no index: recall | QPS | vs unfiltered "
         "| hnswlib post-filter recall@10 | hnswlib QPS | vs unfiltered | libvexfs / hnswlib QPS |\n");
  printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
  double unfiltered[CONFIGS];
  for (int k = 0; k < CONFIGS; k++) unfiltered[k] = median(qps[k][0]);
  for (size_t i = 0; i < cases.size(); i++) {
    double v = median(qps[INDEXED][i]), n = median(qps[NOINDEX][i]), hq = median(qps[HNSWLIB][i]);
    printf("| %s | %.4f | %.0f | %.2fx | %.4f | %.0f | %.2fx | %.4f | %.0f | %.3fx | %.2fx |\n", cases[i].name,
           rec[INDEXED][i], v, v / unfiltered[INDEXED], rec[NOINDEX][i], n, n / unfiltered[NOINDEX], rec[HNSWLIB][i],
           hq, hq / unfiltered[HNSWLIB], v / hq);
  }
  printf("\nlibvexfs distance computations per query (indexed / no index):");
  for (size_t i = 0; i < cases.size(); i++)
    printf(" %s %.0f / %.0f;", cases[i].name, work[INDEXED][i], work[NOINDEX][i]);
  printf("\n");
  vexfs_collection_free(c);
  return 0;
}

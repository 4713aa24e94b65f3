// ANN benchmark on Fashion-MNIST: libvexfs HNSW against hnswlib and faiss IndexHNSWFlat, in one
// process, on the same data and the same machine, M=16, efConstruction=200, k=10.
//
// Builds each index on 1 and on 2 threads, alternating, for several rounds (median times; faiss,
// whose builds take minutes, once), then builds each on 1 thread to keep (memory = RSS growth) and
// sweeps ef with single-query searches on one thread (rounds interleaved across libraries; median
// QPS). Ground truth: exact search (libvexfs FLAT, checked against faiss IndexFlatL2 in
// flat_fashion_mnist.py). Prints markdown tables and writes ann.dat + a gnuplot recall/QPS plot.
//
// usage: ann_bench [--rounds N] [--build-rounds N] [--queries N] [--out DIR] [--no-faiss]
#include <faiss/IndexHNSW.h>
#include <malloc.h>
#include <omp.h>
#include <vexfs/vexfs.h>

#include "../fashion_mnist.h"
#include "ann_common.h"
#include "hnsw_libs.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

namespace {

constexpr int kM = 16, kEfc = 200, kK = 10;
const int kEfs[] = {10, 16, 24, 32, 48, 64, 96, 128, 256};

Lib make_faiss() {
  auto idx = std::make_shared<std::unique_ptr<faiss::IndexHNSWFlat>>();
  Lib l;
  l.name = "faiss";
  l.build = [idx](const Data &d, int threads) {
    omp_set_num_threads(threads);
    idx->reset(new faiss::IndexHNSWFlat((int)d.dim, kM));
    (*idx)->hnsw.efConstruction = kEfc;
    (*idx)->add((faiss::Index::idx_t)d.n, d.v.data());
    omp_set_num_threads(1);
  };
  l.set_ef = [idx](int ef) { (*idx)->hnsw.efSearch = ef; };
  l.search = [idx](const float *q, uint64_t *out) {
    float dist[kK];
    faiss::Index::idx_t labels[kK];
    (*idx)->search(1, q, kK, dist, labels);
    for (int i = 0; i < kK; i++) out[i] = labels[i] < 0 ? UINT64_MAX : (uint64_t)labels[i];
  };
  l.drop = [idx] { idx->reset(); };
  return l;
}

struct Point {
  double recall = 0;
  std::vector<double> qps;
  double median() const { return ::median(qps); }
};

}  // namespace

int main(int argc, char **argv) {
  int rounds = 3, build_rounds = 3;
  size_t nq = 10000;
  std::string out = ".";
  bool with_faiss = true;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (a == "--rounds" && i + 1 < argc) rounds = atoi(argv[++i]);
    else if (a == "--build-rounds" && i + 1 < argc) build_rounds = atoi(argv[++i]);
    else if (a == "--queries" && i + 1 < argc) nq = strtoul(argv[++i], nullptr, 10);
    else if (a == "--out" && i + 1 < argc) out = argv[++i];
    else if (a == "--no-faiss") with_faiss = false;
    else {
      fprintf(stderr, "usage: %s [--rounds N] [--build-rounds N] [--queries N] [--out DIR] [--no-faiss]\n",
              argv[0]);
      return 2;
    }
  }
  Data train = load_fashion_mnist("train");
  Data test = load_fashion_mnist("t10k");
  nq = std::min(nq, test.n);
  omp_set_num_threads(1);
  printf("Fashion-MNIST %zux%zu, %zu queries, k=%d, M=%d, efConstruction=%d; libvexfs %s (%s)\n",
         train.n, train.dim, nq, kK, kM, kEfc, vexfs_version_string(), vexfs_simd_isa());

  // exact ground truth
  std::vector<uint64_t> truth = exact_truth(train, test, nq);

  std::vector<Lib> libs = {make_vexfs_hnsw(kM, kEfc, kK), make_hnswlib(kM, kEfc, kK)};
  if (with_faiss) libs.push_back(make_faiss());

  std::vector<uint64_t> got(nq * kK);
  auto recall_at_64 = [&](Lib &l) {
    l.set_ef(64);
    for (size_t q = 0; q < nq; q++) l.search(test.v.data() + q * test.dim, got.data() + q * kK);
    return recall_of(got, truth, nq);
  };
  auto timed_build = [&](Lib &l, int threads) {
    double t0 = now();
    l.build(train, threads);
    return now() - t0;
  };
  std::map<std::string, std::vector<double>> b1, b2;
  std::map<std::string, double> mem, recall2;
  for (int r = 0; r < build_rounds; r++)
    for (auto &l : libs) {
      if (l.name == "faiss" && r > 0) continue;
      b1[l.name].push_back(timed_build(l, 1));
      l.drop();
      malloc_trim(0);
      b2[l.name].push_back(timed_build(l, 2));
      recall2[l.name] = recall_at_64(l);
      l.drop();
      malloc_trim(0);
      printf("round %d: %s built in %.1f s on 1 thread, %.1f s on 2 (recall@10 ef=64 %.4f)\n", r,
             l.name.c_str(), b1[l.name].back(), b2[l.name].back(), recall2[l.name]);
      fflush(stdout);
    }
  std::map<std::string, double> build1, build2;
  for (auto &l : libs) {
    build1[l.name] = median(b1[l.name]);
    build2[l.name] = median(b2[l.name]);
    size_t before = rss_bytes();
    l.build(train, 1);
    mem[l.name] = (double)(rss_bytes() - before) / train.n;
  }

  std::map<std::string, std::map<int, Point>> sweep;
  for (int r = 0; r < rounds; r++)
    for (int ef : kEfs)
      for (auto &l : libs) {
        l.set_ef(ef);
        double t0 = now();
        for (size_t q = 0; q < nq; q++) l.search(test.v.data() + q * test.dim, got.data() + q * kK);
        double qps = nq / (now() - t0);
        Point &p = sweep[l.name][ef];
        p.recall = recall_of(got, truth, nq);
        p.qps.push_back(qps);
      }

  printf("\n### Recall and single-thread QPS (median of %d rounds)\n\n| ef |", rounds);
  for (auto &l : libs) printf(" %s recall | %s QPS |", l.name.c_str(), l.name.c_str());
  printf("\n|---|");
  for (size_t i = 0; i < libs.size(); i++) printf("---|---|");
  printf("\n");
  FILE *dat = fopen((out + "/ann.dat").c_str(), "w");
  for (auto &l : libs) {
    if (dat) fprintf(dat, "# %s\n", l.name.c_str());
    for (int ef : kEfs)
      if (dat) fprintf(dat, "%.4f %.1f %d\n", sweep[l.name][ef].recall, sweep[l.name][ef].median(), ef);
    if (dat) fprintf(dat, "\n\n");
  }
  if (dat) fclose(dat);
  for (int ef : kEfs) {
    printf("| %d |", ef);
    for (auto &l : libs) printf(" %.4f | %.0f |", sweep[l.name][ef].recall, sweep[l.name][ef].median());
    printf("\n");
  }

  auto best_qps = [&](const std::string &lib, double target) {
    double best = 0;
    for (int ef : kEfs)
      if (sweep[lib][ef].recall >= target) best = std::max(best, sweep[lib][ef].median());
    return best;
  };
  printf("\n### Build (median of %d rounds; faiss 1) and memory\n\n| library | build 1 thread (s) | "
         "build 2 threads (s) | speed-up | recall@10 ef=64, 2-thread build | memory (bytes/vector, "
         "RSS) |\n|---|---|---|---|---|---|\n",
         build_rounds);
  for (auto &l : libs)
    printf("| %s | %.1f | %.1f | %.2fx | %.4f | %.0f |\n", l.name.c_str(), build1[l.name],
           build2[l.name], build1[l.name] / build2[l.name], recall2[l.name], mem[l.name]);

  const std::string us = "libvexfs", peer = "hnswlib";
  printf("\n### Targets (libvexfs against hnswlib)\n\n| target | measured | met |\n|---|---|---|\n");
  double bs = build1[peer] / build1[us];
  printf("| build speed >= 1.3x | %.2fx (%.1f s vs %.1f s) | %s |\n", bs, build1[us], build1[peer],
         bs >= 1.3 ? "yes" : "no");
  for (double target : {0.95, 0.99}) {
    double a = best_qps(us, target), b = best_qps(peer, target);
    printf("| QPS at recall >= %.2f >= 1.3x | %.2fx (%.0f vs %.0f) | %s |\n", target, b > 0 ? a / b : 0,
           a, b, b > 0 && a / b >= 1.3 ? "yes" : "no");
  }
  double dr = sweep[us][64].recall - sweep[peer][64].recall;
  printf("| recall at ef=64 no more than 0.005 below | %+.4f (%.4f vs %.4f) | %s |\n", dr,
         sweep[us][64].recall, sweep[peer][64].recall, dr >= -0.005 ? "yes" : "no");
  double sp = build1[us] / build2[us];
  printf("| 2-thread build >= 1.7x faster, same recall | %.2fx (recall %.4f vs %.4f) | %s |\n", sp,
         recall2[us], sweep[us][64].recall,
         sp >= 1.7 && recall2[us] >= sweep[us][64].recall - 0.005 ? "yes" : "no");
  printf("| memory per vector no higher than hnswlib | %.0f vs %.0f bytes | %s |\n", mem[us], mem[peer],
         mem[us] <= mem[peer] ? "yes" : "no");

  // the plot: plot.sh beside this file (its path set by the build), given the output folder
  std::string cmd = std::string("sh '") + VX_PLOT_SCRIPT + "' '" + out + "' 2>/dev/null";
  if (system(cmd.c_str()) == 0) printf("\nplot: %s/ann_fashion_mnist.png\n", out.c_str());
  return 0;
}

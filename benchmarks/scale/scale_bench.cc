// HNSW at scale (issue 23): libvexfs against hnswlib as n, d and the data change, in one process,
// on the same data, M=16, efConstruction=200, k=10.
//
// Datasets: gauss96 and gauss128, a mixture of Gaussians (gaussian_mixture.h) at n = --sizes
// (default 100 000, 300 000 and 1 000 000, prefixes of one draw), 10 000 queries from the same
// mixture; fmnist, Fashion-MNIST 60 000 x 784 with its 10 000 test images; rotated, the same
// multiplied by a seeded random orthogonal matrix (rotation.h).
//
// Per dataset and size: exact ground truth (libvexfs FLAT, a batch on every core, not timed);
// --build-rounds builds of each library on --threads threads (libvexfs: `threads` in the config
// and one vexfs_insert of every row; hnswlib: addPoint from that many threads), the libraries'
// order alternating, build time the median; memory, the process's RSS growth over the last build,
// per vector (rows included: both hold a copy). Then single-query searches on one thread across
// an ef sweep: round 0 runs every query for recall@10 (and is timed), later rounds time the first
// --time-queries (2000) again, repeated until --point-seconds (0.5 s) have passed, the libraries'
// order reversed every other round; QPS is the median of the rounds. A
// library's sweep stops after two points at recall >= 0.997.
//
// Prints markdown tables per dataset and size, a summary (QPS at recall >= 0.95 and >= 0.99, the
// best point reaching it; build time; bytes/vector; libvexfs / hnswlib), the growth exponents
// (least-squares slope of log QPS and log build time against log n, per dataset and library),
// and writes scale_sweep.dat, scale.dat and, through plot_scale.sh, scale.png.
//
// usage: scale_bench [--datasets gauss96,gauss128,fmnist,rotated] [--sizes 100000,300000,1000000]
//                    [--libs libvexfs,hnswlib] (one alone: the summary's ratios are left empty;
//                    libvexfs-f16: storage F16, traversal on half floats, re-rank on the rows)
//                    [--queries N] [--time-queries N] [--point-seconds S] [--rounds N]
//                    [--build-rounds N] [--threads N] [--out DIR]
#include <malloc.h>
#include <vexfs/vexfs.h>

#include "../ann/ann_common.h"
#include "../ann/hnsw_libs.h"
#include "../ann/rotation.h"
#include "../fashion_mnist.h"
#include "gaussian_mixture.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace {

constexpr int kM = 16, kEfc = 200, kK = 10;
// Steps of at most ~17% from 48 on: both libraries pass 0.95 and 0.99 between these points, and a
// coarser grid makes "QPS at recall" a matter of which side of a step a library's recall falls.
const int kEfs[] = {10, 12, 16, 20, 24, 32, 40, 48, 56, 64, 72, 80, 88, 96, 112, 128, 144, 160, 192, 224, 256, 384, 512};
constexpr uint64_t kMixtureSeed = 23, kRowStream = 1, kQueryStream = 2, kRotationSeed = 1234;

struct Options {
  std::vector<std::string> datasets = {"gauss96", "gauss128", "fmnist", "rotated"};
  std::vector<size_t> sizes = {100000, 300000, 1000000};
  std::vector<std::string> libs = {"libvexfs", "hnswlib"};
  size_t queries = 10000, time_queries = 2000;
  int rounds = 3, build_rounds = 3, threads = 2;
  double point_seconds = 0.5;
  std::string out = ".";
};

struct Point {
  double recall = -1;
  std::vector<double> qps;
};

// What one dataset at one size measured, per library.
struct Result {
  std::string dataset;
  size_t n = 0, dim = 0;
  std::map<std::string, double> build_s, bytes;
  std::map<std::string, std::map<int, Point>> sweep;

  // The best median QPS over the points reaching `target` recall, and its ef (0: none).
  std::pair<double, int> best(const std::string &lib, double target) const {
    std::pair<double, int> b{0, 0};
    if (!sweep.count(lib)) return b;
    for (auto &[ef, p] : sweep.at(lib))
      if (p.recall >= target && median(p.qps) > b.first) b = {median(p.qps), ef};
    return b;
  }
};

Result run_one(const Options &o, const std::string &dataset, const Data &train, const Data &test,
               std::vector<Lib> &libs) {
  Result res;
  res.dataset = dataset;
  res.n = train.n;
  res.dim = train.dim;
  size_t nq = std::min(o.queries, test.n), tq = std::min(o.time_queries, nq);
  printf("\n## %s: %zux%zu, %zu queries (QPS timed on the first %zu, at least %.1f s, after round 0), k=%d, M=%d, "
         "efConstruction=%d, builds on %d threads, searches on 1\n\n",
         dataset.c_str(), train.n, train.dim, nq, tq, o.point_seconds, kK, kM, kEfc, o.threads);
  fflush(stdout);
  double t0 = now();
  std::vector<uint64_t> truth = exact_truth(train, test, nq);
  printf("ground truth: %.1f s\n", now() - t0);

  std::map<std::string, std::vector<double>> builds;
  for (int r = 0; r < o.build_rounds; r++)
    for (size_t i = 0; i < libs.size(); i++) {
      Lib &l = libs[r % 2 ? libs.size() - 1 - i : i];
      bool keep = r == o.build_rounds - 1;
      malloc_trim(0);
      size_t before = rss_bytes();
      double b0 = now();
      l.build(train, o.threads);
      builds[l.name].push_back(now() - b0);
      if (keep) res.bytes[l.name] = ((double)rss_bytes() - (double)before) / train.n;
      printf("build round %d: %s %.1f s\n", r, l.name.c_str(), builds[l.name].back());
      fflush(stdout);
      if (!keep) l.drop();
    }
  for (auto &l : libs) res.build_s[l.name] = median(builds[l.name]);

  std::vector<uint64_t> got(nq * kK);
  std::map<std::string, int> stop_ef;  // past this ef a library's sweep is done
  for (auto &l : libs) stop_ef[l.name] = 1 << 30;
  for (int r = 0; r < o.rounds; r++)
    for (int ef : kEfs)
      for (size_t i = 0; i < libs.size(); i++) {
        Lib &l = libs[r % 2 ? libs.size() - 1 - i : i];
        if (ef > stop_ef[l.name]) continue;
        l.set_ef(ef);
        double s0 = now(), took = 0;
        size_t count = 0;  // round 0: every query; later: the first tq, again until point_seconds
        do {
          size_t q = r == 0 ? count : count % tq;
          l.search(test.v.data() + q * test.dim, got.data() + q * kK);
          count++;
          if (r > 0 && count % 64 == 0) took = now() - s0;
        } while (r == 0 ? count < nq : count < tq || took < o.point_seconds);
        Point &p = res.sweep[l.name][ef];
        p.qps.push_back(count / (now() - s0));
        if (r > 0) continue;
        p.recall = recall_of(got, truth, nq);
        printf("round 0: %s ef=%d recall %.4f, %.0f QPS\n", l.name.c_str(), ef, p.recall, p.qps[0]);
        fflush(stdout);
        int high = 0;
        for (auto &[e, pt] : res.sweep[l.name]) high += pt.recall >= 0.997;
        if (high >= 2) stop_ef[l.name] = ef;
      }
  for (auto &l : libs) l.drop();
  malloc_trim(0);

  printf("\n### %s, n=%zu: recall@10 and single-thread QPS (median of %d rounds)\n\n| ef |", dataset.c_str(),
         train.n, o.rounds);
  for (auto &l : libs) printf(" %s recall | %s QPS |", l.name.c_str(), l.name.c_str());
  printf("\n|---|");
  for (size_t i = 0; i < libs.size(); i++) printf("---|---|");
  printf("\n");
  for (int ef : kEfs) {
    bool any = false;
    for (auto &l : libs) any |= res.sweep[l.name].count(ef) > 0;
    if (!any) continue;
    printf("| %d |", ef);
    for (auto &l : libs) {
      auto it = res.sweep[l.name].find(ef);
      if (it == res.sweep[l.name].end()) printf(" - | - |");
      else printf(" %.4f | %.0f |", it->second.recall, median(it->second.qps));
    }
    printf("\n");
  }
  printf("\n| library | build (s, median of %d) | bytes/vector (RSS growth) | QPS at 0.95 | QPS at 0.99 |\n"
         "|---|---|---|---|---|\n",
         o.build_rounds);
  for (auto &l : libs) {
    auto b95 = res.best(l.name, 0.95), b99 = res.best(l.name, 0.99);
    printf("| %s | %.1f | %.0f | %.0f (ef=%d) | %.0f (ef=%d) |\n", l.name.c_str(), res.build_s[l.name],
           res.bytes[l.name], b95.first, b95.second, b99.first, b99.second);
  }
  fflush(stdout);
  return res;
}

// Least-squares slope of log y against log n over the results of one dataset (those with y > 0).
double exponent(const std::vector<const Result *> &rs, const std::function<double(const Result &)> &y) {
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  int m = 0;
  for (auto *r : rs) {
    double v = y(*r);
    if (v <= 0) continue;
    double lx = std::log((double)r->n), ly = std::log(v);
    sx += lx, sy += ly, sxx += lx * lx, sxy += lx * ly, m++;
  }
  if (m < 2) return NAN;
  return (m * sxy - sx * sy) / (m * sxx - sx * sx);
}

std::vector<std::string> split(const std::string &s) {
  std::vector<std::string> v;
  std::stringstream in(s);
  for (std::string t; std::getline(in, t, ',');)
    if (!t.empty()) v.push_back(t);
  return v;
}

int usage(const char *argv0) {
  fprintf(stderr,
          "usage: %s [--datasets gauss96,gauss128,fmnist,rotated] [--sizes 100000,300000,1000000]\n"
          "          [--libs libvexfs,libvexfs-f16,hnswlib]\n"
          "          [--queries N] [--time-queries N] [--point-seconds S] [--rounds N] [--build-rounds N]\n"
          "          [--threads N] [--out DIR]\n",
          argv0);
  return 2;
}

}  // namespace

int main(int argc, char **argv) {
  Options o;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i], v = i + 1 < argc ? argv[i + 1] : "";
    if (i + 1 >= argc) return usage(argv[0]);
    i++;
    if (a == "--datasets") o.datasets = split(v);
    else if (a == "--libs") o.libs = split(v);
    else if (a == "--sizes") {
      o.sizes.clear();
      for (auto &s : split(v)) o.sizes.push_back(strtoul(s.c_str(), nullptr, 10));
    } else if (a == "--queries") o.queries = strtoul(v.c_str(), nullptr, 10);
    else if (a == "--time-queries") o.time_queries = strtoul(v.c_str(), nullptr, 10);
    else if (a == "--rounds") o.rounds = atoi(v.c_str());
    else if (a == "--build-rounds") o.build_rounds = atoi(v.c_str());
    else if (a == "--threads") o.threads = atoi(v.c_str());
    else if (a == "--point-seconds") o.point_seconds = atof(v.c_str());
    else if (a == "--out") o.out = v;
    else return usage(argv[0]);
  }
  for (auto &d : o.datasets)
    if (d != "fmnist" && d != "rotated" && d.rfind("gauss", 0) != 0) return usage(argv[0]);
  for (auto &l : o.libs)
    if (l != "libvexfs" && l != "libvexfs-f16" && l != "hnswlib") return usage(argv[0]);
  if (o.sizes.empty() || o.rounds < 1 || o.build_rounds < 1 || o.threads < 1 || o.queries < 1 ||
      o.time_queries < 1)
    return usage(argv[0]);
  std::sort(o.sizes.begin(), o.sizes.end());

  printf("# HNSW at scale: libvexfs %s (%s) against hnswlib\n\nscale_bench", vexfs_version_string(),
         vexfs_simd_isa());
  for (int i = 1; i < argc; i++) printf(" %s", argv[i]);
  printf("\n");
  double start = now();
  std::vector<Lib> libs;
  for (auto &name : o.libs)
    libs.push_back(name == "hnswlib"       ? make_hnswlib(kM, kEfc, kK)
                   : name == "libvexfs-f16" ? make_vexfs_hnsw(kM, kEfc, kK, VEXFS_STORAGE_F16)
                                            : make_vexfs_hnsw(kM, kEfc, kK));
  std::vector<Result> results;
  for (auto &name : o.datasets) {
    if (name == "fmnist" || name == "rotated") {
      Data train = load_fashion_mnist("train"), test = load_fashion_mnist("t10k");
      if (name == "rotated") {
        std::vector<double> q = random_orthogonal(train.dim, kRotationSeed);
        train = rotated(train, q);
        test = rotated(test, q);
      }
      results.push_back(run_one(o, name, train, test, libs));
      continue;
    }
    size_t dim = strtoul(name.c_str() + 5, nullptr, 10);
    if (dim < 1) return usage(argv[0]);
    GaussianMixture mix(dim, kMixtureSeed);
    Data all = mix.draw(o.sizes.back(), kRowStream), test = mix.draw(o.queries, kQueryStream);
    for (size_t n : o.sizes) {
      Data train;
      train.n = n;
      train.dim = dim;
      train.v.assign(all.v.begin(), all.v.begin() + n * dim);
      results.push_back(run_one(o, name, train, test, libs));
    }
  }

  printf("\n## Summary: libvexfs against hnswlib (QPS: single-thread, best point at the recall; "
         "build: %d threads)\n\n| dataset | n | QPS at 0.95: libvexfs / hnswlib | QPS at 0.99: libvexfs / "
         "hnswlib | build s: libvexfs / hnswlib | bytes/vector: libvexfs / hnswlib |\n|---|---|---|---|---|---|\n",
         o.threads);
  const std::string us = "libvexfs", peer = "hnswlib";
  FILE *dat = fopen((o.out + "/scale.dat").c_str(), "w");
  FILE *sweep = fopen((o.out + "/scale_sweep.dat").c_str(), "w");
  if (dat) fprintf(dat, "# dataset n lib build_s bytes_per_vector qps95 qps99\n");
  for (auto &r : results) {
    auto a95 = r.best(us, 0.95), b95 = r.best(peer, 0.95), a99 = r.best(us, 0.99), b99 = r.best(peer, 0.99);
    printf("| %s | %zu | %s: %.0f (ef=%d) / %.0f (ef=%d) | %s: %.0f (ef=%d) / %.0f (ef=%d) | %s: %.1f / %.1f | "
           "%.0f / %.0f |\n",
           r.dataset.c_str(), r.n, ratio_text(a95.first, b95.first).c_str(), a95.first, a95.second, b95.first,
           b95.second, ratio_text(a99.first, b99.first).c_str(), a99.first, a99.second, b99.first, b99.second,
           ratio_text(r.build_s[peer], r.build_s[us]).c_str(), r.build_s[us], r.build_s[peer], r.bytes[us],
           r.bytes[peer]);
    for (auto &l : libs) {
      if (dat)
        fprintf(dat, "%s %zu %s %.2f %.0f %.0f %.0f\n", r.dataset.c_str(), r.n, l.name.c_str(), r.build_s[l.name],
                r.bytes[l.name], r.best(l.name, 0.95).first, r.best(l.name, 0.99).first);
      if (sweep) {
        fprintf(sweep, "# %s n=%zu %s\n", r.dataset.c_str(), r.n, l.name.c_str());
        for (auto &[ef, p] : r.sweep[l.name]) fprintf(sweep, "%.4f %.1f %d\n", p.recall, median(p.qps), ef);
        fprintf(sweep, "\n\n");
      }
    }
  }
  if (dat) fclose(dat);
  if (sweep) fclose(sweep);

  printf("\n## How cost grows with n (least-squares exponent of log y against log n over the sizes run)\n\n"
         "| dataset | library | build time ~ n^a | QPS at 0.95 ~ n^b | QPS at 0.99 ~ n^c |\n|---|---|---|---|---|\n");
  for (auto &name : o.datasets) {
    std::vector<const Result *> rs;
    for (auto &r : results)
      if (r.dataset == name) rs.push_back(&r);
    if (rs.size() < 2) continue;
    for (auto &l : libs)
      printf("| %s | %s | %.3f | %.3f | %.3f |\n", name.c_str(), l.name.c_str(),
             exponent(rs, [&](const Result &r) { return r.build_s.at(l.name); }),
             exponent(rs, [&](const Result &r) { return r.best(l.name, 0.95).first; }),
             exponent(rs, [&](const Result &r) { return r.best(l.name, 0.99).first; }));
  }

  std::string cmd = std::string("sh '") + VX_PLOT_SCRIPT + "' '" + o.out + "' 2>/dev/null";
  if (system(cmd.c_str()) == 0) printf("\nplot: %s/scale.png\n", o.out.c_str());
  printf("\ntotal: %.0f s\n", now() - start);
  return 0;
}

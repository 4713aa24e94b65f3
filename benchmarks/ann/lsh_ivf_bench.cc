// LSH and IVF benchmark on Fashion-MNIST: libvexfs VEXFS_INDEX_LSH and VEXFS_INDEX_IVF (f32 and
// 8-bit lists) against faiss IndexLSH+IndexRefineFlat, IndexIVFFlat, IndexIVFScalarQuantizer
// (QT_8bit) and IndexIVFPQ+IndexRefineFlat, with libvexfs HNSW (M=16, efConstruction=200) as the
// reference line; in one process, on the same data and the same machine, one thread, k=10.
//
// Per dataset (Fashion-MNIST as is, and the same rows times a random orthogonal matrix, so that
// distances and neighbours stay but coordinates are no longer small integers): exact ground truth
// (libvexfs FLAT, checked against faiss IndexFlatL2 on a sample), then every index is built on one
// thread (build = train + add; memory = RSS growth, and what the index holds), then each index's
// search knob is swept with one query per call: round 0 runs every point over the queries (all of
// them unless the point has run --point-seconds first; recall is over the queries run, and they
// are printed) for recall and the first QPS sample; a sweep stops past a point with recall >=
// --stop-recall or QPS below --min-qps. Later rounds time the same points again on a prefix of
// the queries lasting about --round-seconds, the order of the indexes reversed every other round;
// QPS is the median over rounds. Then single-vector inserts into the built libvexfs
// LSH and IVF collections (the test rows under new ids). Prints markdown tables, writes
// lsh_ivf_<dataset>.dat and a gnuplot recall/QPS plot per dataset (plot_lsh_ivf.sh).
//
// usage: lsh_ivf_bench [--quick] [--dataset fmnist|rotated|both] [--queries N] [--rounds N]
//          [--out DIR] [--only SUBSTRING] [--lsh-tables T] [--lsh-bits B] [--vexfs-nlist A,B,..]
//          [--faiss-lsh-bits A,B,..] [--stop-recall R] [--min-qps Q] [--point-seconds S]
//          [--round-seconds S]
#include <faiss/IndexFlat.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/IndexIVFPQ.h>
#include <faiss/IndexLSH.h>
#include <faiss/IndexRefine.h>
#include <faiss/IndexScalarQuantizer.h>
#include <faiss/VectorTransform.h>
#include <faiss/invlists/InvertedLists.h>
#include <dlfcn.h>
#include <malloc.h>
#include <omp.h>
#include <vexfs/vexfs.h>

#include "../fashion_mnist.h"
#include "ann_common.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

namespace {

constexpr int kK = 10, kM = 16, kEfc = 200;
constexpr uint64_t kRotationSeed = 1234;

std::vector<int> parse_list(const char *s) {
  std::vector<int> v;
  for (const char *p = s; *p;) {
    v.push_back(atoi(p));
    p = strchr(p, ',');
    if (!p) break;
    p++;
  }
  return v;
}

// One point of a sweep: up to two knob values (IVFPQ+refine sweeps nprobe and k_factor).
struct Knob {
  int a = 0, b = 0;
};

struct Point {
  Knob knob;
  std::string label;
  double recall = -1;
  std::vector<double> qps;
  size_t nq = 0;  // queries its recall is measured on (round 0)
  bool skipped = false;
  double median_qps() const { return median(qps); }
};

// One index configuration under test.
struct Index {
  std::string name;    // e.g. "faiss IVF245,Flat"
  std::string family;  // what it is compared as: "vexfs-lsh", "faiss-ivfflat", ...
  int nlist = 0;       // IVF lists asked for (0 = the index's default), for the build ratio
  std::vector<Point> points;
  std::function<void(const Data &)> build;  // over the rows
  std::function<void(Knob)> set;
  std::function<void(const float *q, uint64_t *out)> search;  // kK ids
  std::function<double()> held_bytes;                         // bytes the index holds
  std::function<void(const float *row, uint64_t id)> insert;  // libvexfs LSH/IVF only
  std::function<std::string()> describe;                      // after build: resolved settings
  std::function<void()> drop;
  // results
  double build_s = 0, rss_per_vec = 0, held_per_vec = 0, insert_per_s = 0, first_query_ms = 0;
};

std::vector<Point> sweep1(const char *knob, std::initializer_list<int> values) {
  std::vector<Point> v;
  for (int x : values) {
    Point p;
    p.knob.a = x;
    p.label = std::string(knob) + "=" + std::to_string(x);
    v.push_back(p);
  }
  return v;
}

// ---- libvexfs -------------------------------------------------------------------------------

struct VexfsState {
  vexfs_collection *col = nullptr;
  vexfs_search_params params;
  size_t n = 0;
};

Index make_vexfs(const std::string &name, const std::string &family,
                 std::function<void(vexfs_collection_config *)> configure, std::vector<Point> points,
                 std::function<void(vexfs_search_params *, Knob)> set) {
  auto s = std::make_shared<VexfsState>();
  Index ix;
  ix.name = name;
  ix.family = family;
  ix.points = std::move(points);
  ix.build = [s, configure](const Data &d) {
    vexfs_collection_config cfg;
    vexfs_collection_config_init(&cfg);
    cfg.dim = (uint32_t)d.dim;
    cfg.threads = 1;
    configure(&cfg);
    check(vexfs_collection_create(&cfg, &s->col), "create");
    std::vector<uint64_t> ids(d.n);
    for (size_t i = 0; i < d.n; i++) ids[i] = i;
    check(vexfs_insert(s->col, ids.data(), d.v.data(), d.n), "insert");
    s->n = d.n;
    vexfs_search_params_init(&s->params);
    s->params.threads = 1;
  };
  ix.set = [s, set](Knob k) { set(&s->params, k); };
  ix.search = [s](const float *q, uint64_t *out) {
    float dist[kK];
    check(vexfs_search(s->col, q, 1, kK, &s->params, out, dist, nullptr), "search");
  };
  ix.held_bytes = [s] {
    vexfs_metrics m;
    vexfs_metrics_init(&m);
    check(vexfs_collection_metrics(s->col, &m), "metrics");
    return (double)(m.memory_vectors + m.memory_index);
  };
  ix.describe = [s] {
    vexfs_metrics m;
    vexfs_metrics_init(&m);
    check(vexfs_collection_metrics(s->col, &m), "metrics");
    char buf[160];
    snprintf(buf, sizeof buf, "metrics: vectors %.0f B/vector, index %.0f B/vector",
             (double)m.memory_vectors / s->n, (double)m.memory_index / s->n);
    return std::string(buf);
  };
  ix.insert = [s](const float *row, uint64_t id) { check(vexfs_insert(s->col, &id, row, 1), "insert one"); };
  ix.drop = [s] {
    vexfs_collection_free(s->col);
    s->col = nullptr;
  };
  return ix;
}

// ---- faiss ----------------------------------------------------------------------------------

double faiss_bytes(const faiss::Index *idx) {
  if (auto r = dynamic_cast<const faiss::IndexRefine *>(idx))
    return faiss_bytes(r->base_index) + faiss_bytes(r->refine_index);
  if (auto c = dynamic_cast<const faiss::IndexLSH *>(idx))
    return c->codes.size() + 4.0 * (c->rrot.A.size() + c->rrot.b.size() + c->thresholds.size());
  if (auto c = dynamic_cast<const faiss::IndexFlatCodes *>(idx)) return c->codes.size();
  if (auto v = dynamic_cast<const faiss::IndexIVF *>(idx)) {
    double b = faiss_bytes(v->quantizer);
    for (size_t l = 0; l < v->nlist; l++)
      b += v->invlists->list_size(l) * (double)(v->code_size + sizeof(faiss::Index::idx_t));
    if (auto pq = dynamic_cast<const faiss::IndexIVFPQ *>(idx))
      b += 4.0 * (pq->pq.centroids.size() + pq->precomputed_table.size());
    if (auto sq = dynamic_cast<const faiss::IndexIVFScalarQuantizer *>(idx))
      b += 4.0 * sq->sq.trained.size();
    return b;
  }
  return 0;
}

// make() returns the untrained index; set(index, knob) applies a sweep point.
Index make_faiss(const std::string &name, const std::string &family, int nlist,
                 std::function<faiss::Index *(int d)> make, std::vector<Point> points,
                 std::function<void(faiss::Index *, Knob)> set) {
  auto idx = std::make_shared<std::unique_ptr<faiss::Index>>();
  Index ix;
  ix.name = name;
  ix.family = family;
  ix.nlist = nlist;
  ix.points = std::move(points);
  ix.build = [idx, make](const Data &d) {
    idx->reset(make((int)d.dim));
    (*idx)->train((faiss::Index::idx_t)d.n, d.v.data());
    (*idx)->add((faiss::Index::idx_t)d.n, d.v.data());
  };
  ix.set = [idx, set](Knob k) { set(idx->get(), k); };
  ix.search = [idx](const float *q, uint64_t *out) {
    float dist[kK];
    faiss::Index::idx_t labels[kK];
    (*idx)->search(1, q, kK, dist, labels);
    for (int i = 0; i < kK; i++) out[i] = labels[i] < 0 ? UINT64_MAX : (uint64_t)labels[i];
  };
  ix.held_bytes = [idx] { return faiss_bytes(idx->get()); };
  ix.drop = [idx] { idx->reset(); };
  return ix;
}

faiss::IndexRefineFlat *refined(faiss::Index *base) {
  auto r = new faiss::IndexRefineFlat(base);
  r->own_fields = true;
  return r;
}

template <class IVF, class... A>
faiss::Index *ivf(int d, int nlist, A... a) {
  auto v = new IVF(new faiss::IndexFlatL2(d), d, nlist, a...);
  v->own_fields = true;
  return v;
}

faiss::IndexIVF *ivf_of(faiss::Index *i) {
  if (auto r = dynamic_cast<faiss::IndexRefine *>(i)) i = r->base_index;
  return dynamic_cast<faiss::IndexIVF *>(i);
}

// ---- measuring ------------------------------------------------------------------------------

// Runs queries [0, nq) one per call into got, stopping early once `seconds` have passed (0: never);
// returns the seconds taken and sets *done to the queries run.
double run_queries(Index &ix, const Data &queries, size_t nq, std::vector<uint64_t> &got, double seconds = 0,
                   size_t *done = nullptr) {
  double t0 = now(), t = t0;
  size_t q = 0;
  for (; q < nq && (seconds <= 0 || t - t0 < seconds); q++) {
    ix.search(queries.v.data() + q * queries.dim, got.data() + q * kK);
    if (seconds > 0) t = now();
  }
  if (done) *done = q;
  return now() - t0;
}

// faiss IndexFlatL2 on the first `sample` queries: how many agree with the truth.
size_t faiss_agreement(const Data &train, const Data &test, const std::vector<uint64_t> &truth,
                       size_t sample) {
  faiss::IndexFlatL2 flat((int)train.dim);
  flat.add((faiss::Index::idx_t)train.n, train.v.data());
  std::vector<float> dist(sample * kK);
  std::vector<faiss::Index::idx_t> lab(sample * kK);
  flat.search((faiss::Index::idx_t)sample, test.v.data(), kK, dist.data(), lab.data());
  std::vector<uint64_t> got(lab.begin(), lab.end());
  return agreeing(truth.data(), got.data(), sample);
}

Data rotated(const Data &d, const faiss::RandomRotationMatrix &rr) {
  Data r;
  r.n = d.n;
  r.dim = d.dim;
  r.v.resize(d.v.size());
  rr.apply_noalloc((faiss::Index::idx_t)d.n, d.v.data(), r.v.data());
  return r;
}

struct Options {
  bool quick = false;
  std::string dataset = "both", out = ".", only;
  size_t nq = 10000;
  int rounds = 3;
  int lsh_tables = 0, lsh_bits = 0;
  std::vector<int> vexfs_nlist = {0, 1024};
  std::vector<int> faiss_lsh_bits = {256, 512, 1024, 2048};
  double stop_recall = 0.995, min_qps = 100;
  double point_seconds = 5, round_seconds = 1.5;
};

std::vector<Index> make_indexes(const Options &o) {
  std::vector<Index> v;
  auto ef = [](vexfs_search_params *p, Knob k) { p->ef = (uint32_t)k.a; };
  v.push_back(make_vexfs(
      "libvexfs HNSW M16", "vexfs-hnsw",
      [](vexfs_collection_config *c) {
        c->index = VEXFS_INDEX_HNSW;
        c->hnsw_m = kM;
        c->hnsw_ef_construction = kEfc;
      },
      sweep1("ef", {10, 16, 24, 32, 48, 64, 96, 128}), ef));

  std::string lsh_name = "libvexfs LSH";
  if (o.lsh_tables) lsh_name += " L" + std::to_string(o.lsh_tables);
  if (o.lsh_bits) lsh_name += " K" + std::to_string(o.lsh_bits);
  int tables = o.lsh_tables, bits = o.lsh_bits;
  v.push_back(make_vexfs(
      lsh_name, "vexfs-lsh",
      [tables, bits](vexfs_collection_config *c) {
        c->index = VEXFS_INDEX_LSH;
        c->lsh_tables = (uint32_t)tables;
        c->lsh_bits = (uint32_t)bits;
      },
      sweep1("probes", {1, 2, 4, 8, 16, 32, 64, 128}),
      [](vexfs_search_params *p, Knob k) { p->probes = (uint32_t)k.a; }));

  for (int codes : {(int)VEXFS_IVF_CODES_F32, (int)VEXFS_IVF_CODES_SQ8})
    for (int nlist : o.vexfs_nlist) {
      std::string name = std::string("libvexfs IVF") + (nlist ? std::to_string(nlist) : "(default nlist)") +
                         (codes == VEXFS_IVF_CODES_F32 ? ",F32" : ",SQ8");
      Index ix = make_vexfs(
          name, codes == VEXFS_IVF_CODES_F32 ? "vexfs-ivf-f32" : "vexfs-ivf-sq8",
          [codes, nlist](vexfs_collection_config *c) {
            c->index = VEXFS_INDEX_IVF;
            c->ivf_nlist = (uint32_t)nlist;
            c->ivf_codes = (vexfs_ivf_codes)codes;
          },
          sweep1("nprobe", {1, 2, 4, 8, 16, 32, 64, 128}),
          [](vexfs_search_params *p, Knob k) { p->nprobe = (uint32_t)k.a; });
      ix.nlist = nlist;
      v.push_back(ix);
    }
  v[0].insert = nullptr;  // single-vector inserts: LSH and IVF only (HNSW's are in ann_bench)

  for (int b : o.faiss_lsh_bits)
    v.push_back(make_faiss(  // index_factory's "LSHrt": random rotation, thresholds trained
        "faiss LSH" + std::to_string(b) + "rt+refine", "faiss-lsh", 0,
        [b](int d) { return refined(new faiss::IndexLSH(d, b, true, true)); },
        sweep1("k_factor", {4, 8, 16, 32, 64, 128, 256}),
        [](faiss::Index *i, Knob k) { static_cast<faiss::IndexRefine *>(i)->k_factor = (float)k.a; }));
  auto nprobe = [](faiss::Index *i, Knob k) { ivf_of(i)->nprobe = (size_t)k.a; };
  for (int nlist : {245, 1024})
    v.push_back(make_faiss(
        "faiss IVF" + std::to_string(nlist) + ",Flat", "faiss-ivfflat", nlist,
        [nlist](int d) { return ivf<faiss::IndexIVFFlat>(d, nlist); },
        sweep1("nprobe", {1, 2, 4, 8, 16, 32, 64, 128}), nprobe));
  v.push_back(make_faiss(
      "faiss IVF1024,SQ8", "faiss-ivfsq8", 1024,
      [](int d) { return ivf<faiss::IndexIVFScalarQuantizer>(d, 1024, faiss::ScalarQuantizer::QT_8bit); },
      sweep1("nprobe", {1, 2, 4, 8, 16, 32, 64, 128}), nprobe));
  // d = 784 = 98 x 8: 98 sub-quantizers of 8 dimensions, 8 bits each (98 bytes a vector)
  std::vector<Point> pq;
  for (int np : {4, 8, 16, 32})
    for (int kf : {2, 4, 8}) {
      Point p;
      p.knob = {np, kf};
      p.label = "nprobe=" + std::to_string(np) + " k_factor=" + std::to_string(kf);
      pq.push_back(p);
    }
  v.push_back(make_faiss(
      "faiss IVF245,PQ98+refine", "faiss-ivfpq", 245,
      [](int d) {
        auto pq = static_cast<faiss::IndexIVFPQ *>(ivf<faiss::IndexIVFPQ>(d, 245, 98, 8));
        pq->pq.cp.max_points_per_centroid = 64;  // sub-quantizers trained on 16384 rows, not 60000
        return refined(pq);
      },
      pq,
      [](faiss::Index *i, Knob k) {
        ivf_of(i)->nprobe = (size_t)k.a;
        static_cast<faiss::IndexRefine *>(i)->k_factor = (float)k.b;
      }));

  if (!o.only.empty())
    v.erase(std::remove_if(v.begin(), v.end(),
                           [&](const Index &ix) { return ix.name.find(o.only) == std::string::npos; }),
            v.end());
  return v;
}

}  // namespace

namespace {

// Best median QPS over the points of the given indexes with recall >= target (0: none); *at
// names the index and point.
double best_qps(const std::vector<const Index *> &ixs, double target, std::string *at) {
  double best = 0;
  for (const Index *ix : ixs)
    for (const Point &p : ix->points)
      if (!p.skipped && p.recall >= target && p.median_qps() > best) {
        best = p.median_qps();
        if (at) *at = ix->name + " " + p.label;
      }
  return best;
}

std::vector<const Index *> family(const std::vector<Index> &v, const std::string &f) {
  std::vector<const Index *> out;
  for (auto &ix : v)
    if (ix.family == f) out.push_back(&ix);
  return out;
}

std::string fmt_qps(double q, const std::string &at) {
  if (q <= 0) return "not reached";
  char b[200];
  snprintf(b, sizeof b, "%.0f (%s)", q, at.c_str());
  return b;
}

// Builds, sweeps and prints one dataset; writes its curves to DIR/lsh_ivf_<tag>.dat. Returns its
// ground truth; `same` (if not null) is another dataset's, which should agree (a rotation).
std::vector<uint64_t> run_dataset(const Options &o, const std::string &tag, const std::string &title,
                                  const Data &train, const Data &test, const std::vector<uint64_t> *same) {
  size_t nq = std::min(o.nq, test.n);
  printf("\n## %s: %zux%zu, %zu queries, k=%d, one thread, %d round%s\n\n", title.c_str(), train.n,
         train.dim, nq, kK, o.rounds, o.rounds == 1 ? "" : "s");
  double t0 = now();
  std::vector<uint64_t> truth = exact_truth(train, test, nq);
  size_t sample = std::min<size_t>(nq, 500);
  size_t agree = faiss_agreement(train, test, truth, sample);
  printf("ground truth: libvexfs FLAT (%.1f s); faiss IndexFlatL2 agrees on %zu of the first %zu queries' "
         "top-%d\n",
         now() - t0, agree, sample, kK);
  if (same && same->size() == truth.size())
    printf("the rotation keeps the neighbours: top-%d sets equal to Fashion-MNIST's on %zu of %zu queries\n", kK,
           agreeing(truth.data(), same->data(), nq), nq);

  std::vector<Index> ixs = make_indexes(o);
  std::vector<uint64_t> got(nq * kK);
  for (auto &ix : ixs) {
    malloc_trim(0);
    size_t before = rss_bytes();
    double b0 = now();
    ix.build(train);
    ix.build_s = now() - b0;
    ix.rss_per_vec = ((double)rss_bytes() - (double)before) / train.n;
    ix.held_per_vec = ix.held_bytes() / train.n;
    ix.set(ix.points[0].knob);
    ix.first_query_ms = run_queries(ix, test, 1, got) * 1e3;
    printf("%s: built in %.1f s (train + add, 1 thread), RSS +%.0f B/vector, holds %.0f B/vector%s%s; "
           "first query %.2f ms\n",
           ix.name.c_str(), ix.build_s, ix.rss_per_vec, ix.held_per_vec, ix.describe ? "; " : "",
           ix.describe ? ix.describe().c_str() : "", ix.first_query_ms);
    fflush(stdout);
  }

  // round 0 measures recall on every point (and stops a sweep once it is good enough or too
  // slow); every round times every remaining point; odd rounds go through the indexes backwards
  for (int r = 0; r < o.rounds; r++) {
    double r0 = now();
    for (size_t j = 0; j < ixs.size(); j++) {
      Index &ix = ixs[r % 2 ? ixs.size() - 1 - j : j];
      for (size_t pi = 0; pi < ix.points.size(); pi++) {
        Point &p = ix.points[pi];
        if (p.skipped) continue;
        ix.set(p.knob);
        if (r > 0) {  // a timing round: a prefix of the queries, about round_seconds long
          size_t n = std::min(p.nq, std::max<size_t>(100, (size_t)(p.qps[0] * o.round_seconds)));
          p.qps.push_back(n / run_queries(ix, test, n, got));
          continue;
        }
        double secs = run_queries(ix, test, nq, got, o.point_seconds, &p.nq);
        double qps = p.nq / secs;
        p.qps.push_back(qps);
        p.recall = recall_of(got, truth, p.nq);
        fprintf(stderr, "  %s %s: recall %.4f, %.0f QPS\n", ix.name.c_str(), p.label.c_str(), p.recall, qps);
        if (p.recall >= o.stop_recall || qps < o.min_qps)
          for (size_t later = pi + 1; later < ix.points.size(); later++) {
            Point &l = ix.points[later];  // points at least as costly in every knob
            if (l.knob.a >= p.knob.a && l.knob.b >= p.knob.b) l.skipped = true;
          }
      }
    }
    printf("round %d: %.0f s\n", r, now() - r0);
    fflush(stdout);
  }

  // single-vector inserts into the built libvexfs LSH and IVF collections: the test rows, new ids
  for (auto &ix : ixs)
    if (ix.insert) {
      double i0 = now();
      for (size_t i = 0; i < test.n; i++) ix.insert(test.v.data() + i * test.dim, train.n + i);
      ix.insert_per_s = test.n / (now() - i0);
    }

  printf("\n### %s: build and memory\n\n", title.c_str());
  printf("| index | build s (train + add, 1 thread) | RSS growth B/vector | held B/vector | held beyond the "
         "%zu B f32 row | single inserts/s |\n|---|---|---|---|---|---|\n",
         train.dim * sizeof(float));
  for (auto &ix : ixs) {
    char ins[32] = "-";
    if (ix.insert) snprintf(ins, sizeof ins, "%.0f", ix.insert_per_s);
    printf("| %s | %.1f | %.0f | %.0f | %+.0f | %s |\n", ix.name.c_str(), ix.build_s, ix.rss_per_vec,
           ix.held_per_vec, ix.held_per_vec - train.dim * sizeof(float), ins);
  }

  printf("\n### %s: recall@10 and QPS (one query per call, median of %d round%s)\n\n| index | point | "
         "recall@10 | queries | QPS |\n|---|---|---|---|---|\n",
         title.c_str(), o.rounds, o.rounds == 1 ? "" : "s");
  FILE *dat = fopen((o.out + "/lsh_ivf_" + tag + ".dat").c_str(), "w");
  for (auto &ix : ixs) {
    if (dat) fprintf(dat, "# %s\n", ix.name.c_str());
    for (auto &p : ix.points) {
      if (p.skipped) continue;
      printf("| %s | %s | %.4f | %zu | %.0f |\n", ix.name.c_str(), p.label.c_str(), p.recall, p.nq,
             p.median_qps());
      if (dat) fprintf(dat, "%.4f %.1f %s\n", p.recall, p.median_qps(), p.label.c_str());
    }
    if (dat) fprintf(dat, "\n\n");
  }
  if (dat) fclose(dat);

  const double targets[] = {0.95, 0.99};
  printf("\n### %s: best QPS at recall@10 >= 0.95 / >= 0.99, and against libvexfs HNSW\n\n| index | "
         "best QPS, recall >= 0.95 | vs HNSW | best QPS, recall >= 0.99 | vs HNSW |\n|---|---|---|---|---|\n",
         title.c_str());
  auto hnsw = family(ixs, "vexfs-hnsw");
  for (auto &ix : ixs) {
    printf("| %s |", ix.name.c_str());
    for (double t : targets) {
      std::string at;
      double q = best_qps({&ix}, t, &at), h = best_qps(hnsw, t, nullptr);
      if (!at.empty()) at = at.substr(ix.name.size() + 1);
      printf(" %s | %s |", fmt_qps(q, at).c_str(), ratio_text(q, h).c_str());
    }
    printf("\n");
  }

  struct Peer {
    const char *what, *us, *them;
  };
  const Peer peers[] = {{"libvexfs LSH vs faiss best LSH+refine", "vexfs-lsh", "faiss-lsh"},
                        {"libvexfs IVF-F32 vs faiss IVFFlat", "vexfs-ivf-f32", "faiss-ivfflat"},
                        {"libvexfs IVF-SQ8 vs faiss IVF-SQ8", "vexfs-ivf-sq8", "faiss-ivfsq8"}};
  printf("\n### %s: against the peers (best over each side's configurations)\n\n| comparison | "
         "recall >= 0.95 | recall >= 0.99 |\n|---|---|---|\n",
         title.c_str());
  for (const Peer &p : peers) {
    printf("| %s |", p.what);
    for (double t : targets) {
      std::string a_at, b_at;
      auto us = family(ixs, p.us), them = family(ixs, p.them);
      double a = best_qps(us, t, &a_at), b = best_qps(them, t, &b_at);
      printf(" %s: %s against %s |", ratio_text(a, b).c_str(), us.empty() ? "none built" : fmt_qps(a, a_at).c_str(),
             them.empty() ? "none built" : fmt_qps(b, b_at).c_str());
    }
    printf("\n");
  }

  printf("\n### %s: train + add time against faiss IVFFlat at the same nlist\n\n| nlist | libvexfs IVF "
         "index | s | faiss IVFFlat s | faiss / libvexfs |\n|---|---|---|---|---|\n",
         title.c_str());
  for (auto &ix : ixs) {
    if (ix.family.rfind("vexfs-ivf", 0) != 0) continue;
    int nlist = ix.nlist ? ix.nlist : 245;  // the default is about sqrt(60000) = 245
    for (const Index *f : family(ixs, "faiss-ivfflat"))
      if (f->nlist == nlist)
        printf("| %d%s | %s | %.1f | %.1f | %.2fx |\n", nlist, ix.nlist ? "" : " (default)", ix.name.c_str(),
               ix.build_s, f->build_s, f->build_s / ix.build_s);
  }
  for (auto &ix : ixs) ix.drop();
  malloc_trim(0);

  std::string cmd = std::string("sh '") + VX_PLOT_SCRIPT + "' '" + o.out + "' " + tag + " '" + title +
                    "' 2>/dev/null";
  if (system(cmd.c_str()) == 0) printf("\nplot: %s/lsh_ivf_%s.png\n", o.out.c_str(), tag.c_str());
  fflush(stdout);
  return truth;
}

}  // namespace

int main(int argc, char **argv) {
  Options o;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    bool more = i + 1 < argc;
    if (a == "--quick") {
      o.quick = true;
      o.nq = 1000;
      o.rounds = 2;
      o.point_seconds = 3;
      o.round_seconds = 1;
    } else if (a == "--dataset" && more) o.dataset = argv[++i];
    else if (a == "--queries" && more) o.nq = strtoul(argv[++i], nullptr, 10);
    else if (a == "--rounds" && more) o.rounds = std::max(1, atoi(argv[++i]));
    else if (a == "--out" && more) o.out = argv[++i];
    else if (a == "--only" && more) o.only = argv[++i];
    else if (a == "--lsh-tables" && more) o.lsh_tables = atoi(argv[++i]);
    else if (a == "--lsh-bits" && more) o.lsh_bits = atoi(argv[++i]);
    else if (a == "--vexfs-nlist" && more) o.vexfs_nlist = parse_list(argv[++i]);
    else if (a == "--faiss-lsh-bits" && more) o.faiss_lsh_bits = parse_list(argv[++i]);
    else if (a == "--stop-recall" && more) o.stop_recall = atof(argv[++i]);
    else if (a == "--min-qps" && more) o.min_qps = atof(argv[++i]);
    else if (a == "--point-seconds" && more) o.point_seconds = atof(argv[++i]);
    else if (a == "--round-seconds" && more) o.round_seconds = atof(argv[++i]);
    else {
      fprintf(stderr,
              "usage: %s [--quick] [--dataset fmnist|rotated|both] [--queries N] [--rounds N] [--out DIR]\n"
              "          [--only SUBSTRING] [--lsh-tables T] [--lsh-bits B] [--vexfs-nlist A,B,..]\n"
              "          [--faiss-lsh-bits A,B,..] [--stop-recall R] [--min-qps Q] [--point-seconds S]\n"
              "          [--round-seconds S]\n",
              argv[0]);
      return 2;
    }
  }
  if (o.dataset != "fmnist" && o.dataset != "rotated" && o.dataset != "both") {
    fprintf(stderr, "--dataset: fmnist, rotated or both\n");
    return 2;
  }
  omp_set_num_threads(1);
  // faiss calls BLAS (sgemm in training, the LSH rotation, IVF quantizer batches): OpenBLAS on one
  // thread too, else its pthreads spin against the measured thread
  const char *blas = "not OpenBLAS";
  if (auto set = (void (*)(int))dlsym(RTLD_DEFAULT, "openblas_set_num_threads")) {
    set(1);
    blas = "OpenBLAS 1 thread";
  }
  double t0 = now();
  Data train = load_fashion_mnist("train");
  Data test = load_fashion_mnist("t10k");
  printf("# LSH and IVF on Fashion-MNIST, against faiss\n\nlibvexfs %s (%s), faiss (OpenMP threads %d, "
         "%s), k=%d%s\n",
         vexfs_version_string(), vexfs_simd_isa(), omp_get_max_threads(), blas, kK, o.quick ? ", --quick" : "");
  std::vector<uint64_t> truth;
  if (o.dataset != "rotated") truth = run_dataset(o, "fmnist", "Fashion-MNIST", train, test, nullptr);
  if (o.dataset != "fmnist") {
    faiss::RandomRotationMatrix rr((int)train.dim, (int)train.dim);
    rr.init((int)kRotationSeed);
    run_dataset(o, "rotated", "Fashion-MNIST, randomly rotated", rotated(train, rr), rotated(test, rr),
                truth.empty() ? nullptr : &truth);
  }
  printf("\ntotal: %.0f s\n", now() - t0);
  return 0;
}

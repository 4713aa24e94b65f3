// Memory-lean storage (issue 18): what each libvexfs HNSW storage mode keeps resident per vector,
// and the recall and QPS it reaches, against hnswlib and USearch 2.25 (f32, f16, i8), in one
// process, on the same data and machine: M (connectivity) 16, efConstruction (expansion_add) 200,
// k=10, everything on one thread, one query per call.
//
// Per dataset (Fashion-MNIST, and the same rows and queries times a seeded random orthogonal
// matrix, so that distances stay but the coordinates are no longer small integers): exact ground
// truth (libvexfs FLAT), then each library or mode is built on one thread (build time; memory =
// growth of RssAnon and RssFile in /proc/self/status over the build, per vector; a mode in a
// database checkpoints, then the page cache of its files is dropped and its memory measured
// again), then ef is swept from 10 to 512 with single-query searches, the libraries interleaved at
// each ef and in reverse order every other round: QPS is timed on the first --time-queries of the
// queries, the median of the rounds; round 0 also runs the rest for recall, and skips a library's
// larger efs once its recall reaches --stop-recall or rises by less than --plateau over two efs.
// Then a database mode's mapped pages are counted again, warm. Prints markdown tables and the
// targets of the issue, writes memory_<tag>.dat and a gnuplot plot of bytes/vector against QPS at
// recall 0.99 (plot_memory.sh).
//
// usage: memory_bench [--rounds N] [--queries N] [--time-queries N] [--dataset fmnist|rotated|both]
//          [--out DIR] [--db-dir DIR] [--stop-recall R] [--plateau G] [--only SUBSTRING[,SUBSTRING...]]
//          (ROUNDS=N as --rounds N)
#include <fcntl.h>
#include <malloc.h>
#include <unistd.h>
#include <vexfs/vexfs.h>
#if VX_HAVE_USEARCH
#include <usearch/index_dense.hpp>
#endif

#include "../fashion_mnist.h"
#include "ann_common.h"
#include "hnswlib_index.h"
#include "rotation.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

namespace {

constexpr int kM = 16, kEfc = 200, kK = 10;
const int kEfs[] = {10, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512};
constexpr uint64_t kRotationSeed = 1234;

// ---- memory ---------------------------------------------------------------------------------

// Resident bytes: anonymous (heap) and file-backed (mapped files), as /proc/self/status says.
struct Rss {
  double anon = 0, file = 0;
  double total() const { return anon + file; }
};

Rss rss_now() {
  Rss r;
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  double kb;
  while (f && fgets(line, sizeof line, f)) {
    if (sscanf(line, "RssAnon: %lf", &kb) == 1) r.anon = kb * 1024;
    if (sscanf(line, "RssFile: %lf", &kb) == 1) r.file = kb * 1024;
  }
  if (f) fclose(f);
  return r;
}

// (now - before) / n
Rss per_vector(const Rss &before, const Rss &now, size_t n) {
  return {(now.anon - before.anon) / n, (now.file - before.file) / n};
}

// Bytes of this process's mappings of files under dir that are resident (/proc/self/smaps).
double mapped_resident(const std::string &dir) {
  std::string root = std::filesystem::absolute(dir).lexically_normal().string() + "/";
  FILE *f = fopen("/proc/self/smaps", "r");
  char line[4096];
  bool inside = false;
  double bytes = 0, kb;
  while (f && fgets(line, sizeof line, f)) {
    if (isdigit((unsigned char)line[0]) || (line[0] >= 'a' && line[0] <= 'f')) {  // "start-end perms ... path"
      const char *path = strchr(line, '/');
      inside = path && strncmp(path, root.c_str(), root.size()) == 0;
    } else if (inside && sscanf(line, "Rss: %lf", &kb) == 1) {  // the mapping's fields ("Rss:  12 kB")
      bytes += kb * 1024;
    }
  }
  if (f) fclose(f);
  return bytes;
}

// Drops the page cache of the files under dir: each is written back (fdatasync) and given
// posix_fadvise(POSIX_FADV_DONTNEED); as root, 1 is also written to /proc/sys/vm/drop_caches.
// Neither drops a page a process has mapped. Returns what it did.
std::string drop_page_cache(const std::string &dir) {
  for (auto &e : std::filesystem::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    int fd = open(e.path().c_str(), O_RDONLY);
    if (fd < 0) continue;
    fdatasync(fd);
    posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    close(fd);
  }
  std::string how = "posix_fadvise(DONTNEED) on each file";
  if (geteuid() != 0) return how + " (not root: no drop_caches)";
  sync();
  FILE *f = fopen("/proc/sys/vm/drop_caches", "w");
  bool dropped = f && fputs("1\n", f) >= 0;
  if (f) dropped = fclose(f) == 0 && dropped;
  return how + (dropped ? " + drop_caches" : " (drop_caches refused)");
}

// ---- what is measured -----------------------------------------------------------------------

struct Point {
  int ef = 0;
  double recall = -1;
  std::vector<double> qps;
  bool skipped = false;
  double median_qps() const { return median(qps); }
};

// One library, or one libvexfs mode, under test.
struct Lib {
  std::string name;
  std::function<std::string(const Data &)> build;  // on one thread; "" when built, else why not
  std::function<void(int ef)> set_ef;
  std::function<void(const float *q, uint64_t *out)> search;  // kK ids, nearest first
  std::function<void()> drop;
  std::string db_dir;  // libvexfs modes in a database: its directory
  // results, memory per vector
  double build_s = 0;
  Rss built;          // growth over the build
  Rss cold;           // in a database: after the page cache of its files was dropped
  double warm_file = 0;  // in a database: its files' pages mapped and resident after the sweep
  std::vector<Point> points;

  // what the tables give as its resident memory: cold in a database, else as built
  const Rss &resident() const { return db_dir.empty() ? built : cold; }
};

// ---- libvexfs -------------------------------------------------------------------------------

// One libvexfs storage mode. storage and rerank are vexfs_storage and vexfs_rerank values.
struct Mode {
  const char *name;
  int storage, rerank;
  bool in_database;
};

// The modes under test. Those past F32 need the config fields of 0.6.0 (VX_HAVE_STORAGE, found by
// meson); a library that does not implement a mode refuses it at create, and it is skipped.
const Mode kModes[] = {
    {"F32", 0, 0, false},
    {"F32 in a database", 0, 0, true},
#if VX_HAVE_STORAGE
    {"F32 + MAPPED", VEXFS_STORAGE_F32, VEXFS_RERANK_MAPPED, true},
    {"F16", VEXFS_STORAGE_F16, VEXFS_RERANK_NONE, false},
    {"SQ8 + MAPPED", VEXFS_STORAGE_SQ8, VEXFS_RERANK_MAPPED, true},
    {"SQ4 + MAPPED", VEXFS_STORAGE_SQ4, VEXFS_RERANK_MAPPED, true},
#endif
};

void set_storage(vexfs_collection_config *cfg, const Mode &m) {
#if VX_HAVE_STORAGE
  cfg->storage = (vexfs_storage)m.storage;
  cfg->rerank = (vexfs_rerank)m.rerank;
#else
  (void)cfg, (void)m;
#endif
}

struct VexfsState {
  vexfs_db *db = nullptr;
  vexfs_collection *col = nullptr;
  vexfs_search_params params;
  std::string dir;  // the database's, or "" in memory

  // Creates col as cfg says, in memory or in a new database in dir (VEXFS_SYNC_OFF: durability is
  // not what is measured). "" when made, else libvexfs's reason.
  std::string create(const vexfs_collection_config &cfg) {
    vexfs_status st;
    if (dir.empty()) {
      st = vexfs_collection_create(&cfg, &col);
    } else {
      std::filesystem::remove_all(dir);
      vexfs_db_options o;
      vexfs_db_options_init(&o);
      o.sync = VEXFS_SYNC_OFF;
      check(vexfs_db_open(dir.c_str(), &o, &db), "db open");
      st = vexfs_db_create_collection(db, "bench", &cfg, &col);
    }
    if (st == VEXFS_OK) return "";
    std::string why = std::string(vexfs_status_string(st)) + ": " + vexfs_last_error();
    close();
    return why;
  }

  void close() {
    if (db) {
      check(vexfs_db_close(db), "db close");
      std::filesystem::remove_all(dir);
    } else {
      vexfs_collection_free(col);
    }
    db = nullptr;
    col = nullptr;
  }
};

std::string slug(const std::string &s) {
  std::string out;
  for (char c : s) out += isalnum((unsigned char)c) ? (char)tolower(c) : '_';
  return out;
}

// db_prefix: the start of its database's path (in_database modes)
Lib make_vexfs(const Mode &m, const std::string &db_prefix) {
  auto s = std::make_shared<VexfsState>();
  Lib l;
  l.name = std::string("libvexfs ") + m.name;
  if (m.in_database) s->dir = l.db_dir = db_prefix + slug(m.name);
  l.build = [s, m](const Data &d) {
    vexfs_collection_config cfg = hnsw_config(d.dim, kM, kEfc, 1);
    set_storage(&cfg, m);
    std::string refused = s->create(cfg);
    if (!refused.empty()) return refused;
    std::vector<uint64_t> ids(d.n);
    for (size_t i = 0; i < d.n; i++) ids[i] = i;
    check(vexfs_insert(s->col, ids.data(), d.v.data(), d.n), "insert");
    if (s->db) check(vexfs_db_checkpoint(s->db), "checkpoint");  // MAPPED rows move to their file
    vexfs_search_params_init(&s->params);
    s->params.threads = 1;
    return std::string();
  };
  l.set_ef = [s](int ef) { s->params.ef = (uint32_t)ef; };
  l.search = [s](const float *q, uint64_t *out) {
    float dist[kK];
    check(vexfs_search(s->col, q, 1, kK, &s->params, out, dist, nullptr), "search");
  };
  l.drop = [s] { s->close(); };
  return l;
}

// ---- the peers ------------------------------------------------------------------------------

Lib make_hnswlib() {
  auto s = std::make_shared<HnswlibIndex>();
  Lib l;
  l.name = "hnswlib";
  l.build = [s](const Data &d) {
    s->build(d, kM, kEfc, 1);
    return std::string();
  };
  l.set_ef = [s](int ef) { s->alg->setEf(ef); };
  l.search = [s](const float *q, uint64_t *out) { s->knn(q, kK, out); };
  l.drop = [s] { s->reset(); };
  return l;
}

#if VX_HAVE_USEARCH
namespace us = unum::usearch;

// The kernels USearch picks for a metric: a NumKong ISA, or "serial" (its portable code).
std::string usearch_kernels(us::scalar_kind_t kind) {
  return us::metric_punned_t(784, us::metric_kind_t::l2sq_k, kind).isa_name();
}

// USearch's dense index of `kind` scalars (it converts the f32 rows and queries; i8 scales each
// vector to unit length first, as its cast does).
Lib make_usearch(us::scalar_kind_t kind) {
  auto idx = std::make_shared<us::index_dense_t>();
  Lib l;
  l.name = std::string("USearch ") + us::scalar_kind_name(kind);
  l.build = [idx, kind](const Data &d) {
    us::index_dense_config_t cfg(kM, kEfc, 64);
    auto made = us::index_dense_t::make(us::metric_punned_t(d.dim, us::metric_kind_t::l2sq_k, kind), cfg);
    if (!made) return std::string("make: ") + made.error.release();
    *idx = std::move(made.index);
    if (!idx->try_reserve(us::index_limits_t(d.n, 1))) return std::string("reserve failed");
    for (size_t i = 0; i < d.n; i++) {
      auto added = idx->add(i, d.v.data() + i * d.dim, 0);
      if (!added) return std::string("add: ") + added.error.release();
    }
    return std::string();
  };
  l.set_ef = [idx](int ef) { idx->change_expansion_search((size_t)ef); };
  l.search = [idx](const float *q, uint64_t *out) {
    size_t found = idx->search(q, kK, 0).dump_to(out, kK);
    std::fill(out + found, out + kK, UINT64_MAX);
  };
  l.drop = [idx] { *idx = us::index_dense_t(); };
  return l;
}
#endif

struct Options {
  int rounds = 3;
  size_t nq = 10000, time_queries = 2000;
  std::string dataset = "both", out = ".", db_dir, only;
  double stop_recall = 0.995, plateau = 0.001;
};

std::vector<Lib> make_libs(const Options &o, const std::string &tag) {
  std::vector<Lib> v = {make_hnswlib()};
#if VX_HAVE_USEARCH
  for (auto kind : {us::scalar_kind_t::f32_k, us::scalar_kind_t::f16_k, us::scalar_kind_t::i8_k})
    v.push_back(make_usearch(kind));
#endif
  for (const Mode &m : kModes) v.push_back(make_vexfs(m, o.db_dir + "/memory_bench_" + tag + "_"));
  if (!o.only.empty()) { // comma-separated substrings: a library runs when its name holds one
    auto wanted = [&](const Lib &l) {
      for (size_t at = 0; at <= o.only.size();) {
        size_t end = o.only.find(',', at);
        if (end == std::string::npos) end = o.only.size();
        if (end > at && l.name.find(o.only.substr(at, end - at)) != std::string::npos) return true;
        at = end + 1;
      }
      return false;
    };
    v.erase(std::remove_if(v.begin(), v.end(), [&](const Lib &l) { return !wanted(l); }), v.end());
  }
  for (Lib &l : v)
    for (int ef : kEfs) {
      l.points.emplace_back();
      l.points.back().ef = ef;
    }
  return v;
}

// ---- building and sweeping ------------------------------------------------------------------

// Builds l, timed, and records its memory per vector: growth over the build and, in a database,
// after dropping the page cache of its files (*how says how it was dropped). "" when built.
std::string build_measured(Lib &l, const Data &train, std::string *how) {
  malloc_trim(0);
  Rss before = rss_now();
  double t0 = now();
  std::string refused = l.build(train);
  l.build_s = now() - t0;
  if (!refused.empty()) return refused;
  malloc_trim(0);
  l.built = per_vector(before, rss_now(), train.n);
  if (!l.db_dir.empty()) {
    *how = drop_page_cache(l.db_dir);
    l.cold = per_vector(before, rss_now(), train.n);
  }
  return "";
}

// Queries [from, to), one per call, into got; returns the seconds taken.
double run_queries(Lib &l, const Data &test, size_t from, size_t to, std::vector<uint64_t> &got) {
  double t0 = now();
  for (size_t q = from; q < to; q++) l.search(test.v.data() + q * test.dim, got.data() + q * kK);
  return now() - t0;
}

// Whether a library's larger efs are not worth sweeping after point e (round 0): its recall has
// reached o.stop_recall, or it gained less than o.plateau over the last two efs.
bool sweep_done(const Lib &l, size_t e, const Options &o) {
  double r = l.points[e].recall;
  return r >= o.stop_recall || (e >= 2 && r - l.points[e - 2].recall < o.plateau);
}

// Every library at every ef, in rounds: at each ef the libraries take turns (in reverse order every
// other round), each timed on the first o.time_queries queries; round 0 also runs the rest of the
// nq for recall, and skips a library's larger efs once sweep_done.
void sweep(std::vector<Lib> &libs, const Data &test, size_t nq, const std::vector<uint64_t> &truth,
           const Options &o) {
  std::vector<uint64_t> got(nq * kK);
  size_t timed = std::min(nq, o.time_queries);
  for (int r = 0; r < o.rounds; r++) {
    double r0 = now();
    for (size_t e = 0; e < std::size(kEfs); e++)
      for (size_t j = 0; j < libs.size(); j++) {
        Lib &l = libs[r % 2 ? libs.size() - 1 - j : j];
        Point &p = l.points[e];
        if (p.skipped) continue;
        l.set_ef(p.ef);
        p.qps.push_back(timed / run_queries(l, test, 0, timed, got));
        if (r > 0) continue;
        run_queries(l, test, timed, nq, got);
        p.recall = recall_of(got, truth, nq);
        if (sweep_done(l, e, o))
          for (size_t later = e + 1; later < l.points.size(); later++) l.points[later].skipped = true;
      }
    printf("round %d: %.0f s\n", r, now() - r0);
    fflush(stdout);
  }
}

// ---- reporting ------------------------------------------------------------------------------

// The smallest ef whose recall reaches target, or null.
const Point *first_reaching(const Lib *l, double target) {
  if (l)
    for (const Point &p : l->points)
      if (!p.skipped && p.recall >= target) return &p;
  return nullptr;
}

double qps_at(const Lib *l, double target) {
  const Point *p = first_reaching(l, target);
  return p ? p->median_qps() : 0;
}

const Lib *find(const std::vector<Lib> &libs, const std::string &name) {
  for (const Lib &l : libs)
    if (l.name == name) return &l;
  return nullptr;
}

std::string fmt(const char *f, double a, double b = 0, double c = 0) {
  char s[96];
  snprintf(s, sizeof s, f, a, b, c);
  return s;
}

// "anon | file | total" (three cells), or in one cell "anon + file = total"
std::string fmt_rss(const Rss &r, bool one_cell = false) {
  return fmt(one_cell ? "%.0f + %.0f = %.0f" : "%.0f | %.0f | %.0f", r.anon, r.file, r.total());
}

void print_memory(const std::string &title, const std::vector<Lib> &libs) {
  printf("\n### %s: memory, and recall@10 and QPS at the smallest ef reaching 0.95 and 0.99\n\n"
         "| library | build s (1 thread) | anon B/vector | file B/vector | total B/vector | ef (>= 0.95) | "
         "recall | QPS | ef (>= 0.99) | recall | QPS |\n|---|---|---|---|---|---|---|---|---|---|---|\n",
         title.c_str());
  for (const Lib &l : libs) {
    printf("| %s | %.1f | %s |", l.name.c_str(), l.build_s, fmt_rss(l.resident()).c_str());
    for (double target : {0.95, 0.99}) {
      const Point *p = first_reaching(&l, target);
      std::string reached = p ? fmt("%.0f | %.4f | %.0f", p->ef, p->recall, p->median_qps()) : "- | not reached | -";
      printf(" %s |", reached.c_str());
    }
    printf("\n");
  }
  printf("\nMemory: RSS growth over the build, per vector; for the modes in a database after dropping "
         "the page cache of its files (next table).\n");
}

void print_database_memory(const std::string &title, const std::vector<Lib> &libs, const std::string &how) {
  if (how.empty()) return;
  printf("\n### %s: libvexfs in a database, resident bytes/vector (anon + file = total)\n\n"
         "| mode | after the build (and a checkpoint) | after dropping the page cache | warm, after the "
         "sweep |\n|---|---|---|---|\n",
         title.c_str());
  for (const Lib &l : libs)
    if (!l.db_dir.empty())
      printf("| %s | %s | %s | %s |\n", l.name.c_str(), fmt_rss(l.built, true).c_str(),
             fmt_rss(l.cold, true).c_str(), fmt_rss(Rss{l.cold.anon, l.warm_file}, true).c_str());
  printf("\nThe page cache was dropped with %s. Warm: anon as after the drop; file = the pages of "
         "the database's files this process has mapped and resident after the sweep (/proc/self/smaps).\n",
         how.c_str());
}

void print_sweep(const std::string &title, const std::vector<Lib> &libs, size_t nq, const Options &o) {
  printf("\n### %s: recall@10 (%zu queries) and single-thread QPS (the first %zu, median of %d round%s)\n\n"
         "| ef |",
         title.c_str(), nq, std::min(nq, o.time_queries), o.rounds, o.rounds == 1 ? "" : "s");
  for (const Lib &l : libs) printf(" %s recall | %s QPS |", l.name.c_str(), l.name.c_str());
  printf("\n|---|");
  for (size_t i = 0; i < libs.size(); i++) printf("---|---|");
  printf("\n");
  for (size_t e = 0; e < std::size(kEfs); e++) {
    printf("| %d |", kEfs[e]);
    for (const Lib &l : libs)
      printf(l.points[e].skipped ? " - | - |" : " %.4f | %.0f |", l.points[e].recall, l.points[e].median_qps());
    printf("\n");
  }
}

// One row of the targets table; a row whose libraries did not run says so.
void target_row(const std::string &what, bool ran, const std::string &measured, bool met) {
  printf("| %s | %s | %s |\n", what.c_str(), ran ? measured.c_str() : "not run", ran ? (met ? "yes" : "no") : "-");
}

// "<mode> at recall >= target: QPS >= ratio x <peer>'s"
void qps_target(const std::vector<Lib> &libs, const std::string &mode, const std::string &peer, double target,
                double ratio) {
  const Lib *a = find(libs, mode), *b = find(libs, peer);
  double qa = qps_at(a, target), qb = qps_at(b, target);
  target_row(mode + fmt(": recall >= %.2f at >= %.1fx ", target, ratio) + peer + "'s QPS", a && b, qb > 0 ? fmt("%.2fx (%.0f vs %.0f QPS)", qa / qb, qa, qb) : "peer not reached",
             qa > 0 && qb > 0 && qa >= ratio * qb);
}

void memory_target(const std::vector<Lib> &libs, const std::string &mode, double bytes) {
  const Lib *a = find(libs, mode);
  double got = a ? a->resident().total() : 0;
  target_row(mode + fmt(": <= %.0f bytes/vector resident", bytes), a != nullptr, fmt("%.0f", got), got <= bytes);
}

// F16 against F32 at every ef both ran: F16's recall no more than 0.001 below.
void recall_kept_target(const std::vector<Lib> &libs, const std::string &mode, const std::string &ref) {
  const Lib *a = find(libs, mode), *b = find(libs, ref);
  double worst = 0;
  int at = 0;
  for (size_t e = 0; a && b && e < std::size(kEfs); e++) {
    const Point &p = a->points[e], &q = b->points[e];
    if (!p.skipped && !q.skipped && q.recall - p.recall > worst) worst = q.recall - p.recall, at = p.ef;
  }
  target_row(mode + ": recall within 0.001 of " + ref, a && b,
             at ? fmt("%.4f below at worst (ef %.0f)", worst, at) : std::string("never below"),
             worst <= 0.001);
}

void print_targets(const std::string &title, const std::vector<Lib> &libs) {
  const std::string v = "libvexfs ", h = "hnswlib", uf16 = "USearch f16";
  printf("\n### %s: targets (issue 18)\n\n| target | measured | met |\n|---|---|---|\n", title.c_str());
  memory_target(libs, v + "SQ8 + MAPPED", 1000);
  qps_target(libs, v + "SQ8 + MAPPED", h, 0.99, 1.3);
  memory_target(libs, v + "SQ4 + MAPPED", 600);
  qps_target(libs, v + "SQ4 + MAPPED", h, 0.99, 1.0);
  recall_kept_target(libs, v + "F16", v + "F32");
  for (double target : {0.95, 0.99}) qps_target(libs, v + "F16", uf16, target, 1.2);
  const Lib *f16 = find(libs, v + "F16"), *peer = find(libs, uf16);
  double mine = f16 ? f16->resident().total() : 0, theirs = peer ? peer->resident().total() : 0;
  target_row(v + "F16: bytes/vector <= " + uf16 + "'s", f16 && peer, fmt("%.0f vs %.0f", mine, theirs),
             mine <= theirs);
  for (double target : {0.95, 0.99}) qps_target(libs, v + "F32", h, target, 1.3);
  const Lib *f32 = find(libs, v + "F32");
  printf("\nDefault F32 keeps its figures: its QPS against hnswlib's as the HNSW section's targets (1.3x); "
         "its memory, %.0f bytes/vector here, is to compare with this benchmark built at a commit before "
         "issue 18 (it compiles without the new fields).\n",
         f32 ? f32->resident().total() : 0.0);
}

// DIR/memory_<tag>.dat: a block "# <library>" per library that reaches recall 0.99, one line
// "<resident bytes/vector> <QPS at the smallest ef reaching 0.99> <ef>"; then the plot.
void write_plot(const Options &o, const std::string &tag, const std::string &title, const std::vector<Lib> &libs) {
  std::string dat = o.out + "/memory_" + tag + ".dat";
  FILE *f = fopen(dat.c_str(), "w");
  if (!f) {
    printf("\ncannot write %s: no plot\n", dat.c_str());
    return;
  }
  for (const Lib &l : libs)
    if (const Point *p = first_reaching(&l, 0.99))
      fprintf(f, "# %s\n%.0f %.1f %d\n\n\n", l.name.c_str(), l.resident().total(), p->median_qps(), p->ef);
  fclose(f);
  std::string cmd = std::string("sh '") + VX_PLOT_SCRIPT + "' '" + o.out + "' " + tag + " '" + title + "'";
  if (system(cmd.c_str()) == 0)
    printf("\nplot: %s/memory_%s.png (from %s)\n", o.out.c_str(), tag.c_str(), dat.c_str());
  else
    printf("\nno plot (%s did not make one); the figures are in %s\n", VX_PLOT_SCRIPT, dat.c_str());
}

// Builds, sweeps and reports one dataset. Returns its ground truth; `same` (if not null) is
// another dataset's, which should agree with it (a rotation).
std::vector<uint64_t> run_dataset(const Options &o, const std::string &tag, const std::string &title,
                                  const Data &train, const Data &test, const std::vector<uint64_t> *same) {
  size_t nq = std::min(o.nq, test.n);
  printf("\n## %s: %zux%zu, %zu queries (QPS timed on the first %zu), k=%d, one thread, %d round%s\n\n",
         title.c_str(), train.n, train.dim, nq, std::min(nq, o.time_queries), kK, o.rounds,
         o.rounds == 1 ? "" : "s");
  double t0 = now();
  std::vector<uint64_t> truth = exact_truth(train, test, nq);
  printf("ground truth: libvexfs FLAT (%.1f s)\n", now() - t0);
  if (same)
    printf("the rotation keeps the neighbours: top-%d sets equal to Fashion-MNIST's on %zu of %zu queries\n", kK,
           agreeing(truth.data(), same->data(), nq), nq);

  std::vector<Lib> all = make_libs(o, tag), libs;
  std::string how;
  for (Lib &l : all) {
    std::string refused = build_measured(l, train, &how);
    if (!refused.empty()) {
      printf("%s: not run: %s\n", l.name.c_str(), refused.c_str());
      continue;
    }
    printf("%s: built in %.1f s, RSS +%.0f B/vector (anon %.0f, file %.0f)", l.name.c_str(), l.build_s,
           l.built.total(), l.built.anon, l.built.file);
    if (!l.db_dir.empty()) printf("; after dropping the page cache %.0f B/vector", l.cold.total());
    printf("\n");
    fflush(stdout);
    libs.push_back(std::move(l));
  }
  sweep(libs, test, nq, truth, o);
  for (Lib &l : libs)
    if (!l.db_dir.empty()) l.warm_file = mapped_resident(l.db_dir) / train.n;

  print_memory(title, libs);
  print_database_memory(title, libs, how);
  print_sweep(title, libs, nq, o);
  print_targets(title, libs);
  write_plot(o, tag, title, libs);
  for (Lib &l : libs) l.drop();
  fflush(stdout);
  return truth;
}

// Fills *o from the command line (and ROUNDS); false on anything it does not know.
bool parse_options(int argc, char **argv, Options *o) {
  if (const char *r = getenv("ROUNDS")) o->rounds = std::max(1, atoi(r));
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--rounds") o->rounds = std::max(1, atoi(v.c_str()));
    else if (a == "--queries") o->nq = strtoul(v.c_str(), nullptr, 10);
    else if (a == "--time-queries") o->time_queries = std::max(1ul, strtoul(v.c_str(), nullptr, 10));
    else if (a == "--dataset" && (v == "fmnist" || v == "rotated" || v == "both")) o->dataset = v;
    else if (a == "--out") o->out = v;
    else if (a == "--db-dir") o->db_dir = v;
    else if (a == "--stop-recall") o->stop_recall = atof(v.c_str());
    else if (a == "--plateau") o->plateau = atof(v.c_str());
    else if (a == "--only") o->only = v;
    else return false;
  }
  if (o->db_dir.empty()) o->db_dir = o->out;
  return argc % 2 == 1;  // every option has its value
}

}  // namespace

int main(int argc, char **argv) {
  Options o;
  if (!parse_options(argc, argv, &o)) {
    fprintf(stderr, "usage: %s [--rounds N] [--queries N] [--time-queries N] [--dataset fmnist|rotated|both]\n"
                    "          [--out DIR] [--db-dir DIR] [--stop-recall R] [--plateau G] [--only SUBSTRING[,SUBSTRING...]]\n"
                    "          (ROUNDS=N as --rounds N)\n",
            argv[0]);
    return 2;
  }
  double t0 = now();
  Data train = load_fashion_mnist("train");
  Data test = load_fashion_mnist("t10k");
  printf("# Memory-lean storage on Fashion-MNIST, against hnswlib and USearch\n\nlibvexfs %s (%s), M=%d, "
         "efConstruction=%d, k=%d, one thread, ef %d..%d (a library's larger efs skipped past recall %.4f or "
         "a gain below %.4f over two efs); databases in %s\n",
         vexfs_version_string(), vexfs_simd_isa(), kM, kEfc, kK, kEfs[0], kEfs[std::size(kEfs) - 1],
         o.stop_recall, o.plateau, o.db_dir.c_str());
#if VX_HAVE_USEARCH
  printf("USearch %d.%d.%d compiled in, %s kernels (f32 %s, f16 %s, i8 %s)\n", USEARCH_VERSION_MAJOR,
         USEARCH_VERSION_MINOR, USEARCH_VERSION_PATCH, USEARCH_USE_NUMKONG ? "NumKong" : "its portable",
         usearch_kernels(us::scalar_kind_t::f32_k).c_str(), usearch_kernels(us::scalar_kind_t::f16_k).c_str(),
         usearch_kernels(us::scalar_kind_t::i8_k).c_str());
#else
  printf("USearch: not built in (scripts/setup.sh bench installs it into benchmarks/ann/.npm)\n");
#endif
#if !VX_HAVE_STORAGE
  printf("libvexfs's header has no storage modes (vexfs_collection_config.storage): F32 only\n");
#endif
  std::vector<uint64_t> truth;
  if (o.dataset != "rotated") truth = run_dataset(o, "fmnist", "Fashion-MNIST", train, test, nullptr);
  if (o.dataset != "fmnist") {
    double r0 = now();
    std::vector<double> q = random_orthogonal(train.dim, kRotationSeed);
    Data rtrain = rotated(train, q), rtest = rotated(test, q);
    printf("\nrotation: a %zux%zu orthogonal matrix (Gaussian, seed %llu, modified Gram-Schmidt in double), "
           "applied in %.1f s\n",
           train.dim, train.dim, (unsigned long long)kRotationSeed, now() - r0);
    run_dataset(o, "rotated", "Fashion-MNIST, randomly rotated", rtrain, rtest, truth.empty() ? nullptr : &truth);
  }
  printf("\ntotal: %.0f s\n", now() - t0);
  return 0;
}

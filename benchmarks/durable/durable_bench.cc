// Durability costs, measured side by side in one run (medians of interleaved rounds):
//  1. insert throughput of batches of 1000 x 384 floats into a database collection with
//     VEXFS_SYNC_FULL and VEXFS_SYNC_NORMAL, against the same inserts into an in-memory one, for
//     FLAT and HNSW collections (issue targets: FULL >= 0.7x, NORMAL >= 0.9x of in-memory);
//  2. reopening a checkpointed 60000 x 784 Fashion-MNIST HNSW collection against building it
//     again (target: >= 10x faster), with the checkpoint's time and size;
//  3. what zstd saves per snapshot section, and what byte-shuffling floats adds.
// The database lives in --dir (default ./durable-bench-db, on the disk the tests use; not /tmp,
// which may be memory).
//   durable_bench [--rounds R] [--batches B] [--dir D] [--skip-fmnist]
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

extern "C" {
#include "persist/section.h"
#include "vexfs/vexfs.h"
}
#include "../fashion_mnist.h"

static std::string dir = "durable-bench-db";

static void wipe(const std::string &d) {
  for (const char *f : {"LOCK", "snapshot.vxs", "snapshot.tmp", "wal.log"})
    unlink((d + "/" + f).c_str());
  rmdir(d.c_str());
}

static void check(vexfs_status st, const char *what) {
  if (st != VEXFS_OK) {
    fprintf(stderr, "%s: %s\n", what, vexfs_last_error());
    exit(1);
  }
}

static double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Seconds to insert `batches` batches; mode -1 = in-memory database, else a sync mode on disk.
// `in_use`: first the same batches go into another collection and a checkpoint follows (a no-op
// in memory), so the timed batches go to a log file that the checkpoint recycled, as in a
// database that has been running for a while; else the database is new and its log grows.
static double insert_run(int mode, vexfs_index_kind kind, const std::vector<float> &data,
                         size_t batches, bool in_use) {
  const size_t batch = 1000, dim = 384;
  wipe(dir);
  vexfs_db_options o;
  vexfs_db_options_init(&o);
  if (mode >= 0) o.sync = (vexfs_sync_mode)mode;
  vexfs_db *db;
  check(vexfs_db_open(mode < 0 ? nullptr : dir.c_str(), &o, &db), "open");
  vexfs_collection_config cfg;
  vexfs_collection_config_init(&cfg);
  cfg.dim = dim;
  cfg.index = kind;
  vexfs_collection *c;
  std::vector<uint64_t> ids(batch);
  if (in_use) {
    check(vexfs_db_create_collection(db, "earlier", &cfg, &c), "create");
    for (size_t b = 0; b < batches; b++) {
      for (size_t i = 0; i < batch; i++) ids[i] = b * batch + i;
      check(vexfs_insert(c, ids.data(), data.data() + b * batch * dim, batch), "insert");
    }
    check(vexfs_db_checkpoint(db), "checkpoint");
  }
  check(vexfs_db_create_collection(db, "bench", &cfg, &c), "create");
  double t0 = now();
  for (size_t b = 0; b < batches; b++) {
    for (size_t i = 0; i < batch; i++) ids[i] = b * batch + i;
    check(vexfs_insert(c, ids.data(), data.data() + b * batch * dim, batch), "insert");
  }
  double t = now() - t0;
  check(vexfs_db_close(db), "close");
  wipe(dir);
  return t;
}

// insert_run in a fresh child process, so that every round of every mode starts alike: with an
// empty heap (in one process, a round reuses the pages an earlier round freed and skips the page
// faults a growing collection pays; that made whichever mode followed a bigger round look up to
// 3x faster) and with no dirty pages of an earlier round (its log, its checkpoint on close) still
// on their way to the disk. The parent never calls the library before this, so no worker
// threads are lost in the fork.
static double fresh_process_run(int mode, vexfs_index_kind kind, const std::vector<float> &data,
                                size_t batches, bool in_use) {
  fflush(stdout); // or a child's exit flushes the parent's buffered lines again
  sync();
  int fds[2];
  if (pipe(fds) != 0) exit(1);
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    double t = insert_run(mode, kind, data, batches, in_use);
    _exit(write(fds[1], &t, sizeof t) == sizeof t ? 0 : 1);
  }
  close(fds[1]);
  double t = -1;
  ssize_t got = pid > 0 ? read(fds[0], &t, sizeof t) : -1;
  close(fds[0]);
  int status = 1;
  if (pid > 0) waitpid(pid, &status, 0);
  if (got != (ssize_t)sizeof t || status != 0) {
    fprintf(stderr, "insert round (mode %d) failed\n", mode);
    exit(1);
  }
  return t;
}

static void insert_throughput(int rounds, size_t batches) {
  std::vector<float> data(batches * 1000 * 384);
  std::mt19937 rng(1);
  std::normal_distribution<float> g;
  for (auto &x : data) x = g(rng);
  printf("\n== inserts: %zu batches of 1000 x 384, %d rounds, medians (vectors/s)\n", batches,
         rounds);
  // FLAT in a database in use as well: its inserts are the cheapest, so the log's cost shows most
  struct {
    const char *name;
    vexfs_index_kind kind;
    bool in_use;
  } runs[] = {{"FLAT, new database", VEXFS_INDEX_FLAT, false},
              {"FLAT, database in use", VEXFS_INDEX_FLAT, true},
              {"HNSW, new database", VEXFS_INDEX_HNSW, false}};
  printf("%-22s %12s %12s %12s %10s %10s\n", "index, log", "in-memory", "SYNC_NORMAL",
         "SYNC_FULL", "NORMAL/mem", "FULL/mem");
  for (const auto &run : runs) {
    size_t nb = run.kind == VEXFS_INDEX_HNSW ? std::min<size_t>(batches, 10) : batches; // slow
    std::vector<double> mem, normal, full;
    for (int r = 0; r < rounds; r++) { // interleaved, so drift hits all three alike
      mem.push_back(nb * 1000 / fresh_process_run(-1, run.kind, data, nb, run.in_use));
      normal.push_back(nb * 1000 /
                       fresh_process_run(VEXFS_SYNC_NORMAL, run.kind, data, nb, run.in_use));
      full.push_back(nb * 1000 /
                     fresh_process_run(VEXFS_SYNC_FULL, run.kind, data, nb, run.in_use));
    }
    double m = median(mem), n = median(normal), f = median(full);
    printf("%-22s %12.0f %12.0f %12.0f %9.3fx %9.3fx\n", run.name, m, n, f, n / m, f / m);
  }
}

static void reopen_vs_rebuild(int rounds) {
  Data train = load_fashion_mnist("train");
  printf("\n== Fashion-MNIST %zu x %zu HNSW (M 16, ef_construction 200, all cores): rebuild vs "
         "reopen, %d rounds, medians\n", train.n, train.dim, rounds);
  std::vector<uint64_t> ids(train.n);
  for (size_t i = 0; i < train.n; i++) ids[i] = i;
  std::vector<double> build, reopen, ckpt;
  off_t size = 0;
  for (int r = 0; r < rounds; r++) {
    wipe(dir);
    vexfs_db *db;
    vexfs_db_options o;
    vexfs_db_options_init(&o);
    check(vexfs_db_open(dir.c_str(), &o, &db), "open");
    vexfs_collection_config cfg;
    vexfs_collection_config_init(&cfg);
    cfg.dim = (uint32_t)train.dim;
    cfg.index = VEXFS_INDEX_HNSW;
    vexfs_collection *c;
    check(vexfs_db_create_collection(db, "fmnist", &cfg, &c), "create");
    double t0 = now();
    check(vexfs_insert(c, ids.data(), train.v.data(), train.n), "insert");
    build.push_back(now() - t0);
    t0 = now();
    check(vexfs_db_checkpoint(db), "checkpoint");
    ckpt.push_back(now() - t0);
    check(vexfs_db_close(db), "close");
    struct stat sb;
    stat((dir + "/snapshot.vxs").c_str(), &sb);
    size = sb.st_size;
    t0 = now();
    check(vexfs_db_open(dir.c_str(), &o, &db), "reopen");
    reopen.push_back(now() - t0);
    check(vexfs_db_get_collection(db, "fmnist", &c), "get");
    if (vexfs_count(c) != train.n) exit(1);
    check(vexfs_db_close(db), "close");
  }
  wipe(dir);
  double b = median(build), o = median(reopen);
  printf("build (insert 60000): %.3f s   checkpoint: %.3f s   snapshot: %.1f MB (raw vectors "
         "%.1f MB)\n", b, median(ckpt), size / 1e6, train.n * train.dim * 4 / 1e6);
  printf("reopen: %.3f s   -> reopen is %.1fx faster than rebuilding\n", o, b / o);
}

// Bytes stored for `n` bytes of data written as one section, with or without shuffling.
static double ratio(const void *p, size_t n, int shuffle, double *mbps) {
  std::string path = dir + "-sections.tmp";
  vx_snap_writer *w;
  check(vx_snapw_open(path.c_str(), &w), "section writer");
  double t0 = now();
  vx_snapw_begin(w, 1, 0, shuffle);
  vx_snapw_put(w, p, n);
  vx_snapw_end(w);
  uint64_t raw, stored;
  vx_snapw_sizes(w, 1, &raw, &stored);
  check(vx_snapw_finish(w, 0, 0), "finish");
  *mbps = n / (now() - t0) / 1e6;
  unlink(path.c_str());
  return (double)stored / raw;
}

static void compression(bool fmnist) {
  printf("\n== zstd (level 1, 1 MiB blocks) per section: stored/raw (write MB/s)\n");
  std::vector<float> gauss(200000 * 16);
  std::mt19937 rng(2);
  std::normal_distribution<float> g;
  for (auto &x : gauss) x = g(rng);
  std::vector<std::pair<std::string, std::vector<float>>> sets;
  sets.emplace_back("gaussian floats", gauss);
  if (fmnist) sets.emplace_back("Fashion-MNIST pixels", load_fashion_mnist("t10k").v);
  for (auto &s : sets) {
    double a, b;
    double plain = ratio(s.second.data(), s.second.size() * 4, 0, &a);
    double shuf = ratio(s.second.data(), s.second.size() * 4, 1, &b);
    printf("%-22s plain %.3f (%.0f)   byte-shuffled %.3f (%.0f)\n", s.first.c_str(), plain, a,
           shuf, b);
  }
  std::string payloads;
  for (int i = 0; i < 100000; i++)
    payloads += "{\"category\":\"c" + std::to_string(i % 50) + "\",\"price\":" +
                std::to_string((i * 7919) % 100000 / 100.0) + ",\"id\":" + std::to_string(i) +
                "}";
  std::vector<uint64_t> ids(100000);
  for (size_t i = 0; i < ids.size(); i++) ids[i] = 1000000 + i;
  double a, b;
  double pr = ratio(payloads.data(), payloads.size(), 0, &a);
  double ir = ratio(ids.data(), ids.size() * 8, 0, &b);
  printf("%-22s %.3f (%.0f)\n", "JSON payloads", pr, a);
  printf("%-22s %.3f (%.0f)\n", "sequential ids", ir, b);
}

int main(int argc, char **argv) {
  int rounds = 5;
  size_t batches = 20;
  bool fmnist = true;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--rounds") && i + 1 < argc) rounds = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--batches") && i + 1 < argc) batches = (size_t)atoi(argv[++i]);
    else if (!strcmp(argv[i], "--dir") && i + 1 < argc) dir = argv[++i];
    else if (!strcmp(argv[i], "--skip-fmnist")) fmnist = false;
    else {
      fprintf(stderr, "usage: %s [--rounds R] [--batches B] [--dir D] [--skip-fmnist]\n", argv[0]);
      return 2;
    }
  }
  printf("libvexfs %s, SIMD %s\n", vexfs_version_string(), vexfs_simd_isa());
  insert_throughput(rounds, batches);
  compression(fmnist);
  if (fmnist) reopen_vs_rebuild(rounds < 3 ? rounds : 3);
  return 0;
}

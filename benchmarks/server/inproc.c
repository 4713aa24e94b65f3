/* The in-process side of the server benchmark (run.sh): the work vexfs-server does for its
 * Qdrant routes, done through the public API directly, on the same data (gen.h).
 *
 *   (a) durable upsert: a fresh database in a temp directory (vexfs_db_open, sync full unless
 *       --sync says otherwise), one collection made as the server makes it for
 *       {"vectors": {"size": dim, "distance": "Euclid"}, "hnsw_config": {"m": 16,
 *       "ef_construct": 100}} (HNSW, m 16, ef_construction 100, ef_search 100, threads 0), and
 *       vexfs_insert of --batch rows per call, ids 0 .. n-1 in order (--write upsert: the
 *       vexfs_upsert the server's upsert route makes, without payloads);
 *   (b) single-thread latency: --warmup queries untimed, then each of the --queries queries once,
 *       one per vexfs_search call (threads 1, ef --ef, k --k), as a request with one connection;
 *       exact (params.exact) when --exact says so, by default as the server decides: while the
 *       collection holds under 20 000 KiB of vectors (server/qdrant_search.c, after Qdrant's
 *       indexing threshold; 40 000 vectors at d=128), else the HNSW graph;
 *   (c) throughput: --threads threads, each one query per call, cycling through the queries
 *       from its own offset, for --seconds;
 *   then recall@k of --recall queries against the exact neighbours (the server's side measures
 *   the same), outside every timing. (b) and (c) also give the process's CPU time per query
 *   (every thread's), which a busy machine disturbs less than wall time.
 *
 *   inproc [--n 100000] [--dim 128] [--queries 10000] [--seed 1] [--threads 2] [--seconds 10]
 *          [--batch 256] [--ef 64] [--k 10] [--warmup 500] [--recall 100] [--sync full]
 *          [--tmp DIR] [--exact auto|on|off] [--write insert|upsert]
 *
 * Prints one line per measurement, `name key=value ...` (times in seconds or microseconds as
 * the key says). Exit status 1 when a library call fails. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vexfs/vexfs.h>

#include "gen.h"

/* server/qdrant_search.c searches exactly (params.exact) while a collection holds less than this
 * many KiB of vectors, as Qdrant leaves segments unindexed below its indexing_threshold. */
#define SERVER_EXACT_BELOW_KB 20000

typedef struct opts {
  size_t n, dim, nq, batch, k, warmup, recall;
  uint64_t seed;
  unsigned threads, ef;
  int exact;  /* -1: as the server decides (auto) */
  int upsert; /* write with vexfs_upsert (as the server) instead of vexfs_insert */
  double seconds;
  vexfs_sync_mode sync;
  const char *tmp;
} opts;

/* CPU seconds of the whole process (every thread) so far. */
static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, vexfs_status st) {
  fprintf(stderr, "inproc: %s: %s: %s\n", what, vexfs_status_string(st), vexfs_last_error());
  exit(1);
}

static void usage(void) {
  fprintf(stderr, "usage: inproc [--n N] [--dim D] [--queries NQ] [--seed S] [--threads T] "
                  "[--seconds S] [--batch B] [--ef EF] [--k K] [--warmup W] [--recall R] "
                  "[--sync full|normal|off] [--tmp DIR] [--exact auto|on|off] "
                  "[--write insert|upsert]\n");
  exit(2);
}

static opts parse(int argc, char **argv) {
  opts o = {.n = 100000, .dim = 128, .nq = 10000, .batch = 256, .k = 10, .warmup = 500,
            .recall = 100, .seed = 1, .threads = 2, .ef = 64, .seconds = 10,
            .exact = -1, .sync = VEXFS_SYNC_FULL,
            .tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp"};
  static const struct option lo[] = {
      {"n", 1, 0, 'n'},       {"dim", 1, 0, 'd'},     {"queries", 1, 0, 'q'},
      {"seed", 1, 0, 's'},    {"threads", 1, 0, 't'}, {"seconds", 1, 0, 'S'},
      {"batch", 1, 0, 'b'},   {"ef", 1, 0, 'e'},      {"k", 1, 0, 'k'},
      {"warmup", 1, 0, 'w'},  {"recall", 1, 0, 'r'},  {"sync", 1, 0, 'y'},
      {"tmp", 1, 0, 'T'},     {"exact", 1, 0, 'x'},   {"write", 1, 0, 'W'},
      {0, 0, 0, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
    switch (c) {
    case 'n': o.n = gen_parse_size(optarg, 1, 100000000, usage); break;
    case 'd': o.dim = gen_parse_size(optarg, 1, 65536, usage); break;
    case 'q': o.nq = gen_parse_size(optarg, 1, 10000000, usage); break;
    case 's': o.seed = gen_parse_size(optarg, 0, SIZE_MAX, usage); break;
    case 't': o.threads = (unsigned)gen_parse_size(optarg, 1, 256, usage); break;
    case 'S': o.seconds = (double)gen_parse_size(optarg, 1, 3600, usage); break;
    case 'b': o.batch = gen_parse_size(optarg, 1, 1000000, usage); break;
    case 'e': o.ef = (unsigned)gen_parse_size(optarg, 1, 1u << 24, usage); break;
    case 'k': o.k = gen_parse_size(optarg, 1, 64, usage); break;
    case 'w': o.warmup = gen_parse_size(optarg, 0, 10000000, usage); break;
    case 'r': o.recall = gen_parse_size(optarg, 0, 10000000, usage); break;
    case 'y':
      if (strcmp(optarg, "full") == 0) o.sync = VEXFS_SYNC_FULL;
      else if (strcmp(optarg, "normal") == 0) o.sync = VEXFS_SYNC_NORMAL;
      else if (strcmp(optarg, "off") == 0) o.sync = VEXFS_SYNC_OFF;
      else usage();
      break;
    case 'T': o.tmp = optarg; break;
    case 'x':
      if (strcmp(optarg, "auto") == 0) o.exact = -1;
      else if (strcmp(optarg, "on") == 0) o.exact = 1;
      else if (strcmp(optarg, "off") == 0) o.exact = 0;
      else usage();
      break;
    case 'W':
      if (strcmp(optarg, "insert") == 0) o.upsert = 0;
      else if (strcmp(optarg, "upsert") == 0) o.upsert = 1;
      else usage();
      break;
    default: usage();
    }
  }
  if (optind < argc) usage();
  if (o.recall > o.nq) o.recall = o.nq;
  if (o.exact < 0) /* as the server: by the bytes of vectors the collection holds */
    o.exact = (double)o.n * (double)o.dim * sizeof(float) < SERVER_EXACT_BELOW_KB * 1024.0;
  return o;
}

/* Removes the files of the (flat) database directory, then the directory. */
static void remove_dir(const char *path) {
  DIR *d = opendir(path);
  if (d) {
    struct dirent *e;
    char file[8192];
    while ((e = readdir(d)))
      if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
        snprintf(file, sizeof file, "%s/%s", path, e->d_name);
        unlink(file);
      }
    closedir(d);
  }
  rmdir(path);
}

/* A sample buffer that grows. */
typedef struct samples {
  double *v;
  size_t n, cap;
} samples;

static void push(samples *s, double x) {
  if (s->n == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 1 << 16;
    double *v = realloc(s->v, cap * sizeof *v);
    if (!v) return; /* keep what fits; counts still go on */
    s->v = v, s->cap = cap;
  }
  s->v[s->n++] = x;
}

typedef struct worker {
  const opts *o;
  vexfs_collection *c;
  const float *queries;
  size_t first;
  pthread_barrier_t *go;
  atomic_int *stop;
  size_t done;
  samples lat;
  vexfs_status st;
} worker;

static void *search_loop(void *arg) {
  worker *w = arg;
  const opts *o = w->o;
  vexfs_search_params p;
  vexfs_search_params_init(&p);
  p.threads = 1; /* as the server: requests run in parallel already */
  p.ef = o->ef;
  p.exact = (uint32_t)o->exact;
  uint64_t ids[64];
  float dist[64];
  size_t count = 0, i = w->first;
  pthread_barrier_wait(w->go);
  while (!atomic_load_explicit(w->stop, memory_order_relaxed)) {
    double t0 = gen_now();
    vexfs_status st = vexfs_search(w->c, w->queries + i * o->dim, 1, o->k, &p, ids, dist, &count);
    double t1 = gen_now();
    if (st != VEXFS_OK) {
      w->st = st;
      break;
    }
    push(&w->lat, (t1 - t0) * 1e6);
    w->done++;
    if (++i == o->nq) i = 0;
  }
  return NULL;
}

int main(int argc, char **argv) {
  opts o = parse(argc, argv);
  float *v = gen_clustered(o.n + o.nq, o.dim, o.seed);
  const float *queries = v + o.n * o.dim;
  uint64_t *ids = malloc(o.n * sizeof *ids);
  if (!ids) return 1;
  for (size_t i = 0; i < o.n; i++) ids[i] = i;
  printf("inproc_config n=%zu dim=%zu queries=%zu seed=%llu threads=%u batch=%zu ef=%u k=%zu "
         "exact=%d write=%s sync=%s simd=%s\n",
         o.n, o.dim, o.nq, (unsigned long long)o.seed, o.threads, o.batch, o.ef, o.k, o.exact,
         o.upsert ? "upsert" : "insert",
         o.sync == VEXFS_SYNC_FULL ? "full" : o.sync == VEXFS_SYNC_NORMAL ? "normal" : "off",
         vexfs_simd_isa());
  fflush(stdout);

  /* (a) durable upsert */
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/vexfs-inproc.XXXXXX", o.tmp);
  if (!mkdtemp(dir)) {
    perror("inproc: mkdtemp");
    return 1;
  }
  char dbpath[4200];
  snprintf(dbpath, sizeof dbpath, "%s/db", dir);
  vexfs_db_options dbo;
  vexfs_db_options_init(&dbo);
  dbo.sync = o.sync;
  vexfs_db *db = NULL;
  vexfs_status st = vexfs_db_open(dbpath, &dbo, &db);
  if (st != VEXFS_OK) die("vexfs_db_open", st);
  vexfs_collection_config cfg; /* what qdrant_collections.c makes of the create body */
  vexfs_collection_config_init(&cfg);
  cfg.dim = (uint32_t)o.dim;
  cfg.metric = VEXFS_METRIC_L2;
  cfg.index = VEXFS_INDEX_HNSW;
  cfg.hnsw_m = 16;
  cfg.hnsw_ef_construction = 100;
  cfg.hnsw_ef_search = 100;
  vexfs_collection *c = NULL;
  if ((st = vexfs_db_create_collection(db, "bench", &cfg, &c)) != VEXFS_OK)
    die("vexfs_db_create_collection", st);
  size_t nb = (o.n + o.batch - 1) / o.batch;
  double *batch_ms = malloc(nb * sizeof *batch_ms);
  if (!batch_ms) return 1;
  double t0 = gen_now();
  for (size_t b = 0; b < nb; b++) {
    size_t at = b * o.batch, m = o.n - at < o.batch ? o.n - at : o.batch;
    double b0 = gen_now();
    st = o.upsert ? vexfs_upsert(c, ids + at, v + at * o.dim, NULL, m)
                  : vexfs_insert(c, ids + at, v + at * o.dim, m);
    if (st != VEXFS_OK) die(o.upsert ? "vexfs_upsert" : "vexfs_insert", st);
    batch_ms[b] = (gen_now() - b0) * 1e3;
  }
  double upsert_s = gen_now() - t0;
  printf("inproc_upsert points=%zu batches=%zu seconds=%.3f points_per_s=%.1f batch_p50_ms=%.2f "
         "batch_p99_ms=%.2f\n",
         o.n, nb, upsert_s, (double)o.n / upsert_s, gen_percentile(batch_ms, nb, 50),
         gen_percentile(batch_ms, nb, 99));
  fflush(stdout);

  /* (b) one thread, one query per call: each query once, after a warm-up */
  vexfs_search_params p;
  vexfs_search_params_init(&p);
  p.threads = 1;
  p.ef = o.ef;
  p.exact = (uint32_t)o.exact;
  uint64_t out[64];
  float dist[64];
  size_t count;
  for (size_t i = 0; i < o.warmup; i++)
    if ((st = vexfs_search(c, queries + (i % o.nq) * o.dim, 1, o.k, &p, out, dist, &count)) !=
        VEXFS_OK)
      die("vexfs_search", st);
  double *lat = malloc(o.nq * sizeof *lat);
  if (!lat) return 1;
  double cpu0 = cpu_now();
  t0 = gen_now();
  for (size_t i = 0; i < o.nq; i++) {
    double q0 = gen_now();
    if ((st = vexfs_search(c, queries + i * o.dim, 1, o.k, &p, out, dist, &count)) != VEXFS_OK)
      die("vexfs_search", st);
    lat[i] = (gen_now() - q0) * 1e6;
  }
  double lat_s = gen_now() - t0, lat_cpu = cpu_now() - cpu0;
  printf("inproc_latency1 queries=%zu seconds=%.3f qps=%.1f mean_us=%.1f p50_us=%.1f "
         "p90_us=%.1f p99_us=%.1f cpu_us_per_query=%.1f\n",
         o.nq, lat_s, (double)o.nq / lat_s, gen_mean(lat, o.nq), gen_percentile(lat, o.nq, 50),
         gen_percentile(lat, o.nq, 90), gen_percentile(lat, o.nq, 99),
         lat_cpu * 1e6 / (double)o.nq);
  fflush(stdout);

  /* (c) T threads for a fixed time */
  pthread_barrier_t go;
  pthread_barrier_init(&go, NULL, o.threads + 1);
  atomic_int stop = 0;
  worker *w = calloc(o.threads, sizeof *w);
  pthread_t *tid = calloc(o.threads, sizeof *tid);
  if (!w || !tid) return 1;
  for (unsigned t = 0; t < o.threads; t++) {
    w[t] = (worker){.o = &o, .c = c, .queries = queries, .first = o.nq * t / o.threads,
                    .go = &go, .stop = &stop};
    if (pthread_create(&tid[t], NULL, search_loop, &w[t]) != 0) {
      fprintf(stderr, "inproc: cannot start threads\n");
      return 1;
    }
  }
  pthread_barrier_wait(&go);
  cpu0 = cpu_now();
  t0 = gen_now();
  usleep((useconds_t)(o.seconds * 1e6));
  atomic_store(&stop, 1);
  for (unsigned t = 0; t < o.threads; t++) pthread_join(tid[t], NULL);
  double run_s = gen_now() - t0, run_cpu = cpu_now() - cpu0;
  size_t total = 0, nlat = 0;
  for (unsigned t = 0; t < o.threads; t++) {
    if (w[t].st != VEXFS_OK) die("vexfs_search", w[t].st);
    total += w[t].done;
    nlat += w[t].lat.n;
  }
  double *all = malloc((nlat ? nlat : 1) * sizeof *all);
  if (!all) return 1;
  nlat = 0;
  for (unsigned t = 0; t < o.threads; t++) {
    memcpy(all + nlat, w[t].lat.v, w[t].lat.n * sizeof *all);
    nlat += w[t].lat.n;
    free(w[t].lat.v);
  }
  printf("inproc_search threads=%u seconds=%.3f queries=%zu qps=%.1f mean_us=%.1f p50_us=%.1f "
         "p90_us=%.1f p99_us=%.1f cpu_us_per_query=%.1f\n",
         o.threads, run_s, total, (double)total / run_s, gen_mean(all, nlat),
         gen_percentile(all, nlat, 50), gen_percentile(all, nlat, 90),
         gen_percentile(all, nlat, 99), total ? run_cpu * 1e6 / (double)total : 0.0);
  fflush(stdout);

  /* recall@k of the first queries, untimed */
  double recall = 0;
  for (size_t i = 0; i < o.recall; i++) {
    uint64_t want[64];
    if ((st = vexfs_search(c, queries + i * o.dim, 1, o.k, &p, out, dist, &count)) != VEXFS_OK)
      die("vexfs_search", st);
    gen_exact_knn(v, o.n, o.dim, queries + i * o.dim, o.k, want);
    recall += gen_recall(want, out, o.k);
  }
  if (o.recall)
    printf("inproc_recall queries=%zu k=%zu recall=%.4f\n", o.recall, o.k,
           recall / (double)o.recall);

  if ((st = vexfs_db_close(db)) != VEXFS_OK) die("vexfs_db_close", st);
  remove_dir(dbpath);
  rmdir(dir);
  pthread_barrier_destroy(&go);
  free(all), free(w), free(tid), free(lat), free(batch_ms), free(ids), free(v);
  return 0;
}

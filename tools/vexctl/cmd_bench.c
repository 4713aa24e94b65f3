/* vexctl: bench ann — the ann-benchmarks sweep on one of its HDF5 files: build an in-memory
 * collection of `train`, run the `test` queries one per call on one thread for each ef, and
 * compare with the file's `neighbors`: recall@k, QPS, latency; build time and memory. */
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "hdf5_file.h"
#include "json_out.h"
#include "outfile.h"
#include "svg_chart.h"

#define MAX_EFS 64

typedef struct sweep_row {
  uint32_t ef;
  double recall, qps, mean_us, p99_us;
} sweep_row;

/* The data set: train rows, test queries and their true neighbours (row numbers of train). */
typedef struct ann_file {
  float *train, *test;
  int64_t *neighbors;
  uint64_t ntrain, ntest, dim, nneighbors;
  vexfs_metric metric;
} ann_file;

static void free_ann(ann_file *a) {
  free(a->train);
  free(a->test);
  free(a->neighbors);
}

/* ann-benchmarks' names of its distances. */
static int metric_of(const char *distance, vexfs_metric *out) {
  if (!strcmp(distance, "euclidean")) *out = VEXFS_METRIC_L2;
  else if (!strcmp(distance, "angular")) *out = VEXFS_METRIC_COSINE;
  else if (!strcmp(distance, "dot") || !strcmp(distance, "ip")) *out = VEXFS_METRIC_IP;
  else return -1;
  return 0;
}

static int read_ann(const char *cmd, const char *path, ann_file *a) {
  memset(a, 0, sizeof *a);
  char distance[64], err[256];
  uint64_t test_dim, nrows;
  /* the datasets first: their reader says what is wrong with a file that is not HDF5 at all */
  if (vc_hdf5_read_floats(path, "train", &a->train, &a->ntrain, &a->dim, err, sizeof err) ||
      vc_hdf5_read_floats(path, "test", &a->test, &a->ntest, &test_dim, err, sizeof err) ||
      vc_hdf5_read_ints(path, "neighbors", &a->neighbors, &nrows, &a->nneighbors, err, sizeof err)) {
    free_ann(a);
    return vc_fail(cmd, "%s: %s", path, err);
  }
  int rc = VC_OK;
  if (vc_hdf5_attr_string(path, "distance", distance, sizeof distance))
    rc = vc_fail(cmd, "%s: no string attribute 'distance' (ann-benchmarks files name their metric there)", path);
  else if (metric_of(distance, &a->metric))
    rc = vc_fail(cmd, "%s: distance '%s' is not one vexfs has (euclidean, angular, dot or ip)", path, distance);
  else if (!a->ntrain || !a->ntest)
    rc = vc_fail(cmd, "%s: 'train' has %" PRIu64 " rows and 'test' %" PRIu64 ": both need some", path,
                 a->ntrain, a->ntest);
  else if (test_dim != a->dim)
    rc = vc_fail(cmd, "%s: 'test' has %" PRIu64 " columns, 'train' %" PRIu64, path, test_dim, a->dim);
  else if (nrows != a->ntest)
    rc = vc_fail(cmd, "%s: 'neighbors' has %" PRIu64 " rows, 'test' %" PRIu64, path, nrows, a->ntest);
  if (rc != VC_OK) free_ann(a);
  return rc;
}

/* The first k ids of each row of 'neighbors', the truth recall is counted against, must be rows
 * of 'train'. */
static int check_neighbors(const char *cmd, const char *path, const ann_file *a, uint64_t k) {
  for (uint64_t q = 0; q < a->ntest; q++)
    for (uint64_t j = 0; j < k; j++) {
      int64_t id = a->neighbors[q * a->nneighbors + j];
      if (id < 0 || (uint64_t)id >= a->ntrain)
        return vc_fail(cmd, "%s: 'neighbors' row %" PRIu64 ", column %" PRIu64 " holds %" PRId64
                            ", not a row of 'train' (0..%" PRIu64 ")", path, q, j, id, a->ntrain - 1);
    }
  return VC_OK;
}

/* How many of the k ids found are among the first k true neighbours. */
static size_t matches(const uint64_t *found, size_t nfound, const int64_t *truth, size_t k) {
  size_t m = 0;
  for (size_t i = 0; i < nfound; i++)
    for (size_t t = 0; t < k; t++)
      if (truth[t] >= 0 && (uint64_t)truth[t] == found[i]) {
        m++;
        break;
      }
  return m;
}

static int by_value(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return (a > b) - (a < b);
}

/* One ef of the sweep: the queries one by one, as ann-benchmarks runs them. */
static int run_ef(const char *cmd, vexfs_collection *c, const ann_file *a, size_t nq, size_t k,
                  uint32_t ef, double *latency, uint64_t *ids, float *dist, sweep_row *row) {
  vexfs_search_params params;
  vexfs_search_params_init(&params);
  params.ef = ef;     /* HNSW and LSH */
  params.nprobe = ef; /* IVF (and AUTO once it has built IVF) */
  params.threads = 1;
  size_t found = 0;
  double start = vc_now();
  for (size_t q = 0; q < nq; q++) {
    size_t n;
    double t0 = vc_now();
    vexfs_status st = vexfs_search(c, a->test + q * a->dim, 1, k, &params, ids, dist, &n);
    latency[q] = vc_now() - t0;
    if (st != VEXFS_OK) return vc_lib_fail(cmd, "search", st);
    found += matches(ids, n, a->neighbors + q * a->nneighbors, k);
  }
  double wall = vc_now() - start, sum = 0;
  for (size_t q = 0; q < nq; q++) sum += latency[q];
  qsort(latency, nq, sizeof *latency, by_value);
  size_t p99 = (size_t)ceil(0.99 * (double)nq) - 1;
  *row = (sweep_row){ef, (double)found / (double)(nq * k), wall > 0 ? (double)nq / wall : INFINITY,
                     sum / (double)nq * 1e6, latency[p99] * 1e6};
  return VC_OK;
}

typedef struct bench_result {
  const char *path;
  const ann_file *a;
  size_t nq, k;
  const char *index, *in_use;
  double build_s;
  vexfs_metrics m;
  const sweep_row *rows;
  int nrows;
} bench_result;

static double bytes_per_vector(const bench_result *r) {
  return (double)(r->m.memory_vectors + r->m.memory_index) / (double)r->a->ntrain;
}

static void print_table(const bench_result *r) {
  printf("%s: train %" PRIu64 " x %" PRIu64 ", %zu queries, %s; index %s (in use: %s), k %zu\n",
         r->path, r->a->ntrain, r->a->dim, r->nq, vc_metric_name(r->a->metric), r->index, r->in_use, r->k);
  printf("%8s %10s %12s %12s %12s\n", "ef", "recall", "QPS", "mean us", "p99 us");
  for (int i = 0; i < r->nrows; i++)
    printf("%8" PRIu32 " %10.4f %12.1f %12.1f %12.1f\n", r->rows[i].ef, r->rows[i].recall,
           r->rows[i].qps, r->rows[i].mean_us, r->rows[i].p99_us);
  printf("build: %.4g s (%.0f vectors/s)\n", r->build_s,
         r->build_s > 0 ? (double)r->a->ntrain / r->build_s : INFINITY);
  printf("memory: %.1f bytes/vector (vectors %" PRIu64 " B, index %" PRIu64 " B)\n",
         bytes_per_vector(r), r->m.memory_vectors, r->m.memory_index);
}

static void print_json(const bench_result *r) {
  vc_json j;
  vcj_init(&j, stdout);
  vcj_object(&j, NULL);
  vcj_str(&j, "file", r->path);
  vcj_str(&j, "metric", vc_metric_name(r->a->metric));
  vcj_str(&j, "index", r->index);
  vcj_str(&j, "index_in_use", r->in_use);
  vcj_u64(&j, "train", r->a->ntrain);
  vcj_u64(&j, "dim", r->a->dim);
  vcj_u64(&j, "queries", r->nq);
  vcj_u64(&j, "k", r->k);
  vcj_double(&j, "build_seconds", r->build_s);
  vcj_object(&j, "memory_bytes");
  vcj_u64(&j, "vectors", r->m.memory_vectors);
  vcj_u64(&j, "index", r->m.memory_index);
  vcj_end(&j);
  vcj_double(&j, "bytes_per_vector", bytes_per_vector(r));
  vcj_array(&j, "rows");
  for (int i = 0; i < r->nrows; i++) {
    vcj_object(&j, NULL);
    vcj_u64(&j, "ef", r->rows[i].ef);
    vcj_double(&j, "recall", r->rows[i].recall);
    vcj_double(&j, "qps", r->rows[i].qps);
    vcj_double(&j, "mean_latency_us", r->rows[i].mean_us);
    vcj_double(&j, "p99_latency_us", r->rows[i].p99_us);
    vcj_end(&j);
  }
  vcj_end(&j);
  vcj_end(&j);
}

/* The recall-QPS curve, as ann-benchmarks plots it (QPS on a log axis). */
static int write_plot(const char *cmd, const char *plot, const bench_result *r) {
  double x[MAX_EFS], y[MAX_EFS];
  for (int i = 0; i < r->nrows; i++) x[i] = r->rows[i].recall, y[i] = r->rows[i].qps;
  char label[64], title[512];
  snprintf(label, sizeof label, "vexfs %s", r->in_use);
  const char *base = strrchr(r->path, '/');
  snprintf(title, sizeof title, "%s: recall@%zu against queries per second", base ? base + 1 : r->path, r->k);
  vc_series s = {label, x, y, (size_t)r->nrows};
  vc_chart chart = {title, "recall", "queries per second (one thread)", 0, 1, 0, 0};
  char err[1024];
  vc_outfile o;
  if (vc_outfile_open(&o, plot, err, sizeof err) != 0) return vc_fail(cmd, "%s", err);
  vc_svg_lines(o.f, &chart, &s, 1);
  int ok = vc_outfile_finish(&o, err, sizeof err) == 0 && vc_outfile_commit(&o, err, sizeof err) == 0;
  vc_outfile_discard(&o);
  return ok ? VC_OK : vc_fail(cmd, "%s", err);
}

/* Builds the collection and runs the sweep; fills r. */
static int bench(const char *cmd, vexfs_collection_config *cfg, const uint32_t *efs, bench_result *r,
                 sweep_row *rows) {
  const ann_file *a = r->a;
  vexfs_collection *c;
  cfg->dim = (uint32_t)a->dim;
  cfg->metric = a->metric;
  vexfs_status st = vexfs_collection_create(cfg, &c);
  if (st != VEXFS_OK) return vc_lib_fail(cmd, "creating the collection", st);
  uint64_t *train_ids = malloc(a->ntrain * sizeof *train_ids);
  double *latency = malloc(r->nq * sizeof *latency);
  uint64_t *ids = malloc(r->k * sizeof *ids);
  float *dist = malloc(r->k * sizeof *dist);
  int rc = VC_OK;
  if (!train_ids || !latency || !ids || !dist) rc = vc_fail(cmd, "out of memory");
  if (rc == VC_OK) {
    for (uint64_t i = 0; i < a->ntrain; i++) train_ids[i] = i; /* neighbors are train row numbers */
    double t0 = vc_now();
    st = vexfs_insert(c, train_ids, a->train, a->ntrain);
    r->build_s = vc_now() - t0;
    if (st != VEXFS_OK) rc = vc_lib_fail(cmd, "inserting 'train'", st);
  }
  if (rc == VC_OK) {
    vexfs_metrics_init(&r->m);
    if ((st = vexfs_collection_metrics(c, &r->m)) != VEXFS_OK) rc = vc_lib_fail(cmd, "metrics", st);
    r->in_use = vexfs_index_in_use(c); /* static storage: outlives c */
  }
  for (int i = 0; i < r->nrows && rc == VC_OK; i++)
    rc = run_ef(cmd, c, a, r->nq, r->k, efs[i], latency, ids, dist, &rows[i]);
  r->rows = rows;
  free(train_ids);
  free(latency);
  free(ids);
  free(dist);
  vexfs_collection_free(c);
  return rc;
}

enum { OPT_INDEX = 256, OPT_EF, OPT_THREADS, OPT_M, OPT_EFC, OPT_QUERIES, OPT_PLOT };

static int run_bench(int argc, char **argv) {
  const char *cmd = argv[0];
  if (argc < 2 || strcmp(argv[1], "ann"))
    return vc_usage(cmd, argc < 2 ? "expected 'ann FILE.hdf5'" : "'%s' is not a bench: there is 'ann'", argv[1]);
  argc--, argv++; /* getopt reads the words after "ann" */
  int json = 0;
  const struct option longopts[] = {
      {"index", required_argument, NULL, OPT_INDEX},     {"ef", required_argument, NULL, OPT_EF},
      {"k", required_argument, NULL, 'k'},               {"threads", required_argument, NULL, OPT_THREADS},
      {"m", required_argument, NULL, OPT_M},             {"ef-construction", required_argument, NULL, OPT_EFC},
      {"queries", required_argument, NULL, OPT_QUERIES}, {"plot", required_argument, NULL, OPT_PLOT},
      {"json", no_argument, &json, 1},                   {0, 0, 0, 0}};
  vexfs_collection_config cfg;
  vexfs_collection_config_init(&cfg);
  cfg.index = VEXFS_INDEX_HNSW;
  uint32_t efs[MAX_EFS] = {10, 20, 40, 80};
  int nefs = 4;
  uint64_t k = 10, queries = UINT64_MAX, v;
  const char *plot = NULL;
  int c;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "k:", longopts, NULL)) != -1) {
    switch (c) {
    case 0: break;
    case OPT_INDEX:
      if (vc_parse_index(optarg, &cfg.index))
        return vc_usage(cmd, "--index is hnsw, flat, ivf, lsh or auto, not '%s'", optarg);
      break;
    case OPT_EF:
      if ((nefs = vc_parse_u32_list(optarg, efs, MAX_EFS)) < 0)
        return vc_usage(cmd, "--ef wants up to %d positive integers, comma-separated, not '%s'", MAX_EFS, optarg);
      break;
    case 'k':
      if (vc_parse_u64(optarg, 1, VEXFS_MAX_K, &k))
        return vc_usage(cmd, "-k wants an integer 1..%u, not '%s'", VEXFS_MAX_K, optarg);
      break;
    case OPT_THREADS:
      if (vc_parse_u64(optarg, 1, 256, &v)) return vc_usage(cmd, "--threads wants 1..256, not '%s'", optarg);
      cfg.threads = (uint32_t)v;
      break;
    case OPT_M:
      if (vc_parse_u64(optarg, 2, 2048, &v)) return vc_usage(cmd, "--m wants 2..2048, not '%s'", optarg);
      cfg.hnsw_m = (uint32_t)v;
      break;
    case OPT_EFC:
      if (vc_parse_u64(optarg, 1, VEXFS_MAX_K, &v))
        return vc_usage(cmd, "--ef-construction wants 1..%u, not '%s'", VEXFS_MAX_K, optarg);
      cfg.hnsw_ef_construction = (uint32_t)v;
      break;
    case OPT_QUERIES:
      if (vc_parse_u64(optarg, 1, UINT64_MAX, &queries))
        return vc_usage(cmd, "--queries wants a positive integer, not '%s'", optarg);
      break;
    case OPT_PLOT: plot = optarg; break;
    default: return vc_bad_option(cmd, argc, argv);
    }
  }
  if (argc - optind != 1)
    return vc_usage(cmd, argc - optind < 1 ? "expected ann FILE.hdf5" : "unexpected argument after FILE.hdf5");
  const char *path = argv[optind];
  cfg.dim = 1; /* the file's comes later; the rest is judged now */
  int rc = vc_check_config(cmd, &cfg);
  if (rc != VC_OK) return rc;

  ann_file a;
  if (read_ann(cmd, path, &a) != VC_OK) return VC_FAIL;
  if (k > a.nneighbors) {
    free_ann(&a);
    return vc_fail(cmd, "%s: 'neighbors' holds %" PRIu64 " per query, fewer than -k %" PRIu64, path,
                   a.nneighbors, k);
  }
  if (check_neighbors(cmd, path, &a, k) != VC_OK) {
    free_ann(&a);
    return VC_FAIL;
  }
  sweep_row rows[MAX_EFS];
  bench_result r = {path, &a, queries < a.ntest ? (size_t)queries : (size_t)a.ntest, (size_t)k,
                    vc_index_name(cfg.index), "?", 0, {0}, rows, nefs};
  rc = bench(cmd, &cfg, efs, &r, rows);
  if (rc == VC_OK && plot) rc = write_plot(cmd, plot, &r);
  if (rc == VC_OK) {
    if (json) print_json(&r);
    else print_table(&r);
  }
  free_ann(&a);
  return rc;
}

const vc_command vc_cmd_bench = {
    "bench", "the ann-benchmarks sweep on an ann-benchmarks HDF5 file",
    "usage: vexctl bench ann FILE.hdf5 [--index hnsw|flat|ivf|lsh|auto] [--ef 10,20,40,80]\n"
    "                        [-k K] [--threads N] [--m M] [--ef-construction N]\n"
    "                        [--queries N] [--plot FILE.svg] [--json]\n"
    "\n"
    "Runs the ann-benchmarks sweep on one of its data sets: builds an in-memory collection of\n"
    "the file's 'train' rows (ids: row numbers), with the metric its 'distance' attribute names\n"
    "(euclidean: l2, angular: cosine, dot or ip: ip), then for each ef runs the 'test' queries\n"
    "one per call on one thread and prints ef, recall@K (the share of the first K 'neighbors'\n"
    "found), queries per second, mean and p99 latency; then the build time and the memory per\n"
    "vector (vectors and index).\n"
    "\n"
    "  --index K            hnsw (default), flat, ivf, lsh or auto\n"
    "  --ef LIST            the query-time values swept, comma-separated (default 10,20,40,80):\n"
    "                       ef for hnsw and lsh (lsh re-ranks 4 ef candidates), nprobe for ivf;\n"
    "                       flat ignores it\n"
    "  -k, --k K            neighbours per query (default 10); the file must hold K\n"
    "  --threads N          threads that build the index (default: all cores)\n"
    "  --m M                HNSW links per node (default 16)\n"
    "  --ef-construction N  HNSW candidate list while building (default 200)\n"
    "  --queries N          only the first N test queries (default: all)\n"
    "  --plot FILE.svg      also write the recall-QPS curve as an SVG file\n"
    "  --json               one JSON object with every figure, \"rows\": one per ef\n"
    "\n"
    "example:\n"
    "  vexctl bench ann fashion-mnist-784-euclidean.hdf5 --ef 16,32,64,128 --plot fm.svg\n",
    run_bench};

/* vexctl import DB NAME FILE: loads a vector file into a collection, batch by batch. The whole
 * file is checked first (vecfile.h), so that a bad file writes nothing; the database and the
 * collection are created only then. A batch the library refuses stops the import, as does
 * Ctrl-C (after the batch in progress); the batches committed before stay. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "json_out.h"
#include "progress.h"
#include "vecfile.h"

#define CMD "import"

typedef struct import_options {
  const char *db_path, *name, *file, *dataset;
  vf_format format;
  uint64_t ids_from;
  size_t batch;
  vexfs_collection_config cfg; /* dim from the file; the rest from the options or defaults */
  int metric_set, index_set, m_set, efc_set, efs_set;
  vexfs_sync_mode sync;
  int json;
} import_options;

static volatile sig_atomic_t stop_requested;

static void request_stop(int sig) {
  (void)sig;
  stop_requested = 1;
}

static int parse_args(int argc, char **argv, import_options *o) {
  enum { FORMAT = 256, DATASET, IDS_FROM, BATCH, METRIC, INDEX, M, EFC, EFS, SYNC, JSON };
  static const struct option longs[] = {
      {"format", required_argument, NULL, FORMAT}, {"dataset", required_argument, NULL, DATASET},
      {"ids-from", required_argument, NULL, IDS_FROM}, {"batch", required_argument, NULL, BATCH},
      {"metric", required_argument, NULL, METRIC}, {"index", required_argument, NULL, INDEX},
      {"m", required_argument, NULL, M}, {"ef-construction", required_argument, NULL, EFC},
      {"ef-search", required_argument, NULL, EFS}, {"sync", required_argument, NULL, SYNC},
      {"json", no_argument, NULL, JSON}, {NULL, 0, NULL, 0}};
  const char *format_word = NULL;
  uint64_t v;
  int opt;
  opterr = 0;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "", longs, NULL)) != -1) {
    switch (opt) {
    case FORMAT:
      if (vf_format_parse(optarg, &o->format))
        return vc_usage(CMD, "--format '%s': expected npy, fvecs, bvecs, jsonl, csv or hdf5",
                        optarg);
      format_word = optarg;
      break;
    case DATASET: o->dataset = optarg; break;
    case IDS_FROM:
      if (vc_parse_u64(optarg, 0, UINT64_MAX - 1, &o->ids_from))
        return vc_usage(CMD, "--ids-from '%s': expected an id 0..%llu", optarg,
                        (unsigned long long)UINT64_MAX - 1);
      break;
    case BATCH:
      if (vc_parse_u64(optarg, 1, 1000000, &v))
        return vc_usage(CMD, "--batch '%s': expected 1..1000000 rows", optarg);
      o->batch = (size_t)v;
      break;
    case METRIC:
      if (vc_parse_metric(optarg, &o->cfg.metric))
        return vc_usage(CMD, "--metric '%s': expected l2, ip or cosine", optarg);
      o->metric_set = 1;
      break;
    case INDEX:
      if (vc_parse_index(optarg, &o->cfg.index))
        return vc_usage(CMD, "--index '%s': expected auto, flat, hnsw, lsh or ivf", optarg);
      o->index_set = 1;
      break;
    case M:
    case EFC:
    case EFS:
      if (vc_parse_u64(optarg, 1, UINT32_MAX, &v))
        return vc_usage(CMD, "--%s '%s': expected a positive integer",
                        opt == M ? "m" : opt == EFC ? "ef-construction" : "ef-search", optarg);
      if (opt == M) o->cfg.hnsw_m = (uint32_t)v, o->m_set = 1;
      else if (opt == EFC) o->cfg.hnsw_ef_construction = (uint32_t)v, o->efc_set = 1;
      else o->cfg.hnsw_ef_search = (uint32_t)v, o->efs_set = 1;
      break;
    case SYNC:
      if (vc_parse_sync(optarg, &o->sync))
        return vc_usage(CMD, "--sync '%s': expected full, normal or off", optarg);
      break;
    case JSON: o->json = 1; break;
    default: return vc_bad_option(CMD, argc, argv);
    }
  }
  if (vc_db_name_file(CMD, argc, argv, &o->db_path, &o->name, &o->file) != VC_OK) return VC_USAGE;
  if (!format_word && vf_format_of_path(o->file, &o->format))
    return vc_usage(CMD, "%s: cannot tell the format from the name (.npy .fvecs .bvecs .jsonl "
                         ".csv .hdf5 .h5); say it with --format", o->file);
  if (o->dataset && o->format != VF_HDF5) return vc_usage(CMD, "--dataset is for HDF5 files");
  return vc_check_name(CMD, o->name);
}

/* An existing collection must have the file's dimension and whatever the options ask. */
static int check_existing(const import_options *o, vexfs_collection *c) {
  vexfs_collection_config have;
  vexfs_collection_config_init(&have);
  vexfs_status st = vexfs_collection_get_config(c, &have);
  if (st != VEXFS_OK) return vc_lib_fail(CMD, o->name, st);
  if (have.dim != o->cfg.dim)
    return vc_fail(CMD, "collection '%s' has dimension %u, %s has %u: nothing imported", o->name,
                   have.dim, o->file, o->cfg.dim);
  const char *differs = NULL;
  char want[32], got[32];
  if (o->metric_set && have.metric != o->cfg.metric) {
    differs = "--metric";
    snprintf(want, sizeof want, "%s", vc_metric_name(o->cfg.metric));
    snprintf(got, sizeof got, "%s", vc_metric_name(have.metric));
  } else if (o->index_set && have.index != o->cfg.index) {
    differs = "--index";
    snprintf(want, sizeof want, "%s", vc_index_name(o->cfg.index));
    snprintf(got, sizeof got, "%s", vc_index_name(have.index));
  } else {
    const struct { int set; const char *opt; uint32_t want, got; } u[] = {
        {o->m_set, "--m", o->cfg.hnsw_m, have.hnsw_m},
        {o->efc_set, "--ef-construction", o->cfg.hnsw_ef_construction,
         have.hnsw_ef_construction},
        {o->efs_set, "--ef-search", o->cfg.hnsw_ef_search, have.hnsw_ef_search}};
    for (size_t i = 0; i < sizeof u / sizeof *u && !differs; i++)
      if (u[i].set && u[i].want != u[i].got) {
        differs = u[i].opt;
        snprintf(want, sizeof want, "%u", u[i].want);
        snprintf(got, sizeof got, "%u", u[i].got);
      }
  }
  if (differs)
    return vc_fail(CMD, "collection '%s' exists with %s %s, not %s: nothing imported", o->name,
                   differs, got, want);
  return VC_OK;
}

/* Opens (creating) the database with the sync mode asked, then the collection (creating it). */
static int open_target(const import_options *o, vexfs_db **db, vexfs_collection **c,
                       int *created) {
  if (vc_open_db(CMD, o->db_path, 1, 1, o->sync, db) != VC_OK) return VC_FAIL;
  vexfs_status st = vexfs_db_get_collection(*db, o->name, c);
  if (st == VEXFS_OK) return check_existing(o, *c);
  if (st != VEXFS_E_NOT_FOUND) return vc_lib_fail(CMD, o->name, st);
  st = vexfs_db_create_collection(*db, o->name, &o->cfg, c);
  if (st != VEXFS_OK) return vc_lib_fail(CMD, o->name, st);
  *created = 1;
  return VC_OK;
}

/* "vexfs_insert: row 3: id 17 is ..." with the batch's row 3 named as the file's row (and line). */
static void name_file_row(const vf_source *s, uint64_t first, size_t n, const char *msg,
                          char *out, size_t len) {
  const char *row = strstr(msg, "row ");
  char *after = NULL;
  unsigned long long r = row ? strtoull(row + 4, &after, 10) : 0;
  if (!row || after == row + 4 || r >= n || *after != ':') {
    snprintf(out, len, "rows %llu..%llu: %s", (unsigned long long)first,
             (unsigned long long)(first + n - 1), msg);
    return;
  }
  char name[64];
  vf_row_name(s, first + r, name, sizeof name);
  snprintf(out, len, "%.*s%s%s", (int)(row - msg), msg, name, after);
}

static void committed_rows(uint64_t done, const char *file, char *out, size_t len) {
  if (done) snprintf(out, len, "rows 0..%llu of %s", (unsigned long long)done - 1, file);
  else snprintf(out, len, "none of %s", file);
}

/* Inserts every row of s into c; *done receives the rows committed. */
static int insert_all(const import_options *o, vf_source *s, vexfs_collection *c,
                      uint64_t *done) {
  vc_progress bar;
  vc_progress_start(&bar, s->rows);
  char refused[1024] = "";
  for (uint64_t first = 0; first < s->rows && !stop_requested; first += o->batch) {
    size_t n = s->rows - first < o->batch ? (size_t)(s->rows - first) : o->batch;
    vf_batch b;
    vf_read_batch(s, first, n, &b);
    vexfs_status st = b.payloads ? vexfs_insert_with_payload(c, b.ids, b.vectors, b.payloads, n)
                                 : vexfs_insert(c, b.ids, b.vectors, n);
    if (st != VEXFS_OK) {
      name_file_row(s, first, n, vexfs_last_error(), refused, sizeof refused);
      break;
    }
    *done = first + n;
    vc_progress_update(&bar, *done);
  }
  vc_progress_end(&bar);
  if (!*refused && *done == s->rows) return VC_OK;
  char kept[300];
  committed_rows(*done, o->file, kept, sizeof kept);
  if (*refused)
    return vc_fail(CMD, "%s: %s; %llu rows committed before it (%s), the rest not imported",
                   o->file, refused, (unsigned long long)*done, kept);
  return vc_fail(CMD, "interrupted: %llu rows committed (%s), the rest not imported",
                 (unsigned long long)*done, kept);
}

static void report(const import_options *o, const vf_source *s, size_t count, int created,
                   double seconds) {
  double rate = seconds > 0 ? (double)s->rows / seconds : 0;
  if (!o->json) {
    printf("imported %llu rows into %s in %.1f s (%.0f rows/s)\n", (unsigned long long)s->rows,
           o->name, seconds, rate);
    return;
  }
  vc_json j;
  vcj_init(&j, stdout);
  vcj_object(&j, NULL);
  vcj_str(&j, "database", o->db_path);
  vcj_str(&j, "collection", o->name);
  vcj_str(&j, "file", o->file);
  vcj_str(&j, "format", vf_format_name(s->format));
  vcj_u64(&j, "rows", s->rows);
  vcj_u64(&j, "dim", s->dim);
  vcj_bool(&j, "created", created);
  vcj_u64(&j, "count", count);
  vcj_double(&j, "seconds", seconds);
  vcj_double(&j, "rows_per_sec", rate);
  vcj_end(&j);
}

static int run_import(int argc, char **argv) {
  import_options o = {.batch = 1000, .sync = VEXFS_SYNC_FULL};
  vexfs_collection_config_init(&o.cfg);
  int rc = parse_args(argc, argv, &o);
  if (rc != VC_OK) return rc;
  vf_source s;
  char err[1024];
  if (vf_open(&s, o.file, o.format, o.dataset, o.ids_from, o.batch, err, sizeof err) != 0)
    return vc_fail(CMD, "%s: %s", o.file, err);
  o.cfg.dim = s.dim;
  if ((rc = vc_check_config(CMD, &o.cfg)) != VC_OK) return vf_close(&s), rc;

  struct sigaction stop = {.sa_handler = request_stop, .sa_flags = SA_RESTART}, old_int, old_term;
  sigemptyset(&stop.sa_mask);
  stop_requested = 0;
  sigaction(SIGINT, &stop, &old_int);
  sigaction(SIGTERM, &stop, &old_term);

  vexfs_db *db = NULL;
  vexfs_collection *c = NULL;
  int created = 0;
  uint64_t done = 0;
  double start = vc_now();
  rc = open_target(&o, &db, &c, &created);
  if (rc == VC_OK) rc = insert_all(&o, &s, c, &done);
  size_t count = vexfs_count(c);
  if (db) vc_close_db(CMD, db, &rc); /* with its final checkpoint, inside the timing */
  double seconds = vc_now() - start;
  sigaction(SIGINT, &old_int, NULL);
  sigaction(SIGTERM, &old_term, NULL);
  if (rc == VC_OK) report(&o, &s, count, created, seconds);
  vf_close(&s);
  return rc;
}

const vc_command vc_cmd_import = {
    "import", "load vectors from .npy, .fvecs, .bvecs, .jsonl, .csv or ann-benchmarks HDF5",
    "usage: vexctl import DB NAME FILE [options]\n"
    "\n"
    "Loads the vectors of FILE into collection NAME of database DB, in batches. The whole file\n"
    "is checked first (structure, dimensions, every line, every value finite), so a bad file\n"
    "changes nothing; DB and NAME are created when missing, with the file's dimension.\n"
    "A batch the library refuses (e.g. an id already there) stops the import: the message\n"
    "names the file's row (and line), and the batches before it stay committed. Ctrl-C stops\n"
    "after the batch in progress, which is committed.\n"
    "\n"
    "Formats, by FILE's extension or --format:\n"
    "  .npy            2-D float32 or float64 array (C or Fortran order); ids from --ids-from\n"
    "  .fvecs .bvecs   TEXMEX: per row an int32 dimension, then float32 / uint8 values\n"
    "  .jsonl          per line {\"id\": 7, \"vector\": [0.5, 1], \"payload\": {...}}\n"
    "                  (id optional: --ids-from + row; payload optional)\n"
    "  .csv            per line an id, then the coordinates; an optional header line\n"
    "  .hdf5 .h5       ann-benchmarks layout: dataset 'train' (or --dataset)\n"
    "\n"
    "options:\n"
    "  --format F            npy | fvecs | bvecs | jsonl | csv | hdf5 (default: the extension)\n"
    "  --dataset NAME        the HDF5 dataset to load (default train)\n"
    "  --ids-from N          first id for rows without one (default 0)\n"
    "  --batch N             rows per insert call (default 1000)\n"
    "  --sync full|normal|off  durability of each batch (default full)\n"
    "  --json                print the summary as one JSON object\n"
    "For a new collection (for an existing one they must match, or be left out):\n"
    "  --metric l2|ip|cosine (default l2)\n"
    "  --index auto|flat|hnsw|lsh|ivf (default auto)\n"
    "  --m N, --ef-construction N, --ef-search N   HNSW settings (default 16, 200, 64)\n"
    "\n"
    "Progress: a bar with rate and time left on a terminal; then one line on stdout:\n"
    "  imported 60000 rows into NAME in 41.2 s (1456 rows/s)\n"
    "\n"
    "examples:\n"
    "  vexctl import ./db images fashion-mnist-train.npy --metric l2 --index hnsw\n"
    "  vexctl import ./db docs docs.jsonl --batch 500 --json\n"
    "  vexctl import ./db sift sift-128-euclidean.hdf5 --dataset train\n",
    run_import};

/* vexctl performance metrics DB [NAME]: the library's figures for one collection or all of a
 * database, as a table, JSON (vexfs_metrics_json) or Prometheus text (vexfs_metrics_prometheus). */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json_out.h"
#include "perf_commands.h"

#define CMD "performance metrics"

typedef enum format { FORMAT_TABLE, FORMAT_JSON, FORMAT_PROMETHEUS } format;

typedef struct target {
  const char *name;
  vexfs_collection *c;
} target;

static void print_table(const target *t, size_t n) {
  int w = 10; /* "collection" */
  for (size_t i = 0; i < n; i++)
    if ((int)strlen(t[i].name) > w) w = (int)strlen(t[i].name);
  printf("%-*s %10s %6s %-6s %-10s %12s %12s %12s %9s %9s\n", w, "collection", "vectors", "dim",
         "metric", "index", "mem vectors", "mem index", "mem payload", "searches", "inserts");
  vexfs_metrics m;
  for (size_t i = 0; i < n; i++) {
    vexfs_collection_config cfg;
    vexfs_collection_config_init(&cfg);
    vexfs_collection_get_config(t[i].c, &cfg);
    vexfs_metrics_init(&m);
    vexfs_collection_metrics(t[i].c, &m);
    printf("%-*s %10llu %6u %-6s %-10s %12llu %12llu %12llu %9llu %9llu\n", w, t[i].name,
           (unsigned long long)m.vectors, cfg.dim, vc_metric_name(cfg.metric),
           vexfs_index_in_use(t[i].c), (unsigned long long)m.memory_vectors,
           (unsigned long long)m.memory_index, (unsigned long long)m.memory_payloads,
           (unsigned long long)m.searches, (unsigned long long)m.inserts);
  }
  if (n == 0) printf("(no collections)\n");
  vexfs_metrics_init(&m);
  vexfs_collection_metrics(NULL, &m);
  printf("\nmemory in bytes; searches and inserts count this process's calls (a fresh open has "
         "made none).\nprocess: simd %s, pool hit rate %.1f%%, pool slabs %llu bytes\n",
         m.simd_isa, 100 * m.pool_hit_rate, (unsigned long long)m.memory_pool);
}

static int print_json(const char *path, const target *t, size_t n) {
  char **texts = calloc(n ? n : 1, sizeof *texts);
  if (!texts) return vc_fail(CMD, "out of memory");
  int rc = VC_OK;
  for (size_t i = 0; i < n && rc == VC_OK; i++)
    if (!(texts[i] = vexfs_metrics_json(t[i].c))) rc = vc_lib_fail(CMD, t[i].name, VEXFS_E_NOMEM);
  if (rc == VC_OK) { /* printed once every text is there: nothing partial on a failure */
    vc_json j;
    vcj_init(&j, stdout);
    vcj_object(&j, NULL);
    vcj_str(&j, "database", path);
    vcj_array(&j, "collections");
    for (size_t i = 0; i < n; i++) vcj_raw(&j, NULL, texts[i]);
    vcj_end(&j);
    vcj_end(&j);
  }
  for (size_t i = 0; i < n; i++) vexfs_free(texts[i]);
  free(texts);
  return rc;
}

/* A metric family of the exposition format: its "# HELP"/"# TYPE" lines and its samples. */
typedef struct family {
  const char *name, *head, *samples;
  size_t name_len, head_len, samples_len;
  int printed;
} family;

static size_t line_length(const char *s) {
  const char *nl = strchr(s, '\n');
  return nl ? (size_t)(nl - s) + 1 : strlen(s);
}

/* Splits text into families, appending to fam (room for as many as text has lines). */
static size_t split_families(const char *text, family *fam, size_t n) {
  for (const char *p = text; *p;) {
    size_t len = line_length(p);
    int comment = p[0] == '#';
    if (comment && !strncmp(p, "# HELP ", 7)) { /* a new family */
      family *f = &fam[n++];
      memset(f, 0, sizeof *f);
      f->name = p + 7;
      f->name_len = strcspn(f->name, " \n");
      f->head = p;
    } else if (n == 0) { /* text before any family: a family of its own, without a name */
      memset(&fam[n++], 0, sizeof *fam);
      fam[0].head = fam[0].samples = p;
    }
    family *f = &fam[n - 1];
    if (comment && !f->samples) f->head_len += len;
    else {
      if (!f->samples) f->samples = p;
      f->samples_len += len;
    }
    p += len;
  }
  return n;
}

static size_t count_lines(const char *s) {
  size_t n = 1;
  for (; *s; s++) n += *s == '\n';
  return n;
}

/* Every collection's families merged: each family's header once, then the samples of every
 * collection, as the text format requires (a family's lines must not be split up). */
static int print_prometheus(const target *t, size_t n) {
  char **texts = calloc(n ? n : 1, sizeof *texts);
  if (!texts) return vc_fail(CMD, "out of memory");
  int rc = VC_OK;
  size_t lines = 0;
  for (size_t i = 0; i < n && rc == VC_OK; i++) {
    texts[i] = vexfs_metrics_prometheus(t[i].c);
    if (!texts[i]) rc = vc_lib_fail(CMD, t[i].name, VEXFS_E_NOMEM);
    else lines += count_lines(texts[i]);
  }
  family *fam = rc == VC_OK ? malloc((lines ? lines : 1) * sizeof *fam) : NULL;
  if (rc == VC_OK && !fam) rc = vc_fail(CMD, "out of memory");
  if (rc == VC_OK) {
    size_t nf = 0;
    for (size_t i = 0; i < n; i++) nf = split_families(texts[i], fam, nf);
    for (size_t i = 0; i < nf; i++) {
      if (fam[i].printed) continue;
      fwrite(fam[i].head, 1, fam[i].head_len, stdout);
      for (size_t j = i; j < nf; j++)
        if (!fam[j].printed && fam[j].name_len == fam[i].name_len &&
            (!fam[i].name_len || !memcmp(fam[j].name, fam[i].name, fam[i].name_len))) {
          if (fam[j].samples) fwrite(fam[j].samples, 1, fam[j].samples_len, stdout);
          fam[j].printed = 1;
        }
    }
  }
  free(fam);
  for (size_t i = 0; i < n; i++) vexfs_free(texts[i]);
  free(texts);
  return rc;
}

int vc_perf_metrics(int argc, char **argv) {
  static const struct option longopts[] = {{"format", required_argument, NULL, 'f'},
                                           {"json", no_argument, NULL, 'j'},
                                           {NULL, 0, NULL, 0}};
  format fmt = FORMAT_TABLE;
  opterr = 0;
  optind = 1;
  for (int c; (c = getopt_long(argc, argv, "", longopts, NULL)) != -1;) {
    if (c == 'j') fmt = FORMAT_JSON;
    else if (c == 'f' && !strcmp(optarg, "table")) fmt = FORMAT_TABLE;
    else if (c == 'f' && !strcmp(optarg, "json")) fmt = FORMAT_JSON;
    else if (c == 'f' && !strcmp(optarg, "prometheus")) fmt = FORMAT_PROMETHEUS;
    else if (c == 'f') return vc_usage(CMD, "--format: '%s' is not table, json or prometheus", optarg);
    else return vc_bad_option(CMD, argc, argv);
  }
  if (argc - optind < 1 || argc - optind > 2) return vc_usage(CMD, "give DB, and optionally NAME");
  const char *path = argv[optind], *only = argc - optind == 2 ? argv[optind + 1] : NULL;
  vexfs_db *db;
  if (vc_open_db(CMD, path, 0, 0, VEXFS_SYNC_FULL, &db) != VC_OK) return VC_FAIL;
  char *one[1] = {(char *)only};
  char **names = NULL;
  size_t n = 0;
  vexfs_status st = VEXFS_OK;
  int rc = VC_OK;
  if (only) {
    names = one; /* no list to free */
    n = 1;
  } else if ((st = vexfs_db_list_collections(db, &names, &n)) != VEXFS_OK) {
    rc = vc_lib_fail(CMD, path, st);
  }
  target *t = rc == VC_OK ? calloc(n ? n : 1, sizeof *t) : NULL;
  if (rc == VC_OK && !t) rc = vc_fail(CMD, "out of memory");
  for (size_t i = 0; rc == VC_OK && i < n; i++) {
    t[i].name = names[i];
    st = vexfs_db_get_collection(db, names[i], &t[i].c);
    if (st == VEXFS_E_NOT_FOUND) rc = vc_fail(CMD, "%s: no collection called '%s'", path, names[i]);
    else if (st != VEXFS_OK) rc = vc_lib_fail(CMD, names[i], st);
  }
  if (rc == VC_OK) {
    if (fmt == FORMAT_TABLE) print_table(t, n);
    else if (fmt == FORMAT_JSON) rc = print_json(path, t, n);
    else rc = print_prometheus(t, n);
  }
  free(t);
  if (!only) vexfs_free(names);
  vc_close_db(CMD, db, &rc);
  return rc;
}

/* vexctl export DB NAME FILE: writes a collection's vectors, in ascending id order, as .npy,
 * .jsonl, .fvecs or .csv (vecfile_write.h); the file appears whole or not at all. */
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "json_out.h"
#include "progress.h"
#include "vecfile_write.h"

#define CMD "export"

typedef struct export_options {
  const char *db_path, *name, *file, *ids_file;
  vf_format format;
  int json;
} export_options;

static int parse_args(int argc, char **argv, export_options *o) {
  enum { FORMAT = 256, IDS, JSON };
  static const struct option longs[] = {{"format", required_argument, NULL, FORMAT},
                                        {"ids", required_argument, NULL, IDS},
                                        {"json", no_argument, NULL, JSON},
                                        {NULL, 0, NULL, 0}};
  int format_set = 0, opt;
  opterr = 0;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "", longs, NULL)) != -1) {
    switch (opt) {
    case FORMAT:
      if (vf_format_parse(optarg, &o->format) || !vf_can_write(o->format))
        return vc_usage(CMD, "--format '%s': expected npy, jsonl, fvecs or csv", optarg);
      format_set = 1;
      break;
    case IDS: o->ids_file = optarg; break;
    case JSON: o->json = 1; break;
    default: return vc_bad_option(CMD, argc, argv);
    }
  }
  if (vc_db_name_file(CMD, argc, argv, &o->db_path, &o->name, &o->file) != VC_OK) return VC_USAGE;
  if (!format_set && (vf_format_of_path(o->file, &o->format) || !vf_can_write(o->format)))
    return vc_usage(CMD, "%s: export writes .npy, .jsonl, .fvecs or .csv (or say --format)",
                    o->file);
  if (o->ids_file && !strcmp(o->ids_file, o->file))
    return vc_usage(CMD, "--ids names the output file itself");
  return VC_OK;
}

/* Writes every row of c through the writers (ids: NULL without --ids). */
static int write_rows(const export_options *o, vexfs_collection *c, const uint64_t *list,
                      size_t n, vf_writer *vectors, vf_writer *ids) {
  uint32_t dim = vexfs_dim(c);
  float *v = malloc((size_t)dim * sizeof *v);
  if (!v) return vc_fail(CMD, "out of memory for a row of %u", dim);
  vc_progress bar;
  vc_progress_start(&bar, n);
  int rc = VC_OK;
  for (size_t i = 0; i < n && rc == VC_OK; i++) {
    char *payload = NULL;
    vexfs_status st = vexfs_get(c, list[i], v);
    if (st == VEXFS_OK && o->format == VF_JSONL) st = vexfs_get_payload(c, list[i], &payload);
    if (st != VEXFS_OK) {
      char what[64];
      snprintf(what, sizeof what, "id %llu", (unsigned long long)list[i]);
      vc_progress_end(&bar);
      rc = vc_lib_fail(CMD, what, st);
      break;
    }
    vf_writer_row(vectors, list[i], v, payload);
    if (ids) vf_writer_row(ids, list[i], NULL, NULL);
    vexfs_free(payload);
    vc_progress_update(&bar, i + 1);
  }
  if (rc == VC_OK) vc_progress_end(&bar);
  free(v);
  return rc;
}

static int export_collection(const export_options *o, vexfs_collection *c) {
  uint64_t *list = NULL;
  size_t n = 0;
  vexfs_status st = vexfs_list_ids(c, &list, &n);
  if (st != VEXFS_OK) return vc_lib_fail(CMD, o->name, st);
  char err[1024];
  vf_writer vectors, ids;
  memset(&ids, 0, sizeof ids);
  double start = vc_now();
  int rc = VC_OK;
  if (vf_writer_open(&vectors, o->file, o->format, 0, n, vexfs_dim(c), err, sizeof err) != 0) {
    rc = vc_fail(CMD, "%s", err);
  } else {
    if (o->ids_file && vf_writer_open(&ids, o->ids_file, VF_NPY, 1, n, 0, err, sizeof err) != 0)
      rc = vc_fail(CMD, "%s", err);
    if (rc == VC_OK) rc = write_rows(o, c, list, n, &vectors, o->ids_file ? &ids : NULL);
    if (rc == VC_OK && (vc_outfile_finish(&vectors.out, err, sizeof err) ||
                        (o->ids_file && vc_outfile_finish(&ids.out, err, sizeof err)) ||
                        vc_outfile_commit(&vectors.out, err, sizeof err) ||
                        (o->ids_file && vc_outfile_commit(&ids.out, err, sizeof err))))
      rc = vc_fail(CMD, "%s", err);
    vc_outfile_discard(&vectors.out);
    vc_outfile_discard(&ids.out);
  }
  vexfs_free(list);
  if (rc != VC_OK) return rc;
  double seconds = vc_now() - start;
  if (!o->json) {
    printf("exported %zu rows of %s to %s in %.1f s\n", n, o->name, o->file, seconds);
    return VC_OK;
  }
  vc_json j;
  vcj_init(&j, stdout);
  vcj_object(&j, NULL);
  vcj_str(&j, "database", o->db_path);
  vcj_str(&j, "collection", o->name);
  vcj_str(&j, "file", o->file);
  vcj_str(&j, "format", vf_format_name(o->format));
  vcj_str(&j, "ids_file", o->ids_file);
  vcj_u64(&j, "rows", n);
  vcj_u64(&j, "dim", vexfs_dim(c));
  vcj_double(&j, "seconds", seconds);
  vcj_end(&j);
  return VC_OK;
}

/* Whether file (existing or not) would lie in directory dir itself, where a database keeps its
 * snapshot, log and lock: export must never replace those. */
static int lies_in(const char *file, const char *dir) {
  char *copy = strdup(file), where[PATH_MAX], db[PATH_MAX];
  int in = copy && realpath(dirname(copy), where) && realpath(dir, db) && !strcmp(where, db);
  free(copy);
  return in;
}

static int run_export(int argc, char **argv) {
  export_options o = {0};
  int rc = parse_args(argc, argv, &o);
  if (rc != VC_OK) return rc;
  const char *const outputs[] = {o.file, o.ids_file};
  for (size_t i = 0; i < 2; i++)
    if (outputs[i] && lies_in(outputs[i], o.db_path))
      return vc_usage(CMD, "%s: inside the database directory %s: write it elsewhere", outputs[i],
                      o.db_path);
  vexfs_db *db;
  vexfs_collection *c;
  if (vc_open_collection(CMD, o.db_path, o.name, 0, &db, &c) != VC_OK) return VC_FAIL;
  rc = export_collection(&o, c);
  vc_close_db(CMD, db, &rc);
  return rc;
}

const vc_command vc_cmd_export = {
    "export", "write a collection's vectors to .npy, .jsonl, .fvecs or .csv",
    "usage: vexctl export DB NAME FILE [--format npy|jsonl|fvecs|csv] [--ids IDS.npy] [--json]\n"
    "\n"
    "Writes the vectors of collection NAME of database DB to FILE, in ascending id order. FILE\n"
    "is written as a new temporary file beside it, renamed over FILE when complete, so a\n"
    "failure leaves no partial file. Only a regular file (or the one a symbolic link names) is\n"
    "replaced, and never one inside DB.\n"
    "\n"
    "Formats, by FILE's extension or --format:\n"
    "  .npy     a 2-D float32 array, its header as numpy.save writes it\n"
    "  .jsonl   per line {\"id\": 7, \"vector\": [...], \"payload\": {...}}, as import reads it;\n"
    "           each coordinate the shortest decimal that reads back as the same float32\n"
    "  .fvecs   TEXMEX: per row an int32 dimension, then the float32 values\n"
    "  .csv     per line the id, then the coordinates\n"
    "\n"
    "options:\n"
    "  --format F     npy | jsonl | fvecs | csv (default: the extension)\n"
    "  --ids IDS.npy  also write the ids, in the same order, as a 1-D uint64 .npy\n"
    "  --json         print the summary as one JSON object\n"
    "\n"
    "examples:\n"
    "  vexctl export ./db images images.npy --ids images-ids.npy\n"
    "  vexctl export ./db docs docs.jsonl\n",
    run_export};

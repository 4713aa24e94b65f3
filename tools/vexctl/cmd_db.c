/* vexctl: the database commands — create, list, info, drop, checkpoint, check, index. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "json_in.h"
#include "json_out.h"

/* ---- create ---------------------------------------------------------------------------------- */

enum {
  OPT_DIM = 256, OPT_METRIC, OPT_INDEX, OPT_M, OPT_EFC, OPT_EFS, OPT_SEED, OPT_SYNC, OPT_STORAGE,
  OPT_RERANK
};

/* vexfs_storage and vexfs_rerank by value, as create takes them and info shows them. */
static const char *const STORAGE_NAMES[] = {"f32", "f16", "sq8", "sq4"};
static const char *const RERANK_NAMES[] = {"in_memory", "mapped", "none"};
#define NAMES(a) (sizeof a / sizeof *a)

/* The value whose name is arg, or -1. */
static int value_named(const char *const *names, size_t n, const char *arg) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(names[i], arg) == 0) return (int)i;
  return -1;
}

/* Reads one numeric option of create into *field, within lo..hi. */
static int u32_option(const char *cmd, const char *name, const char *arg, uint64_t lo, uint64_t hi,
                      uint32_t *field) {
  uint64_t v;
  if (vc_parse_u64(arg, lo, hi, &v))
    return vc_usage(cmd, "--%s wants an integer %" PRIu64 "..%" PRIu64 ", not '%s'", name, lo, hi, arg);
  *field = (uint32_t)v;
  return VC_OK;
}

static int run_create(int argc, char **argv) {
  const char *cmd = argv[0];
  static const struct option longopts[] = {
      {"dim", required_argument, NULL, OPT_DIM},     {"metric", required_argument, NULL, OPT_METRIC},
      {"index", required_argument, NULL, OPT_INDEX}, {"m", required_argument, NULL, OPT_M},
      {"ef-construction", required_argument, NULL, OPT_EFC},
      {"ef-search", required_argument, NULL, OPT_EFS},
      {"seed", required_argument, NULL, OPT_SEED},   {"sync", required_argument, NULL, OPT_SYNC},
      {"storage", required_argument, NULL, OPT_STORAGE},
      {"rerank", required_argument, NULL, OPT_RERANK},
      {0, 0, 0, 0}};
  vexfs_collection_config cfg;
  vexfs_collection_config_init(&cfg);
  vexfs_sync_mode sync = VEXFS_SYNC_FULL;
  int c, rc = VC_OK;
  opterr = 0;
  while (rc == VC_OK && (c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
    switch (c) {
    case OPT_DIM: rc = u32_option(cmd, "dim", optarg, 1, VEXFS_MAX_DIM, &cfg.dim); break;
    case OPT_M: rc = u32_option(cmd, "m", optarg, 2, 2048, &cfg.hnsw_m); break;
    case OPT_EFC:
      rc = u32_option(cmd, "ef-construction", optarg, 1, VEXFS_MAX_K, &cfg.hnsw_ef_construction);
      break;
    case OPT_EFS: rc = u32_option(cmd, "ef-search", optarg, 1, VEXFS_MAX_K, &cfg.hnsw_ef_search); break;
    case OPT_SEED:
      if (vc_parse_u64(optarg, 0, UINT64_MAX, &cfg.hnsw_seed))
        rc = vc_usage(cmd, "--seed wants an unsigned integer, not '%s'", optarg);
      break;
    case OPT_METRIC:
      if (vc_parse_metric(optarg, &cfg.metric))
        rc = vc_usage(cmd, "--metric is l2, ip or cosine, not '%s'", optarg);
      break;
    case OPT_INDEX:
      if (vc_parse_index(optarg, &cfg.index))
        rc = vc_usage(cmd, "--index is auto, flat, hnsw, lsh or ivf, not '%s'", optarg);
      break;
    case OPT_SYNC:
      if (vc_parse_sync(optarg, &sync))
        rc = vc_usage(cmd, "--sync is off, normal or full, not '%s'", optarg);
      break;
    case OPT_STORAGE: {
      int v = value_named(STORAGE_NAMES, NAMES(STORAGE_NAMES), optarg);
      if (v < 0) rc = vc_usage(cmd, "--storage is f32, f16, sq8 or sq4, not '%s'", optarg);
      cfg.storage = (vexfs_storage)v;
      break;
    }
    case OPT_RERANK: {
      int v = value_named(RERANK_NAMES, NAMES(RERANK_NAMES), optarg);
      if (v < 0) rc = vc_usage(cmd, "--rerank is in_memory, mapped or none, not '%s'", optarg);
      cfg.rerank = (vexfs_rerank)v;
      break;
    }
    default: rc = vc_bad_option(cmd, argc, argv);
    }
  }
  if (rc != VC_OK) return rc;
  if ((rc = vc_positionals(cmd, argc, 2, 2, "DB NAME")) != VC_OK) return rc;
  const char *path = argv[optind], *name = argv[optind + 1];
  if (!cfg.dim) return vc_usage(cmd, "--dim D is required");
  if ((rc = vc_check_name(cmd, name)) != VC_OK) return rc;
  if ((rc = vc_check_config(cmd, &cfg)) != VC_OK) return rc;

  vexfs_db *db;
  if (vc_open_db(cmd, path, 1, 1, sync, &db) != VC_OK) return VC_FAIL;
  vexfs_status st = vexfs_db_create_collection(db, name, &cfg, NULL);
  if (st == VEXFS_E_EXISTS) rc = vc_fail(cmd, "%s: a collection called '%s' already exists", path, name);
  else if (st != VEXFS_OK) rc = vc_lib_fail(cmd, name, st);
  vc_close_db(cmd, db, &rc);
  return rc;
}

const vc_command vc_cmd_create = {
    "create", "create a collection (and the database when missing)",
    "usage: vexctl create DB NAME --dim D [--metric l2|ip|cosine] [--index auto|flat|hnsw|lsh|ivf]\n"
    "                     [--m M] [--ef-construction N] [--ef-search N] [--seed S]\n"
    "                     [--storage f32|f16|sq8|sq4] [--rerank in_memory|mapped|none]\n"
    "                     [--sync off|normal|full]\n"
    "\n"
    "Creates the collection NAME in the database directory DB, creating the database when DB\n"
    "holds none. Every option is checked before anything is written.\n"
    "\n"
    "  --dim D              vector dimension, 1..65536 (required)\n"
    "  --metric M           l2 (squared euclidean, default), ip (1 - dot) or cosine (1 - cos)\n"
    "  --index K            auto (default: exact while small, then IVF), flat (exact), hnsw,\n"
    "                       lsh or ivf\n"
    "  --m M                HNSW links per node, 2..2048 (default 16)\n"
    "  --ef-construction N  HNSW candidate list while building (default 200)\n"
    "  --ef-search N        default candidate list of a search (default 64)\n"
    "  --seed S             seed of HNSW levels, LSH projections, IVF training (default 0)\n"
    "  --storage S          how vectors are held in memory: f32 (default), or for flat and\n"
    "                       hnsw codes that searches score: f16, sq8 (8-bit), sq4 (4-bit)\n"
    "  --rerank R           where the exact copy lives: in_memory (default), mapped (in the\n"
    "                       database's row files, read through the page cache) or none (a\n"
    "                       coded storage only: each vector is its code)\n"
    "  --sync MODE          durability of this command's write: full (default: fsynced),\n"
    "                       normal (written, not fsynced) or off; not stored with the database\n"
    "\n"
    "A collection called NAME that exists already is an error (exit 1).\n"
    "\n"
    "example:\n"
    "  vexctl create ./db docs --dim 384 --metric cosine --index hnsw --m 32\n",
    run_create};

/* ---- list ------------------------------------------------------------------------------------ */

static int run_list(int argc, char **argv) {
  const char *cmd = argv[0];
  int json = 0;
  const struct option longopts[] = {{"json", no_argument, &json, 1}, {0, 0, 0, 0}};
  int rc = vc_parse_flags(cmd, argc, argv, longopts, 1, 1, "DB");
  if (rc != VC_OK) return rc;
  vexfs_db *db;
  if (vc_open_db(cmd, argv[optind], 0, 0, VEXFS_SYNC_FULL, &db) != VC_OK) return VC_FAIL;
  char **names;
  size_t n;
  vexfs_status st = vexfs_db_list_collections(db, &names, &n);
  if (st != VEXFS_OK) {
    rc = vc_lib_fail(cmd, "listing the collections", st);
    vc_close_db(cmd, db, &rc);
    return rc;
  }
  /* Every collection is looked up before anything is printed, so a failure prints nothing. */
  vexfs_collection **cols = calloc(n ? n : 1, sizeof *cols);
  vexfs_collection_config *cfgs = calloc(n ? n : 1, sizeof *cfgs);
  if (!cols || !cfgs) rc = vc_fail(cmd, "out of memory");
  for (size_t i = 0; i < n && rc == VC_OK; i++) {
    vexfs_collection_config_init(&cfgs[i]);
    if ((st = vexfs_db_get_collection(db, names[i], &cols[i])) != VEXFS_OK ||
        (st = vexfs_collection_get_config(cols[i], &cfgs[i])) != VEXFS_OK)
      rc = vc_lib_fail(cmd, names[i], st);
  }
  vc_json j;
  vcj_init(&j, stdout);
  if (rc == VC_OK && json) vcj_array(&j, NULL);
  else if (rc == VC_OK && n) printf("%-24s %7s %-7s %-10s %12s\n", "name", "dim", "metric", "index", "vectors");
  for (size_t i = 0; i < n && rc == VC_OK; i++) {
    const char *index = vexfs_index_in_use(cols[i]);
    if (json) {
      vcj_object(&j, NULL);
      vcj_str(&j, "name", names[i]);
      vcj_u64(&j, "dim", cfgs[i].dim);
      vcj_str(&j, "metric", vc_metric_name(cfgs[i].metric));
      vcj_str(&j, "index", index);
      vcj_u64(&j, "count", vexfs_count(cols[i]));
      vcj_end(&j);
    } else {
      printf("%-24s %7" PRIu32 " %-7s %-10s %12zu\n", names[i], cfgs[i].dim,
             vc_metric_name(cfgs[i].metric), index, vexfs_count(cols[i]));
    }
  }
  if (json && rc == VC_OK) vcj_end(&j);
  free(cols);
  free(cfgs);
  vexfs_free(names);
  vc_close_db(cmd, db, &rc);
  return rc;
}

const vc_command vc_cmd_list = {
    "list", "the collections of a database",
    "usage: vexctl list DB [--json]\n"
    "\n"
    "Prints each collection of the database DB, one per line, sorted by name: its name,\n"
    "dimension, metric, the index answering searches now, and its vector count. Opens DB\n"
    "read-only.\n"
    "\n"
    "  --json   one JSON array: [{\"name\", \"dim\", \"metric\", \"index\", \"count\"}, ...]\n"
    "\n"
    "example:\n"
    "  vexctl list ./db\n",
    run_list};

/* ---- info ------------------------------------------------------------------------------------ */

/* Where info writes: JSON members, or indented "key  value" lines, from the same calls. */
typedef struct sink {
  FILE *f;
  vc_json *j; /* NULL: text on f */
  int depth;
} sink;

static void sink_open(sink *s, const char *key, const char *title) {
  if (s->j) vcj_object(s->j, key);
  else fprintf(s->f, "%*s%s\n", 2 * s->depth, "", title);
  s->depth++;
}

static void sink_close(sink *s) {
  if (s->j) vcj_end(s->j);
  s->depth--;
}

static void sink_u64(sink *s, const char *key, uint64_t v) {
  if (s->j) vcj_u64(s->j, key, v);
  else fprintf(s->f, "%*s%-18s %" PRIu64 "\n", 2 * s->depth, "", key, v);
}

static void sink_str(sink *s, const char *key, const char *v) {
  if (s->j) vcj_str(s->j, key, v);
  else fprintf(s->f, "%*s%-18s %s\n", 2 * s->depth, "", key, v);
}

static void sink_double(sink *s, const char *key, double v) {
  if (s->j) vcj_double(s->j, key, v);
  else fprintf(s->f, "%*s%-18s %g\n", 2 * s->depth, "", key, v);
}

/* A file's size, or absent (null) when it does not exist. */
static int sink_file_size(const char *cmd, sink *s, const char *dir, const char *file) {
  char p[4096];
  struct stat sb;
  if (snprintf(p, sizeof p, "%s/%s", dir, file) >= (int)sizeof p) return vc_fail(cmd, "%s: path too long", dir);
  if (stat(p, &sb) == 0) {
    if (s->j) vcj_u64(s->j, file, (uint64_t)sb.st_size);
    else fprintf(s->f, "%*s%-18s %" PRIu64 " bytes\n", 2 * s->depth, "", file, (uint64_t)sb.st_size);
  } else if (errno == ENOENT) {
    if (s->j) vcj_null(s->j, file);
    else fprintf(s->f, "%*s%-18s absent\n", 2 * s->depth, "", file);
  } else {
    return vc_fail(cmd, "%s: %s", p, strerror(errno));
  }
  return VC_OK;
}

/* The payload indexes (the library's JSON array): kept as is in JSON, "key (kind), ..." in text. */
static int sink_payload_indexes(const char *cmd, sink *s, const char *name, const char *list) {
  if (s->j) {
    vcj_raw(s->j, "payload_indexes", list);
    return VC_OK;
  }
  char err[128];
  vj_value *v = vj_parse(list, err, sizeof err);
  if (!v || v->type != VJ_ARRAY) {
    vj_free(v);
    return vc_fail(cmd, "%s: unreadable payload index list from the library: %s", name, v ? "not an array" : err);
  }
  fprintf(s->f, "%*s%-18s ", 2 * s->depth, "", "payload_indexes");
  for (size_t i = 0; i < v->n; i++)
    fprintf(s->f, "%s%s (%s)", i ? ", " : "", vj_get_str(&v->items[i], "key", "?"),
           vj_get_str(&v->items[i], "kind", "?"));
  fprintf(s->f, "%s\n", v->n ? "" : "none");
  vj_free(v);
  return VC_OK;
}

static const char *lsh_projection_name(vexfs_lsh_projection p) {
  return p == VEXFS_LSH_PROJECTION_LEARNED ? "learned" : "random";
}

static const char *ivf_codes_name(vexfs_ivf_codes c) { return c == VEXFS_IVF_CODES_SQ8 ? "sq8" : "f32"; }
static const char *storage_name(vexfs_storage s) {
  return (unsigned)s < NAMES(STORAGE_NAMES) ? STORAGE_NAMES[s] : "unknown";
}
static const char *rerank_name(vexfs_rerank r) {
  return (unsigned)r < NAMES(RERANK_NAMES) ? RERANK_NAMES[r] : "unknown";
}

static int describe_collection(const char *cmd, sink *s, vexfs_collection *c, const char *name) {
  vexfs_collection_config cfg;
  vexfs_collection_config_init(&cfg);
  vexfs_metrics m;
  vexfs_metrics_init(&m);
  vexfs_status st;
  if ((st = vexfs_collection_get_config(c, &cfg)) != VEXFS_OK ||
      (st = vexfs_collection_metrics(c, &m)) != VEXFS_OK)
    return vc_lib_fail(cmd, name, st);
  char *indexes;
  if ((st = vexfs_list_payload_indexes(c, &indexes)) != VEXFS_OK) return vc_lib_fail(cmd, name, st);
  const char *in_use = vexfs_index_in_use(c);

  char title[VEXFS_MAX_NAME + 16];
  snprintf(title, sizeof title, "collection %s", name);
  sink_open(s, NULL, title);
  if (s->j) vcj_str(s->j, "name", name);
  sink_u64(s, "count", vexfs_count(c));
  sink_str(s, "index_in_use", in_use);
  sink_open(s, "config", "config");
  sink_u64(s, "dim", cfg.dim);
  sink_str(s, "metric", vc_metric_name(cfg.metric));
  sink_str(s, "index", vc_index_name(cfg.index));
  sink_u64(s, "hnsw_m", cfg.hnsw_m);
  sink_u64(s, "ef_construction", cfg.hnsw_ef_construction);
  sink_u64(s, "ef_search", cfg.hnsw_ef_search);
  sink_u64(s, "seed", cfg.hnsw_seed);
  /* Every field, whatever the kind, so that the keys never change (an AUTO collection switches
   * kind as it grows); each kind ignores the others' fields, and 0 means chosen by the index. */
  sink_u64(s, "lsh_tables", cfg.lsh_tables);
  sink_u64(s, "lsh_bits", cfg.lsh_bits);
  sink_u64(s, "lsh_probes", cfg.lsh_probes);
  sink_double(s, "lsh_bucket_width", cfg.lsh_bucket_width);
  sink_str(s, "lsh_projection", lsh_projection_name(cfg.lsh_projection));
  sink_u64(s, "ivf_nlist", cfg.ivf_nlist);
  sink_u64(s, "ivf_nprobe", cfg.ivf_nprobe);
  sink_str(s, "ivf_codes", ivf_codes_name(cfg.ivf_codes));
  sink_str(s, "storage", storage_name(cfg.storage));
  sink_str(s, "rerank", rerank_name(cfg.rerank));
  sink_close(s);
  sink_open(s, "memory_bytes", "memory_bytes");
  sink_u64(s, "vectors", m.memory_vectors);
  sink_u64(s, "index", m.memory_index);
  sink_u64(s, "payloads", m.memory_payloads);
  sink_u64(s, "mapped", m.memory_mapped);
  sink_close(s);
  int rc = sink_payload_indexes(cmd, s, name, indexes);
  vexfs_free(indexes);
  sink_close(s);
  return rc;
}

static int run_info(int argc, char **argv) {
  const char *cmd = argv[0];
  int json = 0;
  const struct option longopts[] = {{"json", no_argument, &json, 1}, {0, 0, 0, 0}};
  int rc = vc_parse_flags(cmd, argc, argv, longopts, 1, 2, "DB [NAME]");
  if (rc != VC_OK) return rc;
  const char *path = argv[optind], *only = optind + 1 < argc ? argv[optind + 1] : NULL;
  vexfs_db *db;
  if (vc_open_db(cmd, path, 0, 0, VEXFS_SYNC_FULL, &db) != VC_OK) return VC_FAIL;
  char **names = NULL;
  size_t n = 0;
  vexfs_collection *one = NULL;
  vexfs_status st = only ? vexfs_db_get_collection(db, only, &one)
                         : vexfs_db_list_collections(db, &names, &n);
  if (st == VEXFS_E_NOT_FOUND) rc = vc_fail(cmd, "%s: no collection called '%s'", path, only);
  else if (st != VEXFS_OK) rc = vc_lib_fail(cmd, only ? only : "listing the collections", st);
  if (rc != VC_OK) {
    vc_close_db(cmd, db, &rc);
    return rc;
  }
  /* The description goes to a buffer first, so that a failure half-way prints nothing. */
  char *buf = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&buf, &len);
  if (!out) {
    vexfs_free(names);
    rc = vc_fail(cmd, "out of memory");
    vc_close_db(cmd, db, &rc);
    return rc;
  }
  vc_json j;
  vcj_init(&j, out);
  sink s = {out, json ? &j : NULL, 0};
  if (json) vcj_object(&j, NULL);
  sink_open(&s, "database", "database");
  sink_str(&s, "path", path);
  rc = sink_file_size(cmd, &s, path, "snapshot.vxs");
  if (rc == VC_OK) rc = sink_file_size(cmd, &s, path, "wal.log");
  sink_close(&s);
  if (json) vcj_array(&j, "collections");
  if (one && rc == VC_OK) rc = describe_collection(cmd, &s, one, only);
  for (size_t i = 0; i < n && rc == VC_OK; i++) {
    vexfs_collection *c;
    if ((st = vexfs_db_get_collection(db, names[i], &c)) != VEXFS_OK) rc = vc_lib_fail(cmd, names[i], st);
    else rc = describe_collection(cmd, &s, c, names[i]);
  }
  vexfs_free(names);
  if (json) {
    vcj_end(&j);
    vcj_end(&j);
  }
  fclose(out);
  if (rc == VC_OK) fwrite(buf, 1, len, stdout);
  free(buf);
  vc_close_db(cmd, db, &rc);
  return rc;
}

const vc_command vc_cmd_info = {
    "info", "configuration, counts, memory and files of a database or collection",
    "usage: vexctl info DB [NAME] [--json]\n"
    "\n"
    "Describes the database DB (its directory, the sizes of snapshot.vxs and wal.log) and each\n"
    "of its collections, or only NAME: vector count, the index answering searches now, the\n"
    "configuration (every field: dim, metric, index, hnsw_m, ef_construction, ef_search, seed\n"
    "and the LSH and IVF fields, which other kinds ignore; 0 there means chosen by the index),\n"
    "memory held by vectors, index and payloads, and the payload indexes. Opens DB read-only.\n"
    "\n"
    "  --json   one JSON object: {\"database\": {\"path\", \"snapshot.vxs\", \"wal.log\"} (bytes,\n"
    "           null when absent), \"collections\": [{\"name\", \"count\", \"index_in_use\",\n"
    "           \"config\": {...}, \"memory_bytes\": {...}, \"payload_indexes\": [...]}]}\n"
    "\n"
    "example:\n"
    "  vexctl info ./db docs\n",
    run_info};

/* ---- drop ------------------------------------------------------------------------------------ */

/* Asks on the terminal; yes only for "y" or "yes". */
static int confirmed(const char *path, const char *name, size_t count) {
  fprintf(stderr, "Drop the collection '%s' of %s and its %zu vectors? [y/N] ", name, path, count);
  char line[16];
  if (!fgets(line, sizeof line, stdin)) return 0;
  line[strcspn(line, "\n")] = 0;
  return !strcmp(line, "y") || !strcmp(line, "Y") || !strcmp(line, "yes");
}

static int run_drop(int argc, char **argv) {
  const char *cmd = argv[0];
  int yes = 0;
  const struct option longopts[] = {{"yes", no_argument, &yes, 1}, {0, 0, 0, 0}};
  int rc = vc_parse_flags(cmd, argc, argv, longopts, 2, 2, "DB NAME");
  if (rc != VC_OK) return rc;
  int ask = !yes;
  if (ask && !isatty(STDIN_FILENO))
    return vc_usage(cmd, "stdin is not a terminal, so nobody can confirm: pass --yes to drop");
  const char *path = argv[optind], *name = argv[optind + 1];
  vexfs_db *db;
  vexfs_collection *c;
  if (vc_open_collection(cmd, path, name, 1, &db, &c) != VC_OK) return VC_FAIL;
  if (ask && !confirmed(path, name, vexfs_count(c))) {
    rc = vc_fail(cmd, "%s: '%s' not dropped", path, name);
  } else {
    vexfs_status st = vexfs_db_drop_collection(db, name);
    if (st != VEXFS_OK) rc = vc_lib_fail(cmd, name, st);
  }
  vc_close_db(cmd, db, &rc);
  return rc;
}

const vc_command vc_cmd_drop = {
    "drop", "delete a collection",
    "usage: vexctl drop DB NAME [--yes]\n"
    "\n"
    "Deletes the collection NAME of the database DB with all its vectors. On a terminal it asks\n"
    "first; when stdin is not a terminal --yes is required (exit 2 without it), so that a\n"
    "script says so explicitly.\n"
    "\n"
    "  --yes    drop without asking\n"
    "\n"
    "example:\n"
    "  vexctl drop ./db docs --yes\n",
    run_drop};

/* ---- checkpoint ------------------------------------------------------------------------------ */

static int run_checkpoint(int argc, char **argv) {
  const char *cmd = argv[0];
  const struct option longopts[] = {{0, 0, 0, 0}};
  int rc = vc_parse_flags(cmd, argc, argv, longopts, 1, 1, "DB");
  if (rc != VC_OK) return rc;
  vexfs_db *db;
  if (vc_open_db(cmd, argv[optind], 1, 0, VEXFS_SYNC_FULL, &db) != VC_OK) return VC_FAIL;
  vexfs_status st = vexfs_db_checkpoint(db);
  if (st != VEXFS_OK) rc = vc_lib_fail(cmd, "checkpoint", st);
  vc_close_db(cmd, db, &rc);
  return rc;
}

const vc_command vc_cmd_checkpoint = {
    "checkpoint", "write a new snapshot and empty the log",
    "usage: vexctl checkpoint DB\n"
    "\n"
    "Writes every collection of the database DB to a new snapshot.vxs and empties wal.log, so\n"
    "that the next open loads instead of replaying. Needs DB open for writing by nobody else.\n"
    "\n"
    "example:\n"
    "  vexctl checkpoint ./db\n",
    run_checkpoint};

/* ---- check ----------------------------------------------------------------------------------- */

/* "ok" and what was checked, from the library's report. */
static int print_check_report(const char *cmd, const char *path, const char *report) {
  char err[128];
  vj_value *r = vj_parse(report, err, sizeof err);
  if (!r) return vc_fail(cmd, "%s: unreadable report from the library: %s", path, err);
  printf("ok\n");
  const vj_value *snap = vj_get(r, "snapshot"), *log = vj_get(r, "log"), *cols = vj_get(r, "collections");
  if (snap && snap->type == VJ_OBJECT)
    printf("  snapshot.vxs  %" PRIu64 " bytes, %" PRIu64 " sections, covers log records up to %" PRIu64 "\n",
           vj_get_u64(snap, "bytes", 0), vj_get_u64(snap, "sections", 0), vj_get_u64(snap, "covers_record", 0));
  else
    printf("  snapshot.vxs  absent\n");
  uint64_t records = vj_get_u64(log, "records", 0);
  if (log && log->type == VJ_OBJECT && records)
    printf("  wal.log       %" PRIu64 " bytes, %" PRIu64 " records (%" PRIu64 "..%" PRIu64 ")\n",
           vj_get_u64(log, "bytes", 0), records, vj_get_u64(log, "first_record", 0),
           vj_get_u64(log, "last_record", 0));
  else if (log && log->type == VJ_OBJECT)
    printf("  wal.log       %" PRIu64 " bytes, no records past the snapshot\n", vj_get_u64(log, "bytes", 0));
  else
    printf("  wal.log       absent\n");
  size_t ncols = cols && cols->type == VJ_ARRAY ? cols->n : 0;
  printf("  collections   %zu\n", ncols);
  for (size_t i = 0; i < ncols; i++)
    printf("    %-24s %" PRIu64 " vectors\n", vj_get_str(&cols->items[i], "name", "?"),
           vj_get_u64(&cols->items[i], "vectors", 0));
  vj_free(r);
  return VC_OK;
}

static int run_check(int argc, char **argv) {
  const char *cmd = argv[0];
  int json = 0;
  const struct option longopts[] = {{"json", no_argument, &json, 1}, {0, 0, 0, 0}};
  int rc = vc_parse_flags(cmd, argc, argv, longopts, 1, 1, "DB");
  if (rc != VC_OK) return rc;
  const char *path = argv[optind];
  char *report;
  vexfs_status st = vexfs_db_check(path, &report);
  if (st == VEXFS_OK) {
    if (json) printf("%s\n", report);
    else rc = print_check_report(cmd, path, report);
  } else {
    /* Scripts get a report (ok: false) whatever went wrong: the library's for a damaged
     * database, else one saying why nothing could be checked; the problem goes to stderr too. */
    if (json && report) {
      printf("%s\n", report);
    } else if (json) {
      vc_json j;
      vcj_init(&j, stdout);
      vcj_object(&j, NULL);
      vcj_bool(&j, "ok", 0);
      vcj_str(&j, "problem", *vexfs_last_error() ? vexfs_last_error() : vexfs_status_string(st));
      vcj_end(&j);
    }
    rc = vc_lib_fail(cmd, path, st);
  }
  vexfs_free(report);
  return rc;
}

const vc_command vc_cmd_check = {
    "check", "verify every section and log record of a database",
    "usage: vexctl check DB [--json]\n"
    "\n"
    "Verifies the database DB without changing it, as SQLite's integrity_check does: the\n"
    "snapshot's header, table and every section (checksums, each block read back), every log\n"
    "record and the bytes after the last valid one, then the contents, opened read-only. Prints\n"
    "\"ok\" and what was checked (sections, records, collections and their vectors); on a problem\n"
    "exits 1 and names the damaged file and place. DB must not be open for writing.\n"
    "\n"
    "  --json   the library's report as one JSON object: {\"ok\", \"problem\" (when not ok),\n"
    "           \"snapshot\", \"log\", \"collections\"}; printed for a damaged database too\n"
    "\n"
    "example:\n"
    "  vexctl check ./db\n",
    run_check};

/* ---- index ----------------------------------------------------------------------------------- */

static int run_index(int argc, char **argv) {
  const char *cmd = argv[0];
  int drop = 0;
  const struct option longopts[] = {{"drop", no_argument, &drop, 1}, {0, 0, 0, 0}};
  int rc = vc_parse_flags(cmd, argc, argv, longopts, 4, 4, "DB NAME KEY keyword|numeric");
  if (rc != VC_OK) return rc;
  const char *path = argv[optind], *name = argv[optind + 1], *key = argv[optind + 2],
             *kind_word = argv[optind + 3];
  vexfs_payload_index_kind kind;
  if (!strcmp(kind_word, "keyword")) kind = VEXFS_PAYLOAD_INDEX_KEYWORD;
  else if (!strcmp(kind_word, "numeric")) kind = VEXFS_PAYLOAD_INDEX_NUMERIC;
  else return vc_usage(cmd, "the index kind is keyword or numeric, not '%s'", kind_word);
  vexfs_db *db;
  vexfs_collection *c;
  if (vc_open_collection(cmd, path, name, 1, &db, &c) != VC_OK) return VC_FAIL;
  vexfs_status st = drop ? vexfs_drop_payload_index(c, key, kind) : vexfs_create_payload_index(c, key, kind);
  if (st != VEXFS_OK) rc = vc_lib_fail(cmd, name, st);
  vc_close_db(cmd, db, &rc);
  return rc;
}

const vc_command vc_cmd_index = {
    "index", "create or drop a payload index",
    "usage: vexctl index DB NAME KEY keyword|numeric [--drop]\n"
    "\n"
    "Builds an index over the payload key KEY (a dotted path, as in filters) of the collection\n"
    "NAME, which filters use to list the rows a condition admits. keyword: strings, integers\n"
    "and booleans, for match; numeric: numbers, for range. Results never depend on indexes,\n"
    "only speed does.\n"
    "\n"
    "  --drop   drop that index instead\n"
    "\n"
    "example:\n"
    "  vexctl index ./db docs meta.lang keyword\n",
    run_index};

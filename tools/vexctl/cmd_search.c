/* vexctl: search — the k nearest vectors of one query, given inline or as a row of a file. */
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "json_in.h"
#include "json_out.h"
#include "vecfile.h"

/* --vector's text, a JSON array of numbers, into a malloc'd *out of *dim floats; each number is
 * converted by strtof (vj_floats) and must be a finite float32. Returns VC_OK or a usage error. */
static int parse_vector(const char *cmd, const char *text, float **out, uint32_t *dim) {
  char err[160];
  vj_value *v = vj_parse(text, err, sizeof err);
  if (!v) return vc_usage(cmd, "--vector is not valid JSON: %s", err);
  int rc = VC_OK;
  if (v->type != VJ_ARRAY || v->n == 0 || v->n > VEXFS_MAX_DIM)
    rc = vc_usage(cmd, "--vector wants a JSON array of 1..%u numbers", VEXFS_MAX_DIM);
  float *q = rc == VC_OK ? malloc(v->n * sizeof *q) : NULL;
  if (rc == VC_OK && !q) rc = vc_fail(cmd, "out of memory");
  size_t bad;
  int why = rc == VC_OK ? vj_floats(v->items, v->n, q, &bad) : VJ_FLOATS_OK;
  if (why == VJ_FLOATS_NOT_A_NUMBER) {
    rc = vc_usage(cmd, "--vector: element %zu is not a number", bad);
  } else if (why == VJ_FLOATS_BEYOND_FLOAT32) {
    const vj_value *x = &v->items[bad];
    rc = vc_usage(cmd, "--vector: element %zu (%.*s) is beyond float32's range", bad, (int)x->len,
                  x->src);
  }
  if (rc == VC_OK) {
    *out = q;
    *dim = (uint32_t)v->n;
  } else {
    free(q);
  }
  vj_free(v);
  return rc;
}

/* Row `row` of a vector file (any format import reads; an HDF5 file's "test" dataset). */
static int read_query_row(const char *cmd, const char *path, uint64_t row, float **out, uint32_t *dim) {
  vf_format format;
  if (vf_format_of_path(path, &format))
    return vc_fail(cmd, "%s: unknown file type: the query file is .npy, .fvecs, .bvecs, .jsonl, "
                        ".csv, .hdf5 or .h5", path);
  vf_source s;
  char err[256];
  if (vf_open(&s, path, format, format == VF_HDF5 ? "test" : NULL, 0, 1, err, sizeof err))
    return vc_fail(cmd, "%s: %s", path, err);
  int rc = VC_OK;
  if (row >= s.rows) {
    rc = vc_fail(cmd, "%s: --row %" PRIu64 " asked, the file has %" PRIu64 " rows (0..%" PRIu64 ")",
                 path, row, s.rows, s.rows ? s.rows - 1 : 0);
  } else if (!(*out = malloc((size_t)s.dim * sizeof **out))) {
    rc = vc_fail(cmd, "out of memory");
  } else {
    vf_batch b;
    vf_read_batch(&s, row, 1, &b);
    memcpy(*out, b.vectors, (size_t)s.dim * sizeof **out);
    *dim = s.dim;
  }
  vf_close(&s);
  return rc;
}

typedef struct hits {
  size_t n, k;
  uint64_t *ids;
  float *distances;
  char **payloads; /* NULL unless asked for */
} hits;

static void print_hits(const hits *h, int json) {
  if (json) {
    vc_json j;
    vcj_init(&j, stdout);
    vcj_object(&j, NULL);
    vcj_array(&j, "results");
    for (size_t i = 0; i < h->n; i++) {
      vcj_object(&j, NULL);
      vcj_u64(&j, "id", h->ids[i]);
      vcj_double(&j, "distance", h->distances[i]);
      if (h->payloads) vcj_raw(&j, "payload", h->payloads[i]);
      vcj_end(&j);
    }
    vcj_end(&j);
    vcj_end(&j);
    return;
  }
  if (h->payloads) printf("%-5s %-20s %-14s %s\n", "rank", "id", "distance", "payload");
  else printf("%-5s %-20s %s\n", "rank", "id", "distance");
  for (size_t i = 0; i < h->n; i++) {
    printf("%-5zu %-20" PRIu64 " ", i + 1, h->ids[i]);
    if (h->payloads) printf("%-14.9g %s\n", (double)h->distances[i], h->payloads[i] ? h->payloads[i] : "-");
    else printf("%.9g\n", (double)h->distances[i]);
  }
}

static void free_hits(hits *h) {
  for (size_t i = 0; h->payloads && i < h->k; i++) vexfs_free(h->payloads[i]);
  free(h->payloads);
  free(h->ids);
  free(h->distances);
}

static int search(const char *cmd, vexfs_collection *c, const char *name, const float *query, size_t k,
                  const vexfs_search_params *params, int with_payload, int json) {
  /* No more slots than vectors: the rest would only be padding. */
  size_t count = vexfs_count(c);
  if (k > count) k = count ? count : 1;
  hits h = {0, k, malloc(k * sizeof *h.ids), malloc(k * sizeof *h.distances),
            with_payload ? calloc(k, sizeof *h.payloads) : NULL};
  int rc = VC_OK;
  if (!h.ids || !h.distances || (with_payload && !h.payloads)) {
    rc = vc_fail(cmd, "out of memory");
  } else {
    vexfs_status st = with_payload
        ? vexfs_search_with_payload(c, query, 1, k, params, h.ids, h.distances, &h.n, h.payloads)
        : vexfs_search(c, query, 1, k, params, h.ids, h.distances, &h.n);
    if (st != VEXFS_OK) rc = vc_lib_fail(cmd, name, st);
    else print_hits(&h, json);
  }
  free_hits(&h);
  return rc;
}

enum { OPT_VECTOR = 256, OPT_QUERY, OPT_ROW, OPT_EF, OPT_FILTER, OPT_K };

static int run_search(int argc, char **argv) {
  const char *cmd = argv[0];
  int with_payload = 0, exact = 0, json = 0;
  const struct option longopts[] = {
      {"vector", required_argument, NULL, OPT_VECTOR}, {"query", required_argument, NULL, OPT_QUERY},
      {"row", required_argument, NULL, OPT_ROW},       {"k", required_argument, NULL, 'k'},
      {"ef", required_argument, NULL, OPT_EF},         {"filter", required_argument, NULL, OPT_FILTER},
      {"with-payload", no_argument, &with_payload, 1}, {"exact", no_argument, &exact, 1},
      {"json", no_argument, &json, 1},                 {0, 0, 0, 0}};
  const char *vector = NULL, *query_file = NULL, *filter = NULL, *row_text = NULL;
  uint64_t k = 10, ef = 0, row = 0;
  int c;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "k:", longopts, NULL)) != -1) {
    switch (c) {
    case 0: break;
    case OPT_VECTOR: vector = optarg; break;
    case OPT_QUERY: query_file = optarg; break;
    case OPT_FILTER: filter = optarg; break;
    case OPT_ROW:
      if (vc_parse_u64(optarg, 0, UINT64_MAX - 1, &row))
        return vc_usage(cmd, "--row wants a row number from 0, not '%s'", optarg);
      row_text = optarg;
      break;
    case 'k':
      if (vc_parse_u64(optarg, 1, VEXFS_MAX_K, &k))
        return vc_usage(cmd, "-k wants an integer 1..%u, not '%s'", VEXFS_MAX_K, optarg);
      break;
    case OPT_EF:
      if (vc_parse_u64(optarg, 1, VEXFS_MAX_K, &ef))
        return vc_usage(cmd, "--ef wants an integer 1..%u, not '%s'", VEXFS_MAX_K, optarg);
      break;
    default: return vc_bad_option(cmd, argc, argv);
    }
  }
  int rc = vc_positionals(cmd, argc, 2, 2, "DB NAME");
  if (rc != VC_OK) return rc;
  if (!vector == !query_file) return vc_usage(cmd, "give the query as --vector or --query FILE (one of them)");
  if (row_text && !query_file) return vc_usage(cmd, "--row goes with --query FILE");
  const char *path = argv[optind], *name = argv[optind + 1];

  float *query = NULL;
  uint32_t qdim = 0;
  rc = vector ? parse_vector(cmd, vector, &query, &qdim)
                  : read_query_row(cmd, query_file, row, &query, &qdim);
  if (rc != VC_OK) return rc;
  vexfs_db *db;
  vexfs_collection *col;
  if (vc_open_collection(cmd, path, name, 0, &db, &col) != VC_OK) {
    free(query);
    return VC_FAIL;
  }
  if (vexfs_dim(col) != qdim) {
    rc = vc_fail(cmd, "the query has %" PRIu32 " dimensions, the collection '%s' has %" PRIu32, qdim,
                 name, vexfs_dim(col));
  } else {
    vexfs_search_params params;
    vexfs_search_params_init(&params);
    params.ef = (uint32_t)ef;
    params.filter_json = filter;
    params.exact = (uint32_t)exact;
    rc = search(cmd, col, name, query, (size_t)k, &params, with_payload, json);
  }
  free(query);
  vc_close_db(cmd, db, &rc);
  return rc;
}

const vc_command vc_cmd_search = {
    "search", "the nearest vectors of a query",
    "usage: vexctl search DB NAME (--vector '[x, y, ...]' | --query FILE [--row I]) [-k K]\n"
    "                     [--ef N] [--filter JSON] [--with-payload] [--exact] [--json]\n"
    "\n"
    "Prints the K nearest vectors of the collection NAME to one query, nearest first: rank, id,\n"
    "distance (squared euclidean for l2, 1 - dot for ip, 1 - cos for cosine). Opens DB\n"
    "read-only.\n"
    "\n"
    "  --vector V      the query as a JSON array of numbers, of the collection's dimension\n"
    "  --query FILE    the query is row I of FILE (.npy, .fvecs, .bvecs, .jsonl, .csv, or an\n"
    "                  ann-benchmarks .hdf5, whose \"test\" dataset is read)\n"
    "  --row I         that row, from 0 (default 0)\n"
    "  -k, --k K       how many neighbours (default 10)\n"
    "  --ef N          the search's candidate list (HNSW; LSH re-ranks 4 N); default: the\n"
    "                  collection's ef_search\n"
    "  --filter JSON   a Qdrant-style filter over payloads and ids, e.g.\n"
    "                  '{\"must\": [{\"key\": \"lang\", \"match\": {\"value\": \"en\"}}]}'\n"
    "  --with-payload  print each hit's payload too\n"
    "  --exact         score every row exactly, whatever the index\n"
    "  --json          one JSON object: {\"results\": [{\"id\", \"distance\", \"payload\"}]}\n"
    "                  (payload with --with-payload only; null where a hit has none)\n"
    "\n"
    "example:\n"
    "  vexctl search ./db docs --vector '[0.1, 0.2, 0.3, 0.4]' -k 5 --with-payload\n",
    run_search};

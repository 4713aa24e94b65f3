/* libFuzzer target: the filter compiler, evaluator and planner. The input is a filter; it must
 * compile or fail with VEXFS_E_INVALID, and a filter that compiles is run as a search on a small
 * collection with payloads and payload indexes, on both the flat and the HNSW path, where every
 * hit must pass the filter and the two paths must agree on how many rows pass. */
#include <stdlib.h>
#include <string.h>

#include "vexfs/vexfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { ROWS = 64, DIM = 4 };

static vexfs_collection *collection(vexfs_index_kind kind) {
  static const char *const payloads[] = {
      "{\"a\":1,\"b\":\"x\",\"c\":[1,2,3],\"d\":{\"e\":true}}",
      "{\"a\":2.5,\"b\":[\"x\",\"y\"],\"d\":{\"e\":[false,null]}}",
      "{\"a\":null,\"c\":[],\"d\":[{\"e\":1},{\"e\":\"1\"}]}",
      "{\"b\":\"y\",\"a\":-7,\"big\":18446744073709551615}",
      NULL,
  };
  vexfs_collection_config cfg;
  vexfs_collection_config_init(&cfg);
  cfg.dim = DIM;
  cfg.index = kind;
  cfg.threads = 1;
  vexfs_collection *c = NULL;
  if (vexfs_collection_create(&cfg, &c) != VEXFS_OK) abort();
  uint64_t ids[ROWS];
  float v[ROWS * DIM];
  const char *json[ROWS];
  for (int i = 0; i < ROWS; i++) {
    ids[i] = (uint64_t)i;
    json[i] = payloads[i % 5];
    for (int j = 0; j < DIM; j++) v[i * DIM + j] = (float)((i * 7 + j * 3) % 11);
  }
  if (vexfs_insert_with_payload(c, ids, v, json, ROWS) != VEXFS_OK) abort();
  vexfs_create_payload_index(c, "a", VEXFS_PAYLOAD_INDEX_NUMERIC);
  vexfs_create_payload_index(c, "b", VEXFS_PAYLOAD_INDEX_KEYWORD);
  vexfs_create_payload_index(c, "d.e", VEXFS_PAYLOAD_INDEX_KEYWORD);
  return c;
}

static size_t run(vexfs_collection *c, const char *filter, int *status) {
  vexfs_search_params p;
  vexfs_search_params_init(&p);
  p.filter_json = filter;
  float q[DIM] = {1, 2, 3, 4};
  uint64_t ids[ROWS];
  float dist[ROWS];
  size_t count = 0;
  *status = vexfs_search(c, q, 1, ROWS, &p, ids, dist, &count);
  return count;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static vexfs_collection *flat, *graph;
  if (!flat) {
    flat = collection(VEXFS_INDEX_FLAT);
    graph = collection(VEXFS_INDEX_HNSW);
  }
  char *filter = malloc(size + 1);
  if (!filter) return 0;
  memcpy(filter, data, size);
  filter[size] = 0;
  int a, b;
  size_t na = run(flat, filter, &a), nb = run(graph, filter, &b);
  if (a != b || (a != VEXFS_OK && a != VEXFS_E_INVALID)) abort();
  if (a == VEXFS_OK && na != nb) abort();
  free(filter);
  return 0;
}

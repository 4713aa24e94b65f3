/* Exact search through the public API, one thread: single queries (memory-bound streaming) and
 * batches (the blocked, compute-bound path), on random data. items/s = queries per second. */
#include <stdio.h>
#include <stdlib.h>

#include <vexfs/vexfs.h>

#include "gbench_shim.h"

typedef struct flat_case {
  vexfs_collection *c;
  float *queries;
  size_t nq, dim;
  vexfs_search_params params;
} flat_case;

enum { K = 10, MAX_NQ = 1024 };

static void search(vxb_state *s, void *ctx) {
  flat_case *f = ctx;
  static uint64_t ids[MAX_NQ * K];
  static float dist[MAX_NQ * K];
  while (vxb_keep_running(s))
    if (vexfs_search(f->c, f->queries, f->nq, K, &f->params, ids, dist, NULL) != VEXFS_OK) {
      fprintf(stderr, "search failed: %s\n", vexfs_last_error());
      exit(1);
    }
  vxb_set_items_processed(s, vxb_iterations(s) * (int64_t)f->nq);
}

static float *random_floats(size_t n, unsigned seed) {
  float *v = malloc(n * sizeof *v);
  srand(seed);
  for (size_t i = 0; v && i < n; i++) v[i] = (float)rand() / RAND_MAX;
  return v;
}

int main(int argc, char **argv) {
  static const struct { size_t n, dim; } sets[] = {{100000, 128}, {50000, 768}};
  static const size_t batches[] = {1, 16, 256, 1024};
  static const char *const metrics[] = {"", "l2", "ip", "cosine"};
  char name[128];
  for (size_t si = 0; si < 2; si++)
    for (int m = VEXFS_METRIC_L2; m <= VEXFS_METRIC_COSINE; m++) {
      vexfs_collection_config cfg;
      vexfs_collection_config_init(&cfg);
      cfg.dim = (uint32_t)sets[si].dim;
      cfg.metric = (vexfs_metric)m;
      cfg.index = VEXFS_INDEX_FLAT;
      vexfs_collection *c;
      float *data = random_floats(sets[si].n * sets[si].dim, 1);
      uint64_t *ids = malloc(sets[si].n * sizeof *ids);
      for (size_t i = 0; i < sets[si].n; i++) ids[i] = i;
      if (vexfs_collection_create(&cfg, &c) != VEXFS_OK ||
          vexfs_insert(c, ids, data, sets[si].n) != VEXFS_OK) {
        fprintf(stderr, "setup failed: %s\n", vexfs_last_error());
        return 1;
      }
      free(data);
      free(ids);
      float *queries = random_floats(MAX_NQ * sets[si].dim, 2);
      for (size_t b = 0; b < sizeof batches / sizeof *batches; b++) {
        if (m != VEXFS_METRIC_L2 && batches[b] != 1 && batches[b] != 256) continue;
        flat_case *f = malloc(sizeof *f);
        *f = (flat_case){c, queries, batches[b], sets[si].dim, {0}};
        vexfs_search_params_init(&f->params);
        f->params.threads = 1;
        snprintf(name, sizeof name, "flat/%s/n=%zu/d=%zu/nq=%zu", metrics[m], sets[si].n,
                 sets[si].dim, batches[b]);
        vxb_register(name, search, f);
      }
    }
  return vxb_main(argc, argv); /* collections live until exit */
}

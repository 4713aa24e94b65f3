/* The baseline of the vexctl import benchmark (run.sh): Fashion-MNIST's 60000 training rows
 * inserted straight through the C API into a durable database, in batches, with what
 * `vexctl import` does around them: open (creating the database), create the collection, insert
 * ids 0..n-1 in order, close (which checkpoints). The rows are loaded before the clock starts.
 *
 *   import_direct DBDIR [BATCH [INDEX]]     BATCH default 1000, INDEX auto|flat|hnsw|ivf|lsh
 *
 * Prints one line: "direct rows=N seconds=S rows_per_sec=R". */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vexfs/vexfs.h>

#include "../fashion_mnist_c.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int index_kind(const char *s, vexfs_index_kind *out) {
  static const char *const names[] = {"auto", "flat", "hnsw", "lsh", "ivf"};
  for (int i = 0; i < 5; i++)
    if (!strcmp(s, names[i])) return *out = (vexfs_index_kind)i, 0;
  return -1;
}

static int fail(const char *what, vexfs_status st) {
  fprintf(stderr, "import_direct: %s: %s\n", what, vexfs_last_error()[0] ? vexfs_last_error()
                                                                       : vexfs_status_string(st));
  return 1;
}

int main(int argc, char **argv) {
  if (argc < 2 || argc > 4) {
    fprintf(stderr, "usage: import_direct DBDIR [BATCH [INDEX]]\n");
    return 2;
  }
  size_t batch = argc > 2 ? strtoul(argv[2], NULL, 10) : 1000;
  vexfs_collection_config cfg;
  vexfs_collection_config_init(&cfg);
  if (batch == 0 || (argc > 3 && index_kind(argv[3], &cfg.index) != 0)) {
    fprintf(stderr, "import_direct: bad BATCH or INDEX\n");
    return 2;
  }
  size_t n, dim;
  float *rows = fashion_mnist("train", &n, &dim);
  uint64_t *ids = rows ? malloc(n * sizeof *ids) : NULL;
  if (!ids) {
    fprintf(stderr, "import_direct: cannot read Fashion-MNIST (apt-get install "
                    "dataset-fashion-mnist: scripts/setup.sh bench)\n");
    return 1;
  }
  for (size_t i = 0; i < n; i++) ids[i] = i;
  cfg.dim = (uint32_t)dim;

  double t0 = now();
  vexfs_db *db;
  vexfs_collection *c;
  vexfs_status st = vexfs_db_open(argv[1], NULL, &db);
  if (st != VEXFS_OK) return fail("open", st);
  if ((st = vexfs_db_create_collection(db, "fmnist", &cfg, &c)) != VEXFS_OK) return fail("create", st);
  for (size_t at = 0; at < n; at += batch) {
    size_t take = n - at < batch ? n - at : batch;
    if ((st = vexfs_insert(c, ids + at, rows + at * dim, take)) != VEXFS_OK) return fail("insert", st);
  }
  if ((st = vexfs_db_close(db)) != VEXFS_OK) return fail("close", st);
  double seconds = now() - t0;
  printf("direct rows=%zu seconds=%.3f rows_per_sec=%.1f\n", n, seconds, (double)n / seconds);
  free(rows);
  free(ids);
  return 0;
}

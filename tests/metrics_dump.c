/* Prints Prometheus metrics after some work, for `promtool check metrics` (check_prometheus.sh).
 * usage: metrics_dump collection|process|database (a collection named by an in-memory database) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

int main(int argc, char **argv) {
  if (argc != 2) return 2;
  enum { N = 2000, D = 8 };
  vexfs_collection_config cfg;
  vexfs_collection_config_init(&cfg);
  cfg.dim = D;
  vexfs_collection *c;
  vexfs_db *db = NULL;
  vexfs_status made = strcmp(argv[1], "database") != 0 ? vexfs_collection_create(&cfg, &c)
                      : vexfs_db_open(NULL, NULL, &db) != VEXFS_OK
                          ? VEXFS_E_IO
                          : vexfs_db_create_collection(db, "docs-v2.1_x", &cfg, &c);
  float *v = test_random_vectors(N, D, 1);
  uint64_t ids[N], out[4 * 10];
  float dist[4 * 10];
  for (size_t i = 0; i < N; i++) ids[i] = i;
  if (made != VEXFS_OK || vexfs_insert(c, ids, v, N) != VEXFS_OK ||
      vexfs_search(c, v, 4, 10, NULL, out, dist, NULL) != VEXFS_OK ||
      vexfs_remove(c, ids, 3) != VEXFS_OK)
    return 1;
  char *text = vexfs_metrics_prometheus(strcmp(argv[1], "process") == 0 ? NULL : c);
  if (!text) return 1;
  fputs(text, stdout);
  vexfs_free(text);
  vexfs_collection_free(c); /* ignored for the database's collection */
  vexfs_db_close(db);
  free(v);
  return 0;
}

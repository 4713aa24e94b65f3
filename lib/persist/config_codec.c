/* The stored configuration (see config_codec.h). */
#include "config_codec.h"

#include <string.h>

typedef struct stored_config {
  uint32_t dim, metric, index, m, efc, efs, threads, zero;
  uint64_t seed;
} stored_config;

_Static_assert(sizeof(stored_config) == VX_CONFIG_BYTES, "the stored config has no padding");

void vx_config_encode(const vexfs_collection_config *cfg, uint8_t out[VX_CONFIG_BYTES]) {
  stored_config sc = {cfg->dim, (uint32_t)cfg->metric, (uint32_t)cfg->index, cfg->hnsw_m,
                      cfg->hnsw_ef_construction, cfg->hnsw_ef_search, cfg->threads, 0,
                      cfg->hnsw_seed};
  memcpy(out, &sc, sizeof sc);
}

void vx_config_decode(const uint8_t in[VX_CONFIG_BYTES], vexfs_collection_config *cfg) {
  stored_config sc;
  memcpy(&sc, in, sizeof sc);
  vexfs_collection_config_init(cfg);
  cfg->dim = sc.dim;
  cfg->metric = (vexfs_metric)sc.metric;
  cfg->index = (vexfs_index_kind)sc.index;
  cfg->hnsw_m = sc.m;
  cfg->hnsw_ef_construction = sc.efc;
  cfg->hnsw_ef_search = sc.efs;
  cfg->threads = sc.threads;
  cfg->hnsw_seed = sc.seed;
}

/* The stored configuration (see config_codec.h). */
#include "config_codec.h"

#include <string.h>

typedef struct stored_config {
  uint32_t dim, metric, index, m, efc, efs, threads, zero;
  uint64_t seed;
  /* format 2 */
  uint32_t lsh_tables, lsh_bits, lsh_probes, lsh_bucket_width_bits, ivf_nlist, ivf_nprobe,
      ivf_codes, lsh_projection;
  /* format 3 */
  uint32_t storage, rerank;
} stored_config;

_Static_assert(sizeof(stored_config) == VX_CONFIG_BYTES, "the stored config has no padding");
_Static_assert(offsetof(stored_config, lsh_tables) == VX_CONFIG_BYTES_V1,
               "format 2 extends format 1");
_Static_assert(offsetof(stored_config, storage) == VX_CONFIG_BYTES_V2, "format 3 extends format 2");

void vx_config_encode(const vexfs_collection_config *cfg, uint8_t out[VX_CONFIG_BYTES]) {
  uint32_t width_bits;
  memcpy(&width_bits, &cfg->lsh_bucket_width, sizeof width_bits);
  stored_config sc = {cfg->dim,           (uint32_t)cfg->metric, (uint32_t)cfg->index,
                      cfg->hnsw_m,        cfg->hnsw_ef_construction,
                      cfg->hnsw_ef_search, cfg->threads,         0,
                      cfg->hnsw_seed,     cfg->lsh_tables,       cfg->lsh_bits,
                      cfg->lsh_probes,    width_bits,            cfg->ivf_nlist,
                      cfg->ivf_nprobe,    (uint32_t)cfg->ivf_codes,
                      (uint32_t)cfg->lsh_projection, (uint32_t)cfg->storage,
                      (uint32_t)cfg->rerank};
  memcpy(out, &sc, sizeof sc);
}

int vx_config_decode(const uint8_t *in, size_t len, vexfs_collection_config *cfg) {
  if (len != VX_CONFIG_BYTES_V1 && len != VX_CONFIG_BYTES_V2 && len != VX_CONFIG_BYTES) return -1;
  stored_config sc;
  memset(&sc, 0, sizeof sc);
  memcpy(&sc, in, len);
  vexfs_collection_config_init(cfg);
  cfg->dim = sc.dim;
  cfg->metric = (vexfs_metric)sc.metric;
  cfg->index = (vexfs_index_kind)sc.index;
  cfg->hnsw_m = sc.m;
  cfg->hnsw_ef_construction = sc.efc;
  cfg->hnsw_ef_search = sc.efs;
  cfg->threads = sc.threads;
  cfg->hnsw_seed = sc.seed;
  if (len == VX_CONFIG_BYTES_V1) return 0;
  cfg->lsh_tables = sc.lsh_tables;
  cfg->lsh_bits = sc.lsh_bits;
  cfg->lsh_probes = sc.lsh_probes;
  memcpy(&cfg->lsh_bucket_width, &sc.lsh_bucket_width_bits, sizeof(float));
  cfg->ivf_nlist = sc.ivf_nlist;
  cfg->ivf_nprobe = sc.ivf_nprobe;
  cfg->ivf_codes = (vexfs_ivf_codes)sc.ivf_codes;
  cfg->lsh_projection = (vexfs_lsh_projection)sc.lsh_projection;
  cfg->storage = (vexfs_storage)sc.storage; /* format 2 leaves the defaults: zeros */
  cfg->rerank = (vexfs_rerank)sc.rerank;
  return sc.zero == 0 ? 0 : -1;
}

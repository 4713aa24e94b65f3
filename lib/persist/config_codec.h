/* A collection's configuration as stored on disk, in the log's CREATE records and the
 * snapshot's COLLECTION sections alike: u32 dim, metric, index, hnsw_m, hnsw_ef_construction,
 * hnsw_ef_search, threads, 0, then u64 hnsw_seed (little-endian, as the machine writes them).
 * Fields appended to vexfs_collection_config that must persist need a new format version of
 * both files, decoded here by length. */
#ifndef VEXFS_CONFIG_CODEC_H
#define VEXFS_CONFIG_CODEC_H

#include <stdint.h>

#include "vexfs/vexfs.h"

#define VX_CONFIG_BYTES 40u

void vx_config_encode(const vexfs_collection_config *cfg, uint8_t out[VX_CONFIG_BYTES]);
/* Fills *cfg (defaults for what the bytes do not hold); the result is checked where it is used,
 * by vexfs_collection_create. */
void vx_config_decode(const uint8_t in[VX_CONFIG_BYTES], vexfs_collection_config *cfg);

#endif

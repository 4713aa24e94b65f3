/* A collection's configuration as stored on disk, in the log's CREATE records and the
 * snapshot's COLLECTION sections alike (little-endian, as the machine writes them):
 *   format 1 (40 bytes): u32 dim, metric, index, hnsw_m, hnsw_ef_construction, hnsw_ef_search,
 *                        threads, 0, then u64 hnsw_seed;
 *   format 2 (72 bytes): format 1, then u32 lsh_tables, lsh_bits, lsh_probes, lsh_bucket_width
 *                        (the float's bits), ivf_nlist, ivf_nprobe, ivf_codes, lsh_projection;
 *   format 3 (80 bytes): format 2, then u32 storage, rerank.
 * The length tells the formats apart; files of format version 4 (VX_WAL_VERSION) and 3
 * (VX_SNAP_VERSION) write the longest. Fields appended to vexfs_collection_config that must
 * persist extend it again, with a new format version of both files. */
#ifndef VEXFS_CONFIG_CODEC_H
#define VEXFS_CONFIG_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "vexfs/vexfs.h"

#define VX_CONFIG_BYTES_V1 40u
#define VX_CONFIG_BYTES_V2 72u
#define VX_CONFIG_BYTES 80u /* what encode writes */

void vx_config_encode(const vexfs_collection_config *cfg, uint8_t out[VX_CONFIG_BYTES]);
/* Fills *cfg from len bytes (defaults for what an older format does not hold); 0, or -1 when
 * len is the length of no format. The result is checked where it is used, by
 * vexfs_collection_create. */
int vx_config_decode(const uint8_t *in, size_t len, vexfs_collection_config *cfg);

#endif

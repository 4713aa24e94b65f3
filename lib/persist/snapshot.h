/* What a snapshot holds: per collection a COLLECTION section (number, name, config, row counts),
 * then IDS (u64 per row, UINT64_MAX for a free row), VECTORS (dim floats per row, byte-shuffled
 * for compression), PAYLOADS (per row u32 length, UINT32_MAX for none, then the JSON text),
 * PAYLOAD_INDEXES (their keys and kinds; contents are rebuilt from the payloads on load) and, for
 * graph indexes, GRAPH (the index's own save format). Rows keep their slots, so the graph loads
 * as it was. A collection whose rows are MAPPED has ROWS_FILE in place of VECTORS: u32 format (1),
 * u32 name length, the name of its row file (rowfile.h), u64 rows, row bytes and XXH3-64 of the
 * file. A collection whose storage is not F32 has CODES (codes.h of lib/, written by
 * collection_snapshot.c): u32 format (1), u32 storage, u32 fitted, u32 lossless, f32 scale,
 * f32 inverse scale, f64 sum of squared offsets, dim f32 offsets, dim f32 range low, dim f32
 * range high; then, for rerank NONE (no VECTORS section: the codes are the rows), each row's code.
 * The container is section.h's. */
#ifndef VEXFS_SNAPSHOT_H
#define VEXFS_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "section.h"
#include "vexfs/vexfs.h"

enum vx_section_kind {
  VX_SEC_COLLECTION = 1,
  VX_SEC_IDS = 2,
  VX_SEC_VECTORS = 3,
  VX_SEC_PAYLOADS = 4,
  VX_SEC_PAYLOAD_INDEXES = 5,
  VX_SEC_GRAPH = 6,
  VX_SEC_ROWS_FILE = 7,
  VX_SEC_CODES = 8
};

/* Writes the database collections (the caller holds each one's write lock) as a snapshot covering
 * log records up to seq, into the file `path`; fsyncs it when sync. The row files of MAPPED
 * collections go to dir, each collection holding its new one as pending
 * (vx_collection_commit_rows). */
vexfs_status vx_snapshot_write(const char *path, const char *dir, vexfs_collection *const *cols,
                               size_t n, uint64_t seq, int sync);

/* Creates every collection a snapshot holds and hands each to adopt (which takes ownership, also
 * when it fails). */
typedef vexfs_status (*vx_adopt_fn)(void *ctx, uint32_t id, const char *name,
                                    vexfs_collection *c);
/* dir: the database's directory, where row files are; NULL refuses MAPPED collections. */
vexfs_status vx_snapshot_load(vx_snap *snap, const char *dir, vx_adopt_fn adopt, void *ctx);

#endif

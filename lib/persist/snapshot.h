/* What a snapshot holds: per collection a COLLECTION section (number, name, config, row counts),
 * then IDS (u64 per row, UINT64_MAX for a free row), VECTORS (dim floats per row, byte-shuffled
 * for compression), PAYLOADS (per row u32 length, UINT32_MAX for none, then the JSON text),
 * PAYLOAD_INDEXES (their keys and kinds; contents are rebuilt from the payloads on load) and, for
 * graph indexes, GRAPH (the index's own save format). Rows keep their slots, so the graph loads
 * as it was. The container is section.h's. */
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
  VX_SEC_GRAPH = 6
};

/* Writes the database collections (the caller holds each one's write lock) as a snapshot covering
 * log records up to seq, into the file `path`; fsyncs it when sync. */
vexfs_status vx_snapshot_write(const char *path, vexfs_collection *const *cols, size_t n,
                               uint64_t seq, int sync);

/* Creates every collection a snapshot holds and hands each to adopt (which takes ownership, also
 * when it fails). */
typedef vexfs_status (*vx_adopt_fn)(void *ctx, uint32_t id, const char *name,
                                    vexfs_collection *c);
vexfs_status vx_snapshot_load(vx_snap *snap, vx_adopt_fn adopt, void *ctx);

#endif

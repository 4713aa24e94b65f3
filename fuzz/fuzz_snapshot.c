/* libFuzzer target: the snapshot reader. The input is a snapshot file; when its header and table
 * are intact, every checksum is recomputed first (vx_snap_reseal), so that mutated section bodies
 * reach the section parsers instead of stopping at a checksum. Loading must succeed or fail with
 * VEXFS_E_CORRUPT / UNSUPPORTED / NOMEM, never crash; a loaded collection must answer searches. */
#include <stdlib.h>
#include <string.h>

#include "collection_impl.h"
#include "persist/section.h"
#include "persist/snapshot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static vexfs_status adopt(void *ctx, uint32_t id, const char *name, vexfs_collection *c) {
  (void)ctx, (void)id, (void)name;
  uint32_t dim = vexfs_dim(c);
  float *q = calloc(dim, sizeof *q);
  uint64_t ids[8];
  float dist[8];
  if (q && vexfs_search(c, q, 1, 8, NULL, ids, dist, NULL) != VEXFS_OK) abort();
  free(q);
  vx_collection_destroy(c);
  return VEXFS_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t *copy = malloc(size ? size : 1);
  if (!copy) return 0;
  memcpy(copy, data, size);
  vx_snap_reseal(copy, size);
  vx_snap *s;
  vexfs_status st = vx_snap_open_bytes(copy, size, &s);
  uint64_t claimed = 0; /* decompression bombs are out of scope: snapshots are the user's files */
  for (size_t i = 0; st == VEXFS_OK && i < vx_snap_count(s); i++) claimed += vx_snap_at(s, i)->raw;
  if (st == VEXFS_OK && claimed > ((uint64_t)64 << 20)) {
    vx_snap_close(s);
    free(copy);
    return 0;
  }
  if (st == VEXFS_OK) {
    st = vx_snapshot_load(s, NULL, adopt, NULL);
    vx_snap_close(s);
  }
  if (st != VEXFS_OK && st != VEXFS_E_CORRUPT && st != VEXFS_E_UNSUPPORTED && st != VEXFS_E_NOMEM)
    abort();
  free(copy);
  return 0;
}

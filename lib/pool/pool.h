/* The tiered slab pool for scratch memory (search and insert buffers, visited sets, heaps).
 *
 * A request takes a block from the smallest tier that fits: first from the calling thread's
 * cache, then from the tier's global depot, and only when both are empty from a new slab (which
 * comes from the allocator hooks). Freed blocks go back to the thread's cache, overflowing to the
 * depot. After warm-up a steady workload therefore makes no allocator calls. Requests larger
 * than the largest tier go straight to the allocator. */
#ifndef VEXFS_POOL_H
#define VEXFS_POOL_H

#include <stddef.h>

/* A block of at least `bytes`, 64-byte aligned; NULL when out of memory. */
void *vx_pool_get(size_t bytes);
/* Returns a block from vx_pool_get; `bytes` must be what was asked for. NULL-safe. */
void vx_pool_put(void *block, size_t bytes);

/* Bytes reserved by the pool's slabs (for memory metrics). */
size_t vx_pool_reserved_bytes(void);

#endif

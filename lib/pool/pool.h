/* The tiered slab pool for scratch memory (search and insert buffers, visited sets, heaps).
 *
 * A request takes a block from the smallest tier that fits: first from the calling thread's
 * cache, then from the tier's global depot, and only when both are empty from a new slab (which
 * comes from the allocator hooks). Freed blocks go back to the thread's cache, overflowing to the
 * depot. After warm-up a steady workload therefore makes no allocator calls. Requests larger
 * than the largest tier go straight to the allocator.
 *
 * The cache hit is inline below; everything else is in pool.c. */
#ifndef VEXFS_POOL_H
#define VEXFS_POOL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "vexfs/vexfs.h"

#define VX_POOL_CACHE_MAX 64 /* blocks per tier in one thread's cache, at most */

/* One thread's cache. Counters are written by their thread only and read by the stats reader;
 * requests are hits + misses, bytes in use (gets - puts) blocks. */
typedef struct vx_pool_cache {
  uint32_t n[VEXFS_POOL_MAX_TIERS], cap[VEXFS_POOL_MAX_TIERS];
  _Atomic uint64_t hits[VEXFS_POOL_MAX_TIERS], misses_empty[VEXFS_POOL_MAX_TIERS],
      too_big[VEXFS_POOL_MAX_TIERS], puts[VEXFS_POOL_MAX_TIERS];
  struct vx_pool_cache *next;
  void *blocks[VEXFS_POOL_MAX_TIERS][VX_POOL_CACHE_MAX];
} vx_pool_cache;

/* This thread's cache (NULL until its first request); initial-exec TLS: a plain %fs-relative
 * load, and one pointer fits the static TLS surplus glibc keeps for libraries loaded by dlopen. */
extern _Thread_local vx_pool_cache *vx_pool_mine __attribute__((tls_model("initial-exec")));
/* Smallest tier whose block holds 2^i bytes, or -1; set when the pool starts, before any thread
 * has a cache. */
extern int8_t vx_pool_tier_of_log2[65];

void *vx_pool_get_slow(size_t bytes);
void vx_pool_put_slow(void *block, size_t bytes);

static inline int vx_pool_tier(size_t bytes) {
  unsigned l = bytes <= 1 ? 0 : 64u - (unsigned)__builtin_clzll((unsigned long long)(bytes - 1));
  return vx_pool_tier_of_log2[l];
}

static inline void vx_pool_count(_Atomic uint64_t *c) {
  atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1, memory_order_relaxed);
}

/* A block of at least `bytes`, 64-byte aligned; NULL when out of memory. */
static inline void *vx_pool_get(size_t bytes) {
  vx_pool_cache *c = vx_pool_mine;
  if (c) {
    int i = vx_pool_tier(bytes);
    if (i >= 0 && c->n[i]) {
      vx_pool_count(&c->hits[i]);
      return c->blocks[i][--c->n[i]];
    }
  }
  return vx_pool_get_slow(bytes);
}

/* Returns a block from vx_pool_get; `bytes` must be what was asked for. NULL-safe. */
static inline void vx_pool_put(void *block, size_t bytes) {
  vx_pool_cache *c = vx_pool_mine;
  if (c && block) {
    int i = vx_pool_tier(bytes);
    if (i >= 0 && c->n[i] < c->cap[i]) {
      c->blocks[i][c->n[i]++] = block;
      vx_pool_count(&c->puts[i]);
      return;
    }
  }
  vx_pool_put_slow(block, bytes);
}

/* The size of the block vx_pool_get(bytes) hands out: the tier's block size, or bytes itself
 * when no tier holds it. A caller may use all of it, and gives it back with that size. */
size_t vx_pool_block_size(size_t bytes);

/* Bytes reserved by the pool's slabs (for memory metrics). */
size_t vx_pool_reserved_bytes(void);

#endif

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

/* The tier of requests too big for every tier: a cache's count and capacity for it are always 0,
 * so the fast paths send those requests to the slow path without testing for them. */
#define VX_POOL_NO_TIER VEXFS_POOL_MAX_TIERS
#define VX_POOL_CACHE_MAX 64 /* blocks per tier in one thread's cache, at most (< 256) */

/* One thread's cache. Per tier, one word holds both the number of cached blocks (its low 8 bits)
 * and the number of requests the cache has served (the rest: 2^56 of them, years at full speed):
 * a get updates both with a single add, and a put only the count, so the fast paths keep no
 * separate counters (a get/put pair is a few nanoseconds, and each counter costs a quarter of
 * it). Everything else the stats report is counted on the slow paths, or derived (pool.c).
 * `state` is written by its thread only and read by the stats reader. */
typedef struct vx_pool_cache {
  _Atomic uint64_t state[VX_POOL_NO_TIER + 1]; /* that of VX_POOL_NO_TIER stays 0 */
  uint32_t cap[VX_POOL_NO_TIER + 1];           /* so does its capacity */
  _Atomic uint64_t misses_empty[VEXFS_POOL_MAX_TIERS], too_big[VEXFS_POOL_MAX_TIERS];
  struct vx_pool_cache *next;
  void *blocks[VEXFS_POOL_MAX_TIERS][VX_POOL_CACHE_MAX];
} vx_pool_cache;

#define VX_POOL_COUNT_MASK 0xffu
#define VX_POOL_SERVED_ONE 0x100u /* one served request, in state */
_Static_assert(VX_POOL_CACHE_MAX <= VX_POOL_COUNT_MASK, "a cache's count must fit its bits");

/* This thread's cache; until its first request (and after the thread's exit handler ran) the
 * empty vx_pool_no_cache, whose zero counts and capacities send every request to the slow path,
 * so the fast paths need no NULL test. Initial-exec TLS: a plain %fs-relative load, and one
 * pointer fits the static TLS surplus glibc keeps for libraries loaded by dlopen. */
extern vx_pool_cache vx_pool_no_cache;
extern _Thread_local vx_pool_cache *vx_pool_mine __attribute__((tls_model("initial-exec")));
/* Both set when the pool starts, before any thread has a cache; atomic because a thread's first
 * request reads them (with no cache yet, the answer is unused: every tier sends it to the slow
 * path, which starts the pool and looks again) while another thread may be starting the pool.
 * Relaxed loads of bytes compile to plain loads, and unsigned ones widened to size_t need no
 * sign extension: the fast path is the instructions it was. vx_pool_tier_near[q]: the smallest
 * tier holding 64 * (q + 1) bytes, or VX_POOL_NO_TIER (exact, as every block size is a
 * multiple of 64; a table load instead of a bit scan, which is several micro-ops on AMD cores).
 * vx_pool_tier_of_log2[i]: the smallest tier whose block holds 2^i bytes, or VX_POOL_NO_TIER. */
#define VX_POOL_NEAR 256 /* requests up to 16 KiB take the table */
extern _Atomic uint8_t vx_pool_tier_near[VX_POOL_NEAR];
extern _Atomic uint8_t vx_pool_tier_of_log2[65];

void *vx_pool_get_slow(size_t bytes);
void vx_pool_put_slow(void *block, size_t bytes);

/* The tier for a request of `bytes`, or VX_POOL_NO_TIER when it is too big for every tier. */
static inline size_t vx_pool_tier(size_t bytes) {
  size_t q = (bytes - 1) >> 6; /* huge for 0 bytes, which the far branch handles */
  if (__builtin_expect(q < VX_POOL_NEAR, 1))
    return atomic_load_explicit(&vx_pool_tier_near[q], memory_order_relaxed);
  unsigned l = bytes <= 1 ? 0 : 64u - (unsigned)__builtin_clzll((unsigned long long)(bytes - 1));
  return atomic_load_explicit(&vx_pool_tier_of_log2[l], memory_order_relaxed);
}

static inline uint64_t vx_pool_state(const vx_pool_cache *c, size_t i) {
  return atomic_load_explicit(&c->state[i], memory_order_relaxed);
}

/* Under AddressSanitizer a lent block is addressable for the bytes asked only, and a block in the
 * pool not at all: an overflow past a request, or a use after the block went back, is reported
 * as it would be for malloc's blocks (the tiers' larger blocks hide it otherwise). */
#if defined(__SANITIZE_ADDRESS__)
#define VX_POOL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VX_POOL_ASAN 1
#endif
#endif
#ifdef VX_POOL_ASAN
#include <sanitizer/asan_interface.h>
#endif
size_t vx_pool_block_size(size_t bytes);
static inline void *vx_pool_lend(void *block, size_t bytes) {
#ifdef VX_POOL_ASAN
  if (block) {
    ASAN_POISON_MEMORY_REGION(block, vx_pool_block_size(bytes));
    ASAN_UNPOISON_MEMORY_REGION(block, bytes);
  }
#else
  (void)bytes;
#endif
  return block;
}

/* A block of at least `bytes`, 64-byte aligned; NULL when out of memory. */
static inline void *vx_pool_get(size_t bytes) {
  vx_pool_cache *c = vx_pool_mine;
  size_t i = vx_pool_tier(bytes);
  uint64_t s = vx_pool_state(c, i);
  unsigned n = (unsigned)s & VX_POOL_COUNT_MASK;
  if (__builtin_expect(n != 0, 1)) {
    atomic_store_explicit(&c->state[i], s + VX_POOL_SERVED_ONE - 1, memory_order_relaxed);
    return vx_pool_lend(c->blocks[i][n - 1], bytes);
  }
  return vx_pool_lend(vx_pool_get_slow(bytes), bytes);
}

/* Returns a block from vx_pool_get; `bytes` must be what was asked for. NULL-safe. */
static inline void vx_pool_put(void *block, size_t bytes) {
  vx_pool_cache *c = vx_pool_mine;
  size_t i = vx_pool_tier(bytes);
#ifdef VX_POOL_ASAN
  if (block && i != VX_POOL_NO_TIER) ASAN_POISON_MEMORY_REGION(block, vx_pool_block_size(bytes));
#endif
  uint64_t s = vx_pool_state(c, i);
  unsigned n = (unsigned)s & VX_POOL_COUNT_MASK;
  if (__builtin_expect(block && n < c->cap[i], 1)) {
    /* the count first: the next get's load of it can be forwarded sooner */
    atomic_store_explicit(&c->state[i], s + 1, memory_order_relaxed);
    c->blocks[i][n] = block;
    return;
  }
  vx_pool_put_slow(block, bytes);
}

/* The size of the block vx_pool_get(bytes) hands out: the tier's block size, or bytes itself
 * when no tier holds it. A caller may use all of it if it asks for that size, and gives it back
 * with that size. (Declared above.) */

/* Bytes reserved by the pool's slabs (for memory metrics). */
size_t vx_pool_reserved_bytes(void);

#endif

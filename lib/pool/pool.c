/* The tiered slab pool (see pool.h) and its public configuration and statistics.
 *
 * Each tier is a depot (a mutex-protected stack of free blocks, and the slabs they were cut from)
 * behind per-thread caches. A thread's cache takes half a cache's worth from the depot when it
 * runs dry and gives half back when it overflows, so the depot's lock is taken once per many
 * requests. Counters are per thread (only their owner writes them) and summed when read; a
 * thread's cache and counters return to the depot and a retired total when it exits. */
#include "pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "../alloc_internal.h"
#include "../errors_internal.h"
#include "../versioned.h"

#define CACHE_BYTES (256u * 1024u) /* per tier and thread, at least 2 blocks */
#define SLAB_BYTES (64u * 1024u)   /* small blocks are cut from slabs this large */

typedef struct tier {
  size_t block, cache_cap, slab_blocks;
  size_t stride; /* bytes between blocks in a slab: see start() */
  pthread_mutex_t lock;
  void **free_blocks;
  size_t n_free, free_cap;
  void **slabs;
  size_t n_slabs, slab_cap;
  size_t reserved, out, peak_out; /* bytes; blocks out of the depot; the most that ever were */
  size_t total;                   /* blocks ever cut: the free stack has room for all of them */
} tier;

static struct {
  pthread_once_t once;
  atomic_int started;
  pthread_mutex_t config_lock; /* orders vexfs_pool_configure with the start that reads cfg */
  int config_taken;            /* the start has read cfg: configuring is too late */
  vexfs_pool_config cfg;
  tier tiers[VEXFS_POOL_MAX_TIERS];
  unsigned n;
  pthread_key_t key;
  pthread_mutex_t threads_lock;
  vx_pool_cache *threads; /* live threads' caches */
  uint64_t retired[VEXFS_POOL_MAX_TIERS][3]; /* served, misses_empty, too_big of exited threads */
} pool = {.once = PTHREAD_ONCE_INIT,
        .config_lock = PTHREAD_MUTEX_INITIALIZER,
        .threads_lock = PTHREAD_MUTEX_INITIALIZER};

vx_pool_cache vx_pool_no_cache;
_Thread_local vx_pool_cache *vx_pool_mine __attribute__((tls_model("initial-exec"))) = &vx_pool_no_cache;
_Atomic uint8_t vx_pool_tier_near[VX_POOL_NEAR];
_Atomic uint8_t vx_pool_tier_of_log2[65];

VEXFS_API void vexfs_pool_config_init_sized(vexfs_pool_config *c, size_t size) {
  vexfs_pool_config d = {.struct_size = sizeof d,
                         .tier_count = 7,
                         .block_size = {1u << 10, 1u << 12, 1u << 14, 1u << 16, 1u << 18,
                                        1u << 20, 1u << 22},
                         .initial_blocks = {128, 64, 32}};
  vx_versioned_init(c, size, &d, sizeof d);
}

VEXFS_API void(vexfs_pool_config_init)(vexfs_pool_config *c) {
  vexfs_pool_config_init_sized(c, VX_POOL_CONFIG_SIZE_0_1);
}

VEXFS_API vexfs_status vexfs_pool_configure(const vexfs_pool_config *given) {
  const char *fn = "vexfs_pool_configure";
  if (!given) return vx_fail(VEXFS_E_INVALID, "%s: the config is NULL", fn);
  vexfs_pool_config cfg, *c = &cfg;
  vexfs_pool_config_init(c);
  vexfs_status st = vx_versioned_read(fn, "c", &vx_pool_config_kind, c, given);
  if (st != VEXFS_OK) return st;
  if (c->tier_count < 1 || c->tier_count > VEXFS_POOL_MAX_TIERS)
    return vx_fail(VEXFS_E_INVALID, "%s: tier_count is %u; it must be 1..%d", fn, c->tier_count,
                   VEXFS_POOL_MAX_TIERS);
  for (unsigned i = 0; i < c->tier_count; i++) {
    uint32_t b = c->block_size[i];
    if (b < 64 || b > (1u << 30) || (b & (b - 1)) || (i && b <= c->block_size[i - 1]))
      return vx_fail(VEXFS_E_INVALID, "%s: tier %u: block size %u must be a power of two, 64 B .. "
                                      "1 GiB, above the previous tier's",
                     fn, i, b);
    if (c->initial_blocks[i] > (1u << 20))
      return vx_fail(VEXFS_E_INVALID, "%s: tier %u: %u initial blocks is too many", fn, i,
                     c->initial_blocks[i]);
  }
  pthread_mutex_lock(&pool.config_lock);
  int late = pool.config_taken;
  if (!late) pool.cfg = cfg;
  pthread_mutex_unlock(&pool.config_lock);
  if (late)
    return vx_fail(VEXFS_E_STATE, "%s: the pool is in use; configure it before the first "
                                  "collection call",
                   fn);
  return VEXFS_OK;
}

/* ---- depot ---- */

/* Makes room for `need` pointers in *arr (holding n), doubling its capacity *cap. */
static int room_for(void ***arr, size_t n, size_t *cap, size_t need) {
  if (need <= *cap) return 0;
  size_t grown_cap = *cap ? *cap : 64;
  while (grown_cap < need) grown_cap *= 2;
  void **grown = vx_alloc(grown_cap * sizeof *grown);
  if (!grown) return -1;
  if (n) memcpy(grown, *arr, n * sizeof *grown);
  vx_release(*arr);
  *arr = grown;
  *cap = grown_cap;
  return 0;
}

/* Cuts a new slab into blocks on the depot's stack; called with the tier's lock held. The free
 * stack keeps room for every block ever cut, wherever it is, so returns never fail. */
static int grow(tier *t, size_t blocks) {
  if (room_for(&t->slabs, t->n_slabs, &t->slab_cap, t->n_slabs + 1) ||
      room_for(&t->free_blocks, t->n_free, &t->free_cap, t->total + blocks))
    return -1;
  unsigned char *slab = vx_alloc_aligned(blocks * t->stride, VX_CACHE_LINE);
  if (!slab) return -1;
  t->slabs[t->n_slabs++] = slab;
  for (size_t i = 0; i < blocks; i++) t->free_blocks[t->n_free++] = slab + i * t->stride;
  t->reserved += blocks * t->stride;
  t->total += blocks;
  return 0;
}

static void thread_exit(void *arg);

/* The smallest tier whose blocks hold `bytes`, or VX_POOL_NO_TIER. */
static uint8_t smallest_tier_holding(size_t bytes) {
  for (unsigned i = 0; i < pool.n; i++)
    if (bytes <= pool.tiers[i].block) return (uint8_t)i;
  return VX_POOL_NO_TIER;
}

static void start(void) {
  /* a configure racing the first use lands before it, or fails */
  pthread_mutex_lock(&pool.config_lock);
  pool.config_taken = 1;
  if (pool.cfg.struct_size == 0) vexfs_pool_config_init(&pool.cfg);
  pthread_mutex_unlock(&pool.config_lock);
  pool.n = pool.cfg.tier_count;
  for (unsigned i = 0; i < pool.n; i++) {
    tier *t = &pool.tiers[i];
    t->block = pool.cfg.block_size[i];
    /* Blocks of 1 KiB and more sit one cache line apart from a multiple of their size, so that
     * the starts of a slab's blocks do not all map to a few L1 sets (at 1 KiB, 64 blocks' first
     * lines would share 4 of the 64 sets); 6% of space at 1 KiB, 1.5% or less from 4 KiB. */
    t->stride = t->block >= 1024 ? t->block + VX_CACHE_LINE : t->block;
    t->cache_cap = CACHE_BYTES / t->block < 2 ? 2 : CACHE_BYTES / t->block;
    if (t->cache_cap > VX_POOL_CACHE_MAX) t->cache_cap = VX_POOL_CACHE_MAX;
    t->slab_blocks = SLAB_BYTES / t->block < 1 ? 1 : SLAB_BYTES / t->block;
    pthread_mutex_init(&t->lock, NULL);
    if (pool.cfg.initial_blocks[i]) grow(t, pool.cfg.initial_blocks[i]); /* else: on demand */
  }
  for (unsigned q = 0; q < VX_POOL_NEAR; q++)
    atomic_store_explicit(&vx_pool_tier_near[q], smallest_tier_holding(64u * (q + 1)),
                          memory_order_relaxed);
  for (unsigned l = 0; l <= 64; l++)
    atomic_store_explicit(&vx_pool_tier_of_log2[l],
                          l < 63 ? smallest_tier_holding((size_t)1 << l) : VX_POOL_NO_TIER,
                          memory_order_relaxed);
  pthread_key_create(&pool.key, thread_exit);
  atomic_store_explicit(&pool.started, 1, memory_order_release);
}

static inline void ensure_started(void) {
  if (!atomic_load_explicit(&pool.started, memory_order_acquire)) pthread_once(&pool.once, start);
}



/* ---- thread caches ---- */

/* Owner-only counters: a relaxed load and store, not an atomic add (nobody else writes them). */
static void count(_Atomic uint64_t *c) {
  atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1, memory_order_relaxed);
}

static uint32_t cached(const vx_pool_cache *c, unsigned i) {
  return (uint32_t)(vx_pool_state(c, i) & VX_POOL_COUNT_MASK);
}

static uint64_t served(const vx_pool_cache *c, unsigned i) {
  return vx_pool_state(c, i) >> 8;
}

/* Sets the number of cached blocks, keeping the served count. */
static void set_cached(vx_pool_cache *c, unsigned i, uint32_t n) {
  atomic_store_explicit(&c->state[i], (served(c, i) << 8) | n, memory_order_relaxed);
}

static vx_pool_cache *my_cache(void) {
  if (vx_pool_mine != &vx_pool_no_cache) return vx_pool_mine;
  vx_pool_cache *c = vx_calloc(1, sizeof *c);
  if (!c) return NULL;
  for (unsigned i = 0; i < pool.n; i++) c->cap[i] = (uint32_t)pool.tiers[i].cache_cap;
  pthread_mutex_lock(&pool.threads_lock);
  c->next = pool.threads;
  pool.threads = c;
  pthread_mutex_unlock(&pool.threads_lock);
  pthread_setspecific(pool.key, c);
  return vx_pool_mine = c;
}

/* Moves up to n blocks from the cache back to the depot. */
static void flush(vx_pool_cache *c, unsigned i, uint32_t n) {
  tier *t = &pool.tiers[i];
  uint32_t left = cached(c, i);
  pthread_mutex_lock(&t->lock);
  while (n-- && left) {
    t->free_blocks[t->n_free++] = c->blocks[i][--left]; /* room: every block has a place */
    t->out--;
  }
  pthread_mutex_unlock(&t->lock);
  set_cached(c, i, left);
}

static void thread_exit(void *arg) {
  vx_pool_cache *c = arg;
  pthread_mutex_lock(&pool.threads_lock);
  for (vx_pool_cache **p = &pool.threads; *p; p = &(*p)->next)
    if (*p == c) {
      *p = c->next;
      break;
    }
  for (unsigned i = 0; i < pool.n; i++) {
    pool.retired[i][0] += served(c, i);
    pool.retired[i][1] += atomic_load(&c->misses_empty[i]);
    pool.retired[i][2] += atomic_load(&c->too_big[i]);
  }
  pthread_mutex_unlock(&pool.threads_lock);
  for (unsigned i = 0; i < pool.n; i++) flush(c, i, cached(c, i));
  vx_release(c);
  vx_pool_mine = &vx_pool_no_cache;
}

/* ---- get / put beyond the cache hit (pool.h) ---- */

/* A block straight from the depot, for a thread without a cache (out of memory for one). */
static void *depot_get(tier *t) {
  pthread_mutex_lock(&t->lock);
  void *b = NULL;
  if (t->n_free || grow(t, t->slab_blocks) == 0) {
    b = t->free_blocks[--t->n_free];
    if (++t->out > t->peak_out) t->peak_out = t->out;
  }
  pthread_mutex_unlock(&t->lock);
  return b;
}

void *vx_pool_get_slow(size_t bytes) {
  ensure_started();
  size_t i = vx_pool_tier(bytes);
  vx_pool_cache *c = my_cache();
  if (i == VX_POOL_NO_TIER) {
    if (c) count(&c->too_big[pool.n - 1]);
    return vx_alloc_aligned(bytes, VX_CACHE_LINE);
  }
  tier *t = &pool.tiers[i];
  if (!c) return depot_get(t);
  uint32_t n = cached(c, (unsigned)i);
  if (n == 0) { /* refill half a cache from the depot, growing it if empty */
    pthread_mutex_lock(&t->lock);
    int grew = t->n_free == 0;
    if (grew && grow(t, t->slab_blocks) != 0) {
      pthread_mutex_unlock(&t->lock);
      return NULL;
    }
    size_t take = t->cache_cap / 2 ? t->cache_cap / 2 : 1;
    while (take-- && t->n_free) c->blocks[i][n++] = t->free_blocks[--t->n_free];
    t->out += n;
    if (t->out > t->peak_out) t->peak_out = t->out;
    pthread_mutex_unlock(&t->lock);
    if (grew) count(&c->misses_empty[i]);
    set_cached(c, (unsigned)i, n);
  }
  return vx_pool_get(bytes); /* served from the cache now */
}

void vx_pool_put_slow(void *block, size_t bytes) {
  if (!block) return;
  size_t i = vx_pool_tier(bytes);
  if (i == VX_POOL_NO_TIER) {
    vx_release(block);
    return;
  }
  vx_pool_cache *c = vx_pool_mine;
  tier *t = &pool.tiers[i];
  if (c == &vx_pool_no_cache) {
    pthread_mutex_lock(&t->lock);
    t->free_blocks[t->n_free++] = block;
    t->out--;
    pthread_mutex_unlock(&t->lock);
    return;
  }
  flush(c, (unsigned)i, t->cache_cap / 2 ? (uint32_t)(t->cache_cap / 2) : 1); /* it was full */
  vx_pool_put(block, bytes);
}

size_t vx_pool_block_size(size_t bytes) {
  ensure_started();
  size_t i = vx_pool_tier(bytes);
  return i == VX_POOL_NO_TIER ? bytes : pool.tiers[i].block;
}

size_t vx_pool_reserved_bytes(void) {
  if (!atomic_load_explicit(&pool.started, memory_order_acquire)) return 0;
  size_t total = 0;
  for (unsigned i = 0; i < pool.n; i++) {
    pthread_mutex_lock(&pool.tiers[i].lock);
    total += pool.tiers[i].reserved;
    pthread_mutex_unlock(&pool.tiers[i].lock);
  }
  return total;
}

VEXFS_API vexfs_status vexfs_pool_get_stats(vexfs_pool_stats *given) {
  const char *fn = "vexfs_pool_get_stats";
  if (!given) return vx_fail(VEXFS_E_INVALID, "%s: out is NULL", fn);
  vexfs_status st = vx_versioned_check(fn, "out", &vx_pool_stats_kind, given);
  if (st != VEXFS_OK) return st; /* before a bad call starts the pool */
  vexfs_pool_stats stats, *out = &stats;
  vexfs_pool_stats_init(out);
  ensure_started();
  out->tier_count = pool.n;
  uint64_t all_requests = 0, all_hits = 0;
  pthread_mutex_lock(&pool.threads_lock);
  for (unsigned i = 0; i < pool.n; i++) {
    /* Every get from a cache is served (fast or after a refill); those that needed a new slab
     * were misses. Blocks in use are those out of the depot less those sitting in caches. */
    uint64_t got = pool.retired[i][0], empty = pool.retired[i][1], big = pool.retired[i][2];
    uint64_t in_caches = 0;
    for (vx_pool_cache *c = pool.threads; c; c = c->next) {
      got += served(c, i);
      empty += atomic_load_explicit(&c->misses_empty[i], memory_order_relaxed);
      big += atomic_load_explicit(&c->too_big[i], memory_order_relaxed);
      in_caches += cached(c, i);
    }
    vexfs_pool_tier_stats *s = &out->tiers[i];
    tier *t = &pool.tiers[i];
    s->block_size = t->block;
    s->misses_empty = empty < got ? empty : got;
    s->hits = got - s->misses_empty;
    s->misses_too_big = big;
    s->requests = got + big;
    pthread_mutex_lock(&t->lock);
    s->bytes_in_use = t->out > in_caches ? (t->out - in_caches) * t->block : 0;
    s->bytes_reserved = t->reserved;
    s->peak_bytes = (uint64_t)t->peak_out * t->block;
    pthread_mutex_unlock(&t->lock);
    all_requests += s->requests;
    all_hits += s->hits;
  }
  pthread_mutex_unlock(&pool.threads_lock);
  out->hit_rate = all_requests ? (double)all_hits / all_requests : 1.0;
  return vx_versioned_write(fn, "out", &vx_pool_stats_kind, given, out);
}

VEXFS_API void vexfs_pool_stats_init_sized(vexfs_pool_stats *s, size_t size) {
  vexfs_pool_stats zero = {.struct_size = sizeof zero};
  vx_versioned_init(s, size, &zero, sizeof zero);
}

VEXFS_API void(vexfs_pool_stats_init)(vexfs_pool_stats *s) {
  vexfs_pool_stats_init_sized(s, VX_POOL_STATS_SIZE_0_1);
}

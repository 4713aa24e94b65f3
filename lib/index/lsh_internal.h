/* Multi-probe LSH internals shared by its phases: lsh.c (create, training, prepare / publish /
 * add / cancel, remove), lsh_search.c (queries), lsh_persist.c (snapshots).
 *
 * One pool of `sketch_bits` projections (a multiple of 64) is computed per vector. Each gives one
 * bit: whether the projection lies above its threshold (the median of the first batch), or, with a
 * bucket width w (L2), the parity of floor((p - t) / w). The bits are the vector's sketch, kept per
 * slot; table t's key is the sketch's bits [t * bits, (t + 1) * bits), and the bits past
 * tables * bits only sharpen the prefilter. A key's low `dir_bits` bits (or a hash of the key when
 * bits > dir_bits) pick its bucket in the table's directory: an array of slots, grown only by
 * prepare (a new copy) and swapped in by publish.
 *
 * A search projects the query once, probes in each table the `probes` buckets of least
 * perturbation score (sum of squared margins of the flipped bits, generated in order with a heap,
 * Lv et al. 2007), every table's first bucket first, then every table's second, ...; scores every
 * new candidate by the margins of the sketch bits where it differs from the query (a byte-wise
 * lookup table, stopping at the first word whose partial sum passes the current bound), and
 * re-ranks the best `rerank` (LSH_RERANK_PER_EF * ef) exactly.
 *
 * Concurrency: add appends to a bucket below its capacity and publishes the count with a release
 * store; searches load counts with acquire. Bucket arrays change (swap and free) only in publish,
 * under the collection's exclusive lock. Removal runs alone. */
#ifndef VEXFS_LSH_INTERNAL_H
#define VEXFS_LSH_INTERNAL_H

#include <stdatomic.h>
#include <stdint.h>

#include "../chunked.h"
#include "../simd/simd_internal.h"
#include "index.h"

/* Defaults (README.md, "LSH"). */
#define LSH_DEFAULT_TABLES 9u
#define LSH_DEFAULT_PROBES 16u
#define LSH_BUCKET_TARGET 16u /* rows per bucket the default key length aims at, at training */
#define LSH_MIN_AUTO_BITS 6u
#define LSH_MAX_AUTO_BITS 16u
#define LSH_MAX_DIR_BITS 20u  /* a directory holds at most 2^20 buckets */
#define LSH_TRAIN_SAMPLE 4096u /* rows of the first batch whose projections set the thresholds */
#define LSH_MIN_SKETCH_BITS 256u /* the sketch has at least this many bits: extra ones only
                                     sharpen the prefilter */
#define LSH_MAX_PROBES 4096u /* buckets probed per table, at most */
#define LSH_RERANK_PER_EF 4u /* candidates re-ranked exactly per unit of ef */

typedef struct lsh_bucket {
  uint32_t *slots;
  uint32_t count; /* read and written atomically */
  uint32_t cap;
} lsh_bucket;

/* A bucket's replacement array, made by prepare and swapped in by publish. */
typedef struct lsh_grow {
  lsh_bucket *b;
  uint32_t *slots;
  uint32_t cap;
} lsh_grow;

typedef struct lsh {
  /* configuration */
  uint32_t dim;
  vexfs_metric metric;
  uint64_t seed;
  int learned;
  uint32_t cfg_tables, cfg_bits, cfg_probes;
  float cfg_width;
  const vx_kernels *kern;

  /* set by training (the first prepare), visible once published */
  atomic_int trained;     /* set by publish (release); memory() reads it without a lock */
  int training;           /* the pending prepare trained: cancel forgets it */
  uint32_t tables, bits, probes, sketch_bits, sketch_words, dir_bits;
  float width;            /* 0: one cut per projection */
  float max_norm;         /* IP: M^2, the largest squared norm of the first batch */
  float *proj;            /* sketch_bits rows of dim floats */
  float *extra;           /* IP: each projection's weight on sqrt(M^2 - |x|^2) */
  float *thresh;          /* sketch_bits */
  lsh_bucket *dir;        /* tables << dir_bits */
  vx_chunked sketches;    /* sketch_words uint64_t per slot */

  /* pending insert (prepare -> add / cancel) */
  uint64_t *pend;         /* n * sketch_words */
  size_t pend_n;
  lsh_grow *grow;
  size_t ngrow;

  atomic_size_t bucket_bytes; /* in bucket arrays */
} lsh;

static inline uint32_t lsh_load(const uint32_t *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static inline void lsh_store(uint32_t *p, uint32_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }

static inline uint64_t *lsh_sketch(const lsh *h, uint32_t slot) {
  return (uint64_t *)vx_chunked_at(&h->sketches, slot);
}

/* Bits [first, first + n) of a sketch, n <= 64. */
static inline uint64_t lsh_bits_of(const uint64_t *sk, uint32_t first, uint32_t n) {
  uint32_t w = first >> 6, off = first & 63;
  uint64_t v = sk[w] >> off;
  if (off && off + n > 64) v |= sk[w + 1] << (64 - off);
  return n == 64 ? v : v & ((1ull << n) - 1);
}

static inline uint64_t lsh_key(const lsh *h, const uint64_t *sk, uint32_t table) {
  return lsh_bits_of(sk, table * h->bits, h->bits);
}

static inline lsh_bucket *lsh_bucket_of(const lsh *h, uint32_t table, uint64_t key) {
  uint64_t b = key;
  if (h->bits > h->dir_bits) { /* fold a long key onto the directory */
    b ^= b >> 31;
    b *= 0x9e3779b97f4a7c15ull;
    b >>= 64 - h->dir_bits;
  }
  return &h->dir[((size_t)table << h->dir_bits) + b];
}

/* The projections of one vector x (dim floats, squared norm `norm`) under h's metric:
 * out[sketch_bits]. IP adds the reduction coordinate, COSINE divides by the norm. */
void vx_lsh_project(const lsh *h, const float *x, float norm, float *out);
/* The sketch of projections p: bits against the thresholds. Writes sketch_words words. */
void vx_lsh_sketch_of(const lsh *h, const float *p, uint64_t *sk);
/* Distance from projection p of bit i to the nearest boundary of its bit. */
/* Past LSH_FAR_CELLS cells from the threshold, a float has no fraction left to place it within
 * its cell: such projections fall back to one cut (the sign of p - t, margin |p - t|). */
#define LSH_FAR_CELLS 0x1p23f
static inline float lsh_margin(const lsh *h, uint32_t i, float p) {
  float d = p - h->thresh[i];
  if (h->width <= 0) return d < 0 ? -d : d;
  float r = d / h->width;
  if (!(__builtin_fabsf(r) < LSH_FAR_CELLS)) return d < 0 ? -d : d;
  r -= __builtin_floorf(r);
  return h->width * (r < 0.5f ? r : 1.0f - r);
}
static inline int lsh_bit(const lsh *h, uint32_t i, float p) {
  float d = p - h->thresh[i];
  if (h->width <= 0) return d > 0;
  float cell = __builtin_floorf(d / h->width);
  if (!(__builtin_fabsf(cell) < LSH_FAR_CELLS)) return d > 0;
  return (int)((int32_t)cell & 1);
}

vexfs_status vx_lsh_search(void *state, const vx_store *s, size_t rows, const vx_query *q);
void vx_lsh_save(const void *state, const vx_store *s, vx_snap_writer *w);
vexfs_status vx_lsh_load(void *state, const vx_store *s, vx_sec_reader *r);
/* Allocates the trained arrays for the current parameters (zeroed directory). 0 or -1. */
int vx_lsh_alloc_trained(lsh *h);
void vx_lsh_free_trained(lsh *h);

#endif

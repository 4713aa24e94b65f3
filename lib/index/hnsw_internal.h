/* HNSW internals shared by its phases: hnsw.c (create, prepare, quantiser), hnsw_build.c
 * (insert), hnsw_search.c (layer search, queries), hnsw_delete.c (remove and repair).
 *
 * Nodes are keyed by store slot. Each node is one 16-byte-aligned block in a chunked array that
 * never moves: its 8-bit code (what traversal reads), then its level-0 links, then a small head.
 * A collection whose storage is not F32 keeps its codes in the store (store.h, codec.h), which
 * traversal reads instead: its nodes hold links and head only, and the store's codec is its
 * quantiser ("store-coded").
 * Upper levels (a few percent of nodes) have a separately allocated block of per-level links.
 *
 * Concurrency: links are written with release stores under the node's spin lock and read with
 * acquire loads without it, so searches run while inserts relink nodes; a node's code is
 * written before any link to it is published. Removal runs alone. */
#ifndef VEXFS_HNSW_INTERNAL_H
#define VEXFS_HNSW_INTERNAL_H

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "../chunked.h"
#include "../codec.h"
#include "../simd/simd_internal.h"
#include "flat_internal.h"
#include "index.h"
#include "sq8.h"

#define HNSW_NONE UINT32_MAX
#define HNSW_MAX_LEVEL 30

typedef struct hnsw_head {
  atomic_uchar lock; /* spin lock over this node's link lists */
  uint8_t level;     /* top level of this node, at most HNSW_MAX_LEVEL */
  float lx;          /* sq8 correction: sum lo[d] * code[d] */
  float norm;        /* exact squared norm of the vector */
  uint32_t count0;   /* number of level-0 links, read and written atomically */
} hnsw_head;
_Static_assert(sizeof(hnsw_head) == 16, "a node's head fills one 16-byte step of its block");

/* Scratch of one thread: a visited bitset and the two heaps of a layer search. The bitset is
 * cleared word by word where a search set few words (it lists them), so that a search at a
 * million nodes, which visits a few thousand, does not clear 125 KiB each time. */
typedef struct hnsw_pair {
  float d;
  uint32_t slot;
} hnsw_pair;

typedef struct hnsw_heap {
  hnsw_pair *a;
  size_t n, cap;
} hnsw_heap;

typedef struct hnsw_scratch {
  uint64_t *visited;     /* bitset over slots */
  size_t visited_bits;
  uint32_t *touched;     /* words of visited set since the last reset, while they are few */
  size_t ntouched;       /* how many; past touched_cap: too many to list, clear them all */
  size_t touched_cap;    /* an eighth of the words: listing more costs what clearing all does */
  hnsw_heap cand, found; /* min-heap of candidates, max-heap of results */
  hnsw_pair *sel;        /* neighbour candidates of the node being inserted (ef + 1) */
  hnsw_pair *shrink;     /* a neighbour's links while they are re-selected (m0 + 1) */
  uint32_t *fresh;       /* unvisited links of the node being expanded (m0) */
  uint8_t *qcode;        /* query code */
  float *decoded;        /* a node's vector decoded from its code (dim floats) */
  size_t sel_n, m0, qcode_size, dim; /* buffer sizes, to give the blocks back to the pool */
  uint64_t distances;          /* computed by level searches since init */
} hnsw_scratch;

typedef struct hnsw {
  uint32_t dim, m, m0, ef_construction;
  vexfs_metric metric;
  double level_mult;
  uint64_t seed;
  size_t code_size; /* of a node's code: dim rounded up to 16 bytes; 0 when store-coded */
  size_t qcode_size; /* of a query's code */
  int store_coded;   /* traversal reads the store's codes (storage other than F32) */
  size_t traversed_bytes; /* of what traversal reads per node: its code (or row) */
  size_t links0_off, head_off, node_size;
  vx_chunked nodes;  /* node blocks */
  const vx_chunked *nodes_at; /* &nodes; store-coded: the store's codes, whose elements carry each
                                 node's links and head after the code (vx_hnsw_store_extra), so
                                 that they share cache lines as in an inline node */
  vx_chunked upper;  /* uint32_t * per slot: levels 1..level, each [count, m links] */
  _Atomic uint64_t entry; /* (level << 32) | slot, or HNSW_NONE slot when empty */
  pthread_mutex_t entry_lock;
  vx_sq8 sq;
  int sq_fitted;
  float max_norm, pending_max_norm; /* IP: the largest squared norm, M^2 (see hnsw_distance) */
  int codes_precise; /* codes resolve neighbour distances; else traversal reads the f32 rows */
  atomic_int codes_lossless; /* every node's code decodes to its row exactly (vx_sq8_lossless):
                                searches re-rank from codes and never read the rows */
  const vx_store *store;
  float *range_lo, *range_hi; /* per-coordinate range of every vector added so far */
  int refit_pending;          /* publish must refit sq to the range and re-encode every node */
  hnsw_scratch *build;        /* per-worker scratch for `add`, made by prepare */
  atomic_size_t upper_bytes;  /* in upper-level link blocks */
  unsigned build_workers, build_cap;
  const vx_kernels *kern;
} hnsw;

/* ---- node access ---- */
static inline uint8_t *hnsw_code(const hnsw *h, uint32_t slot) {
  return (uint8_t *)vx_chunked_at(h->nodes_at, slot);
}
static inline hnsw_head *hnsw_node_head(const hnsw *h, uint32_t slot) {
  return (hnsw_head *)((unsigned char *)vx_chunked_at(h->nodes_at, slot) + h->head_off);
}
static inline uint32_t *hnsw_links0(const hnsw *h, uint32_t slot) {
  return (uint32_t *)((unsigned char *)vx_chunked_at(h->nodes_at, slot) + h->links0_off);
}
/* The list of `slot` at `level`: *count (atomic) then the links. */
static inline uint32_t *hnsw_list(const hnsw *h, uint32_t slot, uint32_t level,
                                  uint32_t **count) {
  if (level == 0) {
    *count = &hnsw_node_head(h, slot)->count0;
    return hnsw_links0(h, slot);
  }
  uint32_t *up = *(uint32_t **)vx_chunked_at(&h->upper, slot);
  uint32_t *list = up + (size_t)(level - 1) * (1 + h->m);
  *count = list;
  return list + 1;
}
static inline uint32_t hnsw_cap(const hnsw *h, uint32_t level) { return level ? h->m : h->m0; }

static inline uint32_t hnsw_load(const uint32_t *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static inline void hnsw_store(uint32_t *p, uint32_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }

static inline void hnsw_relax(void) {
#if defined(__x86_64__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ volatile("yield");
#endif
}

void vx_hnsw_lock(hnsw_head *n);
void vx_hnsw_unlock(hnsw_head *n);

static inline uint64_t hnsw_pack_entry(uint32_t slot, uint32_t level) {
  return ((uint64_t)level << 32) | slot;
}

/* ---- distances on codes ---- */

/* A query or a node, as traversal sees it. */
typedef struct hnsw_point {
  const float *vec; /* the exact vector */
  const uint8_t *code;
  float lx, norm;
  int is_node; /* distances between nodes may differ from query distances (IP, below) */
} hnsw_point;

static inline hnsw_point hnsw_node_point(const hnsw *h, uint32_t slot) {
  const hnsw_head *hd = hnsw_node_head(h, slot);
  if (h->store_coded) { /* scored on its code alone (codec.h), never on a row */
    hnsw_point p = {NULL, vx_store_code(h->store, slot), vx_store_code_lx(h->store, slot),
                    vx_store_norm(h->store, slot), 1}; /* (a refit moves it: the store's) */
    return p;
  }
  hnsw_point p = {vx_store_row(h->store, slot), hnsw_code(h, slot), hd->lx, hd->norm, 1};
  return p;
}

/* IP between nodes: L2 in the reduced space (see hnsw_distance). */
static inline float hnsw_ip_node_distance(const hnsw *h, float l2, float na, float nb) {
  float ax = sqrtf(fmaxf(h->max_norm - na, 0.0f)), ay = sqrtf(fmaxf(h->max_norm - nb, 0.0f));
  return l2 + (ax - ay) * (ax - ay);
}

/* Exact distance, for traversal when codes are too coarse for the data. */
static inline float hnsw_exact_distance(const hnsw *h, const hnsw_point *a, uint32_t slot) {
  const float *row = vx_store_row(h->store, slot);
  if (h->metric == VEXFS_METRIC_IP && a->is_node)
    return hnsw_ip_node_distance(h, h->kern->l2sq(a->vec, row, h->dim), a->norm,
                                 hnsw_node_head(h, slot)->norm);
  return vx_flat_exact_distance(h->kern, h->metric, a->vec, row, h->dim);
}

/* Approximate distance from codes. Queries get the collection's metric. For IP, whose 1 - dot is
 * no metric (a node is not nearest to itself) and makes poor graphs, nodes are linked by the
 * usual reduction to L2: each node gets one more coordinate sqrt(M^2 - |x|^2), M^2 the largest
 * squared norm, so that |x'-y'|^2 = |x|^2 + |y|^2 - 2x.y + (ax - ay)^2; a query's 1 - q.x ranks
 * nodes as its L2 distance to them in that space does. */
/* The same on the store's codes (store-coded). */
static inline float hnsw_store_code_distance(const hnsw *h, const hnsw_point *a, uint32_t slot) {
  const vx_store *s = h->store;
  const uint8_t *code = vx_store_code(s, slot);
  vx_codec_point p = {a->vec, a->code, a->lx, a->norm};
  if (h->metric == VEXFS_METRIC_L2) return vx_codec_l2(&s->codec, &p, code);
  float norm = vx_store_norm(s, slot); /* (a refit without rows moves it: the store's) */
  if (h->metric == VEXFS_METRIC_IP && a->is_node)
    return hnsw_ip_node_distance(h, vx_codec_l2(&s->codec, &p, code), a->norm, norm);
  return vx_codec_distance(&s->codec, h->metric, &p, code, vx_store_code_lx(s, slot), norm);
}

static inline float hnsw_distance(const hnsw *h, const hnsw_point *a, uint32_t slot) {
  if (h->store_coded) return hnsw_store_code_distance(h, a, slot);
  if (!h->codes_precise) return hnsw_exact_distance(h, a, slot);
  const uint8_t *code = hnsw_code(h, slot);
  float s2 = h->sq.scale * h->sq.scale;
  if (h->metric == VEXFS_METRIC_L2) return s2 * (float)h->kern->u8_l2sq(a->code, code, h->dim);
  const hnsw_head *hd = hnsw_node_head(h, slot);
  if (h->metric == VEXFS_METRIC_IP && a->is_node)
    return hnsw_ip_node_distance(h, s2 * (float)h->kern->u8_l2sq(a->code, code, h->dim), a->norm,
                                 hd->norm);
  float dot = (float)(h->sq.lo_sq + (double)h->sq.scale * (a->lx + hd->lx) +
                      (double)h->sq.scale * h->sq.scale * h->kern->u8_dot(a->code, code, h->dim));
  if (h->metric == VEXFS_METRIC_IP) return 1.0f - dot;
  if (a->norm <= 0 || hd->norm <= 0) return 1.0f;
  return 1.0f - dot / sqrtf(a->norm * hd->norm);
}

/* hnsw_distance of a query (not a node), given up once a partial L2 sum of codes passes bound:
 * then a value above bound, which a layer search drops as it would the distance (codec.h). */
static inline float hnsw_distance_within(const hnsw *h, const hnsw_point *a, uint32_t slot,
                                         float bound) {
  if (h->metric != VEXFS_METRIC_L2 || a->is_node) return hnsw_distance(h, a, slot);
  if (h->store_coded) {
    vx_codec_point p = {a->vec, a->code, a->lx, a->norm};
    return vx_codec_l2_within(&h->store->codec, &p, vx_store_code(h->store, slot), bound);
  }
  if (!h->codes_precise) return hnsw_exact_distance(h, a, slot);
  return vx_u8_l2_within(h->kern, a->code, hnsw_code(h, slot), h->dim, h->sq.scale * h->sq.scale,
                         bound);
}

static inline const char *hnsw_code_bytes(const hnsw *h, uint32_t slot) {
  return h->store_coded     ? (const char *)vx_store_code(h->store, slot)
         : h->codes_precise ? (const char *)hnsw_code(h, slot)
                            : (const char *)vx_store_row(h->store, slot);
}

/* The first line of a neighbour's code as its visit is found, the rest just before it is scored:
 * a node's links list up to 2M neighbours, whose whole codes at once would overrun the cache's
 * outstanding misses. */
static inline void hnsw_prefetch_code(const hnsw *h, uint32_t slot) {
  __builtin_prefetch(hnsw_code_bytes(h, slot));
}
static inline void hnsw_prefetch_rest(const hnsw *h, uint32_t slot, size_t bytes) {
  const char *p = hnsw_code_bytes(h, slot);
  for (size_t off = 64; off < bytes; off += 64) __builtin_prefetch(p + off);
}

/* ---- heaps (min for candidates, max for results) ---- */
int vx_hnsw_heap_push_min(hnsw_heap *hp, float d, uint32_t slot); /* 0, or -1 when it cannot grow */
hnsw_pair vx_hnsw_heap_pop_min(hnsw_heap *hp);
int vx_hnsw_heap_push_max(hnsw_heap *hp, float d, uint32_t slot);
hnsw_pair vx_hnsw_heap_pop_max(hnsw_heap *hp);
/* qsort order of pairs: ascending distance, then slot. */
int vx_hnsw_by_distance(const void *a, const void *b);

/* ---- scratch ---- */
int vx_hnsw_scratch_init(hnsw_scratch *sc, const hnsw *h, size_t slots);
void vx_hnsw_scratch_destroy(hnsw_scratch *sc);
static inline int hnsw_visit(hnsw_scratch *sc, uint32_t slot) { /* 1 if newly visited */
  if (slot >= sc->visited_bits) return 0; /* a node newer than this search: skip it */
  uint64_t bit = 1ull << (slot & 63), *w = &sc->visited[slot >> 6];
  if (*w & bit) return 0;
  if (!*w && sc->ntouched <= sc->touched_cap) { /* counts up to one past the cap */
    if (sc->ntouched < sc->touched_cap) sc->touched[sc->ntouched] = (uint32_t)(slot >> 6);
    sc->ntouched++;
  }
  *w |= bit;
  return 1;
}
void vx_hnsw_scratch_reset(hnsw_scratch *sc);

/* ---- layer search (hnsw_search.c) ---- */

/* Which nodes may enter the results of a layer search. NULL: all. */
typedef struct hnsw_admit {
  const vx_store *store;
  size_t rows;             /* slots at or past this are too new to return */
  const vx_filter *filter; /* may be NULL */
} hnsw_admit;

/* Greedy descent from the entry point down to level `stop` + 1; returns the nearest node found. */
uint32_t vx_hnsw_descend(const hnsw *h, const hnsw_point *q, uint64_t entry, uint32_t stop,
                      float *dist);

/* Best-first search of one level from `start`, keeping the `ef` nearest admitted nodes in
 * sc->found (a max-heap). Candidates are explored whether admitted or not. */
void vx_hnsw_search_level(const hnsw *h, hnsw_scratch *sc, const hnsw_point *q, uint32_t start,
                       float start_dist, uint32_t level, size_t ef, const hnsw_admit *admit);

/* ---- neighbour selection (hnsw_build.c) ---- */

/* Keeps at most `max` of the n candidates (ascending by distance to the base node), by the
 * diversity heuristic: a candidate is dropped when it is nearer to an already kept one than to
 * the base. Returns how many were kept, in place at the front. */
size_t vx_hnsw_select(const hnsw *h, hnsw_pair *cand, size_t n, size_t max);

/* Level of a slot: floor(-ln(u) * mult), u drawn from the seed and the slot, so a build is
 * deterministic whatever the thread count. */
uint32_t vx_hnsw_draw_level(const hnsw *h, uint32_t slot);

/* Inserts one node whose code and head are written. */
void vx_hnsw_insert(hnsw *h, hnsw_scratch *sc, uint32_t slot);

/* Writes a node's code and head (sq8 correction, norm) from its row. */
void vx_hnsw_encode_node(hnsw *h, const vx_store *s, uint32_t slot);
/* Allocates the (zeroed) upper-level blocks of slots for their drawn levels; on failure frees
 * what it made. 0 or -1. */
int vx_hnsw_alloc_upper(hnsw *h, const uint32_t *slots, size_t n);
/* Frees the upper-level blocks of slots (set to NULL). */
void vx_hnsw_free_upper(hnsw *h, const uint32_t *slots, size_t n);

/* Binds the index to its collection's store, for life (the first prepare or load). */
void vx_hnsw_attach(hnsw *h, const vx_store *s);

/* ---- ops ---- */
vexfs_status vx_hnsw_search_queries(void *state, const vx_store *s, size_t rows, const vx_query *q);
vexfs_status vx_hnsw_prepare_remove(void *state, const vx_store *s, void **scratch);
void vx_hnsw_remove(void *state, const vx_store *s, const uint32_t *slots, size_t n, void *scratch);
void vx_hnsw_save_graph(const void *state, const vx_store *s, vx_snap_writer *w);
vexfs_status vx_hnsw_load_graph(void *state, const vx_store *s, vx_sec_reader *r);
/* The planner's model of a filtered search (vx_index_ops.filtered_cost): fitted on Fashion-MNIST
 * (benchmarks/filtered), an unfiltered search with candidate list ef makes about 9 * ef code
 * distances, and share^-0.65 times more when only `share` of the rows may be returned (it keeps
 * exploring until ef admitted nodes are found); a predicate tested on payloads adds
 * VX_PLAN_PREDICATE_COST per visit, a bit test nothing. */
double vx_hnsw_filtered_cost(const void *state, const vx_store *s, const vx_query *q, double share,
                             int bitmap);

#endif

/* IVF index internals: a k-means coarse quantizer and one inverted list per centroid.
 *
 * The index (ivf_index) owns at most one published structure (ivf_struct: centroids, lists, the
 * slot -> (list, position) map, the 8-bit quantiser), which searches reach through one acquire
 * load. Before the collection first holds vx_ivf_train_rows() rows there is none and searches are
 * exact. A (re)training builds a new structure aside inside an insert's add, publishes it with
 * one release store and retires the old one, which the next publish, remove or destroy frees (they
 * run under the collection's exclusive lock, so no search still reads it).
 *
 * A list holds its rows' slots, codes and per-row terms, contiguous. F32 codes are a row's
 * projection on proj_dims orthonormal directions of largest variance (principal axes of the
 * training sample): from them and the rest of each norm a scan bounds a row's distance from below
 * and reads the row itself from the store only when the bound leaves it a candidate (README.md
 * "IVF"). SQ8 codes hold the coordinates in the order `perm` (decreasing variance), heads apart
 * from tails, so that an L2 scan can abandon a row after its head. Entries below `n` are complete: add writes an
 * entry and then stores n + 1 with release, searches load n with acquire. A list's buffers grow
 * only in prepare (new buffers, filled with the old contents) and are swapped in at publish. */
#ifndef VEXFS_IVF_INTERNAL_H
#define VEXFS_IVF_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "../simd/simd_internal.h"
#include "index.h"
#include "sq8.h"

#define IVF_TRAIN_MIN 1024u     /* live rows at which the first training runs, or sooner: */
#define IVF_MIN_PER_LIST 32u    /* at this many rows per list when ivf_nlist is set */
#define IVF_RETRAIN_FACTOR 2u   /* retrain once live rows reach this many times the trained */
#define IVF_SAMPLE_PER_LIST 32u /* training sample: this many rows per list, at most */
#define IVF_ITERATIONS 10u      /* k-means (Lloyd) iterations after k-means++ seeding, */
#define IVF_COARSE_ITERATIONS 6u /* the first of them over a subsample: */
#define IVF_COARSE_SHARE 4u     /* this share of the training sample */
#define IVF_NO_PLACE UINT64_MAX /* slot map entry of a slot in no list */
#define IVF_PROJ_DIMS 256u      /* F32: principal directions a code holds (fewer when dim is) */
#define IVF_TERMS 2u            /* floats per list entry beside its code (ivf_list.terms) */

typedef struct ivf_list {
  _Atomic uint32_t n; /* entries searches may read */
  uint32_t cap;
  uint32_t *slots;
  uint8_t *codes; /* f32 coordinates or 8-bit codes in perm order: cap heads (the first
                     head_dims coordinates) of head_bytes, then cap tails of tail_bytes */
  float *terms;   /* IVF_TERMS per entry: F32 |x - Px| and 1/|x|; SQ8 the code's error
                     |x - decode(code)| (L2) or sum lo*code (IP, COSINE), and 1/|x| */
  /* a prepared insert: the rows bound here, and grown buffers swapped in at publish */
  uint32_t incoming, new_cap;
  uint32_t *new_slots;
  uint8_t *new_codes;
  float *new_terms;
} ivf_list;

typedef struct ivf_struct {
  uint32_t dim, nlist;
  size_t cstride;   /* floats between centroids (dim rounded up to 16) */
  float *cent;      /* nlist * cstride, 64-byte aligned; unit length for COSINE */
  float *cnorm;     /* nlist squared norms */
  float *panels;    /* centroids packed for gemm_tile: ceil(nlist / nr) panels of dim * nr */
  uint8_t *ccodes;  /* L2: the centroids' codes (nlist * dim, perm order, coded by sq), which a
                       search bounds lists by: a quarter of the bytes of cent */
  float *cerr;      /* L2: nlist code errors |c - decode(ccode)|, which make those bounds */
  ivf_list *lists;  /* nlist */
  uint64_t *where;  /* per slot below where_cap: list << 32 | position, or IVF_NO_PLACE */
  size_t where_cap;
  uint32_t *perm;   /* dim: the coordinate of the row that code position d holds (SQ8) */
  float *proj;      /* F32: proj_dims orthonormal rows of dim floats, 64-byte aligned */
  float *tmp;       /* dim floats then dim bytes: a row in perm order and its code, for the one
                       writer (add, build, load) */
  vx_sq8 sq;        /* perm order. SQ8: fitted to the rows the structure was built over (on L2
                       outliers apart, sq8.h); F32 on L2: to the centroids (only their codes use
                       it), when they are coded */
  uint64_t trained_live; /* live rows when it was trained */
  size_t bytes;               /* held by this structure */
  atomic_size_t *owner_bytes; /* the index's total, which `bytes` is part of */
} ivf_struct;

typedef struct ivf_index {
  uint32_t dim;
  vexfs_metric metric;
  vexfs_ivf_codes codes;
  uint32_t nlist_cfg, nprobe_cfg;
  uint64_t seed;
  uint32_t trainings;        /* completed trainings: the next one's sample seed */
  size_t code_size;          /* bytes per list entry's code: 4 * dim (F32) or dim (SQ8) */
  size_t head_dims, head_bytes, tail_bytes; /* its split (see ivf_list) */
  size_t centroid_head;      /* L2: coordinates of a centroid's code compared before the rest */
  size_t proj_dims;          /* F32: IVF_PROJ_DIMS or dim if smaller; SQ8: 0 */
  const vx_kernels *kern;
  _Atomic(ivf_struct *) cur; /* NULL until trained */
  ivf_struct *retired;       /* replaced, freed at the next exclusive point */
  uint32_t *pending;         /* prepare's list for each row of the insert, or NULL */
  size_t npending;
  atomic_size_t bytes;       /* held by the index and its structures (the memory op) */
} ivf_index;

static inline uint8_t *ivf_head(const ivf_index *ix, const ivf_list *L, size_t i) {
  return L->codes + i * ix->head_bytes;
}
static inline uint8_t *ivf_tail(const ivf_index *ix, const ivf_list *L, size_t i) {
  return L->codes + (size_t)L->cap * ix->head_bytes + i * ix->tail_bytes;
}

/* ---- ivf_train.c ---- */
/* The list of each of n rows (row i at rows[i]): its nearest centroid (L2) or the one of
 * largest dot product (IP, COSINE). Blocked through gemm_tile; the result does not depend on how
 * rows are grouped. 0, or -1 when out of memory (nothing written). */
int vx_ivf_assign(const ivf_index *ix, const ivf_struct *st, const float *const *rows, size_t n,
                  uint32_t *out);
/* Trains a new structure over every live row of s, with nlist lists, fills its lists and slot map
 * and returns it, or NULL when out of memory. Deterministic given seed, the rows and their slots. */
ivf_struct *vx_ivf_build(ivf_index *ix, const vx_store *s, uint32_t nlist, uint64_t seed);
/* F32: fits st's projection (proj_dims axes) to a sample of the live rows of s drawn from seed:
 * for a snapshot that holds fewer axes than this version keeps. 0, or -1 when out of memory (or
 * s holds no row). */
int vx_ivf_fit_axes(const ivf_index *ix, ivf_struct *st, const vx_store *s, uint64_t seed);
/* Packs st's centroids into gemm panels and computes their norms. 0 or -1. */
int vx_ivf_pack(const ivf_index *ix, ivf_struct *st);
/* L2: codes st's centroids into ccodes and their errors into cerr, with its quantiser (SQ8:
 * fitted to the rows; F32: fitted here to the centroids' range, outliers apart, widened). 0, or -1
 * when out of memory. */
int vx_ivf_code_centroids(const ivf_index *ix, ivf_struct *st);

/* ---- ivf.c ---- */
ivf_struct *vx_ivf_struct_new(const ivf_index *ix, uint32_t nlist);
void vx_ivf_struct_free(ivf_struct *st);
/* Grows the slot map to cover `slots` slots. 0 or -1. */
int vx_ivf_where_reserve(ivf_struct *st, size_t slots);
/* Gives list l room for `cap` entries (in place: only for a structure no search sees). 0 or -1. */
int vx_ivf_list_reserve(const ivf_index *ix, ivf_struct *st, uint32_t l, uint32_t cap);
/* Appends slot to list l (room reserved), publishing it to searches; F32: its projection is
 * `projected` when given (proj_dims floats), else computed. */
void vx_ivf_append(const ivf_index *ix, ivf_struct *st, const vx_store *s, uint32_t l,
                   uint32_t slot, const float *projected);
/* Live rows at which the first training runs (IVF_TRAIN_MIN, IVF_MIN_PER_LIST). */
size_t vx_ivf_train_rows(const ivf_index *ix);
/* The number of lists a training over `live` rows makes. */
uint32_t vx_ivf_nlist_for(const ivf_index *ix, size_t live);

/* ---- ivf_search.c ---- */
vexfs_status vx_ivf_search(void *state, const vx_store *s, size_t rows, const vx_query *q);
/* The planner's model of a filtered search (vx_index_ops.filtered_cost): nlist centroid
 * distances, then the probed lists' rows, each tested against the filter before any distance
 * (VX_PLAN_PREDICATE_COST unless a bitmap) and scored when admitted (about one code distance:
 * F32 bounds a row by its projection and reads few rows); when the probed lists hold fewer than
 * k admitted rows, the exact scan that follows. Negative before the first training (exact). */
double vx_ivf_filtered_cost(const void *state, const vx_store *s, const vx_query *q, double share,
                            int bitmap);
/* SQ8: candidates a search keeps for the re-rank on the f32 rows, at most, for k results. */
size_t vx_ivf_rerank(size_t k);

/* ---- ivf_persist.c ---- */
void vx_ivf_save(const void *state, const vx_store *s, vx_snap_writer *w);
vexfs_status vx_ivf_load(void *state, const vx_store *s, vx_sec_reader *r);

#endif

/* Pieces shared by the two exact-search paths: flat.c (one query streams the rows) and
 * flat_blocked.c (a block of queries against tiles of rows, compute-bound). */
#ifndef VEXFS_FLAT_INTERNAL_H
#define VEXFS_FLAT_INTERNAL_H

#include "../simd/simd_internal.h"
#include "../topk.h"
#include "index.h"

/* The exact distance between two vectors under `metric`, through the chosen kernels. */
float vx_flat_exact_distance(const vx_kernels *kern, vexfs_metric metric, const float *a,
                             const float *b, size_t dim);

/* Whether row `slot` may be returned: it holds a vector and the filter (if any) admits it. */
static inline int vx_flat_admits(const vx_store *store, const vx_filter *filter, size_t slot) {
  return vx_store_id(store, slot) != VX_NO_ID &&
         (!filter || filter->admit(filter->ctx, (uint32_t)slot));
}

/* Recomputes each hit's distance to query `qi` of q exactly, from the stored row. */
void vx_flat_rescore(const vx_store *store, const vx_query *q, size_t qi, vx_topk *hits);

/* Answers query `qi` of q alone by an exact search over the rows below `rows` (no hits when out
 * of memory): the fallback of approximate indexes that cannot give k hits. */
void vx_flat_answer_one(const vx_store *store, size_t rows, const vx_query *q, size_t qi);

/* Sorts a query's hits and writes its output row (index `qi` of q). */
void vx_flat_emit(const vx_query *q, size_t qi, vx_topk *hits);

/* Answers query `qi` of q on the streaming path: its distance to each row below `rows` (or to
 * each listed row) from the one-to-many kernels, kept in top. Returns the distances computed.
 * This is the reference the blocked path must agree with, and its fallback. */
uint64_t vx_flat_stream(const vx_kernels *kern, const vx_store *store, size_t rows,
                        const vx_query *q, size_t qi, vx_topk *top);

/* Answers q over the rows below `rows` of a coded store (flat_coded.c): codes scored, the best
 * re-scored on their vectors; k_eff = min(k, rows q may return). */
vexfs_status vx_flat_coded_search(const vx_store *s, size_t rows, const vx_query *q,
                                  size_t k_eff);

/* How the blocked path runs a search: queries per task, scratch floats per worker, and the
 * candidates it keeps per query (hits entries per query). */
typedef struct vx_blocked_plan {
  size_t queries_per_task;
  size_t scratch_floats; /* per worker, in 64-byte-aligned floats */
  size_t candidates;
} vx_blocked_plan;

/* Whether the blocked path suits this search, and its plan. */
int vx_blocked_plan_for(const vx_kernels *kern, size_t dim, const vx_query *q, size_t k_eff,
                        vx_blocked_plan *plan);

/* Answers queries [q0, q0 + nb) of q over the rows below `rows`, exactly: the same hits and
 * distances as vx_flat_stream gives each of them. scratch holds plan.scratch_floats floats; hits
 * holds nb * plan.candidates entries. Returns the distances computed. */
uint64_t vx_blocked_task(const vx_kernels *kern, const vx_store *store, size_t rows,
                         const vx_query *q, size_t q0, size_t nb, size_t k_eff,
                         const vx_blocked_plan *plan, float *scratch, vx_hit *hits);

#endif

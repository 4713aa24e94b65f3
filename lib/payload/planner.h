/* Filter-aware planning: for one filtered search, estimate how many rows the filter admits
 * (counted from payload indexes when they cover a condition, else sampled) and choose how to
 * answer, by comparing the work each way would take (the model is in planner.c):
 *   few   -> the admitted rows are listed (from payload indexes, else by testing every row) and
 *            scored exactly;
 *   many  -> the graph is traversed with the filter as a predicate: a bitmap of admitted rows when
 *            indexes give them exactly, else the filter tested on payloads. The search keeps
 *            exploring until it holds ef admitted nodes, and doubles ef while it still finds fewer
 *            than k (index/hnsw_search.c), as pgvector's iterative scan does;
 *   no graph (flat, or AUTO while small) -> the listed rows when indexes give them, else a scan
 *            that tests the predicate before scoring. */
#ifndef VEXFS_PLANNER_H
#define VEXFS_PLANNER_H

#include <stddef.h>
#include <stdint.h>

#include "../store.h"
#include "filter.h"
#include "payload_index.h"
#include "payloads.h"

/* Units of the planner's work model (planner.c): one distance on 8-bit codes with its
 * bookkeeping is 1; an approximate index's model (vx_index_ops.filtered_cost) uses the same. */
#define VX_PLAN_EXACT_COST 2.0     /* an exact f32 distance to a row at a random place */
#define VX_PLAN_PREDICATE_COST 0.5 /* testing the filter on a candidate's payload */

/* The approximate index's work for the search when only `share` of the live rows pass and the
 * filter is tested on each candidate (bitmap: by a bit test, costing nothing). */
typedef double (*vx_index_cost_fn)(const void *ctx, double share, int bitmap);

typedef struct vx_plan_input {
  const vx_filter_prog *filter;
  vx_pindex *const *indexes;
  size_t nindexes;
  const vx_payloads *payloads;
  const vx_store *store;
  size_t rows;                 /* published rows */
  vx_index_cost_fn index_cost; /* NULL: the collection answers exactly (flat, AUTO while small) */
  const void *index_ctx;
} vx_plan_input;

/* Memory comes from the scratch pool: planning makes no allocator call after warm-up. */
typedef struct vx_plan {
  int exact;        /* answer by scoring `slots` exactly */
  uint32_t *slots;  /* the admitted rows, ascending (in `list`) */
  size_t n;
  uint64_t *bitmap; /* else, when not NULL: bit `slot` set for each admitted row (vx_bitmap_admit) */
  size_t bitmap_bytes;
  vx_buf list;
} vx_plan;

vexfs_status vx_plan_filter(const vx_plan_input *in, vx_plan *out);
void vx_plan_release(vx_plan *p);

/* The predicate the index tests while searching: filter 0 of prog over payloads and ids. */
typedef struct vx_filter_ctx {
  const vx_filter_prog *filter;
  const vx_payloads *payloads;
  const vx_store *store;
} vx_filter_ctx;
int vx_filter_admit(const void *ctx, uint32_t slot);
/* The same from a plan's bitmap (ctx). */
int vx_bitmap_admit(const void *bits, uint32_t slot);

#endif

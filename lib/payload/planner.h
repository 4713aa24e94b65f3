/* Filter-aware planning: for one filtered search, estimate how many rows the filter admits and
 * choose how to answer.
 *   few   -> the admitted rows are listed (from payload indexes when they cover the filter, else
 *            by testing every row) and scanned exactly;
 *   many  -> the graph is traversed with the filter as a predicate, its candidate list widened by
 *            1/share and doubled again while it still finds fewer than k (index/hnsw_search.c);
 *   no graph (flat, or AUTO while small) -> listed rows when an index gives them, else a scan
 *            that tests the predicate before scoring.
 * "Few" is decided by comparing the work each way would do (see plan_filter in planner.c). */
#ifndef VEXFS_PLANNER_H
#define VEXFS_PLANNER_H

#include <stddef.h>
#include <stdint.h>

#include "../store.h"
#include "filter.h"
#include "payload_index.h"
#include "payloads.h"

typedef struct vx_plan_input {
  const vx_filter_prog *filter;
  vx_pindex *const *indexes;
  size_t nindexes;
  const vx_payloads *payloads;
  const vx_store *store;
  size_t rows; /* published rows */
  size_t ef;   /* the search's candidate-list size */
  int graph;   /* the collection's index traverses a graph */
} vx_plan_input;

typedef struct vx_plan {
  int exact;       /* answer by scoring `slots` exactly */
  uint32_t *slots; /* the admitted rows, ascending (vx_release) */
  size_t n;
  double share;    /* otherwise: estimated share of live rows admitted, in (0, 1] */
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

#endif

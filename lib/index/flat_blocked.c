/* Blocked exact search for batches of queries.
 *
 * A task takes up to `mc` queries and packs them into panels of gemm_nr queries (k-major, the
 * layout the micro-kernel streams). It then walks the rows in groups of gemm_mr: for each slice
 * of at most KC coordinates, the group's slice stays in L1 while every query panel streams past
 * it, accumulating dot products in a small tile. Distances come from the dot products and the
 * stored squared norms (L2 = ‖x‖² + ‖y‖² − 2x·y), so the work is compute-bound, not
 * memory-bound. The final k hits of each query are rescored exactly (flat.c). */
#include <math.h>
#include <string.h>

#include "flat_internal.h"

#define KC 256             /* coordinates per slice: a group's slice fits L1 */
#define PACK_FLOATS 131072 /* packed queries per task: 512 KiB, half of L2 */
#define MAX_BLOCK 256      /* queries per task, at most */
#define MIN_QUERIES 3      /* below this, streaming each query is faster */
#define MAX_K 1024         /* larger k keeps heaps out of cache: stream instead */

static size_t round_up(size_t x, size_t to) { return (x + to - 1) / to * to; }

/* Scratch layout of one worker, in floats, each part 64-byte aligned. */
typedef struct layout {
  size_t pack, tile, edge, qnorm, total;
} layout;

static layout layout_for(const vx_kernels *kern, size_t dim, size_t stride, size_t mc) {
  layout l;
  l.pack = 0;
  l.tile = l.pack + round_up(mc * dim, 16);
  l.edge = l.tile + round_up(kern->gemm_mr * mc, 16);
  l.qnorm = l.edge + round_up(kern->gemm_mr * stride, 16);
  l.total = l.qnorm + round_up(mc, 16);
  return l;
}

int vx_blocked_plan_for(const vx_kernels *kern, size_t dim, const vx_query *q, size_t k_eff,
                        vx_blocked_plan *plan) {
  if (q->nq < MIN_QUERIES || k_eff > MAX_K) return 0;
  size_t nr = kern->gemm_nr;
  size_t mc = PACK_FLOATS / dim / nr * nr;
  if (mc < nr) mc = nr;
  if (mc > MAX_BLOCK) mc = MAX_BLOCK / nr * nr;
  /* enough tasks to keep every thread busy */
  size_t share = round_up((q->nq + q->threads - 1) / q->threads, nr);
  if (share < mc) mc = share;
  plan->queries_per_task = mc;
  plan->scratch_floats = layout_for(kern, dim, round_up(dim, 16), mc).total;
  plan->candidates = k_eff;
  return 1;
}

typedef struct task {
  const vx_kernels *kern;
  const vx_store *store;
  vexfs_metric metric;
  size_t nb, panels, ldc;
  const float *pack;
  const float *qscale; /* per query: ‖q‖² for L2, 1/‖q‖ (or 0) for COSINE */
  float *tile, *edge;
  vx_topk *tops;
  float *bounds; /* per query: vx_topk_bound, cached */
} task;

static void pack_queries(const float *queries, size_t nb, size_t dim, size_t nr, size_t panels,
                         float *pack) {
  for (size_t p = 0; p < panels; p++) {
    float *panel = pack + p * dim * nr;
    for (size_t j = 0; j < nr; j++) {
      size_t qi = p * nr + j;
      const float *src = qi < nb ? queries + qi * dim : NULL;
      for (size_t k = 0; k < dim; k++) panel[k * nr + j] = src ? src[k] : 0.0f;
    }
  }
}

/* Turns one tile row of dot products into distances, in place. One loop per metric, with no
 * branch inside, so the compiler vectorises it. For COSINE, qscale holds 1/‖q‖ (0 for a zero
 * query), so a zero vector on either side gives 1 − 0 = 1. */
static void distances_in_place(vexfs_metric metric, float *row, size_t nb, float xn,
                               const float *qscale) {
  switch (metric) {
  case VEXFS_METRIC_IP:
    for (size_t j = 0; j < nb; j++) row[j] = 1.0f - row[j];
    break;
  case VEXFS_METRIC_COSINE: {
    float xs = xn > 0.0f ? 1.0f / sqrtf(xn) : 0.0f;
    for (size_t j = 0; j < nb; j++) row[j] = 1.0f - row[j] * (xs * qscale[j]);
    break;
  }
  default:
    for (size_t j = 0; j < nb; j++) { /* rounding can dip below 0 for near-duplicates */
      float d = qscale[j] + xn - 2.0f * row[j];
      row[j] = d > 0.0f ? d : 0.0f;
    }
    break;
  }
}

/* Offers the tile's rows to the queries' heaps. Almost every distance loses to its heap's bound,
 * so the scan is a compare per entry and the pushes are rare. */
static void offer_tile(task *t, size_t first_slot, size_t rows) {
  for (size_t r = 0; r < rows; r++) {
    size_t slot = first_slot + r;
    float *dist = t->tile + r * t->ldc;
    uint64_t id = vx_store_id(t->store, slot);
    if (id == VX_NO_ID) continue; /* a free row */
    distances_in_place(t->metric, dist, t->nb, vx_store_norm(t->store, slot), t->qscale);
    for (size_t j = 0; j < t->nb; j++) {
      if (dist[j] <= t->bounds[j]) {
        vx_topk_push(&t->tops[j], dist[j], (uint32_t)slot, id);
        t->bounds[j] = vx_topk_bound(&t->tops[j]);
      }
    }
  }
}

static void blocked_run(void *arg, size_t first, const float *rows, size_t n) {
  task *t = arg;
  const vx_kernels *kern = t->kern;
  size_t mr = kern->gemm_mr, nr = kern->gemm_nr;
  size_t dim = t->store->dim, stride = t->store->stride;
  size_t slices = (dim + KC - 1) / KC, kc_step = (dim + slices - 1) / slices;
  for (size_t r0 = 0; r0 < n; r0 += mr) {
    size_t here = n - r0 < mr ? n - r0 : mr;
    const float *a = rows + r0 * stride;
    if (here < mr) { /* last, partial group: copy into a zero-padded block of mr rows */
      memset(t->edge, 0, mr * stride * sizeof(float));
      memcpy(t->edge, a, here * stride * sizeof(float));
      a = t->edge;
    }
    for (size_t k0 = 0; k0 < dim; k0 += kc_step) {
      size_t kc = dim - k0 < kc_step ? dim - k0 : kc_step;
      for (size_t p = 0; p < t->panels; p++)
        kern->gemm_tile(kc, a + k0, stride, t->pack + p * dim * nr + k0 * nr, t->tile + p * nr,
                        t->ldc, k0 > 0);
    }
    offer_tile(t, first + r0, here);
  }
}

uint64_t vx_blocked_task(const vx_kernels *kern, const vx_store *store, size_t rows,
                         const vx_query *q, size_t q0, size_t nb, size_t k_eff,
                         const vx_blocked_plan *plan, float *scratch, vx_hit *hits) {
  size_t dim = store->dim, nr = kern->gemm_nr;
  size_t panels = (nb + nr - 1) / nr;
  layout l = layout_for(kern, dim, store->stride, panels * nr);
  vx_topk tops[MAX_BLOCK];
  float bounds[MAX_BLOCK];
  task t = {.kern = kern, .store = store, .metric = q->metric, .nb = nb, .panels = panels,
            .ldc = panels * nr, .pack = scratch + l.pack, .qscale = scratch + l.qnorm,
            .tile = scratch + l.tile, .edge = scratch + l.edge, .tops = tops, .bounds = bounds};
  const float *queries = q->queries + q0 * dim;
  pack_queries(queries, nb, dim, nr, panels, scratch + l.pack);
  for (size_t j = 0; j < nb; j++) {
    float qn = kern->dot(queries + j * dim, queries + j * dim, dim);
    if (q->metric == VEXFS_METRIC_COSINE) qn = qn > 0.0f ? 1.0f / sqrtf(qn) : 0.0f;
    scratch[l.qnorm + j] = qn;
    vx_topk_init(&tops[j], hits + j * plan->candidates, k_eff);
    bounds[j] = INFINITY;
  }
  vx_store_each_run(store, rows, blocked_run, &t);
  for (size_t j = 0; j < nb; j++) vx_flat_emit(store, q, q0 + j, &tops[j], 1);
  return (uint64_t)nb * rows;
}

#include "planner.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../buf.h"
#include "../errors_internal.h"
#include "../pool/pool.h"

/* Work model, in the units of planner.h (one distance on 8-bit codes with its bookkeeping): the
 * approximate index models its own search (vx_index_ops.filtered_cost; HNSW's is fitted on
 * Fashion-MNIST in benchmarks/filtered). Scoring a listed row exactly costs VX_PLAN_EXACT_COST;
 * testing the filter on a listed row LISTED_EVAL_COST, and on every row in order (to list the
 * admitted rows without an index) SCAN_EVAL_COST. */
#define LISTED_EVAL_COST 0.5
#define SCAN_EVAL_COST 0.1
#define SAMPLE_ROWS 1024u /* rows tested to estimate a filter's share without an index */

#define UNKNOWN SIZE_MAX

int vx_filter_admit(const void *arg, uint32_t slot) {
  const vx_filter_ctx *c = arg;
  return vx_filter_eval(c->filter, 0, vx_payload_of(c->payloads, slot), vx_store_id(c->store, slot));
}

int vx_bitmap_admit(const void *bits, uint32_t slot) {
  return (int)((((const uint64_t *)bits)[slot >> 6] >> (slot & 63)) & 1);
}

static vx_pindex *index_for(const vx_plan_input *in, const vx_fnode *n, vexfs_payload_index_kind kind) {
  for (size_t i = 0; i < in->nindexes; i++)
    if (vx_pindex_kind(in->indexes[i]) == kind &&
        vx_pindex_serves(in->indexes[i], in->filter->segs + n->seg, n->nseg))
      return in->indexes[i];
  return NULL;
}

/* An upper bound on the rows node i admits, from indexes and id lists; UNKNOWN when none
 * applies. */
static size_t estimate(const vx_plan_input *in, uint32_t i) {
  const vx_filter_prog *f = in->filter;
  const vx_fnode *n = &f->nodes[i];
  size_t total = 0, best = UNKNOWN;
  vx_pindex *ix;
  switch (n->kind) {
  case VX_F_MATCH:
    if (!(ix = index_for(in, n, VEXFS_PAYLOAD_INDEX_KEYWORD))) return UNKNOWN;
    for (uint32_t v = 0; v < n->count; v++) {
      size_t rows;
      vx_pindex_rows_with(ix, f->values[n->first + v], &rows);
      total += rows;
    }
    return total;
  case VX_F_RANGE:
    ix = index_for(in, n, VEXFS_PAYLOAD_INDEX_NUMERIC);
    return ix ? vx_pindex_rows_in(ix, n->bound, NULL) : UNKNOWN;
  case VX_F_HAS_ID: return n->count;
  case VX_F_ALL:
    for (uint32_t k = 0; k < n->count; k++) {
      size_t e = estimate(in, f->kids[n->first + k]);
      if (e < best) best = e;
    }
    return best;
  case VX_F_ANY:
    if (n->count == 0) return UNKNOWN;
    for (uint32_t k = 0; k < n->count; k++) {
      size_t e = estimate(in, f->kids[n->first + k]);
      if (e == UNKNOWN) return UNKNOWN;
      total += e;
    }
    return total;
  default: return UNKNOWN;
  }
}

/* Appends the rows node i may admit (a superset, with repeats) to out; estimate(i) != UNKNOWN. */
static void candidates(const vx_plan_input *in, uint32_t i, vx_buf *out) {
  const vx_filter_prog *f = in->filter;
  const vx_fnode *n = &f->nodes[i];
  switch (n->kind) {
  case VX_F_MATCH: {
    vx_pindex *ix = index_for(in, n, VEXFS_PAYLOAD_INDEX_KEYWORD);
    for (uint32_t v = 0; v < n->count; v++) {
      size_t rows;
      const uint32_t *r = vx_pindex_rows_with(ix, f->values[n->first + v], &rows);
      vx_buf_put(out, r, rows * sizeof *r);
    }
    return;
  }
  case VX_F_RANGE: {
    vx_pindex *ix = index_for(in, n, VEXFS_PAYLOAD_INDEX_NUMERIC);
    size_t rows = vx_pindex_rows_in(ix, n->bound, NULL);
    if (rows && vx_buf_reserve(out, rows * sizeof(uint32_t)) == 0)
      out->n += vx_pindex_rows_in(ix, n->bound, (uint32_t *)(out->p + out->n)) * sizeof(uint32_t);
    return;
  }
  case VX_F_HAS_ID:
    for (uint32_t k = 0; k < n->count; k++) {
      uint32_t slot;
      if (vx_idmap_find(&in->store->map, f->ids[n->first + k], &slot)) vx_buf_put(out, &slot, sizeof slot);
    }
    return;
  case VX_F_ALL: { /* the most selective child; the filter itself is tested on each row later */
    uint32_t pick = 0;
    size_t best = UNKNOWN;
    for (uint32_t k = 0; k < n->count; k++) {
      size_t e = estimate(in, f->kids[n->first + k]);
      if (e < best) best = e, pick = f->kids[n->first + k];
    }
    candidates(in, pick, out);
    return;
  }
  case VX_F_ANY:
    for (uint32_t k = 0; k < n->count; k++) candidates(in, f->kids[n->first + k], out);
    return;
  default: return;
  }
}

/* Whether the rows node i admits are exactly what its indexes list (no condition left to test on
 * payloads): indexed match and range, has_id, and groups of those. */
static int covered(const vx_plan_input *in, uint32_t i) {
  const vx_filter_prog *f = in->filter;
  const vx_fnode *n = &f->nodes[i];
  switch (n->kind) {
  case VX_F_MATCH: return index_for(in, n, VEXFS_PAYLOAD_INDEX_KEYWORD) != NULL;
  case VX_F_RANGE: return index_for(in, n, VEXFS_PAYLOAD_INDEX_NUMERIC) != NULL;
  case VX_F_HAS_ID: return 1;
  case VX_F_ALL:
  case VX_F_ANY:
    if (n->count == 0) return 0;
    for (uint32_t k = 0; k < n->count; k++)
      if (!covered(in, f->kids[n->first + k])) return 0;
    return 1;
  default: return 0;
  }
}

/* Sets in bits (words 64-bit words, zeroed) the rows node i admits; covered(i). 0, or -1 when
 * out of memory. */
static int fill_bitmap(const vx_plan_input *in, uint32_t i, uint64_t *bits, size_t words) {
  const vx_fnode *n = &in->filter->nodes[i];
  if (n->kind != VX_F_ALL && n->kind != VX_F_ANY) {
    vx_buf list = {.pooled = 1};
    candidates(in, i, &list);
    const uint32_t *slots = (const uint32_t *)list.p;
    for (size_t k = 0; k < list.n / sizeof *slots; k++)
      if (slots[k] < in->rows) bits[slots[k] >> 6] |= 1ull << (slots[k] & 63);
    int failed = list.failed;
    vx_buf_free(&list);
    return failed ? -1 : 0;
  }
  /* a group: combine its children's bitmaps */
  uint64_t *child = vx_pool_get(words * sizeof *child);
  if (!child) return -1;
  int rc = 0;
  for (uint32_t k = 0; k < n->count && rc == 0; k++) {
    uint64_t *target = k == 0 ? bits : child;
    if (k > 0) memset(child, 0, words * sizeof *child);
    rc = fill_bitmap(in, in->filter->kids[n->first + k], target, words);
    for (size_t w = 0; k > 0 && w < words; w++) bits[w] = n->kind == VX_F_ALL ? bits[w] & child[w] : bits[w] | child[w];
  }
  vx_pool_put(child, words * sizeof *child);
  return rc;
}

static int slot_order(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return (x > y) - (x < y);
}

/* Keeps the live rows of list[0, n) that the filter admits, ascending and once each. */
static size_t keep_admitted(const vx_plan_input *in, uint32_t *list, size_t n) {
  if (n == 0) return 0;
  qsort(list, n, sizeof *list, slot_order);
  vx_filter_ctx ctx = {in->filter, in->payloads, in->store};
  size_t kept = 0;
  for (size_t i = 0; i < n; i++) {
    uint32_t slot = list[i];
    if ((kept && list[kept - 1] == slot) || slot >= in->rows) continue;
    if (vx_store_id(in->store, slot) != VX_NO_ID && vx_filter_admit(&ctx, slot)) list[kept++] = slot;
  }
  return kept;
}

/* Share of live rows the filter admits, from rows spread evenly over the table. */
static double sampled_share(const vx_plan_input *in) {
  vx_filter_ctx ctx = {in->filter, in->payloads, in->store};
  size_t step = in->rows / SAMPLE_ROWS + 1, seen = 0, hit = 0;
  for (size_t slot = 0; slot < in->rows; slot += step) {
    if (vx_store_id(in->store, slot) == VX_NO_ID) continue;
    seen++;
    hit += vx_filter_admit(&ctx, (uint32_t)slot) != 0;
  }
  return seen ? (double)hit / (double)seen : 0.0;
}

vexfs_status vx_plan_filter(const vx_plan_input *in, vx_plan *out) {
  *out = (vx_plan){.list = {.pooled = 1}};
  double live = (double)atomic_load_explicit(&in->store->live, memory_order_acquire);
  if (live == 0) {
    out->exact = 1;
    return VEXFS_OK;
  }
  size_t bound = estimate(in, 0);
  int listed = bound != UNKNOWN, bitmap = listed && covered(in, 0);
  double admitted = listed ? fmin((double)bound, live) : sampled_share(in) * live;
  double share = fmax(admitted, 0.5) / live;
  double index_cost = in->index_cost ? in->index_cost(in->index_ctx, share, bitmap) : -1;
  double exact_cost = admitted * VX_PLAN_EXACT_COST +
                      (listed ? admitted * LISTED_EVAL_COST : live * SCAN_EVAL_COST);
  int approximate = index_cost >= 0;
  out->exact = approximate ? exact_cost <= index_cost : listed;
  if (!out->exact) {
    if (!bitmap || !approximate) return VEXFS_OK; /* the predicate is tested on payloads */
    size_t words = (in->rows + 63) / 64;
    out->bitmap_bytes = (words ? words : 1) * sizeof *out->bitmap;
    out->bitmap = vx_pool_get(out->bitmap_bytes);
    if (out->bitmap) memset(out->bitmap, 0, out->bitmap_bytes);
    if (out->bitmap && fill_bitmap(in, 0, out->bitmap, words) == 0) return VEXFS_OK;
    vx_plan_release(out);
    return vx_fail(VEXFS_E_NOMEM, "vexfs_search: out of memory planning the filter");
  }
  vx_buf *list = &out->list;
  if (listed) {
    candidates(in, 0, list);
  } else { /* test every row */
    vx_filter_ctx ctx = {in->filter, in->payloads, in->store};
    for (uint32_t slot = 0; slot < in->rows; slot++)
      if (vx_store_id(in->store, slot) != VX_NO_ID && vx_filter_admit(&ctx, slot))
        vx_buf_put(list, &slot, sizeof slot);
  }
  if (list->failed) {
    vx_plan_release(out);
    return vx_fail(VEXFS_E_NOMEM, "vexfs_search: out of memory planning the filter");
  }
  out->slots = (uint32_t *)list->p;
  out->n = list->n / sizeof(uint32_t);
  if (listed) out->n = keep_admitted(in, out->slots, out->n);
  return VEXFS_OK;
}

void vx_plan_release(vx_plan *p) {
  vx_buf_free(&p->list);
  vx_pool_put(p->bitmap, p->bitmap_bytes);
  p->slots = NULL;
  p->bitmap = NULL;
}

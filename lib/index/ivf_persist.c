/* IVF in snapshots: the trained structure is written as it is (centroids, quantiser, lists of
 * slots, training state) and read back without retraining. SQ8 codes are a function of a row and
 * the stored quantiser, so they are re-encoded from the loaded rows (one pass over the vectors)
 * rather than stored: a file cannot hold codes that disagree with its rows.
 *
 * Section layout: u32 magic "IVF2" (or "IVF1", below), u32 trained, u32 trainings, u32 nlist, u64 trained_live;
 * when trained: f32 scale, f32 inv_scale, f64 lo_sq, dim f32 offsets, dim u32 perm, (F32)
 * proj_dims * dim f32 projection, nlist * dim f32 centroids, then per list u32 count and count
 * u32 slots. Every live row is in exactly one list. Codes and terms are re-made on load.
 *
 * "IVF1" is the same layout with an F32 projection of min(dim, 128) axes (libvexfs 0.7.0 kept
 * 128): it is written where it holds the same bytes (SQ8, F32 with dim <= 128), so that the
 * snapshot keeps format version 3, and IVF2 makes it version 4. Reading an IVF1 F32 section of
 * fewer axes than proj_dims, they are checked and replaced by axes fitted to the loaded rows (any
 * orthonormal axes keep the scan's bounds valid; these keep them tight). */
#include <math.h>
#include <string.h>

#include "../alloc_internal.h"
#include "../errors_internal.h"
#include "ivf_internal.h"

#define IVF_MAGIC 0x32465649u    /* "IVF2" */
#define IVF_MAGIC_V1 0x31465649u /* "IVF1" */
#define IVF_V1_PROJ_DIMS 128u    /* F32 axes an IVF1 section holds, at most */

void vx_ivf_save(const void *state, const vx_store *s, vx_snap_writer *w) {
  (void)s;
  const ivf_index *ix = state;
  const ivf_struct *st = atomic_load_explicit(&((ivf_index *)ix)->cur, memory_order_acquire);
  /* IVF1 where it holds the same bytes (SQ8, or F32 of at most 128 axes): older libraries read it */
  int v1 = ix->proj_dims <= IVF_V1_PROJ_DIMS;
  if (!v1) vx_snapw_require(w, 4);
  uint32_t head[4] = {v1 ? IVF_MAGIC_V1 : IVF_MAGIC, st != NULL, ix->trainings, st ? st->nlist : 0};
  uint64_t trained_live = st ? st->trained_live : 0;
  vx_snapw_put(w, head, sizeof head);
  vx_snapw_put(w, &trained_live, sizeof trained_live);
  if (!st) return;
  vx_snapw_put(w, &st->sq.scale, sizeof st->sq.scale);
  vx_snapw_put(w, &st->sq.inv_scale, sizeof st->sq.inv_scale);
  vx_snapw_put(w, &st->sq.lo_sq, sizeof st->sq.lo_sq);
  vx_snapw_put(w, st->sq.lo, ix->dim * sizeof(float));
  vx_snapw_put(w, st->perm, ix->dim * sizeof(uint32_t));
  vx_snapw_put(w, st->proj, ix->proj_dims * ix->dim * sizeof(float));
  for (uint32_t l = 0; l < st->nlist; l++)
    vx_snapw_put(w, st->cent + l * st->cstride, ix->dim * sizeof(float));
  for (uint32_t l = 0; l < st->nlist; l++) {
    uint32_t n = atomic_load_explicit(&st->lists[l].n, memory_order_acquire);
    vx_snapw_put(w, &n, sizeof n);
    vx_snapw_put(w, st->lists[l].slots, n * sizeof(uint32_t));
  }
}

static vexfs_status bad(const char *why) {
  return vx_fail(VEXFS_E_CORRUPT, "vexfs_db_open: the snapshot's IVF index is damaged: %s", why);
}

/* A finite positive scale with its exact inverse, finite offsets whose sum of squares is the
 * stored one (as vx_sq8_fit makes them). */
static int quantiser_valid(const vx_sq8 *q) {
  if (!(q->scale > 0) || !isfinite(q->scale) || q->inv_scale != 1.0f / q->scale) return 0;
  double lo_sq = 0;
  for (uint32_t d = 0; d < q->dim; d++) {
    if (!isfinite(q->lo[d])) return 0;
    lo_sq += (double)q->lo[d] * q->lo[d];
  }
  return lo_sq == q->lo_sq;
}

/* Whether every value is finite and far from overflowing (|v| <= 2^60). */
static int finite_all(const float *v, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!(fabsf(v[i]) <= 0x1p60f)) return 0;
  return 1;
}

/* Whether perm holds each of 0 .. dim-1 once (seen: dim bytes of scratch). */
static int perm_valid(const uint32_t *perm, uint32_t dim, void *seen) {
  unsigned char *mark = seen;
  memset(mark, 0, dim);
  for (uint32_t d = 0; d < dim; d++) {
    if (perm[d] >= dim || mark[perm[d]]) return 0;
    mark[perm[d]] = 1;
  }
  return 1;
}

static vexfs_status read_lists(ivf_index *ix, ivf_struct *st, const vx_store *s,
                               vx_sec_reader *r) {
  size_t rows = atomic_load_explicit(&s->rows, memory_order_relaxed);
  size_t live = atomic_load_explicit(&s->live, memory_order_relaxed), total = 0;
  if (vx_ivf_where_reserve(st, rows) != 0)
    return vx_fail(VEXFS_E_NOMEM, "vexfs_db_open: out of memory for the IVF index");
  for (uint32_t l = 0; l < st->nlist; l++) {
    uint32_t n;
    if (vx_secr_read(r, &n, sizeof n)) return bad("it is too short");
    if (n > live - total) return bad("its lists hold more rows than the collection");
    total += n;
    if (vx_ivf_list_reserve(ix, st, l, n) != 0)
      return vx_fail(VEXFS_E_NOMEM, "vexfs_db_open: out of memory for the IVF lists");
    ivf_list *L = &st->lists[l];
    if (n && vx_secr_read(r, L->slots, n * sizeof(uint32_t))) return bad("it is too short");
    for (uint32_t i = 0; i < n; i++) {
      uint32_t slot = L->slots[i];
      if (slot >= rows || vx_store_id(s, slot) == VX_NO_ID)
        return bad("a list holds a row that is not in the collection");
      if (st->where[slot] != IVF_NO_PLACE) return bad("a row is in two places");
      vx_ivf_append(ix, st, s, l, slot, NULL);
    }
  }
  if (total != live) return bad("its lists miss rows of the collection");
  return VEXFS_OK;
}

vexfs_status vx_ivf_load(void *state, const vx_store *s, vx_sec_reader *r) {
  ivf_index *ix = state;
  uint32_t head[4];
  uint64_t trained_live;
  if (vx_secr_read(r, head, sizeof head) || vx_secr_read(r, &trained_live, sizeof trained_live))
    return bad("it is too short");
  if ((head[0] != IVF_MAGIC && head[0] != IVF_MAGIC_V1) || head[1] > 1)
    return bad("its header is not an IVF one");
  size_t stored_axes = ix->proj_dims;
  if (head[0] == IVF_MAGIC_V1 && stored_axes > IVF_V1_PROJ_DIMS) stored_axes = IVF_V1_PROJ_DIMS;
  ix->trainings = head[2];
  if (!head[1]) {
    if (head[3] || trained_live) return bad("an untrained index has lists");
    return vx_secr_left(r) ? bad("it has bytes past its end") : VEXFS_OK;
  }
  uint32_t nlist = head[3];
  if (trained_live == 0 || trained_live > VX_MAX_ROWS || nlist == 0 ||
      nlist != vx_ivf_nlist_for(ix, (size_t)trained_live))
    return bad("its list count does not fit its training");
  ivf_struct *st = vx_ivf_struct_new(ix, nlist);
  if (!st) return vx_fail(VEXFS_E_NOMEM, "vexfs_db_open: out of memory for the IVF index");
  st->trained_live = trained_live;
  vexfs_status res = VEXFS_OK;
  size_t vec = ix->dim * sizeof(float);
  if (vx_secr_read(r, &st->sq.scale, sizeof st->sq.scale) ||
      vx_secr_read(r, &st->sq.inv_scale, sizeof st->sq.inv_scale) ||
      vx_secr_read(r, &st->sq.lo_sq, sizeof st->sq.lo_sq) || vx_secr_read(r, st->sq.lo, vec))
    res = bad("it is too short");
  else if (!quantiser_valid(&st->sq))
    res = bad("its quantiser is impossible");
  else if (vx_secr_read(r, st->perm, ix->dim * sizeof(uint32_t)))
    res = bad("it is too short");
  else if (!perm_valid(st->perm, ix->dim, st->tmp))
    res = bad("its coordinate order is impossible");
  for (size_t a = 0; res == VEXFS_OK && a < stored_axes; a++) {
    float *axis = stored_axes == ix->proj_dims ? st->proj + a * ix->dim : st->tmp;
    if (vx_secr_read(r, axis, vec))
      res = bad("it is too short");
    else if (!finite_all(axis, ix->dim))
      res = bad("its projection is not finite");
  }
  for (uint32_t l = 0; res == VEXFS_OK && l < nlist; l++) {
    float *c = st->cent + l * st->cstride;
    if (vx_secr_read(r, c, vec)) {
      res = bad("it is too short");
      break;
    }
    if (!finite_all(c, ix->dim)) res = bad("a centroid is not finite");
  }
  if (res == VEXFS_OK && stored_axes < ix->proj_dims &&
      vx_ivf_fit_axes(ix, st, s, ix->seed ^ trained_live) != 0)
    res = vx_fail(VEXFS_E_NOMEM, "vexfs_db_open: out of memory for the IVF projection");
  if (res == VEXFS_OK) {
    vx_ivf_pack(ix, st);
    if (vx_ivf_code_centroids(ix, st) != 0)
      res = vx_fail(VEXFS_E_NOMEM, "vexfs_db_open: out of memory for the IVF centroids' codes");
    else
      res = read_lists(ix, st, s, r);
  }
  if (res == VEXFS_OK && vx_secr_left(r)) res = bad("it has bytes past its last list");
  if (res != VEXFS_OK) {
    vx_ivf_struct_free(st);
    return res;
  }
  atomic_store_explicit(&ix->cur, st, memory_order_release);
  return VEXFS_OK;
}

/* Reading a collection's description back (its configuration and the ids it holds), and what a
 * database asks of its collections: their link, and holding their writes for a checkpoint. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "alloc_internal.h"
#include "collection_impl.h"
#include "errors_internal.h"
#include "payload/planner.h"
#include "versioned.h"

VEXFS_API vexfs_status vexfs_collection_get_config(const vexfs_collection *c,
                                                   vexfs_collection_config *out) {
  const char *fn = "vexfs_collection_get_config";
  if (!c || !out) return vx_fail(VEXFS_E_INVALID, "%s: %s is NULL", fn, c ? "out" : "collection");
  return vx_versioned_write(fn, "out", &vx_config_kind, out, &c->cfg);
}

static int by_value(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

/* Appends to list the ids of the rows among the first `rows` that prog admits (every live row
 * when prog is NULL), through the planner's listed rows when payload indexes cover the filter. */
static vexfs_status admitted_ids(vexfs_collection *c, const vx_filter_prog *prog, size_t rows,
                                 uint64_t *list, size_t *count) {
  vx_plan plan = {.exact = 0};
  if (prog) {
    vx_plan_input in = {.filter = prog, .indexes = c->indexes, .nindexes = c->nindexes,
                        .payloads = &c->payloads, .store = &c->store, .rows = rows};
    vexfs_status st = vx_plan_filter(&in, &plan);
    if (st != VEXFS_OK) return st;
  }
  if (plan.exact) {
    for (size_t i = 0; i < plan.n; i++) list[(*count)++] = vx_store_id(&c->store, plan.slots[i]);
    vx_plan_release(&plan);
    return VEXFS_OK;
  }
  vx_filter_ctx ctx = {prog, &c->payloads, &c->store};
  for (size_t slot = 0; slot < rows; slot++) {
    uint64_t id = vx_store_id(&c->store, slot);
    if (id != VX_NO_ID && (!prog || vx_filter_admit(&ctx, (uint32_t)slot))) list[(*count)++] = id;
  }
  if (prog) vx_plan_release(&plan);
  return VEXFS_OK;
}

static vexfs_status list_ids(vexfs_collection *c, const char *fn, const char *filter_json,
                             uint64_t **ids, size_t *n) {
  if (ids) *ids = NULL;
  if (n) *n = 0;
  if (!c || !ids || !n)
    return vx_fail(VEXFS_E_INVALID, "%s: %s is NULL", fn, !c ? "collection" : !ids ? "ids" : "n");
  vx_filter_prog compiled, *prog = NULL;
  if (filter_json) {
    vexfs_status st = vx_filter_compile(fn, filter_json, &compiled);
    if (st != VEXFS_OK) return st;
    prog = &compiled;
  }
  pthread_rwlock_rdlock(&c->rows_lock);
  size_t live = atomic_load_explicit(&c->store.live, memory_order_relaxed);
  size_t rows = atomic_load_explicit(&c->store.rows, memory_order_relaxed);
  uint64_t *list = live ? vx_calloc(live, sizeof *list) : NULL;
  size_t count = 0;
  vexfs_status st = live && !list ? vx_fail(VEXFS_E_NOMEM, "%s: out of memory for %zu ids", fn, live)
                    : list        ? admitted_ids(c, prog, rows, list, &count)
                                  : VEXFS_OK;
  pthread_rwlock_unlock(&c->rows_lock);
  if (prog) vx_filter_release(prog);
  if (st != VEXFS_OK || count == 0) {
    vx_release(list);
    return st;
  }
  if (count > 1) qsort(list, count, sizeof *list, by_value);
  *ids = list;
  *n = count;
  return VEXFS_OK;
}

VEXFS_API vexfs_status vexfs_list_ids(vexfs_collection *c, uint64_t **ids, size_t *n) {
  return list_ids(c, "vexfs_list_ids", NULL, ids, n);
}

VEXFS_API vexfs_status vexfs_list_ids_filtered(vexfs_collection *c, const char *filter_json,
                                               uint64_t **ids, size_t *n) {
  return list_ids(c, "vexfs_list_ids_filtered", filter_json, ids, n);
}

const char *vx_collection_name(const vexfs_collection *c) {
  return c->link ? c->link->name : NULL;
}

struct vx_db_link *vx_collection_link(const vexfs_collection *c) { return c->link; }

void vx_collection_attach(vexfs_collection *c, struct vx_db_link *link) { c->link = link; }

void vx_collection_hold_writes(vexfs_collection *c) { pthread_mutex_lock(&c->write_lock); }

void vx_collection_release_writes(vexfs_collection *c) { pthread_mutex_unlock(&c->write_lock); }

/* Reading a collection's description back (its configuration and the ids it holds), and what a
 * database asks of its collections: their link, and holding their writes for a checkpoint. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "alloc_internal.h"
#include "collection_impl.h"
#include "errors_internal.h"
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

VEXFS_API vexfs_status vexfs_list_ids(vexfs_collection *c, uint64_t **ids, size_t *n) {
  const char *fn = "vexfs_list_ids";
  if (ids) *ids = NULL;
  if (n) *n = 0;
  if (!c || !ids || !n)
    return vx_fail(VEXFS_E_INVALID, "%s: %s is NULL", fn, !c ? "collection" : !ids ? "ids" : "n");
  pthread_rwlock_rdlock(&c->rows_lock);
  size_t live = atomic_load_explicit(&c->store.live, memory_order_relaxed);
  size_t rows = atomic_load_explicit(&c->store.rows, memory_order_relaxed);
  uint64_t *list = live ? vx_calloc(live, sizeof *list) : NULL;
  size_t count = 0;
  if (list)
    for (size_t slot = 0; slot < rows; slot++) {
      uint64_t id = vx_store_id(&c->store, slot);
      if (id != VX_NO_ID) list[count++] = id;
    }
  pthread_rwlock_unlock(&c->rows_lock);
  if (live && !list) return vx_fail(VEXFS_E_NOMEM, "%s: out of memory for %zu ids", fn, live);
  if (count > 1) qsort(list, count, sizeof *list, by_value);
  *ids = list;
  *n = count;
  return VEXFS_OK;
}

const char *vx_collection_name(const vexfs_collection *c) {
  return c->link ? c->link->name : NULL;
}

struct vx_db_link *vx_collection_link(const vexfs_collection *c) { return c->link; }

void vx_collection_attach(vexfs_collection *c, struct vx_db_link *link) { c->link = link; }

void vx_collection_hold_writes(vexfs_collection *c) { pthread_mutex_lock(&c->write_lock); }

void vx_collection_release_writes(vexfs_collection *c) { pthread_mutex_unlock(&c->write_lock); }

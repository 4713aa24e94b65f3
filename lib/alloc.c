/* Allocation wrappers and the caller's allocator hooks (see alloc_internal.h). */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "alloc_internal.h"
#include "errors_internal.h"
#include "versioned.h"

static vexfs_allocator hooks; /* alloc == NULL: the system allocator */
static atomic_int allocated;  /* set by the first allocation: the hooks are fixed from then on */

static void *system_alloc(size_t size, size_t align) {
  void *p = NULL;
  return posix_memalign(&p, align, size) == 0 ? p : NULL;
}

void *vx_alloc_aligned(size_t size, size_t align) {
  size_t rounded = (size + align - 1) & ~(align - 1);
  if (rounded < size) return NULL;
  if (rounded == 0) rounded = align;
  if (!atomic_load_explicit(&allocated, memory_order_relaxed))
    atomic_store_explicit(&allocated, 1, memory_order_relaxed);
  return hooks.alloc ? hooks.alloc(hooks.opaque, rounded, align) : system_alloc(rounded, align);
}

void *vx_alloc(size_t size) { return vx_alloc_aligned(size, 16); }

void *vx_calloc(size_t count, size_t size) {
  size_t bytes;
  if (!vx_mul_ok(count, size, &bytes)) return NULL;
  void *p = vx_alloc(bytes);
  if (p) memset(p, 0, bytes);
  return p;
}

void vx_release(void *ptr) {
  if (!ptr) return;
  if (hooks.free)
    hooks.free(hooks.opaque, ptr);
  else
    free(ptr);
}

int vx_has_allocated(void) { return atomic_load_explicit(&allocated, memory_order_relaxed); }

VEXFS_API void vexfs_free(void *ptr) { vx_release(ptr); }

VEXFS_API vexfs_status vexfs_set_allocator(const vexfs_allocator *a) {
  const char *fn = "vexfs_set_allocator";
  if (vx_has_allocated())
    return vx_fail(VEXFS_E_STATE, "%s: the library has already allocated memory; set the "
                                  "allocator before any other call",
                   fn);
  if (!a) {
    memset(&hooks, 0, sizeof hooks);
    return VEXFS_OK;
  }
  vexfs_allocator given = {.struct_size = sizeof given};
  vexfs_status st = vx_versioned_read(fn, "a", &vx_allocator_kind, &given, a);
  if (st != VEXFS_OK) return st;
  if (!given.alloc || !given.free)
    return vx_fail(VEXFS_E_INVALID, "%s: a->alloc and a->free are both needed", fn);
  hooks = given;
  return VEXFS_OK;
}

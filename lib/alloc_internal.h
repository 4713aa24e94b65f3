/* Every allocation the library makes goes through these, and from them through the caller's
 * allocator hooks (vexfs_set_allocator) when set. All return NULL on failure; none aborts. */
#ifndef VEXFS_ALLOC_INTERNAL_H
#define VEXFS_ALLOC_INTERNAL_H

#include <stddef.h>

#define VX_CACHE_LINE 64

void *vx_alloc(size_t size);
void *vx_calloc(size_t count, size_t size); /* zeroed; NULL also when count*size overflows */
/* size rounded up to a multiple of align; align a power of two >= sizeof(void *). */
void *vx_alloc_aligned(size_t size, size_t align);
void vx_release(void *ptr); /* NULL-safe; for all of the above */

/* Whether anything was allocated yet (after which the hooks may not change). */
int vx_has_allocated(void);

/* a*b into *out; returns 0 on overflow. */
static inline int vx_mul_ok(size_t a, size_t b, size_t *out) {
  return !__builtin_mul_overflow(a, b, out);
}

#endif

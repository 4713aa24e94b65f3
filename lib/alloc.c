/* Allocation wrappers (see alloc_internal.h). */
#include <stdlib.h>
#include <string.h>

#include "alloc_internal.h"

void *vx_alloc(size_t size) { return malloc(size ? size : 1); }

void *vx_calloc(size_t count, size_t size) {
  size_t bytes;
  if (!vx_mul_ok(count, size, &bytes)) return NULL;
  void *p = vx_alloc(bytes);
  if (p) memset(p, 0, bytes);
  return p;
}

void *vx_alloc_aligned(size_t size, size_t align) {
  size_t rounded = (size + align - 1) & ~(align - 1);
  if (rounded < size) return NULL;
  void *p = NULL;
  if (posix_memalign(&p, align, rounded ? rounded : align) != 0) return NULL;
  return p;
}

void vx_release(void *ptr) { free(ptr); }

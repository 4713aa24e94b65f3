/* Chunked arrays (see chunked.h). */
#include "chunked.h"

#include <string.h>

#include "alloc_internal.h"

void vx_chunked_init(vx_chunked *a, size_t elem_size) {
  memset(a, 0, sizeof *a);
  a->elem_size = elem_size;
  atomic_init(&a->capacity, 0);
}

void vx_chunked_init_unzeroed(vx_chunked *a, size_t elem_size) {
  vx_chunked_init(a, elem_size);
  a->unzeroed = 1;
}

size_t vx_chunked_bytes(const vx_chunked *a) {
  return atomic_load_explicit(&a->capacity, memory_order_relaxed) * a->elem_size;
}

int vx_chunked_reserve(vx_chunked *a, size_t n) {
  if (n > VX_MAX_ROWS + 1) return -1;
  while (a->capacity < n) {
    unsigned c = vx_slot_chunk(a->capacity);
    size_t bytes;
    if (!vx_mul_ok(vx_chunk_rows(c), a->elem_size, &bytes)) return -1;
    unsigned char *chunk = vx_alloc_aligned(bytes, VX_CACHE_LINE);
    if (!chunk) return -1;
    if (!a->unzeroed) memset(chunk, 0, bytes);
    a->chunks[c] = chunk;
    atomic_fetch_add_explicit(&a->capacity, vx_chunk_rows(c), memory_order_relaxed);
  }
  return 0;
}

void vx_chunked_destroy(vx_chunked *a) {
  for (unsigned c = 0; c < VX_MAX_CHUNKS; c++) vx_release(a->chunks[c]);
  vx_chunked_init(a, 0);
}

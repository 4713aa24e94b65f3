/* A growable array of fixed-size, 64-byte-aligned elements that never move: chunk c holds
 * VX_CHUNK0_ROWS << c elements, so the chunk table is fixed-size and growing leaves every element
 * where it was. Readers may use elements below a published bound while a writer grows the array.
 * Not synchronised otherwise. */
#ifndef VEXFS_CHUNKED_H
#define VEXFS_CHUNKED_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define VX_CHUNK0_ROWS 256u
#define VX_MAX_CHUNKS 25u /* 256 * (2^25 - 1) elements: past the 32-bit slot limit */
#define VX_MAX_ROWS ((size_t)UINT32_MAX - 1) /* UINT32_MAX is "no slot" */

typedef struct vx_chunked {
  size_t elem_size; /* bytes per element, a multiple of the alignment it needs */
  int unzeroed;     /* new chunks are not zeroed (vx_chunked_init_unzeroed) */
  int paged;        /* chunks are whole pages of their own mappings (vx_chunked_init_paged) */
  atomic_size_t capacity; /* elements allocated; read by metrics while a writer grows it */
  unsigned char *chunks[VX_MAX_CHUNKS];
} vx_chunked;

static inline size_t vx_chunk_rows(unsigned c) { return (size_t)VX_CHUNK0_ROWS << c; }
static inline size_t vx_chunk_first(unsigned c) { return VX_CHUNK0_ROWS * (((size_t)1 << c) - 1); }
static inline unsigned vx_slot_chunk(size_t slot) {
  return 63u - (unsigned)__builtin_clzll((unsigned long long)(slot / VX_CHUNK0_ROWS + 1));
}

static inline void *vx_chunked_at(const vx_chunked *a, size_t i) {
  unsigned c = vx_slot_chunk(i);
  return a->chunks[c] + (i - vx_chunk_first(c)) * a->elem_size;
}

void vx_chunked_init(vx_chunked *a, size_t elem_size);
/* For arrays whose every element is written before it is read (vector rows): new chunks are
 * left as the allocator gives them, so their pages are first touched by those writes. */
void vx_chunked_init_unzeroed(vx_chunked *a, size_t elem_size);
/* For arrays whose chunks may later be replaced in place by pages of a file (vx_chunked_map):
 * each chunk is an anonymous mapping of its own, zero-filled, rounded up to whole pages. */
void vx_chunked_init_paged(vx_chunked *a, size_t elem_size);
/* Allocates chunks (zeroed, unless made by vx_chunked_init_unzeroed) until `n` elements exist.
 * 0, or -1 when out of memory (chunks already allocated stay). */
int vx_chunked_reserve(vx_chunked *a, size_t n);
void vx_chunked_destroy(vx_chunked *a);
/* Paged arrays: maps elements [0, n) from the file fd, whose bytes hold them back to back from
 * offset 0, privately (writes stay in memory) over the chunks that hold them, which must exist.
 * The file must hold the same bytes as memory does; no reader may run meanwhile. Chunks whose
 * place in the file is not page-aligned stay as they are. 0, or
 * -1 (errno set) with each chunk either mapped or as it was. */
int vx_chunked_map(vx_chunked *a, int fd, size_t n);
/* Bytes held. Thread-safe. */
size_t vx_chunked_bytes(const vx_chunked *a);

#endif

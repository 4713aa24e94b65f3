/* A growable byte buffer for building strings and encodings. A failed allocation sets `failed`
 * and turns later writes into no-ops, so builders check once at the end.
 *
 * A buffer that lives only within one call (a search's compiled filter, its candidate lists) is
 * made pooled, `vx_buf b = {.pooled = 1};`: its storage is a block of the scratch pool (pool.h),
 * so after warm-up building it makes no allocator call. */
#ifndef VEXFS_BUF_H
#define VEXFS_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct vx_buf {
  unsigned char *p;
  size_t n, cap;
  int failed;
  int pooled; /* storage from the scratch pool; set before the first write */
} vx_buf;

/* Room for `more` bytes past n; 0, or -1 (and failed) when out of memory. */
int vx_buf_reserve(vx_buf *b, size_t more);
void vx_buf_put(vx_buf *b, const void *src, size_t n);
static inline void vx_buf_byte(vx_buf *b, uint8_t c) {
  if (b->n < b->cap || vx_buf_reserve(b, 1) == 0) b->p[b->n++] = c;
}
void vx_buf_printf(vx_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The contents as a NUL-terminated string owned by the caller (vx_release), or NULL when any
 * write failed; the buffer is emptied either way. Not for pooled buffers. */
char *vx_buf_take_string(vx_buf *b);
/* Releases the storage and empties the buffer (it stays pooled if it was). */
void vx_buf_free(vx_buf *b);

#endif

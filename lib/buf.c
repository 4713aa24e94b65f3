#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "alloc_internal.h"
#include "pool/pool.h"

static void release(const vx_buf *b) {
  if (b->pooled)
    vx_pool_put(b->p, b->cap);
  else
    vx_release(b->p);
}

int vx_buf_reserve(vx_buf *b, size_t more) {
  if (b->failed) return -1;
  if (more <= b->cap - b->n) return 0;
  size_t cap = b->cap ? b->cap : 64;
  while (cap - b->n < more) {
    if (cap > SIZE_MAX / 2) {
      b->failed = 1;
      return -1;
    }
    cap *= 2;
  }
  if (b->pooled) cap = vx_pool_block_size(cap); /* all of the block: fewer regrowths */
  unsigned char *grown = b->pooled ? vx_pool_get(cap) : vx_alloc(cap);
  if (!grown) {
    b->failed = 1;
    return -1;
  }
  if (b->n) memcpy(grown, b->p, b->n);
  release(b);
  b->p = grown;
  b->cap = cap;
  return 0;
}

void vx_buf_put(vx_buf *b, const void *src, size_t n) {
  if (n && vx_buf_reserve(b, n) == 0) {
    memcpy(b->p + b->n, src, n);
    b->n += n;
  }
}

void vx_buf_printf(vx_buf *b, const char *fmt, ...) {
  for (int attempt = 0; attempt < 2 && !b->failed; attempt++) {
    va_list ap;
    va_start(ap, fmt);
    size_t room = b->cap - b->n;
    int need = vsnprintf(room ? (char *)b->p + b->n : NULL, room, fmt, ap);
    va_end(ap);
    if (need < 0) {
      b->failed = 1;
      return;
    }
    if ((size_t)need < room) {
      b->n += (size_t)need;
      return;
    }
    vx_buf_reserve(b, (size_t)need + 1);
  }
}

char *vx_buf_take_string(vx_buf *b) {
  vx_buf_byte(b, 0);
  char *s = b->failed ? NULL : (char *)b->p;
  if (!s) vx_release(b->p);
  *b = (vx_buf){0};
  return s;
}

void vx_buf_free(vx_buf *b) {
  release(b);
  *b = (vx_buf){.pooled = b->pooled};
}

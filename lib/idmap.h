/* Open-addressing hash map from 64-bit ids to 32-bit slots (linear probing, backward-shift
 * deletion, so there are no tombstones). UINT64_MAX is the empty marker and never a key.
 * Not synchronised: callers hold their own lock. */
#ifndef VEXFS_IDMAP_H
#define VEXFS_IDMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct vx_idmap {
  uint64_t *keys;
  uint32_t *vals;
  size_t mask; /* capacity - 1; capacity is a power of two, or 0 before the first reserve */
  size_t len;
} vx_idmap;

/* Makes room for `total` keys so that the next puts up to that many cannot fail.
 * Returns 0, or -1 when out of memory (the map is unchanged). */
int vx_idmap_reserve(vx_idmap *m, size_t total);
/* 1 and *val when key is present, else 0 (always 0 for UINT64_MAX). */
int vx_idmap_find(const vx_idmap *m, uint64_t key, uint32_t *val);
/* Inserts or overwrites; the capacity must have been reserved. */
void vx_idmap_put(vx_idmap *m, uint64_t key, uint32_t val);
/* Removes key if present (UINT64_MAX never is). */
void vx_idmap_del(vx_idmap *m, uint64_t key);
void vx_idmap_destroy(vx_idmap *m);

#endif

/* Id -> slot hash map (see idmap.h). */
#include "idmap.h"

#include "alloc_internal.h"

#define EMPTY UINT64_MAX

static inline size_t hash64(uint64_t x) { /* splitmix64 finaliser: mixes sequential ids well */
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return (size_t)x;
}

static size_t probe(const vx_idmap *m, uint64_t key) {
  size_t i = hash64(key) & m->mask;
  while (m->keys[i] != EMPTY && m->keys[i] != key) i = (i + 1) & m->mask;
  return i;
}

int vx_idmap_reserve(vx_idmap *m, size_t total) {
  size_t cap = m->keys ? m->mask + 1 : 0;
  if (total <= cap / 2) return 0; /* keep the load factor at or below 1/2 */
  size_t want = 16;
  while (want / 2 < total) {
    if (want > SIZE_MAX / 4) return -1;
    want *= 2;
  }
  uint64_t *keys = vx_alloc_aligned(want * sizeof *keys, VX_CACHE_LINE);
  uint32_t *vals = vx_alloc_aligned(want * sizeof *vals, VX_CACHE_LINE);
  if (!keys || !vals) {
    vx_release(keys);
    vx_release(vals);
    return -1;
  }
  for (size_t i = 0; i < want; i++) keys[i] = EMPTY;
  vx_idmap grown = {keys, vals, want - 1, 0};
  for (size_t i = 0; i < cap; i++)
    if (m->keys[i] != EMPTY) vx_idmap_put(&grown, m->keys[i], m->vals[i]);
  vx_idmap_destroy(m);
  *m = grown;
  return 0;
}

int vx_idmap_find(const vx_idmap *m, uint64_t key, uint32_t *val) {
  if (!m->keys || key == EMPTY) return 0; /* the empty marker would "find" any free cell */
  size_t i = probe(m, key);
  if (m->keys[i] != key) return 0;
  *val = m->vals[i];
  return 1;
}

void vx_idmap_put(vx_idmap *m, uint64_t key, uint32_t val) {
  size_t i = probe(m, key);
  if (m->keys[i] == EMPTY) m->len++;
  m->keys[i] = key;
  m->vals[i] = val;
}

void vx_idmap_del(vx_idmap *m, uint64_t key) {
  if (!m->keys || key == EMPTY) return;
  size_t hole = probe(m, key);
  if (m->keys[hole] != key) return;
  m->len--;
  /* Backward shift: pull later members of the probe run into the hole when their home slot
   * does not lie (cyclically) between the hole and their current position. */
  for (size_t i = (hole + 1) & m->mask; m->keys[i] != EMPTY; i = (i + 1) & m->mask) {
    size_t home = hash64(m->keys[i]) & m->mask;
    if (((i - home) & m->mask) >= ((i - hole) & m->mask)) {
      m->keys[hole] = m->keys[i];
      m->vals[hole] = m->vals[i];
      hole = i;
    }
  }
  m->keys[hole] = EMPTY;
}

void vx_idmap_destroy(vx_idmap *m) {
  vx_release(m->keys);
  vx_release(m->vals);
  m->keys = NULL;
  m->vals = NULL;
  m->mask = m->len = 0;
}

/* Keyword indexes (open-addressing hash of keyword bytes -> unsorted row list) and numeric indexes
 * (a sorted array of (value, row), with a small unsorted tail of recent additions merged in when
 * it fills, so that inserting one row costs O(1) amortised instead of moving the whole array). */
#include "payload_index.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "../alloc_internal.h"
#include "../buf.h"
#include "../errors_internal.h"
#include "../json/packed.h"

#define TAIL_MAX 1024 /* numeric entries kept unsorted before a merge */

typedef struct posting {
  uint64_t hash;
  size_t key_at; /* in keys */
  uint32_t key_len;
  uint32_t n, cap;
  uint32_t *rows;
} posting;

typedef struct num_entry {
  double v;
  uint32_t slot;
} num_entry;

struct vx_pindex {
  vexfs_payload_index_kind kind;
  char *key;
  vx_fseg segs[VEXFS_MAX_KEY_SEGMENTS];
  uint32_t nseg;
  atomic_int usable;
  /* keyword */
  posting *table; /* capacity mask + 1; hash 0 marks an empty cell */
  size_t mask, used;
  vx_buf keys;
  size_t posting_bytes;
  /* numeric */
  num_entry *sorted, *tail;
  size_t n_sorted, cap_sorted, n_tail;
};

static uint64_t hash_bytes(const uint8_t *head, size_t head_len, const char *rest, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < head_len; i++) h = (h ^ head[i]) * 0x100000001b3ull;
  for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)rest[i]) * 0x100000001b3ull;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h | 1; /* never 0, the empty marker */
}

/* The keyword of v as one byte string: kw[0..head) then str[0..len-head). */
typedef struct keyword {
  uint8_t head[9];
  size_t head_len, len;
  const char *str;
  uint64_t hash;
} keyword;

static int keyword_of(const uint8_t *v, keyword *k) {
  k->str = NULL;
  k->len = vx_keyword_of(v, k->head, &k->str);
  if (k->len == 0) return 0;
  k->head_len = k->str ? 1 : k->len;
  k->hash = hash_bytes(k->head, k->head_len, k->str, k->len - k->head_len);
  return 1;
}

static int posting_is(const vx_pindex *ix, const posting *p, const keyword *k) {
  if (p->hash != k->hash || p->key_len != k->len) return 0;
  const uint8_t *stored = ix->keys.p + p->key_at;
  size_t rest = k->len - k->head_len; /* the string's bytes; none for other keywords */
  return memcmp(stored, k->head, k->head_len) == 0 &&
         (rest == 0 || memcmp(stored + k->head_len, k->str, rest) == 0);
}

static posting *find_posting(const vx_pindex *ix, const keyword *k) {
  if (!ix->table) return NULL;
  for (size_t i = k->hash & ix->mask;; i = (i + 1) & ix->mask) {
    posting *p = &ix->table[i];
    if (p->hash == 0) return NULL;
    if (posting_is(ix, p, k)) return p;
  }
}

static int grow_table(vx_pindex *ix) {
  size_t cap = ix->table ? (ix->mask + 1) * 2 : 64;
  posting *t = vx_calloc(cap, sizeof *t);
  if (!t) return -1;
  for (size_t i = 0; ix->table && i <= ix->mask; i++) {
    if (ix->table[i].hash == 0) continue;
    size_t j = ix->table[i].hash & (cap - 1);
    while (t[j].hash) j = (j + 1) & (cap - 1);
    t[j] = ix->table[i];
  }
  vx_release(ix->table);
  ix->table = t;
  ix->mask = cap - 1;
  return 0;
}

static posting *add_posting(vx_pindex *ix, const keyword *k) {
  if ((ix->used + 1) * 4 > (ix->table ? ix->mask + 1 : 0) * 3 && grow_table(ix) != 0) return NULL;
  size_t at = ix->keys.n;
  vx_buf_put(&ix->keys, k->head, k->head_len);
  vx_buf_put(&ix->keys, k->str, k->len - k->head_len);
  if (ix->keys.failed) return NULL;
  size_t i = k->hash & ix->mask;
  while (ix->table[i].hash) i = (i + 1) & ix->mask;
  ix->table[i] = (posting){.hash = k->hash, .key_at = at, .key_len = (uint32_t)k->len};
  ix->used++;
  return &ix->table[i];
}

typedef struct change {
  vx_pindex *ix;
  uint32_t slot;
  int ok;
} change;

static int keyword_add(void *arg, const uint8_t *v) {
  change *c = arg;
  keyword k;
  if (!keyword_of(v, &k)) return 0;
  posting *p = find_posting(c->ix, &k);
  if (!p && !(p = add_posting(c->ix, &k))) return c->ok = 0, 1;
  if (p->n && p->rows[p->n - 1] == c->slot) return 0; /* the row repeats a value */
  if (p->n == p->cap) {
    uint32_t cap = p->cap ? p->cap * 2 : 4;
    uint32_t *rows = vx_alloc((size_t)cap * sizeof *rows);
    if (!rows) return c->ok = 0, 1;
    if (p->n) memcpy(rows, p->rows, (size_t)p->n * sizeof *rows);
    vx_release(p->rows);
    c->ix->posting_bytes += (size_t)(cap - p->cap) * sizeof *rows;
    p->rows = rows;
    p->cap = cap;
  }
  p->rows[p->n++] = c->slot;
  return 0;
}

static int keyword_remove(void *arg, const uint8_t *v) {
  change *c = arg;
  keyword k;
  posting *p = keyword_of(v, &k) ? find_posting(c->ix, &k) : NULL;
  for (uint32_t i = 0; p && i < p->n; i++)
    if (p->rows[i] == c->slot) {
      p->rows[i] = p->rows[--p->n];
      break;
    }
  return 0;
}

static int entry_order(const void *a, const void *b) {
  const num_entry *x = a, *y = b;
  if (x->v != y->v) return x->v < y->v ? -1 : 1;
  return (x->slot > y->slot) - (x->slot < y->slot);
}

/* Sorts the tail into the sorted array. */
static int merge_tail(vx_pindex *ix) {
  if (ix->n_sorted + ix->n_tail > ix->cap_sorted) {
    size_t cap = ix->cap_sorted ? ix->cap_sorted * 2 : 1024;
    while (cap < ix->n_sorted + ix->n_tail) cap *= 2;
    num_entry *grown = vx_alloc(cap * sizeof *grown);
    if (!grown) return -1;
    if (ix->n_sorted) memcpy(grown, ix->sorted, ix->n_sorted * sizeof *grown);
    vx_release(ix->sorted);
    ix->sorted = grown;
    ix->cap_sorted = cap;
  }
  qsort(ix->tail, ix->n_tail, sizeof *ix->tail, entry_order);
  /* merge from the back, in place */
  size_t i = ix->n_sorted, j = ix->n_tail, out = i + j;
  while (j > 0) {
    if (i > 0 && entry_order(&ix->sorted[i - 1], &ix->tail[j - 1]) > 0) ix->sorted[--out] = ix->sorted[--i];
    else ix->sorted[--out] = ix->tail[--j];
  }
  ix->n_sorted += ix->n_tail;
  ix->n_tail = 0;
  return 0;
}

static int numeric_add(void *arg, const uint8_t *v) {
  change *c = arg;
  if (!vx_j_is_number(v)) return 0;
  if (c->ix->n_tail == TAIL_MAX && merge_tail(c->ix) != 0) return c->ok = 0, 1;
  c->ix->tail[c->ix->n_tail++] = (num_entry){vx_j_number(v), c->slot};
  return 0;
}

/* First entry of the sorted array not ordered before e. */
static size_t lower_bound(const vx_pindex *ix, const num_entry *e) {
  size_t lo = 0, hi = ix->n_sorted;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (entry_order(&ix->sorted[mid], e) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

static int numeric_remove(void *arg, const uint8_t *v) {
  change *c = arg;
  vx_pindex *ix = c->ix;
  if (!vx_j_is_number(v)) return 0;
  num_entry e = {vx_j_number(v), c->slot};
  for (size_t i = 0; i < ix->n_tail; i++)
    if (entry_order(&ix->tail[i], &e) == 0) {
      ix->tail[i] = ix->tail[--ix->n_tail];
      return 0;
    }
  size_t at = lower_bound(ix, &e);
  if (at < ix->n_sorted && entry_order(&ix->sorted[at], &e) == 0) {
    memmove(ix->sorted + at, ix->sorted + at + 1, (ix->n_sorted - at - 1) * sizeof e);
    ix->n_sorted--;
  }
  return 0;
}

static void apply(vx_pindex *ix, uint32_t slot, const uint8_t *payload, vx_leaf_fn fn) {
  if (!payload || !atomic_load_explicit(&ix->usable, memory_order_relaxed)) return;
  change c = {ix, slot, 1};
  vx_path_each(ix->segs, ix->nseg, payload, fn, &c);
  if (!c.ok) atomic_store(&ix->usable, 0);
}

void vx_pindex_add(vx_pindex *ix, uint32_t slot, const uint8_t *payload) {
  apply(ix, slot, payload, ix->kind == VEXFS_PAYLOAD_INDEX_KEYWORD ? keyword_add : numeric_add);
}

void vx_pindex_remove(vx_pindex *ix, uint32_t slot, const uint8_t *payload) {
  apply(ix, slot, payload,
        ix->kind == VEXFS_PAYLOAD_INDEX_KEYWORD ? keyword_remove : numeric_remove);
}

vexfs_status vx_pindex_build(const char *fn, const char *key, vexfs_payload_index_kind kind,
                             const vx_payloads *p, size_t rows, vx_pindex **out) {
  *out = NULL;
  vx_pindex *ix = vx_calloc(1, sizeof *ix);
  size_t len = strlen(key);
  if (!ix || !(ix->key = vx_alloc(len + 1))) {
    vx_release(ix);
    return vx_fail(VEXFS_E_NOMEM, "%s: out of memory", fn);
  }
  memcpy(ix->key, key, len + 1);
  vx_path_split(ix->key, len, ix->segs, VEXFS_MAX_KEY_SEGMENTS, &ix->nseg); /* checked by caller */
  ix->kind = kind;
  atomic_init(&ix->usable, 1);
  if (kind == VEXFS_PAYLOAD_INDEX_NUMERIC && !(ix->tail = vx_alloc(TAIL_MAX * sizeof *ix->tail))) {
    vx_pindex_free(ix);
    return vx_fail(VEXFS_E_NOMEM, "%s: out of memory", fn);
  }
  for (size_t slot = 0; slot < rows; slot++) vx_pindex_add(ix, (uint32_t)slot, vx_payload_of(p, slot));
  if (kind == VEXFS_PAYLOAD_INDEX_NUMERIC && atomic_load(&ix->usable) && merge_tail(ix) != 0)
    atomic_store(&ix->usable, 0);
  if (!atomic_load(&ix->usable)) {
    vx_pindex_free(ix);
    return vx_fail(VEXFS_E_NOMEM, "%s: out of memory building the index on \"%s\"", fn, key);
  }
  *out = ix;
  return VEXFS_OK;
}

void vx_pindex_free(vx_pindex *ix) {
  if (!ix) return;
  for (size_t i = 0; ix->table && i <= ix->mask; i++) vx_release(ix->table[i].rows);
  vx_release(ix->table);
  vx_buf_free(&ix->keys);
  vx_release(ix->sorted);
  vx_release(ix->tail);
  vx_release(ix->key);
  vx_release(ix);
}

vexfs_payload_index_kind vx_pindex_kind(const vx_pindex *ix) { return ix->kind; }

int vx_pindex_same_key(const vx_pindex *ix, const char *key) { return strcmp(ix->key, key) == 0; }

const char *vx_pindex_key(const vx_pindex *ix) { return ix->key; }

int vx_pindex_serves(const vx_pindex *ix, const vx_fseg *segs, uint32_t n) {
  if (!atomic_load_explicit(&ix->usable, memory_order_relaxed) || n != ix->nseg) return 0;
  for (uint32_t i = 0; i < n; i++)
    if (segs[i].len != ix->segs[i].len || memcmp(segs[i].s, ix->segs[i].s, segs[i].len) != 0)
      return 0;
  return 1;
}

size_t vx_pindex_memory(const vx_pindex *ix) {
  return sizeof *ix + (ix->table ? (ix->mask + 1) * sizeof(posting) : 0) + ix->keys.cap +
         ix->posting_bytes + (ix->cap_sorted + (ix->tail ? TAIL_MAX : 0)) * sizeof(num_entry);
}

const uint32_t *vx_pindex_rows_with(const vx_pindex *ix, const uint8_t *v, size_t *n) {
  keyword k;
  posting *p = keyword_of(v, &k) ? find_posting(ix, &k) : NULL;
  *n = p ? p->n : 0;
  return p ? p->rows : NULL;
}

static int below_lower(const double *b, double v) { return v <= b[VX_GT] || v < b[VX_GTE]; }
static int above_upper(const double *b, double v) { return v >= b[VX_LT] || v > b[VX_LTE]; }

/* First sorted entry for which pred holds (pred is false, then true, along the array). */
static size_t partition_point(const vx_pindex *ix, const double *b, int (*pred)(const double *, double),
                              int negate) {
  size_t lo = 0, hi = ix->n_sorted;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (pred(b, ix->sorted[mid].v) != negate) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

size_t vx_pindex_rows_in(const vx_pindex *ix, const double *bound, uint32_t *out) {
  size_t lo = partition_point(ix, bound, below_lower, 1);
  size_t hi = partition_point(ix, bound, above_upper, 0);
  size_t n = hi > lo ? hi - lo : 0;
  for (size_t i = 0; out && i < n; i++) out[i] = ix->sorted[lo + i].slot;
  for (size_t i = 0; i < ix->n_tail; i++)
    if (vx_bounds_admit(bound, ix->tail[i].v)) {
      if (out) out[n] = ix->tail[i].slot;
      n++;
    }
  return n;
}

/* Evaluating compiled filters (filter.h) against one row's payload and id. */
#include <math.h>
#include <string.h>

#include "../json/packed.h"
#include "filter.h"

/* Follows segs[i..n) from v, calling fn on each value reached; arrays are entered wherever met. */
static int walk(const vx_fseg *seg, uint32_t n, const uint8_t *v, vx_leaf_fn fn, void *ctx) {
  if (vx_j_type(v) == VX_J_ARRAY) {
    vx_j_iter it;
    vx_j_open(v, &it);
    const uint8_t *item;
    while (vx_j_next(&it, NULL, NULL, &item)) {
      int r = walk(seg, n, item, fn, ctx);
      if (r) return r;
    }
    return 0;
  }
  if (n == 0) return fn(ctx, v);
  const uint8_t *m = vx_j_member(v, seg->s, seg->len);
  return m ? walk(seg + 1, n - 1, m, fn, ctx) : 0;
}

int vx_path_each(const vx_fseg *segs, uint32_t n, const uint8_t *payload, vx_leaf_fn fn,
                 void *ctx) {
  return payload ? walk(segs, n, payload, fn, ctx) : 0;
}

int vx_path_split(const char *key, size_t len, vx_fseg *segs, uint32_t max, uint32_t *n) {
  *n = 0;
  for (size_t i = 0; i <= len;) {
    size_t j = i;
    while (j < len && key[j] != '.') j++;
    size_t seg_len = j - i;
    if (seg_len >= 2 && key[j - 2] == '[' && key[j - 1] == ']') seg_len -= 2;
    if (seg_len == 0 || *n == max) return -1;
    segs[(*n)++] = (vx_fseg){key + i, (uint32_t)seg_len};
    i = j + 1;
  }
  return 0;
}

size_t vx_keyword_of(const uint8_t *v, uint8_t out[9], const char **str) {
  int64_t i;
  switch (vx_j_type(v)) {
  case VX_J_STRING: {
    size_t n;
    *str = vx_j_string(v, &n);
    out[0] = 's';
    return 1 + n;
  }
  case VX_J_TRUE: out[0] = 't'; return 1;
  case VX_J_FALSE: out[0] = 'f'; return 1;
  case VX_J_UINT: {
    uint64_t u = vx_j_uint(v);
    out[0] = 'u';
    memcpy(out + 1, &u, 8);
    return 9;
  }
  case VX_J_INT: i = vx_j_int(v); break;
  case VX_J_DOUBLE: {
    double d = vx_j_number(v);
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0) || d != floor(d)) return 0;
    i = (int64_t)d;
    break;
  }
  default: return 0;
  }
  out[0] = 'i';
  memcpy(out + 1, &i, 8);
  return 9;
}

/* Whether payload value v equals filter value w (a string, integer or boolean): their keyword
 * bytes agree, so that keyword indexes and evaluation always give the same answer. */
static int equals(const uint8_t *v, const uint8_t *w) {
  uint8_t kv[9], kw[9];
  const char *sv = NULL, *sw = NULL;
  size_t lv = vx_keyword_of(v, kv, &sv), lw = vx_keyword_of(w, kw, &sw);
  if (lv == 0 || lv != lw || kv[0] != kw[0]) return 0;
  return kv[0] == 's' ? memcmp(sv, sw, lv - 1) == 0 : memcmp(kv, kw, lv) == 0;
}

typedef struct leaf_test {
  const vx_filter_prog *f;
  const vx_fnode *n;
  size_t seen; /* non-null values */
} leaf_test;

static int in_values(const leaf_test *t, const uint8_t *v) {
  for (uint32_t i = 0; i < t->n->count; i++)
    if (equals(v, t->f->values[t->n->first + i])) return 1;
  return 0;
}

int vx_bounds_admit(const double *b, double x) {
  return !(x <= b[VX_GT]) && !(x < b[VX_GTE]) && !(x >= b[VX_LT]) && !(x > b[VX_LTE]);
}

static int leaf_matches(void *arg, const uint8_t *v) {
  leaf_test *t = arg;
  switch (t->n->kind) {
  case VX_F_MATCH: return in_values(t, v);
  case VX_F_EXCEPT: return vx_j_type(v) != VX_J_NULL && !in_values(t, v);
  case VX_F_RANGE: return vx_j_is_number(v) && vx_bounds_admit(t->n->bound, vx_j_number(v));
  case VX_F_IS_NULL: return vx_j_type(v) == VX_J_NULL;
  default: /* VX_F_COUNT, VX_F_IS_EMPTY: count the non-null values */
    t->seen += vx_j_type(v) != VX_J_NULL;
    return 0;
  }
}

static int has_id(const vx_filter_prog *f, const vx_fnode *n, uint64_t id) {
  size_t lo = n->first, hi = (size_t)n->first + n->count; /* indexes: ids is NULL when empty */
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (f->ids[mid] < id) lo = mid + 1;
    else hi = mid;
  }
  return lo < (size_t)n->first + n->count && f->ids[lo] == id;
}

int vx_filter_eval(const vx_filter_prog *f, uint32_t i, const uint8_t *payload, uint64_t id) {
  const vx_fnode *n = &f->nodes[i];
  const uint32_t *kids = n->count ? f->kids + n->first : NULL; /* kids is NULL when no node has any */
  switch (n->kind) {
  case VX_F_ALL:
    for (uint32_t k = 0; k < n->count; k++)
      if (!vx_filter_eval(f, kids[k], payload, id)) return 0;
    return 1;
  case VX_F_ANY:
    for (uint32_t k = 0; k < n->count; k++)
      if (vx_filter_eval(f, kids[k], payload, id)) return 1;
    return n->count == 0;
  case VX_F_NONE:
    for (uint32_t k = 0; k < n->count; k++)
      if (vx_filter_eval(f, kids[k], payload, id)) return 0;
    return 1;
  case VX_F_HAS_ID: return has_id(f, n, id);
  default: break;
  }
  leaf_test t = {f, n, 0};
  int hit = vx_path_each(f->segs + n->seg, n->nseg, payload, leaf_matches, &t);
  if (n->kind == VX_F_IS_EMPTY) return t.seen == 0;
  if (n->kind == VX_F_COUNT) return vx_bounds_admit(n->bound, (double)t.seen);
  return hit;
}

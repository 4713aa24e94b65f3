/* Filters: Qdrant's JSON filter language compiled to a small tree, and its evaluation against a
 * row's payload and id.
 *
 *   filter     := {"must": cond | [cond...], "should": ..., "must_not": ...}   (any subset)
 *   cond       := filter
 *               | {"key": path, "match": {"value": v} | {"any": [v...]} | {"except": [v...]},
 *                  "range": {"gt"|"gte"|"lt"|"lte": number, ...},
 *                  "values_count": {"gt"|"gte"|"lt"|"lte": count, ...}}   (one or more of these)
 *               | {"is_empty": {"key": path}} | {"is_null": {"key": path}}
 *               | {"has_id": [id...]}
 *
 * A path is dotted ("a.b.c"; "a[].b" is accepted as the same). Where the path meets an array, each
 * element is followed, so a condition holds when any value reached satisfies it. A row without a
 * payload has no values at any path.
 *
 * Semantics per condition (v ranges over the non-null values reached, arrays flattened):
 *   match value  some v equals it (strings exactly; integers numerically, 5 matches 5.0; booleans)
 *   match any    some v equals one of the list          match except  some v equals none of it
 *   range        some numeric v satisfies every bound   values_count  the number of v is in range
 *   is_empty     no v at all                            is_null       the path reaches a null
 *   has_id       the row's id is listed
 *   must: all hold; should: at least one holds (an empty list holds); must_not: none holds. */
#ifndef VEXFS_FILTER_H
#define VEXFS_FILTER_H

#include <stddef.h>
#include <stdint.h>

#include "../buf.h"
#include "vexfs/vexfs.h"

enum {
  VX_F_ALL,      /* every child holds (must, and a condition with several checks) */
  VX_F_ANY,      /* some child holds, or there are none (should) */
  VX_F_NONE,     /* no child holds (must_not) */
  VX_F_MATCH,    /* values[first, +count): match value (count 1) or match any */
  VX_F_EXCEPT,   /* values[first, +count) */
  VX_F_RANGE,    /* bounds */
  VX_F_COUNT,    /* values_count: bounds */
  VX_F_IS_EMPTY,
  VX_F_IS_NULL,
  VX_F_HAS_ID,   /* ids[first, +count), sorted */
};

enum { VX_GT, VX_GTE, VX_LT, VX_LTE };

typedef struct vx_fseg {
  const char *s;
  uint32_t len;
} vx_fseg;

typedef struct vx_fnode {
  uint8_t kind;
  uint32_t first, count; /* children (kids), values or ids, by kind */
  uint32_t seg, nseg;    /* the path: segs[seg, +nseg) */
  double bound[4];       /* range bounds, indexed by VX_GT.. ; NaN when absent */
} vx_fnode;

#define VX_FILTER_BUFFERS 6

/* A compiled filter. The arrays are views into `owned`, pooled buffers (buf.h) that also hold
 * the filter's own packed JSON, which paths and values point into. */
typedef struct vx_filter_prog {
  const vx_fnode *nodes;  /* nodes[0] is the root */
  size_t nnodes;
  const uint32_t *kids;
  const uint8_t **values; /* packed values to match (strings, integers, booleans) */
  uint64_t *ids;
  const vx_fseg *segs;
  vx_buf owned[VX_FILTER_BUFFERS];
} vx_filter_prog;

/* Compiles a filter into *out, which the caller gives back with vx_filter_release (only after
 * VEXFS_OK). On error returns VEXFS_E_INVALID (or NOMEM) with a message naming the problem and
 * where it is, e.g. "vexfs_search: filter.must[1].range.gt: expected a number". Allocation-free
 * after warm-up: its memory comes from the scratch pool. */
vexfs_status vx_filter_compile(const char *fn, const char *json, vx_filter_prog *out);
void vx_filter_release(vx_filter_prog *f);

/* Whether a row with this payload (NULL: none) and id passes node `n` of f (0: the filter). */
int vx_filter_eval(const vx_filter_prog *f, uint32_t n, const uint8_t *payload, uint64_t id);

/* Calls fn for each value the path segs[0, n) reaches in payload (NULL: none; arrays flattened,
 * nulls included) until fn returns nonzero; returns that value, or 0. */
typedef int (*vx_leaf_fn)(void *ctx, const uint8_t *v);
int vx_path_each(const vx_fseg *segs, uint32_t n, const uint8_t *payload, vx_leaf_fn fn,
                 void *ctx);

/* Splits a dotted key into segments (pointing into key); -1 when a segment is empty. *n receives
 * the count; segs has room for max. */
int vx_path_split(const char *key, size_t len, vx_fseg *segs, uint32_t max, uint32_t *n);

/* Whether x satisfies bound[VX_GT..VX_LTE] (NaN bounds are absent). */
int vx_bounds_admit(const double *bound, double x);

/* The canonical bytes by which a value is matched and indexed as a keyword: 's'+UTF-8 for
 * strings, 'i'+int64 for integers (and integral doubles), 'u'+uint64 above INT64_MAX, 't'/'f'.
 * Returns the length (<= 9 for non-strings, which are written to out), or 0 when the value has
 * none (null, fractions, containers); for strings *str receives the bytes after 's'. */
size_t vx_keyword_of(const uint8_t *v, uint8_t out[9], const char **str);

#endif

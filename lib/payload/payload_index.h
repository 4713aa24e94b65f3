/* Payload indexes: per key, either a keyword index (each distinct value -> the rows holding it) or
 * a numeric index (every numeric value, sorted, for ranges). The planner (planner.c) asks them how
 * many rows a condition admits and for those rows.
 *
 * Rows appear once per distinct keyword they hold, and once per numeric value. Synchronisation is
 * the collection's: changes happen under its exclusive lock, queries under its shared lock. A
 * change that runs out of memory marks the index unusable (the planner then ignores it, results
 * stay exact) until it is created again. */
#ifndef VEXFS_PAYLOAD_INDEX_H
#define VEXFS_PAYLOAD_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "filter.h"
#include "payloads.h"


typedef struct vx_pindex vx_pindex;

/* Builds an index of `kind` over `key` from the payloads of rows [0, rows) (free rows hold none). */
vexfs_status vx_pindex_build(const char *fn, const char *key, vexfs_payload_index_kind kind,
                             const vx_payloads *p, size_t rows, vx_pindex **out);
void vx_pindex_free(vx_pindex *ix);

vexfs_payload_index_kind vx_pindex_kind(const vx_pindex *ix);
/* Whether the index covers the path segs[0, n) and is usable. */
int vx_pindex_serves(const vx_pindex *ix, const vx_fseg *segs, uint32_t n);
int vx_pindex_same_key(const vx_pindex *ix, const char *key);
const char *vx_pindex_key(const vx_pindex *ix);
size_t vx_pindex_memory(const vx_pindex *ix);

/* Adds or removes the entries of one row's payload (NULL: nothing). */
void vx_pindex_add(vx_pindex *ix, uint32_t slot, const uint8_t *payload);
void vx_pindex_remove(vx_pindex *ix, uint32_t slot, const uint8_t *payload);

/* Keyword index: the rows holding value v (a string, integer or boolean). */
const uint32_t *vx_pindex_rows_with(const vx_pindex *ix, const uint8_t *v, size_t *n);

/* Numeric index: entries within the bounds (filter.h VX_GT..). Writes their rows to out when not
 * NULL (room for the count first asked with out = NULL), and returns the count. */
size_t vx_pindex_rows_in(const vx_pindex *ix, const double *bound, uint32_t *out);

#endif

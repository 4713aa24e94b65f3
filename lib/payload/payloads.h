/* The payloads of one collection: a packed JSON object (json/packed.h) per row, or none.
 *
 * Each row's payload is one block of its own, found through a chunked array of pointers indexed by
 * slot (elements never move, so readers need no lock against growth). Synchronisation is the
 * collection's: pointers change only under its exclusive lock, or before a row is published. */
#ifndef VEXFS_PAYLOADS_H
#define VEXFS_PAYLOADS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "../chunked.h"
#include "vexfs/vexfs.h"

typedef struct vx_payloads {
  vx_chunked at;      /* const uint8_t *: the row's packed payload, or NULL */
  atomic_size_t bytes; /* packed bytes held, for metrics */
} vx_payloads;

void vx_payloads_init(vx_payloads *p);
void vx_payloads_destroy(vx_payloads *p, size_t rows);

/* Room for rows below `rows`. 0, or -1 when out of memory. */
int vx_payloads_reserve(vx_payloads *p, size_t rows);

static inline const uint8_t *vx_payload_of(const vx_payloads *p, size_t slot) {
  return slot < atomic_load_explicit(&p->at.capacity, memory_order_relaxed)
             ? *(const uint8_t *const *)vx_chunked_at(&p->at, slot)
             : NULL;
}

/* Sets a row's payload (taking ownership of `blob`, which may be NULL) and returns the one it had,
 * for the caller to release once no reader can see it. The slot must be reserved. */
const uint8_t *vx_payloads_swap(vx_payloads *p, size_t slot, const uint8_t *blob);

/* Parses one JSON object into a new packed block (vx_release). On failure returns the status,
 * with vx_fail's message as "<fn>: <what>: <problem>" (what, e.g. "row 3: payload").
 * VEXFS_MAX_PAYLOAD_BYTES bounds both the text and its compact form (vexfs_get_payload's, and
 * the snapshot's), which may be longer: numbers are written out, control characters escaped. */
vexfs_status vx_payload_parse(const char *fn, const char *what, const char *json,
                              uint8_t **blob);

/* VEXFS_E_INVALID when the compact JSON text of blob would exceed VEXFS_MAX_PAYLOAD_BYTES (as
 * a merge can make it). Only large payloads pay for the exact count. */
vexfs_status vx_payload_check_size(const char *fn, const char *what, const uint8_t *blob);

/* JSON text of a packed payload, for vexfs_free; NULL when out of memory. */
char *vx_payload_text(const uint8_t *blob);

#endif

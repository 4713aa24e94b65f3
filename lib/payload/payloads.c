#include "payloads.h"

#include <string.h>

#include "../alloc_internal.h"
#include "../buf.h"
#include "../errors_internal.h"
#include "../json/packed.h"

void vx_payloads_init(vx_payloads *p) {
  vx_chunked_init(&p->at, sizeof(const uint8_t *));
  atomic_init(&p->bytes, 0);
}

void vx_payloads_destroy(vx_payloads *p, size_t rows) {
  size_t cap = atomic_load(&p->at.capacity);
  for (size_t slot = 0; slot < rows && slot < cap; slot++)
    vx_release((void *)vx_payload_of(p, slot));
  vx_chunked_destroy(&p->at);
}

int vx_payloads_reserve(vx_payloads *p, size_t rows) { return vx_chunked_reserve(&p->at, rows); }

const uint8_t *vx_payloads_swap(vx_payloads *p, size_t slot, const uint8_t *blob) {
  const uint8_t **cell = vx_chunked_at(&p->at, slot);
  const uint8_t *old = *cell;
  *cell = blob;
  if (old) atomic_fetch_sub_explicit(&p->bytes, vx_j_size(old), memory_order_relaxed);
  if (blob) atomic_fetch_add_explicit(&p->bytes, vx_j_size(blob), memory_order_relaxed);
  return old;
}

vexfs_status vx_payload_check_size(const char *fn, const char *what, const uint8_t *blob) {
  size_t packed = vx_j_size(blob);
  if (packed <= (VEXFS_MAX_PAYLOAD_BYTES - 2) / 6) return VEXFS_OK; /* the text cannot be longer */
  size_t text = vx_json_text_size(blob);
  if (text <= VEXFS_MAX_PAYLOAD_BYTES) return VEXFS_OK;
  return vx_fail(VEXFS_E_INVALID,
                 "%s: %s is %zu bytes as compact JSON (numbers and escapes written out); the "
                 "limit is %u",
                 fn, what, text, VEXFS_MAX_PAYLOAD_BYTES);
}

vexfs_status vx_payload_parse(const char *fn, const char *what, const char *json,
                              uint8_t **blob) {
  *blob = NULL;
  size_t len = strnlen(json, (size_t)VEXFS_MAX_PAYLOAD_BYTES + 1);
  if (len > VEXFS_MAX_PAYLOAD_BYTES)
    return vx_fail(VEXFS_E_INVALID, "%s: %s is longer than %u bytes", fn, what,
                   VEXFS_MAX_PAYLOAD_BYTES);
  vx_buf b = {0};
  char error[160];
  int rc = vx_json_parse(json, len, &b, error, sizeof error);
  if (rc == -2) {
    vx_buf_free(&b);
    return vx_fail(VEXFS_E_NOMEM, "%s: %s: out of memory", fn, what);
  }
  if (rc != 0) {
    vx_buf_free(&b);
    return vx_fail(VEXFS_E_INVALID, "%s: %s is not valid JSON: %s", fn, what, error);
  }
  if (b.p[0] != VX_J_OBJECT) {
    vexfs_status st = vx_fail(VEXFS_E_INVALID, "%s: %s must be a JSON object, not %s", fn, what,
                              vx_j_type_name(b.p));
    vx_buf_free(&b);
    return st;
  }
  vexfs_status st = vx_payload_check_size(fn, what, b.p);
  if (st != VEXFS_OK) {
    vx_buf_free(&b);
    return st;
  }
  *blob = b.p; /* the buffer's bytes are one vx_alloc block: the caller owns them now */
  return VEXFS_OK;
}

char *vx_payload_text(const uint8_t *blob) {
  vx_buf out = {0};
  vx_json_write(blob, &out);
  return vx_buf_take_string(&out);
}

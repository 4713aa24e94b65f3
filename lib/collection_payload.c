/* Collections' payload calls: get/set payloads, payload indexes, and the payload steps of inserts
 * and removes. Locking follows collection.c: payload pointers and payload indexes change under
 * write_lock plus the exclusive rows_lock, and are read under the shared rows_lock. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc_internal.h"
#include "buf.h"
#include "collection_impl.h"
#include "errors_internal.h"
#include "json/packed.h"

vexfs_status vx_collection_parse_payloads(const char *fn, const char *const *json, size_t n,
                                          uint8_t **blobs) {
  for (size_t i = 0; i < n; i++) {
    blobs[i] = NULL;
    if (!json[i]) continue;
    char what[48];
    snprintf(what, sizeof what, "row %zu: payload", i);
    vexfs_status st = vx_payload_parse(fn, what, json[i], &blobs[i]);
    if (st != VEXFS_OK) {
      vx_collection_release_payloads(blobs, i);
      return st;
    }
  }
  return VEXFS_OK;
}

void vx_collection_release_payloads(uint8_t **blobs, size_t n) {
  for (size_t i = 0; i < n; i++) vx_release(blobs[i]);
}

void vx_collection_attach_payloads(vexfs_collection *c, const uint32_t *slots, uint8_t **blobs,
                                   size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (!blobs[i]) continue;
    vx_payloads_swap(&c->payloads, slots[i], blobs[i]); /* a new row had none */
    for (size_t x = 0; x < c->nindexes; x++) vx_pindex_add(c->indexes[x], slots[i], blobs[i]);
  }
}

void vx_collection_detach_payloads(vexfs_collection *c, const uint32_t *slots, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const uint8_t *old = vx_payload_of(&c->payloads, slots[i]);
    if (!old) continue;
    for (size_t x = 0; x < c->nindexes; x++) vx_pindex_remove(c->indexes[x], slots[i], old);
    vx_release((void *)vx_payloads_swap(&c->payloads, slots[i], NULL));
  }
}

VEXFS_API vexfs_status vexfs_get_payload(vexfs_collection *c, uint64_t id, char **json_out) {
  const char *fn = "vexfs_get_payload";
  if (json_out) *json_out = NULL;
  if (!c || !json_out)
    return vx_fail(VEXFS_E_INVALID, "%s: %s is NULL", fn, c ? "json_out" : "collection");
  vexfs_status st = VEXFS_OK;
  pthread_rwlock_rdlock(&c->rows_lock);
  uint32_t slot;
  if (!vx_idmap_find(&c->store.map, id, &slot)) {
    st = vx_fail(VEXFS_E_NOT_FOUND, "%s: id %" PRIu64 " is not in the collection", fn, id);
  } else {
    const uint8_t *blob = vx_payload_of(&c->payloads, slot);
    if (blob && !(*json_out = vx_payload_text(blob)))
      st = vx_fail(VEXFS_E_NOMEM, "%s: out of memory", fn);
  }
  pthread_rwlock_unlock(&c->rows_lock);
  return st;
}

VEXFS_API vexfs_status vexfs_set_payload(vexfs_collection *c, uint64_t id, const char *json,
                                         vexfs_payload_mode mode) {
  const char *fn = "vexfs_set_payload";
  if (!c) return vx_fail(VEXFS_E_INVALID, "%s: collection is NULL", fn);
  vexfs_status st = vx_journal_writable(c, fn);
  if (st != VEXFS_OK) return st;
  if (mode != VEXFS_PAYLOAD_REPLACE && mode != VEXFS_PAYLOAD_MERGE)
    return vx_fail(VEXFS_E_INVALID, "%s: unknown mode %d (REPLACE = 0, MERGE = 1)", fn, (int)mode);
  if (!json && mode == VEXFS_PAYLOAD_MERGE)
    return vx_fail(VEXFS_E_INVALID, "%s: json is NULL; merging needs an object", fn);
  uint8_t *blob = NULL;
  st = json ? vx_payload_parse(fn, "payload", json, &blob) : VEXFS_OK;
  if (st != VEXFS_OK) return st;

  pthread_mutex_lock(&c->write_lock);
  uint32_t slot;
  const uint8_t *base; /* the live payload a merge starts from: read here, never freed here */
  if (!vx_idmap_find(&c->store.map, id, &slot)) {
    st = vx_fail(VEXFS_E_NOT_FOUND, "%s: id %" PRIu64 " is not in the collection", fn, id);
  } else if (blob && vx_payloads_reserve(&c->payloads, (size_t)slot + 1) != 0) {
    st = vx_fail(VEXFS_E_NOMEM, "%s: out of memory", fn);
  } else if (mode == VEXFS_PAYLOAD_MERGE && (base = vx_payload_of(&c->payloads, slot))) {
    vx_buf merged = {0}; /* only writers change payloads, and this thread is the writer */
    vx_json_merge(base, blob, &merged);
    vx_release(blob);
    blob = merged.failed ? NULL : merged.p;
    if (merged.failed) {
      vx_buf_free(&merged);
      st = vx_fail(VEXFS_E_NOMEM, "%s: out of memory", fn);
    } else if ((st = vx_payload_check_size(fn, "the merged payload", blob)) != VEXFS_OK) {
      vx_release(blob);
      blob = NULL;
    }
  }
  if (st == VEXFS_OK) st = vx_journal_set_payload(c, fn, id, json, mode);
  const uint8_t *replaced = NULL; /* freed once no reader can see it */
  if (st == VEXFS_OK) {
    pthread_rwlock_wrlock(&c->rows_lock);
    const uint8_t *old = vx_payload_of(&c->payloads, slot);
    for (size_t x = 0; x < c->nindexes; x++) {
      vx_pindex_remove(c->indexes[x], slot, old);
      vx_pindex_add(c->indexes[x], slot, blob);
    }
    replaced = blob || old ? vx_payloads_swap(&c->payloads, slot, blob) : NULL;
    blob = NULL;
    pthread_rwlock_unlock(&c->rows_lock);
  }
  pthread_mutex_unlock(&c->write_lock);
  vx_release((void *)replaced);
  vx_release(blob);
  if (st == VEXFS_OK) vx_journal_after(c);
  return st;
}

/* Checks a payload index's key and kind. */
static vexfs_status check_index_args(const char *fn, vexfs_collection *c, const char *key,
                                     vexfs_payload_index_kind kind) {
  if (!c || !key) return vx_fail(VEXFS_E_INVALID, "%s: %s is NULL", fn, c ? "key" : "collection");
  vexfs_status st = vx_journal_writable(c, fn);
  if (st != VEXFS_OK) return st;
  if (kind != VEXFS_PAYLOAD_INDEX_KEYWORD && kind != VEXFS_PAYLOAD_INDEX_NUMERIC)
    return vx_fail(VEXFS_E_INVALID, "%s: unknown index kind %d (KEYWORD = 1, NUMERIC = 2)", fn,
                   (int)kind);
  vx_fseg segs[VEXFS_MAX_KEY_SEGMENTS];
  uint32_t n;
  size_t len = strnlen(key, VEXFS_MAX_KEY_BYTES + 1);
  if (len == 0 || len > VEXFS_MAX_KEY_BYTES ||
      vx_path_split(key, len, segs, VEXFS_MAX_KEY_SEGMENTS, &n) != 0)
    return vx_fail(VEXFS_E_INVALID,
                   "%s: key \"%.64s\" must be 1..%u bytes (VEXFS_MAX_KEY_BYTES) of at most %u "
                   "non-empty dotted segments",
                   fn, key, VEXFS_MAX_KEY_BYTES, VEXFS_MAX_KEY_SEGMENTS);
  return VEXFS_OK;
}

/* Position of the index of kind over key, or -1. */
static int find_index(const vexfs_collection *c, const char *key, vexfs_payload_index_kind kind) {
  for (size_t i = 0; i < c->nindexes; i++)
    if (vx_pindex_kind(c->indexes[i]) == kind && vx_pindex_same_key(c->indexes[i], key))
      return (int)i;
  return -1;
}

VEXFS_API vexfs_status vexfs_create_payload_index(vexfs_collection *c, const char *key,
                                                  vexfs_payload_index_kind kind) {
  const char *fn = "vexfs_create_payload_index";
  vexfs_status st = check_index_args(fn, c, key, kind);
  if (st != VEXFS_OK) return st;
  pthread_mutex_lock(&c->write_lock); /* payloads cannot change while it is built */
  vx_pindex *ix = NULL;
  if (find_index(c, key, kind) >= 0)
    st = vx_fail(VEXFS_E_EXISTS, "%s: \"%s\" already has a %s index", fn, key,
                 kind == VEXFS_PAYLOAD_INDEX_KEYWORD ? "keyword" : "numeric");
  else if (c->nindexes == VEXFS_MAX_PAYLOAD_INDEXES)
    st = vx_fail(VEXFS_E_INVALID, "%s: a collection has at most %u payload indexes", fn,
                 VEXFS_MAX_PAYLOAD_INDEXES);
  else
    st = vx_pindex_build(fn, key, kind, &c->payloads, atomic_load(&c->store.rows), &ix);
  if (st == VEXFS_OK && (st = vx_journal_payload_index(c, fn, key, kind, 1)) != VEXFS_OK) {
    vx_pindex_free(ix);
    ix = NULL;
  }
  if (st == VEXFS_OK) {
    pthread_rwlock_wrlock(&c->rows_lock);
    c->indexes[c->nindexes++] = ix;
    pthread_rwlock_unlock(&c->rows_lock);
  }
  pthread_mutex_unlock(&c->write_lock);
  return st;
}

/* Orders indexes by key, then kind, for vexfs_list_payload_indexes. */
static int index_order(const void *a, const void *b) {
  const vx_pindex *x = *(vx_pindex *const *)a, *y = *(vx_pindex *const *)b;
  int by_key = strcmp(vx_pindex_key(x), vx_pindex_key(y));
  return by_key ? by_key : (int)vx_pindex_kind(x) - (int)vx_pindex_kind(y);
}

/* A key as a JSON string: keys are any bytes but NUL, so quotes, backslashes and control
 * characters are escaped. */
static void put_json_string(vx_buf *b, const char *s) {
  vx_buf_byte(b, '"');
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\') {
      vx_buf_byte(b, '\\');
      vx_buf_byte(b, *p);
    } else if (*p < 0x20) {
      vx_buf_printf(b, "\\u%04x", *p);
    } else {
      vx_buf_byte(b, *p);
    }
  }
  vx_buf_byte(b, '"');
}

VEXFS_API vexfs_status vexfs_list_payload_indexes(vexfs_collection *c, char **json_out) {
  const char *fn = "vexfs_list_payload_indexes";
  if (json_out) *json_out = NULL;
  if (!c || !json_out) return vx_fail(VEXFS_E_INVALID, "%s: NULL argument", fn);
  vx_pindex *sorted[VEXFS_MAX_PAYLOAD_INDEXES];
  vx_buf b = {0};
  pthread_rwlock_rdlock(&c->rows_lock);
  size_t n = c->nindexes;
  memcpy(sorted, c->indexes, n * sizeof *sorted);
  qsort(sorted, n, sizeof *sorted, index_order);
  vx_buf_byte(&b, '[');
  for (size_t i = 0; i < n; i++) {
    vx_buf_printf(&b, "%s{\"key\":", i ? "," : "");
    put_json_string(&b, vx_pindex_key(sorted[i]));
    vx_buf_printf(&b, ",\"kind\":\"%s\"}",
                  vx_pindex_kind(sorted[i]) == VEXFS_PAYLOAD_INDEX_KEYWORD ? "keyword" : "numeric");
  }
  vx_buf_byte(&b, ']');
  pthread_rwlock_unlock(&c->rows_lock);
  *json_out = vx_buf_take_string(&b);
  return *json_out ? VEXFS_OK : vx_fail(VEXFS_E_NOMEM, "%s: out of memory", fn);
}

VEXFS_API vexfs_status vexfs_drop_payload_index(vexfs_collection *c, const char *key,
                                                vexfs_payload_index_kind kind) {
  const char *fn = "vexfs_drop_payload_index";
  vexfs_status st = check_index_args(fn, c, key, kind);
  if (st != VEXFS_OK) return st;
  pthread_mutex_lock(&c->write_lock);
  int at = find_index(c, key, kind);
  vx_pindex *gone = NULL;
  if (at < 0) {
    st = vx_fail(VEXFS_E_NOT_FOUND, "%s: \"%s\" has no %s index", fn, key,
                 kind == VEXFS_PAYLOAD_INDEX_KEYWORD ? "keyword" : "numeric");
  } else if ((st = vx_journal_payload_index(c, fn, key, kind, 0)) == VEXFS_OK) {
    pthread_rwlock_wrlock(&c->rows_lock);
    gone = c->indexes[at];
    c->indexes[at] = c->indexes[--c->nindexes];
    pthread_rwlock_unlock(&c->rows_lock);
  }
  pthread_mutex_unlock(&c->write_lock);
  vx_pindex_free(gone);
  return st;
}

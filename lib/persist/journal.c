/* Logging of collection calls and decoding of their records (see journal.h).
 *
 * Record bodies (little-endian, as the machine writes them; the format version is the log's):
 *   CREATE        u32 id, u32 name length, name, the configuration (config_codec.h)
 *   DROP          u32 id, u32 name length, name
 *   INSERT        u32 id, u32 has payloads, u64 n, u32 dim, u32 0, n u64 ids, n*dim floats, and
 *                 with payloads n u32 lengths (UINT32_MAX: none) then the JSON texts
 *   REMOVE        u32 id, u32 0, u64 n, n u64 ids
 *   SET_PAYLOAD   u32 id, u32 mode, u64 vector id, u32 has json, u32 0, the JSON text
 *   CREATE_INDEX, DROP_INDEX   u32 id, u32 kind, the key */
#include "journal.h"

#include <string.h>

#include "../alloc_internal.h"
#include "../buf.h"
#include "../collection_internal.h"
#include "../errors_internal.h"
#include "config_codec.h"

_Static_assert(VX_REC_UPSERT == VX_WAL_MAX_TYPE, "the log knows every record type");

static vx_wal *wal_of(const vexfs_collection *c) {
  const vx_db_link *link = vx_collection_link(c);
  return link ? link->wal : NULL;
}

/* The collection's number in records; only asked of collections whose calls are logged. */
static uint32_t number_of(const vexfs_collection *c) { return vx_collection_link(c)->id; }

int vx_journal_enabled(const vexfs_collection *c) { return wal_of(c) != NULL; }

int vx_journal_waits_for_device(const vexfs_collection *c) {
  return wal_of(c) && vx_wal_sync_mode(wal_of(c)) == VEXFS_SYNC_FULL;
}

vexfs_status vx_journal_writable(const vexfs_collection *c, const char *fn) {
  const vx_db_link *link = vx_collection_link(c);
  if (link && link->read_only)
    return vx_fail(VEXFS_E_READONLY, "%s: collection \"%s\" belongs to a read-only database", fn,
                   link->name);
  return VEXFS_OK;
}

typedef struct head16 {
  uint32_t a, b;
  uint64_t c;
} head16;

vexfs_status vx_journal_insert(vexfs_collection *c, const char *fn, const uint64_t *ids,
                               const float *vectors, const char *const *payloads, size_t n,
                               int upsert, vx_wal_ticket *ticket) {
  vx_wal *wal = wal_of(c);
  if (!wal) return VEXFS_OK;
  struct {
    head16 h;
    uint32_t dim, zero;
  } head = {{number_of(c), payloads != NULL, n}, vexfs_dim(c), 0};
  struct iovec parts[3] = {{&head, sizeof head},
                           {(void *)ids, n * sizeof *ids},
                           {(void *)vectors, n * head.dim * sizeof *vectors}};
  vx_buf texts = {0};
  if (payloads) {
    for (size_t i = 0; i < n; i++) {
      uint32_t len = payloads[i] ? (uint32_t)strlen(payloads[i]) : UINT32_MAX;
      vx_buf_put(&texts, &len, sizeof len);
    }
    for (size_t i = 0; i < n; i++)
      if (payloads[i]) vx_buf_put(&texts, payloads[i], strlen(payloads[i]));
    if (texts.failed) {
      vx_buf_free(&texts);
      return vx_fail(VEXFS_E_NOMEM, "%s: out of memory for the log record", fn);
    }
  }
  struct iovec all[4] = {parts[0], parts[1], parts[2], {texts.p, texts.n}};
  vexfs_status st = vx_wal_write(wal, fn, upsert ? VX_REC_UPSERT : VX_REC_INSERT, all, payloads ? 4 : 3, ticket);
  vx_buf_free(&texts);
  return st;
}

vexfs_status vx_journal_commit(vexfs_collection *c, const char *fn, const vx_wal_ticket *ticket) {
  vx_wal *wal = wal_of(c);
  return wal ? vx_wal_wait(wal, fn, ticket) : VEXFS_OK;
}

vexfs_status vx_journal_remove(vexfs_collection *c, const char *fn, const uint64_t *ids,
                               size_t n) {
  vx_wal *wal = wal_of(c);
  if (!wal) return VEXFS_OK;
  head16 head = {number_of(c), 0, n};
  struct iovec parts[2] = {{&head, sizeof head}, {(void *)ids, n * sizeof *ids}};
  return vx_wal_append(wal, fn, VX_REC_REMOVE, parts, 2);
}

vexfs_status vx_journal_set_payload(vexfs_collection *c, const char *fn, uint64_t id,
                                    const char *json, vexfs_payload_mode mode) {
  vx_wal *wal = wal_of(c);
  if (!wal) return VEXFS_OK;
  struct {
    head16 h;
    uint32_t has_json, zero;
  } head = {{number_of(c), (uint32_t)mode, id}, json != NULL, 0};
  struct iovec parts[2] = {{&head, sizeof head}, {(void *)json, json ? strlen(json) : 0}};
  return vx_wal_append(wal, fn, VX_REC_SET_PAYLOAD, parts, 2);
}

vexfs_status vx_journal_payload_index(vexfs_collection *c, const char *fn, const char *key,
                                      vexfs_payload_index_kind kind, int create) {
  vx_wal *wal = wal_of(c);
  if (!wal) return VEXFS_OK;
  uint32_t head[2] = {number_of(c), (uint32_t)kind};
  struct iovec parts[2] = {{head, sizeof head}, {(void *)key, strlen(key)}};
  return vx_wal_append(wal, fn, create ? VX_REC_CREATE_INDEX : VX_REC_DROP_INDEX, parts, 2);
}

vexfs_status vx_journal_create(vx_wal *wal, uint32_t id, const char *name,
                               const vexfs_collection *c) {
  if (!wal) return VEXFS_OK;
  uint32_t head[2] = {id, (uint32_t)strlen(name)};
  vexfs_collection_config cfg;
  vexfs_collection_config_init(&cfg);
  vexfs_collection_get_config(c, &cfg);
  uint8_t conf[VX_CONFIG_BYTES];
  vx_config_encode(&cfg, conf);
  struct iovec parts[3] = {{head, sizeof head}, {(void *)name, head[1]}, {conf, sizeof conf}};
  return vx_wal_append(wal, "vexfs_db_create_collection", VX_REC_CREATE, parts, 3);
}

vexfs_status vx_journal_drop(vx_wal *wal, uint32_t id, const char *name) {
  if (!wal) return VEXFS_OK;
  uint32_t head[2] = {id, (uint32_t)strlen(name)};
  struct iovec parts[2] = {{head, sizeof head}, {(void *)name, head[1]}};
  return vx_wal_append(wal, "vexfs_db_drop_collection", VX_REC_DROP, parts, 2);
}

void vx_journal_after(vexfs_collection *c) {
  const vx_db_link *link = vx_collection_link(c);
  if (link && link->wal && link->after_write) link->after_write(link->db);
}

/* ---- decoding ---- */

typedef struct cursor {
  const uint8_t *p;
  size_t left;
  int bad;
} cursor;

static const uint8_t *take(cursor *k, size_t n) {
  if (k->bad || n > k->left) {
    k->bad = 1;
    return NULL;
  }
  const uint8_t *at = k->p;
  k->p += n;
  k->left -= n;
  return at;
}
static uint32_t take32(cursor *k) {
  uint32_t v = 0;
  const uint8_t *p = take(k, 4);
  if (p) memcpy(&v, p, 4);
  return v;
}
static uint64_t take64(cursor *k) {
  uint64_t v = 0;
  const uint8_t *p = take(k, 8);
  if (p) memcpy(&v, p, 8);
  return v;
}

/* n items of `size` bytes, or NULL (bad) when the body is shorter. */
static const uint8_t *take_array(cursor *k, uint64_t n, size_t size) {
  size_t bytes;
  if (n > SIZE_MAX || !vx_mul_ok((size_t)n, size, &bytes)) {
    k->bad = 1;
    return NULL;
  }
  return take(k, bytes);
}

int vx_record_decode(uint32_t type, const uint8_t *body, size_t len, vx_record *r) {
  memset(r, 0, sizeof *r);
  cursor k = {body, len, 0};
  r->collection = take32(&k);
  switch (type) {
  case VX_REC_CREATE:
  case VX_REC_DROP:
    r->name_len = take32(&k);
    r->name = (const char *)take(&k, r->name_len);
    if (type == VX_REC_CREATE) {
      /* The config is the rest of the record: its length tells its format. */
      size_t len = k.left;
      const uint8_t *conf = take(&k, len);
      if (!conf || vx_config_decode(conf, len, &r->cfg) != 0) k.bad = 1;
    }
    break;
  case VX_REC_INSERT:
  case VX_REC_UPSERT: {
    uint32_t has_payloads = take32(&k);
    uint64_t n = take64(&k);
    r->dim = take32(&k);
    take32(&k);
    r->n = (size_t)n;
    r->ids = take_array(&k, n, 8);
    size_t floats;
    if (!vx_mul_ok((size_t)n, r->dim, &floats)) k.bad = 1;
    r->vectors = take_array(&k, floats, 4);
    if (has_payloads) {
      r->payload_lens = take_array(&k, n, 4);
      r->payload_text = k.p;
      size_t total = 0;
      for (size_t i = 0; !k.bad && i < r->n; i++) {
        uint32_t l;
        memcpy(&l, r->payload_lens + 4 * i, 4);
        if (l != UINT32_MAX) total += l;
        if (total > k.left) k.bad = 1;
      }
      take(&k, total);
    }
    break;
  }
  case VX_REC_REMOVE:
    take32(&k);
    r->n = (size_t)take64(&k);
    r->ids = take_array(&k, r->n, 8);
    break;
  case VX_REC_SET_PAYLOAD: {
    r->mode = take32(&k);
    r->id = take64(&k);
    uint32_t has_json = take32(&k);
    take32(&k);
    r->json_len = k.left;
    r->json = has_json ? (const char *)take(&k, k.left) : NULL;
    break;
  }
  case VX_REC_CREATE_INDEX:
  case VX_REC_DROP_INDEX:
    r->kind = take32(&k);
    r->key_len = k.left;
    r->key = (const char *)take(&k, k.left);
    break;
  default: return -1;
  }
  return k.bad || k.left != 0 ? -1 : 0;
}

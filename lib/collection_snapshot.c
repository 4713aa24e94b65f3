/* A collection's own part of a snapshot (persist/snapshot.h lists the sections): its rows' ids
 * and vectors, payloads, payload-index definitions and its index's state, each under the
 * collection's number. The database's snapshot (persist/snapshot.c) writes the collection's
 * description around it; like index->save/load, this is the collection's codec, so the
 * persistence layer never reaches into it. */
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "alloc_internal.h"
#include "collection_impl.h"
#include "collection_internal.h"
#include "errors_internal.h"
#include "payload/payloads.h"
#include "persist/snapshot.h"
#include "simd/simd_internal.h"

#define NO_PAYLOAD UINT32_MAX

void vx_collection_rows(const vexfs_collection *c, uint64_t *rows, uint64_t *live) {
  *rows = atomic_load_explicit(&c->store.rows, memory_order_acquire);
  *live = atomic_load_explicit(&c->store.live, memory_order_acquire);
}

#define ROWS_FILE_FORMAT 1u

/* MAPPED: the rows go to a new row file, which the ROWS_FILE section names. */
static void save_row_file(vexfs_collection *c, uint32_t id, size_t rows, vx_snap_writer *w,
                          const vx_checkpoint_ctx *ctx) {
  vx_rowfile_ref *ref = &c->rows_pending;
  vexfs_status st = vx_rowfile_write(ctx->dir, id, ctx->seq, &c->store, rows, ctx->sync, ref);
  if (st != VEXFS_OK) vx_snapw_fail(w, st);
  uint32_t head[2] = {ROWS_FILE_FORMAT, (uint32_t)strlen(ref->name)};
  uint64_t figures[3] = {ref->rows, ref->row_bytes, ref->checksum};
  vx_snapw_begin(w, VX_SEC_ROWS_FILE, id, 0);
  vx_snapw_put(w, head, sizeof head);
  vx_snapw_put(w, ref->name, head[1]);
  vx_snapw_put(w, figures, sizeof figures);
  vx_snapw_end(w);
}

#define CODES_FORMAT 1u

/* Coded stores: the codec, and the codes themselves where they are the rows (NONE). */
static void save_codes(const vx_store *s, uint32_t id, size_t rows, vx_snap_writer *w) {
  const vx_codec *cd = &s->codec;
  uint32_t head[4] = {CODES_FORMAT, (uint32_t)cd->kind, (uint32_t)cd->fitted,
                      (uint32_t)atomic_load_explicit(&((vx_store *)s)->codes_lossless,
                                                     memory_order_relaxed)};
  vx_snapw_begin(w, VX_SEC_CODES, id, 0);
  vx_snapw_put(w, head, sizeof head);
  if (cd->kind != VEXFS_STORAGE_F16) {
    size_t vec = s->dim * sizeof(float);
    vx_snapw_put(w, &cd->sq.scale, sizeof cd->sq.scale);
    vx_snapw_put(w, &cd->sq.inv_scale, sizeof cd->sq.inv_scale);
    vx_snapw_put(w, &cd->sq.lo_sq, sizeof cd->sq.lo_sq);
    vx_snapw_put(w, cd->sq.lo, vec);
    vx_snapw_put(w, cd->range_lo, vec);
    vx_snapw_put(w, cd->range_hi, vec);
  }
  if (!s->keeps_rows)
    for (size_t slot = 0; slot < rows; slot++)
      vx_snapw_put(w, vx_store_code(s, slot), cd->code_bytes);
  vx_snapw_end(w);
}

void vx_collection_save(vexfs_collection *c, uint32_t id, vx_snap_writer *w,
                        const vx_checkpoint_ctx *ctx) {
  const vx_store *s = &c->store;
  size_t rows = atomic_load_explicit(&s->rows, memory_order_acquire);
  vx_snapw_begin(w, VX_SEC_IDS, id, 0);
  for (size_t slot = 0; slot < rows; slot++) {
    uint64_t v = vx_store_id(s, slot);
    vx_snapw_put(w, &v, sizeof v);
  }
  vx_snapw_end(w);

  if (s->coded) save_codes(s, id, rows, w);
  if (c->cfg.rerank == VEXFS_RERANK_MAPPED) {
    save_row_file(c, id, rows, w, ctx);
  } else if (s->keeps_rows) {
    vx_snapw_begin(w, VX_SEC_VECTORS, id, 1);
    for (size_t slot = 0; slot < rows; slot++)
      vx_snapw_put(w, vx_store_row(s, slot), c->cfg.dim * sizeof(float));
    vx_snapw_end(w);
  }

  vx_snapw_begin(w, VX_SEC_PAYLOADS, id, 0);
  for (size_t slot = 0; slot < rows; slot++) {
    const uint8_t *blob = vx_payload_of(&c->payloads, slot);
    char *text = blob ? vx_payload_text(blob) : NULL;
    size_t len = text ? strlen(text) : 0;
    if (blob && !text) {
      vx_snapw_fail(w, vx_fail(VEXFS_E_NOMEM, "vexfs_db_checkpoint: out of memory"));
      break;
    }
    if (len > VEXFS_MAX_PAYLOAD_BYTES) { /* never written: the reader would refuse the file */
      vx_release(text);
      vx_snapw_fail(w, vx_fail(VEXFS_E_INVALID, "vexfs_db_checkpoint: the payload of id %" PRIu64
                               " is %zu bytes, above VEXFS_MAX_PAYLOAD_BYTES",
                               vx_store_id(s, slot), len));
      break;
    }
    uint32_t stored_len = text ? (uint32_t)len : NO_PAYLOAD;
    vx_snapw_put(w, &stored_len, sizeof stored_len);
    if (text) vx_snapw_put(w, text, len);
    vx_release(text);
  }
  vx_snapw_end(w);

  vx_snapw_begin(w, VX_SEC_PAYLOAD_INDEXES, id, 0);
  uint32_t nidx = (uint32_t)c->nindexes;
  vx_snapw_put(w, &nidx, sizeof nidx);
  for (size_t i = 0; i < c->nindexes; i++) {
    const char *key = vx_pindex_key(c->indexes[i]);
    uint32_t head[2] = {(uint32_t)vx_pindex_kind(c->indexes[i]), (uint32_t)strlen(key)};
    vx_snapw_put(w, head, sizeof head);
    vx_snapw_put(w, key, head[1]);
  }
  vx_snapw_end(w);

  if (c->index->save) {
    vx_snapw_begin(w, VX_SEC_GRAPH, id, 0);
    c->index->save(c->index_state, s, w);
    vx_snapw_end(w);
  }
}

/* ---- loading ---- */

static vexfs_status damaged(uint32_t id, const char *what) {
  return vx_fail(VEXFS_E_CORRUPT, "vexfs_db_open: the snapshot is damaged: collection %" PRIu32
                 ": %s", id, what);
}

/* Publishes the loaded rows of collection id (vx_store_finish_load), its failures as statuses. */
static vexfs_status finish_load(vx_store *s, uint32_t id, size_t rows) {
  int rc = vx_store_finish_load(s, rows);
  if (rc == -1) return vx_fail(VEXFS_E_NOMEM, "vexfs_db_open: out of memory for the id map");
  if (rc == -2) return damaged(id, "an id appears twice");
  return VEXFS_OK;
}

/* Opens the section of `kind` owned by id; VEXFS_E_CORRUPT when there is none. */
static vexfs_status open_section(vx_snap *snap, uint32_t kind, uint32_t id, vx_sec_reader **r) {
  for (size_t i = 0; i < vx_snap_count(snap); i++) {
    const vx_snap_section *sec = vx_snap_at(snap, i);
    if (sec->kind == kind && sec->owner == id) return vx_secr_open(snap, i, r);
  }
  *r = NULL;
  return damaged(id, "a section is missing");
}

/* Reads a ROWS_FILE section into *ref. */
static vexfs_status read_row_file_ref(vx_snap *snap, uint32_t id, vx_rowfile_ref *ref) {
  vx_sec_reader *r;
  vexfs_status st = open_section(snap, VX_SEC_ROWS_FILE, id, &r);
  if (st != VEXFS_OK) return st;
  uint32_t head[2];
  uint64_t figures[3];
  memset(ref, 0, sizeof *ref);
  int ok = !vx_secr_read(r, head, sizeof head) && head[0] == ROWS_FILE_FORMAT &&
           head[1] < sizeof ref->name && !vx_secr_read(r, ref->name, head[1]) &&
           !vx_secr_read(r, figures, sizeof figures) && vx_secr_left(r) == 0;
  vx_secr_close(r);
  if (!ok) return damaged(id, "its row file section is malformed");
  ref->name[head[1]] = '\0';
  ref->rows = figures[0];
  ref->row_bytes = figures[1];
  ref->checksum = figures[2];
  return VEXFS_OK;
}

/* MAPPED: ids from the snapshot, rows mapped from the row file it names. */
static vexfs_status load_mapped_rows(vx_snap *snap, vexfs_collection *c, uint32_t id,
                                     const char *dir, size_t rows) {
  if (!dir) return damaged(id, "its rows are in a row file, and there is no directory");
  vx_store *s = &c->store;
  vx_rowfile_ref ref;
  vx_sec_reader *ids = NULL;
  vexfs_status st = read_row_file_ref(snap, id, &ref);
  if (st == VEXFS_OK) st = open_section(snap, VX_SEC_IDS, id, &ids);
  if (st == VEXFS_OK && (vx_secr_left(ids) / sizeof(uint64_t) != rows || ref.rows != rows))
    st = damaged(id, "ids or its row file do not match its row count");
  if (st == VEXFS_OK && vx_store_reserve_load(s, rows) != 0)
    st = vx_fail(VEXFS_E_NOMEM, "vexfs_db_open: out of memory for %zu rows", rows);
  if (st == VEXFS_OK) st = vx_rowfile_load(dir, &ref, s, ids, id);
  if (st == VEXFS_OK && vx_secr_left(ids)) st = damaged(id, "ids have bytes past the last row");
  vx_secr_close(ids);
  if (st == VEXFS_OK) c->rows_file = ref;
  return st;
}

static vexfs_status load_rows(vx_snap *snap, vexfs_collection *c, uint32_t id, size_t rows) {
  vx_store *s = &c->store;
  vx_sec_reader *ids = NULL, *vecs = NULL;
  vexfs_status st = open_section(snap, VX_SEC_IDS, id, &ids);
  if (st == VEXFS_OK) st = open_section(snap, VX_SEC_VECTORS, id, &vecs);
  /* the sections must hold the rows the description claims, before memory is set aside */
  if (st == VEXFS_OK && (vx_secr_left(ids) / sizeof(uint64_t) != rows ||
                         vx_secr_left(vecs) / sizeof(float) / c->cfg.dim != rows))
    st = damaged(id, "ids or vectors do not match its row count");
  if (st == VEXFS_OK && vx_store_reserve_load(s, rows) != 0)
    st = vx_fail(VEXFS_E_NOMEM, "vexfs_db_open: out of memory for %zu rows", rows);
  const vx_kernels *kern = vx_simd();
  float *row = vx_alloc(c->cfg.dim * sizeof *row);
  if (st == VEXFS_OK && !row) st = vx_fail(VEXFS_E_NOMEM, "vexfs_db_open: out of memory");
  for (size_t slot = 0; st == VEXFS_OK && slot < rows; slot++) {
    uint64_t vid;
    if (vx_secr_read(ids, &vid, sizeof vid) || vx_secr_read(vecs, row, c->cfg.dim * sizeof *row)) {
      st = damaged(id, "ids or vectors are short");
      break;
    }
    float norm = kern->dot(row, row, c->cfg.dim);
    if (vid != VX_NO_ID && !vx_norm_acceptable(norm)) /* (a free row's bytes are never read) */
      st = damaged(id, "a vector is not finite or too large (VEXFS_MAX_SQUARED_NORM)");
    else
      vx_store_write(s, slot, row, vid, norm);
  }
  if (st == VEXFS_OK && (vx_secr_left(ids) || vx_secr_left(vecs)))
    st = damaged(id, "ids or vectors have bytes past the last row");
  if (st == VEXFS_OK) st = finish_load(s, id, rows);
  vx_release(row);
  vx_secr_close(ids);
  vx_secr_close(vecs);
  return st;
}

/* Whether a read quantiser is one the codec could have made: a finite positive scale with its
 * exact inverse, finite offsets whose sum of squares is the stored one, and ranges (once fitted)
 * that are finite, ordered and within what the codes cover. */
static int quantiser_valid(const vx_codec *cd) {
  const vx_sq8 *q = &cd->sq;
  if (!(q->scale > 0) || !isfinite(q->scale) || q->inv_scale != 1.0f / q->scale) return 0;
  double lo_sq = 0;
  for (uint32_t d = 0; d < cd->dim; d++) {
    if (!isfinite(q->lo[d])) return 0;
    lo_sq += (double)q->lo[d] * q->lo[d];
    if (cd->fitted && !(isfinite(cd->range_lo[d]) && isfinite(cd->range_hi[d]) &&
                        cd->range_lo[d] <= cd->range_hi[d]))
      return 0;
  }
  return lo_sq == q->lo_sq && (!cd->fitted || vx_sq8_covers(q, cd->range_lo, cd->range_hi));
}

/* Coded stores: reads the codec from CODES into the store, and leaves the reader at the codes
 * (NONE) in *codes, or closes it. */
static vexfs_status load_codec(vx_snap *snap, vexfs_collection *c, uint32_t id,
                               vx_sec_reader **codes) {
  vx_store *s = &c->store;
  vx_codec *cd = &s->codec;
  vx_sec_reader *r;
  vexfs_status st = open_section(snap, VX_SEC_CODES, id, &r);
  if (st != VEXFS_OK) return st;
  uint32_t head[4];
  size_t vec = s->dim * sizeof(float);
  int ok = !vx_secr_read(r, head, sizeof head) && head[0] == CODES_FORMAT &&
           head[1] == (uint32_t)cd->kind && head[2] <= 1 && head[3] <= 1;
  if (ok && cd->kind != VEXFS_STORAGE_F16) {
    cd->fitted = (int)head[2];
    ok = !vx_secr_read(r, &cd->sq.scale, sizeof cd->sq.scale) &&
         !vx_secr_read(r, &cd->sq.inv_scale, sizeof cd->sq.inv_scale) &&
         !vx_secr_read(r, &cd->sq.lo_sq, sizeof cd->sq.lo_sq) && !vx_secr_read(r, cd->sq.lo, vec) &&
         !vx_secr_read(r, cd->range_lo, vec) && !vx_secr_read(r, cd->range_hi, vec) &&
         quantiser_valid(cd);
  }
  if (!ok) {
    vx_secr_close(r);
    return damaged(id, "its codes' section is malformed or its quantiser impossible");
  }
  /* with rows, the codes are made again from them (and whether they are lossless with them) */
  atomic_store_explicit(&s->codes_lossless, s->keeps_rows ? 1 : (int)head[3], memory_order_relaxed);
  if (s->keeps_rows) vx_secr_close(r);
  else *codes = r;
  return VEXFS_OK;
}

/* NONE: ids and codes, each row's norm that of its decoded code. */
static vexfs_status load_coded_rows(vx_snap *snap, vexfs_collection *c, uint32_t id, size_t rows,
                                    vx_sec_reader *codes) {
  vx_store *s = &c->store;
  size_t bytes = s->codec.code_bytes;
  vx_sec_reader *ids = NULL;
  vexfs_status st = open_section(snap, VX_SEC_IDS, id, &ids);
  if (st == VEXFS_OK && (vx_secr_left(ids) / sizeof(uint64_t) != rows ||
                         vx_secr_left(codes) / bytes != rows || vx_secr_left(codes) % bytes))
    st = damaged(id, "ids or codes do not match its row count");
  if (st == VEXFS_OK && vx_store_reserve_load(s, rows) != 0)
    st = vx_fail(VEXFS_E_NOMEM, "vexfs_db_open: out of memory for %zu rows", rows);
  uint8_t *code = vx_alloc(bytes);
  float *vec = vx_alloc(c->cfg.dim * sizeof *vec);
  if (st == VEXFS_OK && (!code || !vec)) st = vx_fail(VEXFS_E_NOMEM, "vexfs_db_open: out of memory");
  const vx_kernels *kern = vx_simd();
  for (size_t slot = 0; st == VEXFS_OK && slot < rows; slot++) {
    uint64_t vid;
    if (vx_secr_read(ids, &vid, sizeof vid) || vx_secr_read(codes, code, bytes)) {
      st = damaged(id, "ids or codes are short");
      break;
    }
    vx_codec_decode(&s->codec, code, vec);
    float norm = kern->dot(vec, vec, c->cfg.dim);
    /* Finite, not within VEXFS_MAX_SQUARED_NORM: a row inserted within it may decode a little
     * past it (each coordinate within half a step, and a refit re-codes from the old code), and
     * the library must open the snapshots it writes. */
    if (vid != VX_NO_ID && !(norm <= FLT_MAX))
      st = damaged(id, "a code does not stand for a vector of finite squared norm");
    else
      vx_store_write_code(s, slot, code, vid, norm);
  }
  if (st == VEXFS_OK && vx_secr_left(ids)) st = damaged(id, "ids have bytes past the last row");
  if (st == VEXFS_OK) st = finish_load(s, id, rows);
  vx_release(code);
  vx_release(vec);
  vx_secr_close(ids);
  return st;
}

static vexfs_status load_payloads(vx_snap *snap, vexfs_collection *c, uint32_t id, size_t rows) {
  vx_sec_reader *r;
  vexfs_status st = open_section(snap, VX_SEC_PAYLOADS, id, &r);
  if (st == VEXFS_OK && vx_payloads_reserve(&c->payloads, rows) != 0)
    st = vx_fail(VEXFS_E_NOMEM, "vexfs_db_open: out of memory for payloads");
  char *text = NULL;
  size_t cap = 0;
  for (size_t slot = 0; st == VEXFS_OK && slot < rows; slot++) {
    uint32_t len;
    if (vx_secr_read(r, &len, sizeof len)) {
      st = damaged(id, "payloads are short");
      break;
    }
    if (len == NO_PAYLOAD) continue;
    if (vx_store_id(&c->store, slot) == VX_NO_ID || len > VEXFS_MAX_PAYLOAD_BYTES ||
        len > vx_secr_left(r)) {
      st = damaged(id, "a payload is out of place or too long");
      break;
    }
    if (len + (size_t)1 > cap) {
      vx_release(text);
      cap = len + (size_t)1;
      if (!(text = vx_alloc(cap))) {
        st = vx_fail(VEXFS_E_NOMEM, "vexfs_db_open: out of memory for payloads");
        break;
      }
    }
    vx_secr_read(r, text, len);
    text[len] = '\0';
    uint8_t *blob;
    st = vx_payload_parse("vexfs_db_open", "snapshot payload", text, &blob);
    if (st == VEXFS_OK) vx_payloads_swap(&c->payloads, slot, blob);
    else if (st != VEXFS_E_NOMEM) st = damaged(id, "a payload is not a JSON object");
  }
  if (st == VEXFS_OK && vx_secr_left(r)) st = damaged(id, "payloads have bytes past the last row");
  vx_release(text);
  vx_secr_close(r);
  return st;
}

static vexfs_status load_payload_indexes(vx_snap *snap, vexfs_collection *c, uint32_t id) {
  vx_sec_reader *r;
  vexfs_status st = open_section(snap, VX_SEC_PAYLOAD_INDEXES, id, &r);
  uint32_t n = 0;
  if (st == VEXFS_OK && vx_secr_read(r, &n, sizeof n)) st = damaged(id, "payload indexes are short");
  char key[VEXFS_MAX_KEY_BYTES + 1];
  for (uint32_t i = 0; st == VEXFS_OK && i < n; i++) {
    uint32_t head[2];
    if (vx_secr_read(r, head, sizeof head) || head[1] >= sizeof key ||
        vx_secr_read(r, key, head[1])) {
      st = damaged(id, "a payload index is malformed");
      break;
    }
    key[head[1]] = '\0';
    st = vexfs_create_payload_index(c, key, (vexfs_payload_index_kind)head[0]);
    if (st != VEXFS_OK && st != VEXFS_E_NOMEM) st = damaged(id, "a payload index is malformed");
  }
  if (st == VEXFS_OK && vx_secr_left(r)) st = damaged(id, "payload indexes have extra bytes");
  vx_secr_close(r);
  return st;
}

vexfs_status vx_collection_load(vexfs_collection *c, uint32_t id, vx_snap *snap, const char *dir,
                                uint64_t rows, uint64_t live) {
  if (rows > VX_MAX_ROWS) return damaged(id, "its row count is beyond any collection's");
  vx_sec_reader *codes = NULL;
  vexfs_status st = c->store.coded ? load_codec(snap, c, id, &codes) : VEXFS_OK;
  if (st == VEXFS_OK)
    st = codes                                     ? load_coded_rows(snap, c, id, (size_t)rows, codes)
         : c->cfg.rerank == VEXFS_RERANK_MAPPED ? load_mapped_rows(snap, c, id, dir, (size_t)rows)
                                                  : load_rows(snap, c, id, (size_t)rows);
  vx_secr_close(codes);
  if (st == VEXFS_OK && c->cfg.rerank == VEXFS_RERANK_MAPPED) {
    st = finish_load(&c->store, id, (size_t)rows);
    if (st == VEXFS_OK && c->store.coded) vx_store_encode_rows(&c->store, (size_t)rows);
  }
  if (st == VEXFS_OK && atomic_load(&c->store.live) != live)
    st = damaged(id, "its vector count does not match its ids");
  if (st == VEXFS_OK) st = load_payloads(snap, c, id, (size_t)rows);
  if (st == VEXFS_OK) st = load_payload_indexes(snap, c, id);
  if (st == VEXFS_OK && c->index->load) {
    vx_sec_reader *g;
    st = open_section(snap, VX_SEC_GRAPH, id, &g);
    if (st == VEXFS_OK) st = c->index->load(c->index_state, &c->store, g);
    vx_secr_close(g);
  }
  return st;
}

void vx_collection_commit_rows(vexfs_collection *c, const char *dir) {
  if (!c->rows_pending.name[0]) return;
  /* the pages hold the same bytes before and after, but a reader must not be inside them while
   * the mapping changes under it (the kernel's replacement is atomic; tools and the memory model
   * make no such promise) */
  pthread_rwlock_wrlock(&c->rows_lock);
  vx_rowfile_adopt(dir, &c->rows_pending, &c->store);
  pthread_rwlock_unlock(&c->rows_lock);
  c->rows_file = c->rows_pending;
  memset(&c->rows_pending, 0, sizeof c->rows_pending);
}

void vx_collection_abandon_rows(vexfs_collection *c) {
  memset(&c->rows_pending, 0, sizeof c->rows_pending);
}

const char *vx_collection_rows_file(const vexfs_collection *c) {
  return c->rows_file.name[0] ? c->rows_file.name : NULL;
}

/* Snapshot contents (see snapshot.h): per collection, the COLLECTION section (its number,
 * name, configuration and row counts) and then the collection's own sections
 * (vx_collection_save / vx_collection_load). */
#include "snapshot.h"

#include <inttypes.h>
#include <string.h>

#include "../collection_internal.h"
#include "../errors_internal.h"
#include "config_codec.h"
#include "journal.h"

/* ---- writing ---- */

static void write_collection(vx_snap_writer *w, vexfs_collection *c,
                             const vx_checkpoint_ctx *ctx) {
  const vx_db_link *link = vx_collection_link(c);
  uint32_t id = link->id, name_len = (uint32_t)strlen(link->name);
  vexfs_collection_config cfg;
  vexfs_collection_config_init(&cfg);
  vexfs_collection_get_config(c, &cfg);
  uint8_t config[VX_CONFIG_BYTES];
  vx_config_encode(&cfg, config);
  uint64_t counts[2];
  vx_collection_rows(c, &counts[0], &counts[1]);
  vx_snapw_begin(w, VX_SEC_COLLECTION, id, 0);
  vx_snapw_put(w, &id, sizeof id);
  vx_snapw_put(w, &name_len, sizeof name_len);
  vx_snapw_put(w, link->name, name_len);
  vx_snapw_put(w, config, sizeof config);
  vx_snapw_put(w, counts, sizeof counts);
  vx_snapw_end(w);
  vx_collection_save(c, id, w, ctx);
}

vexfs_status vx_snapshot_write(const char *path, const char *dir, vexfs_collection *const *cols,
                               size_t n, uint64_t seq, int sync) {
  vx_snap_writer *w;
  vexfs_status st = vx_snapw_open(path, &w);
  if (st != VEXFS_OK) return st;
  vx_checkpoint_ctx ctx = {dir, seq, sync};
  for (size_t i = 0; i < n; i++) write_collection(w, cols[i], &ctx);
  return vx_snapw_finish(w, seq, sync);
}

/* ---- loading ---- */

/* Creates the collection of the COLLECTION section i and loads its data. */
static vexfs_status load_collection(vx_snap *snap, size_t i, const char *dir, vx_adopt_fn adopt,
                                    void *ctx) {
  vx_sec_reader *r;
  vexfs_status st = vx_secr_open(snap, i, &r);
  if (st != VEXFS_OK) return st;
  uint32_t id, name_len, owner = vx_snap_at(snap, i)->owner;
  char name[VEXFS_MAX_NAME + 1];
  uint8_t config[VX_CONFIG_BYTES];
  uint64_t counts[2];
  vexfs_collection_config cfg;
  int ok = !vx_secr_read(r, &id, sizeof id) && !vx_secr_read(r, &name_len, sizeof name_len) &&
           name_len <= VEXFS_MAX_NAME && !vx_secr_read(r, name, name_len);
  /* The config is what the counts leave: its length tells its format. */
  size_t config_len = ok ? vx_secr_left(r) - sizeof counts : 0;
  ok = ok && vx_secr_left(r) >= sizeof counts && config_len <= sizeof config &&
       !vx_secr_read(r, config, config_len) && !vx_secr_read(r, counts, sizeof counts) &&
       vx_secr_left(r) == 0 && id == owner && vx_config_decode(config, config_len, &cfg) == 0;
  vx_secr_close(r);
  if (!ok)
    return vx_fail(VEXFS_E_CORRUPT,
                   "vexfs_db_open: the snapshot is damaged: collection %" PRIu32
                   ": its description is malformed",
                   owner);
  name[name_len] = '\0';
  vexfs_collection *c;
  st = vx_collection_create(&cfg, 1, &c);
  if (st != VEXFS_OK && st != VEXFS_E_NOMEM)
    st = vx_fail(VEXFS_E_CORRUPT,
                 "vexfs_db_open: the snapshot is damaged: collection %" PRIu32
                 ": its config is invalid: %s",
                 id, vexfs_last_error());
  if (st == VEXFS_OK) st = vx_collection_load(c, id, snap, dir, counts[0], counts[1]);
  if (st != VEXFS_OK) {
    vexfs_collection_free(c);
    return st;
  }
  return adopt(ctx, id, name, c);
}

vexfs_status vx_snapshot_load(vx_snap *snap, const char *dir, vx_adopt_fn adopt, void *ctx) {
  vexfs_status st = VEXFS_OK;
  for (size_t i = 0; st == VEXFS_OK && i < vx_snap_count(snap); i++)
    if (vx_snap_at(snap, i)->kind == VX_SEC_COLLECTION)
      st = load_collection(snap, i, dir, adopt, ctx);
  return st;
}

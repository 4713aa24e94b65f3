/* Crafted snapshots for the database suites: a snapshot rewritten section by section through
 * the library's own writer, so that every checksum is valid and only the reader's own checks
 * stand between the edit and a loaded collection. Include after <cmocka.h>. */
#ifndef VEXFS_TEST_SNAPSHOT_EDIT_H
#define VEXFS_TEST_SNAPSHOT_EDIT_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_util.h"
#include "persist/section.h"
#include "persist/snapshot.h"

static inline void put_u32(uint8_t *p, size_t at, uint32_t v) { memcpy(p + at, &v, 4); }

/* Changes a section's raw bytes (kind, owner) in place or by reallocating *p. */
typedef void (*section_edit)(uint32_t kind, uint8_t **p, size_t *n);

/* Rewrites the snapshot at path through the library's own writer, every section passed through
 * edit, so that every checksum is valid. */
static inline void rewrite_snapshot(const char *path, section_edit edit) {
  size_t n;
  uint8_t *bytes = db_read_file(path, &n);
  vx_snap *s;
  assert_int_equal(vx_snap_open_bytes(bytes, n, &s), VEXFS_OK);
  char temp[DB_PATH_MAX + 16];
  snprintf(temp, sizeof temp, "%s.crafted", path);
  vx_snap_writer *w;
  assert_int_equal(vx_snapw_open(temp, &w), VEXFS_OK);
  for (size_t i = 0; i < vx_snap_count(s); i++) {
    const vx_snap_section *sec = vx_snap_at(s, i);
    vx_sec_reader *r;
    assert_int_equal(vx_secr_open(s, i, &r), VEXFS_OK);
    size_t raw = (size_t)vx_secr_left(r);
    uint8_t *body = malloc(raw ? raw : 1);
    assert_int_equal(vx_secr_read(r, body, raw), 0);
    vx_secr_close(r);
    edit(sec->kind, &body, &raw);
    vx_snapw_begin(w, sec->kind, sec->owner, sec->kind == VX_SEC_VECTORS);
    vx_snapw_put(w, body, raw);
    vx_snapw_end(w);
    free(body);
  }
  assert_int_equal(vx_snapw_finish(w, vx_snap_seq(s), 0), VEXFS_OK);
  vx_snap_close(s);
  free(bytes);
  assert_int_equal(rename(temp, path), 0);
}

#endif

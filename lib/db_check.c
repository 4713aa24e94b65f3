/* vexfs_db_check: verifies a database directory without changing it (vexfs.h explains what it
 * reads). The database is opened read-only first: that takes the shared lock, so no writer can
 * change the files while they are read, and it loads every collection and replays the log, the
 * deepest check of the contents there is. Then every snapshot section and the log's tail are
 * read on their own, for what opening tolerates or does not read whole: a damaged last record
 * (which opening drops as a torn write) and section bytes the loader skips. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "alloc_internal.h"
#include "buf.h"
#include "errors_internal.h"
#include "persist/section.h"
#include "persist/wal.h"

#define FN "vexfs_db_check"

typedef struct snap_figures {
  int present;
  uint64_t bytes, sections, covers;
} snap_figures;

static char *join(const char *dir, const char *file) {
  vx_buf b = {0};
  vx_buf_printf(&b, "%s/%s", dir, file);
  return vx_buf_take_string(&b);
}

/* The calling thread's last message restated as this call's: the readers word theirs for
 * vexfs_db_open, and the snapshot's (the one file of its kind in a database) do not name the
 * file, so it is put in front: "vexfs_db_check: DIR/snapshot.vxs: the snapshot's HNSW graph is
 * damaged: ...". */
static vexfs_status restate(vexfs_status st, const char *snapshot_path) {
  char msg[1024];
  snprintf(msg, sizeof msg, "%s", vexfs_last_error());
  if (!strncmp(msg, FN ": ", sizeof FN + 1)) return st; /* already this call's */
  const char *rest = msg;
  static const char open_prefix[] = "vexfs_db_open: ";
  if (!strncmp(rest, open_prefix, sizeof open_prefix - 1)) rest += sizeof open_prefix - 1;
  if (!strncmp(rest, "the snapshot", strlen("the snapshot")) && !strstr(rest, snapshot_path))
    return vx_fail(st, "%s: %s: %s", FN, snapshot_path, rest);
  return vx_fail(st, "%s: %s", FN, rest);
}

/* Reads every section back whole: its checksum, then each block decoded. */
static vexfs_status check_snapshot(const char *path, snap_figures *out) {
  vx_snap *snap = NULL;
  int missing = 0;
  vexfs_status st = vx_snap_open(path, &snap, &missing);
  if (st != VEXFS_OK || missing) return st;
  struct stat sb;
  out->present = 1;
  out->bytes = stat(path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
  out->sections = vx_snap_count(snap);
  out->covers = vx_snap_seq(snap);
  uint8_t *chunk = vx_alloc(1u << 20);
  if (!chunk) st = vx_fail(VEXFS_E_NOMEM, "%s: out of memory", FN);
  for (size_t i = 0; st == VEXFS_OK && i < out->sections; i++) {
    vx_sec_reader *r = NULL;
    if ((st = vx_secr_open(snap, i, &r)) != VEXFS_OK) break;
    while (st == VEXFS_OK && vx_secr_left(r) > 0) {
      uint64_t left = vx_secr_left(r);
      size_t take = left < (1u << 20) ? (size_t)left : (size_t)1 << 20;
      if (vx_secr_read(r, chunk, take) != 0) {
        const vx_snap_section *sec = vx_snap_at(snap, i);
        st = vx_fail(VEXFS_E_CORRUPT,
                     "%s: the snapshot %s is damaged: section %zu (kind %" PRIu32
                     ", collection %" PRIu32 ") holds a block that does not decode",
                     FN, path, i, sec->kind, sec->owner);
      }
    }
    vx_secr_close(r);
  }
  vx_release(chunk);
  vx_snap_close(snap);
  return st;
}

static vexfs_status check_log(const char *path, uint64_t after, vx_wal_survey *out, int *present) {
  struct stat sb;
  *present = stat(path, &sb) == 0;
  *out = (vx_wal_survey){0};
  if (!*present) return VEXFS_OK;
  vx_wal *w = NULL;
  vexfs_status st = vx_wal_open(path, VEXFS_SYNC_OFF, 1, &w);
  if (st == VEXFS_OK) st = vx_wal_survey_records(w, after, out);
  vx_wal_close(w);
  if (st == VEXFS_OK && out->damaged_tail)
    st = vx_fail(VEXFS_E_CORRUPT,
                 "%s: the write-ahead log %s is damaged at byte %" PRIu64
                 ": record %" PRIu64 " there fails its checks (a write torn by a crash, or "
                 "damage); opening the database drops it and every record after it",
                 FN, path, out->end, out->damaged_seq);
  return st;
}

static void put_collections(vx_buf *b, vexfs_db *db) {
  char **names = NULL;
  size_t n = 0;
  if (vexfs_db_list_collections(db, &names, &n) != VEXFS_OK) {
    b->failed = 1;
    return;
  }
  vx_buf_printf(b, ",\"collections\":[");
  for (size_t i = 0; i < n; i++) {
    vexfs_collection *c = NULL;
    vexfs_db_get_collection(db, names[i], &c);
    /* names are [A-Za-z0-9_.-]: no escaping needed */
    vx_buf_printf(b, "%s{\"name\":\"%s\",\"vectors\":%zu}", i ? "," : "", names[i], vexfs_count(c));
  }
  vx_buf_printf(b, "]");
  vexfs_free(names);
}

/* Writes the JSON report; problem is NULL when all is well. */
static void put_report(vx_buf *b, const char *problem, const snap_figures *snap,
                       const vx_wal_survey *log, int log_present, vexfs_db *db) {
  vx_buf_printf(b, "{\"ok\":%s", problem ? "false" : "true");
  if (problem) {
    vx_buf_printf(b, ",\"problem\":\"");
    for (const unsigned char *p = (const unsigned char *)problem; *p; p++) {
      if (*p == '"' || *p == '\\') vx_buf_printf(b, "\\%c", *p);
      else if (*p < 0x20) vx_buf_printf(b, "\\u%04x", *p);
      else vx_buf_byte(b, *p);
    }
    vx_buf_byte(b, '"');
  }
  if (snap && snap->present)
    vx_buf_printf(b, ",\"snapshot\":{\"bytes\":%" PRIu64 ",\"sections\":%" PRIu64
                     ",\"covers_record\":%" PRIu64 "}",
                  snap->bytes, snap->sections, snap->covers);
  else
    vx_buf_printf(b, ",\"snapshot\":null");
  if (log && log_present)
    vx_buf_printf(b, ",\"log\":{\"bytes\":%" PRIu64 ",\"records\":%" PRIu64
                     ",\"first_record\":%" PRIu64 ",\"last_record\":%" PRIu64 "}",
                  log->bytes, log->records, log->first, log->last);
  else
    vx_buf_printf(b, ",\"log\":null");
  if (db) put_collections(b, db);
  vx_buf_byte(b, '}');
}

VEXFS_API vexfs_status vexfs_db_check(const char *path, char **report) {
  if (report) *report = NULL;
  if (!path || !*path) return vx_fail(VEXFS_E_INVALID, "%s: path is %s", FN, path ? "empty" : "NULL");
  char *snap_path = join(path, "snapshot.vxs"), *wal_path = join(path, "wal.log");
  vexfs_status st = VEXFS_OK;
  struct stat sb;
  if (!snap_path || !wal_path)
    st = vx_fail(VEXFS_E_NOMEM, "%s: out of memory", FN);
  else if (stat(path, &sb) != 0)
    st = vx_fail(VEXFS_E_IO, "%s: cannot read %s: %s", FN, path, strerror(errno));
  else if (stat(snap_path, &sb) != 0 && stat(wal_path, &sb) != 0)
    st = vx_fail(VEXFS_E_IO, "%s: %s holds no database (no snapshot.vxs, no wal.log)", FN, path);
  vexfs_db *db = NULL;
  if (st == VEXFS_OK) {
    vexfs_db_options o;
    vexfs_db_options_init(&o);
    o.read_only = 1;
    if ((st = vexfs_db_open(path, &o, &db)) != VEXFS_OK) st = restate(st, snap_path);
  }
  snap_figures snap = {0};
  vx_wal_survey log = {0};
  int log_present = 0;
  if (st == VEXFS_OK && (st = check_snapshot(snap_path, &snap)) != VEXFS_OK)
    st = restate(st, snap_path);
  if (st == VEXFS_OK && (st = check_log(wal_path, snap.covers, &log, &log_present)) != VEXFS_OK)
    st = restate(st, snap_path);
  if (report && (st == VEXFS_OK || st == VEXFS_E_CORRUPT)) {
    char problem[1024];
    snprintf(problem, sizeof problem, "%s", vexfs_last_error());
    vx_buf b = {0};
    put_report(&b, st == VEXFS_OK ? NULL : problem, &snap, &log, log_present,
               st == VEXFS_OK ? db : NULL);
    *report = vx_buf_take_string(&b);
    if (!*report) st = vx_fail(VEXFS_E_NOMEM, "%s: out of memory", FN);
  }
  if (db) vexfs_db_close(db); /* read-only: nothing to write */
  vx_release(snap_path);
  vx_release(wal_path);
  return st;
}

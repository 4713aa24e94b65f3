/* Databases: a directory of named collections made durable by a write-ahead log and snapshots
 * (persist/). This file holds the catalog of collections, the directory lock, opening (snapshot,
 * then log replay), checkpoints and closing.
 *
 * Locking: `lock` guards the catalog and serialises checkpoints with creating and dropping
 * collections. A checkpoint also takes every collection's write_lock (in catalog order, after
 * `lock`), so that no mutation is half-logged while the snapshot is written; mutations take their
 * collection's write_lock and then the log's own lock, never `lock`, except for the auto-
 * checkpoint they may run after releasing everything. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include "alloc_internal.h"
#include "collection_internal.h"
#include "errors_internal.h"
#include "persist/io.h"
#include "persist/journal.h"
#include "persist/rowfile.h"
#include "persist/snapshot.h"
#include "persist/wal.h"
#include "versioned.h"

#define DEFAULT_CHECKPOINT_BYTES ((uint64_t)64 << 20)

struct vexfs_db {
  vexfs_db_options opts;
  char *dir;                  /* NULL in memory */
  char *snapshot_path, *temp_path, *wal_path;
  int lock_fd;
  vx_wal *wal;                /* NULL in memory */
  pthread_mutex_t lock;
  vexfs_collection **cols;    /* the catalog, in creation order */
  size_t n, cap;
  uint32_t next_id;
  atomic_int checkpointing;   /* an automatic checkpoint is running */
};

VEXFS_API void vexfs_db_options_init_sized(vexfs_db_options *o, size_t size) {
  vexfs_db_options d = {.struct_size = sizeof d,
                        .sync = VEXFS_SYNC_FULL,
                        .wal_checkpoint_bytes = DEFAULT_CHECKPOINT_BYTES};
  vx_versioned_init(o, size, &d, sizeof d);
}

VEXFS_API void(vexfs_db_options_init)(vexfs_db_options *o) {
  vexfs_db_options_init_sized(o, VX_DB_OPTIONS_SIZE_0_1);
}

/* ---- names and the catalog ---- */

static vexfs_status check_name(const char *fn, const char *name) {
  if (!name) return vx_fail(VEXFS_E_INVALID, "%s: name is NULL", fn);
  size_t len = strnlen(name, VEXFS_MAX_NAME + 1);
  int ok = len >= 1 && len <= VEXFS_MAX_NAME && name[0] != '.';
  for (size_t i = 0; ok && i < len; i++) {
    char ch = name[i];
    ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
         ch == '_' || ch == '-' || ch == '.';
  }
  if (!ok)
    return vx_fail(VEXFS_E_INVALID,
                   "%s: collection name \"%.*s\" is not allowed: use 1..%u letters, digits, '_', "
                   "'-' or '.', not starting with '.'",
                   fn, (int)(len < 64 ? len : 64), name, VEXFS_MAX_NAME);
  return VEXFS_OK;
}

/* Position of the collection called name (or numbered id when name is NULL), or -1. Under lock. */
static ptrdiff_t find(const vexfs_db *db, const char *name, uint32_t id) {
  for (size_t i = 0; i < db->n; i++) {
    const vx_db_link *link = vx_collection_link(db->cols[i]);
    if (name ? strcmp(link->name, name) == 0 : link->id == id) return (ptrdiff_t)i;
  }
  return -1;
}

/* Makes room in the catalog for one more collection and returns the link it will have, so that
 * catalog_add cannot fail; NULL when out of memory. Under lock (or opening). */
static vx_db_link *catalog_reserve(vexfs_db *db) {
  if (db->n == db->cap) {
    size_t cap = db->cap ? 2 * db->cap : 8;
    vexfs_collection **grown = vx_alloc(cap * sizeof *grown);
    if (!grown) return NULL;
    if (db->n) memcpy(grown, db->cols, db->n * sizeof *grown);
    vx_release(db->cols);
    db->cols = grown;
    db->cap = cap;
  }
  return vx_calloc(1, sizeof(vx_db_link));
}

static void checkpoint_if_due(vexfs_db *db);

/* Gives c the reserved link and adds it to the catalog. */
static void catalog_add(vexfs_db *db, vx_db_link *link, uint32_t id, const char *name,
                        vexfs_collection *c) {
  link->db = db;
  link->after_write = checkpoint_if_due;
  link->id = id;
  snprintf(link->name, sizeof link->name, "%s", name);
  vx_collection_attach(c, link);
  db->cols[db->n++] = c;
  if (id >= db->next_id) db->next_id = id + 1;
}

/* Adds a collection the snapshot or the log holds; frees c on failure. While opening. */
static vexfs_status adopt(void *ctx, uint32_t id, const char *name, vexfs_collection *c) {
  vexfs_db *db = ctx;
  const char *fn = "vexfs_db_open";
  vx_db_link *link = catalog_reserve(db);
  vexfs_status st = VEXFS_OK;
  if (!link)
    st = vx_fail(VEXFS_E_NOMEM, "%s: out of memory", fn);
  else if (find(db, name, 0) >= 0 || find(db, NULL, id) >= 0)
    st = vx_fail(VEXFS_E_CORRUPT, "%s: collection \"%s\" (number %" PRIu32 ") appears twice",
                 fn, name, id);
  if (st != VEXFS_OK) {
    vx_release(link);
    vx_collection_destroy(c);
    return st;
  }
  catalog_add(db, link, id, name, c);
  return VEXFS_OK;
}

/* Takes the collection at `at` out of the catalog and frees it. */
static void drop_at(vexfs_db *db, size_t at) {
  vexfs_collection *c = db->cols[at];
  memmove(db->cols + at, db->cols + at + 1, (db->n - at - 1) * sizeof *db->cols);
  db->n--;
  vx_db_link *link = vx_collection_link(c);
  vx_collection_destroy(c);
  vx_release(link);
}

static const char *where(const vexfs_db *db) { return db->dir ? db->dir : "(in memory)"; }

/* ---- replay ---- */

/* VEXFS_E_CORRUPT for record seq; `cause` (the refusing call's message, or NULL) follows. */
static vexfs_status replay_failed(uint64_t seq, const char *why, const char *cause) {
  return vx_fail(VEXFS_E_CORRUPT, "vexfs_db_open: write-ahead log record %" PRIu64 " %s%s%s",
                 seq, why, cause ? ": " : "", cause ? cause : "");
}

/* Copies n*size unaligned bytes into a new aligned block. */
static void *aligned_copy(const uint8_t *p, size_t bytes) {
  void *out = vx_alloc(bytes ? bytes : 1);
  if (out && bytes) memcpy(out, p, bytes);
  return out;
}

/* Repeats a logged insert. */
static vexfs_status replay_insert(vexfs_collection *c, const vx_record *r, int upsert) {
  uint64_t *ids = aligned_copy(r->ids, r->n * sizeof *ids);
  float *vectors = aligned_copy(r->vectors, r->n * r->dim * sizeof *vectors);
  const char **texts = r->payload_lens ? vx_calloc(r->n ? r->n : 1, sizeof *texts) : NULL;
  char *arena = NULL;
  vexfs_status st = VEXFS_OK;
  if (!ids || !vectors || (r->payload_lens && !texts))
    st = vx_fail(VEXFS_E_NOMEM, "vexfs_db_open: out of memory replaying the log");
  if (st == VEXFS_OK && texts) { /* NUL-terminated copies of the JSON texts */
    size_t total = 0;
    for (size_t i = 0; i < r->n; i++) {
      uint32_t len;
      memcpy(&len, r->payload_lens + 4 * i, 4);
      total += len == UINT32_MAX ? 0 : (size_t)len + 1;
    }
    arena = vx_alloc(total ? total : 1);
    if (!arena) st = vx_fail(VEXFS_E_NOMEM, "vexfs_db_open: out of memory replaying the log");
    const uint8_t *src = r->payload_text;
    char *dst = arena;
    for (size_t i = 0; arena && i < r->n; i++) {
      uint32_t len;
      memcpy(&len, r->payload_lens + 4 * i, 4);
      if (len == UINT32_MAX) continue;
      memcpy(dst, src, len);
      dst[len] = '\0';
      texts[i] = dst;
      dst += len + 1;
      src += len;
    }
  }
  if (st == VEXFS_OK)
    st = upsert ? vexfs_upsert(c, ids, vectors, texts, r->n)
                : vexfs_insert_with_payload(c, ids, vectors, texts, r->n);
  vx_release(ids);
  vx_release(vectors);
  vx_release(texts);
  vx_release(arena);
  return st;
}

/* A NUL-terminated copy of n bytes, or NULL when out of memory. */
static char *text_copy(const char *p, size_t n) {
  char *s = vx_alloc(n + 1);
  if (s) {
    if (n) memcpy(s, p, n);
    s[n] = '\0';
  }
  return s;
}

static vexfs_status replay_record(void *ctx, uint64_t seq, uint32_t type, const uint8_t *body,
                                  size_t len) {
  vexfs_db *db = ctx;
  vx_record r;
  if (vx_record_decode(type, body, len, &r) != 0) return replay_failed(seq, "is malformed", NULL);
  vexfs_status st = VEXFS_OK;
  if (type == VX_REC_CREATE || type == VX_REC_DROP) {
    char *name = text_copy(r.name, r.name_len);
    if (!name) return vx_fail(VEXFS_E_NOMEM, "vexfs_db_open: out of memory replaying the log");
    if (type == VX_REC_CREATE) {
      vexfs_collection *c;
      if (check_name("vexfs_db_open", name) != VEXFS_OK ||
          vx_collection_create(&r.cfg, 1, &c) != VEXFS_OK)
        st = replay_failed(seq, "creates an invalid collection", vexfs_last_error());
      else
        st = adopt(db, r.collection, name, c);
    } else {
      ptrdiff_t at = find(db, NULL, r.collection);
      if (at < 0 || strcmp(vx_collection_link(db->cols[at])->name, name) != 0) {
        st = replay_failed(seq, "drops a collection that does not exist", NULL);
      } else {
        drop_at(db, (size_t)at);
      }
    }
    vx_release(name);
    return st;
  }
  ptrdiff_t at = find(db, NULL, r.collection);
  if (at < 0) return replay_failed(seq, "is for a collection that does not exist", NULL);
  vexfs_collection *c = db->cols[at];
  switch (type) {
  case VX_REC_INSERT:
  case VX_REC_UPSERT:
    st = r.dim != vexfs_dim(c) ? vx_fail(VEXFS_E_DIMENSION,
                                         "its vectors have %" PRIu32 " dimensions, not %" PRIu32,
                                         r.dim, vexfs_dim(c))
                               : replay_insert(c, &r, type == VX_REC_UPSERT);
    break;
  case VX_REC_REMOVE: {
    uint64_t *ids = aligned_copy(r.ids, r.n * sizeof *ids);
    st = ids ? vexfs_remove(c, ids, r.n) : VEXFS_E_NOMEM;
    vx_release(ids);
    break;
  }
  case VX_REC_SET_PAYLOAD: {
    char *json = r.json ? text_copy(r.json, r.json_len) : NULL;
    st = r.json && !json ? VEXFS_E_NOMEM
                         : vexfs_set_payload(c, r.id, json, (vexfs_payload_mode)r.mode);
    vx_release(json);
    break;
  }
  default: { /* payload indexes */
    char *key = text_copy(r.key, r.key_len);
    vexfs_payload_index_kind kind = (vexfs_payload_index_kind)r.kind;
    st = !key ? VEXFS_E_NOMEM
              : type == VX_REC_CREATE_INDEX ? vexfs_create_payload_index(c, key, kind)
                                            : vexfs_drop_payload_index(c, key, kind);
    vx_release(key);
  }
  }
  if (st == VEXFS_E_NOMEM) return vx_fail(st, "vexfs_db_open: out of memory replaying the log");
  return st == VEXFS_OK ? st : replay_failed(seq, "does not apply", vexfs_last_error());
}

/* ---- open / close ---- */

static char *join(const char *dir, const char *file) {
  size_t n = strlen(dir) + strlen(file) + 2;
  char *p = vx_alloc(n);
  if (p) snprintf(p, n, "%s/%s", dir, file);
  return p;
}

static void free_db(vexfs_db *db) {
  while (db->n) drop_at(db, db->n - 1);
  vx_release(db->cols);
  vx_wal_close(db->wal);
  if (db->lock_fd >= 0) close(db->lock_fd); /* releases the flock */
  pthread_mutex_destroy(&db->lock);
  vx_release(db->dir);
  vx_release(db->snapshot_path);
  vx_release(db->temp_path);
  vx_release(db->wal_path);
  vx_release(db);
}

/* Creates the directory when missing and takes its lock (shared for read-only handles). */
static vexfs_status lock_directory(vexfs_db *db) {
  const char *fn = "vexfs_db_open";
  if (!db->opts.read_only && mkdir(db->dir, 0755) != 0 && errno != EEXIST)
    return vx_fail(VEXFS_E_IO, "%s: cannot create the database directory %s: %s", fn, db->dir,
                   strerror(errno));
  struct stat sb;
  if (stat(db->dir, &sb) != 0)
    return vx_fail(VEXFS_E_IO, "%s: cannot open the database directory %s: %s", fn, db->dir,
                   strerror(errno));
  if (!S_ISDIR(sb.st_mode))
    return vx_fail(VEXFS_E_IO, "%s: %s is not a directory", fn, db->dir);
  char *path = join(db->dir, "LOCK");
  if (!path) return vx_fail(VEXFS_E_NOMEM, "%s: out of memory", fn);
  db->lock_fd = open(path, (db->opts.read_only ? O_RDONLY : O_RDWR | O_CREAT) | O_CLOEXEC, 0644);
  int err = errno;
  vx_release(path);
  if (db->lock_fd < 0 && db->opts.read_only && err == ENOENT)
    return vx_fail(VEXFS_E_IO, "%s: %s holds no database to open read-only", fn, db->dir);
  if (db->lock_fd < 0)
    return vx_fail(VEXFS_E_IO, "%s: cannot open %s/LOCK: %s", fn, db->dir, strerror(err));
  if (flock(db->lock_fd, (db->opts.read_only ? LOCK_SH : LOCK_EX) | LOCK_NB) != 0)
    return errno == EWOULDBLOCK
               ? vx_fail(VEXFS_E_BUSY,
                         "%s: the database %s is open for writing by another handle or process%s",
                         fn, db->dir, db->opts.read_only ? "" : " (or read-only by others)")
               : vx_fail(VEXFS_E_IO, "%s: cannot lock %s/LOCK: %s", fn, db->dir,
                         strerror(errno));
  return VEXFS_OK;
}

/* Deletes the row files (persist/rowfile.h) of the directory that no collection's snapshot in
 * force names: those of dropped collections and of earlier checkpoints, once a checkpoint has
 * put its snapshot in force; and, always, temporaries of checkpoints that never finished. Best
 * effort: a file left behind is deleted next time. */
static void sweep_row_files(vexfs_db *db, int named_too) {
  DIR *d = opendir(db->dir);
  if (!d) return;
  for (struct dirent *e; (e = readdir(d));) {
    if (!vx_rowfile_is_name(e->d_name) || (!named_too && vx_rowfile_name_ok(e->d_name))) continue;
    int named = 0;
    for (size_t i = 0; i < db->n && !named; i++) {
      const char *mine = vx_collection_rows_file(db->cols[i]);
      named = mine && strcmp(mine, e->d_name) == 0;
    }
    if (!named) unlinkat(dirfd(d), e->d_name, 0);
  }
  closedir(d);
}

/* Loads the snapshot and replays the log after it. */
static vexfs_status load(vexfs_db *db) {
  if (!db->opts.read_only) unlink(db->temp_path); /* a checkpoint that never finished */
  if (!db->opts.read_only) sweep_row_files(db, 0);
  vx_snap *snap = NULL;
  int missing;
  vexfs_status st = vx_snap_open(db->snapshot_path, &snap, &missing);
  uint64_t seq = 0;
  if (st == VEXFS_OK && snap) {
    seq = vx_snap_seq(snap);
    st = vx_snapshot_load(snap, db->dir, adopt, db);
    vx_snap_close(snap);
  }
  if (st == VEXFS_OK) st = vx_wal_open(db->wal_path, db->opts.sync, db->opts.read_only, &db->wal);
  if (st == VEXFS_OK) st = vx_wal_replay(db->wal, seq, replay_record, db);
  return st;
}

static vexfs_status check_options(const vexfs_db_options *opts, vexfs_db_options *out) {
  vexfs_db_options_init(out);
  if (!opts) return VEXFS_OK;
  vexfs_status st = vx_versioned_read("vexfs_db_open", "opts", &vx_db_options_kind, out, opts);
  if (st != VEXFS_OK) return st;
  if (out->sync != VEXFS_SYNC_OFF && out->sync != VEXFS_SYNC_NORMAL && out->sync != VEXFS_SYNC_FULL)
    return vx_fail(VEXFS_E_INVALID,
                   "vexfs_db_open: unknown sync mode %d (OFF = 0, NORMAL = 1, FULL = 2)",
                   (int)out->sync);
  return VEXFS_OK;
}

VEXFS_API vexfs_status vexfs_db_open(const char *path, const vexfs_db_options *opts,
                                     vexfs_db **out) {
  const char *fn = "vexfs_db_open";
  if (out) *out = NULL;
  if (!out) return vx_fail(VEXFS_E_INVALID, "%s: out is NULL", fn);
  vexfs_db_options o;
  vexfs_status st = check_options(opts, &o);
  if (st != VEXFS_OK) return st;
  if (path && !*path) return vx_fail(VEXFS_E_INVALID, "%s: path is empty (NULL: in memory)", fn);
  vexfs_db *db = vx_calloc(1, sizeof *db);
  if (!db) return vx_fail(VEXFS_E_NOMEM, "%s: out of memory", fn);
  db->opts = o;
  db->lock_fd = -1;
  pthread_mutex_init(&db->lock, NULL);
  atomic_init(&db->checkpointing, 0);
  if (path) {
    db->dir = join(path, ".");
    db->snapshot_path = join(path, "snapshot.vxs");
    db->temp_path = join(path, "snapshot.tmp");
    db->wal_path = join(path, "wal.log");
    if (db->dir) db->dir[strlen(db->dir) - 2] = '\0'; /* join added "/." */
    if (!db->dir || !db->snapshot_path || !db->temp_path || !db->wal_path)
      st = vx_fail(VEXFS_E_NOMEM, "%s: out of memory", fn);
    if (st == VEXFS_OK) st = lock_directory(db);
    if (st == VEXFS_OK) st = load(db);
    /* Replay went through the ordinary calls, with nothing logged and nothing refused; from now
     * on writes are logged, or refused by a read-only handle. */
    for (size_t i = 0; st == VEXFS_OK && i < db->n; i++) {
      vx_collection_link(db->cols[i])->wal = db->opts.read_only ? NULL : db->wal;
      vx_collection_link(db->cols[i])->read_only = db->opts.read_only != 0;
    }
  }
  if (st != VEXFS_OK) {
    free_db(db);
    return st;
  }
  *out = db;
  return VEXFS_OK;
}

/* ---- checkpoints ---- */

/* How long a log file may be and still be recycled at a checkpoint: twice the size that triggers
 * one (a checkpoint starts after the record that crossed it), or the default's when automatic
 * checkpoints are off. */
static uint64_t recycled_log_bytes(const vexfs_db *db) {
  uint64_t trigger = db->opts.wal_checkpoint_bytes;
  return 2 * (trigger ? trigger : DEFAULT_CHECKPOINT_BYTES);
}

/* Writes the snapshot and empties the log (recycling its file). Under db->lock. */
static vexfs_status checkpoint_locked(vexfs_db *db) {
  if (!db->wal || db->opts.read_only) return VEXFS_OK;
  const char *fn = "vexfs_db_checkpoint";
  for (size_t i = 0; i < db->n; i++) vx_collection_hold_writes(db->cols[i]);
  int sync = db->opts.sync != VEXFS_SYNC_OFF;
  vexfs_status st = vx_snapshot_write(db->temp_path, db->dir, db->cols, db->n,
                                      vx_wal_last_seq(db->wal), sync);
  if (st == VEXFS_OK && vx_io_rename(db->temp_path, db->snapshot_path) != 0) {
    st = vx_fail(VEXFS_E_IO, "%s: cannot rename %s to %s: %s", fn, db->temp_path,
                 db->snapshot_path, strerror(errno));
    unlink(db->temp_path);
  }
  /* Once renamed the snapshot is in force; the directory sync makes the rename durable before the
   * log is emptied, or a power cut could bring back the old snapshot without the log. */
  if (st == VEXFS_OK && sync && vx_io_sync_dir(db->dir) != 0)
    st = vx_fail(VEXFS_E_IO, "%s: cannot sync the directory %s: %s", fn, db->dir,
                 strerror(errno));
  /* MAPPED collections' rows move to the files the snapshot in force names (on failure, the old
   * snapshot and its files stay in force) */
  for (size_t i = 0; i < db->n; i++) {
    if (st == VEXFS_OK) vx_collection_commit_rows(db->cols[i], db->dir);
    else vx_collection_abandon_rows(db->cols[i]);
  }
  if (st == VEXFS_OK) sweep_row_files(db, 1);
  if (st == VEXFS_OK) st = vx_wal_reset(db->wal, recycled_log_bytes(db));
  for (size_t i = db->n; i-- > 0;) vx_collection_release_writes(db->cols[i]);
  return st;
}

VEXFS_API vexfs_status vexfs_db_checkpoint(vexfs_db *db) {
  if (!db) return vx_fail(VEXFS_E_INVALID, "vexfs_db_checkpoint: db is NULL");
  pthread_mutex_lock(&db->lock);
  vexfs_status st = checkpoint_locked(db);
  pthread_mutex_unlock(&db->lock);
  return st;
}

/* Run by mutating calls after they released their locks (the link's after_write, journal.c). A
 * failure here leaves the records in the log, where they are safe; the next checkpoint tries
 * again. */
static void checkpoint_if_due(vexfs_db *db) {
  uint64_t limit = db->opts.wal_checkpoint_bytes;
  if (!limit || vx_wal_bytes(db->wal) < limit) return;
  if (atomic_exchange(&db->checkpointing, 1)) return; /* another thread is on it */
  pthread_mutex_lock(&db->lock);
  if (vx_wal_bytes(db->wal) >= limit) checkpoint_locked(db);
  pthread_mutex_unlock(&db->lock);
  atomic_store(&db->checkpointing, 0);
}

VEXFS_API vexfs_status vexfs_db_close(vexfs_db *db) {
  if (!db) return VEXFS_OK;
  vexfs_status st = VEXFS_OK;
  if (db->wal && !db->opts.read_only && vx_wal_bytes(db->wal) > 0) st = checkpoint_locked(db);
  if (db->wal && !db->opts.read_only && st == VEXFS_OK) vx_wal_trim(db->wal);
  free_db(db);
  return st;
}

/* ---- collections ---- */

VEXFS_API vexfs_status vexfs_db_create_collection(vexfs_db *db, const char *name,
                                                  const vexfs_collection_config *cfg,
                                                  vexfs_collection **out) {
  const char *fn = "vexfs_db_create_collection";
  if (out) *out = NULL;
  if (!db) return vx_fail(VEXFS_E_INVALID, "%s: db is NULL", fn);
  vexfs_status st = check_name(fn, name);
  if (st != VEXFS_OK) return st;
  if (db->opts.read_only)
    return vx_fail(VEXFS_E_READONLY, "%s: the database %s is open read-only", fn, where(db));
  vexfs_collection *c;
  if ((st = vx_collection_create(cfg, db->dir != NULL, &c)) != VEXFS_OK) return st;
  pthread_mutex_lock(&db->lock);
  vx_db_link *link = NULL;
  if (find(db, name, 0) >= 0)
    st = vx_fail(VEXFS_E_EXISTS, "%s: a collection called \"%s\" exists", fn, name);
  else if (!(link = catalog_reserve(db))) /* before the record: nothing may fail after it */
    st = vx_fail(VEXFS_E_NOMEM, "%s: out of memory", fn);
  else
    st = vx_journal_create(db->wal, db->next_id, name, c);
  if (st == VEXFS_OK) {
    catalog_add(db, link, db->next_id, name, c);
    link->wal = db->wal;
    if (out) *out = c;
  } else {
    vx_release(link);
    vx_collection_destroy(c);
  }
  pthread_mutex_unlock(&db->lock);
  return st;
}

VEXFS_API vexfs_status vexfs_db_get_collection(vexfs_db *db, const char *name,
                                               vexfs_collection **out) {
  const char *fn = "vexfs_db_get_collection";
  if (out) *out = NULL;
  if (!db || !name || !out)
    return vx_fail(VEXFS_E_INVALID, "%s: %s is NULL", fn, !db ? "db" : !name ? "name" : "out");
  pthread_mutex_lock(&db->lock);
  ptrdiff_t at = find(db, name, 0);
  if (at >= 0) *out = db->cols[at];
  pthread_mutex_unlock(&db->lock);
  if (at < 0) return vx_fail(VEXFS_E_NOT_FOUND, "%s: no collection is called \"%s\"", fn, name);
  return VEXFS_OK;
}

VEXFS_API vexfs_status vexfs_db_drop_collection(vexfs_db *db, const char *name) {
  const char *fn = "vexfs_db_drop_collection";
  if (!db || !name) return vx_fail(VEXFS_E_INVALID, "%s: %s is NULL", fn, db ? "name" : "db");
  if (db->opts.read_only)
    return vx_fail(VEXFS_E_READONLY, "%s: the database %s is open read-only", fn, where(db));
  pthread_mutex_lock(&db->lock);
  ptrdiff_t at = find(db, name, 0);
  vexfs_status st = VEXFS_OK;
  if (at < 0)
    st = vx_fail(VEXFS_E_NOT_FOUND, "%s: no collection is called \"%s\"", fn, name);
  else if ((st = vx_journal_drop(db->wal, vx_collection_link(db->cols[at])->id, name)) == VEXFS_OK)
    drop_at(db, (size_t)at);
  pthread_mutex_unlock(&db->lock);
  return st;
}

static int by_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

VEXFS_API vexfs_status vexfs_db_list_collections(vexfs_db *db, char ***names, size_t *n) {
  const char *fn = "vexfs_db_list_collections";
  if (names) *names = NULL;
  if (n) *n = 0;
  if (!db || !names || !n)
    return vx_fail(VEXFS_E_INVALID, "%s: %s is NULL", fn, !db ? "db" : !names ? "names" : "n");
  pthread_mutex_lock(&db->lock);
  size_t bytes = db->n * sizeof(char *);
  for (size_t i = 0; i < db->n; i++) bytes += strlen(vx_collection_link(db->cols[i])->name) + 1;
  char **list = db->n ? vx_alloc(bytes) : NULL;
  if (list) { /* the pointers, then the strings, in one block */
    char *text = (char *)(list + db->n);
    for (size_t i = 0; i < db->n; i++) {
      size_t len = strlen(vx_collection_link(db->cols[i])->name) + 1;
      memcpy(text, vx_collection_link(db->cols[i])->name, len);
      list[i] = text;
      text += len;
    }
    qsort(list, db->n, sizeof *list, by_name);
  }
  size_t count = db->n;
  pthread_mutex_unlock(&db->lock);
  if (count && !list) return vx_fail(VEXFS_E_NOMEM, "%s: out of memory", fn);
  *names = list;
  *n = count;
  return VEXFS_OK;
}

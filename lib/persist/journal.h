/* The link between a collection and its database's write-ahead log: every mutating collection
 * call logs one record (here) after it has checked everything that can fail and before it changes
 * anything, so a logged record always applies, and an unlogged call changes nothing. Replay
 * (db.c) decodes the records with vx_record_* and repeats the calls.
 *
 * The vx_journal_* calls return VEXFS_OK at once for collections outside a database and in
 * in-memory databases. */
#ifndef VEXFS_JOURNAL_H
#define VEXFS_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "vexfs/vexfs.h"
#include "wal.h"

/* A database collection's side of the link; owned by the database (db.c), which sets it up. */
typedef struct vx_db_link {
  vexfs_db *db;
  vx_wal *wal; /* NULL: nothing is logged (in memory, or while replaying) */
  void (*after_write)(vexfs_db *db); /* after a logged call released its locks (a checkpoint) */
  uint32_t id; /* the collection's number in records and snapshots */
  int read_only;
  char name[VEXFS_MAX_NAME + 1];
} vx_db_link;

enum vx_record_type {
  VX_REC_CREATE = 1, /* id, name, config */
  VX_REC_DROP = 2,   /* id */
  VX_REC_INSERT = 3, /* id, n, ids, vectors, payload texts */
  VX_REC_REMOVE = 4, /* id, n, ids */
  VX_REC_SET_PAYLOAD = 5,
  VX_REC_CREATE_INDEX = 6,
  VX_REC_DROP_INDEX = 7,
  VX_REC_UPSERT = 8  /* as INSERT; ids present are replaced (log format 3) */
};

/* Whether c's mutations are logged (it belongs to an on-disk database, outside replay). */
int vx_journal_enabled(const vexfs_collection *c);

/* Whether c's commits wait for the device (its database was opened with VEXFS_SYNC_FULL). */
int vx_journal_waits_for_device(const vexfs_collection *c);

/* VEXFS_E_READONLY when c belongs to a read-only database. */
vexfs_status vx_journal_writable(const vexfs_collection *c, const char *fn);

/* Writes the insert's (or with upsert set, the upsert's) record and returns without waiting for it to be durable: the caller
 * prepares what it can (invisibly) while the record reaches the device, then must call
 * vx_journal_commit with the ticket before it makes the insert visible. */
vexfs_status vx_journal_insert(vexfs_collection *c, const char *fn, const uint64_t *ids,
                               const float *vectors, const char *const *payloads, size_t n,
                               int upsert, vx_wal_ticket *ticket);
/* Waits until the record of ticket is durable as the sync mode says. On error the record was
 * cut off: the call must change nothing. */
vexfs_status vx_journal_commit(vexfs_collection *c, const char *fn, const vx_wal_ticket *ticket);
vexfs_status vx_journal_remove(vexfs_collection *c, const char *fn, const uint64_t *ids, size_t n);
vexfs_status vx_journal_set_payload(vexfs_collection *c, const char *fn, uint64_t id,
                                    const char *json, vexfs_payload_mode mode);
vexfs_status vx_journal_payload_index(vexfs_collection *c, const char *fn, const char *key,
                                      vexfs_payload_index_kind kind, int create);
/* Database records. */
vexfs_status vx_journal_create(vx_wal *wal, uint32_t id, const char *name,
                               const vexfs_collection *c);
vexfs_status vx_journal_drop(vx_wal *wal, uint32_t id, const char *name);

/* After a mutating call released its locks: runs the checkpoint the log's size calls for. */
void vx_journal_after(vexfs_collection *c);

/* ---- decoding, for replay: each checks every length against the body ---- */
typedef struct vx_record {
  uint32_t collection;
  /* CREATE */
  const char *name;
  size_t name_len;
  vexfs_collection_config cfg;
  /* INSERT / REMOVE (ids, n); INSERT: dim, vectors, payloads. All unaligned: copy to use. */
  size_t n;
  uint32_t dim;
  const uint8_t *ids, *vectors;
  const uint8_t *payload_lens, *payload_text; /* NULL when the batch had no payloads */
  /* SET_PAYLOAD */
  uint64_t id;
  uint32_t mode;
  const char *json; /* not NUL-terminated; json_len bytes; NULL: none */
  size_t json_len;
  /* indexes */
  uint32_t kind;
  const char *key;
  size_t key_len;
} vx_record;

/* Decodes a record body. -1 when malformed. */
int vx_record_decode(uint32_t type, const uint8_t *body, size_t len, vx_record *r);

#endif

/* The write-ahead log of a database: one file of checksummed records, appended before a mutation
 * becomes visible and replayed when the database opens.
 *
 * File: a 32-byte header (magic "VEXFSWAL", format version, a random salt, checksum), then
 * records: a 32-byte head (magic, type, sequence number, body length, checksum) and the body. The
 * checksum is XXH3-64 of the head's first 24 bytes and the body, seeded with the file's salt, so
 * records of an earlier generation of the file never pass. Sequence numbers rise by one.
 *
 * Recovery (vx_wal_replay) reads records up to the first one that fails. If a valid record of a
 * later sequence number lies beyond that point, the log was damaged in the middle: VEXFS_E_CORRUPT.
 * Otherwise the failing bytes are a torn tail (a write that never completed, so was never
 * acknowledged), and appends continue over them.
 *
 * After a checkpoint the file is recycled (vx_wal_reset): a new salt, and new records overwrite
 * the old ones in place, which is cheaper to make durable than growing the file.
 *
 * Appends (vx_wal_append) are made durable per the sync mode: VEXFS_SYNC_FULL waits until an
 * fsync covers the record, and concurrent appenders share one fsync (group commit); NORMAL and OFF
 * leave the data in the OS cache. If a write or fsync fails, the records not yet synced are cut
 * off again (their callers get VEXFS_E_IO and must not apply them); if even that fails, the log
 * refuses every later append until the database is reopened. */
#ifndef VEXFS_WAL_H
#define VEXFS_WAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "vexfs/vexfs.h"

#define VX_WAL_VERSION 4u /* 2: CREATE records hold format 2 configs (config_codec.h);
                             3: UPSERT records; 4: format 3 configs */
#define VX_WAL_HEADER 32u
#define VX_WAL_HEAD 32u
#define VX_WAL_MAX_TYPE 8u /* record types are 1..8 (journal.h) */

typedef struct vx_wal vx_wal;

/* Opens (creating when writable and missing) the log at path. sync is a vexfs_sync_mode. */
vexfs_status vx_wal_open(const char *path, int sync, int read_only, vx_wal **out);
void vx_wal_close(vx_wal *w);

/* Calls fn for each valid record whose sequence number is above `after`, in order; fn returning
 * non-OK stops the replay with that status. Afterwards appends continue from the last record.
 * Must follow vx_wal_open before any append: a log opened over a zeroed header is judged here
 * (VEXFS_E_CORRUPT when records above `after` follow it). */
typedef vexfs_status (*vx_wal_fn)(void *ctx, uint64_t seq, uint32_t type, const uint8_t *body,
                                  size_t len);
vexfs_status vx_wal_replay(vx_wal *w, uint64_t after, vx_wal_fn fn, void *ctx);

/* What vexfs_db_check reports of a log: read without changing it (a read-only open of the file,
 * then vx_wal_survey instead of vx_wal_replay). */
typedef struct vx_wal_survey {
  uint64_t bytes;           /* the file's length */
  uint64_t records;         /* valid records the snapshot does not cover */
  uint64_t first, last;     /* their sequence numbers (0 when none) */
  uint64_t end;             /* where the valid records end */
  int damaged_tail;         /* a record of this generation starts at `end` but fails its checks:
                               a torn write or damage, which replay would drop silently */
  uint64_t damaged_seq;     /* its sequence number as its head says */
} vx_wal_survey;
/* Checks every record as replay does (VEXFS_E_CORRUPT where replay would refuse), calling fn for
 * none, then judges the bytes at the end of the valid records. */
vexfs_status vx_wal_survey_records(vx_wal *w, uint64_t after, vx_wal_survey *out);
/* Appends one record made of the concatenated parts and waits as the sync mode says. fn names the
 * public call for error messages. VEXFS_OK means the record is in the log (durably under FULL). */
vexfs_status vx_wal_append(vx_wal *w, const char *fn, uint32_t type, const struct iovec *parts,
                           int nparts);

/* vx_wal_append in two steps, so that a caller can work while its record travels to the device:
 * vx_wal_write writes the record and (under FULL) starts its writeback; vx_wal_wait then waits
 * until it is durable, as vx_wal_append would have. Between them the record is in the log but
 * not acknowledged; a failed wait means it was cut off again (or the log gave up). */
typedef struct vx_wal_ticket {
  uint64_t end, epoch;
} vx_wal_ticket;
vexfs_status vx_wal_write(vx_wal *w, const char *fn, uint32_t type, const struct iovec *parts,
                          int nparts, vx_wal_ticket *ticket);
vexfs_status vx_wal_wait(vx_wal *w, const char *fn, const vx_wal_ticket *ticket);

/* Empties the log after a checkpoint covered every record: a fresh header with a new salt;
 * sequence numbers continue. The file keeps its space for the next records when it is at most
 * keep_bytes long, else it is cut to the header. Must not run concurrently with appends. */
vexfs_status vx_wal_reset(vx_wal *w, uint64_t keep_bytes);

/* Gives back the file's space past the last record (a recycled file's old records), when the
 * database closes. Not synced: old records that come back after a power cut fail their
 * checksums. */
void vx_wal_trim(vx_wal *w);

/* Sequence number of the last record appended or replayed (0 when none ever was). */
uint64_t vx_wal_last_seq(const vx_wal *w);

/* The vexfs_sync_mode the log was opened with. */
int vx_wal_sync_mode(const vx_wal *w);

/* Bytes of records in the log. Thread-safe. */
uint64_t vx_wal_bytes(vx_wal *w);

/* XXH3-64 of a record (head bytes 0..24 and body), as stored; for the fuzz target's resealing. */
uint64_t vx_wal_record_checksum(uint64_t salt, const uint8_t *head, const struct iovec *parts,
                                int nparts);

#endif

/* Row files: where a MAPPED collection's rows live from one checkpoint to the next.
 *
 * A row file is the store's rows [0, rows) back to back, as memory holds them (vx_store_row_bytes
 * each, free rows included), and nothing else: the library maps it in place of the rows' memory.
 * Its name, row count, row size and XXH3-64 are in the snapshot's ROWS_FILE section (in place of
 * VECTORS), so a file is trusted only as far as the checksummed snapshot vouches for it. Each
 * checkpoint writes a new file, "rows-<collection number>-<log sequence>.vxr" (written under a
 * ".tmp" name, synced, renamed, the directory synced), before the snapshot that names it; files
 * no snapshot names any more are deleted after the next checkpoint. Files never change once
 * named: rows written later stay in memory (private copy-on-write pages) until the next
 * checkpoint writes them out. */
#ifndef VEXFS_ROWFILE_H
#define VEXFS_ROWFILE_H

#include <stddef.h>
#include <stdint.h>

#include "../store.h"
#include "section.h"
#include "vexfs/vexfs.h"

#define VX_ROWFILE_NAME_MAX 64u

typedef struct vx_rowfile_ref {
  char name[VX_ROWFILE_NAME_MAX]; /* a file of the database's directory; "" for none */
  uint64_t rows, row_bytes, checksum;
} vx_rowfile_ref;

/* Writes rows [0, rows) of s as the row file of collection `collection` at log sequence seq in
 * dir (fsynced with the directory when sync), and describes it in *out. Errors: VEXFS_E_IO
 * (naming the file; nothing is left but a .tmp file), VEXFS_E_NOMEM. */
vexfs_status vx_rowfile_write(const char *dir, uint32_t collection, uint64_t seq,
                              const vx_store *s, size_t rows, int sync, vx_rowfile_ref *out);

/* Loads a paged store being opened (rows reserved, nothing published) from the file ref names:
 * checks its name, size and checksum, maps it over rows [0, ref->rows), and for each row writes
 * its id (read in slot order from `ids`, the IDS section) and squared norm. Errors:
 * VEXFS_E_CORRUPT (what is wrong, naming the file: missing, of the wrong size, damaged, a live row
 * not finite, ids short), VEXFS_E_IO, VEXFS_E_NOMEM. owner: the collection's number, for messages. */
vexfs_status vx_rowfile_load(const char *dir, const vx_rowfile_ref *ref, vx_store *s,
                             vx_sec_reader *ids, uint32_t owner);

/* After a checkpoint wrote ref's file from s: maps s's rows from it, so that they leave memory
 * (the caller keeps readers out). Best effort (rows read as before on failure). */
void vx_rowfile_adopt(const char *dir, const vx_rowfile_ref *ref, vx_store *s);

/* Whether a directory entry's name is one a row file (or its temporary) could have. */
int vx_rowfile_is_name(const char *name);
/* Whether a ref's name is a finished row file's ("rows-*.vxr", no path). */
int vx_rowfile_name_ok(const char *name);

#endif

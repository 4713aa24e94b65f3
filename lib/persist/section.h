/* The snapshot file container: a header, sections, and a table of sections, each checksummed.
 *
 *   header (64 bytes): magic "VEXFSNAP", format version, header size, the last write-ahead-log
 *                      record it covers, table offset and entry count, file length, XXH3 of
 *                      the header
 *   sections:          blocks of up to 1 MiB raw bytes: u32 raw length, u32 stored length with
 *                      flags (bit 31: zstd, bit 30: bytes shuffled by position within 4-byte
 *                      words before compressing, which groups float exponents), then the bytes
 *   table:             per section: kind, owner (collection number), offset, stored and raw
 *                      lengths, XXH3 of the stored bytes; then XXH3 of the table
 *
 * A block is compressed (zstd level 1) only when that saves at least 1/8 of it, so data that does
 * not compress costs nothing to read back. Readers map the file, check the header and table when
 * opening and a section's checksum before reading it; every length is bounded by the file. */
#ifndef VEXFS_SECTION_H
#define VEXFS_SECTION_H

#include <stddef.h>
#include <stdint.h>

#include "vexfs/vexfs.h"

#define VX_SNAP_VERSION 4u /* 2: COLLECTION sections hold format 2 configs (config_codec.h);
                              3: format 3 configs, and ROWS_FILE sections;
                              4: IVF sections "IVF2" (lib/index/ivf_persist.c) */
/* A snapshot's header holds the lowest version that reads it: this one, unless a section says
 * it needs more (vx_snapw_require), so that older libraries read what they can. */
#define VX_SNAP_VERSION_BASE 3u

/* ---- writing ---- */
typedef struct vx_snap_writer vx_snap_writer;

/* Creates (truncating) the file at path. */
vexfs_status vx_snapw_open(const char *path, vx_snap_writer **out);
/* Starts a section; shuffle: its contents are 4-byte words (floats). */
void vx_snapw_begin(vx_snap_writer *w, uint32_t kind, uint32_t owner, int shuffle);
void vx_snapw_put(vx_snap_writer *w, const void *p, size_t n);
void vx_snapw_end(vx_snap_writer *w);
/* Marks the snapshot as readable only by libraries of format `version` or later. */
void vx_snapw_require(vx_snap_writer *w, uint32_t version);
/* Records a failure of the caller's (e.g. out of memory) for vx_snapw_finish to report. */
void vx_snapw_fail(vx_snap_writer *w, vexfs_status st);
/* Writes the table and header and, when sync, fsyncs the file; closes it either way. The status
 * covers every earlier call (they record the first failure). */
vexfs_status vx_snapw_finish(vx_snap_writer *w, uint64_t seq, int sync);
/* Closes and deletes an unfinished file. */
void vx_snapw_abort(vx_snap_writer *w);

/* Raw and stored bytes of the sections of `kind` written so far (for the compression report). */
void vx_snapw_sizes(const vx_snap_writer *w, uint32_t kind, uint64_t *raw, uint64_t *stored);

/* ---- reading ---- */
typedef struct vx_snap vx_snap;

typedef struct vx_snap_section {
  uint32_t kind, owner;
  uint64_t offset, stored, raw, checksum;
} vx_snap_section;

/* Maps a snapshot and checks its header and table. *missing is set (and VEXFS_OK returned) when
 * there is no file. Errors: VEXFS_E_CORRUPT, VEXFS_E_UNSUPPORTED (a newer format), VEXFS_E_IO. */
vexfs_status vx_snap_open(const char *path, vx_snap **out, int *missing);
/* The same over bytes in memory (which must outlive the vx_snap); for the fuzz target. */
vexfs_status vx_snap_open_bytes(const uint8_t *p, size_t n, vx_snap **out);
void vx_snap_close(vx_snap *s);
uint64_t vx_snap_seq(const vx_snap *s);
size_t vx_snap_count(const vx_snap *s);
const vx_snap_section *vx_snap_at(const vx_snap *s, size_t i);

/* Reads one section's raw bytes in order. */
typedef struct vx_sec_reader vx_sec_reader;
/* Checks the section's checksum and starts reading it. */
vexfs_status vx_secr_open(vx_snap *s, size_t i, vx_sec_reader **out);
/* Copies the next n raw bytes; -1 when the section has fewer or a block is malformed. */
int vx_secr_read(vx_sec_reader *r, void *dst, size_t n);
/* Raw bytes not yet read. */
uint64_t vx_secr_left(const vx_sec_reader *r);
void vx_secr_close(vx_sec_reader *r);

/* Recomputes every checksum of a snapshot in memory whose structure is intact (for the fuzz
 * target, so that mutated section bodies reach the parsers). 0, or -1 when it is not a snapshot. */
int vx_snap_reseal(uint8_t *p, size_t n);

#endif

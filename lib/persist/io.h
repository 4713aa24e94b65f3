/* The file operations persistence uses, in one place, so that tests can make any of them fail.
 *
 * Every call behaves like its POSIX namesake (0 or -1 with errno set; reads and writes are
 * complete or fail). The calls that can fail on purpose have two implementations: io.c, the
 * plain POSIX calls, in the shipped library; io_faults.c, in the static library that
 * fault-injection tests link (lib/meson.build), which also defines the calls at the end of this
 * header. io_common.c has the rest (reads, write_at, the writeback hint), in both.
 *
 * In the test library, vx_io_fail_at(kinds, n, err) makes the n-th following operation of one of
 * `kinds` fail with errno `err`, and every later one too when `sticky`; a failed write may leave
 * a prefix of its bytes written, as a full disk does. vx_io_crash() then models a power cut:
 * every file this layer has open loses the bytes written since its last successful sync: what
 * grew the file is cut off, and what overwrote synced bytes (a recycled log) reverts to them
 * (kept while faults are set). Renames are treated as durable once they return (the directory
 * sync that follows them is still counted and can be failed). */
#ifndef VEXFS_IO_H
#define VEXFS_IO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

enum {
  VX_IO_OPEN = 1,
  VX_IO_WRITE = 2,
  VX_IO_SYNC = 4, /* fsync of files and directories */
  VX_IO_RENAME = 8,
  VX_IO_TRUNCATE = 16,
  VX_IO_ALL = 31
};

int vx_io_open(const char *path, int flags, mode_t mode);
int vx_io_close(int fd);
/* Writes all of the parts at off. */
int vx_io_writev_at(int fd, const struct iovec *iov, int n, off_t off);
int vx_io_write_at(int fd, const void *p, size_t n, off_t off);
/* Reads up to n bytes at off; returns the count (short only at end of file) or -1. */
ssize_t vx_io_read_at(int fd, void *p, size_t n, off_t off);
int vx_io_sync(int fd);
/* Asks the kernel to start writing [off, off+n) to the device now, without waiting (a hint: a
 * later vx_io_sync still decides durability, so it is neither counted nor failed by faults). */
void vx_io_start_writeback(int fd, off_t off, size_t n);
int vx_io_sync_dir(const char *dir);
int vx_io_truncate(int fd, off_t len);
int vx_io_rename(const char *from, const char *to);

/* ---- fault injection: defined by io_faults.c alone, so the shipped library cannot call it ---- */
/* Fails the n-th (1-based) operation of `kinds` counted from now; n = 0 turns faults off. */
void vx_io_fail_at(unsigned kinds, uint64_t n, int err, int sticky);
/* Whether an injected fault has fired since the last vx_io_fail_at. */
int vx_io_fault_fired(void);
/* Takes every open file back to what was synced (see above). */
void vx_io_crash(void);

#endif

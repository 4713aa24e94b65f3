/* The file operations of the shipped library (see io.h) that the test build injects faults into:
 * here the POSIX calls and nothing else, no lock and no bookkeeping. The test build links
 * io_faults.c in place of this file; io_common.c has the operations both share. */
#include "io.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "io_posix.h"

int vx_io_open(const char *path, int flags, mode_t mode) {
  return open(path, flags | O_CLOEXEC, mode);
}

int vx_io_close(int fd) { return close(fd); }

int vx_io_writev_at(int fd, const struct iovec *iov, int n, off_t off) {
  return vx_posix_writev_all(fd, iov, n, off);
}

int vx_io_sync(int fd) { return fdatasync(fd); } /* file sizes count as data for fdatasync */

int vx_io_sync_dir(const char *dir) { return vx_posix_sync_dir(dir); }

int vx_io_truncate(int fd, off_t len) { return ftruncate(fd, len); }

int vx_io_rename(const char *from, const char *to) { return rename(from, to); }

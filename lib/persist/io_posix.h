/* The POSIX side of io.h's complete writes and directory syncs, shared by io.c (the shipped file
 * operations) and io_faults.c (the test build's). */
#ifndef VEXFS_IO_POSIX_H
#define VEXFS_IO_POSIX_H

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

/* Writes all of the parts at off, resuming after short writes and EINTR. */
static inline int vx_posix_writev_all(int fd, const struct iovec *iov, int n, off_t off) {
  struct iovec local[64]; /* a copy to advance through, 64 parts (at most IOV_MAX) a call */
  while (n > 0) {
    int batch = n < 64 ? n : 64;
    memcpy(local, iov, (size_t)batch * sizeof *local);
    struct iovec *v = local;
    int left = batch;
    while (left > 0) {
      ssize_t w = pwritev(fd, v, left, off);
      if (w < 0) {
        if (errno == EINTR) continue;
        return -1;
      }
      off += w;
      while (left > 0 && (size_t)w >= v->iov_len) w -= (ssize_t)v->iov_len, v++, left--;
      if (left > 0) {
        v->iov_base = (char *)v->iov_base + w;
        v->iov_len -= (size_t)w;
      }
    }
    iov += batch;
    n -= batch;
  }
  return 0;
}

/* fsync of a directory, so that the names created or renamed in it are durable. */
static inline int vx_posix_sync_dir(const char *dir) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -1;
  int rc = fsync(fd);
  int err = errno;
  close(fd);
  errno = err;
  return rc;
}

#endif

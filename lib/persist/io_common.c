/* The file operations that are the same in both implementations of io.h (io.c, io_faults.c):
 * faults are injected into writes through vx_io_writev_at, never into reads or the writeback
 * hint. Part of both libraries. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "io.h"

int vx_io_write_at(int fd, const void *p, size_t n, off_t off) {
  struct iovec v = {(void *)p, n};
  return vx_io_writev_at(fd, &v, 1, off);
}

ssize_t vx_io_read_at(int fd, void *p, size_t n, off_t off) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = pread(fd, (char *)p + got, n - got, off + (off_t)got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (r == 0) break;
    got += (size_t)r;
  }
  return (ssize_t)got;
}

void vx_io_start_writeback(int fd, off_t off, size_t n) {
  (void)sync_file_range(fd, off, (off_t)n, SYNC_FILE_RANGE_WRITE);
}

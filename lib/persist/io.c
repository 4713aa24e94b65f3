/* File operations with fault injection (see io.h). Open files are tracked with their written and
 * synced lengths, so that vx_io_crash() can drop what a power cut would: the bytes past the synced
 * length, and, while faults are set, overwrites of synced bytes, whose old bytes are kept until
 * the next sync of their file. */
#include "io.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TRACKED 64

typedef struct tracked {
  int fd;
  off_t written, synced; /* file length now, and at the last sync */
} tracked;

/* Synced bytes that a write since replaced: what a power cut brings back. Newest first. */
typedef struct overwritten {
  struct overwritten *next;
  uint64_t stamp; /* order of the writes, so a sync forgets only those it covers */
  int fd;
  off_t at;
  size_t n;
  unsigned char bytes[];
} overwritten;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static tracked files[TRACKED];
static size_t nfiles;
static overwritten *undo;
static uint64_t stamps;

static unsigned fault_kinds;
static uint64_t fault_at, seen; /* operations of fault_kinds since vx_io_fail_at */
static int fault_err, fault_sticky, fault_fired;

/* Counts an operation of `kind` and says whether it must fail (errno set). */
static int injected(unsigned kind) {
  pthread_mutex_lock(&lock);
  int fail = 0;
  if (fault_at && (fault_kinds & kind)) {
    seen++;
    fail = seen == fault_at || (fault_sticky && seen > fault_at);
    if (fail) fault_fired = 1;
  }
  int err = fault_err;
  pthread_mutex_unlock(&lock);
  if (fail) errno = err;
  return fail;
}

static tracked *find(int fd) { /* under lock */
  for (size_t i = 0; i < nfiles; i++)
    if (files[i].fd == fd) return &files[i];
  return NULL;
}

/* While faults are set, keeps the synced bytes that [off, off+len) is about to replace. */
static void keep_overwritten(int fd, off_t off, size_t len) {
  pthread_mutex_lock(&lock);
  tracked *t = find(fd);
  if (fault_at && t && off < t->synced) {
    size_t n = (size_t)(t->synced - off) < len ? (size_t)(t->synced - off) : len;
    overwritten *o = malloc(sizeof *o + n);
    if (o && pread(fd, o->bytes, n, off) == (ssize_t)n) {
      *o = (overwritten){undo, ++stamps, fd, off, n};
      undo = o;
    } else {
      free(o);
    }
  }
  pthread_mutex_unlock(&lock);
}

/* Forgets what fd's overwrites up to stamp `upto` replaced (a sync covered them), or every
 * file's (fd < 0). Under lock. */
static void forget_overwritten(int fd, uint64_t upto) {
  for (overwritten **p = &undo; *p;) {
    overwritten *o = *p;
    if (fd < 0 || (o->fd == fd && o->stamp <= upto)) {
      *p = o->next;
      free(o);
    } else {
      p = &o->next;
    }
  }
}

int vx_io_open(const char *path, int flags, mode_t mode) {
  if (injected(VX_IO_OPEN)) return -1;
  int fd = open(path, flags | O_CLOEXEC, mode);
  if (fd < 0 || (flags & O_ACCMODE) == O_RDONLY) return fd;
  off_t len = lseek(fd, 0, SEEK_END);
  pthread_mutex_lock(&lock);
  if (nfiles < TRACKED) files[nfiles++] = (tracked){fd, len, len}; /* what exists is durable */
  pthread_mutex_unlock(&lock);
  return fd;
}

int vx_io_close(int fd) {
  pthread_mutex_lock(&lock);
  tracked *t = find(fd);
  if (t) *t = files[--nfiles];
  forget_overwritten(fd, UINT64_MAX); /* the number may be reused */
  pthread_mutex_unlock(&lock);
  return close(fd);
}

static void note_written(int fd, off_t end) {
  pthread_mutex_lock(&lock);
  tracked *t = find(fd);
  if (t && end > t->written) t->written = end;
  pthread_mutex_unlock(&lock);
}

int vx_io_writev_at(int fd, const struct iovec *iov, int n, off_t off) {
  size_t len = 0;
  for (int i = 0; i < n; i++) len += iov[i].iov_len;
  keep_overwritten(fd, off, len);
  if (injected(VX_IO_WRITE)) { /* a full disk may take part of a write */
    int err = errno;
    if (n > 0 && iov[0].iov_len > 1 && pwrite(fd, iov[0].iov_base, iov[0].iov_len / 2, off) > 0)
      note_written(fd, off + (off_t)(iov[0].iov_len / 2));
    errno = err;
    return -1;
  }
  struct iovec local[64];
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
      note_written(fd, off);
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

int vx_io_sync(int fd) {
  pthread_mutex_lock(&lock);
  tracked *t = find(fd);
  off_t at = t ? t->written : 0;
  uint64_t stamp = stamps; /* writes after this may not be covered */
  pthread_mutex_unlock(&lock);
  if (injected(VX_IO_SYNC) || fdatasync(fd) != 0) return -1; /* sizes are data here */
  pthread_mutex_lock(&lock);
  if ((t = find(fd)) && at > t->synced) t->synced = at;
  forget_overwritten(fd, stamp);
  pthread_mutex_unlock(&lock);
  return 0;
}

void vx_io_start_writeback(int fd, off_t off, size_t n) {
  (void)sync_file_range(fd, off, (off_t)n, SYNC_FILE_RANGE_WRITE);
}

int vx_io_sync_dir(const char *dir) {
  if (injected(VX_IO_SYNC)) return -1;
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -1;
  int rc = fsync(fd);
  int err = errno;
  close(fd);
  errno = err;
  return rc;
}

int vx_io_truncate(int fd, off_t len) {
  if (injected(VX_IO_TRUNCATE) || ftruncate(fd, len) != 0) return -1;
  pthread_mutex_lock(&lock);
  tracked *t = find(fd);
  if (t) { /* shrinking is a metadata change: durable at the next sync, like the data */
    t->written = len;
    if (t->synced > len) t->synced = len;
  }
  pthread_mutex_unlock(&lock);
  return 0;
}

int vx_io_rename(const char *from, const char *to) {
  if (injected(VX_IO_RENAME)) return -1;
  return rename(from, to);
}

void vx_io_fail_at(unsigned kinds, uint64_t n, int err, int sticky) {
  pthread_mutex_lock(&lock);
  fault_kinds = kinds;
  fault_at = n;
  fault_err = err;
  fault_sticky = sticky;
  fault_fired = 0;
  seen = 0;
  pthread_mutex_unlock(&lock);
}

int vx_io_fault_fired(void) {
  pthread_mutex_lock(&lock);
  int f = fault_fired;
  pthread_mutex_unlock(&lock);
  return f;
}

void vx_io_crash(void) {
  pthread_mutex_lock(&lock);
  for (overwritten *o = undo; o; o = o->next) /* newest first: the oldest bytes end up there */
    (void)!pwrite(o->fd, o->bytes, o->n, o->at);
  forget_overwritten(-1, UINT64_MAX);
  for (size_t i = 0; i < nfiles; i++) {
    if (ftruncate(files[i].fd, files[i].synced) == 0) files[i].written = files[i].synced;
  }
  pthread_mutex_unlock(&lock);
}

/* The file operations of the test build (see io.h), in place of io.c's: the same POSIX calls,
 * plus faults injected on request and a model of a power cut. Every file opened for writing is
 * tracked with its length at its last sync, so that vx_io_crash() can drop what a power cut
 * would: the bytes past that length, and, while faults are set, overwrites of synced bytes, whose
 * old bytes are kept until the next sync of their file. One process-wide mutex guards it all:
 * fine for tests, and why the shipped library links io.c instead. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io.h"
#include "io_posix.h"

typedef struct tracked {
  struct tracked *next;
  int fd;
  off_t synced; /* file length at the last sync */
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
static tracked *files;
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

static tracked **find(int fd) { /* under lock; the link that points at fd's entry, or NULL */
  for (tracked **t = &files; *t; t = &(*t)->next)
    if ((*t)->fd == fd) return t;
  return NULL;
}

static off_t length(int fd) { /* every write goes through this layer, so this is what it wrote */
  struct stat sb;
  return fstat(fd, &sb) == 0 ? sb.st_size : 0;
}

/* While faults are set, keeps the synced bytes that [off, off+len) is about to replace. */
static void keep_overwritten(int fd, off_t off, size_t len) {
  pthread_mutex_lock(&lock);
  tracked **t = find(fd);
  if (fault_at && t && off < (*t)->synced) {
    size_t n = (size_t)((*t)->synced - off) < len ? (size_t)((*t)->synced - off) : len;
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
  tracked *t = malloc(sizeof *t);
  if (!t) {
    close(fd);
    errno = ENOMEM;
    return -1;
  }
  pthread_mutex_lock(&lock);
  *t = (tracked){files, fd, length(fd)}; /* what exists is durable */
  files = t;
  pthread_mutex_unlock(&lock);
  return fd;
}

int vx_io_close(int fd) {
  pthread_mutex_lock(&lock);
  tracked **t = find(fd);
  if (t) {
    tracked *gone = *t;
    *t = gone->next;
    free(gone);
  }
  forget_overwritten(fd, UINT64_MAX); /* the number may be reused */
  pthread_mutex_unlock(&lock);
  return close(fd);
}

int vx_io_writev_at(int fd, const struct iovec *iov, int n, off_t off) {
  size_t len = 0;
  for (int i = 0; i < n; i++) len += iov[i].iov_len;
  keep_overwritten(fd, off, len);
  if (injected(VX_IO_WRITE)) { /* a full disk may take part of a write */
    int err = errno;
    if (n > 0 && iov[0].iov_len > 1) (void)!pwrite(fd, iov[0].iov_base, iov[0].iov_len / 2, off);
    errno = err;
    return -1;
  }
  return vx_posix_writev_all(fd, iov, n, off);
}

int vx_io_sync(int fd) {
  pthread_mutex_lock(&lock);
  off_t at = length(fd); /* what the sync covers: writes after this may not be in it */
  uint64_t stamp = stamps;
  pthread_mutex_unlock(&lock);
  if (injected(VX_IO_SYNC) || fdatasync(fd) != 0) return -1;
  pthread_mutex_lock(&lock);
  tracked **t = find(fd);
  if (t && at > (*t)->synced) (*t)->synced = at;
  forget_overwritten(fd, stamp);
  pthread_mutex_unlock(&lock);
  return 0;
}

int vx_io_sync_dir(const char *dir) {
  if (injected(VX_IO_SYNC)) return -1;
  return vx_posix_sync_dir(dir);
}

int vx_io_truncate(int fd, off_t len) {
  if (injected(VX_IO_TRUNCATE) || ftruncate(fd, len) != 0) return -1;
  pthread_mutex_lock(&lock);
  tracked **t = find(fd); /* shrinking is a metadata change: durable at the next sync, like data */
  if (t && (*t)->synced > len) (*t)->synced = len;
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
  for (tracked *t = files; t; t = t->next) (void)!ftruncate(t->fd, t->synced);
  pthread_mutex_unlock(&lock);
}

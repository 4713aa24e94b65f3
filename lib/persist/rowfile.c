/* Row files of MAPPED collections (see rowfile.h). */
#include "rowfile.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "../alloc_internal.h"
#include "../buf.h"
#include "../errors_internal.h"
#include "../simd/simd_internal.h"
#include "io.h"

static const char PREFIX[] = "rows-", SUFFIX[] = ".vxr", TEMP_SUFFIX[] = ".tmp";

static int ends_with(const char *s, const char *tail) {
  size_t n = strlen(s), t = strlen(tail);
  return n >= t && strcmp(s + n - t, tail) == 0;
}

int vx_rowfile_is_name(const char *name) {
  return strncmp(name, PREFIX, sizeof PREFIX - 1) == 0 &&
         (ends_with(name, SUFFIX) || ends_with(name, TEMP_SUFFIX));
}

int vx_rowfile_name_ok(const char *name) {
  size_t n = strnlen(name, VX_ROWFILE_NAME_MAX);
  return n < VX_ROWFILE_NAME_MAX && n > sizeof PREFIX - 1 + sizeof SUFFIX - 1 &&
         !strchr(name, '/') && strncmp(name, PREFIX, sizeof PREFIX - 1) == 0 &&
         ends_with(name, SUFFIX);
}

static char *join(const char *dir, const char *name) {
  vx_buf b = {0};
  vx_buf_printf(&b, "%s/%s", dir, name);
  return vx_buf_take_string(&b);
}

/* ---- writing ---- */

typedef struct writer {
  int fd;
  size_t row_bytes;
  off_t off;
  int failed;
  XXH3_state_t *hash;
} writer;

static void write_run(void *ctx, size_t first, const float *base, size_t n) {
  (void)first;
  writer *w = ctx;
  size_t bytes = n * w->row_bytes;
  if (w->failed) return;
  XXH3_64bits_update(w->hash, base, bytes);
  if (vx_io_write_at(w->fd, base, bytes, w->off) != 0) w->failed = 1;
  w->off += (off_t)bytes;
}

vexfs_status vx_rowfile_write(const char *dir, uint32_t collection, uint64_t seq,
                              const vx_store *s, size_t rows, int sync, vx_rowfile_ref *out) {
  const char *fn = "vexfs_db_checkpoint";
  memset(out, 0, sizeof *out);
  snprintf(out->name, sizeof out->name, "%s%" PRIu32 "-%016" PRIx64 "%s", PREFIX, collection,
           seq, SUFFIX);
  char temp_name[VX_ROWFILE_NAME_MAX + sizeof TEMP_SUFFIX];
  snprintf(temp_name, sizeof temp_name, "%.*s%s", (int)(strlen(out->name) - (sizeof SUFFIX - 1)),
           out->name, TEMP_SUFFIX);
  char *path = join(dir, out->name), *temp = join(dir, temp_name);
  XXH3_state_t *hash = vx_alloc(sizeof *hash);
  if (!path || !temp || !hash) {
    vx_release(path), vx_release(temp), vx_release(hash);
    return vx_fail(VEXFS_E_NOMEM, "%s: out of memory", fn);
  }
  memset(hash, 0, sizeof *hash); /* xxhash 0.8.1's reset reads two fields first */
  XXH3_64bits_reset(hash);
  vexfs_status st = VEXFS_OK;
  const char *step = "create";
  writer w = {vx_io_open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644),
              vx_store_row_bytes(s), 0, 0, hash};
  if (w.fd >= 0) {
    vx_store_each_run(s, rows, write_run, &w);
    step = w.failed ? "write" : sync && vx_io_sync(w.fd) != 0 ? "sync" : NULL;
    if (vx_io_close(w.fd) != 0 && !step) step = "close";
    if (!step && vx_io_rename(temp, path) != 0) step = "rename";
    if (!step && sync && vx_io_sync_dir(dir) != 0) step = "sync the directory of";
  }
  if (step) {
    st = vx_fail(VEXFS_E_IO, "%s: cannot %s the row file %s: %s", fn, step, temp, strerror(errno));
    unlink(temp);
    memset(out, 0, sizeof *out);
  } else {
    out->rows = rows;
    out->row_bytes = vx_store_row_bytes(s);
    out->checksum = XXH3_64bits_digest(hash);
  }
  vx_release(hash);
  vx_release(path);
  vx_release(temp);
  return st;
}

/* ---- loading ---- */

typedef struct loader {
  vx_store *s;
  vx_sec_reader *ids;
  const vx_kernels *kern;
  XXH3_state_t *hash;
  int short_ids, bad_row;
} loader;

static void load_run(void *ctx, size_t first, const float *base, size_t n) {
  loader *l = ctx;
  size_t row_bytes = vx_store_row_bytes(l->s);
  XXH3_64bits_update(l->hash, base, n * row_bytes);
  for (size_t i = 0; i < n && !l->short_ids; i++) {
    const float *row = (const float *)((const unsigned char *)base + i * row_bytes);
    uint64_t id;
    if (vx_secr_read(l->ids, &id, sizeof id)) {
      l->short_ids = 1;
      break;
    }
    float norm = l->kern->dot(row, row, l->s->dim);
    if (id != VX_NO_ID && !vx_norm_acceptable(norm)) l->bad_row = 1; /* free rows go unread */
    vx_store_write_meta(l->s, first + i, id, norm);
  }
}

vexfs_status vx_rowfile_load(const char *dir, const vx_rowfile_ref *ref, vx_store *s,
                             vx_sec_reader *ids, uint32_t owner) {
  const char *fn = "vexfs_db_open";
  if (!vx_rowfile_name_ok(ref->name) || ref->row_bytes != vx_store_row_bytes(s))
    return vx_fail(VEXFS_E_CORRUPT, "%s: the snapshot is damaged: collection %" PRIu32
                   ": its row file is described wrongly", fn, owner);
  char *path = join(dir, ref->name);
  XXH3_state_t *hash = vx_alloc(sizeof *hash);
  if (!path || !hash) {
    vx_release(path), vx_release(hash);
    return vx_fail(VEXFS_E_NOMEM, "%s: out of memory", fn);
  }
  vexfs_status st = VEXFS_OK;
  struct stat sb;
  int fd = vx_io_open(path, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0)
    st = vx_fail(errno == ENOENT ? VEXFS_E_CORRUPT : VEXFS_E_IO,
                 "%s: collection %" PRIu32 ": cannot open its row file %s: %s", fn, owner, path,
                 strerror(errno));
  else if (fstat(fd, &sb) != 0)
    st = vx_fail(VEXFS_E_IO, "%s: cannot stat %s: %s", fn, path, strerror(errno));
  else if (!S_ISREG(sb.st_mode) || (uint64_t)sb.st_size / ref->row_bytes != ref->rows ||
           (uint64_t)sb.st_size % ref->row_bytes != 0)
    st = vx_fail(VEXFS_E_CORRUPT, "%s: collection %" PRIu32 ": its row file %s is %lld bytes, "
                 "not the %" PRIu64 " rows of %" PRIu64 " bytes the snapshot names", fn, owner,
                 path, (long long)sb.st_size, ref->rows, ref->row_bytes);
  else if (vx_store_map(s, fd, (size_t)ref->rows) != 0)
    st = vx_fail(VEXFS_E_IO, "%s: cannot map %s: %s", fn, path, strerror(errno));
  if (st == VEXFS_OK) {
    memset(hash, 0, sizeof *hash);
    XXH3_64bits_reset(hash);
    loader l = {s, ids, vx_simd(), hash, 0, 0};
    vx_store_each_run(s, (size_t)ref->rows, load_run, &l);
    if (XXH3_64bits_digest(hash) != ref->checksum)
      st = vx_fail(VEXFS_E_CORRUPT, "%s: collection %" PRIu32 ": its row file %s is damaged "
                   "(checksum mismatch)", fn, owner, path);
    else if (l.short_ids)
      st = vx_fail(VEXFS_E_CORRUPT, "%s: the snapshot is damaged: collection %" PRIu32
                   ": ids are short", fn, owner);
    else if (l.bad_row)
      st = vx_fail(VEXFS_E_CORRUPT, "%s: collection %" PRIu32 ": its row file %s holds a vector "
                   "that is not finite or too large (VEXFS_MAX_SQUARED_NORM)", fn, owner, path);
  }
  if (fd >= 0) vx_io_close(fd);
  vx_release(hash);
  vx_release(path);
  return st;
}

void vx_rowfile_adopt(const char *dir, const vx_rowfile_ref *ref, vx_store *s) {
  char *path = join(dir, ref->name);
  int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
  if (fd >= 0) {
    vx_store_map(s, fd, (size_t)ref->rows);
    close(fd);
  }
  vx_release(path);
}

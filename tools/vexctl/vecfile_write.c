/* vexctl: the vector file writers of `export` (vecfile_write.h). */
#include "vecfile_write.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

#define NPY_ALIGN 64            /* numpy pads the header so that the data starts aligned */
#define NPY_GROWTH_DIGITS 21    /* numpy leaves room for the first axis to grow to this many */
#define WRITE_BUFFER (1u << 20)

int vf_can_write(vf_format format) {
  return format == VF_NPY || format == VF_JSONL || format == VF_FVECS || format == VF_CSV;
}

/* Writes the npy 1.0 header numpy.save writes for a C-order array of descr and shape. */
static void write_npy_header(FILE *f, const char *descr, uint64_t rows, int ids_only,
                             uint32_t dim) {
  char dict[256];
  int len;
  if (ids_only)
    len = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (%" PRIu64
                   ",), }", descr, rows);
  else
    len = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (%" PRIu64
                   ", %" PRIu32 "), }", descr, rows, dim);
  char first_axis[24];
  int growth = NPY_GROWTH_DIGITS - snprintf(first_axis, sizeof first_axis, "%" PRIu64, rows);
  size_t hlen = (size_t)len + (size_t)growth + 1; /* with the final newline */
  size_t pad = NPY_ALIGN - (10 + hlen) % NPY_ALIGN;
  size_t total = hlen + pad;
  unsigned char prefix[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(total & 0xff),
                              (unsigned char)(total >> 8)};
  fwrite(prefix, 1, sizeof prefix, f);
  fwrite(dict, 1, (size_t)len, f);
  for (size_t i = 0; i < (size_t)growth + pad; i++) fputc(' ', f);
  fputc('\n', f);
}

/* The file that export replaces: path itself, or the regular file a symbolic link at path names
 * (so the link stays a link). Anything else that exists there, a FIFO, a device, a directory, is
 * refused: renaming over it would destroy it. *out is malloc'd. */
static int destination(const char *path, char **out, char *err, size_t errlen) {
  struct stat sb;
  *out = NULL;
  if (lstat(path, &sb) != 0) {
    if (errno != ENOENT) return vc_errf(err, errlen, "%s: %s", path, strerror(errno));
    *out = strdup(path);
  } else if (S_ISLNK(sb.st_mode)) {
    if (!(*out = realpath(path, NULL)))
      return vc_errf(err, errlen, "%s: a symbolic link to nothing that can be written", path);
  } else {
    *out = strdup(path);
  }
  if (!*out) return vc_errf(err, errlen, "out of memory");
  if (stat(*out, &sb) == 0 && !S_ISREG(sb.st_mode)) {
    free(*out);
    *out = NULL;
    return vc_errf(err, errlen, "%s: %s", path,
                   S_ISDIR(sb.st_mode) ? "is a directory, not a file"
                                       : "not a regular file: export replaces regular files only");
  }
  return 0;
}

int vf_writer_open(vf_writer *w, const char *path, vf_format format, int ids_only, uint64_t rows,
                   uint32_t dim, char *err, size_t errlen) {
  memset(w, 0, sizeof *w);
  w->format = format;
  w->ids_only = ids_only;
  w->dim = dim;
  if (destination(path, &w->path, err, errlen) != 0) return -1;
  size_t n = strlen(w->path);
  if (!(w->tmp_path = malloc(n + sizeof ".tmp-XXXXXX"))) {
    vf_writer_discard(w);
    return vc_errf(err, errlen, "out of memory");
  }
  memcpy(w->tmp_path, w->path, n);
  memcpy(w->tmp_path + n, ".tmp-XXXXXX", sizeof ".tmp-XXXXXX");
  /* a name of its own: a file or link already called PATH.tmp is never followed or clobbered */
  int fd = mkstemp(w->tmp_path);
  if (fd < 0) {
    int e = errno;
    free(w->tmp_path);
    w->tmp_path = NULL;
    vf_writer_discard(w);
    return vc_errf(err, errlen, "%s: cannot create a file beside it: %s", path, strerror(e));
  }
  mode_t mask = umask(0); /* mkstemp makes 0600; the file gets what a new file would */
  umask(mask);
  fchmod(fd, 0666 & ~mask);
  if (!(w->f = fdopen(fd, "wb"))) {
    int e = errno;
    close(fd);
    vf_writer_discard(w);
    return vc_errf(err, errlen, "%s: %s", path, strerror(e));
  }
  setvbuf(w->f, NULL, _IOFBF, WRITE_BUFFER);
  if (format == VF_NPY) write_npy_header(w->f, ids_only ? "<u8" : "<f4", rows, ids_only, dim);
  return 0;
}

/* Writes the shortest decimal that strtof reads back as exactly v into out[32]. */
static void format_float(float v, char out[32]) {
  const size_t n = 32;
  if (v == 0 && signbit(v)) { /* "-0" would read as the integer 0 in JSON parsers */
    snprintf(out, n, "-0.0");
    return;
  }
  int lo = 1, hi = 9; /* 9 significant digits always read back as the same float32 */
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    snprintf(out, n, "%.*g", mid, (double)v);
    if (strtof(out, NULL) == v) hi = mid;
    else lo = mid + 1;
  }
  snprintf(out, n, "%.*g", lo, (double)v);
}

static void write_text_row(vf_writer *w, uint64_t id, const float *v, const char *payload) {
  char num[32];
  int jsonl = w->format == VF_JSONL;
  fprintf(w->f, jsonl ? "{\"id\":%" PRIu64 ",\"vector\":[" : "%" PRIu64, id);
  for (uint32_t j = 0; j < w->dim; j++) {
    format_float(v[j], num);
    if (j || !jsonl) fputc(',', w->f);
    fputs(num, w->f);
  }
  if (jsonl) {
    fputc(']', w->f);
    if (payload) fprintf(w->f, ",\"payload\":%s", payload);
    fputc('}', w->f);
  }
  fputc('\n', w->f);
}

void vf_writer_row(vf_writer *w, uint64_t id, const float *v, const char *payload) {
  if (w->ids_only) {
    fwrite(&id, sizeof id, 1, w->f); /* little-endian, as '<u8' says: x86-64 and aarch64 */
  } else if (w->format == VF_NPY) {
    fwrite(v, sizeof *v, w->dim, w->f);
  } else if (w->format == VF_FVECS) {
    int32_t d = (int32_t)w->dim;
    fwrite(&d, sizeof d, 1, w->f);
    fwrite(v, sizeof *v, w->dim, w->f);
  } else {
    write_text_row(w, id, v, payload);
  }
}

int vf_writer_finish(vf_writer *w, char *err, size_t errlen) {
  int bad = fflush(w->f) != 0 || ferror(w->f) || fsync(fileno(w->f)) != 0;
  int e = errno;
  if (fclose(w->f) != 0 && !bad) bad = 1, e = errno;
  w->f = NULL;
  if (!bad) return 0;
  unlink(w->tmp_path);
  return vc_errf(err, errlen, "%s: cannot write it: %s", w->path, strerror(e));
}

int vf_writer_commit(vf_writer *w, char *err, size_t errlen) {
  if (rename(w->tmp_path, w->path) != 0)
    return vc_errf(err, errlen, "%s: %s", w->path, strerror(errno));
  free(w->tmp_path);
  w->tmp_path = NULL;
  return 0;
}

void vf_writer_discard(vf_writer *w) {
  if (w->f) fclose(w->f);
  if (w->tmp_path) unlink(w->tmp_path);
  free(w->tmp_path);
  free(w->path);
  memset(w, 0, sizeof *w);
}

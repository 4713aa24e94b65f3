/* vexctl: opening a vector file for import, the checks every format shares (finite values within
 * the library's norm limit, ids within range), and handing out batches (vecfile.h). */
#include "vecfile.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vexfs/vexfs.h>

#include "cli.h"
#include "hdf5_file.h"

static const char *const format_names[] = {[VF_NPY] = "npy",     [VF_FVECS] = "fvecs",
                                           [VF_BVECS] = "bvecs", [VF_JSONL] = "jsonl",
                                           [VF_CSV] = "csv",     [VF_HDF5] = "hdf5"};
#define FORMATS (sizeof format_names / sizeof *format_names)

const char *vf_format_name(vf_format f) { return (size_t)f < FORMATS ? format_names[f] : "?"; }

int vf_format_parse(const char *s, vf_format *out) {
  for (size_t i = 0; i < FORMATS; i++)
    if (!strcmp(s, format_names[i])) return *out = (vf_format)i, 0;
  return -1;
}

int vf_format_of_path(const char *path, vf_format *out) {
  const char *dot = strrchr(path, '.');
  if (!dot || strchr(dot, '/')) return -1;
  if (!strcmp(dot, ".h5")) return *out = VF_HDF5, 0;
  return vf_format_parse(dot + 1, out);
}

/* Maps the whole file read-only (the binary formats). An empty file maps nothing. */
static int map_file(vf_source *s, char *err, size_t errlen) {
  int fd = vc_open_regular(s->path, err, errlen);
  if (fd < 0) return -1;
  struct stat sb;
  int rc = 0;
  if (fstat(fd, &sb) != 0) rc = vc_errf(err, errlen, "%s", strerror(errno));
  else if (sb.st_size > 0) {
    void *m = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED) rc = vc_errf(err, errlen, "cannot map it: %s", strerror(errno));
    else {
      madvise(m, (size_t)sb.st_size, MADV_SEQUENTIAL);
      s->map = m;
      s->map_len = (size_t)sb.st_size;
    }
  }
  close(fd);
  s->data = s->map;
  return rc;
}

/* Reads the whole file into s->text with a NUL after it (the text formats, which are cut into
 * strings in place). */
static int read_text(vf_source *s, size_t *len, char *err, size_t errlen) {
  int fd = vc_open_regular(s->path, err, errlen);
  FILE *f = fd >= 0 ? fdopen(fd, "rb") : NULL;
  if (!f) {
    if (fd >= 0) close(fd);
    return fd >= 0 ? vc_errf(err, errlen, "%s", strerror(errno)) : -1;
  }
  struct stat sb;
  int rc = 0;
  if (fstat(fileno(f), &sb) != 0)
    rc = vc_errf(err, errlen, "%s", strerror(errno));
  else if (!(s->text = malloc((size_t)sb.st_size + 1)))
    rc = vc_errf(err, errlen, "out of memory for %lld bytes", (long long)sb.st_size);
  else if (fread(s->text, 1, (size_t)sb.st_size, f) != (size_t)sb.st_size)
    rc = vc_errf(err, errlen, "cannot read it: %s", ferror(f) ? strerror(errno) : "it shrank");
  else {
    s->text[sb.st_size] = '\0';
    *len = (size_t)sb.st_size;
    static const char bom[] = "\xef\xbb\xbf"; /* editors on Windows start UTF-8 files with it */
    if (*len >= 3 && !memcmp(s->text, bom, 3)) {
      memmove(s->text, s->text + 3, *len - 2);
      *len -= 3;
    }
  }
  fclose(f);
  return rc;
}

static int read_hdf5(vf_source *s, const char *dataset, char *err, size_t errlen) {
  uint64_t rows, cols;
  if (vc_hdf5_read_floats(s->path, dataset ? dataset : "train", &s->owned, &rows, &cols, err,
                          errlen) != 0)
    return -1;
  if (cols == 0 || cols > VEXFS_MAX_DIM)
    return vc_errf(err, errlen, "dataset '%s': rows of %llu coordinates (1..%u allowed)",
                   dataset ? dataset : "train", (unsigned long long)cols, VEXFS_MAX_DIM);
  s->rows = rows;
  s->dim = (uint32_t)cols;
  s->layout = VF_ROWS_F32;
  s->data = (const unsigned char *)s->owned;
  return 0;
}

/* Every row finite, with a squared norm the library accepts; checked batch by batch on the very
 * floats the import will pass. */
static int check_values(vf_source *s, char *err, size_t errlen) {
  vf_batch b;
  for (uint64_t first = 0; first < s->rows; first += s->batch) {
    size_t n = s->rows - first < s->batch ? (size_t)(s->rows - first) : s->batch;
    vf_read_batch(s, first, n, &b);
    for (size_t r = 0; r < n; r++) {
      const float *v = b.vectors + r * s->dim;
      float norm = 0;
      for (uint32_t j = 0; j < s->dim; j++) norm += v[j] * v[j];
      if (isfinite(norm) && norm <= VEXFS_MAX_SQUARED_NORM) continue;
      char row[64];
      vf_row_name(s, first + r, row, sizeof row);
      for (uint32_t j = 0; j < s->dim; j++)
        if (!isfinite(v[j]))
          return vc_errf(err, errlen, "%s: coordinate %u is %s: vectors must be finite float32",
                         row, j, isnan(v[j]) ? "NaN" : "infinite (or beyond float32's range)");
      return vc_errf(err, errlen, "%s: squared norm %g is above the library's limit %g", row,
                     (double)norm, (double)VEXFS_MAX_SQUARED_NORM);
    }
  }
  return 0;
}

typedef struct id_row {
  uint64_t id, row;
} id_row;

static int by_id_then_row(const void *a, const void *b) {
  const id_row *x = a, *y = b;
  if (x->id != y->id) return x->id < y->id ? -1 : 1;
  return x->row < y->row ? -1 : x->row > y->row;
}

/* A file's own ids: none reserved, none twice (the library would refuse the batch mid-import). */
static int check_file_ids(vf_source *s, char *err, size_t errlen) {
  id_row *t = malloc((size_t)s->rows * sizeof *t);
  if (!t) return vc_errf(err, errlen, "out of memory for %llu ids", (unsigned long long)s->rows);
  for (uint64_t r = 0; r < s->rows; r++) t[r] = (id_row){s->ids[r], r};
  qsort(t, (size_t)s->rows, sizeof *t, by_id_then_row);
  int rc = 0;
  char row[64], other[64];
  for (uint64_t i = 0; i < s->rows && rc == 0; i++) {
    if (t[i].id == UINT64_MAX) {
      vf_row_name(s, t[i].row, row, sizeof row);
      rc = vc_errf(err, errlen, "%s: id %llu is reserved", row, (unsigned long long)UINT64_MAX);
    } else if (i + 1 < s->rows && t[i + 1].id == t[i].id) {
      vf_row_name(s, t[i + 1].row, row, sizeof row);
      vf_row_name(s, t[i].row, other, sizeof other);
      rc = vc_errf(err, errlen, "%s: id %llu is also %s's", row, (unsigned long long)t[i].id,
                   other);
    }
  }
  free(t);
  return rc;
}

static int check_ids(vf_source *s, char *err, size_t errlen) {
  if (s->ids) return check_file_ids(s, err, errlen);
  if (s->ids_from > UINT64_MAX - s->rows) /* the last id, ids_from + rows - 1, below the reserved one */
    return vc_errf(err, errlen, "--ids-from %llu leaves no room for %llu ids below %llu",
                   (unsigned long long)s->ids_from, (unsigned long long)s->rows,
                   (unsigned long long)UINT64_MAX);
  return 0;
}

int vf_open(vf_source *s, const char *path, vf_format format, const char *dataset,
            uint64_t ids_from, size_t batch, char *err, size_t errlen) {
  memset(s, 0, sizeof *s);
  s->format = format;
  s->path = path;
  s->ids_from = ids_from;
  size_t text_len = 0;
  int rc;
  switch (format) {
  case VF_NPY: rc = map_file(s, err, errlen) || vf_check_npy(s, err, errlen) ? -1 : 0; break;
  case VF_FVECS:
  case VF_BVECS: rc = map_file(s, err, errlen) || vf_check_texmex(s, err, errlen) ? -1 : 0; break;
  case VF_JSONL:
    rc = read_text(s, &text_len, err, errlen) || vf_parse_jsonl(s, text_len, err, errlen) ? -1 : 0;
    break;
  case VF_CSV:
    rc = read_text(s, &text_len, err, errlen) || vf_parse_csv(s, text_len, err, errlen) ? -1 : 0;
    break;
  default: rc = read_hdf5(s, dataset, err, errlen); break;
  }
  if (rc == 0 && s->dim == 0) rc = vc_errf(err, errlen, "the file holds no vectors");
  if (rc == 0) {
    s->batch = batch;
    int direct = s->layout == VF_ROWS_F32; /* rows passed to the library straight from the file */
    if (!(s->batch_ids = malloc(batch * sizeof *s->batch_ids)) ||
        (!direct && !(s->batch_vectors = malloc(batch * s->dim * sizeof(float)))))
      rc = vc_errf(err, errlen, "out of memory for a batch of %zu rows of %u", batch, s->dim);
  }
  if (rc == 0) rc = check_ids(s, err, errlen);
  if (rc == 0) rc = check_values(s, err, errlen);
  if (rc != 0) vf_close(s);
  return rc;
}

/* Copies n rows starting at first into s->batch_vectors, converting them to float32. */
static void convert_rows(vf_source *s, uint64_t first, size_t n) {
  const size_t d = s->dim;
  float *out = s->batch_vectors;
  switch (s->layout) {
  case VF_ROWS_F64: {
    const double *in = (const double *)s->data + first * d;
    for (size_t i = 0; i < n * d; i++) out[i] = (float)in[i];
    break;
  }
  case VF_COLS_F32: {
    const float *in = (const float *)s->data;
    for (size_t r = 0; r < n; r++)
      for (size_t j = 0; j < d; j++) out[r * d + j] = in[j * s->rows + first + r];
    break;
  }
  case VF_COLS_F64: {
    const double *in = (const double *)s->data;
    for (size_t r = 0; r < n; r++)
      for (size_t j = 0; j < d; j++) out[r * d + j] = (float)in[j * s->rows + first + r];
    break;
  }
  case VF_TEXMEX_F32:
    for (size_t r = 0; r < n; r++)
      memcpy(out + r * d, s->data + (first + r) * (4 + 4 * d) + 4, 4 * d);
    break;
  case VF_TEXMEX_U8:
    for (size_t r = 0; r < n; r++) {
      const unsigned char *in = s->data + (first + r) * (4 + d) + 4;
      for (size_t j = 0; j < d; j++) out[r * d + j] = in[j];
    }
    break;
  case VF_ROWS_F32: break;
  }
}

void vf_read_batch(vf_source *s, uint64_t first, size_t n, vf_batch *b) {
  if (s->layout == VF_ROWS_F32) {
    b->vectors = (const float *)s->data + first * s->dim;
  } else {
    convert_rows(s, first, n);
    b->vectors = s->batch_vectors;
  }
  if (s->ids) {
    b->ids = s->ids + first;
  } else {
    for (size_t i = 0; i < n; i++) s->batch_ids[i] = s->ids_from + first + i;
    b->ids = s->batch_ids;
  }
  b->payloads = s->any_payload ? s->payloads + first : NULL;
}

void vf_row_name(const vf_source *s, uint64_t row, char *out, size_t n) {
  if (s->lines)
    snprintf(out, n, "row %llu (line %llu)", (unsigned long long)row,
             (unsigned long long)s->lines[row]);
  else snprintf(out, n, "row %llu", (unsigned long long)row);
}

void vf_close(vf_source *s) {
  if (s->map) munmap(s->map, s->map_len);
  free(s->owned);
  free(s->ids);
  free(s->lines);
  free(s->payloads);
  free(s->text);
  free(s->batch_ids);
  free(s->batch_vectors);
  memset(s, 0, sizeof *s);
}

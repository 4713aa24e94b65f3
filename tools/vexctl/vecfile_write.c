/* vexctl: the vector file writers of `export` (vecfile_write.h). */
#include "vecfile_write.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define NPY_ALIGN 64            /* numpy pads the header so that the data starts aligned */
#define NPY_GROWTH_DIGITS 21    /* numpy leaves room for the first axis to grow to this many */

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

int vf_writer_open(vf_writer *w, const char *path, vf_format format, int ids_only, uint64_t rows,
                   uint32_t dim, char *err, size_t errlen) {
  memset(w, 0, sizeof *w);
  w->format = format;
  w->ids_only = ids_only;
  w->dim = dim;
  if (vc_outfile_open(&w->out, path, err, errlen) != 0) return -1;
  if (format == VF_NPY) write_npy_header(w->out.f, ids_only ? "<u8" : "<f4", rows, ids_only, dim);
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
  fprintf(w->out.f, jsonl ? "{\"id\":%" PRIu64 ",\"vector\":[" : "%" PRIu64, id);
  for (uint32_t j = 0; j < w->dim; j++) {
    format_float(v[j], num);
    if (j || !jsonl) fputc(',', w->out.f);
    fputs(num, w->out.f);
  }
  if (jsonl) {
    fputc(']', w->out.f);
    if (payload) fprintf(w->out.f, ",\"payload\":%s", payload);
    fputc('}', w->out.f);
  }
  fputc('\n', w->out.f);
}

void vf_writer_row(vf_writer *w, uint64_t id, const float *v, const char *payload) {
  if (w->ids_only) {
    fwrite(&id, sizeof id, 1, w->out.f); /* little-endian, as '<u8' says: x86-64 and aarch64 */
  } else if (w->format == VF_NPY) {
    fwrite(v, sizeof *v, w->dim, w->out.f);
  } else if (w->format == VF_FVECS) {
    int32_t d = (int32_t)w->dim;
    fwrite(&d, sizeof d, 1, w->out.f);
    fwrite(v, sizeof *v, w->dim, w->out.f);
  } else {
    write_text_row(w, id, v, payload);
  }
}

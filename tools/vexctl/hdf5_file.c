/* vexctl: reading ann-benchmarks HDF5 files through Debian's libhdf5 (hdf5_file.h). HDF5's own
 * error printing is turned off, so that only vexctl's messages appear. */
#include "hdf5_file.h"

#include <errno.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* Opens path read-only, or says why not. */
static hid_t open_file(const char *path, char *err, size_t errlen) {
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  int fd = vc_open_regular(path, err, errlen); /* HDF5 itself would wait on a FIFO */
  if (fd < 0) return -1;
  close(fd);
  if (H5Fis_hdf5(path) <= 0) return vc_errf(err, errlen, "not an HDF5 file");
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) vc_errf(err, errlen, "HDF5 could not open the file");
  return f;
}

/* The names of the file's top-level datasets, ", "-separated, for "no dataset" messages. */
typedef struct name_list {
  char *out;
  size_t n, len;
} name_list;

static herr_t add_dataset_name(hid_t group, const char *name, const H5L_info_t *info, void *data) {
  (void)info;
  name_list *l = data;
  H5O_info_t oi;
  if (H5Oget_info_by_name(group, name, &oi, H5P_DEFAULT) < 0 || oi.type != H5O_TYPE_DATASET)
    return 0;
  int w = snprintf(l->out + l->len, l->n - l->len, "%s%s", l->len ? ", " : "", name);
  if (w > 0) l->len += (size_t)w < l->n - l->len ? (size_t)w : l->n - l->len - 1;
  return 0;
}

/* "float32", "int64", "uint8", "string", ... for messages. */
static void type_name(hid_t type, char *out, size_t n) {
  size_t bits = H5Tget_size(type) * 8;
  switch (H5Tget_class(type)) {
  case H5T_FLOAT: snprintf(out, n, "float%zu", bits); break;
  case H5T_INTEGER:
    snprintf(out, n, "%sint%zu", H5Tget_sign(type) == H5T_SGN_NONE ? "u" : "", bits);
    break;
  case H5T_STRING: snprintf(out, n, "string"); break;
  case H5T_COMPOUND: snprintf(out, n, "compound"); break;
  case H5T_ENUM: snprintf(out, n, "enum"); break;
  default: snprintf(out, n, "a non-numeric type"); break;
  }
}

/* Opens dataset name of f and checks that it is 2-D of the wanted class; sets rows and cols.
 * want_float: float32/float64 rows; else any integer type. */
static hid_t open_2d(hid_t f, const char *name, int want_float, uint64_t *rows, uint64_t *cols,
                     char *err, size_t errlen) {
  if (H5Lexists(f, name, H5P_DEFAULT) <= 0) {
    char names[512] = "";
    name_list l = {names, sizeof names, 0};
    H5Literate(f, H5_INDEX_NAME, H5_ITER_INC, NULL, add_dataset_name, &l);
    vc_errf(err, errlen, "no dataset '%s' (the file holds: %s)", name,
            l.len ? names : "no datasets");
    return -1;
  }
  hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
  if (d < 0) return vc_errf(err, errlen, "'%s' is not a dataset", name);
  hid_t space = H5Dget_space(d), type = H5Dget_type(d);
  int ndims = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
  hsize_t dims[H5S_MAX_RANK] = {0};
  if (ndims > 0) H5Sget_simple_extent_dims(space, dims, NULL);
  H5T_class_t cls = type >= 0 ? H5Tget_class(type) : H5T_NO_CLASS;
  size_t size = type >= 0 ? H5Tget_size(type) : 0;
  int good_type = want_float ? cls == H5T_FLOAT && (size == 4 || size == 8) : cls == H5T_INTEGER;
  if (ndims != 2 || !good_type) {
    char tn[32], shape[160] = "(";
    type_name(type, tn, sizeof tn);
    for (int i = 0; i < ndims && strlen(shape) < sizeof shape - 32; i++)
      snprintf(shape + strlen(shape), sizeof shape - strlen(shape), "%s%llu", i ? ", " : "",
               (unsigned long long)dims[i]);
    strcat(shape, ndims == 1 ? ",)" : ")");
    vc_errf(err, errlen, "dataset '%s': expected a 2-D %s array, got %s %s", name,
            want_float ? "float32 or float64" : "integer", tn, shape);
    H5Sclose(space), H5Tclose(type), H5Dclose(d);
    return -1;
  }
  H5Sclose(space), H5Tclose(type);
  *rows = dims[0];
  *cols = dims[1];
  return d;
}

/* Reads dataset name as rows x cols elements of mem_type (elem bytes each) into a malloc'd block. */
static int read_2d(const char *path, const char *name, int want_float, hid_t mem_type,
                   size_t elem, void **data, uint64_t *rows, uint64_t *cols, char *err,
                   size_t errlen) {
  *data = NULL;
  *rows = *cols = 0;
  hid_t f = open_file(path, err, errlen);
  if (f < 0) return -1;
  uint64_t r, c;
  hid_t d = open_2d(f, name, want_float, &r, &c, err, errlen);
  if (d < 0) return H5Fclose(f), -1;
  int rc = -1;
  void *buf = NULL;
  if (c != 0 && r > SIZE_MAX / elem / c) {
    vc_errf(err, errlen, "dataset '%s': %llu x %llu is too large", name, (unsigned long long)r,
            (unsigned long long)c);
  } else if (!(buf = malloc(r && c ? r * c * elem : 1))) {
    vc_errf(err, errlen, "dataset '%s': out of memory for %llu x %llu", name, (unsigned long long)r,
            (unsigned long long)c);
  } else if (r && c && H5Dread(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
    vc_errf(err, errlen, "dataset '%s': HDF5 could not read it", name);
  } else {
    *data = buf, buf = NULL;
    *rows = r, *cols = c;
    rc = 0;
  }
  free(buf);
  H5Dclose(d);
  H5Fclose(f);
  return rc;
}

int vc_hdf5_read_floats(const char *path, const char *name, float **data, uint64_t *rows,
                        uint64_t *cols, char *err, size_t errlen) {
  return read_2d(path, name, 1, H5T_NATIVE_FLOAT, sizeof **data, (void **)data, rows, cols, err,
                 errlen);
}

int vc_hdf5_read_ints(const char *path, const char *name, int64_t **data, uint64_t *rows,
                      uint64_t *cols, char *err, size_t errlen) {
  return read_2d(path, name, 0, H5T_NATIVE_INT64, sizeof **data, (void **)data, rows, cols, err,
                 errlen);
}

int vc_hdf5_attr_string(const char *path, const char *name, char *out, size_t n) {
  char err[256];
  hid_t f = open_file(path, err, sizeof err);
  if (f < 0) return -1;
  int rc = -1;
  hid_t a = H5Aexists(f, name) > 0 ? H5Aopen(f, name, H5P_DEFAULT) : -1;
  hid_t type = a >= 0 ? H5Aget_type(a) : -1;
  if (type >= 0 && H5Tget_class(type) == H5T_STRING && n > 0) {
    hid_t mem = H5Tcopy(type);
    if (H5Tis_variable_str(type) > 0) { /* what h5py writes for a str */
      char *s = NULL;
      if (H5Aread(a, mem, &s) >= 0 && s) {
        snprintf(out, n, "%s", s);
        rc = 0;
      }
      if (s) H5free_memory(s);
    } else {
      size_t size = H5Tget_size(type);
      char *s = calloc(1, size + 1);
      if (s && H5Aread(a, mem, s) >= 0) {
        snprintf(out, n, "%s", s);
        rc = 0;
      }
      free(s);
    }
    H5Tclose(mem);
  }
  if (type >= 0) H5Tclose(type);
  if (a >= 0) H5Aclose(a);
  H5Fclose(f);
  return rc;
}

/* vexctl: reading the 2-D datasets of an HDF5 file, as ann-benchmarks publishes its data sets
 * (train, test: float32 or float64 rows; neighbors: integer ids; the "distance" attribute). */
#ifndef VEXCTL_HDF5_FILE_H
#define VEXCTL_HDF5_FILE_H
#include <stddef.h>
#include <stdint.h>

/* Reads the whole 2-D dataset `name` (float32 or float64, converted to float32) into a malloc'd
 * row-major array *data of *rows x *cols. Returns 0, or -1 with a message in err, e.g.
 * "no dataset 'train' (the file holds: test, neighbors)" or
 * "dataset 'train': expected a 2-D float32 or float64 array, got int32 (3, 4)". */
int vc_hdf5_read_floats(const char *path, const char *name, float **data, uint64_t *rows,
                        uint64_t *cols, char *err, size_t errlen);
/* The same for an integer dataset (any integer type), as int64. */
int vc_hdf5_read_ints(const char *path, const char *name, int64_t **data, uint64_t *rows,
                      uint64_t *cols, char *err, size_t errlen);
/* Copies the file's string attribute `name` (e.g. "distance") into out; 0, or -1 when absent or
 * not a string. */
int vc_hdf5_attr_string(const char *path, const char *name, char *out, size_t n);

#endif

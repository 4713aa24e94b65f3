/* vexctl: writing vector files for `export`: .npy (float32, with a header byte-identical to
 * numpy.save's), .jsonl (import's line format), .fvecs and .csv; and a uint64 .npy of ids.
 * Each file is written all or nothing (outfile.h). */
#ifndef VEXCTL_VECFILE_WRITE_H
#define VEXCTL_VECFILE_WRITE_H
#include <stdint.h>
#include <stdio.h>

#include "outfile.h"
#include "vecfile.h"

typedef struct vf_writer {
  vf_format format; /* VF_NPY, VF_JSONL, VF_FVECS or VF_CSV; VF_NPY with ids_only: ids */
  int ids_only;
  uint32_t dim;
  vc_outfile out;
} vf_writer;

/* Whether export writes this format. */
int vf_can_write(vf_format format);
/* Starts the temporary beside PATH for rows x dim (ids_only: a 1-D uint64 array of rows ids). 0, or -1 with err. */
int vf_writer_open(vf_writer *w, const char *path, vf_format format, int ids_only, uint64_t rows,
                   uint32_t dim, char *err, size_t errlen);
/* One row: its id, vector (dim floats) and payload (JSON text or NULL; jsonl only). */
void vf_writer_row(vf_writer *w, uint64_t id, const float *v, const char *payload);
/* Then finish, commit or discard w->out (outfile.h): both files of an export are finished
 * before either replaces its old one. */

#endif

/* vexctl: vector files read for `import`: .npy, .fvecs, .bvecs, .jsonl, .csv and ann-benchmarks
 * HDF5. vf_open checks the whole file (structure, dimensions, every line, every value finite and
 * within the library's norm limit) before anything is imported, so that a bad file is refused
 * with nothing written; then rows are handed out in batches, converted to float32 only where the
 * file does not hold float32 rows the library can read in place. */
#ifndef VEXCTL_VECFILE_H
#define VEXCTL_VECFILE_H
#include <stddef.h>
#include <stdint.h>

typedef enum vf_format { VF_NPY, VF_FVECS, VF_BVECS, VF_JSONL, VF_CSV, VF_HDF5 } vf_format;

/* "npy", "fvecs", "bvecs", "jsonl", "csv", "hdf5". */
const char *vf_format_name(vf_format f);
/* The format a --format word names; 0, or -1. */
int vf_format_parse(const char *s, vf_format *out);
/* The format path's extension says (.npy .fvecs .bvecs .jsonl .csv .hdf5 .h5); 0, or -1. */
int vf_format_of_path(const char *path, vf_format *out);

/* How a batch's rows are laid out in the file, for the formats' readers. */
typedef enum vf_layout {
  VF_ROWS_F32,      /* rows*dim float32 at `data`, row-major: read in place */
  VF_ROWS_F64,      /* rows*dim float64 at `data`, row-major */
  VF_COLS_F32,      /* Fortran order: dim columns of rows float32 */
  VF_COLS_F64,
  VF_TEXMEX_F32,    /* per row an int32 word, then dim float32 (.fvecs) */
  VF_TEXMEX_U8      /* per row an int32 word, then dim uint8 (.bvecs) */
} vf_layout;

typedef struct vf_source {
  vf_format format;
  const char *path;
  uint64_t rows;
  uint32_t dim;
  uint64_t ids_from;     /* ids of rows without one: ids_from + row */
  /* the rows: in the file's mapping, or parsed (text, HDF5) into `owned` as VF_ROWS_F32 */
  vf_layout layout;
  const unsigned char *data;
  void *map;             /* munmap(map, map_len) */
  size_t map_len;
  float *owned;
  /* text formats: each row's id and line; jsonl: each row's payload (NULL for none), pointing
   * into `text`, the file read whole and cut into strings */
  uint64_t *ids;
  uint64_t *lines;
  const char **payloads;
  char *text;
  int any_payload;
  size_t floats_used, floats_cap, rows_cap; /* while a text file is parsed */
  /* one batch's buffers */
  size_t batch;
  uint64_t *batch_ids;
  float *batch_vectors;
} vf_source;

typedef struct vf_batch {
  const uint64_t *ids;
  const float *vectors;             /* n*dim, row-major */
  const char *const *payloads;      /* NULL when the file has none */
} vf_batch;

/* Opens and checks path as format (dataset: HDF5's, NULL for "train"), for batches of at most
 * `batch` rows. Returns 0, or -1 with the reason in err (naming the row/line/byte), with nothing
 * left open. */
int vf_open(vf_source *s, const char *path, vf_format format, const char *dataset,
            uint64_t ids_from, size_t batch, char *err, size_t errlen);
/* Rows [first, first + n) (n <= batch); the pointers hold until the next call. */
void vf_read_batch(vf_source *s, uint64_t first, size_t n, vf_batch *b);
void vf_close(vf_source *s);
/* "row 12", or "row 12 (line 14)" for text formats. */
void vf_row_name(const vf_source *s, uint64_t row, char *out, size_t n);

/* The formats' checkers, called by vf_open with the file mapped (npy, fvecs, bvecs) or read into
 * s->text with a NUL after it (jsonl, csv); each sets rows, dim and the layout (or fills owned,
 * ids, lines, payloads). */
int vf_check_npy(vf_source *s, char *err, size_t errlen);
int vf_check_texmex(vf_source *s, char *err, size_t errlen);
int vf_parse_jsonl(vf_source *s, size_t text_len, char *err, size_t errlen);
int vf_parse_csv(vf_source *s, size_t text_len, char *err, size_t errlen);

/* For the text formats' parsers (vecfile_text.c). */
/* Appends one coordinate of the row being parsed; 0, or -1 when out of memory. */
int vf_push_float(vf_source *s, float v);
/* Appends n coordinates for the caller to write; NULL when out of memory. */
float *vf_push_floats(vf_source *s, size_t n);
/* Ends the row being parsed, read from `line`: its coordinates must number the first row's
 * (which sets dim); id, else (has_id 0) ids_from + row; payload may be NULL. 0, or -1 with err
 * set ("line 5: 15 coordinates, expected 16 (as on line 2)"). */
int vf_end_row(vf_source *s, uint64_t line, int has_id, uint64_t id, const char *payload,
               char *err, size_t errlen);
/* Parses text[0..len) as a float32 with strtof (never through a double); 0, or -1 when it is
 * not entirely a number. A value beyond float32's range reads as infinity. */
int vf_parse_float(const char *text, size_t len, float *out);

#endif

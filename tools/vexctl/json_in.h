/* vexctl: a small strict JSON reader (RFC 8259) for the JSON the tool takes in: --vector arrays,
 * the lines of .jsonl files, and the reports the library returns as text (vexfs_db_check,
 * vexfs_list_payload_indexes). It builds a tree whose values know their span in the text;
 * numbers are kept as that text, so that callers convert them as they need (strtof for vector
 * coordinates, strtoull for counts and ids). */
#ifndef VEXCTL_JSON_IN_H
#define VEXCTL_JSON_IN_H
#include <stddef.h>
#include <stdint.h>

typedef enum vj_type { VJ_NULL, VJ_FALSE, VJ_TRUE, VJ_NUMBER, VJ_STRING, VJ_ARRAY, VJ_OBJECT } vj_type;

typedef struct vj_value {
  vj_type type;
  /* The value's source span: src[0..len) is its text as written in the parsed text (a number
   * is read from there; a payload can be passed on unchanged). src = text + offset. */
  const char *src;
  size_t len;             /* 0 while the value is not read to its end (see vj_parse_tree) */
  const char *key_src;    /* a member of an object: where its name's opening quote stands */
  char *text;             /* VJ_STRING: decoded UTF-8 (NULL for the other types) */
  char *key;              /* the member's name when this value sits in an object */
  struct vj_value *items; /* VJ_ARRAY: elements; VJ_OBJECT: members, in order */
  size_t n;
} vj_value;

#define VJ_MAX_DEPTH 64 /* vj_parse's limit on nesting */

/* Parses text (one JSON value, surrounded by whitespace only). Returns the tree, to be freed with
 * vj_free, or NULL with "column N: what is wrong" in err (NULL too when out of memory). The tree
 * points into text (src), which must outlive it. */
vj_value *vj_parse(const char *text, char *err, size_t errlen);
void vj_free(vj_value *v); /* NULL-safe */

/* Where and why a parse failed. */
typedef struct vj_fault {
  size_t at;       /* offset in the text */
  char what[160];  /* what is wrong there: "',' or ']' expected" */
} vj_fault;

/* vj_parse for callers that word their messages themselves (a line of a .jsonl file): parses
 * text into *root, with arrays and objects nested at most max_depth deep. Returns 0, or -1 with
 * *fault set and *root holding what was read before the fault: in each container on the way
 * down to it the last item is the one being read, its span started (src, unless the fault came
 * before it) but len 0. Either way *root is freed with vj_free_contents. */
int vj_parse_tree(const char *text, int max_depth, vj_value *root, vj_fault *fault);
void vj_free_contents(vj_value *v);

/* Array elements as float32: items[0..n) into out[0..n), each number converted from its own
 * text by strtof (never through a double; an underflow reads as a subnormal or 0). Returns
 * VJ_FLOATS_OK, or the first bad element's fault with its index in *bad. */
enum { VJ_FLOATS_OK = 0, VJ_FLOATS_NOT_A_NUMBER, VJ_FLOATS_BEYOND_FLOAT32 };
int vj_floats(const vj_value *items, size_t n, float *out, size_t *bad);

/* The member called key of an object, or NULL (also when obj is NULL or not an object). */
const vj_value *vj_get(const vj_value *obj, const char *key);
/* A member's value as an unsigned integer, or fallback when absent or not one. */
uint64_t vj_get_u64(const vj_value *obj, const char *key, uint64_t fallback);
/* A member's string, or fallback when absent or not a string. */
const char *vj_get_str(const vj_value *obj, const char *key, const char *fallback);

#endif

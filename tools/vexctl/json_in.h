/* vexctl: a small strict JSON reader (RFC 8259) for the JSON the tool takes in: --vector arrays,
 * and the reports the library returns as text (vexfs_db_check, vexfs_list_payload_indexes).
 * It builds a tree; numbers keep the text as written, so that callers convert them as they need
 * (strtof for vector coordinates, strtoull for counts). */
#ifndef VEXCTL_JSON_IN_H
#define VEXCTL_JSON_IN_H
#include <stddef.h>
#include <stdint.h>

typedef enum vj_type { VJ_NULL, VJ_FALSE, VJ_TRUE, VJ_NUMBER, VJ_STRING, VJ_ARRAY, VJ_OBJECT } vj_type;

typedef struct vj_value {
  vj_type type;
  char *text;             /* VJ_STRING: decoded UTF-8; VJ_NUMBER: the number as written */
  char *key;              /* the member's name when this value sits in an object */
  struct vj_value *items; /* VJ_ARRAY: elements; VJ_OBJECT: members, in order */
  size_t n;
} vj_value;

/* Parses text (one JSON value, surrounded by whitespace only). Returns the tree, to be freed with
 * vj_free, or NULL with "column N: what is wrong" in err (NULL too when out of memory). */
vj_value *vj_parse(const char *text, char *err, size_t errlen);
void vj_free(vj_value *v); /* NULL-safe */

/* The member called key of an object, or NULL (also when obj is NULL or not an object). */
const vj_value *vj_get(const vj_value *obj, const char *key);
/* A member's value as an unsigned integer, or fallback when absent or not one. */
uint64_t vj_get_u64(const vj_value *obj, const char *key, uint64_t fallback);
/* A member's string, or fallback when absent or not a string. */
const char *vj_get_str(const vj_value *obj, const char *key, const char *fallback);

#endif

/* vexctl: a small streaming JSON writer for --json output: keys and values in order, commas and
 * string escapes done here. Numbers that are not finite are written as null. */
#ifndef VEXCTL_JSON_OUT_H
#define VEXCTL_JSON_OUT_H
#include <stdint.h>
#include <stdio.h>

#define VCJ_MAX_DEPTH 32

typedef struct vc_json {
  FILE *f;
  int depth;
  int count[VCJ_MAX_DEPTH]; /* members written at each open level */
  char closer[VCJ_MAX_DEPTH]; /* '}' or ']' */
} vc_json;

void vcj_init(vc_json *j, FILE *f);
/* key is the member's name inside an object, NULL inside an array or at the top. */
void vcj_object(vc_json *j, const char *key);
void vcj_array(vc_json *j, const char *key);
void vcj_end(vc_json *j); /* closes the innermost object or array; a newline after the top one */
void vcj_str(vc_json *j, const char *key, const char *v); /* NULL writes null */
void vcj_u64(vc_json *j, const char *key, uint64_t v);
void vcj_i64(vc_json *j, const char *key, int64_t v);
void vcj_double(vc_json *j, const char *key, double v); /* %.17g, shortest that round-trips */
void vcj_bool(vc_json *j, const char *key, int v);
void vcj_null(vc_json *j, const char *key);
/* Writes text, already valid JSON (a payload, the library's metrics), as the value. */
void vcj_raw(vc_json *j, const char *key, const char *json);
/* Writes s as a JSON string (quotes, escapes) to f; for callers that print JSON lines themselves. */
void vcj_write_string(FILE *f, const char *s);

#endif

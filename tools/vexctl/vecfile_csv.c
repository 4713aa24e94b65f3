/* vexctl: parsing a .csv file for import: per line an id, then the coordinates, comma-separated;
 * the first line may be a header (its first field not a number). Blank lines are skipped. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "vecfile.h"

/* The field starting at p, without the spaces around it: [*start, *start + *len); returns where
 * the field ends (at ',' or the line's NUL). */
static const char *field(const char *p, const char **start, size_t *len) {
  while (*p == ' ' || *p == '\t') p++;
  const char *e = p + strcspn(p, ",");
  *start = p;
  const char *q = e;
  while (q > p && (q[-1] == ' ' || q[-1] == '\t' || q[-1] == '\r')) q--;
  *len = (size_t)(q - p);
  return e;
}

static int parse_id(const char *f, size_t len, uint64_t *id) {
  if (len == 0 || strspn(f, "0123456789") != len) return -1;
  errno = 0;
  unsigned long long v = strtoull(f, NULL, 10);
  if (errno == ERANGE) return -1;
  *id = v;
  return 0;
}

static int parse_row(vf_source *s, const char *p, uint64_t line, int may_be_header, char *err,
                     size_t errlen) {
  const char *f;
  size_t len;
  p = field(p, &f, &len);
  uint64_t id;
  if (parse_id(f, len, &id) != 0) {
    float ignored;
    if (may_be_header && vf_parse_float(f, len, &ignored) != 0) return 0; /* a header */
    return vc_errf(err, errlen, "line %llu: the id '%.*s' is not an integer 0..%llu",
                   (unsigned long long)line, (int)(len > 40 ? 40 : len), f,
                   (unsigned long long)UINT64_MAX - 1);
  }
  for (unsigned i = 0; *p == ','; i++) {
    p = field(p + 1, &f, &len);
    float v;
    if (vf_parse_float(f, len, &v) != 0)
      return vc_errf(err, errlen, "line %llu: coordinate %u ('%.*s') is not a number",
                     (unsigned long long)line, i, (int)(len > 40 ? 40 : len), f);
    if (vf_push_float(s, v)) return vc_errf(err, errlen, "out of memory");
  }
  return vf_end_row(s, line, 1, id, NULL, err, errlen);
}

int vf_parse_csv(vf_source *s, size_t len, char *err, size_t errlen) {
  char *p = s->text, *end = p + len;
  int first = 1;
  for (uint64_t line = 1; p < end; line++) {
    char *nl = memchr(p, '\n', (size_t)(end - p)), *eol = nl ? nl : end;
    *eol = '\0';
    if (strlen(p) != (size_t)(eol - p))
      return vc_errf(err, errlen, "line %llu: a NUL byte", (unsigned long long)line);
    if (p[strspn(p, " \t\r")]) {
      if (parse_row(s, p, line, first, err, errlen)) return -1;
      first = 0;
    }
    p = eol + 1;
  }
  s->layout = VF_ROWS_F32;
  s->data = (const unsigned char *)s->owned;
  return 0;
}

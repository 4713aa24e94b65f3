/* vexctl: the streaming JSON writer (json_out.h). */
#include "json_out.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void vcj_init(vc_json *j, FILE *f) {
  memset(j, 0, sizeof *j);
  j->f = f;
}

/* The length of the well-formed UTF-8 sequence at p (1..4), or 0: a stray continuation byte,
 * a truncated or overlong sequence, a surrogate, or past U+10FFFF. */
static size_t utf8_sequence(const unsigned char *p) {
  if (p[0] < 0x80) return 1;
  size_t n = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 ? 2 : 0;
  if (n == 0 || p[0] > 0xf4) return 0;
  uint32_t cp = p[0] & (0x7f >> n);
  for (size_t i = 1; i < n; i++) {
    if ((p[i] & 0xc0) != 0x80) return 0;
    cp = cp << 6 | (p[i] & 0x3f);
  }
  static const uint32_t least[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < least[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

void vcj_write_string(FILE *f, const char *s) {
  fputc('"', f);
  for (const unsigned char *p = (const unsigned char *)s; *p;) {
    size_t n = utf8_sequence(p);
    if (n > 1) {
      fwrite(p, 1, n, f);
      p += n;
      continue;
    }
    if (n == 0) { /* not UTF-8 (a file name can be any bytes): JSON cannot carry it */
      fputs("\\ufffd", f);
      p++;
      continue;
    }
    switch (*p) {
    case '"': fputs("\\\"", f); break;
    case '\\': fputs("\\\\", f); break;
    case '\n': fputs("\\n", f); break;
    case '\r': fputs("\\r", f); break;
    case '\t': fputs("\\t", f); break;
    default:
      if (*p < 0x20) fprintf(f, "\\u%04x", *p);
      else fputc(*p, f);
    }
    p++;
  }
  fputc('"', f);
}

/* The comma and key before a value. */
static void member(vc_json *j, const char *key) {
  if (j->depth > 0 && j->count[j->depth - 1]++) fputc(',', j->f);
  if (key) {
    vcj_write_string(j->f, key);
    fputc(':', j->f);
  }
}

static void open_level(vc_json *j, const char *key, char open, char close) {
  member(j, key);
  fputc(open, j->f);
  if (j->depth < VCJ_MAX_DEPTH) {
    j->count[j->depth] = 0;
    j->closer[j->depth] = close;
  }
  j->depth++;
}

void vcj_object(vc_json *j, const char *key) { open_level(j, key, '{', '}'); }
void vcj_array(vc_json *j, const char *key) { open_level(j, key, '[', ']'); }

void vcj_end(vc_json *j) {
  if (j->depth == 0) return;
  j->depth--;
  fputc(j->depth < VCJ_MAX_DEPTH ? j->closer[j->depth] : '}', j->f);
  if (j->depth == 0) fputc('\n', j->f);
}

void vcj_str(vc_json *j, const char *key, const char *v) {
  member(j, key);
  if (v) vcj_write_string(j->f, v);
  else fputs("null", j->f);
}

void vcj_u64(vc_json *j, const char *key, uint64_t v) {
  member(j, key);
  fprintf(j->f, "%" PRIu64, v);
}

void vcj_i64(vc_json *j, const char *key, int64_t v) {
  member(j, key);
  fprintf(j->f, "%" PRId64, v);
}

void vcj_double(vc_json *j, const char *key, double v) {
  member(j, key);
  if (!isfinite(v)) {
    fputs("null", j->f);
    return;
  }
  char buf[40];
  for (int digits = 15; digits <= 17; digits++) { /* the shortest that reads back the same */
    snprintf(buf, sizeof buf, "%.*g", digits, v);
    if (strtod(buf, NULL) == v) break;
  }
  fputs(buf, j->f);
}

void vcj_bool(vc_json *j, const char *key, int v) {
  member(j, key);
  fputs(v ? "true" : "false", j->f);
}

void vcj_null(vc_json *j, const char *key) {
  member(j, key);
  fputs("null", j->f);
}

void vcj_raw(vc_json *j, const char *key, const char *json) {
  member(j, key);
  fputs(json ? json : "null", j->f);
}

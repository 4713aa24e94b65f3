/* vexctl: errors, option values and database opening shared by the commands (cli.h). */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int vc_fail(const char *cmd, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "vexctl: %s: ", cmd);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  return VC_FAIL;
}

int vc_usage(const char *cmd, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "vexctl: %s: ", cmd);
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\nTry 'vexctl help %s'.\n", cmd);
  va_end(ap);
  return VC_USAGE;
}

int vc_lib_fail(const char *cmd, const char *what, vexfs_status st) {
  const char *msg = vexfs_last_error();
  return vc_fail(cmd, "%s: %s", what, *msg ? msg : vexfs_status_string(st));
}

int vc_errf(char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
  return -1;
}

int vc_print_help(const vc_command *c) {
  fputs(c->help, stdout);
  return VC_OK;
}

int vc_bad_option(const char *cmd, int argc, char **argv) {
  const char *word = optind > 0 && optind <= argc ? argv[optind - 1] : "?";
  if (optopt && strncmp(word, "--", 2) != 0)
    return vc_usage(cmd, "option -%c is unknown or needs a value", optopt);
  return vc_usage(cmd, "option '%s' is unknown or needs a value", word);
}

int vc_parse_flags(const char *cmd, int argc, char **argv, const struct option *longopts, int min,
                   int max, const char *expected) {
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1)
    if (c != 0) return vc_bad_option(cmd, argc, argv);
  return vc_positionals(cmd, argc, min, max, expected);
}

int vc_positionals(const char *cmd, int argc, int min, int max, const char *expected) {
  int n = argc - optind;
  if (n < min) return vc_usage(cmd, "expected %s", expected);
  if (n > max) return vc_usage(cmd, "unexpected argument after %s", expected);
  return VC_OK;
}

int vc_db_name_file(const char *cmd, int argc, char **argv, const char **db, const char **name,
                    const char **file) {
  if (argc - optind != 3) return vc_usage(cmd, "expected DB NAME FILE");
  *db = argv[optind];
  *name = argv[optind + 1];
  *file = argv[optind + 2];
  return VC_OK;
}

int vc_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out) {
  if (!s || *s < '0' || *s > '9') return -1;
  errno = 0;
  char *end;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || *end || v < min || v > max) return -1;
  *out = v;
  return 0;
}

int vc_parse_double(const char *s, double *out) {
  if (!s || !*s) return -1;
  errno = 0;
  char *end;
  double v = strtod(s, &end);
  if (errno || *end || !isfinite(v)) return -1;
  *out = v;
  return 0;
}

int vc_parse_duration_ms(const char *s, uint64_t *ms) {
  if (!s || !*s || *s == '-' || *s == '+') return -1;
  errno = 0;
  char *end;
  double v = strtod(s, &end);
  if (errno || end == s || !isfinite(v) || v <= 0) return -1;
  double scale;
  if (!*end || !strcmp(end, "s")) scale = 1000;
  else if (!strcmp(end, "ms")) scale = 1;
  else if (!strcmp(end, "m")) scale = 60e3;
  else if (!strcmp(end, "h")) scale = 3600e3;
  else return -1;
  double r = v * scale;
  if (r < 1 || r > 1e12) return -1; /* under a millisecond, or over 30 years */
  *ms = (uint64_t)llround(r);
  return 0;
}

static const char *const sync_names[] = {[VEXFS_SYNC_OFF] = "off", [VEXFS_SYNC_NORMAL] = "normal",
                                         [VEXFS_SYNC_FULL] = "full"};
static const char *const metric_names[] = {[VEXFS_METRIC_L2] = "l2", [VEXFS_METRIC_IP] = "ip",
                                           [VEXFS_METRIC_COSINE] = "cosine"};
static const char *const index_names[] = {[VEXFS_INDEX_AUTO] = "auto", [VEXFS_INDEX_FLAT] = "flat",
                                          [VEXFS_INDEX_HNSW] = "hnsw", [VEXFS_INDEX_LSH] = "lsh",
                                          [VEXFS_INDEX_IVF] = "ivf"};
#define COUNT(a) (sizeof(a) / sizeof *(a))

/* The index of s among names[from..n) (entries may be NULL), or -1. */
static int lookup(const char *const *names, size_t n, size_t from, const char *s) {
  for (size_t i = from; s && i < n; i++)
    if (names[i] && !strcmp(s, names[i])) return (int)i;
  return -1;
}

int vc_parse_metric(const char *s, vexfs_metric *out) {
  int i = lookup(metric_names, COUNT(metric_names), 1, s);
  return i < 0 ? -1 : (*out = (vexfs_metric)i, 0);
}

int vc_parse_index(const char *s, vexfs_index_kind *out) {
  int i = lookup(index_names, COUNT(index_names), 0, s);
  return i < 0 ? -1 : (*out = (vexfs_index_kind)i, 0);
}

int vc_parse_sync(const char *s, vexfs_sync_mode *out) {
  int i = lookup(sync_names, COUNT(sync_names), 0, s);
  return i < 0 ? -1 : (*out = (vexfs_sync_mode)i, 0);
}

const char *vc_metric_name(vexfs_metric m) {
  return (size_t)m < COUNT(metric_names) && metric_names[m] ? metric_names[m] : "?";
}

const char *vc_index_name(vexfs_index_kind k) {
  return (size_t)k < COUNT(index_names) ? index_names[k] : "?";
}

int vc_parse_u32_list(const char *s, uint32_t *out, int max) {
  int n = 0;
  if (!s || !*s) return -1;
  while (*s) {
    if (n == max || *s < '0' || *s > '9') return -1;
    errno = 0;
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || v == 0 || v > UINT32_MAX || (*end && *end != ',')) return -1;
    out[n++] = (uint32_t)v;
    s = *end ? end + 1 : end;
    if (*end && !*s) return -1; /* a trailing comma */
  }
  return n;
}

static int holds_database(const char *path) {
  static const char *const files[] = {"snapshot.vxs", "wal.log"};
  for (size_t i = 0; i < COUNT(files); i++) {
    char p[4096];
    struct stat sb;
    if (snprintf(p, sizeof p, "%s/%s", path, files[i]) < (int)sizeof p && stat(p, &sb) == 0)
      return 1;
  }
  return 0;
}

int vc_open_db(const char *cmd, const char *path, int writable, int create, vexfs_sync_mode sync,
               vexfs_db **db) {
  *db = NULL;
  struct stat sb;
  if (!create) {
    if (stat(path, &sb) != 0)
      return errno == ENOENT ? vc_fail(cmd, "%s: no vexfs database there (no such directory)", path)
                             : vc_fail(cmd, "%s: %s", path, strerror(errno));
    if (!S_ISDIR(sb.st_mode)) return vc_fail(cmd, "%s: not a directory", path);
    if (!holds_database(path)) return vc_fail(cmd, "%s: no vexfs database there", path);
  }
  vexfs_db_options o;
  vexfs_db_options_init(&o);
  o.read_only = !writable;
  o.sync = sync;
  vexfs_status st = vexfs_db_open(path, &o, db);
  if (st != VEXFS_OK) return vc_lib_fail(cmd, path, st);
  return VC_OK;
}

int vc_open_collection(const char *cmd, const char *path, const char *name, int writable,
                       vexfs_db **db, vexfs_collection **c) {
  *c = NULL;
  if (vc_open_db(cmd, path, writable, 0, VEXFS_SYNC_FULL, db) != VC_OK) return VC_FAIL;
  vexfs_status st = vexfs_db_get_collection(*db, name, c);
  if (st == VEXFS_OK) return VC_OK;
  if (st == VEXFS_E_NOT_FOUND) vc_fail(cmd, "%s: no collection called '%s'", path, name);
  else vc_lib_fail(cmd, name, st);
  vexfs_db_close(*db);
  *db = NULL;
  return VC_FAIL;
}

void vc_close_db(const char *cmd, vexfs_db *db, int *rc) {
  vexfs_status st = vexfs_db_close(db);
  if (st != VEXFS_OK) *rc = vc_lib_fail(cmd, "closing the database", st);
}

int vc_stdout_tty(void) { return isatty(STDOUT_FILENO); }
int vc_stderr_tty(void) { return isatty(STDERR_FILENO); }

void vc_term_line(FILE *f, int newline, const char *fmt, ...) {
  struct winsize ws;
  size_t width = ioctl(fileno(f), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1 ? ws.ws_col : 80;
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  /* one column left free: a line that fills the last one wraps on some terminals */
  size_t cut = 0, shown = 0;
  for (; line[cut] && shown < width - 1; cut++)
    if (((unsigned char)line[cut] & 0xc0) != 0x80) shown++; /* UTF-8: count characters */
  while (((unsigned char)line[cut] & 0xc0) == 0x80) cut++;  /* never split one */
  fprintf(f, "%.*s\033[K%s", (int)cut, line, newline ? "\n" : "");
}

double vc_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int vc_check_config(const char *cmd, const vexfs_collection_config *cfg) {
  vexfs_collection *c;
  /* a standalone collection has no files for MAPPED rows; vexctl's databases always do */
  vexfs_collection_config probe = *cfg;
  if (probe.rerank == VEXFS_RERANK_MAPPED) probe.rerank = VEXFS_RERANK_IN_MEMORY;
  vexfs_status st = vexfs_collection_create(&probe, &c);
  if (st == VEXFS_OK) {
    vexfs_collection_free(c);
    return VC_OK;
  }
  if (st != VEXFS_E_INVALID) return vc_lib_fail(cmd, "checking the configuration", st);
  return vc_usage(cmd, "%s", vexfs_last_error());
}

int vc_check_name(const char *cmd, const char *name) {
  size_t n = strlen(name);
  int ok = n > 0 && n <= VEXFS_MAX_NAME && name[0] != '.';
  for (const char *p = name; ok && *p; p++)
    ok = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.", *p) != NULL;
  if (ok) return VC_OK;
  return vc_usage(cmd, "'%s' is not a collection name: 1..%u letters, digits, '_', '-' and '.', "
                       "not starting with '.'", name, VEXFS_MAX_NAME);
}

int vc_open_regular(const char *path, char *err, size_t errlen) {
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC); /* O_NONBLOCK: a FIFO opens at once */
  if (fd < 0) return vc_errf(err, errlen, "%s", strerror(errno));
  struct stat sb;
  int failed = fstat(fd, &sb) != 0, e = errno;
  if (failed || !S_ISREG(sb.st_mode)) {
    close(fd);
    return failed ? vc_errf(err, errlen, "%s", strerror(e))
                  : vc_errf(err, errlen, "not a regular file");
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  return fd;
}

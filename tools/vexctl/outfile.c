/* vexctl: output files written all or nothing (outfile.h). */
#include "outfile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

#define WRITE_BUFFER (1u << 20)
#define SUFFIX ".tmp-XXXXXX"

/* The file to replace: path itself, or the file a symbolic link at path names. *out is
 * malloc'd. */
static int destination(const char *path, char **out, char *err, size_t errlen) {
  struct stat sb;
  *out = NULL;
  if (lstat(path, &sb) != 0) {
    if (errno != ENOENT) return vc_errf(err, errlen, "%s: %s", path, strerror(errno));
    *out = strdup(path);
  } else if (S_ISLNK(sb.st_mode)) {
    if (!(*out = realpath(path, NULL)))
      return vc_errf(err, errlen, "%s: a symbolic link to nothing that can be written", path);
  } else {
    *out = strdup(path);
  }
  if (!*out) return vc_errf(err, errlen, "out of memory");
  if (stat(*out, &sb) == 0 && !S_ISREG(sb.st_mode)) {
    free(*out);
    *out = NULL;
    return vc_errf(err, errlen, "%s: %s", path,
                   S_ISDIR(sb.st_mode) ? "is a directory, not a file"
                                       : "not a regular file: only regular files are replaced");
  }
  return 0;
}

int vc_outfile_open(vc_outfile *o, const char *path, char *err, size_t errlen) {
  memset(o, 0, sizeof *o);
  if (destination(path, &o->path, err, errlen) != 0) return -1;
  size_t n = strlen(o->path);
  if (!(o->tmp = malloc(n + sizeof SUFFIX))) {
    vc_outfile_discard(o);
    return vc_errf(err, errlen, "out of memory");
  }
  memcpy(o->tmp, o->path, n);
  memcpy(o->tmp + n, SUFFIX, sizeof SUFFIX);
  int fd = mkstemp(o->tmp);
  if (fd < 0) {
    int e = errno;
    free(o->tmp);
    o->tmp = NULL;
    vc_outfile_discard(o);
    return vc_errf(err, errlen, "%s: cannot create a file beside it: %s", path, strerror(e));
  }
  mode_t mask = umask(0); /* mkstemp makes 0600; the file gets what a new file would */
  umask(mask);
  fchmod(fd, 0666 & ~mask);
  if (!(o->f = fdopen(fd, "wb"))) {
    int e = errno;
    close(fd);
    vc_outfile_discard(o);
    return vc_errf(err, errlen, "%s: %s", path, strerror(e));
  }
  setvbuf(o->f, NULL, _IOFBF, WRITE_BUFFER);
  return 0;
}

int vc_outfile_finish(vc_outfile *o, char *err, size_t errlen) {
  int bad = fflush(o->f) != 0 || ferror(o->f) || fsync(fileno(o->f)) != 0;
  int e = errno;
  if (fclose(o->f) != 0 && !bad) bad = 1, e = errno;
  o->f = NULL;
  if (!bad) return 0;
  unlink(o->tmp);
  free(o->tmp);
  o->tmp = NULL;
  return vc_errf(err, errlen, "%s: cannot write it: %s", o->path, e ? strerror(e) : "write error");
}

int vc_outfile_commit(vc_outfile *o, char *err, size_t errlen) {
  if (rename(o->tmp, o->path) != 0) return vc_errf(err, errlen, "%s: %s", o->path, strerror(errno));
  free(o->tmp);
  o->tmp = NULL;
  return 0;
}

void vc_outfile_discard(vc_outfile *o) {
  if (o->f) fclose(o->f);
  if (o->tmp) unlink(o->tmp);
  free(o->tmp);
  free(o->path);
  memset(o, 0, sizeof *o);
}

/* vexctl: writing an output file all or nothing (export, report, bench ann's plot). The bytes go
 * to a temporary of its own name beside the file (mkstemp: a file or link already there is never
 * followed or clobbered), which is synced and renamed over the file only when complete, so a
 * failure or a kill never leaves a partial file and keeps the old one. Only a regular file, or
 * the regular file a symbolic link names (the link stays), is ever replaced: a FIFO, a device or
 * a directory at that path is refused. */
#ifndef VEXCTL_OUTFILE_H
#define VEXCTL_OUTFILE_H
#include <stddef.h>
#include <stdio.h>

typedef struct vc_outfile {
  FILE *f;    /* write here between open and finish */
  char *path; /* the file replaced */
  char *tmp;  /* the temporary, NULL once renamed */
} vc_outfile;

/* Starts the temporary for path. 0, or -1 with the reason in err, naming path. */
int vc_outfile_open(vc_outfile *o, const char *path, char *err, size_t errlen);
/* Flushes, syncs and closes the temporary: 0, or -1 with err (write errors included, e.g. a
 * full disk), the temporary then removed. */
int vc_outfile_finish(vc_outfile *o, char *err, size_t errlen);
/* Renames the finished temporary over the file: 0, or -1 with err. */
int vc_outfile_commit(vc_outfile *o, char *err, size_t errlen);
/* Removes an uncommitted temporary (open or finished) and frees o; safe on a zeroed o. */
void vc_outfile_discard(vc_outfile *o);

#endif

/* vexctl: a progress bar for long operations, drawn on stderr only when stderr is a terminal:
 * rows done of total, percent, rate and time left, redrawn in place a few times a second. */
#ifndef VEXCTL_PROGRESS_H
#define VEXCTL_PROGRESS_H
#include <stdint.h>

typedef struct vc_progress {
  int draw;          /* stderr is a terminal */
  uint64_t total;
  double start, last_draw;
} vc_progress;

void vc_progress_start(vc_progress *p, uint64_t total);
void vc_progress_update(vc_progress *p, uint64_t done);
/* Erases the bar; returns the seconds since vc_progress_start. */
double vc_progress_end(vc_progress *p);

#endif

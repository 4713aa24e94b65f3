/* vexctl: the progress bar (progress.h). */
#include "progress.h"

#include <stdio.h>

#include "cli.h"

#define BAR_WIDTH 30
#define REDRAW_SECONDS 0.1

void vc_progress_start(vc_progress *p, uint64_t total) {
  p->draw = vc_stderr_tty();
  p->total = total;
  p->start = vc_now();
  p->last_draw = 0;
}

/* "1h02m", "3m05s", "42s". */
static void format_eta(double s, char *out, size_t n) {
  unsigned long t = (unsigned long)(s + 0.5);
  if (t >= 3600) snprintf(out, n, "%luh%02lum", t / 3600, t / 60 % 60);
  else if (t >= 60) snprintf(out, n, "%lum%02lus", t / 60, t % 60);
  else snprintf(out, n, "%lus", t);
}

void vc_progress_update(vc_progress *p, uint64_t done) {
  double now = vc_now();
  if (!p->draw || (now - p->last_draw < REDRAW_SECONDS && done < p->total)) return;
  p->last_draw = now;
  double frac = p->total ? (double)done / (double)p->total : 1;
  double elapsed = now - p->start, rate = elapsed > 0 ? (double)done / elapsed : 0;
  char bar[BAR_WIDTH + 1], eta[32] = "?";
  int filled = (int)(frac * BAR_WIDTH);
  for (int i = 0; i < BAR_WIDTH; i++) bar[i] = i < filled ? '#' : '.';
  bar[BAR_WIDTH] = '\0';
  if (rate > 0) format_eta((double)(p->total - done) / rate, eta, sizeof eta);
  fputc('\r', stderr);
  vc_term_line(stderr, 0, "[%s] %llu/%llu rows %5.1f%% %.0f rows/s ETA %s", bar,
               (unsigned long long)done, (unsigned long long)p->total, 100 * frac, rate, eta);
  fflush(stderr);
}

double vc_progress_end(vc_progress *p) {
  if (p->draw) fputs("\r\033[K", stderr);
  return vc_now() - p->start;
}

/* vexctl: self-contained SVG charts (svg_chart.h): axes with "nice" ticks (1-2-5 steps on linear
 * axes, decades and their 2s and 5s on log axes), a light grid, a legend, and the marks. */
#include "svg_chart.h"

#include <math.h>
#include <string.h>

#define MARGIN_LEFT 72
#define MARGIN_RIGHT 24
#define MARGIN_TOP 40
#define MARGIN_BOTTOM 52
#define MAX_TICKS 64

static const char *const palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                      "#9467bd", "#8c564b", "#e377c2", "#17becf"};
#define PALETTE_SIZE (sizeof palette / sizeof *palette)

/* One axis: the data range it shows and where it lands on the page. */
typedef struct axis {
  int log;
  double lo, hi;         /* data values at the two ends (positive when log) */
  double px_lo, px_hi;   /* page coordinates of lo and hi */
  double ticks[MAX_TICKS];
  int nticks;
} axis;

void vc_xml_escaped(FILE *f, const char *s) {
  for (; s && *s; s++) {
    switch (*s) {
    case '&': fputs("&amp;", f); break;
    case '<': fputs("&lt;", f); break;
    case '>': fputs("&gt;", f); break;
    case '"': fputs("&quot;", f); break;
    default: fputc(*s, f);
    }
  }
}

/* A tick label: short, with k/M/G for large values so that long numbers do not overlap. */
static void format_value(char *buf, size_t size, double v) {
  double a = fabs(v);
  if (a >= 1e9) snprintf(buf, size, "%gG", v / 1e9);
  else if (a >= 1e6) snprintf(buf, size, "%gM", v / 1e6);
  else if (a >= 1e4) snprintf(buf, size, "%gk", v / 1e3);
  else snprintf(buf, size, "%g", v);
}

static int usable(const axis *a, double v) { return isfinite(v) && (!a->log || v > 0); }

/* Widens [lo, hi] so that it is not empty, then snaps it outwards to ticks and lists them. */
static void axis_layout(axis *a, double lo, double hi) {
  if (!(lo <= hi)) { /* no data */
    lo = a->log ? 1 : 0;
    hi = a->log ? 10 : 1;
  }
  a->nticks = 0;
  if (a->log) {
    double d_lo = floor(log10(lo)), d_hi = ceil(log10(hi));
    if (d_hi <= d_lo) d_hi = d_lo + 1;
    /* Few decades: label 1, 2 and 5 of each, so a narrow range still gets ticks. */
    static const double steps_few[] = {1, 2, 5}, steps_one[] = {1};
    int few = d_hi - d_lo <= 3;
    const double *steps = few ? steps_few : steps_one;
    int nsteps = few ? 3 : 1;
    double keep_lo = lo, keep_hi = hi;
    a->lo = pow(10, d_lo);
    a->hi = pow(10, d_hi);
    if (few) { /* snap to the nearest 1-2-5 value around the data rather than whole decades */
      for (double d = d_lo; d < d_hi; d++)
        for (int s = 0; s < nsteps; s++) {
          double t = steps[s] * pow(10, d);
          if (t <= keep_lo) a->lo = t;
        }
      for (double d = d_hi; d > d_lo - 1; d--)
        for (int s = nsteps - 1; s >= 0; s--) {
          double t = steps[s] * pow(10, d);
          if (t >= keep_hi) a->hi = t;
        }
    }
    for (double d = d_lo; d <= d_hi && a->nticks < MAX_TICKS; d++)
      for (int s = 0; s < nsteps && a->nticks < MAX_TICKS; s++) {
        double t = steps[s] * pow(10, d);
        if (t >= a->lo * (1 - 1e-9) && t <= a->hi * (1 + 1e-9)) a->ticks[a->nticks++] = t;
      }
    return;
  }
  if (hi == lo) {
    double pad = lo == 0 ? 1 : fabs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  double raw = (hi - lo) / 6, mag = pow(10, floor(log10(raw))), step = mag;
  if (raw / mag > 5) step = 10 * mag;
  else if (raw / mag > 2) step = 5 * mag;
  else if (raw / mag > 1) step = 2 * mag;
  a->lo = floor(lo / step) * step;
  a->hi = ceil(hi / step) * step;
  for (double t = a->lo; t <= a->hi + step * 1e-9 && a->nticks < MAX_TICKS; t += step)
    a->ticks[a->nticks++] = fabs(t) < step * 1e-9 ? 0 : t;
}

static double axis_map(const axis *a, double v) {
  double f = a->log ? (log10(v) - log10(a->lo)) / (log10(a->hi) - log10(a->lo))
                    : (v - a->lo) / (a->hi - a->lo);
  return a->px_lo + f * (a->px_hi - a->px_lo);
}

typedef struct frame {
  int width, height;
  axis x, y;
} frame;

static void frame_init(frame *fr, const vc_chart *c) {
  memset(fr, 0, sizeof *fr);
  fr->width = c->width > 0 ? c->width : 640;
  fr->height = c->height > 0 ? c->height : 400;
  fr->x.log = c->log_x;
  fr->y.log = c->log_y;
  fr->x.px_lo = MARGIN_LEFT;
  fr->x.px_hi = fr->width - MARGIN_RIGHT;
  fr->y.px_lo = fr->height - MARGIN_BOTTOM;
  fr->y.px_hi = MARGIN_TOP;
}

/* The <svg> opening, background, title, grid, ticks and axis labels. */
static void draw_frame(FILE *f, const vc_chart *c, const frame *fr) {
  char label[32];
  fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
             "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n",
          fr->width, fr->height, fr->width, fr->height);
  fprintf(f, "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", fr->width, fr->height);
  if (c->title) {
    fprintf(f, "<text x=\"%d\" y=\"22\" text-anchor=\"middle\" font-size=\"15\" "
               "font-weight=\"bold\">", fr->width / 2);
    vc_xml_escaped(f, c->title);
    fputs("</text>\n", f);
  }
  for (int i = 0; i < fr->x.nticks; i++) {
    double px = axis_map(&fr->x, fr->x.ticks[i]);
    format_value(label, sizeof label, fr->x.ticks[i]);
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e4e4e4\"/>"
               "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
            px, fr->y.px_lo, px, fr->y.px_hi, px, fr->y.px_lo + 16, label);
  }
  for (int i = 0; i < fr->y.nticks; i++) {
    double py = axis_map(&fr->y, fr->y.ticks[i]);
    format_value(label, sizeof label, fr->y.ticks[i]);
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e4e4e4\"/>"
               "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
            fr->x.px_lo, py, fr->x.px_hi, py, fr->x.px_lo - 6, py + 4, label);
  }
  fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
             "stroke=\"#444444\"/>\n",
          fr->x.px_lo, fr->y.px_hi, fr->x.px_hi - fr->x.px_lo, fr->y.px_lo - fr->y.px_hi);
  if (c->x_label) {
    fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">",
            (fr->x.px_lo + fr->x.px_hi) / 2, fr->height - 12);
    vc_xml_escaped(f, c->x_label);
    fputs("</text>\n", f);
  }
  if (c->y_label) {
    double cy = (fr->y.px_lo + fr->y.px_hi) / 2;
    fprintf(f, "<text x=\"16\" y=\"%.1f\" text-anchor=\"middle\" transform=\"rotate(-90 16 %.1f)\">",
            cy, cy);
    vc_xml_escaped(f, c->y_label);
    fputs("</text>\n", f);
  }
}

static void draw_legend(FILE *f, const frame *fr, const vc_series *series, size_t n) {
  if (n == 0) return;
  double longest = 0;
  for (size_t i = 0; i < n; i++)
    if (series[i].label && strlen(series[i].label) > longest) longest = (double)strlen(series[i].label);
  double w = 36 + longest * 7, h = 8 + 18 * (double)n;
  double x0 = fr->x.px_hi - w - 8, y0 = fr->y.px_hi + 8;
  fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#ffffff\" "
             "fill-opacity=\"0.85\" stroke=\"#bbbbbb\"/>\n", x0, y0, w, h);
  for (size_t i = 0; i < n; i++) {
    double y = y0 + 14 + 18 * (double)i;
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
               "stroke-width=\"2\"/><text x=\"%.1f\" y=\"%.1f\">",
            x0 + 6, y - 4, x0 + 26, y - 4, palette[i % PALETTE_SIZE], x0 + 32, y);
    vc_xml_escaped(f, series[i].label);
    fputs("</text>\n", f);
  }
}

void vc_svg_lines(FILE *f, const vc_chart *chart, const vc_series *series, size_t nseries) {
  frame fr;
  frame_init(&fr, chart);
  double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
  for (size_t s = 0; s < nseries; s++)
    for (size_t i = 0; i < series[s].n; i++) {
      double x = series[s].x[i], y = series[s].y[i];
      if (!usable(&fr.x, x) || !usable(&fr.y, y)) continue;
      xlo = fmin(xlo, x), xhi = fmax(xhi, x), ylo = fmin(ylo, y), yhi = fmax(yhi, y);
    }
  axis_layout(&fr.x, xlo, xhi);
  axis_layout(&fr.y, ylo, yhi);
  draw_frame(f, chart, &fr);
  for (size_t s = 0; s < nseries; s++) {
    const char *colour = palette[s % PALETTE_SIZE];
    int open = 0; /* inside a <polyline>: a point that cannot be drawn ends it */
    for (size_t i = 0; i < series[s].n; i++) {
      double x = series[s].x[i], y = series[s].y[i];
      if (!usable(&fr.x, x) || !usable(&fr.y, y)) {
        if (open) fputs("\"/>\n", f);
        open = 0;
        continue;
      }
      if (!open)
        fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", colour);
      fprintf(f, "%s%.1f,%.1f", open ? " " : "", axis_map(&fr.x, x), axis_map(&fr.y, y));
      open = 1;
    }
    if (open) fputs("\"/>\n", f);
    for (size_t i = 0; i < series[s].n; i++) {
      double x = series[s].x[i], y = series[s].y[i];
      if (!usable(&fr.x, x) || !usable(&fr.y, y)) continue;
      fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"><title>%g, %g</title></circle>\n",
              axis_map(&fr.x, x), axis_map(&fr.y, y), colour, x, y);
    }
  }
  draw_legend(f, &fr, series, nseries);
  fputs("</svg>\n", f);
}

void vc_svg_histogram(FILE *f, const vc_chart *chart, const double *edges, const double *counts,
                      size_t nbins) {
  frame fr;
  frame_init(&fr, chart);
  double xlo = INFINITY, xhi = -INFINITY, ymax = 0;
  for (size_t i = 0; i < nbins; i++) {
    if (!usable(&fr.x, edges[i]) || !usable(&fr.x, edges[i + 1])) continue;
    xlo = fmin(xlo, edges[i]);
    xhi = fmax(xhi, edges[i + 1]);
    if (isfinite(counts[i])) ymax = fmax(ymax, counts[i]);
  }
  fr.y.log = 0; /* bars stand on zero */
  axis_layout(&fr.x, xlo, xhi);
  axis_layout(&fr.y, 0, ymax > 0 ? ymax : 1);
  draw_frame(f, chart, &fr);
  for (size_t i = 0; i < nbins; i++) {
    if (!usable(&fr.x, edges[i]) || !usable(&fr.x, edges[i + 1]) || !isfinite(counts[i]) ||
        counts[i] <= 0)
      continue;
    double x0 = axis_map(&fr.x, edges[i]), x1 = axis_map(&fr.x, edges[i + 1]);
    double y1 = axis_map(&fr.y, counts[i]);
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\" "
               "stroke=\"#ffffff\" stroke-width=\"0.5\"><title>%g to %g: %g</title></rect>\n",
            x0, y1, fmax(x1 - x0, 0.5), fr.y.px_lo - y1, palette[0], edges[i], edges[i + 1],
            counts[i]);
  }
  fputs("</svg>\n", f);
}

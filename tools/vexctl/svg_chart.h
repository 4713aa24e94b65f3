/* vexctl: self-contained SVG charts (no external tools), for `performance report` and
 * `bench ann`: line/point series on linear or log axes, and bar histograms. */
#ifndef VEXCTL_SVG_CHART_H
#define VEXCTL_SVG_CHART_H
#include <stddef.h>
#include <stdio.h>

typedef struct vc_series {
  const char *label;    /* legend text */
  const double *x, *y;  /* n points, drawn in the given order, joined by lines */
  size_t n;
} vc_series;

typedef struct vc_chart {
  const char *title, *x_label, *y_label;
  int log_x, log_y;     /* nonzero: logarithmic axis (non-positive values are skipped) */
  int width, height;    /* pixels; 0 = 640 x 400 */
} vc_chart;

/* Writes one <svg> element (no XML prolog, so it can sit inside HTML or be a file of its own)
 * with axes, ticks, grid, legend and the series. Series with no finite points are listed in the
 * legend only. */
void vc_svg_lines(FILE *f, const vc_chart *chart, const vc_series *series, size_t nseries);

/* Writes one <svg> bar chart: bins[i] counts over [edges[i], edges[i+1]), nbins bars. */
void vc_svg_histogram(FILE *f, const vc_chart *chart, const double *edges, const double *counts,
                      size_t nbins);

/* Writes s (NULL: nothing) with &, <, > and " escaped, for XML and HTML text and attributes. */
void vc_xml_escaped(FILE *f, const char *s);

#endif

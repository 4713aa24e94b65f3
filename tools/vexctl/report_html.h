/* vexctl: the HTML report of `performance report`: one self-contained file (inline CSS and SVG,
 * no scripts, no links) with a run's figures and charts. */
#ifndef VEXCTL_REPORT_HTML_H
#define VEXCTL_REPORT_HTML_H
#include <stddef.h>

#include "workload.h"

typedef struct vc_report_data {
  const vc_workload_config *cfg;
  const vc_workload_target *target;
  const vc_workload_sample *total;
  const vc_workload_sample *intervals; /* in order */
  size_t nintervals;
  const vexfs_metrics *metrics;        /* of the searched collection, after the run */
  double target_ops_per_sec;           /* 0: none */
} vc_report_data;

/* Whether a report can be written at path (a temporary file beside it can be made), checked
 * before a long run. Returns VC_OK, or VC_FAIL after saying why. */
int vc_report_html_check(const char *cmd, const char *path);

/* Writes the report to a temporary file beside path and renames it onto path, so that path is
 * either the whole report or untouched. Returns VC_OK, or VC_FAIL after saying why. */
int vc_report_html_write(const char *cmd, const char *path, const vc_report_data *d);

#endif

/* vexctl: the HTML report (report_html.h). */
#include "report_html.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "outfile.h"
#include "perf_commands.h"
#include "svg_chart.h"

#define HISTOGRAM_BARS 40

static const char style[] =
    "body{font-family:sans-serif;margin:2em auto;max-width:60em;color:#222}"
    "h1{font-size:1.6em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ddd}"
    "table{border-collapse:collapse;margin:.6em 0}"
    "th,td{border:1px solid #ccc;padding:.25em .8em;text-align:left}"
    "th{background:#f4f4f4;font-weight:normal;color:#555}"
    "td.n{text-align:right;font-variant-numeric:tabular-nums}"
    ".met{color:#2a7a2a}.missed{color:#b02020}svg{display:block;margin:1em 0}";

/* One table row: a label and a value already formatted (escaped here). */
static void row(FILE *f, const char *label, const char *value) {
  fprintf(f, "<tr><th>%s</th><td class=\"n\">", label);
  vc_xml_escaped(f, value);
  fputs("</td></tr>\n", f);
}

static void row_u64(FILE *f, const char *label, uint64_t v) {
  char buf[32];
  snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
  row(f, label, buf);
}

static void row_us(FILE *f, const char *label, double us) {
  char buf[32];
  vc_format_us(buf, sizeof buf, us);
  row(f, label, buf);
}

static void row_bytes(FILE *f, const char *label, uint64_t bytes) {
  char buf[48];
  snprintf(buf, sizeof buf, "%.2f MiB (%llu bytes)", (double)bytes / 1048576.0,
           (unsigned long long)bytes);
  row(f, label, buf);
}

static void row_rate(FILE *f, const char *label, double rate) {
  char buf[24];
  if (isfinite(rate)) snprintf(buf, sizeof buf, "%.2f%%", 100 * rate);
  else snprintf(buf, sizeof buf, "- (no requests)");
  row(f, label, buf);
}

static void results_table(FILE *f, const vc_report_data *d) {
  const vc_workload_sample *s = d->total;
  uint64_t ops = s->searches + s->inserts;
  double rate = s->end_s > 0 ? (double)ops / s->end_s : 0;
  char buf[192];
  fputs("<h2>Results</h2>\n<table>\n", f);
  row(f, "workload", vc_workload_name(d->cfg->kind));
  row_u64(f, "threads", d->cfg->threads);
  row_u64(f, "k", d->cfg->k);
  if (d->cfg->ef) row_u64(f, "ef", d->cfg->ef);
  else row(f, "ef", "the collection's");
  snprintf(buf, sizeof buf, "%.2f s", s->end_s);
  row(f, "duration", buf);
  snprintf(buf, sizeof buf, "%llu (search %llu, insert %llu)", (unsigned long long)ops,
           (unsigned long long)s->searches, (unsigned long long)s->inserts);
  row(f, "ops", buf);
  snprintf(buf, sizeof buf, "%.1f", rate);
  row(f, "ops/s", buf);
  row_us(f, "latency mean", s->latency.count ? s->latency.sum_us / (double)s->latency.count : NAN);
  row_us(f, "latency p50", vc_hist_quantile(&s->latency, 0.50));
  row_us(f, "latency p95", vc_hist_quantile(&s->latency, 0.95));
  row_us(f, "latency p99", vc_hist_quantile(&s->latency, 0.99));
  row_us(f, "latency p99.9", vc_hist_quantile(&s->latency, 0.999));
  row_us(f, "latency max", s->latency.count ? s->latency.max_us : NAN);
  fputs("</table>\n", f);
  if (d->target_ops_per_sec > 0) {
    vc_format_achievement(buf, sizeof buf, rate, d->target_ops_per_sec);
    fprintf(f, "<p class=\"%s\">", rate >= d->target_ops_per_sec ? "met" : "missed");
    vc_xml_escaped(f, buf);
    fputs("</p>\n", f);
  }
}

static void collection_tables(FILE *f, const vc_report_data *d) {
  const vc_workload_target *t = d->target;
  const vexfs_collection_config *c = &t->config;
  char buf[64];
  fputs("<h2>Collection</h2>\n<table>\n", f);
  if (t->db_path) {
    row(f, "database", t->db_path);
    row(f, "collection", t->name);
    if (t->scratch_name) row(f, "inserts into", t->scratch_name);
  } else {
    row(f, "collection", "in memory, synthetic rows (standard normal, fixed seed)");
  }
  row_u64(f, "rows at start", t->rows);
  row_u64(f, "dim", c->dim);
  row(f, "metric", vc_metric_name(c->metric));
  row(f, "index", vc_index_name(c->index));
  row(f, "index in use", vexfs_index_in_use(t->collection));
  if (c->index == VEXFS_INDEX_HNSW) {
    snprintf(buf, sizeof buf, "m %u, ef_construction %u, ef_search %u", c->hnsw_m,
             c->hnsw_ef_construction, c->hnsw_ef_search);
    row(f, "hnsw", buf);
  }
  snprintf(buf, sizeof buf, "%.2f s", t->setup_s);
  row(f, "setup (open, load, queries)", buf);
  fputs("</table>\n<h2>Memory</h2>\n<table>\n", f);
  row_bytes(f, "vectors", d->metrics->memory_vectors);
  row_bytes(f, "index", d->metrics->memory_index);
  row_bytes(f, "payloads", d->metrics->memory_payloads);
  row_bytes(f, "pool slabs (process)", d->metrics->memory_pool);
  fputs("</table>\n<h2>Runtime</h2>\n<table>\n", f);
  row(f, "SIMD level", vexfs_simd_isa());
  row_rate(f, "pool hit rate (this run)", d->total->pool_hit_rate);
  row(f, "libvexfs", vexfs_version_string());
  fputs("</table>\n", f);
}

/* Writes a chart without the SVG namespace attribute, which inline SVG in HTML does not need,
 * so that the report holds no URL at all. */
static int put_inline_svg(FILE *f, char *svg, size_t len) {
  static const char ns[] = " xmlns=\"http://www.w3.org/2000/svg\"";
  char *at = strstr(svg, ns);
  if (!at) return fwrite(svg, 1, len, f) == len ? 0 : -1;
  size_t head = (size_t)(at - svg), skip = sizeof ns - 1;
  return fwrite(svg, 1, head, f) == head && fwrite(at + skip, 1, len - head - skip, f) == len - head - skip
             ? 0
             : -1;
}

/* The run's latency histogram, its log buckets merged into at most HISTOGRAM_BARS bars. */
static void latency_histogram(FILE *f, const vc_latency_hist *h) {
  size_t first = VC_HIST_BUCKETS, last = 0; /* the first and last buckets holding calls */
  for (size_t i = 0; i < VC_HIST_BUCKETS; i++)
    if (h->bucket[i]) {
      if (first == VC_HIST_BUCKETS) first = i;
      last = i;
    }
  size_t span = first < VC_HIST_BUCKETS ? last - first + 1 : 0;
  size_t group = span ? (span + HISTOGRAM_BARS - 1) / HISTOGRAM_BARS : 1;
  size_t bars = span ? (span + group - 1) / group : 0;
  double edges[HISTOGRAM_BARS + 1], counts[HISTOGRAM_BARS];
  for (size_t b = 0; b < bars; b++) {
    size_t lo = first + b * group, hi = lo + group < last + 1 ? lo + group : last + 1;
    counts[b] = 0;
    for (size_t i = lo; i < hi; i++) counts[b] += (double)h->bucket[i];
    edges[b] = vc_hist_edge(lo);
    edges[b + 1] = vc_hist_edge(hi);
  }
  vc_chart chart = {.title = "Latency histogram (every call)", .x_label = "latency (us, log scale)",
                    .y_label = "calls", .log_x = 1};
  vc_svg_histogram(f, &chart, edges, counts, bars);
}

static void throughput_chart(FILE *f, const vc_report_data *d) {
  size_t n = d->nintervals;
  double *x = malloc((n ? n : 1) * sizeof *x), *all = malloc((n ? n : 1) * 3 * sizeof *all);
  if (!x || !all) {
    free(x);
    free(all);
    vc_chart none = {.title = "Throughput per interval (out of memory)"};
    vc_svg_lines(f, &none, NULL, 0);
    return;
  }
  double *search = all + n, *insert = all + 2 * n;
  for (size_t i = 0; i < n; i++) {
    const vc_workload_sample *iv = &d->intervals[i];
    double span = iv->end_s - iv->start_s;
    x[i] = iv->end_s;
    all[i] = (double)(iv->searches + iv->inserts) / span;
    search[i] = (double)iv->searches / span;
    insert[i] = (double)iv->inserts / span;
  }
  vc_series series[3] = {{"all ops/s", x, all, n}, {"search/s", x, search, n},
                         {"insert/s", x, insert, n}};
  vc_chart chart = {.title = "Throughput per interval", .x_label = "time (s)", .y_label = "ops/s"};
  vc_svg_lines(f, &chart, series, d->cfg->kind == VC_WORKLOAD_MIXED ? 3 : 1);
  free(x);
  free(all);
}

/* Draws one chart into memory, then into f without its namespace. */
static int chart(FILE *f, const vc_report_data *d, int which) {
  char *svg = NULL;
  size_t len = 0;
  FILE *mem = open_memstream(&svg, &len);
  if (!mem) return -1;
  if (which == 0) latency_histogram(mem, &d->total->latency);
  else throughput_chart(mem, d);
  int bad = fclose(mem) != 0;
  if (!bad) bad = put_inline_svg(f, svg, len);
  free(svg);
  return bad ? -1 : 0;
}

static int write_report(FILE *f, const vc_report_data *d) {
  char when[64];
  time_t now = time(NULL);
  strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S %Z", localtime(&now));
  fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
             "<title>vexctl performance report</title>\n<style>%s</style>\n</head>\n<body>\n"
             "<h1>vexctl performance report</h1>\n<p>libvexfs %s, %s: a %s workload on ",
          style, vexfs_version_string(), when, vc_workload_name(d->cfg->kind));
  if (d->target->db_path) {
    vc_xml_escaped(f, d->target->db_path);
    fputs(" / ", f);
    vc_xml_escaped(f, d->target->name);
  } else {
    fputs("an in-memory collection", f);
  }
  fputs(". Each call is one query or one row, timed by vexctl.</p>\n", f);
  results_table(f, d);
  collection_tables(f, d);
  fputs("<h2>Charts</h2>\n", f);
  if (chart(f, d, 0) || chart(f, d, 1)) return -1;
  fputs("</body>\n</html>\n", f);
  return ferror(f) ? -1 : 0;
}

int vc_report_html_check(const char *cmd, const char *path) {
  char err[1024];
  vc_outfile o;
  if (vc_outfile_open(&o, path, err, sizeof err) != 0) return vc_fail(cmd, "%s", err);
  vc_outfile_discard(&o);
  return VC_OK;
}

int vc_report_html_write(const char *cmd, const char *path, const vc_report_data *d) {
  char err[1024];
  vc_outfile o;
  if (vc_outfile_open(&o, path, err, sizeof err) != 0) return vc_fail(cmd, "%s", err);
  int bad = write_report(o.f, d);
  int ok = !bad && vc_outfile_finish(&o, err, sizeof err) == 0 &&
           vc_outfile_commit(&o, err, sizeof err) == 0;
  if (bad) snprintf(err, sizeof err, "%s: cannot write it", path);
  vc_outfile_discard(&o);
  return ok ? VC_OK : vc_fail(cmd, "%s", err);
}

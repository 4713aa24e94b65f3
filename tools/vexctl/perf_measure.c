/* vexctl performance monitor | benchmark | report: the subcommands that drive a workload
 * (workload.h) and show its figures: live per interval, as a summary, or as an HTML report. */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json_out.h"
#include "perf_commands.h"
#include "report_html.h"
#include "workload.h"

#define MIN_INTERVAL_MS 10
#define MAX_THREADS 256

void vc_format_us(char *buf, size_t size, double us) {
  if (!isfinite(us)) snprintf(buf, size, "-");
  else if (us < 1e3) snprintf(buf, size, "%.1f us", us);
  else if (us < 1e6) snprintf(buf, size, "%.2f ms", us / 1e3);
  else snprintf(buf, size, "%.2f s", us / 1e6);
}

void vc_format_achievement(char *buf, size_t size, double achieved, double target) {
  /* the share rounded down, so that a missed target never reads 100.0% */
  snprintf(buf, size, "achieved %.0f ops/s of the %.0f targeted: %.1f%%, target %s", achieved,
           target, floor(1000 * achieved / target) / 10, achieved >= target ? "met" : "missed");
}

/* ---- the options the three subcommands share ---- */

enum {
  OPT_DURATION = 256, OPT_INTERVAL, OPT_WORKLOAD, OPT_THREADS, OPT_EF, OPT_DIM, OPT_ROWS,
  OPT_INDEX, OPT_TARGET, OPT_OUTPUT, OPT_JSON, OPT_K = 'k'
};

/* Which of the optional options a subcommand takes. */
#define TAKES_INTERVAL 1u
#define TAKES_TARGET 2u
#define TAKES_OUTPUT 4u

typedef struct measure_args {
  const char *cmd;
  vc_workload_config cfg;
  double target_ops; /* 0: none */
  const char *output;
  int json;
} measure_args;

static const struct {
  struct option opt;
  unsigned needs; /* 0: every subcommand takes it */
} all_options[] = {
    {{"duration", required_argument, NULL, OPT_DURATION}, 0},
    {{"interval", required_argument, NULL, OPT_INTERVAL}, TAKES_INTERVAL},
    {{"workload", required_argument, NULL, OPT_WORKLOAD}, 0},
    {{"threads", required_argument, NULL, OPT_THREADS}, 0},
    {{"k", required_argument, NULL, OPT_K}, 0},
    {{"ef", required_argument, NULL, OPT_EF}, 0},
    {{"dim", required_argument, NULL, OPT_DIM}, 0},
    {{"rows", required_argument, NULL, OPT_ROWS}, 0},
    {{"index", required_argument, NULL, OPT_INDEX}, 0},
    {{"target-ops-per-sec", required_argument, NULL, OPT_TARGET}, TAKES_TARGET},
    {{"output", required_argument, NULL, OPT_OUTPUT}, TAKES_OUTPUT},
    {{"json", no_argument, NULL, OPT_JSON}, 0},
};
#define ALL_OPTIONS (sizeof all_options / sizeof *all_options)

static int bad_value(const char *cmd, const char *option, const char *value, const char *expected) {
  return vc_usage(cmd, "--%s: '%s' is not %s", option, value, expected);
}

/* Parses [DB NAME] and the options; returns VC_OK or VC_USAGE (said). */
static int parse_measure_args(int argc, char **argv, unsigned takes, uint64_t default_duration_ms,
                              measure_args *a) {
  struct option longopts[ALL_OPTIONS + 1];
  size_t n = 0;
  for (size_t i = 0; i < ALL_OPTIONS; i++)
    if ((all_options[i].needs & takes) == all_options[i].needs) longopts[n++] = all_options[i].opt;
  memset(&longopts[n], 0, sizeof longopts[n]);

  vc_workload_config_defaults(&a->cfg);
  a->cfg.duration_ms = default_duration_ms;
  int in_memory_options = 0, interval_given = 0;
  uint64_t v;
  opterr = 0;
  optind = 1;
  for (int c; (c = getopt_long(argc, argv, "k:", longopts, NULL)) != -1;) {
    switch (c) {
    case OPT_DURATION:
      if (vc_parse_duration_ms(optarg, &a->cfg.duration_ms))
        return bad_value(a->cmd, "duration", optarg, "a duration (500ms, 10s, 5m, 1h)");
      break;
    case OPT_INTERVAL:
      if (vc_parse_duration_ms(optarg, &a->cfg.interval_ms) || a->cfg.interval_ms < MIN_INTERVAL_MS)
        return bad_value(a->cmd, "interval", optarg, "a duration of at least 10ms");
      interval_given = 1;
      break;
    case OPT_WORKLOAD:
      if (vc_parse_workload(optarg, &a->cfg.kind))
        return bad_value(a->cmd, "workload", optarg, "search, insert or mixed");
      break;
    case OPT_THREADS:
      if (vc_parse_u64(optarg, 1, MAX_THREADS, &v))
        return bad_value(a->cmd, "threads", optarg, "a number of threads from 1 to 256");
      a->cfg.threads = (uint32_t)v;
      break;
    case OPT_K:
      if (vc_parse_u64(optarg, 1, VEXFS_MAX_K, &v))
        return bad_value(a->cmd, "k", optarg, "a positive number of neighbours");
      a->cfg.k = (uint32_t)v;
      break;
    case OPT_EF:
      if (vc_parse_u64(optarg, 1, VEXFS_MAX_K, &v))
        return bad_value(a->cmd, "ef", optarg, "a positive ef");
      a->cfg.ef = (uint32_t)v;
      break;
    case OPT_DIM:
      if (vc_parse_u64(optarg, 1, VEXFS_MAX_DIM, &v))
        return bad_value(a->cmd, "dim", optarg, "a dimension from 1 to 65536");
      a->cfg.dim = (uint32_t)v;
      in_memory_options = 1;
      break;
    case OPT_ROWS:
      if (vc_parse_u64(optarg, 1, UINT32_MAX, &v))
        return bad_value(a->cmd, "rows", optarg, "a positive number of rows");
      a->cfg.rows = v;
      in_memory_options = 1;
      break;
    case OPT_INDEX:
      if (vc_parse_index(optarg, &a->cfg.index))
        return bad_value(a->cmd, "index", optarg, "auto, flat, hnsw, lsh or ivf");
      in_memory_options = 1;
      break;
    case OPT_TARGET:
      if (vc_parse_double(optarg, &a->target_ops) || a->target_ops <= 0)
        return bad_value(a->cmd, "target-ops-per-sec", optarg, "a positive rate");
      break;
    case OPT_OUTPUT: a->output = optarg; break;
    case OPT_JSON: a->json = 1; break;
    default: return vc_bad_option(a->cmd, argc, argv);
    }
  }
  int positional = argc - optind;
  if (positional != 0 && positional != 2)
    return vc_usage(a->cmd, "give DB NAME (a database collection), or neither (in memory)");
  if (positional == 2) {
    a->cfg.db_path = argv[optind];
    a->cfg.name = argv[optind + 1];
    if (in_memory_options)
      return vc_usage(a->cmd, "--dim, --rows and --index are for the in-memory collection, "
                              "not for DB NAME");
  }
  if (interval_given && a->cfg.interval_ms > a->cfg.duration_ms)
    return vc_usage(a->cmd, "--interval %gs is longer than --duration %gs",
                    (double)a->cfg.interval_ms / 1e3, (double)a->cfg.duration_ms / 1e3);
  if ((takes & TAKES_OUTPUT) && !a->output)
    return vc_usage(a->cmd, "--output FILE.html is required");
  return VC_OK;
}

/* ---- monitor ---- */

typedef struct monitor_view {
  const measure_args *a;
  const vc_workload_target *target;
  int tty;
  int lines_drawn;          /* the live view's height, to redraw it in place */
  uint64_t ops_so_far;
} monitor_view;

static void describe_target(char *buf, size_t size, const vc_workload_target *t) {
  if (t->db_path)
    snprintf(buf, size, "%s/%s (%llu rows x %u, %s)%s%s", t->db_path, t->name,
             (unsigned long long)t->rows, t->config.dim, vexfs_index_in_use(t->collection),
             t->scratch_name ? ", inserts into " : "", t->scratch_name ? t->scratch_name : "");
  else
    snprintf(buf, size, "in memory (%llu synthetic rows x %u, %s)", (unsigned long long)t->rows,
             t->config.dim, vc_index_name(t->config.index));
}

static void monitor_json_line(const vc_workload_sample *iv) {
  double span = iv->end_s - iv->start_s;
  vc_json j;
  vcj_init(&j, stdout);
  vcj_object(&j, NULL);
  vcj_double(&j, "t", iv->end_s);
  vcj_double(&j, "interval_s", span);
  vcj_u64(&j, "ops", iv->searches + iv->inserts);
  vcj_double(&j, "ops_per_sec", (double)(iv->searches + iv->inserts) / span);
  vcj_u64(&j, "searches", iv->searches);
  vcj_u64(&j, "inserts", iv->inserts);
  vcj_object(&j, "latency_us");
  vcj_double(&j, "p50", vc_hist_quantile(&iv->latency, 0.50));
  vcj_double(&j, "p95", vc_hist_quantile(&iv->latency, 0.95));
  vcj_double(&j, "p99", vc_hist_quantile(&iv->latency, 0.99));
  vcj_double(&j, "max", iv->latency.count ? iv->latency.max_us : NAN);
  vcj_end(&j);
  vcj_double(&j, "pool_hit_rate", iv->pool_hit_rate);
  vcj_end(&j);
}

static void format_hit_rate(char *buf, size_t size, double rate) {
  if (isfinite(rate)) snprintf(buf, size, "%.1f%%", 100 * rate);
  else snprintf(buf, size, "-");
}

static void on_monitor_interval(const vc_workload_sample *iv, void *ctx) {
  monitor_view *v = ctx;
  uint64_t ops = iv->searches + iv->inserts;
  double span = iv->end_s - iv->start_s;
  v->ops_so_far += ops;
  char p50[24], p95[24], p99[24], hit[16];
  vc_format_us(p50, sizeof p50, vc_hist_quantile(&iv->latency, 0.50));
  vc_format_us(p95, sizeof p95, vc_hist_quantile(&iv->latency, 0.95));
  vc_format_us(p99, sizeof p99, vc_hist_quantile(&iv->latency, 0.99));
  format_hit_rate(hit, sizeof hit, iv->pool_hit_rate);
  if (v->a->json) {
    monitor_json_line(iv);
  } else if (!v->tty) { /* logfmt: one key=value line per interval, latencies in us */
    printf("t=%.2fs ops=%llu ops/s=%.1f search=%llu insert=%llu", iv->end_s,
           (unsigned long long)ops, (double)ops / span, (unsigned long long)iv->searches,
           (unsigned long long)iv->inserts);
    static const double q[3] = {0.50, 0.95, 0.99};
    static const char *const qname[3] = {"p50", "p95", "p99"};
    for (int i = 0; i < 3; i++) {
      double us = vc_hist_quantile(&iv->latency, q[i]);
      if (isfinite(us)) printf(" %s_us=%.1f", qname[i], us);
      else printf(" %s_us=-", qname[i]);
    }
    printf(" pool_hit=%s\n", hit);
  } else {
    char what[512];
    describe_target(what, sizeof what, v->target);
    if (v->lines_drawn) printf("\033[%dA", v->lines_drawn); /* back to the view's first line */
    vc_term_line(stdout, 1, "vexctl performance monitor  %s, %u thread%s, %s",
                 vc_workload_name(v->a->cfg.kind), v->a->cfg.threads,
                 v->a->cfg.threads == 1 ? "" : "s", what);
    vc_term_line(stdout, 1, "  elapsed   %.1f s of %.1f s", iv->end_s,
                 (double)v->a->cfg.duration_ms / 1e3);
    vc_term_line(stdout, 1, "  ops/s     %.1f   (search %llu, insert %llu in the last %.2f s)",
                 (double)ops / span, (unsigned long long)iv->searches,
                 (unsigned long long)iv->inserts, span);
    vc_term_line(stdout, 1, "  latency   p50 %s   p95 %s   p99 %s", p50, p95, p99);
    vc_term_line(stdout, 1, "  pool hit  %s", hit);
    vc_term_line(stdout, 1, "  total     %llu ops, %.1f ops/s on average",
                 (unsigned long long)v->ops_so_far, (double)v->ops_so_far / iv->end_s);
    v->lines_drawn = 6;
  }
  fflush(stdout);
}

int vc_perf_monitor(int argc, char **argv) {
  measure_args a = {.cmd = "performance monitor"};
  int rc = parse_measure_args(argc, argv, TAKES_INTERVAL, 60000, &a);
  if (rc != VC_OK) return rc;
  vc_workload *w;
  if (vc_workload_open(a.cmd, &a.cfg, &w) != VC_OK) return VC_FAIL;
  monitor_view view = {.a = &a, .target = vc_workload_target_of(w), .tty = vc_stdout_tty()};
  vc_workload_sample total;
  rc = vc_workload_run(w, on_monitor_interval, &view, &total);
  vc_workload_close(w, &rc);
  return rc;
}

/* ---- benchmark and report: the summary of a run ---- */

static double ops_per_sec(const vc_workload_sample *s) {
  return s->end_s > 0 ? (double)(s->searches + s->inserts) / s->end_s : 0;
}

static void print_summary_text(FILE *f, const measure_args *a, const vc_workload_target *t,
                               const vc_workload_sample *s) {
  char what[512], lat[5][24], hit[16];
  describe_target(what, sizeof what, t);
  fprintf(f, "workload  %s, %u thread%s, %.1f s, k=%u on %s\n", vc_workload_name(a->cfg.kind),
         a->cfg.threads, a->cfg.threads == 1 ? "" : "s", s->end_s, a->cfg.k, what);
  fprintf(f, "ops       %llu (search %llu, insert %llu)\n",
         (unsigned long long)(s->searches + s->inserts), (unsigned long long)s->searches,
         (unsigned long long)s->inserts);
  fprintf(f, "ops/s     %.1f\n", ops_per_sec(s));
  static const double q[4] = {0.50, 0.95, 0.99, 0.999};
  for (int i = 0; i < 4; i++) vc_format_us(lat[i], sizeof lat[i], vc_hist_quantile(&s->latency, q[i]));
  vc_format_us(lat[4], sizeof lat[4], s->latency.count ? s->latency.max_us : NAN);
  fprintf(f, "latency   p50 %s   p95 %s   p99 %s   p99.9 %s   max %s\n", lat[0], lat[1], lat[2],
         lat[3], lat[4]);
  format_hit_rate(hit, sizeof hit, s->pool_hit_rate);
  fprintf(f, "pool hit  %s   simd %s\n", hit, vexfs_simd_isa());
  if (a->target_ops > 0) {
    char line[160];
    vc_format_achievement(line, sizeof line, ops_per_sec(s), a->target_ops);
    fprintf(f, "%s\n", line);
  }
}

static void print_summary_json(FILE *f, const measure_args *a, const vc_workload_target *t,
                               const vc_workload_sample *s) {
  vc_json j;
  vcj_init(&j, f);
  vcj_object(&j, NULL);
  vcj_str(&j, "workload", vc_workload_name(a->cfg.kind));
  vcj_u64(&j, "threads", a->cfg.threads);
  vcj_u64(&j, "k", a->cfg.k);
  if (a->cfg.ef) vcj_u64(&j, "ef", a->cfg.ef);
  else vcj_null(&j, "ef");
  vcj_double(&j, "duration_s", (double)a->cfg.duration_ms / 1e3);
  vcj_double(&j, "elapsed_s", s->end_s);
  vcj_object(&j, "collection");
  vcj_bool(&j, "in_memory", t->db_path == NULL);
  vcj_str(&j, "database", t->db_path);
  vcj_str(&j, "name", t->name);
  vcj_str(&j, "scratch", t->scratch_name);
  vcj_u64(&j, "rows", t->rows);
  vcj_u64(&j, "dim", t->config.dim);
  vcj_str(&j, "metric", vc_metric_name(t->config.metric));
  vcj_str(&j, "index", vc_index_name(t->config.index));
  vcj_str(&j, "index_in_use", vexfs_index_in_use(t->collection));
  vcj_double(&j, "setup_s", t->setup_s);
  vcj_end(&j);
  vcj_u64(&j, "ops", s->searches + s->inserts);
  vcj_u64(&j, "searches", s->searches);
  vcj_u64(&j, "inserts", s->inserts);
  vcj_double(&j, "ops_per_sec", ops_per_sec(s));
  vcj_object(&j, "latency_us");
  vcj_double(&j, "mean", s->latency.count ? s->latency.sum_us / (double)s->latency.count : NAN);
  vcj_double(&j, "p50", vc_hist_quantile(&s->latency, 0.50));
  vcj_double(&j, "p95", vc_hist_quantile(&s->latency, 0.95));
  vcj_double(&j, "p99", vc_hist_quantile(&s->latency, 0.99));
  vcj_double(&j, "p999", vc_hist_quantile(&s->latency, 0.999));
  vcj_double(&j, "max", s->latency.count ? s->latency.max_us : NAN);
  vcj_end(&j);
  vcj_double(&j, "pool_hit_rate", s->pool_hit_rate);
  vcj_str(&j, "simd_isa", vexfs_simd_isa());
  if (a->target_ops > 0) {
    vcj_double(&j, "target_ops_per_sec", a->target_ops);
    vcj_double(&j, "achievement", ops_per_sec(s) / a->target_ops);
    vcj_bool(&j, "target_met", ops_per_sec(s) >= a->target_ops);
  } else {
    vcj_null(&j, "target_ops_per_sec");
    vcj_null(&j, "achievement");
    vcj_null(&j, "target_met");
  }
  if (a->output) vcj_str(&j, "report", a->output);
  vcj_end(&j);
}

/* The summary as text to print, made while the workload is still open (it describes the
 * collection) and printed only once closing it went well: a scratch collection that could not be
 * dropped, or a final checkpoint that failed, must not follow a success report. The caller frees
 * it; NULL when out of memory. */
static char *summary(const measure_args *a, const vc_workload_target *t,
                     const vc_workload_sample *s, const char *report_path) {
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  if (!f) return NULL;
  if (a->json) print_summary_json(f, a, t, s);
  else print_summary_text(f, a, t, s);
  if (report_path && !a->json) fprintf(f, "report    %s\n", report_path);
  if (fclose(f) != 0) {
    free(text);
    return NULL;
  }
  return text;
}

/* Closes the workload, then prints the summary if all went well. */
static void close_and_print(vc_workload *w, char *text, const char *cmd, int *rc) {
  if (*rc == VC_OK && !text) *rc = vc_fail(cmd, "out of memory");
  vc_workload_close(w, rc);
  if (*rc == VC_OK) fputs(text, stdout);
  free(text);
}

int vc_perf_benchmark(int argc, char **argv) {
  measure_args a = {.cmd = "performance benchmark"};
  int rc = parse_measure_args(argc, argv, TAKES_TARGET, 60000, &a);
  if (rc != VC_OK) return rc;
  vc_workload *w;
  if (vc_workload_open(a.cmd, &a.cfg, &w) != VC_OK) return VC_FAIL;
  vc_workload_sample total;
  rc = vc_workload_run(w, NULL, NULL, &total);
  char *text = rc == VC_OK ? summary(&a, vc_workload_target_of(w), &total, NULL) : NULL;
  close_and_print(w, text, a.cmd, &rc);
  return rc;
}

/* ---- report ---- */

typedef struct interval_log {
  vc_workload_sample *items;
  size_t n, cap;
  int out_of_memory;
} interval_log;

static void on_report_interval(const vc_workload_sample *iv, void *ctx) {
  interval_log *log = ctx;
  if (log->n == log->cap) {
    size_t cap = log->cap ? 2 * log->cap : 64;
    vc_workload_sample *grown = realloc(log->items, cap * sizeof *grown);
    if (!grown) {
      log->out_of_memory = 1;
      return;
    }
    log->items = grown;
    log->cap = cap;
  }
  log->items[log->n++] = *iv;
}

int vc_perf_report(int argc, char **argv) {
  measure_args a = {.cmd = "performance report"};
  int rc = parse_measure_args(argc, argv, TAKES_INTERVAL | TAKES_TARGET | TAKES_OUTPUT, 10000, &a);
  if (rc != VC_OK) return rc;
  if (vc_report_html_check(a.cmd, a.output) != VC_OK) return VC_FAIL;
  vc_workload *w;
  if (vc_workload_open(a.cmd, &a.cfg, &w) != VC_OK) return VC_FAIL;
  interval_log log = {0};
  vc_workload_sample total;
  rc = vc_workload_run(w, on_report_interval, &log, &total);
  if (rc == VC_OK && log.out_of_memory) rc = vc_fail(a.cmd, "out of memory for the intervals");
  const vc_workload_target *t = vc_workload_target_of(w);
  if (rc == VC_OK) {
    vexfs_metrics m;
    vexfs_metrics_init(&m);
    vexfs_collection_metrics(t->collection, &m);
    vc_report_data d = {.cfg = &a.cfg, .target = t, .total = &total, .intervals = log.items,
                        .nintervals = log.n, .metrics = &m, .target_ops_per_sec = a.target_ops};
    rc = vc_report_html_write(a.cmd, a.output, &d);
  }
  char *text = rc == VC_OK ? summary(&a, t, &total, a.output) : NULL;
  free(log.items);
  close_and_print(w, text, a.cmd, &rc);
  return rc;
}

/* vexctl performance memory-pools: the scratch pool's tiers (vexfs_pool_get_stats). The pool
 * belongs to a process, so the figures are this vexctl's: --warm runs a short search workload
 * in memory first, so that they mean something. */
#include <getopt.h>
#include <math.h>
#include <string.h>

#include "cli.h"
#include "json_out.h"
#include "perf_commands.h"
#include "workload.h"

#define CMD "performance memory-pools"
#define WARM_MS 1000
#define WARM_ROWS 5000

static const char scope_note[] =
    "pool figures are per process: these are this vexctl's own, since it started";

static double tier_hit_rate(const vexfs_pool_tier_stats *t) {
  return t->requests ? (double)t->hits / (double)t->requests : NAN;
}

static void print_text(const vexfs_pool_stats *s, const vc_workload_sample *warm) {
  printf("(%s", scope_note);
  if (warm)
    printf("; warmed by %llu searches in %.1f s on %u synthetic rows in memory",
           (unsigned long long)warm->searches, warm->end_s, WARM_ROWS);
  else printf("; --warm runs a search workload first");
  printf(")\n\n%4s %10s %10s %10s %8s %8s %8s %12s %12s %12s\n", "tier", "block", "requests",
         "hits", "hit rate", "too big", "empty", "in use", "reserved", "peak");
  for (uint32_t i = 0; i < s->tier_count && i < VEXFS_POOL_MAX_TIERS; i++) {
    const vexfs_pool_tier_stats *t = &s->tiers[i];
    char rate[16];
    double r = tier_hit_rate(t);
    if (isfinite(r)) snprintf(rate, sizeof rate, "%.1f%%", 100 * r);
    else snprintf(rate, sizeof rate, "-");
    printf("%4u %10llu %10llu %10llu %8s %8llu %8llu %12llu %12llu %12llu\n", i,
           (unsigned long long)t->block_size, (unsigned long long)t->requests,
           (unsigned long long)t->hits, rate, (unsigned long long)t->misses_too_big,
           (unsigned long long)t->misses_empty, (unsigned long long)t->bytes_in_use,
           (unsigned long long)t->bytes_reserved, (unsigned long long)t->peak_bytes);
  }
  uint64_t requests = 0;
  for (uint32_t i = 0; i < s->tier_count && i < VEXFS_POOL_MAX_TIERS; i++) requests += s->tiers[i].requests;
  if (requests)
    printf("\ntotal hit rate %.1f%%", 100 * s->hit_rate);
  else
    printf("\ntotal hit rate - (no requests yet)");
  printf(" (sizes in bytes; 'too big': requests above every block, served by the allocator)\n");
}

static void print_json(const vexfs_pool_stats *s, const vc_workload_sample *warm) {
  vc_json j;
  vcj_init(&j, stdout);
  vcj_object(&j, NULL);
  vcj_str(&j, "scope", "process");
  vcj_str(&j, "note", scope_note);
  if (warm) {
    vcj_object(&j, "warm");
    vcj_str(&j, "workload", "search");
    vcj_u64(&j, "rows", WARM_ROWS);
    vcj_double(&j, "duration_s", warm->end_s);
    vcj_u64(&j, "searches", warm->searches);
    vcj_end(&j);
  } else {
    vcj_null(&j, "warm");
  }
  vcj_array(&j, "tiers");
  for (uint32_t i = 0; i < s->tier_count && i < VEXFS_POOL_MAX_TIERS; i++) {
    const vexfs_pool_tier_stats *t = &s->tiers[i];
    vcj_object(&j, NULL);
    vcj_u64(&j, "block_size", t->block_size);
    vcj_u64(&j, "requests", t->requests);
    vcj_u64(&j, "hits", t->hits);
    vcj_double(&j, "hit_rate", tier_hit_rate(t));
    vcj_u64(&j, "misses_too_big", t->misses_too_big);
    vcj_u64(&j, "misses_empty", t->misses_empty);
    vcj_u64(&j, "bytes_in_use", t->bytes_in_use);
    vcj_u64(&j, "bytes_reserved", t->bytes_reserved);
    vcj_u64(&j, "peak_bytes", t->peak_bytes);
    vcj_end(&j);
  }
  vcj_end(&j);
  vcj_double(&j, "hit_rate", s->hit_rate);
  vcj_end(&j);
}

/* Runs the warming workload: searches on an in-memory collection for ms milliseconds. */
static int warm_up(uint64_t ms, vc_workload_sample *out) {
  vc_workload_config cfg;
  vc_workload_config_defaults(&cfg);
  cfg.rows = WARM_ROWS;
  cfg.duration_ms = cfg.interval_ms = ms;
  vc_workload *w;
  if (vc_workload_open(CMD, &cfg, &w) != VC_OK) return VC_FAIL;
  int rc = vc_workload_run(w, NULL, NULL, out);
  vc_workload_close(w, &rc);
  return rc;
}

int vc_perf_memory_pools(int argc, char **argv) {
  static const struct option longopts[] = {{"warm", optional_argument, NULL, 'w'},
                                           {"json", no_argument, NULL, 'j'},
                                           {NULL, 0, NULL, 0}};
  int json = 0, warm = 0;
  uint64_t warm_ms = WARM_MS;
  opterr = 0;
  optind = 1;
  for (int c; (c = getopt_long(argc, argv, "", longopts, NULL)) != -1;) {
    if (c == 'j') json = 1;
    else if (c == 'w') {
      warm = 1;
      if (optarg && vc_parse_duration_ms(optarg, &warm_ms))
        return vc_usage(CMD, "--warm: '%s' is not a duration (500ms, 2s)", optarg);
    } else return vc_bad_option(CMD, argc, argv);
  }
  if (optind < argc) return vc_usage(CMD, "unexpected argument '%s'", argv[optind]);
  vc_workload_sample sample;
  if (warm && warm_up(warm_ms, &sample) != VC_OK) return VC_FAIL;
  vexfs_pool_stats s;
  vexfs_pool_stats_init(&s);
  vexfs_status st = vexfs_pool_get_stats(&s);
  if (st != VEXFS_OK) return vc_lib_fail(CMD, "reading the pool's figures", st);
  if (json) print_json(&s, warm ? &sample : NULL);
  else print_text(&s, warm ? &sample : NULL);
  return VC_OK;
}

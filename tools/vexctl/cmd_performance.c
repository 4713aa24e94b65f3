/* vexctl performance: the reference's performance commands, for a library. Dispatches to the
 * subcommands (perf_commands.h); answers the reference's kernel-module and server-tuning ones
 * with what applies instead. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "perf_commands.h"

static const char help[] =
    "usage: vexctl performance SUBCOMMAND [ARGS...]\n"
    "\n"
    "Measures libvexfs in this process. Workload subcommands run on a database collection\n"
    "(DB NAME) or, without them, on an in-memory collection of synthetic rows (standard normal\n"
    "coordinates, fixed seed). On a database, searches run on NAME with queries drawn from its\n"
    "rows (fixed seed); inserts go into a scratch collection 'vexctl-bench-PID' made with NAME's\n"
    "config and dropped at the end, also on Ctrl-C (ones a killed run left are dropped by the\n"
    "next insert run): the data is never changed. Each call is one\n"
    "query or one row, timed by vexctl; a durable database fsyncs each insert, as a program's\n"
    "would. In memory, inserts add to the synthetic collection. mixed: 90% searches, 10%\n"
    "inserts.\n"
    "\n"
    "  metrics DB [NAME] [--format table|json|prometheus] [--json]\n"
    "      The library's figures for NAME, or every collection of DB: vectors, memory by part,\n"
    "      index, and this process's counters (a fresh open has done nothing yet). Read-only.\n"
    "      --json is --format json. Prometheus: the text exposition format, one family per\n"
    "      metric, every sample labelled collection=\"NAME\".\n"
    "  monitor [DB NAME] [--duration 60s] [--interval 1s] [--workload search|insert|mixed]\n"
    "          [WORKLOAD OPTIONS] [--json]\n"
    "      Drives the workload and shows, every interval, ops/s, p50/p95/p99 latency of that\n"
    "      interval and the pool hit rate: redrawn in place on a terminal, else one line per\n"
    "      interval; --json: one JSON object per interval (JSON Lines), nothing else.\n"
    "  benchmark [DB NAME] [--duration 60s] [--workload search|insert|mixed]\n"
    "          [--target-ops-per-sec N] [WORKLOAD OPTIONS] [--json]\n"
    "      Runs the workload as fast as it goes (closed loop), then prints ops, ops/s, latency\n"
    "      p50/p95/p99/p99.9/max, the pool hit rate and, with a target, the achievement. A\n"
    "      missed target is a result: the exit status is 0 either way.\n"
    "  report --output FILE.html [DB NAME] [--duration 10s] [--interval 1s]\n"
    "          [--workload ...] [--target-ops-per-sec N] [WORKLOAD OPTIONS] [--json]\n"
    "      Runs a benchmark and writes one self-contained HTML file (inline CSS and SVG, no\n"
    "      scripts or links): the results, the collection's config and memory, the SIMD level,\n"
    "      the pool hit rate, a latency histogram and the throughput of each interval.\n"
    "  simd [--json]\n"
    "      The CPU features found, the level the library uses now, and the exact-L2 kernel\n"
    "      speed of every level the CPU runs (distances/s and GB/s; 768-d rows, one thread),\n"
    "      each measured in a child vexctl started with VEXFS_SIMD=LEVEL.\n"
    "  memory-pools [--warm[=DURATION]] [--json]\n"
    "      The scratch pool's tiers: block size, requests, hit rate, bytes in use, reserved and\n"
    "      peak, and the total hit rate. The pool belongs to a process, so these are this\n"
    "      vexctl's own figures: --warm first runs a search workload in memory (default 1s).\n"
    "\n"
    "WORKLOAD OPTIONS\n"
    "  --threads N        workers, each its own loop (default 1)\n"
    "  -k, --k K          neighbours per search (default 10)\n"
    "  --ef N             search ef (default: the collection's)\n"
    "  --dim D            in memory: dimension (default 128)\n"
    "  --rows N           in memory: rows loaded first (default 20000)\n"
    "  --index KIND       in memory: flat|hnsw|lsh|ivf|auto (default hnsw)\n"
    "Durations: 500ms, 10s, 5m, 1h, or seconds (1.5).\n"
    "\n"
    "Not for a library: stack, bridge (no kernel module or FUSE bridge), auto-optimize,\n"
    "optimize, validate, targets (exit 2); memory-pools configure and simd configure say what\n"
    "to do instead (vexfs_pool_configure() in the program; the VEXFS_SIMD variable).\n"
    "\n"
    "examples:\n"
    "  vexctl performance metrics ./db --format prometheus\n"
    "  vexctl performance monitor ./db docs --duration 30s --interval 1s --workload mixed\n"
    "  vexctl performance benchmark --duration 10s --threads 2 --target-ops-per-sec 2000\n"
    "  vexctl performance report --output report.html ./db docs --duration 10s\n"
    "  vexctl performance simd\n";

typedef struct subcommand {
  const char *name;
  int (*run)(int argc, char **argv);
} subcommand;

static const subcommand subcommands[] = {
    {"metrics", vc_perf_metrics},   {"monitor", vc_perf_monitor}, {"benchmark", vc_perf_benchmark},
    {"report", vc_perf_report},     {"simd", vc_perf_simd},       {"memory-pools", vc_perf_memory_pools},
};

/* The reference's subcommands that have no meaning for a library, and why. */
static const struct {
  const char *name, *why;
} not_for_a_library[] = {
    {"stack", "libvexfs has no kernel module, so no kernel stack to configure or watch"},
    {"bridge", "libvexfs has no kernel/FUSE bridge: the program calls the library directly"},
    {"auto-optimize", "libvexfs does not retune itself; choose the index and its parameters "
                      "when creating the collection (vexctl create --index, --m, --ef-search)"},
    {"optimize", "libvexfs has no workload profiles; choose the index and its parameters when "
                 "creating the collection (vexctl create --index, --m, --ef-search)"},
    {"validate", "libvexfs has no performance targets to validate; use 'vexctl performance "
                 "benchmark --target-ops-per-sec N'"},
    {"targets", "libvexfs has no performance targets; use 'vexctl performance benchmark "
                "--target-ops-per-sec N'"},
};

static int run_performance(int argc, char **argv) {
  if (argc < 2) return vc_usage("performance", "which subcommand? (metrics, monitor, benchmark, "
                                               "report, simd, memory-pools)");
  const char *sub = argv[1];
  char cmd[64]; /* "performance stack": messages name the subcommand */
  snprintf(cmd, sizeof cmd, "performance %.40s", sub);
  for (size_t i = 0; i < sizeof not_for_a_library / sizeof *not_for_a_library; i++)
    if (!strcmp(sub, not_for_a_library[i].name)) {
      vc_fail(cmd, "does not apply to a library: %s", not_for_a_library[i].why);
      return VC_USAGE;
    }
  if (argc > 2 && !strcmp(argv[2], "configure")) {
    if (!strcmp(sub, "memory-pools")) {
      vc_fail(cmd, "configure: the pool belongs to the program that uses "
                             "the library: call vexfs_pool_configure() there, before its first "
                             "collection call");
      return VC_USAGE;
    }
    if (!strcmp(sub, "simd")) {
      vc_fail(cmd, "configure: the level is picked from the CPU when the library "
                             "loads; set VEXFS_SIMD=scalar|avx2|avx2vnni|avx512|avx512vnni|neon in the program's "
                             "environment to cap it");
      return VC_USAGE;
    }
  }
  for (size_t i = 0; i < sizeof subcommands / sizeof *subcommands; i++)
    if (!strcmp(sub, subcommands[i].name)) return subcommands[i].run(argc - 1, argv + 1);
  return vc_usage("performance", "'%s' is not a subcommand", sub);
}

const vc_command vc_cmd_performance = {
    "performance", "metrics, live monitor, benchmark, HTML report, SIMD kernels, memory pools",
    help, run_performance};

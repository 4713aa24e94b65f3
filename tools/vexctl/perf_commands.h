/* vexctl: the subcommands of `vexctl performance` (cmd_performance.c dispatches to them) and the
 * figures' wording they share. Each subcommand gets argv[0] = its own name ("monitor", ...). */
#ifndef VEXCTL_PERF_COMMANDS_H
#define VEXCTL_PERF_COMMANDS_H
#include <stddef.h>

int vc_perf_metrics(int argc, char **argv);      /* perf_metrics.c */
int vc_perf_monitor(int argc, char **argv);      /* perf_measure.c */
int vc_perf_benchmark(int argc, char **argv);    /* perf_measure.c */
int vc_perf_report(int argc, char **argv);       /* perf_measure.c */
int vc_perf_simd(int argc, char **argv);         /* perf_simd.c */
int vc_perf_memory_pools(int argc, char **argv); /* perf_pools.c */

/* A latency in microseconds as "51.2 us", "3.40 ms" or "1.20 s"; "-" when not finite. */
void vc_format_us(char *buf, size_t size, double us);
/* "achieved 1840 ops/s of the 2000 targeted: 92.0%, target missed" (or "target met"). */
void vc_format_achievement(char *buf, size_t size, double achieved, double target);

#endif

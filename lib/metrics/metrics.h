/* Metrics of one collection: counters, latency histograms, ops/sec windows. Recording takes no
 * lock and touches two cache lines per call: its shard's head (counts, sums, the current second)
 * and one histogram bucket; the per-second ring is written once a second. Shards are picked per
 * thread. Process-wide figures are summed when read (export.c), not recorded twice. */
#ifndef VEXFS_METRICS_H
#define VEXFS_METRICS_H

#include <stdatomic.h>
#include <stdint.h>

#include "vexfs/vexfs.h"

/* Log-linear buckets over nanoseconds, HdrHistogram style: values below 16 exactly, then 16
 * sub-buckets per power of two (about 6% wide), up to 2^48 ns (3 days). */
#define VX_HIST_SUB 16
#define VX_HIST_BUCKETS (45 * VX_HIST_SUB)
#define VX_SHARDS 8
#define VX_RATE_SECONDS 60

typedef struct vx_op_head {
  _Atomic uint64_t ops, calls, sum_ns, max_ns, distances;
  _Atomic uint64_t second, in_second; /* the latest second with events, and its ops so far */
} __attribute__((aligned(64))) vx_op_head;

/* One kind of operation (search or insert). */
typedef struct vx_op_stats {
  vx_op_head head[VX_SHARDS];
  _Atomic uint64_t bucket[VX_SHARDS][VX_HIST_BUCKETS];
  _Atomic uint64_t ring_second[VX_SHARDS][VX_RATE_SECONDS], ring_ops[VX_SHARDS][VX_RATE_SECONDS];
} vx_op_stats;

typedef struct vx_metrics {
  vx_op_stats search, insert;
  _Atomic uint64_t removes;
} vx_metrics;

/* Plain sums of an operation's shards (or of many collections'). */
typedef struct vx_op_totals {
  uint64_t ops, calls, sum_ns, max_ns, distances;
  uint64_t bucket[VX_HIST_BUCKETS];
} vx_op_totals;

/* Whether recording is on (vexfs_metrics_set_enabled; default on). */
int vx_metrics_enabled(void);
uint64_t vx_now_ns(void);

/* Recording; `end_ns` is vx_now_ns() at the end of the call, `ns` its duration. */
void vx_metrics_on_insert(vx_metrics *m, uint64_t vectors, uint64_t ns, uint64_t end_ns);
void vx_metrics_on_search(vx_metrics *m, uint64_t queries, uint64_t distances, uint64_t ns,
                          uint64_t end_ns);
void vx_metrics_on_remove(vx_metrics *m, uint64_t vectors);
void vx_metrics_clear(vx_metrics *m);

/* Adds a freed collection's figures to the process-wide ones (export.c). */
void vx_metrics_retire(const vx_metrics *m);

/* Reading. */
void vx_op_totals_add(vx_op_totals *t, const vx_op_stats *s);
void vx_op_totals_summary(const vx_op_totals *t, vexfs_latency_summary *out);
/* Ops per second over the last `seconds` whole seconds. */
double vx_op_rate(const vx_op_stats *s, unsigned seconds);

#endif

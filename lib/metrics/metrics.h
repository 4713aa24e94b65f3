/* Metrics of one collection, or of the whole process: counters, latency histograms, ops/sec
 * windows. Recording takes no lock: relaxed atomics on per-thread histogram shards and counters. */
#ifndef VEXFS_METRICS_H
#define VEXFS_METRICS_H

#include <stdatomic.h>
#include <stdint.h>

#include "vexfs/vexfs.h"

/* Log-linear buckets over nanoseconds, HdrHistogram style: values below 16 exactly, then 16
 * sub-buckets per power of two (about 6% wide), up to 2^48 ns (3 days). */
#define VX_HIST_SUB 16
#define VX_HIST_BUCKETS (45 * VX_HIST_SUB)
#define VX_HIST_SHARDS 8 /* threads pick one by arrival order; each mostly has its own */

typedef struct vx_hist_shard {
  _Atomic uint64_t bucket[VX_HIST_BUCKETS];
  _Atomic uint64_t count, sum_ns, max_ns;
} __attribute__((aligned(64))) vx_hist_shard;

typedef struct vx_hist {
  vx_hist_shard shard[VX_HIST_SHARDS];
} vx_hist;

/* Events per second over the last 60 seconds, one slot per second. */
typedef struct vx_rate {
  _Atomic uint64_t second[60], count[60];
} vx_rate;

typedef struct vx_metrics {
  _Atomic uint64_t inserts, searches, removes, distances;
  vx_hist search_latency, insert_latency;
  vx_rate search_rate, insert_rate;
} vx_metrics;

/* The process-wide metrics, which every collection's events also feed. */
extern vx_metrics vx_process_metrics;

/* Whether recording is on (vexfs_metrics_set_enabled; default on). */
int vx_metrics_enabled(void);
uint64_t vx_now_ns(void);

/* Recording, into m and the process-wide metrics. `ns` is the call's duration. */
void vx_metrics_on_insert(vx_metrics *m, uint64_t vectors, uint64_t ns);
void vx_metrics_on_search(vx_metrics *m, uint64_t queries, uint64_t distances, uint64_t ns);
void vx_metrics_on_remove(vx_metrics *m, uint64_t vectors);
void vx_metrics_clear(vx_metrics *m);

/* Reading. */
void vx_hist_summary(const vx_hist *h, vexfs_latency_summary *out);
double vx_rate_per_sec(const vx_rate *r, unsigned seconds);

#endif

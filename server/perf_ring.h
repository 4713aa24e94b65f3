/* The history of the performance sampler (performance.c): the last hour of 1 s samples and the
 * last day of 1 min averages, read back averaged over any interval. Bounded: 3 600 + 1 440
 * samples (about 400 KiB), where a day of 1 s samples would be 86 400. No locking: the caller
 * holds its own. */
#ifndef VEXFS_SERVER_PERF_RING_H
#define VEXFS_SERVER_PERF_RING_H

#include <stddef.h>
#include <stdint.h>

#include "server.h"

#define VS_PERF_FINE_SAMPLES 3600u   /* 1 s each: one hour */
#define VS_PERF_COARSE_SAMPLES 1440u /* 1 min each: one day */
#define VS_PERF_MAX_SECONDS (VS_PERF_COARSE_SAMPLES * 60u)

typedef struct vs_perf_ring {
  vs_perf_sample fine[VS_PERF_FINE_SAMPLES];
  vs_perf_sample coarse[VS_PERF_COARSE_SAMPLES];
  size_t fine_n, fine_next, coarse_n, coarse_next; /* how many are held; where the next goes */
  vs_perf_sample minute; /* the sums of the minute being gathered (minute_n samples) */
  size_t minute_n;
} vs_perf_ring;

/* Adds a sample, taken after the last one pushed. A sample of a later minute (of the epoch's)
 * than the minute being gathered closes it: its average joins the coarse samples. */
void vs_perf_ring_push(vs_perf_ring *r, const vs_perf_sample *s);
/* The latest sample pushed, or NULL when none has been. */
const vs_perf_sample *vs_perf_ring_latest(const vs_perf_ring *r);
/* The samples taken in the last duration_s seconds before now_ms, averaged into buckets of
 * interval_s seconds that start at multiples of it since the epoch: one row per bucket that has
 * samples, oldest first, timestamped with its bucket's start. Rates, latencies and hit rates are
 * averaged; vectors and the SIMD level are the bucket's latest. The 1 s samples answer when the
 * window is within their hour or the interval is below a minute; else the 1 min averages (each
 * weighing as one) and the minute being gathered do. out has room for max rows; returns how many
 * were written. */
size_t vs_perf_ring_read(const vs_perf_ring *r, uint64_t now_ms, unsigned duration_s,
                         unsigned interval_s, vs_perf_sample *out, size_t max);

#endif

/* vexctl: the workload engine of `performance monitor|benchmark|report` and `memory-pools --warm`:
 * N worker threads, each in its own closed loop of single-query searches and/or single-row
 * inserts, each call timed here (clock_gettime) into log-bucket latency histograms, collected
 * per interval and over the whole run.
 *
 * The target is a database collection (searches run on it, with queries drawn from its rows;
 * inserts go into a scratch collection "vexctl-bench-<pid>" made with its config and dropped at
 * the end, so the user's data never changes) or an in-memory collection of synthetic rows.
 * SIGINT and SIGTERM stop the workload; the scratch collection is dropped all the same. */
#ifndef VEXCTL_WORKLOAD_H
#define VEXCTL_WORKLOAD_H
#include <stddef.h>
#include <stdint.h>

#include <vexfs/vexfs.h>

/* Latency histogram: VC_HIST_PER_DOUBLING buckets per power of two from VC_HIST_MIN_US up
 * (each 4.4 % wide), so percentiles are within about 2 % anywhere from 0.1 us to 107 s. */
#define VC_HIST_PER_DOUBLING 16
#define VC_HIST_MIN_US 0.1
#define VC_HIST_BUCKETS (30 * VC_HIST_PER_DOUBLING)

typedef struct vc_latency_hist {
  uint64_t count;
  double sum_us, min_us, max_us;
  uint64_t bucket[VC_HIST_BUCKETS]; /* bucket i: [vc_hist_edge(i), vc_hist_edge(i + 1)) */
} vc_latency_hist;

void vc_hist_clear(vc_latency_hist *h);
void vc_hist_add(vc_latency_hist *h, double us);
void vc_hist_merge(vc_latency_hist *into, const vc_latency_hist *from);
/* The q-quantile (0 < q <= 1) in microseconds, within the bucket's width and never outside the
 * observed min and max; NaN when empty. */
double vc_hist_quantile(const vc_latency_hist *h, double q);
/* Lower edge of bucket i in microseconds (i = VC_HIST_BUCKETS gives the top edge). Values below
 * the first edge count in bucket 0, values above the top in the last. */
double vc_hist_edge(size_t i);

typedef enum vc_workload_kind {
  VC_WORKLOAD_SEARCH = 0,
  VC_WORKLOAD_INSERT = 1,
  VC_WORKLOAD_MIXED = 2 /* per call: an insert with probability VC_MIXED_INSERT_SHARE */
} vc_workload_kind;
#define VC_MIXED_INSERT_SHARE 0.1

int vc_parse_workload(const char *s, vc_workload_kind *out); /* search|insert|mixed; 0 or -1 */
const char *vc_workload_name(vc_workload_kind k);

typedef struct vc_workload_config {
  vc_workload_kind kind;
  const char *db_path, *name; /* both NULL: an in-memory collection of synthetic rows */
  uint32_t dim;               /* in memory: dimension (default 128) */
  uint64_t rows;              /* in memory: rows loaded before the run (default 20000) */
  vexfs_index_kind index;     /* in memory: index (default hnsw) */
  uint32_t threads;           /* workers (default 1) */
  uint32_t k, ef;             /* searches: k (default 10), ef (0 = the collection's) */
  uint64_t duration_ms, interval_ms;
} vc_workload_config;

void vc_workload_config_defaults(vc_workload_config *c);

/* Figures of an interval, or of the whole run. */
typedef struct vc_workload_sample {
  double start_s, end_s;   /* since the workload started */
  uint64_t searches, inserts;
  vc_latency_hist latency; /* every call of the span, searches and inserts alike */
  double pool_hit_rate;    /* of the process's scratch pool over the span; NaN: no requests */
} vc_workload_sample;

typedef struct vc_workload vc_workload;

/* What the workload runs on, for reports. */
typedef struct vc_workload_target {
  const char *db_path, *name;     /* NULL in memory */
  const char *scratch_name;       /* the scratch collection, NULL when none */
  vexfs_collection_config config; /* the searched collection's */
  uint64_t rows;                  /* its rows when the run started */
  double setup_s;                 /* opening / loading and drawing the queries */
  vexfs_collection *collection;   /* the searched collection (metrics, memory) */
} vc_workload_target;

/* Prepares the target of cfg (opening the database, making the scratch collection or loading
 * the synthetic rows, drawing the queries) and installs the SIGINT/SIGTERM handlers. Returns
 * VC_OK with *out set, or VC_FAIL after saying why (messages are "vexctl: cmd: ..."). */
int vc_workload_open(const char *cmd, const vc_workload_config *cfg, vc_workload **out);

const vc_workload_target *vc_workload_target_of(const vc_workload *w);

/* Called on the calling thread at the end of each interval. */
typedef void (*vc_interval_fn)(const vc_workload_sample *interval, void *ctx);

/* Runs the workload for cfg->duration_ms, calling on_interval (may be NULL) every
 * cfg->interval_ms (the last interval may be shorter), and fills *total. Returns VC_OK, or
 * VC_FAIL after saying why: a library call failed, or a signal interrupted the run. */
int vc_workload_run(vc_workload *w, vc_interval_fn on_interval, void *ctx,
                    vc_workload_sample *total);

/* Drops the scratch collection, closes the database or frees the collection, restores the
 * signal handlers and frees w (NULL-safe). A failure is reported and turns *rc into VC_FAIL. */
void vc_workload_close(vc_workload *w, int *rc);

#endif

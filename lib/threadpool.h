/* A small process-wide pool of worker threads for splitting batch work.
 * Workers are started lazily, up to the largest parallelism asked for, and live until the process
 * ends. Calls from many threads at once are fine: each call is its own job. A child of fork()
 * starts with no workers and starts its own on demand. */
#ifndef VEXFS_THREADPOOL_H
#define VEXFS_THREADPOOL_H

#include <stddef.h>

/* Runs fn(ctx, task, worker) for every task in [0, ntasks), on up to `threads` threads (the
 * caller is one of them). `worker` is a distinct index below min(threads, ntasks) for each thread
 * taking part, so callers can give every worker its own scratch. If worker threads cannot be
 * started, the caller runs more of the tasks itself: this call cannot fail. */
typedef void (*vx_task_fn)(void *ctx, size_t task, unsigned worker);
void vx_parallel_for(unsigned threads, size_t ntasks, vx_task_fn fn, void *ctx);

/* The number of threads a caller's `threads = 0` means: the CPUs this process may run on. */
unsigned vx_default_threads(void);

/* Resolves a caller's thread setting: 0 means all cores; capped at VX_MAX_THREADS. */
#define VX_MAX_THREADS 256u
unsigned vx_resolve_threads(unsigned requested);

#endif

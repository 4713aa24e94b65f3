/* Alloc/free throughput of the libvexfs scratch pool and of this process's malloc (glibc, or
 * jemalloc when run under LD_PRELOAD; see pool_vs_malloc.sh). Each thread keeps 64 blocks live and
 * replaces the oldest, touching each new block's first and last byte, so both sides pay for real
 * reuse, not a single hot block.
 *
 * usage: bench_pool SIZE THREADS   prints: "<malloc|pool> SIZE THREADS <pairs per second>" */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "pool/pool.h"

enum { LIVE = 64, PAIRS = 4000000 };

typedef struct run {
  size_t size;
  int use_pool;
  pthread_barrier_t *start;
  volatile unsigned char sink;
} run;

static void *worker(void *arg) {
  run *r = arg;
  void *live[LIVE] = {0};
  unsigned char acc = 0;
  pthread_barrier_wait(r->start);
  for (size_t i = 0; i < PAIRS; i++) {
    size_t slot = i % LIVE;
    if (r->use_pool) {
      vx_pool_put(live[slot], r->size);
      live[slot] = vx_pool_get(r->size);
    } else {
      free(live[slot]);
      live[slot] = malloc(r->size);
    }
    unsigned char *b = live[slot];
    b[0] = (unsigned char)i;
    b[r->size - 1] = (unsigned char)i;
    acc ^= b[0];
  }
  for (size_t s = 0; s < LIVE; s++) {
    if (r->use_pool) vx_pool_put(live[s], r->size);
    else free(live[s]);
  }
  r->sink = acc;
  return NULL;
}

static double measure(size_t size, int threads, int use_pool) {
  pthread_barrier_t start;
  pthread_barrier_init(&start, NULL, (unsigned)threads + 1);
  pthread_t t[16];
  run r[16];
  for (int i = 0; i < threads; i++) {
    r[i] = (run){size, use_pool, &start, 0};
    pthread_create(&t[i], NULL, worker, &r[i]);
  }
  struct timespec a, b;
  pthread_barrier_wait(&start);
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (int i = 0; i < threads; i++) pthread_join(t[i], NULL);
  clock_gettime(CLOCK_MONOTONIC, &b);
  pthread_barrier_destroy(&start);
  double s = (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
  return (double)PAIRS * threads / s;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s SIZE THREADS\n", argv[0]);
    return 2;
  }
  size_t size = strtoul(argv[1], NULL, 10);
  int threads = atoi(argv[2]);
  if (size == 0 || threads < 1 || threads > 16) return 2;
  measure(size, threads, 1); /* warm-up: the pool reserves its slabs, caches fill */
  measure(size, threads, 0);
  printf("pool %zu %d %.0f\n", size, threads, measure(size, threads, 1));
  printf("malloc %zu %d %.0f\n", size, threads, measure(size, threads, 0));
  return 0;
}

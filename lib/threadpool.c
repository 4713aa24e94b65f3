/* Process-wide worker pool (see threadpool.h).
 *
 * A job is posted with a number of helper places. Idle workers take places; each runs tasks,
 * claimed one at a time through an atomic counter, until none are left. The posting thread runs
 * tasks too, then withdraws the job (unfilled places lapse) and waits for its helpers. */
#include "threadpool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <unistd.h>

typedef struct job {
  vx_task_fn fn;
  void *ctx;
  size_t ntasks;
  atomic_size_t next_task;
  unsigned places;  /* helper places not yet taken */
  unsigned joined;  /* helpers that took a place (their worker indexes are 1..joined) */
  unsigned running; /* helpers still working */
  pthread_cond_t done;
  struct job *next_job;
} job;

static struct {
  pthread_mutex_t lock;
  pthread_cond_t work;
  job *queue; /* jobs with open places */
  unsigned workers;
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, 0};

/* fork() copies only the forking thread: the child has none of the workers, and the lock must
 * not be copied while another thread holds it. It is held across the fork, and the child starts
 * with an empty pool that grows again on demand. */
static void before_fork(void) { pthread_mutex_lock(&pool.lock); }
static void after_fork_in_parent(void) { pthread_mutex_unlock(&pool.lock); }
static void after_fork_in_child(void) {
  pthread_mutex_init(&pool.lock, NULL);
  pthread_cond_init(&pool.work, NULL);
  pool.queue = NULL; /* the jobs of threads that are not in the child */
  pool.workers = 0;
}

__attribute__((constructor)) static void watch_forks(void) {
  pthread_atfork(before_fork, after_fork_in_parent, after_fork_in_child);
}

static void run_tasks(job *j, unsigned worker) {
  for (;;) {
    size_t t = atomic_fetch_add_explicit(&j->next_task, 1, memory_order_relaxed);
    if (t >= j->ntasks) return;
    j->fn(j->ctx, t, worker);
  }
}

static void unlink_job(job *j) {
  for (job **p = &pool.queue; *p; p = &(*p)->next_job)
    if (*p == j) {
      *p = j->next_job;
      return;
    }
}

static void *worker_main(void *arg) {
  (void)arg;
  pthread_mutex_lock(&pool.lock);
  for (;;) {
    while (!pool.queue) pthread_cond_wait(&pool.work, &pool.lock);
    job *j = pool.queue;
    unsigned worker = ++j->joined;
    j->running++;
    if (--j->places == 0) unlink_job(j);
    pthread_mutex_unlock(&pool.lock);
    run_tasks(j, worker);
    pthread_mutex_lock(&pool.lock);
    if (--j->running == 0) pthread_cond_signal(&j->done);
  }
  return NULL;
}

/* Starts workers until there are `want`; called with the lock held. */
static void grow_pool(unsigned want) {
  while (pool.workers < want) {
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int failed = pthread_create(&t, &attr, worker_main, NULL);
    pthread_attr_destroy(&attr);
    if (failed) return; /* fewer helpers; the caller does the rest */
    pool.workers++;
  }
}

void vx_parallel_for(unsigned threads, size_t ntasks, vx_task_fn fn, void *ctx) {
  unsigned helpers = threads > 1 ? threads - 1 : 0;
  if (helpers > ntasks - 1) helpers = ntasks > 0 ? (unsigned)(ntasks - 1) : 0;
  job j = {.fn = fn, .ctx = ctx, .ntasks = ntasks, .places = helpers};
  atomic_init(&j.next_task, 0);
  if (helpers > 0) {
    pthread_cond_init(&j.done, NULL);
    pthread_mutex_lock(&pool.lock);
    grow_pool(helpers);
    j.next_job = pool.queue;
    pool.queue = &j;
    pthread_cond_broadcast(&pool.work);
    pthread_mutex_unlock(&pool.lock);
  }
  run_tasks(&j, 0);
  if (helpers > 0) {
    pthread_mutex_lock(&pool.lock);
    if (j.places > 0) unlink_job(&j);
    while (j.running > 0) pthread_cond_wait(&j.done, &pool.lock);
    pthread_mutex_unlock(&pool.lock);
    pthread_cond_destroy(&j.done);
  }
}

unsigned vx_default_threads(void) {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
    return (unsigned)CPU_COUNT(&set);
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (unsigned)n : 1;
}

unsigned vx_resolve_threads(unsigned requested) {
  unsigned t = requested ? requested : vx_default_threads();
  return t > VX_MAX_THREADS ? VX_MAX_THREADS : t;
}

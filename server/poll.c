/* The polling threads: each runs one libmicrohttpd daemon (external epoll mode; the daemons share
 * one listening socket) and, before it sleeps in epoll_wait, polls without sleeping for a while.
 *
 * Why: on a virtual machine a thread woken from epoll_wait pays for its idle vCPU's halt and
 * wake-up, tens of microseconds (a loopback ping-pong here: 74 us a round trip with both sides
 * sleeping, 20 us with one side polling). A request that comes while the thread still polls
 * costs none of it. How long to poll adapts as the guest kernel's haltpoll governor does: a
 * sleep that ended within the limit (a longer poll would have caught its event) doubles the
 * window, up to --busy-poll-us; a longer sleep halves it; a poll that catches its event keeps
 * it. So an idle server sleeps, and a busy one rarely does.
 *
 * Two things the daemon's own fds do not always say: a resume that lands while MHD_run is past
 * its look for resumed connections but before it drains its ITC is noticed only at the next
 * event (MHD_get_timeout ignores it), so the worker that resumes a connection also wakes the
 * daemon's thread (vs_pollers_wake); and a daemon at its connection limit takes the listening
 * socket back only when it runs after a connection closes, so a close has it run once more
 * before the thread waits (vs_pollers_run_again). */
#include <limits.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <microhttpd.h>

#include "server.h"

#define WINDOW_FLOOR_NS 10000u /* where a window that grows from 0 starts */
#define WAKE_TAG 1             /* epoll data of a poller's eventfd; the daemon's is 0 */

enum { RUNNING, QUIESCING, EXITING };

typedef struct poller {
  vs_pollers *all;
  struct MHD_Daemon *daemon;
  int epfd;    /* watches the daemon's epoll fd and wake_fd */
  int wake_fd; /* an eventfd: a connection was resumed, or the state changed */
  int quiesced;
  pthread_t thread;
  int started;
} poller;

struct vs_pollers {
  poller *p;
  unsigned n;
  uint64_t max_window_ns;
  atomic_int state;
  atomic_uint quiesced;
};

/* Whether an epoll_wait result is an event (a wake-up is read, so that it fires once). */
static int got_event(poller *p, int n, const struct epoll_event *ev) {
  if (n <= 0) return 0;
  uint64_t count;
  if (ev->data.u32 == WAKE_TAG) {
    ssize_t got = read(p->wake_fd, &count, sizeof count);
    (void)got; /* EAGAIN: another read took it first */
  }
  return 1;
}

/* Waits for the daemon's next event or timeout, polling first for up to *window ns. */
static void wait_for_events(poller *p, uint64_t *window) {
  vs_pollers *all = p->all;
  MHD_UNSIGNED_LONG_LONG ms;
  int timeout = -1;
  if (MHD_get_timeout(p->daemon, &ms) == MHD_YES) timeout = ms > INT_MAX ? INT_MAX : (int)ms;
  if (timeout == 0) return;
  struct epoll_event ev;
  uint64_t start = vs_now_ns(), spin = *window;
  if (timeout > 0 && (uint64_t)timeout * 1000000u < spin) spin = (uint64_t)timeout * 1000000u;
  if (spin) {
    do {
      if (got_event(p, epoll_wait(p->epfd, &ev, 1, 0), &ev)) return;
      sched_yield(); /* poll only on a CPU nothing else wants: a client may share it */
    } while (vs_now_ns() - start < spin);
  }
  if (!got_event(p, epoll_wait(p->epfd, &ev, 1, timeout), &ev) || all->max_window_ns == 0)
    return; /* a timeout or EINTR: nothing learnt */
  uint64_t slept = vs_now_ns() - start;
  if (slept <= all->max_window_ns) {
    uint64_t grown = *window ? *window * 2 : WINDOW_FLOOR_NS;
    *window = grown < all->max_window_ns ? grown : all->max_window_ns;
  } else {
    *window /= 2;
  }
}

/* Set, while this thread runs its daemon, when the daemon must run again before its fds say so. */
static _Thread_local int run_again;

void vs_pollers_run_again(void) { run_again = 1; }

static void *poll_loop(void *arg) {
  poller *p = arg;
  vs_pollers *all = p->all;
  uint64_t window = all->max_window_ns;
  for (;;) {
    run_again = 0;
    MHD_run(p->daemon);
    int state = atomic_load(&all->state); /* every round: closes arriving all along hold up nothing */
    if (state != RUNNING && !p->quiesced) {
      MHD_quiesce_daemon(p->daemon); /* its listening socket is then the server's to close */
      p->quiesced = 1;
      atomic_fetch_add(&all->quiesced, 1);
    }
    if (state == EXITING) break;
    if (!run_again) wait_for_events(p, &window);
  }
  return NULL;
}

static void free_pollers(vs_pollers *all) {
  for (unsigned i = 0; i < all->n; i++) {
    if (all->p[i].epfd >= 0) close(all->p[i].epfd);
    if (all->p[i].wake_fd >= 0) close(all->p[i].wake_fd);
  }
  free(all->p);
  free(all);
}

static int watch(int epfd, int fd, uint32_t tag) {
  struct epoll_event ev = {.events = EPOLLIN, .data.u32 = tag};
  return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

vs_pollers *vs_pollers_new(struct MHD_Daemon *const *daemons, unsigned n, unsigned busy_poll_us) {
  vs_pollers *all = calloc(1, sizeof *all);
  if (!all) return NULL;
  if (!(all->p = calloc(n, sizeof *all->p))) {
    free(all);
    return NULL;
  }
  all->n = n;
  all->max_window_ns = (uint64_t)busy_poll_us * 1000u;
  atomic_init(&all->state, RUNNING);
  atomic_init(&all->quiesced, 0);
  for (unsigned i = 0; i < n; i++) all->p[i].epfd = all->p[i].wake_fd = -1;
  for (unsigned i = 0; i < n; i++) {
    poller *p = &all->p[i];
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemons[i], MHD_DAEMON_INFO_EPOLL_FD);
    p->all = all;
    p->daemon = daemons[i];
    p->epfd = epoll_create1(EPOLL_CLOEXEC);
    p->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (!info || p->epfd < 0 || p->wake_fd < 0 || watch(p->epfd, info->epoll_fd, 0) != 0 ||
        watch(p->epfd, p->wake_fd, WAKE_TAG) != 0) {
      free_pollers(all);
      return NULL;
    }
  }
  return all;
}

int vs_pollers_run(vs_pollers *all) {
  for (unsigned i = 0; i < all->n; i++) {
    if (pthread_create(&all->p[i].thread, NULL, poll_loop, &all->p[i]) != 0) return -1;
    all->p[i].started = 1;
  }
  return 0;
}

static void wake(poller *p) {
  uint64_t one = 1;
  ssize_t written = write(p->wake_fd, &one, sizeof one);
  (void)written; /* fails only on a counter about to overflow: readable already */
}

void vs_pollers_wake(vs_pollers *all, const struct MHD_Daemon *daemon) {
  for (unsigned i = 0; i < all->n; i++)
    if (all->p[i].daemon == daemon) wake(&all->p[i]);
}

/* Sets the state and wakes every thread to see it. */
static void tell(vs_pollers *all, int state) {
  atomic_store(&all->state, state);
  for (unsigned i = 0; i < all->n; i++)
    if (all->p[i].started) wake(&all->p[i]);
}

void vs_pollers_quiesce(vs_pollers *all) {
  unsigned started = 0;
  for (unsigned i = 0; i < all->n; i++) started += (unsigned)all->p[i].started;
  tell(all, QUIESCING);
  while (atomic_load(&all->quiesced) < started) usleep(1000);
}

void vs_pollers_stop(vs_pollers *all) {
  tell(all, EXITING);
  for (unsigned i = 0; i < all->n; i++)
    if (all->p[i].started) pthread_join(all->p[i].thread, NULL);
  free_pollers(all);
}

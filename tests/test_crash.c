/* Crash durability: a child process inserts batches into a SYNC_FULL database (with automatic
 * checkpoints every few batches) and reports each acknowledged batch through a pipe; the parent
 * kills it with SIGKILL at a random moment, reopens the database and checks that every
 * acknowledged batch is present and bit-exact, that the batch in flight is wholly there or not at
 * all, and that nothing else is. VEXFS_CRASH_CYCLES sets the number of kills (default 20; the
 * `stress` suite runs 200). The kill delays come from a seed that the test prints;
 * VEXFS_CRASH_SEED=N replays its delays (the child's pace still varies from run to run). */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/wait.h>
#include <time.h>

#include <cmocka.h>

#include "db_util.h"

#define DIM 16
#define BATCH 40

static void child(const char *path, uint64_t first_batch, int out) {
  vexfs_db_options o;
  vexfs_db_options_init(&o);
  o.wal_checkpoint_bytes = 64 << 10; /* checkpoints happen between kills too */
  vexfs_db *db;
  if (vexfs_db_open(path, &o, &db) != VEXFS_OK) _exit(2);
  vexfs_collection *c;
  if (vexfs_db_get_collection(db, "c", &c) != VEXFS_OK) {
    vexfs_collection_config cfg;
    vexfs_collection_config_init(&cfg);
    cfg.dim = DIM;
    cfg.index = VEXFS_INDEX_HNSW;
    cfg.threads = 1;
    if (vexfs_db_create_collection(db, "c", &cfg, &c) != VEXFS_OK) _exit(3);
  }
  for (uint64_t b = first_batch; b * BATCH + BATCH <= DB_MODEL_IDS; b++) {
    if (db_insert_range(c, b * BATCH, BATCH) != VEXFS_OK) _exit(4);
    if (write(out, &b, sizeof b) != (ssize_t)sizeof b) _exit(5);
  }
  _exit(0); /* out of ids: the parent starts over */
}

/* Opens the database and checks it against the acknowledged batches; returns the next batch. */
static uint64_t verify(const char *path, int64_t last_acked) {
  vexfs_db *db = NULL;
  vexfs_status st = vexfs_db_open(path, NULL, &db);
  if (st != VEXFS_OK) fail_msg("reopen failed: %s", vexfs_last_error());
  vexfs_collection *c;
  db_model m = {0};
  uint64_t next = (uint64_t)(last_acked + 1);
  if (vexfs_db_get_collection(db, "c", &c) == VEXFS_OK) {
    db_model_insert(&m, 0, next * BATCH);
    float v[DIM];
    if (vexfs_get(c, next * BATCH, v) == VEXFS_OK) { /* the batch in flight made it */
      db_model_insert(&m, next * BATCH, BATCH);
      next++;
    }
    assert_true(db_matches(c, &m)); /* all of every batch, nothing more */
  } else {
    assert_true(last_acked < 0);
  }
  db_model_clear(&m);
  assert_int_equal(vexfs_db_close(db), VEXFS_OK);
  return next;
}

static void test_kill_during_inserts(void **state) {
  (void)state;
  const char *env = getenv("VEXFS_CRASH_CYCLES");
  int cycles = env ? atoi(env) : 20;
  char *path = db_tempdir();
  const char *seed_env = getenv("VEXFS_CRASH_SEED");
  uint64_t seed = seed_env ? strtoull(seed_env, NULL, 0)
                          : (uint64_t)time(NULL) ^ (uint64_t)getpid();
  print_message("crash: %d cycles, seed %llu (VEXFS_CRASH_SEED=%llu replays the kill delays)\n",
                cycles, (unsigned long long)seed, (unsigned long long)seed);
  uint64_t next = 0;
  int64_t acked = -1;
  for (int cycle = 0; cycle < cycles; cycle++) {
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    if (pid == 0) {
      close(fds[0]);
      child(path, next, fds[1]);
    }
    close(fds[1]);
    struct timespec delay = {0, (long)(test_rng(&seed) % 40000000)}; /* 0..40 ms */
    nanosleep(&delay, NULL);
    kill(pid, SIGKILL);
    uint64_t b;
    while (read(fds[0], &b, sizeof b) == (ssize_t)sizeof b) acked = (int64_t)b;
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
      fail_msg("cycle %d: the child failed with %d", cycle, WEXITSTATUS(status));
    next = verify(path, acked);
    acked = (int64_t)next - 1;
    if ((next + 1) * BATCH > DB_MODEL_IDS) { /* full: start a fresh database */
      db_rmdir(path);
      free(path);
      path = db_tempdir();
      next = 0;
      acked = -1;
    }
  }
  db_rmdir(path);
  free(path);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_kill_during_inserts)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/* vexctl performance simd: the CPU features found, the level the library uses, and the exact-L2
 * kernel speed of each level the CPU runs. The library picks its level once, when it loads
 * (VEXFS_SIMD caps it), so each level is timed in a child vexctl started with VEXFS_SIMD=LEVEL
 * and the hidden option --measure-kernel, which prints "ISA DISTANCES_PER_S BYTES_PER_S". */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "json_out.h"
#include "perf_commands.h"

#define CMD "performance simd"
#define KERNEL_DIM 768
#define KERNEL_ROWS 2048
#define KERNEL_SECONDS 0.3 /* timed per level, after one warm-up search */
#define MAX_FEATURES 16

extern char **environ;

typedef struct feature {
  const char *name;
  int present;
} feature;

/* A level the library can be capped to, and the CPU features it needs. */
#define LEVEL_NEEDS 6
typedef struct level {
  const char *name;
  const char *needs[LEVEL_NEEDS];
} level;

#if defined(__x86_64__) || defined(__i386__)
#define HAVE(name) ((feature){name, __builtin_cpu_supports(name) != 0})
/* The compilers that know f16c, avxvnni, avx512bf16 and avx512fp16 in __builtin_cpu_supports
 * (clang 14 refuses them; the strings of the others are older than both compilers' minimum
 * here). */
#if (defined(__clang__) && __clang_major__ >= 16) || (!defined(__clang__) && __GNUC__ >= 12)
#define KNOWS_16BIT_FEATURES 1
#endif
static size_t cpu_features(feature *out) {
  size_t n = 0;
  __builtin_cpu_init();
  out[n++] = HAVE("sse4.2");
  out[n++] = HAVE("avx");
  out[n++] = HAVE("avx2");
  out[n++] = HAVE("fma");
#ifdef KNOWS_16BIT_FEATURES
  out[n++] = HAVE("f16c");
#endif
  out[n++] = HAVE("avx512f");
  out[n++] = HAVE("avx512bw");
  out[n++] = HAVE("avx512vl");
  out[n++] = HAVE("avx512dq");
  out[n++] = HAVE("avx512vnni");
#ifdef KNOWS_16BIT_FEATURES
  out[n++] = HAVE("avxvnni");
  out[n++] = HAVE("avx512bf16");
  out[n++] = HAVE("avx512fp16");
#endif
  return n;
}
static const level levels[] = {{"scalar", {NULL}},
                               {"avx2", {"avx2", "fma", NULL}},
                               {"avx2vnni", {"avx2", "fma", "avxvnni", NULL}},
                               {"avx512", {"avx512f", "avx512bw", "avx512vl", "avx512dq"}},
                               {"avx512vnni", {"avx512f", "avx512bw", "avx512vl", "avx512dq",
                                               "avx512vnni"}}};
#elif defined(__aarch64__)
static size_t cpu_features(feature *out) {
  out[0] = (feature){"neon", 1}; /* Advanced SIMD is part of every AArch64 CPU */
  return 1;
}
static const level levels[] = {{"scalar", {NULL}}, {"neon", {"neon", NULL}}};
#else
static size_t cpu_features(feature *out) {
  (void)out;
  return 0;
}
static const level levels[] = {{"scalar", {NULL}}};
#endif
#define LEVELS (sizeof levels / sizeof *levels)

static int has_feature(const feature *f, size_t n, const char *name) {
  for (size_t i = 0; i < n; i++)
    if (!strcmp(f[i].name, name)) return f[i].present;
  return 0;
}

/* The child's side: times exact L2 searches over a flat collection on one thread. */
static int measure_kernel(void) {
  vexfs_collection_config cfg;
  vexfs_collection_config_init(&cfg);
  cfg.dim = KERNEL_DIM;
  cfg.index = VEXFS_INDEX_FLAT;
  cfg.threads = 1;
  vexfs_collection *c;
  vexfs_status st = vexfs_collection_create(&cfg, &c);
  if (st != VEXFS_OK) return vc_lib_fail(CMD, "creating the collection", st);
  float *rows = malloc((size_t)KERNEL_ROWS * KERNEL_DIM * sizeof *rows);
  uint64_t *ids = malloc(KERNEL_ROWS * sizeof *ids);
  int rc = VC_OK;
  if (!rows || !ids) rc = vc_fail(CMD, "out of memory");
  uint64_t state = 42;
  for (size_t i = 0; rc == VC_OK && i < (size_t)KERNEL_ROWS * KERNEL_DIM; i++) {
    state = state * 6364136223846793005u + 1442695040888963407u; /* an LCG: values in [-1, 1) */
    rows[i] = (float)((double)(state >> 11) * 0x1p-52 - 1);
  }
  for (size_t i = 0; rc == VC_OK && i < KERNEL_ROWS; i++) ids[i] = i;
  if (rc == VC_OK && (st = vexfs_insert(c, ids, rows, KERNEL_ROWS)) != VEXFS_OK)
    rc = vc_lib_fail(CMD, "loading the rows", st);
  if (rc == VC_OK) {
    vexfs_search_params p;
    vexfs_search_params_init(&p);
    p.exact = 1;
    p.threads = 1;
    uint64_t id;
    float d;
    const float *query = rows + (size_t)(KERNEL_ROWS / 2) * KERNEL_DIM;
    st = vexfs_search(c, query, 1, 1, &p, &id, &d, NULL); /* warm-up */
    uint64_t calls = 0;
    double t0 = vc_now(), elapsed = 0;
    while (st == VEXFS_OK && elapsed < KERNEL_SECONDS) {
      st = vexfs_search(c, query, 1, 1, &p, &id, &d, NULL);
      calls++;
      elapsed = vc_now() - t0;
    }
    if (st != VEXFS_OK) rc = vc_lib_fail(CMD, "searching", st);
    else {
      double per_s = (double)calls * KERNEL_ROWS / elapsed;
      printf("%s %.6g %.6g\n", vexfs_simd_isa(), per_s, per_s * KERNEL_DIM * sizeof(float));
    }
  }
  free(rows);
  free(ids);
  vexfs_collection_free(c);
  return rc;
}

typedef struct kernel_speed {
  const char *level;
  int runnable;
  char isa[16];             /* what the child's library chose */
  double per_s, bytes_per_s;
} kernel_speed;

/* environ without VEXFS_SIMD, plus VEXFS_SIMD=level; NULL when out of memory. */
static char **child_environment(const char *level, char *setting, size_t size) {
  size_t n = 0;
  while (environ[n]) n++;
  char **env = malloc((n + 2) * sizeof *env);
  if (!env) return NULL;
  size_t m = 0;
  for (size_t i = 0; i < n; i++)
    if (strncmp(environ[i], "VEXFS_SIMD=", 11)) env[m++] = environ[i];
  snprintf(setting, size, "VEXFS_SIMD=%s", level);
  env[m++] = setting;
  env[m] = NULL;
  return env;
}

/* Starts a child vexctl capped to s->level and reads its figures. */
static int measure_level(kernel_speed *s) {
  char setting[64];
  char **env = child_environment(s->level, setting, sizeof setting);
  if (!env) return vc_fail(CMD, "out of memory");
  int fds[2];
  if (pipe(fds) != 0) {
    free(env);
    return vc_fail(CMD, "pipe: %s", strerror(errno));
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addclose(&fa, fds[0]);
  posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&fa, fds[1]);
  char *args[] = {"vexctl", "performance", "simd", "--measure-kernel", NULL};
  pid_t pid;
  int e = posix_spawn(&pid, "/proc/self/exe", &fa, NULL, args, env);
  posix_spawn_file_actions_destroy(&fa);
  free(env);
  close(fds[1]);
  if (e) {
    close(fds[0]);
    return vc_fail(CMD, "starting /proc/self/exe for %s: %s", s->level, strerror(e));
  }
  char out[256];
  size_t len = 0;
  for (ssize_t got; len < sizeof out - 1 && (got = read(fds[0], out + len, sizeof out - 1 - len));) {
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) break;
    len += (size_t)got;
  }
  out[len] = 0;
  close(fds[0]);
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
      sscanf(out, "%15s %lf %lf", s->isa, &s->per_s, &s->bytes_per_s) != 3)
    return vc_fail(CMD, "measuring %s: the child vexctl failed (status %d)", s->level,
                   WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  return VC_OK;
}

static void missing_list(char *buf, size_t size, const level *l, const feature *f, size_t nf) {
  size_t used = 0;
  buf[0] = 0;
  for (int i = 0; i < LEVEL_NEEDS && l->needs[i]; i++)
    if (!has_feature(f, nf, l->needs[i]) && used < size)
      used += (size_t)snprintf(buf + used, size - used, "%s%s", used ? ", " : "", l->needs[i]);
}

static void print_text(const feature *f, size_t nf, const kernel_speed *k) {
  printf("CPU features  ");
  for (size_t i = 0; i < nf; i++)
    if (f[i].present) printf(" %s", f[i].name);
  printf("\nnot found     ");
  for (size_t i = 0; i < nf; i++)
    if (!f[i].present) printf(" %s", f[i].name);
  const char *env = getenv("VEXFS_SIMD");
  printf("\nlevel in use   %s", vexfs_simd_isa());
  if (env) printf(" (capped by VEXFS_SIMD=%s)", env);
  printf("\n\nexact L2 kernel, %d-d rows, %d rows, one thread:\n", KERNEL_DIM, KERNEL_ROWS);
  for (size_t i = 0; i < LEVELS; i++) {
    char missing[128];
    if (!k[i].runnable) {
      missing_list(missing, sizeof missing, &levels[i], f, nf);
      printf("  %-7s skipped: the CPU lacks %s\n", k[i].level, missing);
      continue;
    }
    printf("  %-7s %9.2f M distances/s  %7.2f GB/s", k[i].level, k[i].per_s / 1e6,
           k[i].bytes_per_s / 1e9);
    if (strcmp(k[i].isa, k[i].level)) printf("  (the library ran %s)", k[i].isa);
    printf("\n");
  }
}

static void print_json(const feature *f, size_t nf, const kernel_speed *k) {
  vc_json j;
  vcj_init(&j, stdout);
  vcj_object(&j, NULL);
  vcj_object(&j, "features");
  for (size_t i = 0; i < nf; i++) vcj_bool(&j, f[i].name, f[i].present);
  vcj_end(&j);
  vcj_str(&j, "simd_isa", vexfs_simd_isa());
  vcj_str(&j, "vexfs_simd_env", getenv("VEXFS_SIMD"));
  vcj_u64(&j, "dim", KERNEL_DIM);
  vcj_u64(&j, "rows", KERNEL_ROWS);
  vcj_array(&j, "kernels");
  for (size_t i = 0; i < LEVELS; i++) {
    vcj_object(&j, NULL);
    vcj_str(&j, "level", k[i].level);
    vcj_bool(&j, "measured", k[i].runnable);
    if (k[i].runnable) {
      vcj_str(&j, "isa", k[i].isa);
      vcj_double(&j, "distances_per_sec", k[i].per_s);
      vcj_double(&j, "gb_per_sec", k[i].bytes_per_s / 1e9);
    } else {
      vcj_array(&j, "missing");
      for (int n = 0; n < LEVEL_NEEDS && levels[i].needs[n]; n++)
        if (!has_feature(f, nf, levels[i].needs[n])) vcj_str(&j, NULL, levels[i].needs[n]);
      vcj_end(&j);
    }
    vcj_end(&j);
  }
  vcj_end(&j);
  vcj_end(&j);
}

int vc_perf_simd(int argc, char **argv) {
  enum { OPT_JSON = 256, OPT_MEASURE };
  static const struct option longopts[] = {{"json", no_argument, NULL, OPT_JSON},
                                           {"measure-kernel", no_argument, NULL, OPT_MEASURE},
                                           {NULL, 0, NULL, 0}};
  int json = 0, measure = 0;
  opterr = 0;
  optind = 1;
  for (int c; (c = getopt_long(argc, argv, "", longopts, NULL)) != -1;) {
    if (c == OPT_JSON) json = 1;
    else if (c == OPT_MEASURE) measure = 1;
    else return vc_bad_option(CMD, argc, argv);
  }
  if (optind < argc) return vc_usage(CMD, "unexpected argument '%s'", argv[optind]);
  if (measure) return measure_kernel();

  feature f[MAX_FEATURES];
  size_t nf = cpu_features(f);
  kernel_speed k[LEVELS];
  memset(k, 0, sizeof k);
  for (size_t i = 0; i < LEVELS; i++) {
    k[i].level = levels[i].name;
    k[i].runnable = 1;
    for (int n = 0; n < LEVEL_NEEDS && levels[i].needs[n]; n++)
      if (!has_feature(f, nf, levels[i].needs[n])) k[i].runnable = 0;
    if (k[i].runnable && measure_level(&k[i]) != VC_OK) return VC_FAIL;
  }
  if (json) print_json(f, nf, k);
  else print_text(f, nf, k);
  return VC_OK;
}

/* vexctl: what every command shares — the command table entry, error reporting in one format,
 * option values, and opening a database. vexctl uses libvexfs's public API only.
 *
 * Exit codes: VC_OK 0, VC_FAIL 1 (the command failed; the reason is on stderr), VC_USAGE 2 (the
 * command line is wrong). Every message goes to stderr as "vexctl: COMMAND: detail". */
#ifndef VEXCTL_CLI_H
#define VEXCTL_CLI_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <vexfs/vexfs.h>

struct option; /* <getopt.h> */

#define VC_OK 0
#define VC_FAIL 1
#define VC_USAGE 2

typedef struct vc_command {
  const char *name;     /* as typed: "create", "performance", "bench" */
  const char *summary;  /* one line for `vexctl help` */
  const char *help;     /* the whole text for `vexctl help NAME` and `NAME --help`, from "usage:" */
  int (*run)(int argc, char **argv); /* argv[0] is the command's name; returns an exit code */
} vc_command;

/* Prints "vexctl: cmd: <formatted>\n" on stderr and returns VC_FAIL. */
int vc_fail(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints "vexctl: cmd: <formatted>\nTry 'vexctl help cmd'.\n" on stderr and returns VC_USAGE. */
int vc_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* For a failed library call: "vexctl: cmd: <what>: <vexfs_last_error(), or the status's text>".
 * Returns VC_FAIL. */
int vc_lib_fail(const char *cmd, const char *what, vexfs_status st);

/* Prints a command's help text on stdout; returns VC_OK. */
int vc_print_help(const vc_command *c);

/* For the file readers and writers, which say what went wrong in a buffer: formats into err
 * (errlen bytes) and returns -1. */
int vc_errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Option values. Each returns 0, or -1 when s is not one (nothing written then). */
int vc_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out); /* decimal */
int vc_parse_double(const char *s, double *out);                            /* finite */
/* A duration: "250ms", "60s", "5m", "1h", or a plain number of seconds ("1.5"); > 0. */
int vc_parse_duration_ms(const char *s, uint64_t *ms);
int vc_parse_metric(const char *s, vexfs_metric *out);          /* l2 | ip | cosine */
int vc_parse_index(const char *s, vexfs_index_kind *out);       /* auto|flat|hnsw|lsh|ivf */
int vc_parse_sync(const char *s, vexfs_sync_mode *out);         /* off | normal | full */
/* A comma-separated list of at most max positive integers ("10,20,40"); returns the count or -1. */
int vc_parse_u32_list(const char *s, uint32_t *out, int max);
const char *vc_metric_name(vexfs_metric m);     /* "l2", "ip", "cosine", "?" */
const char *vc_index_name(vexfs_index_kind k);  /* "auto", "flat", ... "?" */

/* Opens the database in directory path. Unless `create` is set the directory must already hold
 * a database (a typo must not leave an empty one behind): otherwise "PATH: no vexfs database
 * there"; with it, a missing database is created. writable = 0 opens read-only (other readers
 * may share it). sync: the durability of this process's writes (VEXFS_SYNC_FULL, the library's
 * default, where nothing is written). Returns VC_OK with *db set, or VC_FAIL after saying why. */
int vc_open_db(const char *cmd, const char *path, int writable, int create, vexfs_sync_mode sync,
               vexfs_db **db);
/* vc_open_db, then the collection called name (borrowed from *db); on failure *db is closed. */
int vc_open_collection(const char *cmd, const char *path, const char *name, int writable,
                       vexfs_db **db, vexfs_collection **c);
/* Closes db; a failure is reported (the final checkpoint) and turns *rc into VC_FAIL. */
void vc_close_db(const char *cmd, vexfs_db *db, int *rc);

/* Whether stdout / stderr is a terminal (progress bars and live views draw only there). */
int vc_stdout_tty(void);
int vc_stderr_tty(void);
/* Writes the formatted text to f as one terminal line: cut to the width of the terminal f is
 * (so that it never wraps and a redraw in place finds its lines where it left them), then the
 * rest of the line cleared ("\033[K"); newline adds "\n". */
void vc_term_line(FILE *f, int newline, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Monotonic time in seconds. */
double vc_now(void);

/* getopt_long's opterr is off everywhere: commands report bad options themselves with this.
 * argv[optind - 1] was the offending word; optopt the short option. */
int vc_bad_option(const char *cmd, int argc, char **argv);
/* After the options: the words left, argv[optind..argc), must number min..max; `expected` names
 * them ("DB [NAME]"): "expected DB [NAME]" when fewer, "unexpected argument after DB [NAME]"
 * when more. VC_OK or VC_USAGE. */
int vc_positionals(const char *cmd, int argc, int min, int max, const char *expected);
/* The words DB NAME FILE after the options (import, export): exactly three, else the usage error
 * "expected DB NAME FILE". VC_OK or VC_USAGE. */
int vc_db_name_file(const char *cmd, int argc, char **argv, const char **db, const char **name,
                    const char **file);
/* A command line of flags (each long option sets its int through `flag`) and words: runs
 * getopt_long over argv, then vc_positionals. VC_OK, or VC_USAGE after saying why. */
int vc_parse_flags(const char *cmd, int argc, char **argv, const struct option *longopts, int min,
                   int max, const char *expected);

/* The library's rule for collection names (1..VEXFS_MAX_NAME bytes of letters, digits, '_', '-'
 * and '.', not starting with '.'), checked before anything touches the disk: VC_OK, or
 * VC_USAGE after saying so. */
int vc_check_name(const char *cmd, const char *name);

/* Opens path for reading if it is a regular file: the file descriptor, or -1 with the reason in
 * err ("not a regular file", or the system's). Never waits: a FIFO is refused, not opened for
 * reading until a writer comes. */
int vc_open_regular(const char *path, char *err, size_t errlen);

/* Lets the library judge cfg before anything touches the disk: builds and frees an in-memory
 * collection. Returns VC_OK, VC_USAGE after printing the library's reason for refusing it (a
 * value out of range is a usage error), or VC_FAIL (out of memory). */
int vc_check_config(const char *cmd, const vexfs_collection_config *cfg);

#endif

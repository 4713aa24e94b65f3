/* vexctl: the command-line tool of libvexfs, as sqlite3 is SQLite's shell.
 *
 *   vexctl COMMAND [ARGS...]      vexctl help [COMMAND]      vexctl COMMAND --help
 *
 * Exit codes: 0 ok, 1 the command failed (why is on stderr), 2 a usage error. */
#include <stdio.h>
#include <string.h>

#include "commands.h"

static const vc_command *const commands[] = {
    &vc_cmd_create, &vc_cmd_list,   &vc_cmd_info,   &vc_cmd_drop,        &vc_cmd_checkpoint,
    &vc_cmd_check,  &vc_cmd_index,  &vc_cmd_import, &vc_cmd_export,      &vc_cmd_search,
    &vc_cmd_performance, &vc_cmd_bench,
};
#define COMMANDS (sizeof commands / sizeof *commands)

/* The old VexFS's commands for its kernel module and FUSE mount; a library has neither. */
static const char *const not_for_a_library[] = {"fuse", "mount", "umount", "unmount", "stack",
                                                "bridge", "kernel"};

static void list_commands(FILE *f) {
  fprintf(f, "usage: vexctl COMMAND [ARGS...]\n"
             "       vexctl help [COMMAND]   (or: vexctl COMMAND --help)\n\n"
             "libvexfs %s: look inside, load, search and measure vexfs databases.\n"
             "DB is a database directory; NAME a collection in it.\n\ncommands:\n",
          vexfs_version_string());
  for (size_t i = 0; i < COMMANDS; i++) fprintf(f, "  %-13s %s\n", commands[i]->name, commands[i]->summary);
  fprintf(f, "  %-13s %s\n", "help", "this list, or one command's help");
  fprintf(f, "  %-13s %s\n", "version", "the vexctl and libvexfs versions");
  fprintf(f, "\nExit status: 0 ok, 1 failure (said on stderr), 2 usage error.\n");
}

static const vc_command *find(const char *name) {
  for (size_t i = 0; i < COMMANDS; i++)
    if (!strcmp(commands[i]->name, name)) return commands[i];
  return NULL;
}

static int unknown(const char *name) {
  for (size_t i = 0; i < sizeof not_for_a_library / sizeof *not_for_a_library; i++)
    if (!strcmp(name, not_for_a_library[i])) {
      fprintf(stderr, "vexctl: %s: does not apply to a library: libvexfs has no kernel module, "
                      "FUSE mount, stack or bridge (the old VexFS server had them)\n", name);
      return VC_USAGE;
    }
  fprintf(stderr, "vexctl: '%s' is not a command. Try 'vexctl help'.\n", name);
  return VC_USAGE;
}

static const char version_help[] =
    "usage: vexctl version\n\n"
    "Prints the versions of vexctl and of the libvexfs it loaded, and the SIMD level its\n"
    "distance kernels use.\n";

static const char help_help[] =
    "usage: vexctl help [COMMAND]\n\n"
    "Lists the commands, or prints COMMAND's help (the same as `vexctl COMMAND --help`).\n";

static int help(int argc, char **argv) {
  if (argc < 3) {
    list_commands(stdout);
    return VC_OK;
  }
  if (!strcmp(argv[2], "help") || !strcmp(argv[2], "--help") || !strcmp(argv[2], "-h")) {
    fputs(help_help, stdout);
    return VC_OK;
  }
  if (!strcmp(argv[2], "version")) {
    fputs(version_help, stdout);
    return VC_OK;
  }
  const vc_command *c = find(argv[2]);
  return c ? vc_print_help(c) : unknown(argv[2]);
}

static int version(int argc, char **argv) {
  if (argc > 2) {
    if (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h")) {
      fputs(version_help, stdout);
      return VC_OK;
    }
    return vc_usage("version", "takes no arguments");
  }
  printf("vexctl %s (libvexfs %s, kernels: %s)\n", VEXFS_VERSION_STRING, vexfs_version_string(),
         vexfs_simd_isa());
  return VC_OK;
}

/* Whether `--help` (or -h) comes before any "--" among the command's words. */
static int asks_for_help(int argc, char **argv) {
  for (int i = 2; i < argc; i++) {
    if (!strcmp(argv[i], "--")) return 0;
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return 1;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    list_commands(stderr);
    return VC_USAGE;
  }
  const char *name = argv[1];
  if (!strcmp(name, "help") || !strcmp(name, "--help") || !strcmp(name, "-h")) return help(argc, argv);
  if (!strcmp(name, "version") || !strcmp(name, "--version")) return version(argc, argv);
  const vc_command *c = find(name);
  if (!c) return unknown(name);
  if (asks_for_help(argc, argv)) return vc_print_help(c);
  return c->run(argc - 1, argv + 1);
}

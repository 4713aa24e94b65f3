/* vexctl: the commands, one vc_command each, defined beside their code. */
#ifndef VEXCTL_COMMANDS_H
#define VEXCTL_COMMANDS_H
#include "cli.h"

extern const vc_command vc_cmd_create, vc_cmd_list, vc_cmd_info, vc_cmd_drop, vc_cmd_checkpoint,
    vc_cmd_check, vc_cmd_index;                      /* cmd_db.c */
extern const vc_command vc_cmd_import;               /* cmd_import.c */
extern const vc_command vc_cmd_export;               /* cmd_export.c */
extern const vc_command vc_cmd_search;               /* cmd_search.c */
extern const vc_command vc_cmd_performance;          /* cmd_performance.c */
extern const vc_command vc_cmd_bench;                /* cmd_bench.c */

#endif

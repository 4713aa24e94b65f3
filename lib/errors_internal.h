/* Status codes and the thread-local last-error message. */
#ifndef VEXFS_ERRORS_INTERNAL_H
#define VEXFS_ERRORS_INTERNAL_H

#include "vexfs/vexfs.h"

#define VX_ERROR_MAX 512 /* bytes of a last-error message, NUL included */

/* Records a printf-style message as this thread's last error and returns status, so that a
 * failing path reads `return vx_fail(VEXFS_E_INVALID, "vexfs_insert: row %zu: ...", i);`. The arguments may include
 * vexfs_last_error() itself (to prefix or wrap an earlier message). */
vexfs_status vx_fail(vexfs_status status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif

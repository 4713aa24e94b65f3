/* Status strings and the per-thread last-error message. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "errors_internal.h"

static _Thread_local char last_error[VX_ERROR_MAX];

/* Per status: its enumerator's name and a short description, in status order. */
static const struct {
  const char *name, *text;
} statuses[] = {
    [VEXFS_OK] = {"VEXFS_OK", "ok"},
    [VEXFS_E_INVALID] = {"VEXFS_E_INVALID", "invalid argument"},
    [VEXFS_E_NOMEM] = {"VEXFS_E_NOMEM", "out of memory"},
    [VEXFS_E_DIMENSION] = {"VEXFS_E_DIMENSION", "dimension mismatch"},
    [VEXFS_E_NOT_FOUND] = {"VEXFS_E_NOT_FOUND", "not found"},
    [VEXFS_E_EXISTS] = {"VEXFS_E_EXISTS", "already exists"},
    [VEXFS_E_IO] = {"VEXFS_E_IO", "I/O error"},
    [VEXFS_E_CORRUPT] = {"VEXFS_E_CORRUPT", "data is corrupt"},
    [VEXFS_E_UNSUPPORTED] = {"VEXFS_E_UNSUPPORTED", "not supported"},
    [VEXFS_E_READONLY] = {"VEXFS_E_READONLY", "read-only"},
    [VEXFS_E_STATE] = {"VEXFS_E_STATE", "not allowed in the current state"},
    [VEXFS_E_BUSY] = {"VEXFS_E_BUSY", "database is busy (open for writing elsewhere)"},
};

static int known(vexfs_status s) {
  return (unsigned)s < sizeof statuses / sizeof statuses[0] && statuses[s].name;
}

VEXFS_API const char *vexfs_status_string(vexfs_status s) {
  return known(s) ? statuses[s].text : "unknown status";
}

VEXFS_API const char *vexfs_status_name(vexfs_status s) {
  return known(s) ? statuses[s].name : "VEXFS_E_UNKNOWN";
}

VEXFS_API const char *vexfs_last_error(void) { return last_error; }

vexfs_status vx_fail(vexfs_status status, const char *fmt, ...) {
  /* Formatted aside first: callers often pass vexfs_last_error() itself as an argument, and
   * vsnprintf must not write the buffer it reads from. */
  char message[VX_ERROR_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(message, sizeof message, fmt, ap);
  va_end(ap);
  memcpy(last_error, message, sizeof message);
  return status;
}

/* Status strings and the per-thread last-error message. */
#include <stdarg.h>
#include <stdio.h>

#include "errors_internal.h"

static _Thread_local char last_error[VX_ERROR_MAX];

VEXFS_API const char *vexfs_status_string(vexfs_status s) {
  switch (s) {
  case VEXFS_OK: return "ok";
  case VEXFS_E_INVALID: return "invalid argument";
  case VEXFS_E_NOMEM: return "out of memory";
  case VEXFS_E_DIMENSION: return "dimension mismatch";
  case VEXFS_E_NOT_FOUND: return "not found";
  case VEXFS_E_EXISTS: return "already exists";
  case VEXFS_E_IO: return "I/O error";
  case VEXFS_E_CORRUPT: return "data is corrupt";
  case VEXFS_E_UNSUPPORTED: return "not supported";
  case VEXFS_E_READONLY: return "read-only";
  case VEXFS_E_STATE: return "not allowed in the current state";
  case VEXFS_E_BUSY: return "database is busy (open for writing elsewhere)";
  }
  return "unknown status";
}

VEXFS_API const char *vexfs_last_error(void) { return last_error; }

vexfs_status vx_fail(vexfs_status status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(last_error, sizeof last_error, fmt, ap);
  va_end(ap);
  return status;
}

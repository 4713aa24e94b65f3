/* Versioned public structs (see versioned.h). */
#include "versioned.h"

#include <inttypes.h>
#include <string.h>

#include "errors_internal.h"

static uint32_t size_of(const void *theirs) {
  uint32_t size;
  memcpy(&size, theirs, sizeof size);
  return size;
}

void vx_versioned_init(void *theirs, size_t size, const void *defaults, size_t ours_size) {
  if (!theirs || size < sizeof(uint32_t) || size > VX_STRUCT_SIZE_MAX) return;
  size_t common = size < ours_size ? size : ours_size;
  memcpy(theirs, defaults, common);
  memset((unsigned char *)theirs + common, 0, size - common);
  uint32_t stamp = (uint32_t)size;
  memcpy(theirs, &stamp, sizeof stamp);
}

vexfs_status vx_versioned_check(const char *fn, const char *what, const void *theirs,
                                size_t first) {
  uint32_t size = size_of(theirs);
  if (size >= first && size <= VX_STRUCT_SIZE_MAX) return VEXFS_OK;
  return vx_fail(VEXFS_E_INVALID,
                 "%s: %s->struct_size is %" PRIu32 "; it must be %zu..%u: fill %s with its "
                 "_init() first",
                 fn, what, size, first, VX_STRUCT_SIZE_MAX, what);
}

vexfs_status vx_versioned_read(const char *fn, const char *what, void *ours, size_t ours_size,
                               size_t first, const void *theirs) {
  vexfs_status st = vx_versioned_check(fn, what, theirs, first);
  if (st != VEXFS_OK) return st;
  uint32_t size = size_of(theirs);
  const unsigned char *bytes = theirs;
  for (size_t at = ours_size; at < size; at++)
    if (bytes[at])
      return vx_fail(VEXFS_E_UNSUPPORTED,
                     "%s: %s sets a field at byte %zu, which libvexfs %s does not have (its "
                     "struct is %zu bytes): a newer version is needed",
                     fn, what, at, VEXFS_VERSION_STRING, ours_size);
  uint32_t keep = size_of(ours);
  memcpy(ours, theirs, size < ours_size ? size : ours_size);
  memcpy(ours, &keep, sizeof keep);
  return VEXFS_OK;
}

vexfs_status vx_versioned_write(const char *fn, const char *what, void *theirs, size_t first,
                                const void *ours, size_t ours_size) {
  vexfs_status st = vx_versioned_check(fn, what, theirs, first);
  if (st != VEXFS_OK) return st;
  uint32_t size = size_of(theirs);
  size_t common = size < ours_size ? size : ours_size;
  memcpy(theirs, ours, common);
  memset((unsigned char *)theirs + common, 0, size - common);
  memcpy(theirs, &size, sizeof size);
  return VEXFS_OK;
}

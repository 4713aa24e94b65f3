/* Runtime version of the loaded library. */
#include "vexfs/vexfs.h"

VEXFS_API uint32_t vexfs_version_number(void) { return VEXFS_VERSION_NUMBER; }

VEXFS_API const char *vexfs_version_string(void) { return VEXFS_VERSION_STRING; }

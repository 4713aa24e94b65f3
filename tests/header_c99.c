/* The public header compiles cleanly as strict C99 (-std=c99 -pedantic -Wall -Wextra -Werror),
 * and its version macros agree with the library's runtime answers. */
#include <vexfs/vexfs.h>
#include <string.h>

int main(void) {
  vexfs_collection_config cfg;
  vexfs_collection_config_init(&cfg);
  if (vexfs_version_number() != VEXFS_VERSION_NUMBER) return 1;
  if (strcmp(vexfs_version_string(), VEXFS_VERSION_STRING) != 0) return 1;
  return cfg.struct_size == sizeof cfg ? 0 : 1;
}

// The public header compiles as C++ (-pedantic -Wall -Wextra -Werror) and links with C linkage.
#include <vexfs/vexfs.h>

#include <cstring>

int main() {
  vexfs_search_params p;
  vexfs_search_params_init(&p);
  vexfs_collection *c = nullptr;
  vexfs_collection_free(c);
  if (std::strcmp(vexfs_status_string(VEXFS_E_DIMENSION), "dimension mismatch") != 0) return 1;
  return p.struct_size == sizeof p ? 0 : 1;
}

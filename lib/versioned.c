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

/* The collection config took 32 bytes before hnsw_seed (pre-release callers), 0.1.0's size
 * until 0.3.0's LSH and IVF fields, then 0.3.0's until 0.6.0's storage; search params 20 without their tail padding, then 0.1.0's
 * size until 0.3.0's probes, then 0.3.0's until 0.4.0's exact; metrics 0.1.0's size until
 * 0.6.0's memory_mapped. Every other struct is as 0.1.0 had it. */
const vx_struct_kind vx_config_kind = {
    sizeof(vexfs_collection_config),
    {offsetof(vexfs_collection_config, threads) + sizeof(uint32_t), VX_CONFIG_SIZE_0_1,
     VX_CONFIG_SIZE_0_3}};
const vx_struct_kind vx_params_kind = {
    sizeof(vexfs_search_params),
    {offsetof(vexfs_search_params, threads) + sizeof(uint32_t), VX_PARAMS_SIZE_0_1,
     VX_PARAMS_SIZE_0_3}};
const vx_struct_kind vx_db_options_kind = {sizeof(vexfs_db_options), {0}};
const vx_struct_kind vx_allocator_kind = {sizeof(vexfs_allocator), {0}};
const vx_struct_kind vx_pool_config_kind = {sizeof(vexfs_pool_config), {0}};
const vx_struct_kind vx_pool_stats_kind = {sizeof(vexfs_pool_stats), {0}};
const vx_struct_kind vx_metrics_kind = {sizeof(vexfs_metrics), {VX_METRICS_SIZE_0_1}};

/* New fields start past the former sizeof, never in its tail padding (see versioned.h). */
_Static_assert(offsetof(vexfs_collection_config, lsh_tables) >= VX_CONFIG_SIZE_0_1,
               "0.3.0's config fields follow 0.1.0's struct");
_Static_assert(offsetof(vexfs_collection_config, storage) >= VX_CONFIG_SIZE_0_3,
               "0.6.0's config fields follow 0.3.0's struct");
_Static_assert(offsetof(vexfs_metrics, memory_mapped) >= VX_METRICS_SIZE_0_1,
               "0.6.0's metrics follow 0.1.0's struct");
_Static_assert(offsetof(vexfs_search_params, probes) >= VX_PARAMS_SIZE_0_1,
               "0.3.0's search fields follow 0.1.0's struct");
_Static_assert(offsetof(vexfs_search_params, exact) >= VX_PARAMS_SIZE_0_3,
               "0.4.0's search fields follow 0.3.0's struct");
_Static_assert(sizeof(vexfs_search_params) == VX_SIZE_UP_TO(vexfs_search_params, padding_0_4),
               "search params end without tail padding");

static int known_size(const vx_struct_kind *kind, uint32_t size) {
  if (size >= kind->size) return size <= VX_STRUCT_SIZE_MAX;
  for (size_t i = 0; i < VX_EARLIER_MAX && kind->earlier[i]; i++)
    if (size == kind->earlier[i]) return 1;
  return 0;
}

vexfs_status vx_versioned_check(const char *fn, const char *what, const vx_struct_kind *kind,
                                const void *theirs) {
  uint32_t size = size_of(theirs);
  if (known_size(kind, size)) return VEXFS_OK;
  return vx_fail(VEXFS_E_INVALID,
                 "%s: %s->struct_size is %" PRIu32 ", the size of no version of this struct "
                 "(this one's is %zu): fill %s with its _init() first",
                 fn, what, size, kind->size, what);
}

vexfs_status vx_versioned_read(const char *fn, const char *what, const vx_struct_kind *kind,
                               void *ours, const void *theirs) {
  vexfs_status st = vx_versioned_check(fn, what, kind, theirs);
  if (st != VEXFS_OK) return st;
  uint32_t size = size_of(theirs);
  const unsigned char *bytes = theirs;
  for (size_t at = kind->size; at < size; at++)
    if (bytes[at])
      return vx_fail(VEXFS_E_UNSUPPORTED,
                     "%s: %s sets a field at byte %zu, which libvexfs %s does not have (its "
                     "struct is %zu bytes): a newer version is needed",
                     fn, what, at, VEXFS_VERSION_STRING, kind->size);
  uint32_t keep = size_of(ours);
  memcpy(ours, theirs, size < kind->size ? size : kind->size);
  memcpy(ours, &keep, sizeof keep);
  return VEXFS_OK;
}

vexfs_status vx_versioned_write(const char *fn, const char *what, const vx_struct_kind *kind,
                                void *theirs, const void *ours) {
  vexfs_status st = vx_versioned_check(fn, what, kind, theirs);
  if (st != VEXFS_OK) return st;
  uint32_t size = size_of(theirs);
  size_t common = size < kind->size ? size : kind->size;
  memcpy(theirs, ours, common);
  memset((unsigned char *)theirs + common, 0, size - common);
  memcpy(theirs, &size, sizeof size);
  return VEXFS_OK;
}

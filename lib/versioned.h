/* The versioned-struct rule of the public header ("Stability"), in one place: every public
 * struct starts with uint32_t struct_size, the caller's sizeof, which may be smaller than ours
 * (a program built against an older header) or larger (a newer one).
 *   - _init fills exactly the caller's size: the fields both sides know get our defaults, any
 *     beyond ours are zeroed;
 *   - an input struct is read as far as both know; a caller's bytes past our fields must be zero
 *     (as _init leaves them), for a nonzero one is a newer feature this library would silently
 *     ignore: VEXFS_E_UNSUPPORTED instead (Linux's copy_struct_from_user rule);
 *   - an output struct is written as far as both know, and zeroed beyond.
 * Sizes below a struct's first published version are refused; so are sizes above
 * VX_STRUCT_SIZE_MAX (an unset struct_size). New fields go after the previous version's sizeof,
 * never into its tail padding, which an older caller may not have zeroed. */
#ifndef VEXFS_VERSIONED_H
#define VEXFS_VERSIONED_H

#include <stddef.h>
#include <stdint.h>

#include "vexfs/vexfs.h"

#define VX_STRUCT_SIZE_MAX 4096u

/* The size a struct had in the version whose last field was `last`: its end, rounded up to the
 * struct's alignment (sizeof as a caller built against that version sees it). */
#define VX_SIZE_UP_TO(type, last)                                                          \
  ((offsetof(type, last) + sizeof(((type *)0)->last) + _Alignof(type) - 1) /               \
   _Alignof(type) * _Alignof(type))

/* Sizes of 0.1.0's structs, the first release: what its _init functions fill forever, and the
 * smallest struct_size accepted (the collection config also takes the pre-release size without
 * hnsw_seed, and search params without tail padding). */
#define VX_CONFIG_SIZE_0_1 VX_SIZE_UP_TO(vexfs_collection_config, hnsw_seed)
#define VX_CONFIG_SIZE_FIRST (offsetof(vexfs_collection_config, threads) + sizeof(uint32_t))
#define VX_PARAMS_SIZE_0_1 VX_SIZE_UP_TO(vexfs_search_params, threads)
#define VX_PARAMS_SIZE_FIRST (offsetof(vexfs_search_params, threads) + sizeof(uint32_t))
#define VX_DB_OPTIONS_SIZE_0_1 VX_SIZE_UP_TO(vexfs_db_options, wal_checkpoint_bytes)
#define VX_ALLOCATOR_SIZE_0_1 VX_SIZE_UP_TO(vexfs_allocator, opaque)
#define VX_POOL_CONFIG_SIZE_0_1 VX_SIZE_UP_TO(vexfs_pool_config, initial_blocks)
#define VX_POOL_STATS_SIZE_0_1 VX_SIZE_UP_TO(vexfs_pool_stats, hit_rate)
#define VX_METRICS_SIZE_0_1 VX_SIZE_UP_TO(vexfs_metrics, simd_isa)

/* Copies min(size, ours_size) bytes of defaults into theirs, zeroes the rest of its size bytes
 * and sets its struct_size to size. Writes nothing when theirs is NULL or size cannot hold
 * struct_size. */
void vx_versioned_init(void *theirs, size_t size, const void *defaults, size_t ours_size);

/* VEXFS_E_INVALID unless first <= theirs->struct_size <= VX_STRUCT_SIZE_MAX. */
vexfs_status vx_versioned_check(const char *fn, const char *what, const void *theirs,
                                size_t first);

/* Reads the caller's input struct theirs into ours (holding our defaults, ours_size bytes; its
 * struct_size is left as ours). first: the size of the struct's first version. fn and what
 * ("cfg", "params") name the call and argument in messages.
 * Errors: VEXFS_E_INVALID (struct_size below first or above VX_STRUCT_SIZE_MAX),
 *         VEXFS_E_UNSUPPORTED (a nonzero byte past the fields this version knows). */
vexfs_status vx_versioned_read(const char *fn, const char *what, void *ours, size_t ours_size,
                               size_t first, const void *theirs);

/* Writes ours (ours_size bytes) into the caller's output struct theirs, keeping its
 * struct_size: the part both know, then zeros up to its size. Errors as vx_versioned_read's
 * VEXFS_E_INVALID. */
vexfs_status vx_versioned_write(const char *fn, const char *what, void *theirs, size_t first,
                                const void *ours, size_t ours_size);

#endif

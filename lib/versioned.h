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

/* Sizes of 0.1.0's structs, the first release, which its _init functions fill forever. */
#define VX_CONFIG_SIZE_0_1 VX_SIZE_UP_TO(vexfs_collection_config, hnsw_seed)
#define VX_CONFIG_SIZE_0_3 VX_SIZE_UP_TO(vexfs_collection_config, lsh_projection)
#define VX_PARAMS_SIZE_0_1 VX_SIZE_UP_TO(vexfs_search_params, threads)
#define VX_PARAMS_SIZE_0_3 VX_SIZE_UP_TO(vexfs_search_params, nprobe)
#define VX_DB_OPTIONS_SIZE_0_1 VX_SIZE_UP_TO(vexfs_db_options, wal_checkpoint_bytes)
#define VX_POOL_CONFIG_SIZE_0_1 VX_SIZE_UP_TO(vexfs_pool_config, initial_blocks)
#define VX_POOL_STATS_SIZE_0_1 VX_SIZE_UP_TO(vexfs_pool_stats, hit_rate)
#define VX_METRICS_SIZE_0_1 VX_SIZE_UP_TO(vexfs_metrics, simd_isa)

/* A public struct as this version knows it: its size, and every smaller size it has had, which
 * are the only smaller struct_size values accepted (one that ends inside a field is not a
 * version: the field would be read in part). When a struct grows, its former sizeof joins
 * `earlier` (tests/test_abi_0_1.c fails for a 0.1.0 size left out). */
#define VX_EARLIER_MAX 8
typedef struct vx_struct_kind {
  size_t size;
  size_t earlier[VX_EARLIER_MAX]; /* ascending, then zeros */
} vx_struct_kind;

extern const vx_struct_kind vx_config_kind, vx_params_kind, vx_db_options_kind,
    vx_allocator_kind, vx_pool_config_kind, vx_pool_stats_kind, vx_metrics_kind;

/* Copies min(size, ours_size) bytes of defaults into theirs, zeroes the rest of its size bytes
 * and sets its struct_size to size. Writes nothing when theirs is NULL or size is below 4 or
 * above VX_STRUCT_SIZE_MAX. */
void vx_versioned_init(void *theirs, size_t size, const void *defaults, size_t ours_size);

/* VEXFS_E_INVALID unless theirs->struct_size is one of kind's earlier sizes, or at least its
 * size and at most VX_STRUCT_SIZE_MAX. fn and what ("cfg", "params") name the call and argument
 * in messages. */
vexfs_status vx_versioned_check(const char *fn, const char *what, const vx_struct_kind *kind,
                                const void *theirs);

/* Reads the caller's input struct theirs into ours (kind->size bytes, holding our defaults; its
 * struct_size is left as ours).
 * Errors: vx_versioned_check's, and VEXFS_E_UNSUPPORTED (a nonzero byte past the fields this
 *         version knows). */
vexfs_status vx_versioned_read(const char *fn, const char *what, const vx_struct_kind *kind,
                               void *ours, const void *theirs);

/* Writes ours (kind->size bytes) into the caller's output struct theirs, keeping its
 * struct_size: the part both know, then zeros up to its size. Errors: vx_versioned_check's. */
vexfs_status vx_versioned_write(const char *fn, const char *what, const vx_struct_kind *kind,
                                void *theirs, const void *ours);

#endif

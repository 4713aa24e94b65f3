/* Internal entry points of collections, for the library's other modules and its tests. */
#ifndef VEXFS_COLLECTION_INTERNAL_H
#define VEXFS_COLLECTION_INTERNAL_H

#include "index/index.h"
#include "metrics/metrics.h"
#include "vexfs/vexfs.h"

/* vexfs_collection_create, for a database too when in_database (which allows rerank MAPPED: the
 * database attaches the collection before it holds rows, and checkpoints map them). */
vexfs_status vx_collection_create(const vexfs_collection_config *cfg, int in_database,
                                  vexfs_collection **out);

/* vexfs_search with a predicate over slots in place of params->filter_json (which must be NULL):
 * only rows the filter admits are returned. filter may be NULL. */
vexfs_status vx_collection_search(vexfs_collection *c, const float *queries, size_t nq, size_t k,
                                  const vexfs_search_params *params, const vx_filter *filter,
                                  uint64_t *ids, float *distances, size_t *counts);

/* The id stored in a slot (VX_NO_ID when free), for filters written against ids. */
uint64_t vx_collection_slot_id(const vexfs_collection *c, uint32_t slot);

/* The name a database gave the collection; NULL for one made by vexfs_collection_create. */
const char *vx_collection_name(const vexfs_collection *c);

/* vexfs_index_in_use: "flat", "hnsw", "lsh", "ivf", or for AUTO "auto" until it builds an
 * index and "auto:<kind>" after. */
const char *vx_collection_index_name(const vexfs_collection *c);

/* Bytes a collection holds: vectors (with ids, norms, id map), its index (graph), and payloads
 * (with payload indexes); and the bytes of its rows mapped from a row file. */
typedef struct vx_memory {
  uint64_t vectors, index, payloads;
  uint64_t mapped; /* rows mapped from row files, left out of `vectors` */
} vx_memory;

/* The collection's metrics, and its memory. */
vx_metrics *vx_collection_metrics_of(vexfs_collection *c);
void vx_collection_memory(vexfs_collection *c, vx_memory *m);
/* The same summed over every live collection. */
void vx_collections_memory(vx_memory *total);
uint64_t vx_collections_vectors(void);
/* Calls fn for every live collection, holding the registry's lock (fn must not create or free). */
void vx_collections_each(void (*fn)(vexfs_collection *c, void *ctx), void *ctx);

/* The collection's side of its database (persist/journal.h); NULL outside a database. Set once,
 * by the database that adopts the collection, before it is shared. */
struct vx_db_link *vx_collection_link(const vexfs_collection *c);
void vx_collection_attach(vexfs_collection *c, struct vx_db_link *link);

/* Frees a collection whatever owns it (vexfs_collection_free ignores database collections). */
void vx_collection_destroy(vexfs_collection *c);

/* Holds (and releases) the collection's writer lock: no mutation runs, or is half logged, while
 * a checkpoint writes it; searches go on. */
void vx_collection_hold_writes(vexfs_collection *c);
void vx_collection_release_writes(vexfs_collection *c);

/* The collection's codec for snapshots (collection_snapshot.c): its rows and live vectors (for
 * the description the database writes first), then its own sections under owner `id`, written
 * with the collection's write lock held; and loading them into a new, empty collection made
 * from the stored configuration. Load errors: VEXFS_E_CORRUPT (naming the collection),
 * VEXFS_E_NOMEM. */
/* Where a checkpoint writes: the database's directory, the log sequence its snapshot covers, and
 * whether it syncs; for the row files of MAPPED collections. */
typedef struct vx_checkpoint_ctx {
  const char *dir;
  uint64_t seq;
  int sync;
} vx_checkpoint_ctx;
void vx_collection_rows(const vexfs_collection *c, uint64_t *rows, uint64_t *live);
void vx_collection_save(vexfs_collection *c, uint32_t id, vx_snap_writer *w,
                        const vx_checkpoint_ctx *ctx);
/* dir: the database's directory (NULL: none, which refuses MAPPED collections). */
vexfs_status vx_collection_load(vexfs_collection *c, uint32_t id, vx_snap *snap, const char *dir,
                                uint64_t rows, uint64_t live);

/* MAPPED collections, after a checkpoint: commit (the snapshot naming the row file it wrote is in
 * force: the rows are mapped from it) or abandon it (the checkpoint failed; the file is left to
 * the next sweep). Under the write lock. Nothing happens for other collections. */
void vx_collection_commit_rows(vexfs_collection *c, const char *dir);
void vx_collection_abandon_rows(vexfs_collection *c);
/* The name of the row file the snapshot in force names for the collection, or NULL. */
const char *vx_collection_rows_file(const vexfs_collection *c);

/* Whether the collection's graph (if any) traverses on exact vectors, its codes being too coarse. */
int vx_collection_traverses_exactly(vexfs_collection *c);
/* For a collection with an HNSW graph (1; else 0): whether its 8-bit codes are lossless for every
 * row, and whether traversal reads the exact rows. */
int vx_collection_hnsw_codes(vexfs_collection *c, int *lossless, int *exact_traversal);

/* For a collection whose storage is not F32 (1; else 0): its storage's name ("f16", "sq8",
 * "sq4"), and whether every live row's code decodes to the vector inserted, bit for bit. */
int vx_collection_store_codes(vexfs_collection *c, const char **storage, int *lossless);

#endif

/* The collection object itself, shared by the files that implement its calls (collection.c:
 * vectors and search; collection_payload.c: payloads and payload indexes; collection_read.c:
 * configuration, id listing and what a database asks of it; collection_snapshot.c: its part of
 * a snapshot). Nothing else includes it: the rest of the library uses collection_internal.h. Locking is described at the top of collection.c. */
#ifndef VEXFS_COLLECTION_IMPL_H
#define VEXFS_COLLECTION_IMPL_H

#include <pthread.h>
#include <stddef.h>

#include "index/index.h"
#include "metrics/metrics.h"
#include "payload/payload_index.h"
#include "payload/payloads.h"
#include "persist/journal.h"
#include "persist/rowfile.h"
#include "store.h"
#include "vexfs/vexfs.h"

struct vexfs_collection {
  vexfs_collection_config cfg;
  const vx_index_ops *index;
  void *index_state;
  vx_store store;
  vx_payloads payloads;
  vx_pindex *indexes[VEXFS_MAX_PAYLOAD_INDEXES]; /* payload indexes; change under both locks */
  size_t nindexes;
  pthread_mutex_t write_lock;
  pthread_rwlock_t rows_lock;
  vx_metrics *metrics;            /* 64-byte aligned, its own block */
  vx_db_link *link;               /* set when the collection belongs to a database */
  vx_rowfile_ref rows_file;       /* MAPPED: the row file of the snapshot in force ("" if none) */
  vx_rowfile_ref rows_pending;    /* MAPPED: written by the checkpoint under way */
  struct vexfs_collection *next;  /* in the registry of live collections */
};

/* Payload steps of an insert and a remove (collection_payload.c), run under the exclusive lock:
 * they set or clear the rows' payloads and keep payload indexes in step. Cannot fail. */
void vx_collection_attach_payloads(vexfs_collection *c, const uint32_t *slots, uint8_t **blobs,
                                   size_t n);
void vx_collection_detach_payloads(vexfs_collection *c, const uint32_t *slots, size_t n);

/* Parses n payloads (entries may be NULL) into blobs; on failure releases what it made. */
vexfs_status vx_collection_parse_payloads(const char *fn, const char *const *json, size_t n,
                                          uint8_t **blobs);
void vx_collection_release_payloads(uint8_t **blobs, size_t n);

#endif

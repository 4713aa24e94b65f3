/* addAsync and searchAsync: the batch runs on the libuv thread pool (napi_create_async_work), so
 * the event loop keeps turning; the promise settles on the main thread. The typed arrays and the
 * collection are held by references until then, so they cannot be collected mid-call. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addon.h"

typedef struct job {
  napi_async_work work;
  napi_deferred deferred;
  napi_ref refs[3]; /* this, and the input arrays */
  wrapped *w;
  int is_search;
  /* add */
  uint64_t *ids, *owned_ids;
  const float *vectors;
  size_t n;
  /* search */
  search_request search;
  uint64_t *out_ids;
  float *out_dist;
  size_t *counts;
  /* outcome, captured on the worker (last_error is per thread) */
  vexfs_status st;
  char message[512];
} job;

static void execute(napi_env env, void *data) {
  (void)env;
  job *j = data;
  const search_request *r = &j->search;
  j->st = j->is_search ? vexfs_search(j->w->c, r->queries, r->nq, r->k, &r->params, j->out_ids,
                                      j->out_dist, j->counts)
                       : vexfs_insert(j->w->c, j->ids, j->vectors, j->n);
  if (j->st != VEXFS_OK) snprintf(j->message, sizeof j->message, "%s", vexfs_last_error());
}

static void free_job(napi_env env, job *j) {
  for (int i = 0; i < 3; i++)
    if (j->refs[i]) napi_delete_reference(env, j->refs[i]);
  if (j->work) napi_delete_async_work(env, j->work);
  free(j->owned_ids);
  free(j->search.filter);
  free(j->out_ids);
  free(j->out_dist);
  free(j->counts);
  free(j);
}

static void complete(napi_env env, napi_status status, void *data) {
  job *j = data;
  j->w->pending--;
  if (status != napi_ok && j->st == VEXFS_OK) {
    j->st = VEXFS_E_STATE;
    snprintf(j->message, sizeof j->message, "the async call was cancelled");
  }
  if (j->st != VEXFS_OK) {
    napi_reject_deferred(env, j->deferred, make_error(env, j->st, j->message));
  } else {
    napi_value result;
    if (j->is_search)
      result = search_result(env, j->out_ids, j->out_dist, j->counts, j->search.nq, j->search.k,
                             j->search.nq == 1);
    else napi_get_undefined(env, &result);
    napi_resolve_deferred(env, j->deferred, result);
  }
  free_job(env, j);
}

/* Queues j, holding `this` and the given arrays; returns the promise. */
static napi_value start(napi_env env, job *j, napi_value self, napi_value a, napi_value b,
                        const char *name) {
  napi_value promise, resource_name;
  napi_create_reference(env, self, 1, &j->refs[0]);
  if (a) napi_create_reference(env, a, 1, &j->refs[1]);
  if (b) napi_create_reference(env, b, 1, &j->refs[2]);
  napi_create_promise(env, &j->deferred, &promise);
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &resource_name);
  if (napi_create_async_work(env, NULL, resource_name, execute, complete, j, &j->work) != napi_ok ||
      napi_queue_async_work(env, j->work) != napi_ok) {
    napi_reject_deferred(env, j->deferred, make_error(env, VEXFS_E_NOMEM, "cannot queue the async call"));
    free_job(env, j);
    return promise;
  }
  j->w->pending++;
  return promise;
}

static job *new_job(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv,
                    napi_value *self) {
  napi_get_cb_info(env, info, argc, argv, self, NULL);
  wrapped *w = NULL;
  if (napi_unwrap(env, *self, (void **)&w) != napi_ok || !w || !w->c) {
    throw_vexfs(env, VEXFS_E_STATE, "the collection is closed");
    return NULL;
  }
  job *j = calloc(1, sizeof *j);
  if (!j) throw_vexfs(env, VEXFS_E_NOMEM, "out of memory");
  else j->w = w;
  return j;
}

/* addAsync(ids, vectors) */
napi_value collection_add_async(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], self;
  job *j = new_job(env, info, &argc, argv, &self);
  if (!j) return NULL;
  float *vec;
  size_t floats;
  if (get_ids(env, argv[0], &j->ids, &j->n, &j->owned_ids) != 0 ||
      get_floats(env, argv[1], &vec, &floats, "vectors") != 0 ||
      check_row_count(env, j->n, floats, j->w->dim) != 0) {
    free_job(env, j);
    return NULL;
  }
  j->vectors = vec;
  return start(env, j, self, argv[0], argv[1], "vexfs.addAsync");
}

/* searchAsync(queries, k, ef, filterJson|null, threads, probes, nprobe) */
napi_value collection_search_async(napi_env env, napi_callback_info info) {
  size_t argc = VX_SEARCH_ARGS;
  napi_value argv[VX_SEARCH_ARGS], self;
  job *j = new_job(env, info, &argc, argv, &self);
  if (!j) return NULL;
  if (get_search_request(env, argv, j->w, &j->search) != 0) {
    free_job(env, j);
    return NULL;
  }
  j->is_search = 1;
  size_t cells = j->search.nq * j->search.k;
  j->out_ids = malloc(cells * sizeof *j->out_ids);
  j->out_dist = malloc(cells * sizeof *j->out_dist);
  j->counts = malloc(j->search.nq * sizeof *j->counts);
  if (!j->out_ids || !j->out_dist || !j->counts) {
    free_job(env, j);
    throw_vexfs(env, VEXFS_E_NOMEM, "out of memory for the results");
    return NULL;
  }
  return start(env, j, self, argv[0], NULL, "vexfs.searchAsync");
}

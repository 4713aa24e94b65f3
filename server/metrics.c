/* GET /metrics: the library's Prometheus exposition of every collection, merged into one
 * scrape. The library writes each collection's families whole (HELP, TYPE, samples labelled
 * collection="name"); a family may be declared once per exposition, so each is written once,
 * with the samples of every collection after its first declaration. */
#include <stdlib.h>
#include <string.h>

#include "qdrant.h"

typedef struct family {
  char *name;
  vs_text head;    /* its HELP and TYPE lines, from the first collection that has it */
  vs_text samples; /* every collection's */
  size_t owner;    /* the collection whose lines made head */
} family;

typedef struct families {
  family *f;
  size_t n, cap;
  int failed;
} families;

/* The family a "# HELP name ..." or "# TYPE name ..." line declares, made when new. */
static family *declared(families *all, const char *line, size_t len, size_t collection) {
  const char *name = line + 7, *end = memchr(name, ' ', len - 7);
  size_t n = end ? (size_t)(end - name) : len - 7;
  for (size_t i = 0; i < all->n; i++)
    if (strlen(all->f[i].name) == n && memcmp(all->f[i].name, name, n) == 0) return &all->f[i];
  if (all->n == all->cap) {
    size_t cap = all->cap ? all->cap * 2 : 16;
    family *grown = realloc(all->f, cap * sizeof *grown);
    if (!grown) return NULL;
    all->f = grown;
    all->cap = cap;
  }
  family *f = &all->f[all->n];
  *f = (family){.name = strndup(name, n), .owner = collection};
  if (!f->name) return NULL;
  all->n++;
  return f;
}

/* Sorts one collection's exposition into the families. */
static void take(families *all, const char *text, size_t collection) {
  family *current = NULL;
  for (const char *line = text; *line;) {
    const char *nl = strchr(line, '\n');
    size_t len = nl ? (size_t)(nl - line) : strlen(line);
    int comment = len > 7 && (strncmp(line, "# HELP ", 7) == 0 || strncmp(line, "# TYPE ", 7) == 0);
    if (comment && !(current = declared(all, line, len, collection))) {
      all->failed = 1;
      return;
    }
    vs_text *into = !current ? NULL : comment ? (current->owner == collection ? &current->head : NULL)
                                              : &current->samples;
    if (into && len > 0) {
      vs_text_put(into, line, len);
      vs_text_put(into, "\n", 1);
    }
    line += len + (nl != NULL);
  }
}

void vs_metrics(vs_request *rq, vs_response *rs, char **args) {
  (void)args;
  json_object *names = vs_catalog_list(&rq->srv->catalog);
  families all = {0};
  size_t n = json_object_array_length(names);
  for (size_t i = 0; i < n && !all.failed; i++) {
    json_object *name = NULL;
    json_object_object_get_ex(json_object_array_get_idx(names, i), "name", &name);
    vs_coll *k = vs_catalog_acquire(&rq->srv->catalog, json_object_get_string(name));
    if (!k) continue; /* dropped meanwhile */
    char *text = vexfs_metrics_prometheus(k->points);
    vs_catalog_put(&rq->srv->catalog, k);
    if (!text) {
      all.failed = 1;
      break;
    }
    take(&all, text, i);
    vexfs_free(text);
  }
  json_object_put(names);
  vs_text out = {0};
  vs_text_put(&out, "", 0); /* no collection, no family: an empty exposition, still a text */
  for (size_t i = 0; i < all.n; i++) {
    family *f = &all.f[i];
    all.failed |= f->head.failed || f->samples.failed;
    if (f->head.p) vs_text_put(&out, f->head.p, f->head.len);
    if (f->samples.p) vs_text_put(&out, f->samples.p, f->samples.len);
    vs_text_free(&f->head);
    vs_text_free(&f->samples);
    free(f->name);
  }
  free(all.f);
  out.failed |= all.failed;
  vs_ok_body(rq, rs, &out, "text/plain; version=0.0.4; charset=utf-8");
}

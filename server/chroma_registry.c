/* Chroma's collections (chroma.h), durable: each is a row of the registry collection
 * "__vexfs..chroma" (dim 1, flat; no client collection nor companion can have that name, since
 * names never start with '.'), whose payload holds its id, name, metadata, configuration and
 * HNSW parameters. The registry is kept in memory too, under one lock, and written through. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "chroma.h"

#define REGISTRY "__vexfs..chroma"

typedef struct entry {
  vs_chroma_info info;
  uint64_t row;
  struct entry *next;
} entry;

struct vs_chroma {
  pthread_mutex_t lock; /* the list, the registry's writes and the making of points collections */
  vexfs_collection *registry; /* NULL until the first create */
  entry *list, **tail;        /* in order of creation */
  uint64_t next_row;
};

static const char *metric_name(vexfs_metric m) {
  return m == VEXFS_METRIC_COSINE ? "cosine" : m == VEXFS_METRIC_IP ? "ip" : "l2";
}

/* A deep copy: json-c caches an object's text in the object as it writes it, so an object two
 * requests write at once must be two objects. */
static json_object *copy_json(json_object *o) {
  json_object *copy = NULL;
  return o && json_object_deep_copy(o, &copy, NULL) == 0 ? copy : NULL;
}

static void copy_info(vs_chroma_info *to, const vs_chroma_info *from) {
  *to = *from;
  to->name = strdup(from->name);
  to->metadata = copy_json(from->metadata);
  to->configuration = copy_json(from->configuration);
}

void vs_chroma_info_free(vs_chroma_info *info) {
  free(info->name);
  json_object_put(info->metadata);
  json_object_put(info->configuration);
  memset(info, 0, sizeof *info);
}

void vs_chroma_infos_free(vs_chroma_info *infos, size_t n) {
  for (size_t i = 0; i < n; i++) vs_chroma_info_free(&infos[i]);
  free(infos);
}

static void free_entry(entry *e) {
  vs_chroma_info_free(&e->info);
  free(e);
}

/* The registry row of info, as JSON text (malloc'd; NULL when out of memory). */
static char *row_text(const vs_chroma_info *info) {
  json_object *o = json_object_new_object();
  json_object_object_add(o, "id", json_object_new_string(info->id));
  json_object_object_add(o, "name", json_object_new_string(info->name));
  json_object_object_add(o, "metadata", info->metadata ? json_object_get(info->metadata) : NULL);
  json_object_object_add(o, "configuration", json_object_get(info->configuration));
  json_object_object_add(o, "metric", json_object_new_string(metric_name(info->metric)));
  json_object_object_add(o, "m", json_object_new_int64(info->m));
  json_object_object_add(o, "ef_construction", json_object_new_int64(info->ef_construction));
  json_object_object_add(o, "ef_search", json_object_new_int64(info->ef_search));
  const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
  char *copy = text ? strdup(text) : NULL;
  json_object_put(o);
  return copy;
}

static uint32_t field_u32(json_object *o, const char *key) {
  json_object *v = NULL;
  return json_object_object_get_ex(o, key, &v) ? (uint32_t)json_object_get_int64(v) : 0;
}

/* An entry from a registry row; NULL when the row is not one (then it is skipped, and said). */
static entry *row_entry(uint64_t row, const char *text) {
  json_object *o = vs_parse_payload(text), *v = NULL;
  entry *e = calloc(1, sizeof *e);
  const char *id = json_object_object_get_ex(o, "id", &v) ? json_object_get_string(v) : NULL;
  const char *name = json_object_object_get_ex(o, "name", &v) ? json_object_get_string(v) : NULL;
  if (!e || !id || strlen(id) != 36 || !name || !(e->info.name = strdup(name))) {
    json_object_put(o);
    if (e) free_entry(e);
    return NULL;
  }
  memcpy(e->info.id, id, 37);
  e->row = row;
  if (json_object_object_get_ex(o, "metadata", &v) && json_object_is_type(v, json_type_object))
    e->info.metadata = json_object_get(v);
  if (json_object_object_get_ex(o, "configuration", &v)) e->info.configuration = json_object_get(v);
  const char *metric = json_object_object_get_ex(o, "metric", &v) ? json_object_get_string(v) : "";
  e->info.metric = strcmp(metric, "cosine") == 0 ? VEXFS_METRIC_COSINE
                   : strcmp(metric, "ip") == 0   ? VEXFS_METRIC_IP
                                                 : VEXFS_METRIC_L2;
  e->info.m = field_u32(o, "m");
  e->info.ef_construction = field_u32(o, "ef_construction");
  e->info.ef_search = field_u32(o, "ef_search");
  json_object_put(o);
  return e;
}

vexfs_status vs_chroma_open(vs_server *srv) {
  vs_chroma *c = calloc(1, sizeof *c);
  if (!c) return VEXFS_E_NOMEM;
  pthread_mutex_init(&c->lock, NULL);
  c->tail = &c->list;
  srv->chroma = c;
  vexfs_status st = vexfs_db_get_collection(srv->catalog.db, REGISTRY, &c->registry);
  if (st == VEXFS_E_NOT_FOUND) return VEXFS_OK;
  if (st != VEXFS_OK) return st;
  uint64_t *rows = NULL;
  size_t n = 0;
  if ((st = vexfs_list_ids(c->registry, &rows, &n)) != VEXFS_OK) return st;
  for (size_t i = 0; i < n; i++) {
    char *text = NULL;
    if ((st = vexfs_get_payload(c->registry, rows[i], &text)) != VEXFS_OK) break;
    entry *e = text ? row_entry(rows[i], text) : NULL;
    vexfs_free(text);
    c->next_row = rows[i] + 1; /* past damaged rows too: their ids stay taken */
    if (!e) {
      fprintf(stderr, "vexfs-server: Chroma registry row %llu is damaged; skipped\n",
              (unsigned long long)rows[i]);
      continue;
    }
    *c->tail = e;
    c->tail = &e->next;
    /* a crash between making a points collection and its id index leaves it without one */
    vs_coll *k = vs_catalog_acquire(&srv->catalog, e->info.id);
    if (k) {
      vexfs_create_payload_index(k->points, VS_CHROMA_KEY_ID, VEXFS_PAYLOAD_INDEX_KEYWORD);
      vs_catalog_put(&srv->catalog, k);
    }
  }
  vexfs_free(rows);
  return st;
}

void vs_chroma_close(vs_server *srv) {
  vs_chroma *c = srv->chroma;
  if (!c) return;
  while (c->list) {
    entry *e = c->list;
    c->list = e->next;
    free_entry(e);
  }
  pthread_mutex_destroy(&c->lock);
  free(c);
  srv->chroma = NULL;
}

static entry *find(vs_chroma *c, const char *key, int by_id) {
  for (entry *e = c->list; e; e = e->next)
    if (strcmp(by_id ? e->info.id : e->info.name, key) == 0) return e;
  return NULL;
}

int vs_chroma_find(vs_server *srv, const char *key, int by_id, vs_chroma_info *info) {
  vs_chroma *c = srv->chroma;
  pthread_mutex_lock(&c->lock);
  entry *e = find(c, key, by_id);
  if (e) copy_info(info, &e->info);
  pthread_mutex_unlock(&c->lock);
  return e ? 0 : -1;
}

/* A random (version 4) UUID, as text. */
static void new_uuid(char out[37]) {
  unsigned char b[16];
  if (getrandom(b, sizeof b, 0) != sizeof b)
    for (size_t i = 0; i < sizeof b; i++) b[i] = (unsigned char)((vs_now_ns() >> (i % 8)) ^ i);
  b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
  b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
  static const char hex[] = "0123456789abcdef";
  size_t o = 0;
  for (size_t i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out[o++] = '-';
    out[o++] = hex[b[i] >> 4];
    out[o++] = hex[b[i] & 15];
  }
  out[36] = 0;
}

static vexfs_status write_row(vs_chroma *c, const entry *e, int replace) {
  char *text = row_text(&e->info);
  if (!text) return VEXFS_E_NOMEM;
  float zero = 0;
  const char *payload = text;
  vexfs_status st = replace ? vexfs_upsert(c->registry, &e->row, &zero, &payload, 1)
                            : vexfs_insert_with_payload(c->registry, &e->row, &zero, &payload, 1);
  free(text);
  return st;
}

vexfs_status vs_chroma_create(vs_server *srv, vs_chroma_info *info) {
  vs_chroma *c = srv->chroma;
  pthread_mutex_lock(&c->lock);
  vexfs_status st = VEXFS_OK;
  entry *e = find(c, info->name, 0);
  if (e) {
    vs_chroma_info_free(info);
    copy_info(info, &e->info);
    pthread_mutex_unlock(&c->lock);
    return VEXFS_E_EXISTS;
  }
  if (!c->registry) {
    vexfs_collection_config cfg;
    vexfs_collection_config_init(&cfg);
    cfg.dim = 1;
    cfg.index = VEXFS_INDEX_FLAT;
    st = vexfs_db_create_collection(srv->catalog.db, REGISTRY, &cfg, &c->registry);
  }
  if (st == VEXFS_OK && !(e = calloc(1, sizeof *e))) st = VEXFS_E_NOMEM;
  if (st == VEXFS_OK) {
    new_uuid(info->id);
    copy_info(&e->info, info);
    e->row = c->next_row;
    if (!e->info.name) st = VEXFS_E_NOMEM;
    else st = write_row(c, e, 0);
    if (st == VEXFS_OK) {
      c->next_row++;
      *c->tail = e;
      c->tail = &e->next;
    } else {
      free_entry(e);
    }
  }
  pthread_mutex_unlock(&c->lock);
  return st;
}

vexfs_status vs_chroma_modify(vs_server *srv, const char *id, const char *name,
                              json_object *metadata, uint32_t ef_search) {
  vs_chroma *c = srv->chroma;
  pthread_mutex_lock(&c->lock);
  entry *e = find(c, id, 1), *holder = name ? find(c, name, 0) : NULL;
  vexfs_status st = !e ? VEXFS_E_NOT_FOUND : holder && holder != e ? VEXFS_E_EXISTS : VEXFS_OK;
  if (st == VEXFS_OK) {
    entry changed = *e;
    changed.info.name = name ? (char *)name : e->info.name;
    changed.info.metadata = metadata ? metadata : e->info.metadata;
    json_object *configuration = NULL, *hnsw = NULL;
    if (ef_search) { /* and in the configuration answered */
      changed.info.ef_search = ef_search;
      if (json_object_deep_copy(e->info.configuration, &configuration, NULL) != 0) st = VEXFS_E_NOMEM;
      else if (json_object_object_get_ex(configuration, "hnsw", &hnsw))
        json_object_object_add(hnsw, "ef_search", json_object_new_int64(ef_search));
      changed.info.configuration = configuration;
    }
    char *new_name = name ? strdup(name) : NULL;
    if (st == VEXFS_OK) st = name && !new_name ? VEXFS_E_NOMEM : write_row(c, &changed, 1);
    if (st == VEXFS_OK) {
      if (new_name) free(e->info.name), e->info.name = new_name, new_name = NULL;
      if (metadata) json_object_put(e->info.metadata), e->info.metadata = copy_json(metadata);
      if (configuration) json_object_put(e->info.configuration), e->info.configuration = configuration;
      else json_object_put(configuration);
      e->info.ef_search = changed.info.ef_search;
    } else {
      json_object_put(configuration);
    }
    free(new_name);
  }
  pthread_mutex_unlock(&c->lock);
  return st;
}

vexfs_status vs_chroma_delete(vs_server *srv, const char *name) {
  vs_chroma *c = srv->chroma;
  pthread_mutex_lock(&c->lock);
  entry **at = &c->list;
  while (*at && strcmp((*at)->info.name, name) != 0) at = &(*at)->next;
  entry *e = *at;
  vexfs_status st = e ? vexfs_remove(c->registry, &e->row, 1) : VEXFS_E_NOT_FOUND;
  if (st == VEXFS_OK) {
    *at = e->next;
    if (c->tail == &e->next) c->tail = at;
  }
  pthread_mutex_unlock(&c->lock);
  if (st != VEXFS_OK) return st;
  /* the registry row first: a crash before the records go leaves them in a collection no
   * Chroma client sees (named by the id, through the other APIs), never a Chroma collection
   * that lost its records. The drop waits for the requests using the records only, out of
   * the lock, so requests on other collections go on. */
  vexfs_status dropped = vs_catalog_drop(&srv->catalog, e->info.id);
  if (dropped != VEXFS_OK && dropped != VEXFS_E_NOT_FOUND)
    fprintf(stderr, "vexfs-server: Chroma collection %s deleted, but dropping its records "
                    "(collection %s) failed: %s\n", name, e->info.id, vexfs_last_error());
  free_entry(e);
  return VEXFS_OK;
}

vs_chroma_info *vs_chroma_list(vs_server *srv, size_t offset, size_t limit, size_t *n) {
  vs_chroma *c = srv->chroma;
  pthread_mutex_lock(&c->lock);
  size_t total = 0;
  for (entry *e = c->list; e; e = e->next) total++;
  size_t want = offset < total ? total - offset : 0;
  if (want > limit) want = limit;
  vs_chroma_info *out = calloc(want ? want : 1, sizeof *out);
  *n = 0;
  entry *e = c->list;
  for (size_t i = 0; e && i < offset; i++) e = e->next;
  for (; out && e && *n < want; e = e->next) copy_info(&out[(*n)++], &e->info);
  pthread_mutex_unlock(&c->lock);
  return out;
}

size_t vs_chroma_count(vs_server *srv) {
  vs_chroma *c = srv->chroma;
  pthread_mutex_lock(&c->lock);
  size_t n = 0;
  for (entry *e = c->list; e; e = e->next) n++;
  pthread_mutex_unlock(&c->lock);
  return n;
}

vs_coll *vs_chroma_points(vs_server *srv, const vs_chroma_info *info, uint32_t dim,
                          vexfs_status *st) {
  *st = VEXFS_OK;
  vs_coll *k = vs_catalog_acquire(&srv->catalog, info->id);
  if (k || dim == 0) return k;
  vs_chroma *c = srv->chroma;
  pthread_mutex_lock(&c->lock); /* one first add makes it; the others find it */
  if (!find(c, info->id, 1)) *st = VEXFS_E_NOT_FOUND; /* deleted meanwhile */
  else if (!(k = vs_catalog_acquire(&srv->catalog, info->id))) {
    vexfs_collection_config cfg;
    vexfs_collection_config_init(&cfg);
    cfg.dim = dim;
    cfg.metric = info->metric;
    cfg.index = VEXFS_INDEX_HNSW;
    cfg.hnsw_m = info->m;
    cfg.hnsw_ef_construction = info->ef_construction;
    cfg.hnsw_ef_search = info->ef_search;
    *st = vs_catalog_create(&srv->catalog, info->id, &cfg);
    if (*st == VEXFS_OK && (k = vs_catalog_acquire(&srv->catalog, info->id))) {
      *st = vexfs_create_payload_index(k->points, VS_CHROMA_KEY_ID, VEXFS_PAYLOAD_INDEX_KEYWORD);
      if (*st == VEXFS_E_EXISTS) *st = VEXFS_OK;
      if (*st != VEXFS_OK) {
        vs_catalog_put(&srv->catalog, k);
        k = NULL;
      }
    }
  }
  pthread_mutex_unlock(&c->lock);
  return k;
}

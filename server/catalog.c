/* The database the server serves and its collections, each with its companion (server.h). A
 * collection made by another program (Python, vexctl) in the same database gets its companion
 * when the server opens it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"

#define META_PREFIX "__vexfs."
#define SCHEMA_ROW "{\"payload_schema\":{}}"

int vs_catalog_name_ok(const char *name) {
  size_t len = strlen(name);
  if (len == 0 || len > VEXFS_MAX_NAME - (sizeof META_PREFIX - 1) || name[0] == '.') return 0;
  if (strncmp(name, META_PREFIX, sizeof META_PREFIX - 1) == 0) return 0;
  for (size_t i = 0; i < len; i++) {
    char c = name[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          c == '_' || c == '-' || c == '.'))
      return 0;
  }
  return 1;
}

static void meta_name(const char *name, char out[VEXFS_MAX_NAME + 1]) {
  snprintf(out, VEXFS_MAX_NAME + 1, META_PREFIX "%s", name);
}

/* Makes the companion of a new collection: its schema row and the index its UUID lookups use. */
static vexfs_status make_meta(vexfs_db *db, const char *name, vexfs_collection **out) {
  char mname[VEXFS_MAX_NAME + 1];
  meta_name(name, mname);
  vexfs_collection_config cfg;
  vexfs_collection_config_init(&cfg);
  cfg.dim = 1;
  cfg.index = VEXFS_INDEX_FLAT;
  vexfs_status st = vexfs_db_create_collection(db, mname, &cfg, out);
  if (st != VEXFS_OK) return st;
  uint64_t row = 0;
  float zero = 0;
  const char *schema = SCHEMA_ROW;
  st = vexfs_insert_with_payload(*out, &row, &zero, &schema, 1);
  if (st == VEXFS_OK) st = vexfs_create_payload_index(*out, "uuid", VEXFS_PAYLOAD_INDEX_KEYWORD);
  if (st != VEXFS_OK) vexfs_db_drop_collection(db, mname);
  return st;
}

/* Registers collection `name` of db, making its companion when it has none. */
static vexfs_status add(vs_catalog *cat, const char *name, vexfs_collection *points) {
  char mname[VEXFS_MAX_NAME + 1];
  meta_name(name, mname);
  vs_coll *k = calloc(1, sizeof *k);
  if (!k) return VEXFS_E_NOMEM;
  vexfs_status st = vexfs_db_get_collection(cat->db, mname, &k->meta);
  if (st == VEXFS_E_NOT_FOUND) st = make_meta(cat->db, name, &k->meta);
  if (st != VEXFS_OK) {
    free(k);
    return st;
  }
  vexfs_collection_config cfg;
  vexfs_collection_config_init(&cfg);
  vexfs_collection_get_config(points, &cfg);
  snprintf(k->name, sizeof k->name, "%s", name);
  k->points = points;
  k->metric = cfg.metric;
  k->dim = cfg.dim;
  k->uuid_floor = UINT64_MAX;
  uint64_t *ids = NULL;
  size_t n = 0;
  if (vexfs_list_ids(k->meta, &ids, &n) == VEXFS_OK) /* row 0 is the schema's */
    for (size_t i = 0; i < n; i++)
      if (ids[i] != 0) {
        k->uuid_floor = ids[i];
        break;
      }
  vexfs_free(ids);
  pthread_mutex_init(&k->write, NULL);
  k->next = cat->list;
  cat->list = k;
  return VEXFS_OK;
}

vexfs_status vs_catalog_open(vs_catalog *cat, const vs_options *opt) {
  memset(cat, 0, sizeof *cat);
  pthread_mutex_init(&cat->lock, NULL);
  pthread_cond_init(&cat->idle, NULL);
  vexfs_db_options o;
  vexfs_db_options_init(&o);
  o.sync = opt->sync;
  vexfs_status st = vexfs_db_open(opt->data, &o, &cat->db);
  if (st != VEXFS_OK) return st;
  char **names = NULL;
  size_t n = 0;
  st = vexfs_db_list_collections(cat->db, &names, &n);
  for (size_t i = 0; st == VEXFS_OK && i < n; i++) {
    if (strncmp(names[i], META_PREFIX, sizeof META_PREFIX - 1) == 0) continue;
    if (!vs_catalog_name_ok(names[i])) { /* made by another program: no room for a companion */
      fprintf(stderr, "vexfs-server: collection %s is not served: names longer than %zu bytes "
                      "leave no room for the server's companion collection\n", names[i],
              VEXFS_MAX_NAME - (sizeof META_PREFIX - 1));
      continue;
    }
    vexfs_collection *c = NULL;
    st = vexfs_db_get_collection(cat->db, names[i], &c);
    if (st == VEXFS_OK) st = add(cat, names[i], c);
  }
  vexfs_free(names);
  return st;
}

static void free_coll(vs_coll *k) {
  pthread_mutex_destroy(&k->write);
  free(k);
}

vexfs_status vs_catalog_close(vs_catalog *cat) {
  while (cat->list) {
    vs_coll *k = cat->list;
    cat->list = k->next;
    free_coll(k);
  }
  vexfs_status st = vexfs_db_close(cat->db);
  cat->db = NULL;
  pthread_mutex_destroy(&cat->lock);
  pthread_cond_destroy(&cat->idle);
  return st;
}

static vs_coll *find(vs_catalog *cat, const char *name) {
  for (vs_coll *k = cat->list; k; k = k->next)
    if (strcmp(k->name, name) == 0) return k;
  return NULL;
}

vs_coll *vs_catalog_acquire(vs_catalog *cat, const char *name) {
  pthread_mutex_lock(&cat->lock);
  vs_coll *k = find(cat, name);
  if (k && k->dropping) k = NULL;
  if (k) k->refs++;
  pthread_mutex_unlock(&cat->lock);
  return k;
}

void vs_catalog_put(vs_catalog *cat, vs_coll *k) {
  pthread_mutex_lock(&cat->lock);
  if (--k->refs == 0 && k->dropping) pthread_cond_broadcast(&cat->idle);
  pthread_mutex_unlock(&cat->lock);
}

json_object *vs_catalog_list(vs_catalog *cat) {
  json_object *list = json_object_new_array();
  pthread_mutex_lock(&cat->lock);
  for (vs_coll *k = cat->list; k; k = k->next) {
    if (k->dropping) continue;
    json_object *c = json_object_new_object();
    json_object_object_add(c, "name", json_object_new_string(k->name));
    json_object_array_add(list, c);
  }
  pthread_mutex_unlock(&cat->lock);
  return list;
}

uint64_t vs_catalog_vectors(vs_catalog *cat) {
  uint64_t n = 0;
  pthread_mutex_lock(&cat->lock); /* a drop frees a collection under it */
  for (vs_coll *k = cat->list; k; k = k->next)
    if (!k->dropping) n += vexfs_count(k->points);
  pthread_mutex_unlock(&cat->lock);
  return n;
}

vexfs_status vs_catalog_create(vs_catalog *cat, const char *name,
                               const vexfs_collection_config *cfg) {
  pthread_mutex_lock(&cat->lock);
  vexfs_collection *c = NULL;
  vexfs_status st = VEXFS_E_EXISTS;
  if (!find(cat, name)) {
    char mname[VEXFS_MAX_NAME + 1];
    meta_name(name, mname);
    vexfs_db_drop_collection(cat->db, mname); /* left by a drop whose second half failed */
    st = vexfs_db_create_collection(cat->db, name, cfg, &c);
  }
  if (st == VEXFS_OK && (st = add(cat, name, c)) != VEXFS_OK)
    vexfs_db_drop_collection(cat->db, name); /* all or nothing */
  pthread_mutex_unlock(&cat->lock);
  return st;
}

vexfs_status vs_catalog_drop(vs_catalog *cat, const char *name) {
  pthread_mutex_lock(&cat->lock);
  vs_coll *k = find(cat, name);
  vexfs_status st = VEXFS_E_NOT_FOUND;
  if (k && !k->dropping) {
    k->dropping = 1; /* new requests see no such collection; those using it finish first */
    while (k->refs) pthread_cond_wait(&cat->idle, &cat->lock);
    char mname[VEXFS_MAX_NAME + 1];
    meta_name(name, mname);
    /* points first: a companion left alone is dropped when the name is created again */
    st = vexfs_db_drop_collection(cat->db, name);
    if (st == VEXFS_OK) {
      vexfs_db_drop_collection(cat->db, mname);
      vs_coll **at = &cat->list;
      while (*at != k) at = &(*at)->next;
      *at = k->next;
      free_coll(k);
    } else {
      k->dropping = 0;
    }
  }
  pthread_mutex_unlock(&cat->lock);
  return st;
}

json_object *vs_coll_schema(vs_coll *k) {
  char *text = NULL;
  if (vexfs_get_payload(k->meta, 0, &text) != VEXFS_OK || !text) return NULL;
  json_object *row = json_tokener_parse(text), *schema = NULL;
  vexfs_free(text);
  if (row && json_object_object_get_ex(row, "payload_schema", &schema)) json_object_get(schema);
  json_object_put(row);
  return schema;
}

vexfs_status vs_coll_set_schema(vs_coll *k, json_object *schema) {
  json_object *row = json_object_new_object();
  json_object_object_add(row, "payload_schema", schema);
  vexfs_status st = vexfs_set_payload(k->meta, 0, json_object_to_json_string_ext(row, JSON_C_TO_STRING_PLAIN),
                                      VEXFS_PAYLOAD_REPLACE);
  json_object_put(row);
  return st;
}

vexfs_status vs_coll_take_ids(vs_coll *k, size_t n, uint64_t *first) {
  if (!k->next_id_known) {
    uint64_t *ids = NULL;
    size_t m = 0;
    vexfs_status st = vexfs_list_ids(k->points, &ids, &m);
    if (st != VEXFS_OK) return st;
    while (m > 0 && ids[m - 1] >= k->uuid_floor) m--;
    k->next_id = m ? ids[m - 1] + 1 : 0;
    k->next_id_known = 1;
    vexfs_free(ids);
  }
  if (k->next_id + n < k->next_id || k->next_id + n > k->uuid_floor) return VEXFS_E_INVALID;
  *first = k->next_id;
  k->next_id += n;
  return VEXFS_OK;
}

void vs_coll_saw_ids(vs_coll *k, const uint64_t *ids, size_t n) {
  if (!ids) k->next_id_known = 0;
  for (size_t i = 0; ids && k->next_id_known && i < n; i++)
    if (ids[i] >= k->next_id && ids[i] < k->uuid_floor) k->next_id = ids[i] + 1;
}

/* Helpers for the database suites: deterministic vectors and payloads per id, a model of what a
 * collection should hold, and temporary directories. */
#ifndef VEXFS_DB_UTIL_H
#define VEXFS_DB_UTIL_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_util.h"

/* The vector stored under id: random but fixed by id. */
static inline void db_vector(uint64_t id, uint32_t dim, float *out) {
  uint64_t seed = id * 7919 + 1;
  for (uint32_t i = 0; i < dim; i++) out[i] = test_uniform(&seed);
}

/* The payload inserted with id (NULL for every third id). */
static inline const char *db_payload(uint64_t id, char *buf, size_t cap) {
  if (id % 3 == 0) return NULL;
  snprintf(buf, cap, "{\"id\":%llu,\"group\":%llu,\"tag\":\"t%llu\"}", (unsigned long long)id,
           (unsigned long long)(id % 7), (unsigned long long)(id % 5));
  return buf;
}

/* Inserts ids [first, first + n) with db_vector and db_payload. */
static inline vexfs_status db_insert_range(vexfs_collection *c, uint64_t first, size_t n) {
  uint32_t dim = vexfs_dim(c);
  uint64_t *ids = malloc(n * sizeof *ids);
  float *vecs = malloc(n * dim * sizeof *vecs);
  const char **payloads = malloc(n * sizeof *payloads);
  char (*text)[96] = malloc(n * sizeof *text);
  for (size_t i = 0; i < n; i++) {
    ids[i] = first + i;
    db_vector(ids[i], dim, vecs + i * dim);
    payloads[i] = db_payload(ids[i], text[i], sizeof text[i]);
  }
  vexfs_status st = vexfs_insert_with_payload(c, ids, vecs, payloads, n);
  free(ids);
  free(vecs);
  free(payloads);
  free(text);
  return st;
}

/* What a collection should hold: per id (below DB_MODEL_IDS), present or not and its payload. */
#define DB_MODEL_IDS 8192
typedef struct db_model {
  unsigned char present[DB_MODEL_IDS];
  char *payload[DB_MODEL_IDS]; /* malloc'd JSON, or NULL */
} db_model;

static inline void db_model_clear(db_model *m) {
  for (size_t i = 0; i < DB_MODEL_IDS; i++) free(m->payload[i]);
  memset(m, 0, sizeof *m);
}
static inline void db_model_copy(db_model *to, const db_model *from) {
  memcpy(to->present, from->present, sizeof to->present);
  for (size_t i = 0; i < DB_MODEL_IDS; i++)
    to->payload[i] = from->payload[i] ? strdup(from->payload[i]) : NULL;
}
static inline void db_model_insert(db_model *m, uint64_t first, size_t n) {
  char buf[96];
  for (uint64_t id = first; id < first + n; id++) {
    const char *p = db_payload(id, buf, sizeof buf);
    m->present[id] = 1;
    free(m->payload[id]);
    m->payload[id] = p ? strdup(p) : NULL;
  }
}
static inline void db_model_remove(db_model *m, uint64_t id) {
  m->present[id] = 0;
  free(m->payload[id]);
  m->payload[id] = NULL;
}

/* Whether c holds exactly what m says: ids, bit-exact vectors, payloads. */
static inline int db_matches(vexfs_collection *c, const db_model *m) {
  uint32_t dim = vexfs_dim(c);
  float want[512], got[512];
  size_t n = 0;
  for (uint64_t id = 0; id < DB_MODEL_IDS; id++) {
    vexfs_status st = vexfs_get(c, id, got);
    if ((st == VEXFS_OK) != (m->present[id] != 0)) {
      fprintf(stderr, "db_matches: id %llu is %s\n", (unsigned long long)id,
              st == VEXFS_OK ? "present" : "missing");
      return 0;
    }
    if (st != VEXFS_OK) continue;
    n++;
    db_vector(id, dim, want);
    if (memcmp(want, got, dim * sizeof *got) != 0) return 0;
    char *json = NULL;
    if (vexfs_get_payload(c, id, &json) != VEXFS_OK) return 0;
    int same = (json == NULL && m->payload[id] == NULL) ||
               (json && m->payload[id] && strcmp(json, m->payload[id]) == 0);
    if (!same)
      fprintf(stderr, "db_matches: id %llu has payload %s, not %s\n", (unsigned long long)id,
              json ? json : "(none)", m->payload[id] ? m->payload[id] : "(none)");
    vexfs_free(json);
    if (!same) return 0;
  }
  return n == vexfs_count(c);
}

#define DB_PATH_MAX 4400

/* out = dir + "/" + file (out holds DB_PATH_MAX bytes); aborts rather than truncate. */
static inline void db_join(char *out, const char *dir, const char *file) {
  if (snprintf(out, DB_PATH_MAX, "%s/%s", dir, file) >= DB_PATH_MAX) abort();
}

/* A fresh empty directory under $TMPDIR (or /tmp); the caller frees the path. */
static inline char *db_tempdir(void) {
  const char *base = getenv("TMPDIR");
  char *path = malloc(4096);
  snprintf(path, 4096, "%s/vexfs-test-XXXXXX", base && *base ? base : "/tmp");
  if (!mkdtemp(path)) {
    free(path);
    return NULL;
  }
  return path;
}

/* Deletes a database directory (one level of files). */
static inline void db_rmdir(const char *path) {
  DIR *d = opendir(path);
  if (!d) return;
  struct dirent *e;
  char file[DB_PATH_MAX];
  while ((e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
      db_join(file, path, e->d_name);
      unlink(file);
    }
  closedir(d);
  rmdir(path);
}

/* A file's bytes (malloc'd; *n gets the length), or NULL when it cannot be read. */
static inline uint8_t *db_read_file(const char *path, size_t *n) {
  *n = 0;
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  *n = (size_t)ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *p = malloc(*n ? *n : 1);
  if (p && fread(p, 1, *n, f) != *n) {
    free(p);
    p = NULL;
  }
  fclose(f);
  return p;
}

/* Writes n bytes as the file's whole contents; 0 or -1. */
static inline int db_write_file(const char *path, const uint8_t *p, size_t n) {
  FILE *f = fopen(path, "wb");
  int rc = f && fwrite(p, 1, n, f) == n ? 0 : -1;
  if (f && fclose(f) != 0) rc = -1;
  return rc;
}

/* Copies a file; 0 or -1. */
static inline int db_copy_file(const char *from, const char *to) {
  FILE *in = fopen(from, "rb"), *out = in ? fopen(to, "wb") : NULL;
  char buf[65536];
  size_t n;
  int rc = in && out ? 0 : -1;
  while (rc == 0 && (n = fread(buf, 1, sizeof buf, in)) > 0)
    if (fwrite(buf, 1, n, out) != n) rc = -1;
  if (in) fclose(in);
  if (out && fclose(out) != 0) rc = -1;
  return rc;
}

/* Copies dir_from/file to dir_to/file; 0 or -1. */
static inline int db_copy_into(const char *dir_from, const char *dir_to, const char *file) {
  char from[DB_PATH_MAX], to[DB_PATH_MAX];
  db_join(from, dir_from, file);
  db_join(to, dir_to, file);
  return db_copy_file(from, to);
}

#endif

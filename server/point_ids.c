/* Qdrant point ids are unsigned 64-bit integers or UUIDs; the library's are u64. A UUID gets an
 * id of its own, handed out downwards from UINT64_MAX - 1 past every id in use, and recorded in
 * the collection's companion (row id = the point's id, payload {"uuid": "..."}, under a keyword
 * index) before the point is written, so the mapping is durable and no two points share an id:
 * a number already held by a UUID is refused when written and not found when read. */
#include <inttypes.h>
#include <stdio.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"

#define UUID_PREFIX "{\"uuid\":\""

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Hyphenated (8-4-4-4-12) or 32 plain hex digits, any case, also braced ({...}) or as a URN
 * (urn:uuid:...), the forms Qdrant takes. */
int vs_uuid_parse(const char *s, char uuid[37]) {
  size_t len = strlen(s);
  if (len == 38 && s[0] == '{' && s[37] == '}') {
    char inner[37];
    memcpy(inner, s + 1, 36);
    inner[36] = 0;
    return vs_uuid_parse(inner, uuid);
  }
  if (len > 9 && strncasecmp(s, "urn:uuid:", 9) == 0) return vs_uuid_parse(s + 9, uuid);
  int hyphens = len == 36;
  if (len != 36 && len != 32) return 0;
  char digits[32];
  size_t d = 0;
  for (size_t i = 0; i < len; i++) {
    if (hyphens && (i == 8 || i == 13 || i == 18 || i == 23)) {
      if (s[i] != '-') return 0;
      continue;
    }
    if (hexval(s[i]) < 0) return 0;
    digits[d++] = (char)(s[i] >= 'A' && s[i] <= 'F' ? s[i] - 'A' + 'a' : s[i]);
  }
  size_t o = 0;
  for (size_t i = 0; i < 32; i++) {
    if (i == 8 || i == 12 || i == 16 || i == 20) uuid[o++] = '-';
    uuid[o++] = digits[i];
  }
  uuid[36] = 0;
  return 1;
}

int vs_point_id_parse(json_object *v, uint64_t *num, char uuid[37]) {
  if (json_object_is_type(v, json_type_int)) {
    if (json_object_get_int64(v) < 0) return 0;
    *num = json_object_get_uint64(v);
    return *num == UINT64_MAX ? 0 : 1; /* the library reserves it */
  }
  if (json_object_is_type(v, json_type_string) && vs_uuid_parse(json_object_get_string(v), uuid))
    return 2;
  return 0;
}

/* The id the companion gives uuid; 0 when it has none (ids given to UUIDs are never 0). */
static uint64_t uuid_find(vs_coll *k, const char *uuid) {
  char filter[128];
  snprintf(filter, sizeof filter, "{\"must\":[{\"key\":\"uuid\",\"match\":{\"value\":\"%s\"}}]}",
           uuid);
  uint64_t *ids = NULL, id = 0;
  size_t n = 0;
  if (vexfs_list_ids_filtered(k->meta, filter, &ids, &n) == VEXFS_OK && n == 1) id = ids[0];
  vexfs_free(ids);
  return id;
}

/* Whether a UUID holds id (then the number id names no point of its own). */
static int held_by_uuid(vs_coll *k, uint64_t id) {
  if (id == 0 || id < __atomic_load_n(&k->uuid_floor, __ATOMIC_ACQUIRE)) return 0;
  float v;
  return vexfs_get(k->meta, id, &v) == VEXFS_OK;
}

static int bad_id(vs_request *rq, vs_response *rs, json_object *v) {
  vs_fail(rq, rs, 400,
          "Bad request: point id %s is neither an unsigned integer (below 2^64 - 1) nor a UUID",
          json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
  return -1;
}

int vs_ids_lookup(vs_request *rq, vs_response *rs, vs_coll *k, json_object *list, uint64_t *ids,
                  uint8_t *found) {
  size_t n = json_object_array_length(list);
  for (size_t i = 0; i < n; i++) {
    json_object *v = json_object_array_get_idx(list, i);
    char uuid[37];
    switch (vs_point_id_parse(v, &ids[i], uuid)) {
    case 1: found[i] = !held_by_uuid(k, ids[i]); break;
    case 2: found[i] = (ids[i] = uuid_find(k, uuid)) != 0; break;
    default: return bad_id(rq, rs, v);
    }
  }
  return 0;
}

int vs_compare_ids(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

/* A UUID of a batch being written, and where in the batch it is. */
typedef struct pending {
  char uuid[37];
  size_t at;
} pending;

static int by_uuid(const void *a, const void *b) {
  return strcmp(((const pending *)a)->uuid, ((const pending *)b)->uuid);
}

/* Whether id is taken: by a point, by a UUID's record, or by a number of the batch being
 * written (nums, sorted). */
static int id_taken(vs_coll *k, uint64_t id, float *scratch, const uint64_t *nums, size_t nnums) {
  float v;
  return vexfs_get(k->points, id, scratch) == VEXFS_OK || vexfs_get(k->meta, id, &v) == VEXFS_OK ||
         bsearch(&id, nums, nnums, sizeof *nums, vs_compare_ids);
}

int vs_ids_assign(vs_request *rq, vs_response *rs, vs_coll *k, json_object *const *given,
                  size_t n, uint64_t *ids) {
  uint64_t *fresh = malloc((n ? n : 1) * sizeof *fresh);
  char **fresh_json = calloc(n ? n : 1, sizeof *fresh_json);
  pending *uuids = malloc((n ? n : 1) * sizeof *uuids);
  float *scratch = malloc(k->dim * sizeof(float));
  uint64_t *nums = malloc((n ? n : 1) * sizeof *nums);
  float *zeros = calloc(n ? n : 1, sizeof *zeros); /* the records' 1-d vectors */
  size_t nfresh = 0, nnums = 0, nuuids = 0;
  int rc = -1;
  if (!fresh || !fresh_json || !uuids || !scratch || !nums || !zeros) {
    vs_fail(rq, rs, 503, "Service unavailable: out of memory");
    goto done;
  }
  for (size_t i = 0; i < n; i++) { /* the numbers first: no UUID may be given one of them */
    int kind = vs_point_id_parse(given[i], &ids[i], uuids[nuuids].uuid);
    if (kind == 0) {
      bad_id(rq, rs, given[i]);
      goto done;
    }
    if (kind == 2) {
      uuids[nuuids++].at = i;
      continue;
    }
    if (held_by_uuid(k, ids[i])) {
      vs_fail(rq, rs, 400, "Bad request: point id %" PRIu64 " is taken by a UUID point", ids[i]);
      goto done;
    }
    nums[nnums++] = ids[i];
  }
  qsort(nums, nnums, sizeof *nums, vs_compare_ids);
  /* UUIDs in order, so that one given twice in the batch is looked up and given an id once */
  qsort(uuids, nuuids, sizeof *uuids, by_uuid);
  uint64_t floor = k->uuid_floor;
  for (size_t u = 0; u < nuuids; u++) {
    const pending *p = &uuids[u];
    if (u > 0 && strcmp(p->uuid, uuids[u - 1].uuid) == 0) {
      ids[p->at] = ids[uuids[u - 1].at];
      continue;
    }
    if ((ids[p->at] = uuid_find(k, p->uuid)) != 0) continue;
    do
      floor--;
    while (floor > 0 && id_taken(k, floor, scratch, nums, nnums));
    if (floor == 0) {
      vs_fail(rq, rs, 400, "Bad request: no ids are left for UUID points");
      goto done;
    }
    fresh[nfresh] = ids[p->at] = floor;
    if (!(fresh_json[nfresh] = malloc(sizeof UUID_PREFIX + 40))) {
      vs_fail(rq, rs, 503, "Service unavailable: out of memory");
      goto done;
    }
    sprintf(fresh_json[nfresh++], UUID_PREFIX "%s\"}", p->uuid);
  }
  if (nfresh) {
    vexfs_status st = vexfs_insert_with_payload(k->meta, fresh, zeros,
                                                (const char *const *)fresh_json, nfresh);
    if (st != VEXFS_OK) {
      vs_fail_lib(rq, rs, st);
      goto done;
    }
    __atomic_store_n(&k->uuid_floor, floor, __ATOMIC_RELEASE);
  }
  rc = 0;
done:
  for (size_t i = 0; fresh_json && i < nfresh; i++) free(fresh_json[i]);
  free(fresh), free(fresh_json), free(uuids), free(scratch), free(nums), free(zeros);
  return rc;
}

int vs_id_uuid(vs_coll *k, uint64_t id, char uuid[37]) {
  if (id == 0 || id < __atomic_load_n(&k->uuid_floor, __ATOMIC_ACQUIRE)) return 0;
  char *text = NULL;
  int found = vexfs_get_payload(k->meta, id, &text) == VEXFS_OK && text &&
              strncmp(text, UUID_PREFIX, sizeof UUID_PREFIX - 1) == 0 &&
              strlen(text) == sizeof UUID_PREFIX - 1 + 38;
  if (found) {
    memcpy(uuid, text + sizeof UUID_PREFIX - 1, 36);
    uuid[36] = 0;
  }
  vexfs_free(text);
  return found;
}

json_object *vs_id_json(vs_coll *k, uint64_t id) {
  char uuid[37];
  return vs_id_uuid(k, id, uuid) ? json_object_new_string(uuid) : json_object_new_uint64(id);
}

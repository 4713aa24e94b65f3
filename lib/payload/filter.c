/* Compiling Qdrant-style JSON filters (filter.h): parse the text into packed JSON, then walk it
 * into nodes, checking every operator and operand. Errors name the place in the filter as a path
 * ("filter.must[2].match.any[0]"). */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../alloc_internal.h"
#include "../errors_internal.h"
#include "../json/packed.h"
#include "filter.h"

#define MAX_PATH_TEXT 200 /* bytes of "where" kept for messages */

typedef struct compiler {
  const char *fn;
  vx_buf nodes, kids, values, ids, segs; /* arrays of vx_fnode, uint32_t, ... */
  char where[MAX_PATH_TEXT + 32];
  size_t where_len;
  vexfs_status st;
} compiler;

__attribute__((format(printf, 2, 3))) static int error_at(compiler *c, const char *fmt, ...) {
  char what[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  c->st = vx_fail(VEXFS_E_INVALID, "%s: %s: %s", c->fn, c->where, what);
  return -1;
}

/* Appends ".name" or "[i]" to the place being compiled; returns the length to restore. */
static size_t enter(compiler *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static size_t enter(compiler *c, const char *fmt, ...) {
  size_t saved = c->where_len;
  if (saved < MAX_PATH_TEXT) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(c->where + saved, sizeof c->where - saved, fmt, ap);
    va_end(ap);
    if (n > 0) c->where_len = saved + (size_t)n < sizeof c->where ? saved + (size_t)n : sizeof c->where - 1;
  }
  return saved;
}
/* enter() for an object member: ".key" (at most 64 bytes of it). */
static size_t enter_key(compiler *c, const char *key, size_t len) {
  return enter(c, ".%.*s", (int)(len > 64 ? 64 : len), key ? key : "");
}

static void leave(compiler *c, size_t saved) {
  c->where_len = saved;
  c->where[saved] = 0;
}

static int key_is(const char *key, size_t len, const char *name) {
  return strlen(name) == len && memcmp(key, name, len) == 0;
}

static uint32_t count_of(const vx_buf *b, size_t elem) { return (uint32_t)(b->n / elem); }

static uint32_t new_node(compiler *c, uint8_t kind) {
  vx_fnode n = {.kind = kind, .bound = {NAN, NAN, NAN, NAN}};
  uint32_t at = count_of(&c->nodes, sizeof n);
  vx_buf_put(&c->nodes, &n, sizeof n);
  return at;
}

static vx_fnode *node(compiler *c, uint32_t i) {
  return c->nodes.failed ? NULL : (vx_fnode *)c->nodes.p + i;
}

/* Sets a node's children from a list of node numbers. */
static void set_children(compiler *c, uint32_t parent, const vx_buf *list) {
  vx_fnode *p = node(c, parent);
  if (!p) return;
  p->first = count_of(&c->kids, sizeof(uint32_t));
  p->count = count_of(list, sizeof(uint32_t));
  vx_buf_put(&c->kids, list->p, list->n);
}

static int compile_filter(compiler *c, const uint8_t *v, uint32_t *out);

/* Ends a group: on success, *out becomes a new node of `kind` over the node numbers in list.
 * Frees list; returns rc, or -1 when list ran out of memory. */
static int make_group(compiler *c, uint8_t kind, vx_buf *list, int rc, uint32_t *out) {
  if (rc == 0 && list->failed)
    rc = -1, c->st = vx_fail(VEXFS_E_NOMEM, "%s: filter: out of memory", c->fn);
  if (rc == 0) {
    *out = new_node(c, kind);
    set_children(c, *out, list);
  }
  vx_buf_free(list);
  return rc;
}

/* "key": a dotted path. Empty segments are errors; a "[]" after a segment is ignored. */
static int compile_path(compiler *c, const uint8_t *v, uint32_t target) {
  size_t saved = enter(c, ".key");
  if (vx_j_type(v) != VX_J_STRING) return error_at(c, "expected a string, got %s", vx_j_type_name(v));
  size_t len;
  const char *s = vx_j_string(v, &len);
  if (len == 0 || len > VEXFS_MAX_KEY_BYTES)
    return error_at(c, "a key must be 1..%u bytes (VEXFS_MAX_KEY_BYTES)", VEXFS_MAX_KEY_BYTES);
  vx_fseg segs[VEXFS_MAX_KEY_SEGMENTS];
  uint32_t n;
  if (vx_path_split(s, len, segs, VEXFS_MAX_KEY_SEGMENTS, &n) != 0)
    return error_at(c, "key \"%.*s\" has an empty segment or more than %u",
                    (int)(len > 64 ? 64 : len), s, VEXFS_MAX_KEY_SEGMENTS);
  uint32_t first = count_of(&c->segs, sizeof(vx_fseg));
  vx_buf_put(&c->segs, segs, n * sizeof *segs);
  leave(c, saved);
  vx_fnode *t = node(c, target);
  if (t) t->seg = first, t->nseg = n;
  return 0;
}

/* A value `match` compares: string, integer or boolean. */
static int check_match_value(compiler *c, const uint8_t *v) {
  unsigned t = vx_j_type(v);
  if (t == VX_J_STRING || t == VX_J_INT || t == VX_J_UINT || t == VX_J_TRUE || t == VX_J_FALSE)
    return 0;
  return error_at(c, "expected a string, integer or boolean, got %s", vx_j_type_name(v));
}

static int compile_match(compiler *c, const uint8_t *v, uint32_t target) {
  if (vx_j_type(v) != VX_J_OBJECT) return error_at(c, "expected an object, got %s", vx_j_type_name(v));
  vx_j_iter it;
  if (vx_j_open(v, &it) != 1)
    return error_at(c, "expected exactly one of \"value\", \"any\" or \"except\"");
  const char *k = NULL;
  size_t kl = 0;
  const uint8_t *val;
  vx_j_next(&it, &k, &kl, &val);
  size_t saved = enter_key(c, k, kl);
  vx_fnode *t = node(c, target);
  uint32_t first = count_of(&c->values, sizeof val), count = 0;
  if (key_is(k, kl, "value")) {
    if (check_match_value(c, val)) return -1;
    vx_buf_put(&c->values, &val, sizeof val);
    count = 1;
    if (t) t->kind = VX_F_MATCH;
  } else if (key_is(k, kl, "any") || key_is(k, kl, "except")) {
    if (vx_j_type(val) != VX_J_ARRAY)
      return error_at(c, "expected an array, got %s", vx_j_type_name(val));
    vx_j_iter items;
    vx_j_open(val, &items);
    const uint8_t *item;
    int strings = -1; /* all strings (1) or all integers (0), as Qdrant requires */
    while (vx_j_next(&items, NULL, NULL, &item)) {
      size_t at = enter(c, "[%" PRIu32 "]", count);
      unsigned type = vx_j_type(item);
      int is_string = type == VX_J_STRING;
      if (!is_string && type != VX_J_INT && type != VX_J_UINT)
        return error_at(c, "expected a string or an integer, got %s", vx_j_type_name(item));
      if (strings >= 0 && strings != is_string)
        return error_at(c, "mixes strings and integers; use one type per list");
      strings = is_string;
      leave(c, at);
      vx_buf_put(&c->values, &item, sizeof item);
      count++;
    }
    if (t) t->kind = key_is(k, kl, "any") ? VX_F_MATCH : VX_F_EXCEPT;
  } else {
    return error_at(c, "unknown match operator; expected \"value\", \"any\" or \"except\"");
  }
  t = node(c, target);
  if (t) t->first = first, t->count = count;
  leave(c, saved);
  return 0;
}

/* {"gt": x, "gte": x, "lt": x, "lte": x}, at least one; counts must be integers >= 0. */
static int compile_bounds(compiler *c, const uint8_t *v, uint32_t target, int counts) {
  if (vx_j_type(v) != VX_J_OBJECT) return error_at(c, "expected an object, got %s", vx_j_type_name(v));
  vx_j_iter it;
  if (vx_j_open(v, &it) == 0) return error_at(c, "expected at least one of gt, gte, lt, lte");
  const char *k;
  size_t kl;
  const uint8_t *val;
  while (vx_j_next(&it, &k, &kl, &val)) {
    size_t saved = enter_key(c, k, kl);
    if (!vx_j_is_number(val)) return error_at(c, "expected a number, got %s", vx_j_type_name(val));
    if (counts && (vx_j_type(val) == VX_J_DOUBLE || (vx_j_type(val) == VX_J_INT && vx_j_int(val) < 0)))
      return error_at(c, "expected a count (an integer >= 0)");
    static const char *const names[] = {"gt", "gte", "lt", "lte"};
    int which = 0;
    while (which < 4 && !key_is(k, kl, names[which])) which++;
    if (which == 4) return error_at(c, "unknown bound; expected gt, gte, lt or lte");
    vx_fnode *t = node(c, target);
    if (t) t->bound[which] = vx_j_number(val); /* names[] follows VX_GT.. */
    leave(c, saved);
  }
  return 0;
}

/* {"key": ..., "match"|"range"|"values_count": ...}: one node per check, under an ALL node when
 * there are several. */
static int compile_field(compiler *c, const uint8_t *v, uint32_t *out) {
  vx_buf checks = {.pooled = 1};
  vx_j_iter it;
  vx_j_open(v, &it);
  const char *k;
  size_t kl;
  const uint8_t *val, *key = vx_j_member(v, "key", 3);
  int rc = 0;
  while (rc == 0 && vx_j_next(&it, &k, &kl, &val)) {
    if (key_is(k, kl, "key")) continue;
    size_t saved = enter_key(c, k, kl);
    uint32_t n;
    if (key_is(k, kl, "match")) {
      n = new_node(c, VX_F_MATCH);
      rc = compile_match(c, val, n);
    } else if (key_is(k, kl, "range")) {
      n = new_node(c, VX_F_RANGE);
      rc = compile_bounds(c, val, n, 0);
    } else if (key_is(k, kl, "values_count")) {
      n = new_node(c, VX_F_COUNT);
      rc = compile_bounds(c, val, n, 1);
    } else {
      rc = error_at(c, "unknown condition; expected \"match\", \"range\" or \"values_count\"");
      break;
    }
    leave(c, saved);
    if (rc == 0) rc = compile_path(c, key, n);
    vx_buf_put(&checks, &n, sizeof n);
  }
  if (rc == 0 && checks.n == 0)
    rc = error_at(c, "a condition on a key needs \"match\", \"range\" or \"values_count\"");
  if (rc == 0 && checks.n == sizeof(uint32_t)) { /* one check needs no group */
    memcpy(out, checks.p, sizeof *out);
    vx_buf_free(&checks);
    return 0;
  }
  return make_group(c, VX_F_ALL, &checks, rc, out);
}

static int compile_ids(compiler *c, const uint8_t *v, uint32_t *out) {
  if (vx_j_type(v) != VX_J_ARRAY) return error_at(c, "expected an array of ids, got %s", vx_j_type_name(v));
  *out = new_node(c, VX_F_HAS_ID);
  uint32_t first = count_of(&c->ids, sizeof(uint64_t)), count = 0;
  vx_j_iter it;
  vx_j_open(v, &it);
  const uint8_t *item;
  while (vx_j_next(&it, NULL, NULL, &item)) {
    size_t saved = enter(c, "[%" PRIu32 "]", count);
    unsigned t = vx_j_type(item);
    if (!(t == VX_J_UINT || (t == VX_J_INT && vx_j_int(item) >= 0)))
      return error_at(c, "expected an id (an integer >= 0), got %s", vx_j_type_name(item));
    uint64_t id = t == VX_J_UINT ? vx_j_uint(item) : (uint64_t)vx_j_int(item);
    vx_buf_put(&c->ids, &id, sizeof id);
    count++;
    leave(c, saved);
  }
  vx_fnode *n = node(c, *out);
  if (n) n->first = first, n->count = count;
  return 0;
}

/* {"is_empty": {"key": path}} and {"is_null": {"key": path}} */
static int compile_key_test(compiler *c, const uint8_t *v, uint8_t kind, uint32_t *out) {
  if (vx_j_type(v) != VX_J_OBJECT) return error_at(c, "expected an object, got %s", vx_j_type_name(v));
  vx_j_iter it;
  const uint8_t *key = vx_j_member(v, "key", 3);
  if (vx_j_open(v, &it) != 1 || !key) return error_at(c, "expected {\"key\": \"...\"}");
  *out = new_node(c, kind);
  return compile_path(c, key, *out);
}

static int compile_condition(compiler *c, const uint8_t *v, uint32_t *out) {
  if (vx_j_type(v) != VX_J_OBJECT)
    return error_at(c, "expected a condition object, got %s", vx_j_type_name(v));
  if (vx_j_member(v, "key", 3)) return compile_field(c, v, out);
  vx_j_iter it;
  size_t n = vx_j_open(v, &it);
  const char *k;
  size_t kl;
  const uint8_t *val;
  if (n == 1 && vx_j_next(&it, &k, &kl, &val)) {
    size_t saved = enter_key(c, k, kl);
    int rc = 1;
    if (key_is(k, kl, "is_empty")) rc = compile_key_test(c, val, VX_F_IS_EMPTY, out);
    else if (key_is(k, kl, "is_null")) rc = compile_key_test(c, val, VX_F_IS_NULL, out);
    else if (key_is(k, kl, "has_id")) rc = compile_ids(c, val, out);
    leave(c, saved);
    if (rc != 1) return rc;
  }
  return compile_filter(c, v, out); /* a nested filter */
}

/* The list of a clause: one condition or an array of them. */
static int compile_clause(compiler *c, const uint8_t *v, uint8_t kind, uint32_t *out) {
  vx_buf list = {.pooled = 1};
  int rc = 0;
  uint32_t n;
  if (vx_j_type(v) == VX_J_ARRAY) {
    vx_j_iter it;
    vx_j_open(v, &it);
    const uint8_t *item;
    for (uint32_t i = 0; rc == 0 && vx_j_next(&it, NULL, NULL, &item); i++) {
      size_t saved = enter(c, "[%" PRIu32 "]", i);
      if ((rc = compile_condition(c, item, &n)) == 0) vx_buf_put(&list, &n, sizeof n);
      leave(c, saved);
    }
  } else if ((rc = compile_condition(c, v, &n)) == 0) {
    vx_buf_put(&list, &n, sizeof n);
  }
  return make_group(c, kind, &list, rc, out);
}

static int compile_filter(compiler *c, const uint8_t *v, uint32_t *out) {
  if (vx_j_type(v) != VX_J_OBJECT) return error_at(c, "expected an object, got %s", vx_j_type_name(v));
  vx_buf clauses = {.pooled = 1};
  vx_j_iter it;
  vx_j_open(v, &it);
  const char *k;
  size_t kl;
  const uint8_t *val;
  int rc = 0;
  while (rc == 0 && vx_j_next(&it, &k, &kl, &val)) {
    uint8_t kind = key_is(k, kl, "must") ? VX_F_ALL
                   : key_is(k, kl, "should") ? VX_F_ANY
                   : key_is(k, kl, "must_not") ? VX_F_NONE
                                                : 0xff;
    size_t saved = enter_key(c, k, kl);
    if (kind == 0xff) {
      rc = error_at(c, "unknown operator; expected \"must\", \"should\", \"must_not\", \"key\", "
                       "\"is_empty\", \"is_null\" or \"has_id\"");
      break;
    }
    uint32_t n;
    if ((rc = compile_clause(c, val, kind, &n)) == 0) vx_buf_put(&clauses, &n, sizeof n);
    leave(c, saved);
  }
  return make_group(c, VX_F_ALL, &clauses, rc, out);
}

static int id_order(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

vexfs_status vx_filter_compile(const char *fn, const char *json, vx_filter_prog *out) {
  memset(out, 0, sizeof *out);
  size_t len = strnlen(json, (size_t)VEXFS_MAX_FILTER_BYTES + 1);
  if (len > VEXFS_MAX_FILTER_BYTES)
    return vx_fail(VEXFS_E_INVALID, "%s: filter is longer than VEXFS_MAX_FILTER_BYTES (%u bytes)",
                   fn, VEXFS_MAX_FILTER_BYTES);
  /* everything lives in pooled buffers: a search compiles its filter without allocator calls */
  vx_buf packed = {.pooled = 1};
  char error[160];
  int rc = vx_json_parse(json, len, &packed, error, sizeof error);
  if (rc != 0) {
    vx_buf_free(&packed);
    if (rc == -2) return vx_fail(VEXFS_E_NOMEM, "%s: filter: out of memory", fn);
    return vx_fail(VEXFS_E_INVALID, "%s: filter is not valid JSON: %s", fn, error);
  }
  compiler c = {.fn = fn,
                .st = VEXFS_OK,
                .nodes = {.pooled = 1},
                .kids = {.pooled = 1},
                .values = {.pooled = 1},
                .ids = {.pooled = 1},
                .segs = {.pooled = 1}};
  strcpy(c.where, "filter");
  c.where_len = strlen(c.where);
  /* the root node is compiled last but must be node 0: reserve it, then copy the real root in */
  uint32_t root = new_node(&c, VX_F_ALL), top;
  rc = compile_filter(&c, packed.p, &top);
  vx_buf *owned[VX_FILTER_BUFFERS] = {&packed, &c.nodes, &c.kids, &c.values, &c.ids, &c.segs};
  int failed = 0;
  for (int i = 0; i < VX_FILTER_BUFFERS; i++) failed |= owned[i]->failed;
  if (rc == 0 && failed) c.st = vx_fail(VEXFS_E_NOMEM, "%s: filter: out of memory", fn);
  if (rc != 0 || failed) {
    for (int i = 0; i < VX_FILTER_BUFFERS; i++) vx_buf_free(owned[i]);
    return c.st;
  }
  vx_fnode *nodes = (vx_fnode *)c.nodes.p;
  nodes[root] = nodes[top];
  out->nodes = nodes;
  out->nnodes = c.nodes.n / sizeof(vx_fnode);
  out->kids = (uint32_t *)c.kids.p;
  out->values = (const uint8_t **)c.values.p;
  out->ids = (uint64_t *)c.ids.p;
  out->segs = (vx_fseg *)c.segs.p;
  for (size_t i = 0; i < out->nnodes; i++)
    if (nodes[i].kind == VX_F_HAS_ID && nodes[i].count > 1)
      qsort(out->ids + nodes[i].first, nodes[i].count, sizeof(uint64_t), id_order);
  for (int i = 0; i < VX_FILTER_BUFFERS; i++) out->owned[i] = *owned[i];
  return VEXFS_OK;
}

void vx_filter_release(vx_filter_prog *f) {
  for (int i = 0; i < VX_FILTER_BUFFERS; i++) vx_buf_free(&f->owned[i]);
  memset(f, 0, sizeof *f);
}

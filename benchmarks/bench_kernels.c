/* Distance-kernel throughput for every instruction set this CPU runs, at the dimensions of common
 * embedding models. Vectors are in cache, so this measures arithmetic, not memory: items/s is
 * elements (coordinates) per second.
 *   kernel/<isa>/<op>/<dim>          one pair
 *   kernel/<isa>/<op>_many/<dim>     one query against 256 rows (the streaming search loop)
 *   kernel/<isa>/gemm_tile           the blocked-search micro-kernel; items/s = multiply-adds/s
 *   kernel/<isa>/<lean op>/<dim>     the memory-lean kernels, one call: f16 rows against an f32
 *                                    query, 4-bit and 8-bit codes, and the f16 conversions */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "gbench_shim.h"
#include "simd/simd_internal.h"

enum { ROWS = 256, KC = 256 };

typedef struct kernel_case {
  const vx_kernels *k;
  int op; /* 0 dot, 1 l2sq, 2 cosine */
  size_t dim;
  float *a, *b, *out;
} kernel_case;

static volatile float sink;

static void one_to_one(vxb_state *s, void *ctx) {
  kernel_case *c = ctx;
  float acc = 0;
  float (*f)(const float *, const float *, size_t) =
      c->op == 0 ? c->k->dot : c->op == 1 ? c->k->l2sq : c->k->cosine;
  while (vxb_keep_running(s)) acc += f(c->a, c->b, c->dim);
  sink = acc;
  vxb_set_items_processed(s, vxb_iterations(s) * (int64_t)c->dim);
}

static void one_to_many(vxb_state *s, void *ctx) {
  kernel_case *c = ctx;
  void (*f)(const float *, const float *, size_t, size_t, size_t, float *) =
      c->op == 0 ? c->k->dot_many : c->op == 1 ? c->k->l2sq_many : c->k->cosine_many;
  while (vxb_keep_running(s)) f(c->a, c->b, c->dim, ROWS, c->dim, c->out);
  sink = c->out[ROWS - 1];
  vxb_set_items_processed(s, vxb_iterations(s) * (int64_t)c->dim * ROWS);
}

static void gemm_tile(vxb_state *s, void *ctx) {
  kernel_case *c = ctx;
  const vx_kernels *k = c->k;
  while (vxb_keep_running(s)) k->gemm_tile(KC, c->a, KC, c->b, c->out, k->gemm_nr, 0);
  sink = c->out[0];
  vxb_set_items_processed(s, vxb_iterations(s) * (int64_t)KC * k->gemm_mr * k->gemm_nr);
}

static const char *const lean_ops[] = {"f16_l2sq", "f16_dot", "f32_to_f16", "f16_to_f32",
                                       "u4_l2sq",  "u4_dot",  "u8_l2sq",    "u8_dot"};

typedef struct lean_case {
  const vx_kernels *k;
  int op; /* index into lean_ops */
  size_t dim;
  float *q, *f; /* the query; floats to convert, and converted into */
  uint16_t *row;
  uint8_t *a, *b; /* codes: dim bytes, or dim / 2 packed nibbles */
} lean_case;

static volatile uint32_t isink;

static void lean(vxb_state *s, void *ctx) {
  lean_case *c = ctx;
  const vx_kernels *k = c->k;
  size_t d = c->dim;
  float acc = 0;
  uint32_t iacc = 0;
  switch (c->op) {
  case 0: while (vxb_keep_running(s)) acc += k->f16_l2sq(c->q, c->row, d); break;
  case 1: while (vxb_keep_running(s)) acc += k->f16_dot(c->q, c->row, d); break;
  case 2: while (vxb_keep_running(s)) k->f32_to_f16(c->q, c->row, d); break;
  case 3: while (vxb_keep_running(s)) k->f16_to_f32(c->row, c->f, d); break;
  case 4: while (vxb_keep_running(s)) iacc += k->u4_l2sq(c->a, c->b, d); break;
  case 5: while (vxb_keep_running(s)) iacc += k->u4_dot(c->a, c->b, d); break;
  case 6: while (vxb_keep_running(s)) iacc += k->u8_l2sq(c->a, c->b, d); break;
  default: while (vxb_keep_running(s)) iacc += k->u8_dot(c->a, c->b, d);
  }
  sink = acc + c->f[d - 1] + (float)c->row[d - 1];
  isink = iacc;
  vxb_set_items_processed(s, vxb_iterations(s) * (int64_t)d);
}

static float *filled(size_t n) {
  float *v = aligned_alloc(64, ((n * sizeof(float)) + 63) / 64 * 64);
  for (size_t i = 0; v && i < n; i++) v[i] = (float)((i * 7919) % 1000) / 1000.0f;
  return v;
}

int main(int argc, char **argv) {
  static const size_t dims[] = {96, 128, 384, 768, 1536};
  static const char *const ops[] = {"dot", "l2sq", "cosine"};
  static const size_t lean_dims[] = {96, 128, 784};
  size_t n;
  const vx_kernels *const *tabs = vx_simd_available(&n);
  char name[128];
  for (size_t t = 0; t < n; t++) {
    for (int op = 0; op < 3; op++)
      for (size_t d = 0; d < sizeof dims / sizeof *dims; d++) {
        kernel_case *c = malloc(sizeof *c);
        *c = (kernel_case){tabs[t], op, dims[d], filled(dims[d] * ROWS), filled(dims[d] * ROWS),
                           filled(ROWS)};
        snprintf(name, sizeof name, "kernel/%s/%s/%zu", tabs[t]->isa, ops[op], dims[d]);
        vxb_register(name, one_to_one, c);
        snprintf(name, sizeof name, "kernel/%s/%s_many/%zu", tabs[t]->isa, ops[op], dims[d]);
        vxb_register(name, one_to_many, c);
      }
    kernel_case *g = malloc(sizeof *g);
    *g = (kernel_case){tabs[t], 0, KC, filled(KC * tabs[t]->gemm_mr),
                       filled(KC * tabs[t]->gemm_nr), filled(tabs[t]->gemm_mr * tabs[t]->gemm_nr)};
    snprintf(name, sizeof name, "kernel/%s/gemm_tile", tabs[t]->isa);
    vxb_register(name, gemm_tile, g);
    for (int op = 0; op < (int)(sizeof lean_ops / sizeof *lean_ops); op++)
      for (size_t d = 0; d < sizeof lean_dims / sizeof *lean_dims; d++) {
        size_t dim = lean_dims[d];
        lean_case *c = malloc(sizeof *c);
        *c = (lean_case){tabs[t], op, dim, filled(dim), filled(dim), malloc(dim * 2),
                         malloc(dim), malloc(dim)};
        tabs[t]->f32_to_f16(c->f, c->row, dim);
        for (size_t i = 0; i < dim; i++) c->a[i] = (uint8_t)(i * 7919), c->b[i] = (uint8_t)(i * 31);
        snprintf(name, sizeof name, "kernel/%s/%s/%zu", tabs[t]->isa, lean_ops[op], dim);
        vxb_register(name, lean, c);
      }
  }
  return vxb_main(argc, argv); /* cases live until exit */
}

/* A C interface to Google Benchmark, so that benchmark bodies are written in C.
 *
 *   static void bench(vxb_state *s, void *ctx) {
 *     while (vxb_keep_running(s)) work(ctx);
 *     vxb_set_items_processed(s, vxb_iterations(s) * items_per_call);
 *   }
 *   vxb_register("name/arg", bench, ctx);   ...   return vxb_main(argc, argv);
 */
#ifndef VEXFS_GBENCH_SHIM_H
#define VEXFS_GBENCH_SHIM_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vxb_state vxb_state;
typedef void (*vxb_fn)(vxb_state *s, void *ctx);

/* Registers a benchmark; name is copied, ctx is passed to fn as is. */
void vxb_register(const char *name, vxb_fn fn, void *ctx);
int vxb_keep_running(vxb_state *s);
int64_t vxb_iterations(const vxb_state *s);
void vxb_set_items_processed(vxb_state *s, int64_t items);
void vxb_set_bytes_processed(vxb_state *s, int64_t bytes);
void vxb_set_label(vxb_state *s, const char *label);
/* Runs every registered benchmark with Google Benchmark's command line; returns the exit code. */
int vxb_main(int argc, char **argv);

#ifdef __cplusplus
}
#endif

#endif

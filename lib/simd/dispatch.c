/* Chooses the kernel table once, at load time: the best the CPU supports, capped by VEXFS_SIMD. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_internal.h"
#include "simd_internal.h"
#include "vexfs/vexfs.h"

static const vx_kernels *available[5];
static size_t n_available;
static const vx_kernels *chosen;
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* Ordering of the instruction sets for VEXFS_SIMD; -1 for a name that is none of them. A VNNI
 * level sits just above the one it extends, so naming that one turns VNNI off. */
static int level_of(const char *isa) {
  static const char *const names[] = {"scalar", "avx2", "avx2vnni", "avx512", "avx512vnni"};
  if (strcmp(isa, "neon") == 0) return 1;
  for (int i = 0; i < 5; i++)
    if (strcmp(isa, names[i]) == 0) return i;
  return -1;
}

static void choose(void) {
  available[n_available++] = &vx_kernels_scalar;
#if defined(__x86_64__)
  if (vx_cpu_has_avx2_fma()) available[n_available++] = &vx_kernels_avx2;
  if (vx_cpu_has_avx2_vnni()) available[n_available++] = &vx_kernels_avx2vnni;
  if (vx_cpu_has_avx512()) available[n_available++] = &vx_kernels_avx512;
  if (vx_cpu_has_avx512_vnni()) available[n_available++] = &vx_kernels_avx512vnni;
#endif
#if defined(__aarch64__)
  available[n_available++] = &vx_kernels_neon; /* Advanced SIMD is mandatory on AArch64 */
#endif
  chosen = available[n_available - 1];
  /* The cap: the best available table at or below the named level. Unknown names are ignored. */
  const char *cap = getenv("VEXFS_SIMD");
  int cap_level = cap ? level_of(cap) : -1;
  if (cap_level < 0) return;
  for (size_t i = 0; i < n_available; i++)
    if (level_of(available[i]->isa) <= cap_level) chosen = available[i];
}

__attribute__((constructor)) static void choose_at_load(void) { pthread_once(&once, choose); }

const vx_kernels *vx_simd(void) {
  pthread_once(&once, choose);
  return chosen;
}

const vx_kernels *const *vx_simd_available(size_t *n) {
  pthread_once(&once, choose);
  *n = n_available;
  return available;
}

VEXFS_API const char *vexfs_simd_isa(void) { return vx_simd()->isa; }

/* CPUID and XGETBV feature detection. Uses no instruction beyond baseline x86-64. */
#include "cpu_internal.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <stdint.h>

/* XCR0 bits: SSE and AVX (YMM) state, then AVX-512 opmask, ZMM_Hi256 and Hi16_ZMM state. */
#define XCR0_YMM 0x06u
#define XCR0_ZMM 0xe6u

static uint64_t read_xcr0(void) {
  uint32_t eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return ((uint64_t)edx << 32) | eax;
}

/* Leaf 1 ECX and leaf 7 EBX, or zeros when the leaves are missing. */
static void read_leaves(uint32_t *leaf1_ecx, uint32_t *leaf7_ebx) {
  uint32_t a, b, c, d;
  *leaf1_ecx = *leaf7_ebx = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return;
  *leaf1_ecx = c;
  if (__get_cpuid_max(0, 0) >= 7 && __get_cpuid_count(7, 0, &a, &b, &c, &d)) *leaf7_ebx = b;
}

static int os_saves(uint64_t mask) {
  uint32_t ecx, ebx;
  read_leaves(&ecx, &ebx);
  if (!(ecx & bit_OSXSAVE)) return 0; /* XGETBV itself would fault */
  return (read_xcr0() & mask) == mask;
}

int vx_cpu_has_avx2_fma(void) {
  uint32_t ecx, ebx;
  read_leaves(&ecx, &ebx);
  int cpu = (ecx & bit_AVX) && (ecx & bit_FMA) && (ebx & bit_AVX2);
  return cpu && os_saves(XCR0_YMM);
}

int vx_cpu_has_avx512(void) {
  uint32_t ecx, ebx;
  read_leaves(&ecx, &ebx);
  uint32_t need = bit_AVX512F | bit_AVX512BW | bit_AVX512VL | bit_AVX512DQ;
  return vx_cpu_has_avx2_fma() && (ebx & need) == need && os_saves(XCR0_ZMM);
}

#else
int vx_cpu_has_avx2_fma(void) { return 0; }
int vx_cpu_has_avx512(void) { return 0; }
#endif

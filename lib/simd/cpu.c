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

/* The CPUID words the predicates read, zero where a leaf or subleaf is missing. */
typedef struct cpu_leaves {
  uint32_t leaf1_ecx, leaf7_ebx, leaf7_ecx, leaf7_1_eax;
} cpu_leaves;

static cpu_leaves read_leaves(void) {
  cpu_leaves l = {0, 0, 0, 0};
  uint32_t a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return l;
  l.leaf1_ecx = c;
  if (__get_cpuid_max(0, 0) < 7 || !__get_cpuid_count(7, 0, &a, &b, &c, &d)) return l;
  l.leaf7_ebx = b;
  l.leaf7_ecx = c;
  if (a >= 1 && __get_cpuid_count(7, 1, &a, &b, &c, &d)) l.leaf7_1_eax = a; /* a: last subleaf */
  return l;
}

static int os_saves(uint64_t mask) {
  if (!(read_leaves().leaf1_ecx & bit_OSXSAVE)) return 0; /* XGETBV itself would fault */
  return (read_xcr0() & mask) == mask;
}

/* F16C comes with every AVX2 CPU, but the avx2 table's f16 kernels use it, so it is checked too. */
int vx_cpu_has_avx2_fma(void) {
  cpu_leaves l = read_leaves();
  int cpu = (l.leaf1_ecx & bit_AVX) && (l.leaf1_ecx & bit_FMA) && (l.leaf1_ecx & bit_F16C) &&
            (l.leaf7_ebx & bit_AVX2);
  return cpu && os_saves(XCR0_YMM);
}

int vx_cpu_has_avx2_vnni(void) {
  return vx_cpu_has_avx2_fma() && (read_leaves().leaf7_1_eax & bit_AVXVNNI);
}

int vx_cpu_has_avx512(void) {
  uint32_t need = bit_AVX512F | bit_AVX512BW | bit_AVX512VL | bit_AVX512DQ;
  return vx_cpu_has_avx2_fma() && (read_leaves().leaf7_ebx & need) == need && os_saves(XCR0_ZMM);
}

int vx_cpu_has_avx512_vnni(void) {
  return vx_cpu_has_avx512() && (read_leaves().leaf7_ecx & bit_AVX512VNNI);
}

#else
int vx_cpu_has_avx2_fma(void) { return 0; }
int vx_cpu_has_avx2_vnni(void) { return 0; }
int vx_cpu_has_avx512(void) { return 0; }
int vx_cpu_has_avx512_vnni(void) { return 0; }
#endif

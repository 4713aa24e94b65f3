/* CPU feature predicates: one per instruction set the kernels use. Each is true only when the CPU
 * has the instructions AND the operating system saves the registers they use (XCR0). */
#ifndef VEXFS_CPU_INTERNAL_H
#define VEXFS_CPU_INTERNAL_H

int vx_cpu_has_avx2_fma(void);    /* AVX2 + FMA + F16C + OS-enabled YMM state */
int vx_cpu_has_avx2_vnni(void);   /* the above + AVX-VNNI (VEX-encoded vpdpbusd) */
int vx_cpu_has_avx512(void);      /* AVX-512 F/BW/VL/DQ + OS-enabled opmask and ZMM state */
int vx_cpu_has_avx512_vnni(void); /* the above + AVX512-VNNI */

#endif

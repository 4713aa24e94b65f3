/* float_text.c: a float as JSON text. */
#ifndef VEXFS_SERVER_FLOAT_TEXT_H
#define VEXFS_SERVER_FLOAT_TEXT_H

#include <stddef.h>

#define VS_FLOAT_TEXT_MAX 24 /* "-1.23456789e-45" and its NUL fit */

/* Writes v as printf("%.9g") does (nine significant digits, trailing zeros dropped), which reads
 * back as the same float. NaN and infinities, which JSON lacks, are "null". Returns the length,
 * without the NUL. Thread-safe. */
size_t vs_float_text(float v, char out[VS_FLOAT_TEXT_MAX]);

#endif

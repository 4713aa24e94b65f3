/* Scalar quantisation (see sq8.h). */
#include "sq8.h"

#include <math.h>
#include <string.h>

#include "../alloc_internal.h"
#include "../topk.h"

int vx_sq8_init_levels(vx_sq8 *q, uint32_t dim, uint32_t levels) {
  q->dim = dim;
  q->levels = levels;
  q->lo = vx_calloc(dim, sizeof *q->lo);
  q->scale = q->inv_scale = 1.0f;
  q->lo_sq = 0;
  return q->lo ? 0 : -1;
}

int vx_sq8_init(vx_sq8 *q, uint32_t dim) { return vx_sq8_init_levels(q, dim, 255); }

void vx_sq8_destroy(vx_sq8 *q) {
  vx_release(q->lo);
  q->lo = NULL;
}

void vx_sq8_extend_range(uint32_t dim, const float *const *rows, size_t n, float *lo, float *hi) {
  for (size_t i = 0; i < n; i++)
    for (uint32_t d = 0; d < dim; d++) { /* selects, not branches: the loop vectorises */
      float v = rows[i][d];
      lo[d] = v < lo[d] ? v : lo[d];
      hi[d] = v > hi[d] ? v : hi[d];
    }
}

int vx_sq8_extend_range_robust(uint32_t dim, const float *const *rows, size_t n, float *lo,
                               float *hi) {
  if (!n) return 0;
  double *mean = vx_calloc(dim, sizeof *mean);
  float *dist = vx_alloc(2 * n * sizeof *dist);
  if (!mean || !dist) {
    vx_release(mean);
    vx_release(dist);
    return -1;
  }
  for (size_t i = 0; i < n; i++)
    for (uint32_t d = 0; d < dim; d++) mean[d] += rows[i][d];
  for (uint32_t d = 0; d < dim; d++) mean[d] /= (double)n;
  for (size_t i = 0; i < n; i++) {
    double s = 0;
    for (uint32_t d = 0; d < dim; d++) s += (rows[i][d] - mean[d]) * (rows[i][d] - mean[d]);
    dist[i] = dist[n + i] = (float)sqrt(s);
  }
  float limit = VX_SQ8_OUTLIER_FACTOR * vx_select_kth(dist + n, n, n / 2);
  for (size_t i = 0; i < n; i++)
    if (limit == 0 || dist[i] <= limit) vx_sq8_extend_range(dim, rows + i, 1, lo, hi);
  vx_release(mean);
  vx_release(dist);
  return 0;
}

void vx_sq8_fit(vx_sq8 *q, const float *lo, const float *hi) {
  float span = 0;
  for (uint32_t d = 0; d < q->dim; d++)
    if (hi[d] - lo[d] > span) span = hi[d] - lo[d];
  q->scale = span > 0 ? span / (float)q->levels : 1.0f;
  q->inv_scale = 1.0f / q->scale;
  q->lo_sq = 0;
  for (uint32_t d = 0; d < q->dim; d++) {
    q->lo[d] = lo[d];
    q->lo_sq += (double)lo[d] * lo[d];
  }
}

void vx_sq8_fit_widened(vx_sq8 *q, float *lo, float *hi) {
  float span = 0;
  for (uint32_t d = 0; d < q->dim; d++)
    if (hi[d] - lo[d] > span) span = hi[d] - lo[d];
  for (uint32_t d = 0; d < q->dim; d++) {
    lo[d] -= 0.1f * span;
    hi[d] += 0.1f * span;
  }
  vx_sq8_fit(q, lo, hi);
}

int vx_sq8_covers(const vx_sq8 *q, const float *lo, const float *hi) {
  float top = ((float)q->levels + 0.5f) * q->scale;
  for (uint32_t d = 0; d < q->dim; d++)
    if (lo[d] < q->lo[d] || hi[d] - q->lo[d] > top) return 0;
  return 1;
}

float vx_sq8_encode(const vx_sq8 *q, const float *x, uint8_t *code) {
  float lx = 0;
  for (uint32_t d = 0; d < q->dim; d++) {
    code[d] = vx_sq8_code_of(q, d, x[d]);
    lx += q->lo[d] * (float)code[d];
  }
  return lx;
}

void vx_sq8_decode(const vx_sq8 *q, const uint8_t *code, uint32_t first, uint32_t n, float *out) {
  for (uint32_t i = 0; i < n; i++) out[i] = q->lo[first + i] + q->scale * (float)code[i];
}

float vx_sq8_error(const vx_sq8 *q, const float *x, const uint8_t *code) {
  float part[256];
  double e2 = 0;
  for (uint32_t d = 0; d < q->dim; d += 256) {
    uint32_t n = q->dim - d < 256 ? q->dim - d : 256;
    vx_sq8_decode(q, code + d, d, n, part);
    for (uint32_t i = 0; i < n; i++) e2 += ((double)x[d + i] - part[i]) * ((double)x[d + i] - part[i]);
  }
  return (float)sqrt(e2);
}

int vx_sq8_lossless(const vx_sq8 *q, const float *x, const uint8_t *code) {
  float part[256];
  for (uint32_t d = 0; d < q->dim; d += 256) {
    uint32_t n = q->dim - d < 256 ? q->dim - d : 256;
    vx_sq8_decode(q, code + d, d, n, part);
    if (memcmp(part, x + d, n * sizeof *part) != 0) return 0;
  }
  return 1;
}

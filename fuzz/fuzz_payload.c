/* libFuzzer target: the JSON payload parser. Any input must parse or fail cleanly; a payload that
 * parses must write back as JSON that parses to the same packed bytes, and merging it into itself
 * must give it back unchanged. */
#include <stdlib.h>
#include <string.h>

#include "alloc_internal.h"
#include "json/packed.h"
#include "payload/payloads.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = malloc(size + 1);
  if (!text) return 0;
  memcpy(text, data, size);
  text[size] = 0;
  uint8_t *blob;
  if (vx_payload_parse("fuzz", "payload", text, &blob) == VEXFS_OK) {
    char *again = vx_payload_text(blob);
    if (!again) abort();
    vx_buf second = {0};
    char error[160];
    if (vx_json_parse(again, strlen(again), &second, error, sizeof error) != 0) abort();
    size_t n = vx_j_size(blob);
    if (second.n != n || memcmp(second.p, blob, n) != 0) abort();
    vx_buf merged = {0};
    vx_json_merge(blob, blob, &merged);
    if (merged.failed || merged.n != n || memcmp(merged.p, blob, n) != 0) abort();
    vx_buf_free(&merged);
    vx_buf_free(&second);
    vx_release(again);
    vx_release(blob);
  }
  free(text);
  return 0;
}

/* libFuzzer target: write-ahead-log recovery. The input is framed as records ({u8 type, u16
 * length, body}...), which are written as a log with correct sequence numbers and checksums, so
 * that mutated bodies reach the record decoder and replay; an input whose first byte is 0xFF is
 * instead written as the log file verbatim (framing, torn tails, damage). Opening must succeed or
 * fail cleanly (CORRUPT / UNSUPPORTED / NOMEM), never crash. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "persist/wal.h"
#include "vexfs/vexfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64], wal_path[96];

static void put(FILE *f, const void *p, size_t n) { fwrite(p, 1, n, f); }

static void remove_dir(void) { /* at exit: the scratch database */
  char path[128];
  const char *files[] = {"LOCK", "wal.log"};
  for (int i = 0; i < 2; i++) {
    snprintf(path, sizeof path, "%s/%s", dir, files[i]);
    unlink(path);
  }
  rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!dir[0]) {
    snprintf(dir, sizeof dir, "/tmp/vexfs-fuzz-wal-%d", (int)getpid());
    mkdir(dir, 0755);
    char lock[96];
    snprintf(lock, sizeof lock, "%s/LOCK", dir);
    close(open(lock, O_CREAT | O_WRONLY, 0644));
    snprintf(wal_path, sizeof wal_path, "%s/wal.log", dir);
    atexit(remove_dir);
  }
  FILE *f = fopen(wal_path, "wb");
  if (!f) return 0;
  if (size > 0 && data[0] == 0xFF) {
    put(f, data + 1, size - 1);
  } else {
    uint8_t h[32] = {'V', 'E', 'X', 'F', 'S', 'W', 'A', 'L', 1, 0, 0, 0, 32, 0, 0, 0};
    uint64_t salt = 42, sum;
    memcpy(h + 16, &salt, 8);
    sum = XXH3_64bits(h, 24);
    memcpy(h + 24, &sum, 8);
    put(f, h, sizeof h);
    uint64_t seq = 1;
    for (size_t at = 0; at + 3 <= size; seq++) {
      uint32_t type = data[at];
      size_t len = (size_t)data[at + 1] | (size_t)data[at + 2] << 8;
      at += 3;
      if (len > size - at) len = size - at;
      uint8_t head[32];
      uint32_t magic = 0x43525856u;
      uint64_t blen = len;
      memcpy(head, &magic, 4);
      memcpy(head + 4, &type, 4);
      memcpy(head + 8, &seq, 8);
      memcpy(head + 16, &blen, 8);
      struct iovec body = {(void *)(data + at), len};
      sum = vx_wal_record_checksum(salt, head, &body, 1);
      memcpy(head + 24, &sum, 8);
      put(f, head, sizeof head);
      put(f, data + at, len);
      at += len;
    }
  }
  fclose(f);
  vexfs_db_options o;
  vexfs_db_options_init(&o);
  o.read_only = 1;
  vexfs_db *db = NULL;
  vexfs_status st = vexfs_db_open(dir, &o, &db);
  if (st != VEXFS_OK && st != VEXFS_E_CORRUPT && st != VEXFS_E_UNSUPPORTED && st != VEXFS_E_NOMEM)
    abort();
  vexfs_db_close(db);
  return 0;
}

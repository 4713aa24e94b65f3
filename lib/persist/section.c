/* Snapshot container (see section.h). */
#include "section.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
/* for ZSTD_customMem: zstd allocates through our allocator hooks too (exported by libzstd since
 * 1.0, unchanged since) */
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "../alloc_internal.h"
#include "../buf.h"
#include "../errors_internal.h"
#include "io.h"

static const char SNAP_MAGIC[8] = {'V', 'E', 'X', 'F', 'S', 'N', 'A', 'P'};
#define HEADER 64u
#define ENTRY 48u
#define BLOCK ((size_t)1 << 20)
#define BLOCK_HEAD 8u
#define ZSTD_BIT 0x80000000u
#define SHUFFLE_BIT 0x40000000u
#define LEN_MASK 0x3fffffffu
#define ZSTD_LEVEL 1

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

static void *zstd_alloc(void *opaque, size_t size) {
  (void)opaque;
  return vx_alloc(size);
}
static void zstd_free(void *opaque, void *p) {
  (void)opaque;
  vx_release(p);
}
static const ZSTD_customMem zstd_mem = {zstd_alloc, zstd_free, NULL};

/* Byte i of word w goes to plane i: [b0 of every word][b1 ...][b2 ...][b3 ...]. */
static void shuffle4(const uint8_t *in, uint8_t *out, size_t n) {
  size_t words = n / 4;
  for (size_t w = 0; w < words; w++)
    for (size_t b = 0; b < 4; b++) out[b * words + w] = in[4 * w + b];
}
static void unshuffle4(const uint8_t *in, uint8_t *out, size_t n) {
  size_t words = n / 4;
  for (size_t w = 0; w < words; w++)
    for (size_t b = 0; b < 4; b++) out[4 * w + b] = in[b * words + w];
}

/* ------------------------------------------------------------------------------------------------
 * Writing
 * --------------------------------------------------------------------------------------------- */

struct vx_snap_writer {
  int fd;
  char *path;
  uint64_t off;
  vexfs_status status; /* first failure */
  ZSTD_CCtx *zc;
  uint8_t *block, *packed, *shuffled;
  size_t fill, packed_cap;
  vx_buf table;
  uint32_t nsections;
  uint32_t version; /* written in the header: the lowest that reads the sections */
  /* the open section */
  uint32_t kind, owner;
  int shuffle;
  uint64_t start, raw;
  XXH3_state_t *hash;
};

static void fail_io(vx_snap_writer *w, const char *what) {
  if (w->status == VEXFS_OK)
    w->status = vx_fail(VEXFS_E_IO, "vexfs_db_checkpoint: cannot %s the snapshot %s: %s", what,
                        w->path, strerror(errno));
}

vexfs_status vx_snapw_open(const char *path, vx_snap_writer **out) {
  *out = NULL;
  vx_snap_writer *w = vx_calloc(1, sizeof *w);
  size_t plen = strlen(path) + 1;
  if (w) {
    w->fd = -1;
    w->packed_cap = ZSTD_compressBound(BLOCK);
    w->path = vx_alloc(plen);
    w->block = vx_alloc(BLOCK);
    w->shuffled = vx_alloc(BLOCK);
    w->packed = vx_alloc(w->packed_cap);
    w->hash = vx_alloc_aligned(sizeof *w->hash, 64);
    w->zc = ZSTD_createCCtx_advanced(zstd_mem);
  }
  if (!w || !w->path || !w->block || !w->shuffled || !w->packed || !w->hash || !w->zc) {
    if (w) vx_snapw_abort(w);
    return vx_fail(VEXFS_E_NOMEM, "vexfs_db_checkpoint: out of memory");
  }
  memcpy(w->path, path, plen);
  w->fd = vx_io_open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (w->fd < 0) {
    fail_io(w, "create");
    vexfs_status st = w->status;
    vx_snapw_abort(w);
    return st;
  }
  w->off = HEADER; /* the header is written last */
  w->version = VX_SNAP_VERSION_BASE;
  *out = w;
  return VEXFS_OK;
}

void vx_snapw_require(vx_snap_writer *w, uint32_t version) {
  if (version > w->version) w->version = version;
}

static void write_bytes(vx_snap_writer *w, const void *p, size_t n) {
  if (w->status != VEXFS_OK) return;
  if (vx_io_write_at(w->fd, p, n, (off_t)w->off) != 0) return fail_io(w, "write");
  w->off += n;
}

/* Writes the buffered block, compressed where that pays. */
static void flush_block(vx_snap_writer *w) {
  if (w->fill == 0) return;
  const uint8_t *src = w->block, *stored = w->block;
  uint32_t flags = 0;
  size_t n = w->fill, stored_n = n;
  if (w->shuffle && n % 4 == 0) {
    shuffle4(w->block, w->shuffled, n);
    src = w->shuffled;
  }
  size_t z = ZSTD_compressCCtx(w->zc, w->packed, w->packed_cap, src, n, ZSTD_LEVEL);
  if (!ZSTD_isError(z) && z <= n - n / 8) {
    stored = w->packed;
    stored_n = z;
    flags = ZSTD_BIT | (src == w->shuffled ? SHUFFLE_BIT : 0);
  }
  uint8_t head[BLOCK_HEAD];
  put32(head, (uint32_t)n);
  put32(head + 4, (uint32_t)stored_n | flags);
  XXH3_64bits_update(w->hash, head, sizeof head);
  XXH3_64bits_update(w->hash, stored, stored_n);
  write_bytes(w, head, sizeof head);
  write_bytes(w, stored, stored_n);
  w->fill = 0;
}

void vx_snapw_begin(vx_snap_writer *w, uint32_t kind, uint32_t owner, int shuffle) {
  w->kind = kind;
  w->owner = owner;
  w->shuffle = shuffle;
  w->start = w->off;
  w->raw = 0;
  w->fill = 0;
  memset(w->hash, 0, sizeof *w->hash); /* xxhash 0.8.1's reset reads two fields first */
  XXH3_64bits_reset(w->hash);
}

void vx_snapw_put(vx_snap_writer *w, const void *p, size_t n) {
  const uint8_t *src = p;
  w->raw += n;
  while (n > 0 && w->status == VEXFS_OK) {
    size_t take = BLOCK - w->fill < n ? BLOCK - w->fill : n;
    memcpy(w->block + w->fill, src, take);
    w->fill += take;
    src += take;
    n -= take;
    if (w->fill == BLOCK) flush_block(w);
  }
}

void vx_snapw_end(vx_snap_writer *w) {
  flush_block(w);
  uint8_t e[ENTRY] = {0};
  put32(e, w->kind);
  put32(e + 4, w->owner);
  put64(e + 8, w->start);
  put64(e + 16, w->off - w->start);
  put64(e + 24, w->raw);
  put64(e + 40, XXH3_64bits_digest(w->hash));
  vx_buf_put(&w->table, e, sizeof e);
  if (w->table.failed && w->status == VEXFS_OK)
    w->status = vx_fail(VEXFS_E_NOMEM, "vexfs_db_checkpoint: out of memory");
  w->nsections++;
}

void vx_snapw_fail(vx_snap_writer *w, vexfs_status st) {
  if (w->status == VEXFS_OK) w->status = st;
}

void vx_snapw_sizes(const vx_snap_writer *w, uint32_t kind, uint64_t *raw, uint64_t *stored) {
  *raw = *stored = 0;
  for (uint32_t i = 0; i < w->nsections && !w->table.failed; i++) {
    const uint8_t *e = w->table.p + (size_t)i * ENTRY;
    if (get32(e) != kind) continue;
    *stored += get64(e + 16);
    *raw += get64(e + 24);
  }
}

static void seal_header(uint8_t *h) { put64(h + 56, XXH3_64bits(h, 56)); }

vexfs_status vx_snapw_finish(vx_snap_writer *w, uint64_t seq, int sync) {
  uint64_t table_off = w->off;
  uint8_t sum[8];
  put64(sum, XXH3_64bits(w->table.p, w->table.n));
  write_bytes(w, w->table.p, w->table.n);
  write_bytes(w, sum, sizeof sum);
  uint8_t h[HEADER] = {0};
  memcpy(h, SNAP_MAGIC, 8);
  put32(h + 8, w->version);
  put32(h + 12, HEADER);
  put64(h + 16, seq);
  put64(h + 24, table_off);
  put64(h + 32, w->nsections);
  put64(h + 40, w->off);
  seal_header(h);
  if (w->status == VEXFS_OK && vx_io_write_at(w->fd, h, sizeof h, 0) != 0) fail_io(w, "write");
  if (w->status == VEXFS_OK && sync && vx_io_sync(w->fd) != 0) fail_io(w, "sync");
  vexfs_status st = w->status;
  if (st != VEXFS_OK) {
    vx_snapw_abort(w);
    return st;
  }
  vx_io_close(w->fd);
  w->fd = -1;
  vx_snapw_abort(w); /* frees the rest; the file stays: nothing to unlink */
  return VEXFS_OK;
}

void vx_snapw_abort(vx_snap_writer *w) {
  if (w->fd >= 0) {
    vx_io_close(w->fd);
    unlink(w->path);
  }
  ZSTD_freeCCtx(w->zc);
  vx_buf_free(&w->table);
  vx_release(w->path);
  vx_release(w->block);
  vx_release(w->shuffled);
  vx_release(w->packed);
  vx_release(w->hash);
  vx_release(w);
}

/* ------------------------------------------------------------------------------------------------
 * Reading
 * --------------------------------------------------------------------------------------------- */

struct vx_snap {
  const uint8_t *p;
  size_t n;
  int mapped;
  uint64_t seq;
  size_t count;
  vx_snap_section *sections;
};

struct vx_sec_reader {
  const uint8_t *at, *end; /* stored bytes not yet decoded */
  uint64_t left;           /* raw bytes not yet read */
  uint8_t *block, *tmp;
  size_t fill, pos;
  ZSTD_DCtx *zd;
};

static vexfs_status corrupt(const char *why) {
  return vx_fail(VEXFS_E_CORRUPT, "vexfs_db_open: the snapshot is damaged: %s", why);
}

/* Checks the header and table of n bytes at p. */
static vexfs_status parse(vx_snap *s) {
  const uint8_t *p = s->p;
  size_t n = s->n;
  if (n < HEADER || memcmp(p, SNAP_MAGIC, 8) != 0)
    return vx_fail(VEXFS_E_CORRUPT, "vexfs_db_open: the snapshot is not a vexfs snapshot%s",
                   n < HEADER ? " (too short)" : "");
  if (get32(p + 8) > VX_SNAP_VERSION)
    return vx_fail(VEXFS_E_UNSUPPORTED,
                   "vexfs_db_open: the snapshot has format version %" PRIu32
                   "; this libvexfs (%s) reads up to version %u: open it with a newer libvexfs",
                   get32(p + 8), VEXFS_VERSION_STRING, VX_SNAP_VERSION);
  if (get32(p + 12) != HEADER || get64(p + 56) != XXH3_64bits(p, 56))
    return corrupt("its header fails its checksum");
  uint64_t table = get64(p + 24), count = get64(p + 32), length = get64(p + 40);
  if (length != n) return corrupt("its length is not the length it was written with");
  if (table < HEADER || table > n || count > (n - table) / ENTRY ||
      n - table - count * ENTRY != 8)
    return corrupt("its section table is out of bounds");
  const uint8_t *t = p + table;
  if (XXH3_64bits(t, count * ENTRY) != get64(t + count * ENTRY))
    return corrupt("its section table fails its checksum");
  s->seq = get64(p + 16);
  s->count = count;
  s->sections = vx_calloc(count ? count : 1, sizeof *s->sections);
  if (!s->sections) return vx_fail(VEXFS_E_NOMEM, "vexfs_db_open: out of memory");
  for (size_t i = 0; i < count; i++) {
    const uint8_t *e = t + i * ENTRY;
    vx_snap_section *sec = &s->sections[i];
    *sec = (vx_snap_section){get32(e), get32(e + 4), get64(e + 8), get64(e + 16), get64(e + 24),
                             get64(e + 40)};
    if (sec->offset < HEADER || sec->offset > table || sec->stored > table - sec->offset)
      return corrupt("a section lies outside the file");
    if (sec->raw > sec->stored / BLOCK_HEAD * BLOCK) /* each block has a head */
      return corrupt("a section claims more bytes than its blocks can hold");
  }
  return VEXFS_OK;
}

vexfs_status vx_snap_open_bytes(const uint8_t *p, size_t n, vx_snap **out) {
  *out = NULL;
  vx_snap *s = vx_calloc(1, sizeof *s);
  if (!s) return vx_fail(VEXFS_E_NOMEM, "vexfs_db_open: out of memory");
  s->p = p;
  s->n = n;
  vexfs_status st = parse(s);
  if (st != VEXFS_OK) {
    vx_snap_close(s);
    return st;
  }
  *out = s;
  return VEXFS_OK;
}

vexfs_status vx_snap_open(const char *path, vx_snap **out, int *missing) {
  *out = NULL;
  *missing = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    *missing = 1;
    return VEXFS_OK;
  }
  struct stat sb;
  if (fd < 0 || fstat(fd, &sb) != 0) {
    vexfs_status st = vx_fail(VEXFS_E_IO, "vexfs_db_open: cannot open the snapshot %s: %s", path,
                              strerror(errno));
    if (fd >= 0) close(fd);
    return st;
  }
  size_t n = (size_t)sb.st_size;
  const uint8_t *p = n ? mmap(NULL, n, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
  int err = errno;
  close(fd);
  if (p == MAP_FAILED) {
    errno = err;
    return vx_fail(VEXFS_E_IO, "vexfs_db_open: cannot map the snapshot %s: %s", path,
                   strerror(errno));
  }
  if (n) madvise((void *)p, n, MADV_SEQUENTIAL);
  vexfs_status st = vx_snap_open_bytes(p ? p : (const uint8_t *)"", n, out);
  if (st != VEXFS_OK) {
    if (p) munmap((void *)p, n);
    return st;
  }
  (*out)->mapped = p != NULL;
  return VEXFS_OK;
}

void vx_snap_close(vx_snap *s) {
  if (!s) return;
  if (s->mapped) munmap((void *)s->p, s->n);
  vx_release(s->sections);
  vx_release(s);
}

uint64_t vx_snap_seq(const vx_snap *s) { return s->seq; }
size_t vx_snap_count(const vx_snap *s) { return s->count; }
const vx_snap_section *vx_snap_at(const vx_snap *s, size_t i) { return &s->sections[i]; }

/* Whether the blocks of stored bytes [at, end) hold exactly `raw` bytes by their heads (each
 * 1..BLOCK raw bytes, its stored bytes inside the section, a zstd frame declaring that size), so
 * that readers may trust the section's raw length before decoding it: a table that claims more
 * (say, 2^31 rows' worth) would otherwise have memory set aside for it first. */
static int blocks_add_up(const uint8_t *at, const uint8_t *end, uint64_t raw) {
  uint64_t sum = 0;
  while (at < end) {
    if ((size_t)(end - at) < BLOCK_HEAD) return 0;
    uint32_t len = get32(at), word = get32(at + 4), stored = word & LEN_MASK;
    at += BLOCK_HEAD;
    if (len == 0 || len > BLOCK || stored > (size_t)(end - at)) return 0;
    if ((word & ZSTD_BIT) && ZSTD_getFrameContentSize(at, stored) != len) return 0;
    sum += len;
    at += stored;
  }
  return sum == raw;
}

vexfs_status vx_secr_open(vx_snap *s, size_t i, vx_sec_reader **out) {
  *out = NULL;
  const vx_snap_section *sec = &s->sections[i];
  if (XXH3_64bits(s->p + sec->offset, sec->stored) != sec->checksum)
    return vx_fail(VEXFS_E_CORRUPT,
                   "vexfs_db_open: the snapshot is damaged: section %zu (kind %" PRIu32
                   ", collection %" PRIu32 ") fails its checksum",
                   i, sec->kind, sec->owner);
  if (!blocks_add_up(s->p + sec->offset, s->p + sec->offset + sec->stored, sec->raw))
    return vx_fail(VEXFS_E_CORRUPT,
                   "vexfs_db_open: the snapshot is damaged: section %zu (kind %" PRIu32
                   ", collection %" PRIu32 ") claims %" PRIu64 " bytes its blocks do not hold",
                   i, sec->kind, sec->owner, sec->raw);
  vx_sec_reader *r = vx_calloc(1, sizeof *r);
  if (r) {
    r->block = vx_alloc(BLOCK);
    r->tmp = vx_alloc(BLOCK);
    r->zd = ZSTD_createDCtx_advanced(zstd_mem);
  }
  if (!r || !r->block || !r->tmp || !r->zd) {
    if (r) vx_secr_close(r);
    return vx_fail(VEXFS_E_NOMEM, "vexfs_db_open: out of memory");
  }
  r->at = s->p + sec->offset;
  r->end = r->at + sec->stored;
  r->left = sec->raw;
  *out = r;
  return VEXFS_OK;
}

/* Decodes the next block into r->block. 0, or -1 when malformed. */
static int next_block(vx_sec_reader *r) {
  if ((size_t)(r->end - r->at) < BLOCK_HEAD) return -1;
  uint32_t raw = get32(r->at), word = get32(r->at + 4), stored = word & LEN_MASK;
  r->at += BLOCK_HEAD;
  if (raw == 0 || raw > BLOCK || stored > (size_t)(r->end - r->at)) return -1;
  if (!(word & ZSTD_BIT)) {
    if (stored != raw || (word & SHUFFLE_BIT)) return -1;
    memcpy(r->block, r->at, raw);
  } else {
    int shuffled = (word & SHUFFLE_BIT) != 0;
    if (shuffled && raw % 4) return -1;
    uint8_t *dst = shuffled ? r->tmp : r->block;
    size_t got = ZSTD_decompressDCtx(r->zd, dst, BLOCK, r->at, stored);
    if (ZSTD_isError(got) || got != raw) return -1;
    if (shuffled) unshuffle4(r->tmp, r->block, raw);
  }
  r->at += stored;
  r->fill = raw;
  r->pos = 0;
  return 0;
}

int vx_secr_read(vx_sec_reader *r, void *dst, size_t n) {
  if (n > r->left) return -1;
  uint8_t *out = dst;
  while (n > 0) {
    if (r->pos == r->fill && next_block(r) != 0) return -1;
    size_t take = r->fill - r->pos < n ? r->fill - r->pos : n;
    memcpy(out, r->block + r->pos, take);
    r->pos += take;
    out += take;
    n -= take;
    r->left -= take;
  }
  return 0;
}

uint64_t vx_secr_left(const vx_sec_reader *r) { return r->left; }

void vx_secr_close(vx_sec_reader *r) {
  if (!r) return;
  ZSTD_freeDCtx(r->zd);
  vx_release(r->block);
  vx_release(r->tmp);
  vx_release(r);
}

int vx_snap_reseal(uint8_t *p, size_t n) {
  if (n < HEADER || memcmp(p, SNAP_MAGIC, 8) != 0) return -1;
  uint64_t table = get64(p + 24), count = get64(p + 32);
  if (table < HEADER || table > n || count > (n - table) / ENTRY || n - table - count * ENTRY != 8)
    return -1;
  uint8_t *t = p + table;
  for (size_t i = 0; i < count; i++) {
    uint8_t *e = t + i * ENTRY;
    uint64_t off = get64(e + 8), stored = get64(e + 16);
    if (off <= table && stored <= table - off) put64(e + 40, XXH3_64bits(p + off, stored));
  }
  put64(t + count * ENTRY, XXH3_64bits(t, count * ENTRY));
  put32(p + 12, HEADER);
  put64(p + 40, n);
  seal_header(p);
  return 0;
}

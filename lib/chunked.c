/* Chunked arrays (see chunked.h). */
#include "chunked.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "alloc_internal.h"

void vx_chunked_init(vx_chunked *a, size_t elem_size) {
  memset(a, 0, sizeof *a);
  a->elem_size = elem_size;
  atomic_init(&a->capacity, 0);
}

void vx_chunked_init_unzeroed(vx_chunked *a, size_t elem_size) {
  vx_chunked_init(a, elem_size);
  a->unzeroed = 1;
}

void vx_chunked_init_paged(vx_chunked *a, size_t elem_size) {
  vx_chunked_init(a, elem_size);
  a->paged = 1;
}

static size_t page_size(void) { return (size_t)sysconf(_SC_PAGESIZE); }

/* A chunk's bytes, rounded up to whole pages for paged arrays. */
static int chunk_bytes(const vx_chunked *a, unsigned c, size_t *bytes) {
  if (!vx_mul_ok(vx_chunk_rows(c), a->elem_size, bytes)) return -1;
  if (a->paged) {
    size_t page = page_size();
    if (*bytes > SIZE_MAX - page) return -1;
    *bytes = (*bytes + page - 1) / page * page;
  }
  return 0;
}

/* Chunks from HUGE_PAGE_CHUNK on (elements past 261 888) ask for transparent huge pages over their
 * 2 MiB-aligned interior: a graph search at a million nodes reads a node block per neighbour at
 * random, and with 4 KiB pages nearly each of those reads is a TLB miss as well as a cache miss
 * (measured at 1M x 96: searches about 5% faster in the median, benchmarks/README.md "HNSW at
 * scale"). Not earlier chunks: a huge page counts whole in the resident set once touched, up to
 * 2 MiB more per array, which a collection of 60 000 would feel (Fashion-MNIST: 4 124 -> 4 256
 * bytes per vector). Advice only: the kernel may decline, and what the memory holds is unchanged. */
#define HUGE_PAGE_CHUNK 10u

static void advise_huge_pages(unsigned char *chunk, size_t bytes) {
#ifdef MADV_HUGEPAGE
  const uintptr_t huge = (uintptr_t)2 << 20;
  uintptr_t lo = ((uintptr_t)chunk + huge - 1) & ~(huge - 1);
  uintptr_t hi = ((uintptr_t)chunk + bytes) & ~(huge - 1);
  if (hi >= lo + 2 * huge) (void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
#else
  (void)chunk, (void)bytes;
#endif
}

static unsigned char *chunk_alloc(const vx_chunked *a, unsigned c, size_t bytes) {
  if (!a->paged) {
    unsigned char *chunk = vx_alloc_aligned(bytes, VX_CACHE_LINE);
    if (chunk && c >= HUGE_PAGE_CHUNK) advise_huge_pages(chunk, bytes); /* before the first touch */
    if (chunk && !a->unzeroed) memset(chunk, 0, bytes);
    return chunk;
  }
  void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? NULL : p;
}

/* A failed MAP_FIXED may have unmapped the range: makes it memory again, holding the file's
 * bytes (those it held, since the file holds the same). */
static void restore(unsigned char *at, size_t bytes, int fd, size_t off, size_t used) {
  if (mmap(at, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) ==
      MAP_FAILED)
    return;
  for (size_t done = 0; done < used;) {
    ssize_t got = pread(fd, at + done, used - done, (off_t)(off + done));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    done += (size_t)got;
  }
}

int vx_chunked_map(vx_chunked *a, int fd, size_t n) {
  size_t page = page_size();
  for (unsigned c = 0; c < VX_MAX_CHUNKS && vx_chunk_first(c) < n; c++) {
    size_t first = vx_chunk_first(c), rows = vx_chunk_rows(c), cap;
    size_t in_file = n - first < rows ? n - first : rows;
    if (!a->chunks[c] || chunk_bytes(a, c, &cap) != 0) return -1;
    size_t off = first * a->elem_size, bytes = (in_file * a->elem_size + page - 1) / page * page;
    if (off % page) continue;
    if (bytes > cap) bytes = cap;
    void *p = mmap(a->chunks[c], bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd,
                   (off_t)off);
    if (p == MAP_FAILED) {
      int err = errno;
      restore(a->chunks[c], bytes, fd, off, in_file * a->elem_size);
      errno = err;
      return -1;
    }
  }
  return 0;
}

size_t vx_chunked_bytes(const vx_chunked *a) {
  return atomic_load_explicit(&a->capacity, memory_order_relaxed) * a->elem_size;
}

int vx_chunked_reserve(vx_chunked *a, size_t n) {
  if (n > VX_MAX_ROWS + 1) return -1;
  while (a->capacity < n) {
    unsigned c = vx_slot_chunk(a->capacity);
    size_t bytes;
    if (chunk_bytes(a, c, &bytes) != 0) return -1;
    unsigned char *chunk = chunk_alloc(a, c, bytes);
    if (!chunk) return -1;
    a->chunks[c] = chunk;
    atomic_fetch_add_explicit(&a->capacity, vx_chunk_rows(c), memory_order_relaxed);
  }
  return 0;
}

void vx_chunked_destroy(vx_chunked *a) {
  for (unsigned c = 0; c < VX_MAX_CHUNKS; c++) {
    size_t bytes;
    if (!a->chunks[c]) continue;
    if (!a->paged) vx_release(a->chunks[c]);
    else if (chunk_bytes(a, c, &bytes) == 0) munmap(a->chunks[c], bytes);
  }
  vx_chunked_init(a, 0);
}

/* The HTTP side of the server benchmark (run.sh): a small client on plain sockets, one
 * keep-alive connection to 127.0.0.1, requests one after another, on the same data as inproc.c
 * (gen.h). Every body is formatted before the clock starts.
 *
 *   http_load upsert --port P [--collection bench] [--n 100000] [--dim 128] [--seed 1]
 *                    [--batch 256]
 *       PUT /collections/C/points?wait=true with {"batch": {"ids": [...], "vectors": [...]}}
 *       of --batch points each, ids 0 .. n-1 in order; the time from the first request sent
 *       to the last answer read.
 *   http_load search --port P [--collection bench] [--n] [--dim] [--queries 10000] [--seed]
 *                    [--k 10] [--ef 64] [--warmup 500] [--recall 100]
 *       POST /collections/C/points/search with {"vector": [...], "limit": k, "params":
 *       {"hnsw_ef": ef}}: --warmup queries untimed, then each query once, timed one by one (the
 *       one-connection latency, and the p50 of the "time" the answers report: the server's own
 *       time from the request's headers to its answer, body parsing and search included, the
 *       wire, libmicrohttpd and the worker queue not); then recall@k of the first --recall
 *       answers against the exact neighbours, untimed.
 *   http_load bodies --out FILE [--n] [--dim] [--queries] [--seed] [--k] [--ef]
 *       writes those search bodies, one per line, for wrk (search.lua).
 *
 * Any answer but 200 (or a search with fewer than k points) stops it with exit status 1. Each
 * socket operation times out after --timeout seconds (default 60). Prints `name key=value ...`. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "gen.h"

typedef struct opts {
  const char *mode, *collection, *out;
  unsigned port, timeout;
  size_t n, dim, nq, batch, k, ef, warmup, recall;
  uint64_t seed;
} opts;

static void usage(void) {
  fprintf(stderr,
          "usage: http_load upsert|search --port P [--collection C] [--n N] [--dim D] "
          "[--queries NQ] [--seed S] [--batch B] [--k K] [--ef EF] [--warmup W] [--recall R] "
          "[--timeout S]\n       http_load bodies --out FILE [--n N] [--dim D] [--queries NQ] "
          "[--seed S] [--k K] [--ef EF]\n");
  exit(2);
}

static opts parse(int argc, char **argv) {
  if (argc < 2) usage();
  opts o = {.mode = argv[1], .collection = "bench", .timeout = 60, .n = 100000, .dim = 128,
            .nq = 10000, .batch = 256, .k = 10, .ef = 64, .warmup = 500, .recall = 100,
            .seed = 1};
  static const struct option lo[] = {
      {"port", 1, 0, 'p'},  {"collection", 1, 0, 'c'}, {"n", 1, 0, 'n'},
      {"dim", 1, 0, 'd'},   {"queries", 1, 0, 'q'},    {"seed", 1, 0, 's'},
      {"batch", 1, 0, 'b'}, {"k", 1, 0, 'k'},          {"ef", 1, 0, 'e'},
      {"warmup", 1, 0, 'w'}, {"recall", 1, 0, 'r'},    {"out", 1, 0, 'o'},
      {"timeout", 1, 0, 't'}, {0, 0, 0, 0}};
  int c;
  optind = 2;
  while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
    switch (c) {
    case 'p': o.port = (unsigned)gen_parse_size(optarg, 1, 65535, usage); break;
    case 'c': o.collection = optarg; break;
    case 'n': o.n = gen_parse_size(optarg, 1, 100000000, usage); break;
    case 'd': o.dim = gen_parse_size(optarg, 1, 65536, usage); break;
    case 'q': o.nq = gen_parse_size(optarg, 1, 10000000, usage); break;
    case 's': o.seed = gen_parse_size(optarg, 0, SIZE_MAX, usage); break;
    case 'b': o.batch = gen_parse_size(optarg, 1, 1000000, usage); break;
    case 'k': o.k = gen_parse_size(optarg, 1, 64, usage); break;
    case 'e': o.ef = gen_parse_size(optarg, 1, 1u << 24, usage); break;
    case 'w': o.warmup = gen_parse_size(optarg, 0, 10000000, usage); break;
    case 'r': o.recall = gen_parse_size(optarg, 0, 10000000, usage); break;
    case 'o': o.out = optarg; break;
    case 't': o.timeout = (unsigned)gen_parse_size(optarg, 1, 86400, usage); break;
    default: usage();
    }
  }
  if (optind < argc) usage();
  if (o.recall > o.nq) o.recall = o.nq;
  return o;
}

/* A growing string. */
typedef struct str {
  char *p;
  size_t len, cap;
} str;

/* Room for n more bytes and a NUL. */
static void reserve(str *s, size_t n) {
  if (s->len + n + 1 <= s->cap) return;
  size_t cap = s->cap ? s->cap : 4096;
  while (cap < s->len + n + 1) cap *= 2;
  char *p = realloc(s->p, cap);
  if (!p) {
    fprintf(stderr, "http_load: out of memory\n");
    exit(1);
  }
  s->p = p, s->cap = cap;
}

static void put(str *s, const char *text, size_t n) {
  reserve(s, n);
  memcpy(s->p + s->len, text, n);
  s->len += n;
  s->p[s->len] = 0;
}

static void puts_(str *s, const char *text) { put(s, text, strlen(text)); }

static void put_vector(str *s, const float *x, size_t dim) {
  char num[32];
  puts_(s, "[");
  for (size_t d = 0; d < dim; d++) {
    int len = snprintf(num, sizeof num, d ? ",%.9g" : "%.9g", (double)x[d]);
    put(s, num, (size_t)len);
  }
  puts_(s, "]");
}

static void search_body(str *s, const opts *o, const float *q) {
  char tail[96];
  puts_(s, "{\"vector\":");
  put_vector(s, q, o->dim);
  snprintf(tail, sizeof tail, ",\"limit\":%zu,\"params\":{\"hnsw_ef\":%zu}}", o->k, o->ef);
  puts_(s, tail);
}

/* A whole request: line, headers, body. */
static str request(const opts *o, const char *method, const char *path, const str *body) {
  str r = {0};
  char head[512];
  int len = snprintf(head, sizeof head,
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n\r\n",
                     method, path, o->port, body->len);
  put(&r, head, (size_t)len);
  put(&r, body->p, body->len);
  return r;
}

/* One keep-alive connection. */
typedef struct conn {
  const opts *o;
  int fd;
  str in;         /* bytes read */
  size_t body_at; /* the answer's body within `in` */
  size_t body_len;
  int status;
} conn;

static int conn_open(conn *c) {
  c->fd = socket(AF_INET, SOCK_STREAM, 0);
  if (c->fd < 0) return -1;
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct timeval tv = {.tv_sec = c->o->timeout};
  setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)c->o->port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(c->fd, (struct sockaddr *)&a, sizeof a) != 0) {
    close(c->fd);
    c->fd = -1;
    return -1;
  }
  return 0;
}

static const char *find_header(const char *head, size_t len, const char *name) {
  size_t nl = strlen(name);
  for (const char *p = head; p + nl < head + len; p++)
    if ((p == head || p[-1] == '\n') && strncasecmp(p, name, nl) == 0 && p[nl] == ':')
      return p + nl + 1;
  return NULL;
}

/* Sends req and reads the whole answer into c->in; 0, or -1 after saying why. */
static int roundtrip(conn *c, const str *req) {
  if (c->fd < 0 && conn_open(c) != 0) {
    fprintf(stderr, "http_load: cannot connect to 127.0.0.1:%u: %s\n", c->o->port, strerror(errno));
    return -1;
  }
  for (size_t sent = 0; sent < req->len;) {
    ssize_t w = send(c->fd, req->p + sent, req->len - sent, MSG_NOSIGNAL);
    if (w <= 0) {
      fprintf(stderr, "http_load: send: %s\n", w < 0 ? strerror(errno) : "closed");
      return -1;
    }
    sent += (size_t)w;
  }
  c->in.len = 0;
  size_t head_len = 0, need = 0;
  int close_after = 0;
  for (;;) {
    reserve(&c->in, 65536);
    ssize_t r = recv(c->fd, c->in.p + c->in.len, c->in.cap - c->in.len - 1, 0);
    if (r <= 0) {
      fprintf(stderr, "http_load: recv: %s\n", r < 0 ? strerror(errno) : "connection closed");
      return -1;
    }
    c->in.len += (size_t)r;
    c->in.p[c->in.len] = 0;
    if (!head_len) {
      char *end = strstr(c->in.p, "\r\n\r\n");
      if (!end) continue;
      head_len = (size_t)(end - c->in.p) + 4;
      if (sscanf(c->in.p, "HTTP/1.%*d %d", &c->status) != 1) {
        fprintf(stderr, "http_load: not an HTTP answer\n");
        return -1;
      }
      const char *cl = find_header(c->in.p, head_len, "Content-Length");
      const char *te = find_header(c->in.p, head_len, "Transfer-Encoding");
      const char *cn = find_header(c->in.p, head_len, "Connection");
      if (te || !cl) {
        fprintf(stderr, "http_load: answers without Content-Length are not supported\n");
        return -1;
      }
      need = head_len + strtoull(cl, NULL, 10);
      close_after = cn && strstr(cn, "close") && strstr(cn, "close") < strchr(cn, '\n');
    }
    if (c->in.len >= need) break;
  }
  c->body_at = head_len;
  c->body_len = need - head_len;
  if (close_after) {
    close(c->fd);
    c->fd = -1;
  }
  return 0;
}

static int expect_ok(conn *c, const char *what) {
  if (c->status == 200) return 0;
  fprintf(stderr, "http_load: %s: HTTP %d: %.*s\n", what, c->status,
          (int)(c->body_len > 600 ? 600 : c->body_len),
          c->in.p + c->body_at);
  return -1;
}

/* The ids of a search answer's points, in order; how many. */
static size_t answer_ids(const conn *c, uint64_t *ids, size_t max) {
  const char *p = strstr(c->in.p + c->body_at, "\"result\"");
  size_t n = 0;
  while (p && n < max && (p = strstr(p, "\"id\":"))) {
    p += 5;
    ids[n++] = strtoull(p, NULL, 10);
  }
  return n;
}

/* The answer's "time" (seconds the server reports it took, from the request's headers to its
 * answer's envelope: body parsing and the handler, not the wire or the queue), in us; -1 if
 * none. */
static double answer_time_us(const conn *c) {
  const char *p = c->in.p + c->body_at, *last = NULL;
  while ((p = strstr(p, "\"time\":"))) last = p, p += 7;
  return last ? strtod(last + 7, NULL) * 1e6 : -1;
}

static int upsert(const opts *o) {
  float *v = gen_clustered(o->n, o->dim, o->seed);
  size_t nb = (o->n + o->batch - 1) / o->batch;
  str *reqs = calloc(nb, sizeof *reqs);
  double *ms = malloc(nb * sizeof *ms);
  if (!reqs || !ms) return 1;
  char path[512], num[32];
  snprintf(path, sizeof path, "/collections/%s/points?wait=true", o->collection);
  double f0 = gen_now();
  size_t bytes = 0;
  for (size_t b = 0; b < nb; b++) {
    size_t at = b * o->batch, m = o->n - at < o->batch ? o->n - at : o->batch;
    str body = {0};
    puts_(&body, "{\"batch\":{\"ids\":[");
    for (size_t i = 0; i < m; i++) {
      int len = snprintf(num, sizeof num, i ? ",%zu" : "%zu", at + i);
      put(&body, num, (size_t)len);
    }
    puts_(&body, "],\"vectors\":[");
    for (size_t i = 0; i < m; i++) {
      if (i) puts_(&body, ",");
      put_vector(&body, v + (at + i) * o->dim, o->dim);
    }
    puts_(&body, "]}}");
    reqs[b] = request(o, "PUT", path, &body);
    bytes += body.len;
    free(body.p);
  }
  double format_s = gen_now() - f0;
  conn c = {.o = o, .fd = -1};
  double t0 = gen_now();
  for (size_t b = 0; b < nb; b++) {
    double b0 = gen_now();
    if (roundtrip(&c, &reqs[b]) != 0 || expect_ok(&c, "upsert") != 0) return 1;
    ms[b] = (gen_now() - b0) * 1e3;
  }
  double s = gen_now() - t0;
  printf("http_upsert points=%zu batches=%zu seconds=%.3f points_per_s=%.1f batch_p50_ms=%.2f "
         "batch_p99_ms=%.2f body_mb=%.1f format_s=%.2f\n",
         o->n, nb, s, (double)o->n / s, gen_percentile(ms, nb, 50), gen_percentile(ms, nb, 99),
         (double)bytes / 1e6, format_s);
  for (size_t b = 0; b < nb; b++) free(reqs[b].p);
  if (c.fd >= 0) close(c.fd);
  free(c.in.p), free(reqs), free(ms), free(v);
  return 0;
}

static int search(const opts *o) {
  float *v = gen_clustered(o->n + o->nq, o->dim, o->seed);
  const float *queries = v + o->n * o->dim;
  str *reqs = calloc(o->nq, sizeof *reqs);
  double *lat = malloc(o->nq * sizeof *lat), *handler = malloc(o->nq * sizeof *handler);
  uint64_t *got = malloc((o->recall ? o->recall : 1) * o->k * sizeof *got);
  if (!reqs || !lat || !handler || !got) return 1;
  char path[512];
  snprintf(path, sizeof path, "/collections/%s/points/search", o->collection);
  for (size_t i = 0; i < o->nq; i++) {
    str body = {0};
    search_body(&body, o, queries + i * o->dim);
    reqs[i] = request(o, "POST", path, &body);
    free(body.p);
  }
  conn c = {.o = o, .fd = -1};
  uint64_t ids[64];
  for (size_t i = 0; i < o->warmup; i++)
    if (roundtrip(&c, &reqs[i % o->nq]) != 0 || expect_ok(&c, "search") != 0) return 1;
  double t0 = gen_now();
  for (size_t i = 0; i < o->nq; i++) {
    double q0 = gen_now();
    if (roundtrip(&c, &reqs[i]) != 0) return 1;
    lat[i] = (gen_now() - q0) * 1e6;
    if (expect_ok(&c, "search") != 0) return 1;
    size_t n = answer_ids(&c, ids, o->k);
    if (n != o->k) {
      fprintf(stderr, "http_load: search %zu: %zu points, not %zu: %.300s\n", i, n, o->k,
              c.in.p + c.body_at);
      return 1;
    }
    if (i < o->recall) memcpy(got + i * o->k, ids, o->k * sizeof *ids);
    handler[i] = answer_time_us(&c);
  }
  double s = gen_now() - t0;
  printf("http_latency1 queries=%zu seconds=%.3f qps=%.1f mean_us=%.1f p50_us=%.1f p90_us=%.1f "
         "p99_us=%.1f server_time_p50_us=%.1f\n",
         o->nq, s, (double)o->nq / s, gen_mean(lat, o->nq), gen_percentile(lat, o->nq, 50),
         gen_percentile(lat, o->nq, 90), gen_percentile(lat, o->nq, 99),
         gen_percentile(handler, o->nq, 50));
  fflush(stdout);
  double recall = 0;
  for (size_t i = 0; i < o->recall; i++) {
    gen_exact_knn(v, o->n, o->dim, queries + i * o->dim, o->k, ids);
    recall += gen_recall(ids, got + i * o->k, o->k);
  }
  if (o->recall)
    printf("http_recall queries=%zu k=%zu recall=%.4f\n", o->recall, o->k,
           recall / (double)o->recall);
  for (size_t i = 0; i < o->nq; i++) free(reqs[i].p);
  if (c.fd >= 0) close(c.fd);
  free(c.in.p), free(reqs), free(lat), free(handler), free(got), free(v);
  return 0;
}

static int bodies(const opts *o) {
  if (!o->out) usage();
  float *v = gen_clustered(o->n + o->nq, o->dim, o->seed);
  FILE *f = fopen(o->out, "w");
  if (!f) {
    perror(o->out);
    return 1;
  }
  for (size_t i = 0; i < o->nq; i++) {
    str body = {0};
    search_body(&body, o, v + (o->n + i) * o->dim);
    fwrite(body.p, 1, body.len, f);
    fputc('\n', f);
    free(body.p);
  }
  free(v);
  if (fclose(f) != 0) {
    perror(o->out);
    return 1;
  }
  return 0;
}

int main(int argc, char **argv) {
  opts o = parse(argc, argv);
  if (strcmp(o.mode, "bodies") == 0) return bodies(&o);
  if (!o.port) usage();
  if (strcmp(o.mode, "upsert") == 0) return upsert(&o);
  if (strcmp(o.mode, "search") == 0) return search(&o);
  usage();
}

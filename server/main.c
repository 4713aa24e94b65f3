/* vexfs-server: serves one libvexfs database over Qdrant's REST API and the earlier VexFS's
 * (/api/v1).
 *
 *   vexfs-server [--data DIR] [--host 127.0.0.1] [--port 6333] [--api-key KEY] ...
 *
 * Without --data the database is in memory (said so on start). SIGTERM and SIGINT stop it in
 * order: no new connections, WebSockets closed (1001), requests in progress finish, the
 * database is checkpointed and closed, exit 0. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chroma.h"

#define GRACE_SECONDS 30
#define DEFAULT_BUSY_POLL_US 100

static const char usage[] =
    "usage: vexfs-server [options]\n"
    "  --data DIR            database directory (created when missing); default: in memory\n"
    "  --host ADDR           address to listen on (default 127.0.0.1)\n"
    "  --port N              port (default 6333; 0 = any free port, printed on start)\n"
    "  --api-key KEY         require `api-key: KEY` or `Authorization: Bearer KEY` (or set\n"
    "                        VEXFS_API_KEY); without one only loopback addresses are allowed\n"
    "  --insecure            allow a non-loopback address without an API key\n"
    "  --max-body BYTES      largest request body (default 33554432: 32 MiB), else 413\n"
    "  --idle-timeout S      close connections idle this long (default 60)\n"
    "  --max-connections N   at most this many open connections (default 1024)\n"
    "  --max-websockets N    at most this many open WebSockets (default 64), else 503\n"
    "  --threads N           polling threads, which answer light requests themselves, and as\n"
    "                        many request workers (default: the CPUs online)\n"
    "  --busy-poll-us N      a polling thread polls up to N us for the next request before it\n"
    "                        sleeps, less when requests come further apart (default 100; 0: it\n"
    "                        sleeps at once); a wake from sleep costs tens of us on a VM\n"
    "  --sync full|normal|off  the database's sync mode (default full: a write answered 200\n"
    "                        is on the device)\n"
    "  --tls-cert FILE --tls-key FILE   serve HTTPS (PEM files)\n"
    "  --log-level off|info  info: one line per request on stderr (method, path, status, us)\n";

static int parse_uint(const char *s, unsigned long long max, unsigned long long *out) {
  char *end = NULL;
  if (!s || !*s || *s == '-') return -1;
  unsigned long long v = strtoull(s, &end, 10);
  if (*end || v > max) return -1;
  *out = v;
  return 0;
}

static int is_loopback(const char *host) {
  return strcmp(host, "localhost") == 0 || strcmp(host, "::1") == 0 ||
         strncmp(host, "127.", 4) == 0;
}

/* 0, 1 (exit 0: --help) or 2 (usage error, said on stderr). */
static int parse_options(int argc, char **argv, vs_options *o) {
  enum { DATA = 256, HOST, PORT, KEY, INSECURE, MAX_BODY, IDLE, MAX_CONN, MAX_WS, THREADS, BUSY_POLL,
         SYNC, CERT, TLS_KEY, LOG, HELP };
  static const struct option opts[] = {
      {"data", required_argument, 0, DATA},          {"host", required_argument, 0, HOST},
      {"port", required_argument, 0, PORT},          {"api-key", required_argument, 0, KEY},
      {"insecure", no_argument, 0, INSECURE},        {"max-body", required_argument, 0, MAX_BODY},
      {"idle-timeout", required_argument, 0, IDLE},  {"max-connections", required_argument, 0, MAX_CONN},
      {"max-websockets", required_argument, 0, MAX_WS},
      {"threads", required_argument, 0, THREADS},    {"busy-poll-us", required_argument, 0, BUSY_POLL},
      {"sync", required_argument, 0, SYNC},
      {"tls-cert", required_argument, 0, CERT},      {"tls-key", required_argument, 0, TLS_KEY},
      {"log-level", required_argument, 0, LOG},      {"help", no_argument, 0, HELP},
      {0, 0, 0, 0}};
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  *o = (vs_options){.host = "127.0.0.1", .port = 6333, .max_body = 32u << 20, .idle_timeout = 60,
                    .max_connections = 1024, .max_websockets = 64, .threads = cpus > 0 ? (unsigned)cpus : 2,
                    .busy_poll_us = DEFAULT_BUSY_POLL_US,
                    .sync = VEXFS_SYNC_FULL, .api_key = getenv("VEXFS_API_KEY")};
  if (o->api_key && !*o->api_key) o->api_key = NULL;
  int c;
  unsigned long long v;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    const char *bad = NULL;
    switch (c) {
    case DATA: o->data = optarg; break;
    case HOST: o->host = optarg; break;
    case PORT: if (parse_uint(optarg, 65535, &v) == 0) o->port = (unsigned)v; else bad = "--port"; break;
    case KEY: o->api_key = *optarg ? optarg : NULL; break;
    case INSECURE: o->insecure = 1; break;
    case MAX_BODY: if (parse_uint(optarg, 1ull << 32, &v) == 0 && v > 0) o->max_body = v; else bad = "--max-body"; break;
    case IDLE: if (parse_uint(optarg, 86400, &v) == 0 && v > 0) o->idle_timeout = (unsigned)v; else bad = "--idle-timeout"; break;
    case MAX_CONN: if (parse_uint(optarg, 65536, &v) == 0 && v > 0) o->max_connections = (unsigned)v; else bad = "--max-connections"; break;
    case MAX_WS: if (parse_uint(optarg, 65536, &v) == 0 && v > 0) o->max_websockets = (unsigned)v; else bad = "--max-websockets"; break;
    case THREADS: if (parse_uint(optarg, 1024, &v) == 0 && v > 0) o->threads = (unsigned)v; else bad = "--threads"; break;
    case BUSY_POLL: if (parse_uint(optarg, 1000000, &v) == 0) o->busy_poll_us = (unsigned)v; else bad = "--busy-poll-us"; break;
    case SYNC:
      if (strcmp(optarg, "full") == 0) o->sync = VEXFS_SYNC_FULL;
      else if (strcmp(optarg, "normal") == 0) o->sync = VEXFS_SYNC_NORMAL;
      else if (strcmp(optarg, "off") == 0) o->sync = VEXFS_SYNC_OFF;
      else bad = "--sync";
      break;
    case CERT: o->tls_cert = optarg; break;
    case TLS_KEY: o->tls_key = optarg; break;
    case LOG:
      if (strcmp(optarg, "info") == 0) o->log_requests = 1;
      else if (strcmp(optarg, "off") == 0) o->log_requests = 0;
      else bad = "--log-level";
      break;
    case HELP: fputs(usage, stdout); return 1;
    default:
      fprintf(stderr, "vexfs-server: unknown option or missing value: %s\n%s", argv[optind - 1], usage);
      return 2;
    }
    if (bad) {
      fprintf(stderr, "vexfs-server: %s: bad value '%s'\n%s", bad, optarg, usage);
      return 2;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "vexfs-server: unexpected argument '%s'\n%s", argv[optind], usage);
    return 2;
  }
  if (!o->tls_cert != !o->tls_key) {
    fprintf(stderr, "vexfs-server: --tls-cert and --tls-key go together\n");
    return 2;
  }
  if (!o->api_key && !o->insecure && !is_loopback(o->host)) {
    fprintf(stderr, "vexfs-server: refusing to listen on %s without an API key: give --api-key "
                    "(or VEXFS_API_KEY), or --insecure to serve it open\n", o->host);
    return 2;
  }
  return 0;
}

int main(int argc, char **argv) {
  static vs_server srv;
  int rc = parse_options(argc, argv, &srv.opt);
  if (rc) return rc == 1 ? 0 : 2;
  /* the signals are taken by sigwait below; threads started from here on inherit the mask */
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, NULL);
  signal(SIGPIPE, SIG_IGN);
  vexfs_status st = vs_catalog_open(&srv.catalog, &srv.opt);
  if (st != VEXFS_OK) {
    fprintf(stderr, "vexfs-server: cannot open the database%s%s: %s\n", srv.opt.data ? " " : "",
            srv.opt.data ? srv.opt.data : "", vexfs_last_error());
    return 1;
  }
  srv.perf = vs_perf_start(&srv);
  if ((st = vs_chroma_open(&srv)) != VEXFS_OK) {
    fprintf(stderr, "vexfs-server: cannot read the Chroma collections: %s\n", vexfs_last_error());
    vs_chroma_close(&srv);
    vs_perf_stop(srv.perf);
    vs_catalog_close(&srv.catalog);
    return 1;
  }
  unsigned port = 0;
  vs_http *http = srv.perf ? vs_http_start(&srv, &port) : NULL;
  if (!http) {
    vs_chroma_close(&srv);
    vs_perf_stop(srv.perf);
    vs_catalog_close(&srv.catalog);
    return 1;
  }
  printf("vexfs-server %s listening on %s://%s:%u (%s%s)\n", vexfs_version_string(),
         srv.opt.tls_cert ? "https" : "http", srv.opt.host, port,
         srv.opt.data ? "data " : "in memory", srv.opt.data ? srv.opt.data : "");
  fflush(stdout);
  int sig = 0;
  sigwait(&stop, &sig);
  fprintf(stderr, "vexfs-server: %s: finishing requests in progress\n", strsignal(sig));
  vs_http_stop(http, GRACE_SECONDS);
  vs_chroma_close(&srv);
  vs_perf_stop(srv.perf);
  st = vs_catalog_close(&srv.catalog);
  if (st != VEXFS_OK) {
    fprintf(stderr, "vexfs-server: the final checkpoint failed (%s); the log keeps every write\n",
            vexfs_last_error());
    return 1;
  }
  fprintf(stderr, "vexfs-server: stopped\n");
  return 0;
}

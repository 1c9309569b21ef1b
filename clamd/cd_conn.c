/* One clamd-protocol connection (see cd_conn.h). */
#include "cd_conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cd_cmd.h"
#include "cd_paths.h"
#include "cd_scan.h"
#include "pf_clock.h"
#include "pf_err.h"
#include "pf_log.h"

/* A whole INSTREAM must arrive within this, however it trickles in. */
#define STREAM_DEADLINE_S 600
#define PF_CLAMD_REPLY_MAX 8192

volatile int cd_shutdown_requested;

typedef struct {
  const cd_opts *o;
  int fd, is_unix;
  char peer[96];
  uint8_t buf[CD_CMD_MAX + 64]; /* bytes read and not yet consumed */
  size_t len;
  int pending_fd;               /* a descriptor received with the data */
  int session;                  /* inside IDSESSION */
  unsigned id;                  /* request number of the current command */
  char term;
} conn;

/* Reads what is there (at most the room left in c->buf), keeping a
 * passed descriptor. 1 read, 0 the peer closed, -1 error, -2 timeout. */
static int fill(conn *c, int timeout_s) {
  if (c->len >= sizeof c->buf) return -1;
  struct pollfd p = {.fd = c->fd, .events = POLLIN};
  int pr = poll(&p, 1, timeout_s * 1000);
  if (pr == 0) return -2;
  if (pr < 0) return errno == EINTR ? 1 : -1;
  union {
    struct cmsghdr h;
    char b[CMSG_SPACE(sizeof(int) * 4)];
  } ctl;
  struct iovec iov = {.iov_base = c->buf + c->len, .iov_len = sizeof c->buf - c->len};
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
  if (c->is_unix) {
    m.msg_control = ctl.b;
    m.msg_controllen = sizeof ctl.b;
  }
  ssize_t n = recvmsg(c->fd, &m, MSG_CMSG_CLOEXEC);
  if (n < 0) return errno == EINTR || errno == EAGAIN ? 1 : -1;
  if (c->is_unix) {
    for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h)) {
      if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS) continue;
      size_t k = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      int *fds = (int *)CMSG_DATA(h);
      for (size_t i = 0; i < k; i++) {
        if (c->pending_fd < 0) c->pending_fd = fds[i];
        else close(fds[i]); /* one descriptor per FILDES */
      }
    }
  }
  if (n == 0) return 0;
  c->len += (size_t)n;
  return 1;
}

static void consume(conn *c, size_t n) {
  memmove(c->buf, c->buf + n, c->len - n);
  c->len -= n;
}

/* Copies n bytes of the stream into dst: first what is buffered, then
 * straight from the socket. 0, or -1 closed/error, -2 timeout. */
static int read_exact(conn *c, uint8_t *dst, size_t n, double deadline) {
  size_t have = c->len < n ? c->len : n;
  memcpy(dst, c->buf, have);
  consume(c, have);
  while (have < n) {
    int left = (int)(deadline - pf_clock_s());
    if (left <= 0) return -2;
    int t = left < c->o->read_timeout_s ? left : c->o->read_timeout_s;
    struct pollfd p = {.fd = c->fd, .events = POLLIN};
    int pr = poll(&p, 1, t * 1000);
    if (pr == 0) return -2;
    if (pr < 0) { if (errno == EINTR) continue; return -1; }
    ssize_t r = recv(c->fd, dst + have, n - have, 0);
    if (r == 0) return -1;
    if (r < 0) { if (errno == EINTR || errno == EAGAIN) continue; return -1; }
    have += (size_t)r;
  }
  return 0;
}

/* One reply: "ID: " inside a session, the text, the command's terminator. */
static void reply(conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reply(conn *c, const char *fmt, ...) {
  char out[PF_CLAMD_REPLY_MAX];
  int k = 0;
  if (c->session) k = snprintf(out, sizeof out, "%u: ", c->id);
  va_list ap;
  va_start(ap, fmt);
  int m = vsnprintf(out + k, sizeof out - (size_t)k - 1, fmt, ap);
  va_end(ap);
  if (m < 0) return;
  size_t n = (size_t)k + ((size_t)m < sizeof out - (size_t)k - 1 ? (size_t)m : sizeof out - (size_t)k - 2);
  out[n++] = c->term;
  size_t off = 0;
  while (off < n) {
    ssize_t w = send(c->fd, out + off, n - off, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    off += (size_t)w;
  }
}

static void emit_line(void *ctx, const char *path, const char *status) { reply(ctx, "%s: %s", path, status); }

static void version(conn *c, int commands) {
  cd_stats_t st;
  cd_stats_get(&st);
  char day[64];
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(day, sizeof day, "%a %b %e %H:%M:%S %Y", &tm);
  const char *model = st.model[0] ? st.model : "model-unknown";
  if (commands) reply(c, "%s/%s/%s| COMMANDS: %s", CD_VERSION_TEXT, model, day, cd_cmd_names());
  else reply(c, "%s/%s/%s", CD_VERSION_TEXT, model, day);
}

static void stats(conn *c) {
  cd_stats_t st;
  cd_stats_get(&st);
  char text[1400];
  snprintf(text, sizeof text,
           "POOLS: 1\n\nSTATE: VALID PRIMARY\nTHREADS: live %d  idle 0 max %d idle-timeout %d\nQUEUE: 0 items\n"
           "PEFLEET: connections %llu refused %llu scans %llu found %llu clean %llu errors %llu bytes %llu "
           "in-flight %zu budget %zu last-probability %.6f model %s\n"
           "MEMSTATS: heap N/A mmap N/A used N/A free N/A releasable N/A pools 1 pools_used N/A pools_total N/A\nEND",
           st.live_connections, c->o->max_connections, c->o->idle_timeout_s, (unsigned long long)st.connections,
           (unsigned long long)st.refused_connections, (unsigned long long)st.scans, (unsigned long long)st.found,
           (unsigned long long)st.clean, (unsigned long long)st.errors, (unsigned long long)st.bytes,
           cd_budget_used(), c->o->budget, st.last_probability, st.model[0] ? st.model : "-");
  reply(c, "%s", text);
}

static void log_verdict(conn *c, const char *what, size_t bytes, const cd_verdict *v) {
  char status[600];
  cd_verdict_text(v, status, sizeof status);
  pf_info("%s from %s: %zu bytes, sha256 %s: %s (p=%.6f, model %s, %.1f ms)", what, c->peer, bytes,
          v->sha256[0] ? v->sha256 : "-", status, v->probability, v->model[0] ? v->model : "-", v->ms);
  cd_stats_scan(v->verdict, bytes, v->probability, v->model);
}

/* INSTREAM: chunks until a zero length. 0 answered; -1 close now. */
static int instream(conn *c) {
  const cd_opts *o = c->o;
  double deadline = pf_clock_s() + STREAM_DEADLINE_S;
  uint8_t *data = NULL;
  size_t total = 0, held = 0;
  int rc = -1;
  for (;;) {
    uint8_t hdr[4];
    int r = read_exact(c, hdr, 4, deadline);
    if (r == -2) { reply(c, "COMMAND READ TIMED OUT"); goto out; }
    if (r != 0) { pf_info("INSTREAM from %s: client went away after %zu bytes", c->peer, total); goto out; }
    uint32_t n = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
    if (n == 0) break;
    if (n > o->stream_max - total) {
      pf_warn("INSTREAM from %s: size limit reached (requested %zu bytes, max %zu)", c->peer, total + n, o->stream_max);
      reply(c, "INSTREAM size limit exceeded. ERROR");
      goto out;
    }
    if (!cd_budget_take(n)) {
      pf_warn("INSTREAM from %s: in-flight byte budget (%zu bytes) reached", c->peer, o->budget);
      reply(c, "stream: Server busy (in-flight byte budget reached), retry later. ERROR");
      goto out;
    }
    held += n;
    uint8_t *p = realloc(data, total + n);
    if (!p) { reply(c, "stream: Can't allocate memory. ERROR"); goto out; }
    data = p;
    r = read_exact(c, data + total, n, deadline);
    if (r == -2) { reply(c, "COMMAND READ TIMED OUT"); goto out; }
    if (r != 0) { pf_info("INSTREAM from %s: client went away inside a chunk", c->peer); goto out; }
    total += n;
  }
  cd_verdict v;
  cd_scan_bytes(data, total, &v);
  log_verdict(c, "INSTREAM", total, &v);
  char status[600];
  cd_verdict_text(&v, status, sizeof status);
  reply(c, "stream: %s", status);
  rc = 0;
out:
  free(data);
  if (held) cd_budget_give(held);
  return rc;
}

/* FILDES: the descriptor comes with (at least) one byte of data. */
static int fildes(conn *c) {
  double deadline = pf_clock_s() + c->o->read_timeout_s;
  while (c->pending_fd < 0 || c->len < 1) {
    if (!c->is_unix) break;
    int left = (int)(deadline - pf_clock_s());
    if (left <= 0) break;
    int r = fill(c, left);
    if (r <= 0) break;
  }
  if (c->pending_fd < 0) {
    reply(c, "No file descriptor received. ERROR");
    return -1;
  }
  if (c->len >= 1) consume(c, 1); /* the byte that carried it */
  int fd = c->pending_fd;
  c->pending_fd = -1;
  cd_verdict v;
  cd_scan_fd(fd, &v);
  close(fd);
  log_verdict(c, "FILDES", 0, &v);
  char status[600];
  cd_verdict_text(&v, status, sizeof status);
  reply(c, "fd[%d]: %s", fd, status);
  return 0;
}

/* Complete commands waiting in the buffer (up to the first INSTREAM or
 * FILDES, whose data follow). */
static int pending(const conn *c) {
  size_t off = 0;
  int n = 0;
  while (off < c->len) {
    cd_cmd x;
    size_t used;
    if (cd_cmd_parse(c->buf + off, c->len - off, 0, &x, &used) != CD_PARSE_OK) break;
    n++;
    if (x.kind == CD_INSTREAM || x.kind == CD_FILDES) break;
    off += used;
  }
  return n;
}

static int session_ok(cd_kind k) {
  switch (k) {
  case CD_SCAN: case CD_INSTREAM: case CD_FILDES: case CD_VERSION: case CD_VERSIONCOMMANDS:
  case CD_PING: case CD_STATS: case CD_END:
    return 1;
  default:
    return 0;
  }
}

/* Runs one command. 0: read the next (inside a session); 1: close. */
static int run(conn *c, const cd_cmd *x) {
  if (c->session && !session_ok(x->kind) && x->kind != CD_UNKNOWN) {
    reply(c, "Command invalid inside IDSESSION. ERROR");
    return 1;
  }
  int keep = c->session;
  switch (x->kind) {
  case CD_PING: reply(c, "PONG"); return !keep;
  case CD_VERSION: version(c, 0); return !keep;
  case CD_VERSIONCOMMANDS: version(c, 1); return !keep;
  case CD_STATS: stats(c); return !keep;
  case CD_RELOAD:
    /* the scorers follow the model that serves by themselves (pefleet promote) */
    pf_info("RELOAD from %s: the scorers follow the promoted model", c->peer);
    reply(c, "RELOADING");
    return 1;
  case CD_SHUTDOWN:
    if (!c->o->allow_shutdown) {
      pf_warn("SHUTDOWN from %s refused (not started with --allow-shutdown)", c->peer);
      reply(c, "SHUTDOWN refused: pefleet-clamd runs without --allow-shutdown. ERROR");
      return 1;
    }
    pf_info("SHUTDOWN from %s", c->peer);
    cd_shutdown_requested = 1;
    kill(getpid(), SIGTERM);
    return 1;
  case CD_IDSESSION:
    if (c->session) { reply(c, "Command invalid inside IDSESSION. ERROR"); return 1; }
    c->session = 1;
    return 0;
  case CD_END:
    if (!c->session) { reply(c, "UNKNOWN COMMAND"); return 1; }
    return 1;
  case CD_INSTREAM:
    return instream(c) != 0 || !keep;
  case CD_FILDES:
    return fildes(c) != 0 || !keep;
  case CD_SCAN: case CD_CONTSCAN: case CD_MULTISCAN: case CD_ALLMATCHSCAN: {
    int found = 0, errors = 0;
    if (c->o->n_allow == 0) {
      char p[CD_CMD_MAX];
      snprintf(p, sizeof p, "%.*s", (int)x->arglen, x->arg);
      pf_info("%s %s from %s: refused (no --allow-path folders)", x->name, p, c->peer);
      reply(c, "%s: Access denied. ERROR", p);
      return !keep;
    }
    cd_paths_scan(c->o, x->kind, x->arg, x->arglen, emit_line, c, &found, &errors);
    return !keep;
  }
  default:
    reply(c, "UNKNOWN COMMAND");
    return 1;
  }
}

static void serve(conn *c) {
  int first = 1;
  for (;;) {
    cd_cmd x;
    size_t used = 0;
    int pr = cd_cmd_parse(c->buf, c->len, 0, &x, &used);
    if (pr == CD_PARSE_MORE) {
      int r = fill(c, c->len ? c->o->read_timeout_s : c->o->idle_timeout_s);
      if (r == -2) {
        if (c->len) reply(c, "COMMAND READ TIMED OUT");
        return;
      }
      if (r <= 0) {
        /* an old-style command may end with the connection's write side */
        if (r == 0 && first && c->len && cd_cmd_parse(c->buf, c->len, 1, &x, &used) == CD_PARSE_OK) {
          consume(c, used);
          c->term = x.term;
          run(c, &x);
        }
        return;
      }
      /* old style: one packet is one command */
      if (first && c->len && c->buf[0] != 'z' && c->buf[0] != 'n' &&
          cd_cmd_parse(c->buf, c->len, 1, &x, &used) == CD_PARSE_OK) {
        pr = CD_PARSE_OK;
      } else {
        continue;
      }
    }
    if (pr == CD_PARSE_TOO_LONG) {
      pf_warn("command from %s: longer than %d bytes, dropped", c->peer, CD_CMD_MAX);
      c->term = c->buf[0] == 'z' ? '\0' : '\n';
      reply(c, "Command too long. ERROR");
      return;
    }
    consume(c, used);
    first = 0;
    c->term = x.term;
    if (c->session) {
      c->id++;
      if (pending(c) >= c->o->max_pending) {
        pf_warn("IDSESSION from %s: more than %d requests pending, closed", c->peer, c->o->max_pending);
        reply(c, "Too many pending requests in this session. ERROR");
        return;
      }
    }
    if (x.kind == CD_UNKNOWN) pf_info("command from %s: unknown or malformed", c->peer);
    if (run(c, &x)) return;
  }
}

/* Closing with unread bytes makes the kernel send a reset, which can
 * destroy the reply just sent (an error about those very bytes): stop
 * writing, read and drop what still comes for a moment, then close. */
static void linger_close(conn *c) {
  shutdown(c->fd, SHUT_WR);
  uint8_t sink[16384];
  size_t dropped = 0;
  double until = pf_clock_s() + 0.5;
  while (dropped < (1u << 20) && pf_clock_s() < until) {
    struct pollfd p = {.fd = c->fd, .events = POLLIN};
    if (poll(&p, 1, 100) <= 0) break;
    ssize_t r = recv(c->fd, sink, sizeof sink, MSG_DONTWAIT);
    if (r <= 0) break;
    dropped += (size_t)r;
  }
}

static void *conn_main(void *arg) {
  conn *c = arg;
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, NULL);
  serve(c);
  linger_close(c);
  if (c->pending_fd >= 0) close(c->pending_fd);
  close(c->fd);
  cd_stats_conn(-1);
  free(c);
  return NULL;
}

int cd_conn_start(const cd_opts *o, int fd, int is_unix, const char *peer) {
  conn *c = calloc(1, sizeof *c);
  if (!c) { close(fd); cd_stats_conn(-1); return PF_ENOMEM; }
  c->o = o;
  c->fd = fd;
  c->is_unix = is_unix;
  c->pending_fd = -1;
  snprintf(c->peer, sizeof c->peer, "%s", peer);
  pthread_attr_t a;
  pthread_attr_init(&a);
  pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&a, 512 * 1024);
  pthread_t t;
  int rc = pthread_create(&t, &a, conn_main, c);
  pthread_attr_destroy(&a);
  if (rc != 0) {
    close(fd);
    free(c);
    cd_stats_conn(-1);
    return PF_EIO;
  }
  return PF_OK;
}

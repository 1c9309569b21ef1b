/* Pool of isolated encoder children (see pf_encoder.h). */
#include "pf_encoder.h"
#include "pf_clock.h"
#include "pf_err.h"
#include "pf_io.h"
#include "pf_wire.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ERR_TAIL 1024

typedef struct {
  pid_t pid;            /* 0 when no child runs in this slot */
  int req_fd, res_fd, err_fd;
  int busy;
  int timed_out;        /* we killed it for the wall-clock limit */
  int files;            /* files handled by this child */
  int64_t started_ms;
  pf_encode_result cur; /* result being assembled */
  uint8_t buf[2 * PF_WIRE_MAX_FRAME];
  size_t buflen;
  char tail[ERR_TAIL];  /* last bytes the child wrote to stderr */
  size_t taillen;
} child;

struct pf_encoder {
  pf_encoder_opts o;
  char sandbox[PATH_MAX];
  int n;
  child *c;
};

void pf_encoder_opts_default(pf_encoder_opts *o) {
  memset(o, 0, sizeof *o);
  o->workers = 1;
  o->cpu_seconds = 20;
  o->timeout_ms = 60000;
  o->mem_bytes = 4ull << 30;
  o->max_file_size = 512ull << 20;
  o->recycle_after = 1000;
}

static void close_fd(int *fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

static int find_sandbox(pf_encoder *e, char *err, size_t errlen) {
  const char *p = e->o.sandbox ? e->o.sandbox : getenv("PEFLEET_SANDBOX");
  if (p && *p) {
    snprintf(e->sandbox, sizeof e->sandbox, "%s", p);
  } else {
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
      snprintf(err, errlen, "cannot locate pefleet-sandbox: /proc/self/exe unreadable");
      return PF_EIO;
    }
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash) *slash = '\0';
    if (strlen(self) + sizeof "/pefleet-sandbox" > sizeof e->sandbox) {
      snprintf(err, errlen, "cannot locate pefleet-sandbox: path too long");
      return PF_ELIMIT;
    }
    memcpy(e->sandbox, self, strlen(self));
    memcpy(e->sandbox + strlen(self), "/pefleet-sandbox", sizeof "/pefleet-sandbox");
  }
  if (access(e->sandbox, X_OK) != 0) {
    snprintf(err, errlen, "cannot run %s: %s", e->sandbox, strerror(errno));
    return PF_ENOENT;
  }
  return PF_OK;
}

static int spawn(pf_encoder *e, child *c) {
  int req[2], res[2], er[2];
  if (pipe2(req, O_CLOEXEC) != 0) return PF_EIO;
  if (pipe2(res, O_CLOEXEC) != 0) { close(req[0]); close(req[1]); return PF_EIO; }
  if (pipe2(er, O_CLOEXEC) != 0) {
    close(req[0]); close(req[1]); close(res[0]); close(res[1]);
    return PF_EIO;
  }
  char cpu[32], mem[32], max[32];
  snprintf(cpu, sizeof cpu, "%d", e->o.cpu_seconds);
  snprintf(mem, sizeof mem, "%llu", (unsigned long long)e->o.mem_bytes);
  snprintf(max, sizeof max, "%llu", (unsigned long long)e->o.max_file_size);
  pid_t pid = fork();
  if (pid == 0) {
    /* only async-signal-safe calls until exec */
    dup2(req[0], 0);
    dup2(er[1], 1);
    dup2(er[1], 2);
    dup2(res[1], 3);
    execl(e->sandbox, "pefleet-sandbox", "--cpu", cpu, "--mem", mem, "--max-size", max, (char *)NULL);
    _exit(127);
  }
  close(req[0]); close(res[1]); close(er[1]);
  if (pid < 0) {
    close(req[1]); close(res[0]); close(er[0]);
    return PF_EIO;
  }
  fcntl(res[0], F_SETFL, O_NONBLOCK);
  fcntl(er[0], F_SETFL, O_NONBLOCK);
  memset(c, 0, sizeof *c);
  c->pid = pid;
  c->req_fd = req[1];
  c->res_fd = res[0];
  c->err_fd = er[0];
  return PF_OK;
}

/* Closes a dead or unwanted child's pipes and reaps it; returns its wait
 * status (or -1 when it was not ours to reap). */
static int reap(child *c, int kill_first) {
  int status = -1;
  if (c->pid > 0) {
    if (kill_first) kill(c->pid, SIGKILL);
    close_fd(&c->req_fd);
    while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  close_fd(&c->req_fd);
  close_fd(&c->res_fd);
  close_fd(&c->err_fd);
  c->pid = 0;
  return status;
}

/* Waits until deadline for c (already sent EOF) to exit by itself, then
 * kills what is left, and releases its slot. A busy child is killed at once. */
static void retire(child *c, int64_t deadline) {
  if (c->pid <= 0) return;
  int status;
  pid_t r = 0;
  while (!c->busy && pf_clock_ms() < deadline && (r = waitpid(c->pid, &status, WNOHANG)) == 0) {
    struct timespec ts = {0, 5 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  if (r == c->pid) c->pid = 0; /* already reaped: nothing to kill */
  reap(c, 1);
}

int pf_encoder_new(const pf_encoder_opts *opts, pf_encoder **out, char *err, size_t errlen) {
  *out = NULL;
  pf_encoder *e = calloc(1, sizeof *e);
  if (!e) return PF_ENOMEM;
  e->o = *opts;
  if (e->o.workers < 1) e->o.workers = 1;
  if (e->o.recycle_after < 1) e->o.recycle_after = 1;
  int rc = find_sandbox(e, err, errlen);
  if (rc != PF_OK) { free(e); return rc; }
  e->o.sandbox = NULL; /* copied into e->sandbox */
  e->n = e->o.workers;
  e->c = calloc((size_t)e->n, sizeof *e->c);
  if (!e->c) { free(e); return PF_ENOMEM; }
  /* a child that dies while we write to it must not kill us */
  signal(SIGPIPE, SIG_IGN);
  for (int i = 0; i < e->n; i++) e->c[i].req_fd = e->c[i].res_fd = e->c[i].err_fd = -1;
  for (int i = 0; i < e->n; i++) {
    if (spawn(e, &e->c[i]) != PF_OK) {
      snprintf(err, errlen, "cannot start %s: %s", e->sandbox, strerror(errno));
      pf_encoder_free(&e);
      return PF_EIO;
    }
  }
  *out = e;
  return PF_OK;
}

void pf_encoder_free(pf_encoder **ep) {
  pf_encoder *e = ep ? *ep : NULL;
  if (!e) return;
  /* EOF on its request pipe asks every child to exit; a child that has not
   * gone within a second (busy, or hung) is killed. */
  for (int i = 0; i < e->n; i++) close_fd(&e->c[i].req_fd);
  int64_t deadline = pf_clock_ms() + 1000;
  for (int i = 0; i < e->n; i++) retire(&e->c[i], deadline);
  free(e->c);
  free(e);
  *ep = NULL;
}

int pf_encoder_free_slots(const pf_encoder *e) {
  int n = 0;
  for (int i = 0; i < e->n; i++) n += !e->c[i].busy;
  return n;
}

int pf_encoder_pending(const pf_encoder *e) {
  return e->n - pf_encoder_free_slots(e);
}

int pf_encoder_submit(pf_encoder *e, uint64_t id, const char *path) {
  size_t len = strlen(path);
  if (len == 0 || len > PF_WIRE_MAX_PATH) return PF_EINVAL;
  for (int i = 0; i < e->n; i++) {
    child *c = &e->c[i];
    if (c->busy) continue;
    uint8_t frame[PF_WIRE_HEADER_SIZE + PF_WIRE_MAX_PATH];
    long n = pf_wire_pack(frame, sizeof frame, PF_WIRE_REQ, id, path, len);
    if (n < 0) return PF_EINVAL;
    for (int attempt = 0; attempt < 2; attempt++) {
      if (c->pid == 0 && spawn(e, c) != PF_OK) return PF_EIO;
      if (pf_io_write_all(c->req_fd, frame, (size_t)n) == 0) {
        c->busy = 1;
        c->timed_out = 0;
        c->started_ms = pf_clock_ms();
        c->buflen = 0;
        c->taillen = 0;
        c->tail[0] = '\0';
        memset(&c->cur, 0, sizeof c->cur);
        c->cur.id = id;
        return PF_OK;
      }
      reap(c, 1); /* it died while idle: replace it and retry */
    }
    return PF_EIO;
  }
  return PF_ELIMIT;
}

static void drain_stderr(child *c) {
  char tmp[4096];
  for (;;) {
    ssize_t r = read(c->err_fd, tmp, sizeof tmp);
    if (r <= 0) return;
    for (ssize_t i = 0; i < r; i++) {
      if (c->taillen == ERR_TAIL - 1) {
        memmove(c->tail, c->tail + ERR_TAIL / 2, ERR_TAIL / 2 - 1);
        c->taillen = ERR_TAIL / 2 - 1;
      }
      c->tail[c->taillen++] = tmp[i];
    }
    c->tail[c->taillen] = '\0';
  }
}

/* One line describing why a child died, from its status and stderr. */
static void death_reason(const pf_encoder *e, const child *c, int status, char *out, size_t n) {
  const char *what = strstr(c->tail, "what():");
  char detail[200] = "";
  if (what) {
    what += 7;
    while (*what == ' ') what++;
    size_t k = strcspn(what, "\r\n");
    if (k >= sizeof detail) k = sizeof detail - 1;
    memcpy(detail, what, k);
    detail[k] = '\0';
  }
  const char *thrown = strstr(c->tail, "instance of '");
  char type[80] = "";
  if (thrown) {
    thrown += 13;
    size_t k = strcspn(thrown, "'");
    if (k >= sizeof type) k = sizeof type - 1;
    memcpy(type, thrown, k);
    type[k] = '\0';
  }
  if (c->timed_out) {
    snprintf(out, n, "parser timed out after %d ms (killed)", e->o.timeout_ms);
  } else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGXCPU) {
    snprintf(out, n, "parser exceeded its CPU limit of %d s (killed)", e->o.cpu_seconds);
  } else if (strcmp(type, "std::bad_alloc") == 0) {
    snprintf(out, n, "parser ran out of memory (limit %llu MiB)", (unsigned long long)(e->o.mem_bytes >> 20));
  } else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT) {
    if (type[0] || detail[0])
      snprintf(out, n, "LIEF rejected the file: %s%s%s", type[0] ? type : "exception", detail[0] ? ": " : "", detail);
    else
      snprintf(out, n, "parser aborted while parsing (malformed PE)");
  } else if (WIFSIGNALED(status)) {
    snprintf(out, n, "parser crashed with signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
  } else if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
    snprintf(out, n, "parser could not start (%.200s)", e->sandbox);
  } else if (WIFEXITED(status)) {
    snprintf(out, n, "parser exited with status %d", WEXITSTATUS(status));
  } else {
    snprintf(out, n, "parser died");
  }
}

/* Parses the frames buffered for c. Returns 1 when the result is complete. */
static int take_frames(child *c) {
  size_t at = 0;
  int done = 0;
  while (!done) {
    uint32_t type;
    uint64_t id;
    const uint8_t *p;
    size_t n;
    long f = pf_wire_frame(c->buf + at, c->buflen - at, &type, &id, &p, &n);
    if (f == 0) break;
    if (f < 0 || id != c->cur.id) {
      /* garbage from the child: treat it as a dead child */
      c->cur.ok = 0;
      c->cur.code = PF_ECRASH;
      snprintf(c->cur.error, sizeof c->cur.error, "parser sent a malformed reply");
      return -1;
    }
    if (type == PF_WIRE_HASH && n == PF_SHA256_LEN + 8) {
      memcpy(c->cur.sha256, p, PF_SHA256_LEN);
      memcpy(&c->cur.size, p + PF_SHA256_LEN, 8);
      c->cur.have_hash = 1;
    } else if (type == PF_WIRE_VEC && n == sizeof c->cur.vec) {
      memcpy(c->cur.vec, p, n);
      c->cur.ok = 1;
      c->cur.code = PF_OK;
      done = 1;
    } else if (type == PF_WIRE_ERR && n >= 4) {
      int32_t code;
      memcpy(&code, p, 4);
      size_t m = n - 4 < sizeof c->cur.error - 1 ? n - 4 : sizeof c->cur.error - 1;
      memcpy(c->cur.error, p + 4, m);
      c->cur.error[m] = '\0';
      c->cur.ok = 0;
      c->cur.code = code < 0 ? code : PF_EINVAL;
      done = 1;
    } else {
      c->cur.ok = 0;
      c->cur.code = PF_ECRASH;
      snprintf(c->cur.error, sizeof c->cur.error, "parser sent an unexpected reply");
      return -1;
    }
    at += (size_t)f;
  }
  memmove(c->buf, c->buf + at, c->buflen - at);
  c->buflen -= at;
  return done;
}

/* Hands out a busy child's result. complete: the child sent its last
 * frame; dead: the child is gone (or must go) and is replaced. */
static void finish(pf_encoder *e, child *c, pf_encode_result *res, int complete, int dead) {
  c->busy = 0;
  c->files++;
  if (dead) {
    int status = reap(c, 1);
    if (!complete) {
      c->cur.ok = 0;
      if (c->cur.error[0] == '\0') {
        death_reason(e, c, status, c->cur.error, sizeof c->cur.error);
        c->cur.code = c->timed_out ? PF_ETIMEOUT : PF_ECRASH;
      }
    }
  }
  *res = c->cur;
  if (dead) {
    spawn(e, c); /* a failed respawn is retried at the next submit */
  } else if (c->files >= e->o.recycle_after) {
    close_fd(&c->req_fd); /* EOF: the child exits; one stuck in cleanup is killed after a second */
    retire(c, pf_clock_ms() + 1000);
    spawn(e, c);
  }
}

int pf_encoder_next(pf_encoder *e, pf_encode_result *res, int timeout_ms) {
  if (pf_encoder_pending(e) == 0) return PF_EINVAL;
  int64_t start = pf_clock_ms();
  struct pollfd *pfd = calloc((size_t)e->n * 2, sizeof *pfd);
  if (!pfd) return PF_ENOMEM;
  int rc = 0;
  for (int first = 1;; first = 0) {
    int64_t now = pf_clock_ms();
    int wait = timeout_ms < 0 ? -1 : (int)(timeout_ms - (now - start));
    if (timeout_ms >= 0 && wait <= 0) {
      if (!first) break;
      wait = 0; /* a zero timeout still looks once */
    }
    /* wall-clock limits */
    for (int i = 0; i < e->n; i++) {
      child *c = &e->c[i];
      if (!c->busy || c->timed_out) continue;
      int64_t left = c->started_ms + e->o.timeout_ms - now;
      if (left <= 0) {
        c->timed_out = 1;
        kill(c->pid, SIGKILL);
      } else if (wait < 0 || left < wait) {
        wait = (int)left;
      }
    }
    int k = 0;
    for (int i = 0; i < e->n; i++) {
      child *c = &e->c[i];
      if (c->pid <= 0) continue;
      pfd[k++] = (struct pollfd){.fd = c->res_fd, .events = POLLIN};
      pfd[k++] = (struct pollfd){.fd = c->err_fd, .events = POLLIN};
    }
    int pr = poll(pfd, (nfds_t)k, wait);
    if (pr < 0 && errno != EINTR) { rc = PF_EIO; break; }
    for (int i = 0; i < e->n; i++) {
      child *c = &e->c[i];
      if (c->pid <= 0) continue;
      drain_stderr(c);
      ssize_t r;
      int dead = 0;
      for (;;) {
        r = read(c->res_fd, c->buf + c->buflen, sizeof c->buf - c->buflen);
        if (r > 0) { c->buflen += (size_t)r; continue; }
        if (r == 0) dead = 1;
        else if (errno != EAGAIN && errno != EINTR) dead = 1;
        break;
      }
      int done = c->busy ? take_frames(c) : 0;
      if (done < 0) dead = 1;
      if (dead) drain_stderr(c);
      if (c->busy && (done != 0 || dead)) {
        finish(e, c, res, done == 1, dead);
        free(pfd);
        return 1;
      }
      if (dead) { /* died while idle: replace quietly */
        reap(c, 1);
        spawn(e, c);
      }
    }
  }
  free(pfd);
  return rc;
}

int pf_encoder_pollfds(const pf_encoder *e, int *fds, int max) {
  int k = 0;
  for (int i = 0; i < e->n && k + 2 <= max; i++) {
    if (e->c[i].pid <= 0 || !e->c[i].busy) continue; /* an idle child's EOF would wake the caller forever */
    fds[k++] = e->c[i].res_fd;
    fds[k++] = e->c[i].err_fd;
  }
  return k;
}

int pf_encoder_encode_one(pf_encoder *e, const char *path, pf_encode_result *res) {
  int rc = pf_encoder_submit(e, 0, path);
  if (rc != PF_OK) return rc;
  rc = pf_encoder_next(e, res, -1);
  return rc == 1 ? PF_OK : rc;
}

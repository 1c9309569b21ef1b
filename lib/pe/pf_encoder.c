/* Pool of isolated encoder children (see pf_encoder.h). */
#include "pf_encoder.h"
#include "pf_clock.h"
#include "pf_err.h"
#include "pf_fdpass.h"
#include "pf_hash.h"
#include "pf_io.h"
#include "pf_log.h"
#include "pf_sandbox.h"
#include "pf_wire.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ERR_TAIL 1024

typedef struct {
  pid_t pid;            /* 0 when no child runs in this slot */
  int req_fd, res_fd, err_fd;
  int busy;
  int ready;            /* cur is complete without the child (the daemon refused the file) */
  int answered;         /* the child sent VEC or ERR */
  int viol;             /* syscall number the seccomp trap reported, or -1 */
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
  int said_layers;      /* the sandbox's layers were logged */
  char layers[PF_WIRE_MAX_FRAME];
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
  /* requests: a unix socket, so each sample's descriptor rides along */
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, req) != 0) return PF_EIO;
  if (pipe2(res, O_CLOEXEC) != 0) { close(req[0]); close(req[1]); return PF_EIO; }
  if (pipe2(er, O_CLOEXEC) != 0) {
    close(req[0]); close(req[1]); close(res[0]); close(res[1]);
    return PF_EIO;
  }
  char cpu[32], mem[32], max[32];
  snprintf(cpu, sizeof cpu, "%d", e->o.cpu_seconds);
  snprintf(mem, sizeof mem, "%llu", (unsigned long long)e->o.mem_bytes);
  snprintf(max, sizeof max, "%llu", (unsigned long long)e->o.max_file_size);
  char *argv[] = {"pefleet-sandbox", "--cpu", cpu, "--mem", mem, "--max-size", max, NULL};
  char *envp[] = {NULL};
  pid_t pid = fork();
  if (pid == 0) {
    /* only async-signal-safe calls until exec; the child gets its four
     * descriptors and nothing else, and no environment */
    dup2(req[1], 0);
    dup2(er[1], 1);
    dup2(er[1], 2);
    dup2(res[1], 3);
    close_range(4, ~0u, 0);
    execve(e->sandbox, argv, envp);
    _exit(127);
  }
  close(req[1]); close(res[1]); close(er[1]);
  if (pid < 0) {
    close(req[0]); close(res[0]); close(er[0]);
    return PF_EIO;
  }
  fcntl(res[0], F_SETFL, O_NONBLOCK);
  fcntl(er[0], F_SETFL, O_NONBLOCK);
  /* a new process: its pipes and counters; the file the slot holds (busy,
   * cur) is the caller's */
  c->pid = pid;
  c->req_fd = req[0];
  c->res_fd = res[0];
  c->err_fd = er[0];
  c->files = 0;
  c->buflen = 0;
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

static int take_frames(pf_encoder *e, child *c, int *status, uint32_t *cpu_ms);

/* Reads c's first frames until its hello (or anything else) arrives, it
 * dies or ms pass. A sandbox that says something else first (a fault
 * injection script) is left for pf_encoder_next to judge. */
static void wait_hello(pf_encoder *e, child *c, int ms) {
  int64_t deadline = pf_clock_ms() + ms;
  while (!e->said_layers && c->pid > 0 && c->buflen < PF_WIRE_HEADER_SIZE) {
    int64_t left = deadline - pf_clock_ms();
    if (left <= 0) return;
    struct pollfd p = {.fd = c->res_fd, .events = POLLIN};
    if (poll(&p, 1, (int)left) <= 0) return;
    ssize_t r = read(c->res_fd, c->buf + c->buflen, sizeof c->buf - c->buflen);
    if (r <= 0) return;
    c->buflen += (size_t)r;
  }
  uint32_t type;
  uint64_t id;
  const uint8_t *p;
  size_t n;
  long f = pf_wire_frame(c->buf, c->buflen, &type, &id, &p, &n);
  if (f > 0 && type == PF_WIRE_HELLO) {
    int status;
    uint32_t cpu;
    take_frames(e, c, &status, &cpu);
  }
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
  wait_hello(e, &e->c[0], 2000);
  *out = e;
  return PF_OK;
}

const char *pf_encoder_layers(const pf_encoder *e) { return e->layers; }

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

/* Opens path for a child: the daemon opens, the child gets only the
 * descriptor. Returns the fd, or -1 with a one-line reason in res. */
static int open_sample(const pf_encoder *e, const char *path, pf_encode_result *res) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  struct stat st;
  if (fd < 0) {
    res->code = errno == ENOENT ? PF_ENOENT : PF_EIO;
    snprintf(res->error, sizeof res->error, "cannot open: %s", strerror(errno));
  } else if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    res->code = PF_EINVAL;
    snprintf(res->error, sizeof res->error, "not a regular file");
  } else if ((uint64_t)st.st_size > e->o.max_file_size) {
    res->code = PF_ELIMIT;
    snprintf(res->error, sizeof res->error, "file too large: %lld bytes (limit %llu)", (long long)st.st_size,
             (unsigned long long)e->o.max_file_size);
  } else {
    /* the sandbox gets a memfd of the bytes, never the file: it can open
     * nothing that has a path, and the file cannot change under it. The
     * sha256 is the daemon's own: a parser taken over by its sample could
     * claim any other (and so write its vector over another sample's). */
    int m = memfd_create("pefleet-sample", MFD_CLOEXEC);
    int rc = m < 0 ? PF_ENOMEM : pf_sha256_copy(fd, m, (uint64_t)st.st_size, res->sha256);
    int why = errno;
    if (rc == PF_OK) {
      res->have_hash = 1;
      res->size = (uint64_t)st.st_size;
      close(fd);
      return m;
    }
    res->code = m < 0 ? PF_ENOMEM : PF_EIO;
    snprintf(res->error, sizeof res->error, "cannot copy the file into memory: %s", strerror(why));
    if (m >= 0) close(m);
  }
  if (fd >= 0) close(fd);
  return -1;
}

static void start_file(child *c, uint64_t id) {
  c->busy = 1;
  c->ready = 0;
  c->answered = 0;
  c->viol = -1;
  c->timed_out = 0;
  c->started_ms = pf_clock_ms();
  c->taillen = 0;
  c->tail[0] = '\0';
  memset(&c->cur, 0, sizeof c->cur);
  c->cur.id = id;
}

int pf_encoder_submit(pf_encoder *e, uint64_t id, const char *path) {
  size_t len = strlen(path);
  if (len == 0 || len > PF_WIRE_MAX_PATH) return PF_EINVAL;
  for (int i = 0; i < e->n; i++) {
    child *c = &e->c[i];
    if (c->busy) continue;
    uint8_t frame[PF_WIRE_HEADER_SIZE];
    long n = pf_wire_pack(frame, sizeof frame, PF_WIRE_REQ, id, NULL, 0);
    if (n < 0) return PF_EINVAL;
    start_file(c, id);
    int fd = open_sample(e, path, &c->cur);
    if (fd < 0) {
      c->ready = 1; /* refused before any child saw it */
      return PF_OK;
    }
    for (int attempt = 0; attempt < 2; attempt++) {
      if (c->pid == 0 && spawn(e, c) != PF_OK) break;
      if (pf_fdpass_send(c->req_fd, frame, (size_t)n, fd) == 0) {
        close(fd);
        c->started_ms = pf_clock_ms(); /* the wall clock runs from the hand-over */
        return PF_OK;
      }
      reap(c, 1); /* it died while idle: replace it and retry */
    }
    close(fd);
    c->busy = 0;
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

/* One line describing why a parse failed, from how its process ended
 * (status, CPU time) and what it wrote to stderr. */
static void death_reason(const pf_encoder *e, const child *c, int status, uint32_t cpu_ms, char *out, size_t n) {
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
  int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  if (c->viol >= 0) {
    char name[64];
    pf_sandbox_syscall_name(c->viol, name, sizeof name);
    snprintf(out, n, "parser violated the sandbox: syscall %s", name);
  } else if (sig == SIGSYS) {
    snprintf(out, n, "parser violated the sandbox: killed by the seccomp filter");
  } else if (c->timed_out) {
    snprintf(out, n, "parser timed out after %d ms (killed)", e->o.timeout_ms);
  } else if (sig == SIGXCPU || (sig == SIGKILL && e->o.cpu_seconds > 0 && cpu_ms + 20 >= (uint32_t)e->o.cpu_seconds * 1000)) {
    snprintf(out, n, "parser exceeded its CPU limit of %d s (killed)", e->o.cpu_seconds);
  } else if (strcmp(type, "std::bad_alloc") == 0) {
    snprintf(out, n, "parser ran out of memory (limit %llu MiB)", (unsigned long long)(e->o.mem_bytes >> 20));
  } else if (sig == SIGABRT) {
    if (type[0] || detail[0])
      snprintf(out, n, "LIEF rejected the file: %s%s%s", type[0] ? type : "exception", detail[0] ? ": " : "", detail);
    else
      snprintf(out, n, "parser aborted while parsing (malformed PE)");
  } else if (sig) {
    snprintf(out, n, "parser crashed with signal %d (%s)", sig, strsignal(sig));
  } else if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
    snprintf(out, n, "parser could not start (%.200s)", e->sandbox);
  } else if (WIFEXITED(status) && WEXITSTATUS(status) == PF_SANDBOX_VIOLATION_EXIT) {
    snprintf(out, n, "parser violated the sandbox");
  } else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
    snprintf(out, n, "parser exited with status %d", WEXITSTATUS(status));
  } else {
    snprintf(out, n, "parser ended without an answer");
  }
}

/* Logs the layers the sandbox says are in force, once per pool; those it
 * lacks are a warning. */
static void take_hello(pf_encoder *e, const uint8_t *p, size_t n) {
  if (e->said_layers) return;
  e->said_layers = 1;
  if (n >= sizeof e->layers) n = sizeof e->layers - 1;
  memcpy(e->layers, p, n);
  e->layers[n] = '\0';
  char *nl = strchr(e->layers, '\n');
  const char *missing = "";
  if (nl) {
    *nl = '\0';
    missing = nl + 1;
  }
  if (e->o.log_layers) pf_info("sandbox: layers in force: %s", e->layers);
  if (*missing) pf_warn("sandbox: WARNING: layers missing on this kernel: %s", missing);
}

/* Parses the frames buffered for c. Returns 1 when the file is finished
 * (DONE: *status and *cpu_ms filled), 0 when more is to come, -1 when the
 * child sent what it must not (it is then treated as dead). */
static int take_frames(pf_encoder *e, child *c, int *status, uint32_t *cpu_ms) {
  size_t at = 0;
  int done = 0;
  while (!done) {
    uint32_t type;
    uint64_t id;
    const uint8_t *p;
    size_t n;
    long f = pf_wire_frame(c->buf + at, c->buflen - at, &type, &id, &p, &n);
    if (f == 0) break;
    at += f > 0 ? (size_t)f : 0;
    if (f > 0 && type == PF_WIRE_HELLO) {
      take_hello(e, p, n);
      continue;
    }
    if (f < 0 || !c->busy || id != c->cur.id) {
      /* garbage from the child: treat it as a dead child */
      c->cur.ok = 0;
      c->cur.code = PF_ECRASH;
      snprintf(c->cur.error, sizeof c->cur.error, "parser sent a malformed reply");
      return -1;
    }
    if (type == PF_WIRE_HASH && n == PF_SHA256_LEN + 8 && !c->answered) {
      /* the child's own count: it must agree with what the daemon hashed */
      if (c->cur.have_hash && memcmp(c->cur.sha256, p, PF_SHA256_LEN) != 0) {
        c->cur.ok = 0;
        c->cur.code = PF_ECRASH;
        snprintf(c->cur.error, sizeof c->cur.error, "parser reported a sha256 that is not its sample's");
        return -1;
      }
    } else if (type == PF_WIRE_VEC && n == sizeof c->cur.vec && !c->answered) {
      memcpy(c->cur.vec, p, n);
      c->cur.ok = 1;
      c->cur.code = PF_OK;
      c->answered = 1;
    } else if (type == PF_WIRE_ERR && n >= 4 && !c->answered) {
      int32_t code;
      memcpy(&code, p, 4);
      size_t m = n - 4 < sizeof c->cur.error - 1 ? n - 4 : sizeof c->cur.error - 1;
      memcpy(c->cur.error, p + 4, m);
      c->cur.error[m] = '\0';
      c->cur.ok = 0;
      c->cur.code = code < 0 ? code : PF_EINVAL;
      c->answered = 1;
    } else if (type == PF_WIRE_VIOL && n == 4) {
      int32_t nr;
      memcpy(&nr, p, 4);
      c->viol = nr >= 0 && nr < 4096 ? nr : 4095;
    } else if (type == PF_WIRE_DONE && n == 8) {
      int32_t st;
      memcpy(&st, p, 4);
      memcpy(cpu_ms, p + 4, 4);
      *status = st;
      done = 1;
    } else {
      c->cur.ok = 0;
      c->cur.code = PF_ECRASH;
      snprintf(c->cur.error, sizeof c->cur.error, "parser sent an unexpected reply");
      return -1;
    }
  }
  memmove(c->buf, c->buf + at, c->buflen - at);
  c->buflen -= at;
  return done;
}

/* Hands out a busy child's result. done: the sandbox reported how the
 * file's process ended (status, cpu_ms); dead: the sandbox itself is gone
 * (or must go) and is replaced. A file's answer counts only when its
 * process then exited cleanly: one that answered and was killed after
 * (a trapped syscall, a limit) is an error like any other. */
static void finish(pf_encoder *e, child *c, pf_encode_result *res, int done, int status, uint32_t cpu_ms, int dead) {
  c->busy = 0;
  c->files++;
  if (dead) {
    int st = reap(c, 1);
    if (!done) status = st, cpu_ms = 0;
  }
  int clean = (done || !dead) && WIFEXITED(status) && WEXITSTATUS(status) == 0 && c->viol < 0;
  if (c->ready) {
    /* refused by the daemon: cur already says why */
  } else if (!(clean && c->answered) && c->cur.code != PF_ECRASH) {
    c->cur.ok = 0;
    death_reason(e, c, status, cpu_ms, c->cur.error, sizeof c->cur.error);
    c->cur.code = c->viol >= 0 || (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS) ? PF_EVIOL
                  : c->timed_out                                                        ? PF_ETIMEOUT
                                                                                        : PF_ECRASH;
  } else if (!clean) {
    c->cur.ok = 0;
  }
  c->ready = 0;
  *res = c->cur;
  if (dead) {
    spawn(e, c); /* a failed respawn is retried at the next submit */
  } else if (c->files >= e->o.recycle_after) {
    close_fd(&c->req_fd); /* EOF: the sandbox exits; one stuck in cleanup is killed after a second */
    retire(c, pf_clock_ms() + 1000);
    spawn(e, c);
  }
}

int pf_encoder_next(pf_encoder *e, pf_encode_result *res, int timeout_ms) {
  if (pf_encoder_pending(e) == 0) return PF_EINVAL;
  for (int i = 0; i < e->n; i++) {
    if (e->c[i].busy && e->c[i].ready) {
      finish(e, &e->c[i], res, 1, 0, 0, 0);
      return 1;
    }
  }
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
    /* wall-clock limits: the whole sandbox goes (its zygote and the file's
     * process die with it) and is replaced */
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
        if (r > 0) { c->buflen += (size_t)r; if (c->buflen < sizeof c->buf) continue; }
        else if (r == 0) dead = 1;
        else if (errno != EAGAIN && errno != EINTR) dead = 1;
        break;
      }
      int status = 0;
      uint32_t cpu_ms = 0;
      int done = take_frames(e, c, &status, &cpu_ms);
      if (done < 0) dead = 1;
      if (dead) drain_stderr(c);
      if (c->busy && (done > 0 || dead)) {
        if (c->timed_out) dead = 1; /* killed: its DONE (if any) is stale */
        finish(e, c, res, done > 0, status, cpu_ms, dead);
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

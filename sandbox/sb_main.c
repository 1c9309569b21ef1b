/* pefleet-sandbox: the isolated parser of pf_encoder's pool.
 *
 * Started by pf_encoder with an empty environment and exactly these
 * descriptors: 0 a unix socket of requests (each a PF_WIRE_REQ frame with
 * the sample's descriptor attached), 1 and 2 the parent's stderr capture, 3
 * the result pipe. It confines itself (lib/pf_sandbox.h: uid 65534 when
 * root, namespaces, hard limits, no_new_privs, Landlock, seccomp), says
 * which layers are in force (PF_WIRE_HELLO), then for every request forks a
 * one-shot child that takes only the sample (a memfd: pf_encoder copies
 * the file's bytes into one, so nothing with a path is ever opened),
 * confines itself further (its own limits, Landlock domain and the parse
 * seccomp profile), parses, answers and exits; the zygote reports how it
 * ended (PF_WIRE_DONE) and takes the next request. No child sees a second
 * file.
 *
 * Built twice more from the same source, for tests and benchmarks only:
 * PF_SANDBOX_UNHARDENED (bench/: the same protocol with every layer off,
 * one long-lived parser, the "before" of bench/encode_bench.sh) and, with
 * sb_hostile.c in place of sb_parse.c, the hostile parser of
 * tests/integration/sandbox_hostile.sh. */
#include "pf_err.h"
#include "pf_fdpass.h"
#include "pf_io.h"
#include "pf_sandbox.h"
#include "pf_wire.h"
#include "sb_file.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

/* descriptors of a parser child: 1, 2, 3, the sample's memfd and LIEF's
 * own opens of /proc/self/fd/N */
#define CHILD_NOFILE 8

typedef struct {
  int cpu;
  uint64_t mem, max;
} opts;

static volatile uint64_t cur_id;

static void usage(void) {
  fprintf(stderr, "usage: pefleet-sandbox --cpu SECONDS --mem BYTES --max-size BYTES\n"
                  "Internal: started by pefleet's encoder pool, speaks pf_wire frames on fds 0 and 3.\n");
}

/* Reads the next request; returns 1 with *id and *fd, 0 at EOF. A frame
 * that is not a request ends the process (the parent is confused). */
static int next_request(uint64_t *id, int *fd) {
  uint8_t frame[PF_WIRE_MAX_FRAME];
  ssize_t n = pf_fdpass_recv(0, frame, sizeof frame, fd);
  if (n <= 0) return 0;
  uint32_t type;
  const uint8_t *payload;
  size_t len;
  if (pf_wire_frame(frame, (size_t)n, &type, id, &payload, &len) != n || type != PF_WIRE_REQ) _exit(3);
  return 1;
}

static void send_done(uint64_t id, int status, const struct rusage *ru) {
  uint8_t p[8];
  int32_t st = status;
  uint32_t cpu_ms = ru ? (uint32_t)(ru->ru_utime.tv_sec * 1000 + ru->ru_utime.tv_usec / 1000 +
                                    ru->ru_stime.tv_sec * 1000 + ru->ru_stime.tv_usec / 1000)
                       : 0;
  memcpy(p, &st, 4);
  memcpy(p + 4, &cpu_ms, 4);
  sb_send(PF_WIRE_DONE, id, p, sizeof p);
}

#ifdef PF_SANDBOX_UNHARDENED
/* ---- the benchmark's "before": one parser for every file, no layers ----- */

/* Lets this file use cpu_seconds more CPU time than used so far. */
static void arm_cpu_limit(int cpu_seconds) {
  struct rusage ru;
  struct rlimit rl;
  if (cpu_seconds <= 0 || getrusage(RUSAGE_SELF, &ru) != 0 || getrlimit(RLIMIT_CPU, &rl) != 0) return;
  rl.rlim_cur = (rlim_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + 1 + (rlim_t)cpu_seconds;
  setrlimit(RLIMIT_CPU, &rl);
}

static int serve(const opts *o) {
  const char hello[] = "unhardened (benchmark build: no layers)\n";
  sb_send(PF_WIRE_HELLO, 0, hello, sizeof hello - 1);
  /* keep freed memory for the next file (bench/README.md) */
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
  struct rlimit rl = {(rlim_t)o->mem, (rlim_t)o->mem};
  if (o->mem) setrlimit(RLIMIT_AS, &rl);
  uint64_t id;
  int fd;
  while (next_request(&id, &fd)) {
    arm_cpu_limit(o->cpu);
    sb_handle_file(id, fd, o->max);
    close(fd);
    send_done(id, 0, NULL);
  }
  return 0;
}
#else
/* ---- the hardened sandbox ---------------------------------------------------- */

static pf_seccomp_prog parse_prog;

/* A fresh process pays a page fault for every 4 KiB its heap touches (LIEF
 * allocates several copies of each file): ask for 2 MiB pages on the heap
 * the parse will use, and keep freed memory (bench/README.md). */
#define HEAP_RESERVE (24u << 20) /* below M_MMAP_THRESHOLD: from the brk heap, kept after free */
static void heap_prepare(void) {
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
  char *p = malloc(HEAP_RESERVE);
  if (!p) return;
  uintptr_t a = ((uintptr_t)p + (2u << 20) - 1) & ~(uintptr_t)((2u << 20) - 1);
  uintptr_t end = ((uintptr_t)p + HEAP_RESERVE) & ~(uintptr_t)((2u << 20) - 1);
  if (end > a) madvise((void *)a, end - a, MADV_HUGEPAGE);
  free(p);
}

/* The one-shot child: never returns. */
static void parse_child(const opts *o, uint64_t id, int fd) {
  cur_id = id;
  close(0); /* the request socket is the zygote's */
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  signal(SIGABRT, SIG_DFL);
  heap_prepare();
  pf_sandbox_state st = {0};
  /* its own CPU budget (a fresh process starts at 0), no processes at all */
  if (pf_sandbox_limits(0, o->cpu, CHILD_NOFILE, 0) != PF_OK || pf_sandbox_landlock(&st, -1) != PF_OK ||
      pf_sandbox_seccomp_apply(&parse_prog) != PF_OK) {
    sb_send_err(id, PF_EPERM, "cannot confine the parser child");
    _exit(0);
  }
  sb_handle_file(id, fd, o->max);
  _exit(0);
}

static int zygote(const opts *o, const pf_sandbox_state *st, pf_seccomp_prog *zprog) {
  if (pf_sandbox_seccomp_apply(zprog) != PF_OK) {
    sb_send_err(0, PF_EPERM, "cannot install the seccomp filter");
    return 3;
  }
  pf_seccomp_prog_free(zprog);
  char hello[600];
  int n = snprintf(hello, sizeof hello, "%s\n%s", st->active, st->missing);
  sb_send(PF_WIRE_HELLO, 0, hello, (size_t)n < sizeof hello ? (size_t)n : sizeof hello - 1);
  uint64_t id;
  int fd;
  while (next_request(&id, &fd)) {
    cur_id = id;
    if (fd < 0) {
      sb_send_err(id, PF_EINVAL, "request without a file descriptor");
      send_done(id, 0, NULL);
      continue;
    }
    pid_t pid = fork();
    if (pid == 0) parse_child(o, id, fd);
    close(fd);
    if (pid < 0) {
      sb_send_err(id, PF_EIO, "cannot fork the parser child");
      send_done(id, 0, NULL);
      continue;
    }
    int status = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR) {
    }
    send_done(id, status, &ru);
  }
  return 0;
}

static int serve(const opts *o) {
  char err[160];
  pf_sandbox_state st = {0};
  pf_seccomp_prog zprog, oprog;
  /* filters are compiled while libseccomp may still allocate and open */
  if (pf_sandbox_seccomp_build(PF_SECCOMP_PARSE, &parse_prog, err, sizeof err) != PF_OK ||
      pf_sandbox_seccomp_build(PF_SECCOMP_ZYGOTE, &zprog, err, sizeof err) != PF_OK ||
      pf_sandbox_seccomp_build(PF_SECCOMP_OUTER, &oprog, err, sizeof err) != PF_OK) {
    sb_send_err(0, PF_EIO, err);
    return 3;
  }
  pf_sandbox_trap_install(SB_RES_FD, &cur_id);
  int ns = pf_sandbox_enter_ns(&st);
  if (ns < 0) {
    snprintf(err, sizeof err, "cannot drop root: %.120s", st.missing);
    sb_send_err(0, PF_EPERM, err);
    return 3;
  }
  /* dies with the daemon (set after the uid change, which clears it) */
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (pf_sandbox_limits(o->mem, 0, CHILD_NOFILE, -1) != PF_OK) pf_sandbox_note(&st, "rlimits", "setrlimit failed");
  else pf_sandbox_note(&st, "rlimits(hard=soft)", NULL);
  if (pf_sandbox_no_new_privs(&st) != PF_OK || pf_sandbox_landlock(&st, -1) != PF_OK) {
    sb_send_err(0, PF_EPERM, st.missing);
    return 3;
  }
  pf_sandbox_note(&st, "seccomp(allow-list, trap)", NULL);
  pf_sandbox_note(&st, "one-child-per-file", NULL);
  /* _exit: nothing to flush, and no exit-time work (a sanitizer's leak
   * check would need syscalls the filters refuse) */
  if (ns == 0) _exit(zygote(o, &st, &zprog));
  /* a new PID namespace: its init is our first child, the zygote; this
   * process only waits for it (the parent kills this one to end both) */
  pid_t z = fork();
  if (z < 0) {
    sb_send_err(0, PF_EIO, "cannot fork the zygote");
    return 3;
  }
  if (z == 0) {
    /* dies with the outer process (its parent, outside the namespace:
     * getppid() says 0); an outer already gone has closed nothing the
     * daemon waits on, and the daemon closes the request socket when it
     * reaps the outer, so a zygote that missed it still ends */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    _exit(zygote(o, &st, &zprog));
  }
  close(0);
  if (pf_sandbox_seccomp_apply(&oprog) != PF_OK) return 3;
  int status = 0;
  while (waitpid(z, &status, 0) < 0 && errno == EINTR) {
  }
  _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}
#endif

int main(int argc, char **argv) {
  opts o = {20, 4ull << 30, 512ull << 20};
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) { usage(); return 0; }
    if (i + 1 >= argc) { usage(); return 2; }
    if (strcmp(argv[i], "--cpu") == 0) o.cpu = atoi(argv[++i]);
    else if (strcmp(argv[i], "--mem") == 0) o.mem = strtoull(argv[++i], NULL, 10);
    else if (strcmp(argv[i], "--max-size") == 0) o.max = strtoull(argv[++i], NULL, 10);
    else { usage(); return 2; }
  }
  if (fcntl(SB_RES_FD, F_GETFD) < 0) {
    fprintf(stderr, "pefleet-sandbox: fd 3 is not open; this program is started by pefleet\n");
    return 2;
  }
  /* whatever the parent forgot: nothing but 0-3 survives, and no variable */
  close_range(SB_RES_FD + 1, ~0u, 0);
  clearenv();
  return serve(&o);
}

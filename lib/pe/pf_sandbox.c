/* Kernel confinement layers (see pf_sandbox.h). */
#include "pf_sandbox.h"
#include "pf_err.h"
#include "pf_wire.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/landlock.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#define NOBODY 65534

static void append(char *buf, size_t cap, const char *s) {
  size_t n = strlen(buf);
  if (n + 1 >= cap) return;
  snprintf(buf + n, cap - n, "%s%s", n ? " " : "", s);
}

void pf_sandbox_note(pf_sandbox_state *st, const char *word, const char *why) {
  if (!why) {
    append(st->active, sizeof st->active, word);
    return;
  }
  char tmp[160];
  snprintf(tmp, sizeof tmp, "%s (%s)", word, why);
  append(st->missing, sizeof st->missing, tmp);
}

/* ---- uid and namespaces --------------------------------------------------- */

int pf_sandbox_enter_ns(pf_sandbox_state *st) {
  int root = geteuid() == 0;
  int flags = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWPID | CLONE_NEWUTS;
  int entered = 0;
  /* root on a host can make the namespaces without a user namespace; in a
   * container (no CAP_SYS_ADMIN) that fails and the user namespace below is
   * tried as nobody */
  if (root && unshare(flags) == 0) entered = 1;
  if (root) {
    if (setgroups(0, NULL) != 0 || setresgid(NOBODY, NOBODY, NOBODY) != 0 ||
        setresuid(NOBODY, NOBODY, NOBODY) != 0 || getuid() != NOBODY || geteuid() != NOBODY) {
      pf_sandbox_note(st, "uid", strerror(errno));
      return PF_EPERM;
    }
    pf_sandbox_note(st, "uid=65534", NULL);
  }
  if (!entered) {
    if (unshare(CLONE_NEWUSER | flags) == 0) {
      entered = 1;
      pf_sandbox_note(st, "userns", NULL);
    } else {
      char why[120];
      snprintf(why, sizeof why, "unshare: %s", strerror(errno));
      pf_sandbox_note(st, "namespaces", why);
      return 0;
    }
  }
  pf_sandbox_note(st, "mountns netns ipcns utsns pidns", NULL);
  /* nothing mounted from here on travels back to the host */
  return 1;
}

/* ---- limits --------------------------------------------------------------- */

static int hard(int res, rlim_t v) {
  struct rlimit rl = {v, v};
  return setrlimit(res, &rl) == 0 ? PF_OK : PF_EIO;
}

int pf_sandbox_limits(uint64_t mem, int cpu, int nofile, int nproc) {
  int rc = PF_OK;
  if (hard(RLIMIT_CORE, 0) != PF_OK) rc = PF_EIO;
  if (hard(RLIMIT_FSIZE, 0) != PF_OK) rc = PF_EIO;
  if (nofile > 0 && hard(RLIMIT_NOFILE, (rlim_t)nofile) != PF_OK) rc = PF_EIO;
  if (nproc >= 0 && hard(RLIMIT_NPROC, (rlim_t)nproc) != PF_OK) rc = PF_EIO;
  if (cpu > 0 && hard(RLIMIT_CPU, (rlim_t)cpu) != PF_OK) rc = PF_EIO;
#ifndef PF_SANITIZE
  if (mem > 0 && hard(RLIMIT_AS, (rlim_t)mem) != PF_OK) rc = PF_EIO;
#else
  (void)mem; /* `make sanitize`: ASan reserves far more address space than any limit */
#endif
  return rc;
}

int pf_sandbox_no_new_privs(pf_sandbox_state *st) {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    pf_sandbox_note(st, "no_new_privs", strerror(errno));
    return PF_EPERM;
  }
  pf_sandbox_note(st, "no_new_privs", NULL);
  return PF_OK;
}

/* ---- Landlock --------------------------------------------------------------- */

/* The ABI's fields and rights, spelled here: Debian 12's kernel headers
 * stop at ABI 2. */
struct ll_ruleset_attr {
  uint64_t handled_access_fs;
  uint64_t handled_access_net; /* ABI >= 4 */
  uint64_t scoped;             /* ABI >= 6 */
};
#define LL_FS_ABI1 ((1ull << 13) - 1)   /* EXECUTE .. MAKE_SYM */
#define LL_FS_REFER (1ull << 13)        /* ABI 2 */
#define LL_FS_TRUNCATE (1ull << 14)     /* ABI 3 */
#define LL_FS_IOCTL_DEV (1ull << 15)    /* ABI 5 */
#define LL_NET_BIND_TCP (1ull << 0)     /* ABI 4 */
#define LL_NET_CONNECT_TCP (1ull << 1)
#define LL_SCOPE_ABSTRACT_UNIX (1ull << 0) /* ABI 6 */
#define LL_SCOPE_SIGNAL (1ull << 1)
#define LL_READ_FILE (1ull << 2)

struct ll_path_beneath {
  uint64_t allowed_access;
  int32_t parent_fd;
} __attribute__((packed));

int pf_sandbox_landlock(pf_sandbox_state *st, int read_fd) {
  long abi = syscall(__NR_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
  if (abi < 1) {
    pf_sandbox_note(st, "landlock", errno == EOPNOTSUPP ? "disabled at boot"
                                    : errno == ENOSYS  ? "kernel < 5.13"
                                                       : strerror(errno)); /* e.g. a container's seccomp profile: EPERM */
    return PF_OK;
  }
  struct ll_ruleset_attr attr = {0};
  size_t size = sizeof attr.handled_access_fs;
  attr.handled_access_fs = LL_FS_ABI1;
  if (abi >= 2) attr.handled_access_fs |= LL_FS_REFER;
  if (abi >= 3) attr.handled_access_fs |= LL_FS_TRUNCATE;
  if (abi >= 5) attr.handled_access_fs |= LL_FS_IOCTL_DEV;
  if (abi >= 4) {
    attr.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
    size = 2 * sizeof(uint64_t);
  }
  if (abi >= 6) {
    attr.scoped = LL_SCOPE_ABSTRACT_UNIX | LL_SCOPE_SIGNAL;
    size = sizeof attr;
  }
  int rs = (int)syscall(__NR_landlock_create_ruleset, &attr, size, 0);
  if (rs < 0) {
    pf_sandbox_note(st, "landlock", strerror(errno));
    return PF_EIO;
  }
  if (read_fd >= 0) {
    struct ll_path_beneath pb = {LL_READ_FILE, read_fd};
    if (syscall(__NR_landlock_add_rule, rs, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) != 0) {
      pf_sandbox_note(st, "landlock", strerror(errno));
      close(rs);
      return PF_EIO;
    }
  }
  long r = syscall(__NR_landlock_restrict_self, rs, 0);
  int e = errno;
  close(rs);
  if (r != 0) {
    pf_sandbox_note(st, "landlock", strerror(e));
    return PF_EIO;
  }
  st->landlock_abi = (int)abi;
  char word[64];
  snprintf(word, sizeof word, "landlock(abi %ld: fs%s%s)", abi, abi >= 4 ? " tcp" : "",
           abi >= 6 ? " signal+unix scope" : "");
  pf_sandbox_note(st, word, NULL);
  if (abi < 4) pf_sandbox_note(st, "landlock tcp", "Landlock ABI < 4; seccomp still refuses socket()");
  return PF_OK;
}

/* ---- seccomp ----------------------------------------------------------------- */

static int allow(scmp_filter_ctx ctx, int nr) {
  return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
}

/* memory may be mapped and protected, never executable */
static int allow_no_exec(scmp_filter_ctx ctx, int nr) {
  return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
}

static int add_parse_rules(scmp_filter_ctx ctx) {
  static const int plain[] = {
      SCMP_SYS(read),         SCMP_SYS(write),         SCMP_SYS(readv),      SCMP_SYS(writev),
      SCMP_SYS(pread64),      SCMP_SYS(lseek),         SCMP_SYS(close),      SCMP_SYS(fstat),
      SCMP_SYS(newfstatat),   SCMP_SYS(statx),         SCMP_SYS(munmap),     SCMP_SYS(mremap),
      SCMP_SYS(brk),          SCMP_SYS(madvise),       SCMP_SYS(exit),       SCMP_SYS(exit_group),
      SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask), SCMP_SYS(futex),     SCMP_SYS(getpid),
      SCMP_SYS(gettid),       SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday), SCMP_SYS(getrandom),
      SCMP_SYS(getrusage),
  };
  int rc = 0;
  for (size_t i = 0; i < sizeof plain / sizeof plain[0] && rc == 0; i++) rc = allow(ctx, plain[i]);
  if (rc == 0) rc = allow_no_exec(ctx, SCMP_SYS(mmap));
  if (rc == 0) rc = allow_no_exec(ctx, SCMP_SYS(mprotect));
  /* open read-only (Landlock decides what), never create, truncate or write */
  if (rc == 0)
    rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
                          SCMP_A2(SCMP_CMP_MASKED_EQ, O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND | __O_TMPFILE, 0));
  /* fcntl reads flags only (F_GETFD, F_GETFL) */
  if (rc == 0) rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1, SCMP_A1(SCMP_CMP_EQ, F_GETFD));
  if (rc == 0) rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1, SCMP_A1(SCMP_CMP_EQ, F_GETFL));
  /* abort() (LIEF's uncaught exceptions) signals itself with SIGABRT; in its
   * namespace the zygote is init and drops it, and Landlock's signal scope
   * stops it leaving the domain */
  if (rc == 0) rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1, SCMP_A2(SCMP_CMP_EQ, SIGABRT));
#ifdef PF_SANITIZE
  /* `make sanitize` only: what ASan and UBSan themselves call (their signal
   * stacks, their limits and their report) */
  static const int san[] = {SCMP_SYS(sigaltstack), SCMP_SYS(sched_yield), SCMP_SYS(sched_getaffinity),
                            SCMP_SYS(prlimit64),   SCMP_SYS(getrlimit),   SCMP_SYS(readlink),
                            SCMP_SYS(rt_sigaction), SCMP_SYS(prctl),      SCMP_SYS(getppid),
                            SCMP_SYS(nanosleep),   SCMP_SYS(clock_nanosleep), SCMP_SYS(mincore)};
  for (size_t i = 0; i < sizeof san / sizeof san[0] && rc == 0; i++) rc = allow(ctx, san[i]);
#endif
  return rc;
}

static int add_zygote_rules(scmp_filter_ctx ctx) {
  static const int plain[] = {
      SCMP_SYS(recvmsg),  SCMP_SYS(wait4),         SCMP_SYS(prctl),     SCMP_SYS(seccomp),
      SCMP_SYS(prlimit64), SCMP_SYS(setrlimit),    SCMP_SYS(memfd_create), SCMP_SYS(ftruncate),
      SCMP_SYS(rt_sigaction), SCMP_SYS(getppid),   SCMP_SYS(set_robust_list), SCMP_SYS(dup2),
      SCMP_SYS(landlock_create_ruleset), SCMP_SYS(landlock_restrict_self), SCMP_SYS(close_range),
  };
  int rc = add_parse_rules(ctx);
  for (size_t i = 0; i < sizeof plain / sizeof plain[0] && rc == 0; i++) rc = allow(ctx, plain[i]);
  /* fork() only: no threads, no namespaces, no shared memory */
  if (rc == 0)
    rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
                          SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_VM | CLONE_THREAD | CLONE_NEWUSER | CLONE_NEWNS, 0));
  return rc;
}

int pf_sandbox_seccomp_build(int profile, pf_seccomp_prog *out, char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
  if (!ctx) {
    snprintf(err, errlen, "seccomp_init failed");
    return PF_EIO;
  }
  int rc = 0;
  if (profile == PF_SECCOMP_PARSE) rc = add_parse_rules(ctx);
  else if (profile == PF_SECCOMP_ZYGOTE) rc = add_zygote_rules(ctx);
  else if (profile == PF_SECCOMP_HDF5) {
    rc = add_parse_rules(ctx);
    if (rc == 0) rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(flock), 1, SCMP_A1(SCMP_CMP_EQ, LOCK_SH | LOCK_NB));
    if (rc == 0) rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(flock), 1, SCMP_A1(SCMP_CMP_EQ, LOCK_UN));
    /* HDF5 makes a relative file name absolute (it reads no file by it) */
    if (rc == 0) rc = allow(ctx, SCMP_SYS(getcwd));
  }
  else {
    static const int outer[] = {SCMP_SYS(wait4), SCMP_SYS(exit_group), SCMP_SYS(exit), SCMP_SYS(rt_sigreturn),
                                SCMP_SYS(write)};
    for (size_t i = 0; i < sizeof outer / sizeof outer[0] && rc == 0; i++) rc = allow(ctx, outer[i]);
  }
  /* the filter itself is installed without libseccomp's own syscalls */
  if (rc == 0) rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
  int fds[2] = {-1, -1};
  if (rc == 0 && pipe2(fds, O_CLOEXEC) != 0) rc = -errno;
  if (rc == 0) rc = seccomp_export_bpf(ctx, fds[1]);
  seccomp_release(ctx);
  if (fds[1] >= 0) close(fds[1]);
  if (rc == 0) {
    size_t cap = 64 * 1024, n = 0;
    out->code = malloc(cap);
    while (out->code) {
      ssize_t r = read(fds[0], out->code + n, cap - n);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) break;
      n += (size_t)r;
      if (n == cap) { rc = -E2BIG; break; }
    }
    if (!out->code) rc = -ENOMEM;
    out->len = n / sizeof(struct sock_filter);
    if (rc == 0 && (n == 0 || n % sizeof(struct sock_filter))) rc = -EINVAL;
  }
  if (fds[0] >= 0) close(fds[0]);
  if (rc != 0) {
    snprintf(err, errlen, "cannot build the seccomp filter: %s", strerror(-rc));
    pf_seccomp_prog_free(out);
    return PF_EIO;
  }
  return PF_OK;
}

int pf_sandbox_seccomp_apply(const pf_seccomp_prog *prog) {
  struct sock_fprog fp = {(unsigned short)prog->len, (struct sock_filter *)prog->code};
  return syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fp) == 0 ? PF_OK : PF_EPERM;
}

void pf_seccomp_prog_free(pf_seccomp_prog *prog) {
  free(prog->code);
  prog->code = NULL;
  prog->len = 0;
}

/* ---- the trap ---------------------------------------------------------------- */

static int trap_fd = -1;
static const volatile uint64_t *trap_id;

static void on_sigsys(int sig, siginfo_t *si, void *uc) {
  (void)sig;
  (void)uc;
  uint8_t frame[PF_WIRE_HEADER_SIZE + 4];
  int32_t nr = si->si_syscall;
  if (pf_wire_pack(frame, sizeof frame, PF_WIRE_VIOL, trap_id ? *trap_id : 0, &nr, 4) > 0)
    (void)!write(trap_fd, frame, sizeof frame);
  syscall(SYS_exit_group, PF_SANDBOX_VIOLATION_EXIT);
}

void pf_sandbox_trap_install(int report_fd, const volatile uint64_t *id) {
  trap_fd = report_fd;
  trap_id = id;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_sigsys;
  sa.sa_flags = SA_SIGINFO;
  sigfillset(&sa.sa_mask);
  sigaction(SIGSYS, &sa, NULL);
}

void pf_sandbox_syscall_name(int nr, char *out, size_t n) {
  char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
  if (name) snprintf(out, n, "%s", name);
  else snprintf(out, n, "#%d", nr);
  free(name);
}

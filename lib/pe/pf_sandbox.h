/* pf_sandbox: owns the kernel confinement of the processes that read
 * attacker-written bytes (the parser children of bin/pefleet-sandbox and
 * the HDF5 reader of `pefleet import-keras`).
 * Defines the layers, each applied by one call, each unprivileged (no root
 * needed; where the process is root it also drops to nobody):
 *   - uid/gid 65534 and new user/mount/network/IPC/PID namespaces;
 *   - hard resource limits (hard = soft);
 *   - PR_SET_NO_NEW_PRIVS;
 *   - Landlock: every filesystem right of the kernel's ABI handled, so no
 *     path can be opened, written or created (memfds and pipes, which have
 *     no path, stay usable), TCP bind/connect denied (ABI >= 4), signals
 *     and abstract unix sockets outside the domain denied (ABI >= 6);
 *   - a seccomp-bpf allow-list (libseccomp): any other syscall traps, and
 *     the trap handler reports the syscall's number on the result pipe
 *     (PF_WIRE_VIOL) and exits.
 * A layer the kernel lacks is reported in pf_sandbox_state.missing, never
 * skipped silently. Called by sandbox/ and lib/model/pf_keras.c (the HDF5 reader). */
#ifndef PF_SANDBOX_H
#define PF_SANDBOX_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
  char active[256];  /* the layers in force, e.g. "uid=65534 userns ..." */
  char missing[256]; /* the layers the kernel refused, with the reason */
  int landlock_abi;  /* 0: none */
} pf_sandbox_state;

/* Appends a word to st->active or, with why, "word (why)" to st->missing. */
void pf_sandbox_note(pf_sandbox_state *st, const char *word, const char *why);

/* Root only: sets supplementary groups to none and gid/uid to 65534; a
 * process that is not root is left as it is. Then enters new user (when
 * not root), mount, network, IPC and PID namespaces. Returns 1 when a new
 * PID namespace was entered (the caller must fork: its first child is that
 * namespace's init), 0 when not, or a PF_E* code when the uid drop failed
 * (that is fatal: the caller must not parse). */
int pf_sandbox_enter_ns(pf_sandbox_state *st);

/* Sets hard = soft limits: address space mem (0: unchanged), CPU seconds
 * cpu (0: unchanged), open files nofile, processes nproc (-1: unchanged),
 * file size 0 and core files 0. Returns PF_OK or PF_EIO. */
int pf_sandbox_limits(uint64_t mem, int cpu, int nofile, int nproc);

/* PR_SET_NO_NEW_PRIVS. */
int pf_sandbox_no_new_privs(pf_sandbox_state *st);

/* Landlock as above; read_fd >= 0 is the one file that stays readable
 * (LANDLOCK_ACCESS_FS_READ_FILE on it), -1 for none. Returns PF_OK, also
 * when the kernel has no Landlock (st->missing says so). */
int pf_sandbox_landlock(pf_sandbox_state *st, int read_fd);

/* Seccomp profiles. */
enum {
  PF_SECCOMP_PARSE,  /* one file: read, map memory, open read-only, write answers, exit */
  PF_SECCOMP_ZYGOTE, /* the parse profile + what forking a child and confining it needs */
  PF_SECCOMP_OUTER,  /* waits for its child and exits */
  PF_SECCOMP_HDF5,   /* the parse profile + HDF5's shared lock on the one file it reads, getcwd */
};

typedef struct {
  uint8_t *code; /* struct sock_filter[] */
  size_t len;    /* instructions */
} pf_seccomp_prog;

/* Builds a profile with libseccomp into a BPF program (kept, so that a
 * child installs it with one syscall). Returns PF_OK or PF_EIO. */
int pf_sandbox_seccomp_build(int profile, pf_seccomp_prog *out, char *err, size_t errlen);

/* Installs prog (stacked on any filter already in force). */
int pf_sandbox_seccomp_apply(const pf_seccomp_prog *prog);

void pf_seccomp_prog_free(pf_seccomp_prog *prog);

/* Installs the SIGSYS handler: a trapped syscall writes a PF_WIRE_VIOL
 * frame (tag *id, payload the syscall number as i32) to report_fd and
 * exits with status PF_SANDBOX_VIOLATION_EXIT. */
void pf_sandbox_trap_install(int report_fd, const volatile uint64_t *id);
#define PF_SANDBOX_VIOLATION_EXIT 159

/* Writes the name of syscall nr (x86-64 or the build's arch) to out. */
void pf_sandbox_syscall_name(int nr, char *out, size_t n);

#endif

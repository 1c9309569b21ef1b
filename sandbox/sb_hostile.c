/* The hostile parser (test-only: build/tests/pefleet-sandbox-hostile).
 * A sample whose first 300 bytes hold "PEFLEET-HOSTILE ATTACK [ARG [ARG]]\n"
 * makes the child attack its sandbox instead of parsing, as a parser taken
 * over by the sample would; any other sample is parsed for real. Each
 * attack answers an error "hostile ATTACK: blocked (...)" when the kernel
 * refused it, or "hostile ATTACK: ESCAPED ..." when it worked; an attack
 * that the seccomp filter traps never answers: the child is killed and the
 * daemon reports the syscall. tests/integration/sandbox_hostile.sh. */
#include "sb_file.h"
#include "pf_err.h"
#include "pf_ergo486.h"
#include "pf_wire.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static void say(uint64_t id, const char *attack, int escaped, const char *detail) {
  char msg[600];
  snprintf(msg, sizeof msg, "hostile %.40s: %s%s%.200s", attack, escaped ? "ESCAPED" : "blocked", detail[0] ? " " : "",
           detail);
  sb_send_err(id, PF_EINVAL, msg);
}

static void blocked_errno(uint64_t id, const char *attack, int e) {
  char d[96];
  snprintf(d, sizeof d, "(%s)", strerror(e));
  say(id, attack, 0, d);
}

static void try_open(uint64_t id, const char *path) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) {
    blocked_errno(id, "open", errno);
    return;
  }
  char buf[16];
  ssize_t n = read(fd, buf, sizeof buf);
  char d[300];
  snprintf(d, sizeof d, "opened %.200s and read %zd bytes", path, n);
  say(id, "open", 1, d);
}

static void try_fds(uint64_t id, int own1, int own2) {
  char d[200] = "";
  int hits = 0;
  for (int fd = 0; fd < 1024; fd++) {
    if (fd == own1 || fd == own2) continue;
    char c;
    ssize_t r = read(fd, &c, 0); /* zero bytes: tests the descriptor, takes nothing */
    if (r >= 0 && fd > 3) {
      size_t n = strlen(d);
      snprintf(d + n, sizeof d - n, " read fd %d", fd);
      hits++;
    }
    if (fd > 3 && write(fd, "", 0) >= 0) {
      size_t n = strlen(d);
      snprintf(d + n, sizeof d - n, " write fd %d", fd);
      hits++;
    }
  }
  if (hits) say(id, "fds", 1, d);
  else say(id, "fds", 0, "(no descriptor but its own pipes and sample)");
}

static void try_env(uint64_t id) {
  int n = 0, bad = 0;
  for (char **e = environ; e && *e; e++) {
    n++;
    if (strstr(*e, "PEFLEET_") || strstr(*e, "REDIS")) bad++;
  }
  char d[80];
  snprintf(d, sizeof d, "(%d variables, %d of them PEFLEET_/REDIS)", n, bad);
  say(id, "env", n > 0, d);
}

static void try_connect(uint64_t id, const char *host, const char *port) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  if (s < 0) {
    blocked_errno(id, "connect", errno);
    return;
  }
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port))};
  inet_pton(AF_INET, host, &a.sin_addr);
  if (connect(s, (struct sockaddr *)&a, sizeof a) != 0) {
    blocked_errno(id, "connect", errno);
    return;
  }
  (void)!write(s, "PING\r\n", 6);
  say(id, "connect", 1, "connected");
}

static void try_rlimit(uint64_t id, int res) {
  struct rlimit rl = {RLIM_INFINITY, RLIM_INFINITY};
  if (setrlimit(res, &rl) != 0) blocked_errno(id, "setrlimit", errno);
  else say(id, "setrlimit", 1, "raised a limit");
}

static void spin(void) {
  /* a parse that never ends: burns CPU until the limits end it */
  volatile unsigned long x = 0;
  for (;;) x++;
}

void sb_handle_file(uint64_t id, int fd, uint64_t max_size) {
  char buf[300];
  ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  char *head = n > 0 ? memmem(buf, (size_t)n, "PEFLEET-HOSTILE ", 16) : NULL;
  if (!head) {
    sb_parse_file(id, fd, max_size);
    return;
  }
  buf[n] = '\0';
  head[strcspn(head, "\n")] = '\0';
  char *argv[4] = {0};
  int argc = 0;
  for (char *tok = strtok(head + 16, " "); tok && argc < 4; tok = strtok(NULL, " ")) argv[argc++] = tok;
  const char *a = argc > 0 ? argv[0] : "";
  const char *x = argc > 1 ? argv[1] : "";
  const char *y = argc > 2 ? argv[2] : "";
  if (strcmp(a, "open") == 0) try_open(id, x);
  else if (strcmp(a, "create") == 0) {
    char path[256];
    snprintf(path, sizeof path, "%s/pefleet-hostile-was-here", x);
    int f = open(path, O_WRONLY | O_CREAT, 0644);
    if (f < 0) blocked_errno(id, "create", errno);
    else say(id, "create", 1, path);
  } else if (strcmp(a, "fds") == 0) try_fds(id, fd, -1);
  else if (strcmp(a, "env") == 0) try_env(id);
  else if (strcmp(a, "connect") == 0) try_connect(id, x, y);
  else if (strcmp(a, "fork") == 0) {
    pid_t p = fork();
    if (p < 0) blocked_errno(id, "fork", errno);
    else if (p == 0) _exit(0);
    else say(id, "fork", 1, "forked");
  } else if (strcmp(a, "clone") == 0) {
    long r = syscall(SYS_clone, (unsigned long)SIGCHLD, 0, 0, 0, 0);
    if (r < 0) blocked_errno(id, "clone", errno);
    else if (r == 0) _exit(0);
    else say(id, "clone", 1, "cloned");
  } else if (strcmp(a, "exec") == 0) {
    char *args[] = {"/bin/sh", "-c", "true", NULL};
    execve("/bin/sh", args, environ);
    blocked_errno(id, "exec", errno);
  } else if (strcmp(a, "ptrace") == 0) {
    /* the zygote: pid 1 of the child's PID namespace, or its parent */
    if (syscall(SYS_ptrace, PTRACE_ATTACH, 1, 0, 0) != 0) blocked_errno(id, "ptrace", errno);
    else say(id, "ptrace", 1, "attached");
  } else if (strcmp(a, "kill") == 0) {
    if (syscall(SYS_kill, 1, SIGKILL) != 0) blocked_errno(id, "kill", errno);
    else say(id, "kill", 1, "signalled");
  } else if (strcmp(a, "rlimit-cpu") == 0) try_rlimit(id, RLIMIT_CPU);
  else if (strcmp(a, "rlimit-as") == 0) try_rlimit(id, RLIMIT_AS);
  else if (strcmp(a, "mmap-exec") == 0) {
    void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) blocked_errno(id, "mmap-exec", errno);
    else say(id, "mmap-exec", 1, "mapped executable memory");
  } else if (strcmp(a, "forge") == 0) {
    /* claims another sample's sha256 and a vector for it */
    uint8_t hash[32 + 8] = {0};
    sb_send(PF_WIRE_HASH, id, hash, sizeof hash);
    double vec[PF_ERGO486_DIM] = {0};
    sb_send(PF_WIRE_VEC, id, vec, sizeof vec);
  } else if (strcmp(a, "hang") == 0) spin();
  else say(id, a, 0, "(unknown attack)");
}

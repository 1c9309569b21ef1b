/* The fleet's state file and its processes (see sv_state.h). */
#include "sv_state.h"
#include "pf_atomic.h"
#include "pf_err.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int sv_state_save(const pf_config *c, const sv_state *s) {
  pf_atomic a;
  FILE *f = pf_atomic_open(&a, c->data, "fleet.state");
  if (!f) return PF_EIO;
  fprintf(f, "supervisor %d\n", (int)s->supervisor);
  for (int i = 0; i < s->n; i++)
    fprintf(f, "%s %d %d %d\n", s->d[i].role, s->d[i].index, (int)s->d[i].pid, s->d[i].restarts);
  return pf_atomic_commit(&a);
}

int sv_state_load(const pf_config *c, sv_state *s) {
  char path[1100];
  snprintf(path, sizeof path, "%s/fleet.state", c->data);
  memset(s, 0, sizeof *s);
  FILE *f = fopen(path, "r");
  if (!f) return errno == ENOENT ? PF_ENOENT : PF_EIO;
  char line[256];
  while (fgets(line, sizeof line, f)) {
    int pid, idx, restarts;
    char role[32];
    if (sscanf(line, "supervisor %d", &pid) == 1) s->supervisor = pid;
    else if (s->n < SV_MAX_DAEMONS && sscanf(line, "%31s %d %d %d", role, &idx, &pid, &restarts) == 4) {
      sv_daemon *d = &s->d[s->n++];
      snprintf(d->role, sizeof d->role, "%s", role);
      d->index = idx;
      d->pid = pid;
      d->restarts = restarts;
    }
  }
  fclose(f);
  return PF_OK;
}

int sv_alive(pid_t pid) {
  if (pid <= 0 || (kill(pid, 0) != 0 && errno != EPERM)) return 0;
  /* a killed process nobody has reaped yet (a zombie) is not alive */
  char path[64], buf[256];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  FILE *f = fopen(path, "r");
  if (!f) return 1;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  const char *rp = strrchr(buf, ')'); /* "pid (comm) S ...": comm may hold spaces */
  return !(rp && rp[1] == ' ' && (rp[2] == 'Z' || rp[2] == 'X'));
}

/* 1 when /proc/PID/cmdline mentions needle. */
static int cmdline_has(pid_t pid, const char *needle) {
  char path[64], buf[8192];
  snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
  FILE *f = fopen(path, "rb");
  if (!f) return 0;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  for (size_t i = 0; i < n; i++)
    if (buf[i] == '\0') buf[i] = ' ';
  buf[n] = '\0';
  return strstr(buf, needle) != NULL;
}

/* 1 when the process works in dir or below it (redis-server rewrites its
 * command line, but runs in DATA/redis). */
static int cwd_under(pid_t pid, const char *dir) {
  char path[64], cwd[4096];
  snprintf(path, sizeof path, "/proc/%d/cwd", (int)pid);
  ssize_t k = readlink(path, cwd, sizeof cwd - 1);
  if (k <= 0) return 0;
  cwd[k] = '\0';
  size_t n = strlen(dir);
  return strncmp(cwd, dir, n) == 0 && (cwd[n] == '/' || cwd[n] == '\0');
}

int sv_orphans(const pf_config *c, const sv_state *s, int *idx, int max) {
  int n = 0;
  for (int i = 0; i < s->n && n < max; i++) {
    pid_t pid = s->d[i].pid;
    if (sv_alive(pid) && (cmdline_has(pid, c->data) || cwd_under(pid, c->data))) idx[n++] = i;
  }
  return n;
}

int sv_program(const char *name, char *out, size_t n) {
  char self[1024];
  ssize_t k = readlink("/proc/self/exe", self, sizeof self - 1);
  if (k <= 0) return PF_EIO;
  self[k] = '\0';
  char *slash = strrchr(self, '/');
  if (slash) *slash = '\0';
  int w = snprintf(out, n, "%s/%s", self, name);
  if (w < 0 || (size_t)w >= n) return PF_ELIMIT;
  return access(out, X_OK) == 0 ? PF_OK : PF_ENOENT;
}

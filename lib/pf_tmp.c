#include "pf_tmp.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int pf_tmp_sweep(const char *dir, const char *prefix) {
  DIR *d = opendir(dir);
  if (!d) return 0;
  size_t pl = strlen(prefix);
  struct dirent *e;
  int n = 0;
  while ((e = readdir(d)) != NULL) {
    const char *s = e->d_name;
    if (strncmp(s, prefix, pl) != 0 || s[pl] != '-') continue;
    char *end;
    errno = 0;
    long pid = strtol(s + pl + 1, &end, 10);
    if (errno || end == s + pl + 1 || *end != '-' || pid <= 0 || pid > 0x7fffffffL) continue;
    if (pid == (long)getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
    char p[4400];
    snprintf(p, sizeof p, "%.4000s/%s", dir, s);
    if (unlink(p) == 0) n++;
  }
  closedir(d);
  return n;
}

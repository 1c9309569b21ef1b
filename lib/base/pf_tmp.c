#include "pf_tmp.h"
#include "pf_err.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *tmp_parent(const char *parent) {
  if (parent && *parent) return parent;
  const char *t = getenv("TMPDIR");
  return t && *t ? t : "/tmp";
}

int pf_tmp_open(pf_tmp *t, const char *parent, const char *prefix, int *swept, char *err, size_t errlen) {
  const char *p = tmp_parent(parent);
  int n = pf_tmp_sweep(p, prefix);
  if (swept) *swept = n;
  int w = snprintf(t->dir, sizeof t->dir, "%s/%s-%d-XXXXXX", p, prefix, (int)getpid());
  if (w < 0 || (size_t)w >= sizeof t->dir || !mkdtemp(t->dir)) {
    snprintf(err, errlen, "cannot make a private temporary folder in %.900s: %s", p,
             w < 0 || (size_t)w >= sizeof t->dir ? "name too long" : strerror(errno));
    t->dir[0] = '\0';
    return PF_EIO;
  }
  return PF_OK;
}

int pf_tmp_file(pf_tmp *t, char *path, size_t cap) {
  if (!t->dir[0]) { errno = EINVAL; return -1; }
  int w = snprintf(path, cap, "%s/u-XXXXXX", t->dir);
  if (w < 0 || (size_t)w >= cap) { errno = ENAMETOOLONG; path[0] = '\0'; return -1; }
  int fd = mkostemp(path, O_CLOEXEC);
  if (fd < 0) path[0] = '\0';
  return fd;
}

/* Unlinks every entry of the folder dfd/name (none followed), then the
 * folder; only a real folder owned by this user. 1 when it was removed. */
static int remove_folder(int dfd, const char *name) {
  int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return 0;
  struct stat st;
  if (fstat(fd, &st) != 0 || st.st_uid != geteuid()) { close(fd); return 0; }
  DIR *d = fdopendir(fd);
  if (!d) { close(fd); return 0; }
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) unlinkat(dirfd(d), e->d_name, 0);
  closedir(d);
  return unlinkat(dfd, name, AT_REMOVEDIR) == 0;
}

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
    struct stat st;
    if (fstatat(dirfd(d), s, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (S_ISDIR(st.st_mode)) n += remove_folder(dirfd(d), s);
    else if (unlinkat(dirfd(d), s, 0) == 0) n++;
  }
  closedir(d);
  return n;
}

void pf_tmp_close(pf_tmp *t) {
  if (!t->dir[0]) return;
  char *slash = strrchr(t->dir, '/');
  if (slash) {
    *slash = '\0';
    int dfd = open(t->dir[0] ? t->dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    *slash = '/';
    if (dfd >= 0) {
      remove_folder(dfd, slash + 1);
      close(dfd);
    }
  }
  t->dir[0] = '\0';
}

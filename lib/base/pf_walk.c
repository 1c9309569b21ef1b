#include "pf_walk.h"
#include "pf_err.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define WALK_MAX_DEPTH 64

static int push(pf_filelist *l, const char *p) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 256;
    char **np = realloc(l->paths, cap * sizeof *np);
    if (!np) return PF_ENOMEM;
    l->paths = np;
    l->cap = cap;
  }
  l->paths[l->n] = strdup(p);
  if (!l->paths[l->n]) return PF_ENOMEM;
  l->n++;
  return PF_OK;
}

static int matches(const char *path, const char *glob) {
  if (!glob) return 1;
  const char *base = strrchr(path, '/');
  return fnmatch(glob, base ? base + 1 : path, 0) == 0;
}

/* links: NULL to list symlinks to files as files; else every symlink met
 * goes there instead (not followed, whatever it points at). */
static int walk_dir(pf_filelist *l, pf_filelist *links, const char *dir, const char *glob, int depth) {
  if (depth > WALK_MAX_DEPTH) return PF_OK;
  struct dirent **ents = NULL;
  int n = scandir(dir, &ents, NULL, alphasort);
  if (n < 0) return PF_OK; /* unreadable folder: nothing to add */
  int rc = PF_OK;
  for (int i = 0; i < n; i++) {
    const char *name = ents[i]->d_name;
    if (rc == PF_OK && strcmp(name, ".") != 0 && strcmp(name, "..") != 0) {
      size_t len = strlen(dir) + strlen(name) + 2;
      char *p = malloc(len);
      if (!p) rc = PF_ENOMEM;
      else {
        snprintf(p, len, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", name);
        struct stat st, target;
        if (lstat(p, &st) == 0) {
          if (S_ISDIR(st.st_mode)) rc = walk_dir(l, links, p, glob, depth + 1);
          else if (S_ISLNK(st.st_mode) && links) rc = push(links, p);
          else if (S_ISLNK(st.st_mode) && stat(p, &target) == 0 && S_ISDIR(target.st_mode))
            ; /* a symlinked folder: neither walked nor listed */
          else if ((S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)) && matches(p, glob)) rc = push(l, p);
        }
        free(p);
      }
    }
    free(ents[i]);
  }
  free(ents);
  return rc;
}

int pf_walk_add(pf_filelist *l, const char *path, const char *glob, char *err, size_t errlen) {
  struct stat st;
  if (stat(path, &st) != 0) {
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return PF_ENOENT;
  }
  if (S_ISDIR(st.st_mode)) return walk_dir(l, NULL, path, glob, 0);
  if (!matches(path, glob)) return PF_OK;
  return push(l, path);
}

int pf_walk_add_nolinks(pf_filelist *l, pf_filelist *links, const char *dir, const char *glob, char *err,
                        size_t errlen) {
  struct stat st;
  if (stat(dir, &st) != 0) {
    snprintf(err, errlen, "%s: %s", dir, strerror(errno));
    return PF_ENOENT;
  }
  if (!S_ISDIR(st.st_mode)) {
    snprintf(err, errlen, "%s: not a folder", dir);
    return PF_EINVAL;
  }
  return walk_dir(l, links, dir, glob, 0);
}

void pf_filelist_destroy(pf_filelist *l) {
  for (size_t i = 0; i < l->n; i++) free(l->paths[i]);
  free(l->paths);
  memset(l, 0, sizeof *l);
}

void pf_walk_parent_name(const char *path, char *buf, size_t n) {
  const char *end = strrchr(path, '/');
  if (!end) { snprintf(buf, n, "."); return; }
  while (end > path && end[-1] == '/') end--;
  const char *start = end;
  while (start > path && start[-1] != '/') start--;
  if (end == start) { snprintf(buf, n, "/"); return; }
  snprintf(buf, n, "%.*s", (int)(end - start), start);
}

int pf_walk_open_beneath(int dirfd, const char *dir, const char *path) {
  size_t dl = strlen(dir);
  while (dl > 1 && dir[dl - 1] == '/') dl--;
  if (strncmp(path, dir, dl) != 0 || (path[dl] != '/' && dir[dl - 1] != '/')) {
    errno = EINVAL;
    return -1;
  }
  const char *rel = path + dl;
  while (*rel == '/') rel++;
  if (!*rel) { errno = EINVAL; return -1; }
  struct open_how how = {.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW,
                         .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
  long fd = syscall(SYS_openat2, dirfd, rel, &how, sizeof how);
  if (fd < 0 && errno == ENOSYS) /* before Linux 5.6: the last part at least */
    fd = openat(dirfd, rel, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
  return (int)fd;
}

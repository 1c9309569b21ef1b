/* Server-side paths beneath allowed folders (see cd_paths.h). */
#include "cd_paths.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cd_scan.h"
#include "pf_err.h"
#include "pf_log.h"

#define DENIED "Access denied. ERROR"
#define MAX_DEPTH 64
#define MULTISCAN_THREADS 4

int cd_paths_allow(cd_opts *o, const char *folder, char *err, size_t errlen) {
  if (o->n_allow >= CD_MAX_ALLOW) { snprintf(err, errlen, "at most %d --allow-path folders", CD_MAX_ALLOW); return PF_ELIMIT; }
  char real[PATH_MAX];
  if (!realpath(folder, real)) { snprintf(err, errlen, "--allow-path %s: %s", folder, strerror(errno)); return PF_ENOENT; }
  int fd = open(real, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) { snprintf(err, errlen, "--allow-path %s: not a folder (%s)", folder, strerror(errno)); return PF_EINVAL; }
  snprintf(o->allow[o->n_allow], sizeof o->allow[0], "%s", real);
  o->allow_fd[o->n_allow++] = fd;
  return PF_OK;
}

/* openat2 beneath dirfd: no "..", no symlink, no magic link leaves it. */
static int open_beneath(int dirfd, const char *rel) {
  struct open_how how;
  memset(&how, 0, sizeof how);
  how.flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | O_NOFOLLOW;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  return (int)syscall(SYS_openat2, dirfd, *rel ? rel : ".", &how, sizeof how);
}

/* The allowed root path lies in and the rest of it; -1 when none. */
static int find_root(const cd_opts *o, const char *path, const char **rel) {
  for (int i = 0; i < o->n_allow; i++) {
    size_t k = strlen(o->allow[i]);
    if (strncmp(path, o->allow[i], k) != 0) continue;
    if (path[k] == '\0') { *rel = ""; return i; }
    if (path[k] == '/' || (k == 1 && o->allow[i][0] == '/')) {
      const char *r = path + k;
      while (*r == '/') r++;
      *rel = r;
      return i;
    }
  }
  return -1;
}

typedef struct {
  char **rel;       /* files beneath the root, relative to it */
  size_t n, cap;
  int truncated;
} filelist;

static int list_add(filelist *l, const char *rel) {
  if (l->n == l->cap) {
    size_t nc = l->cap ? l->cap * 2 : 64;
    char **p = realloc(l->rel, nc * sizeof *p);
    if (!p) return PF_ENOMEM;
    l->rel = p;
    l->cap = nc;
  }
  if (!(l->rel[l->n] = strdup(rel))) return PF_ENOMEM;
  l->n++;
  return PF_OK;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Adds the regular files beneath dirfd (whose path below the root is rel)
 * to l, in sorted order; symlinks and special files are skipped. */
static void walk(const cd_opts *o, int dirfd, const char *rel, int depth, filelist *l) {
  if (depth > MAX_DEPTH) return;
  int dfd = dup(dirfd);
  DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
  if (!d) { if (dfd >= 0) close(dfd); return; }
  char **names = NULL;
  size_t n = 0, cap = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    if (n == cap) {
      size_t nc = cap ? cap * 2 : 32;
      char **p = realloc(names, nc * sizeof *p);
      if (!p) break;
      names = p;
      cap = nc;
    }
    if (!(names[n] = strdup(e->d_name))) break;
    n++;
  }
  closedir(d);
  qsort(names, n, sizeof *names, cmp_str);
  for (size_t i = 0; i < n; i++) {
    if (l->n >= (size_t)o->max_files) { l->truncated = 1; break; }
    int fd = open_beneath(dirfd, names[i]);
    if (fd < 0) continue; /* a symlink, or gone */
    struct stat st;
    char sub[PATH_MAX];
    int ok = fstat(fd, &st) == 0 && snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", names[i]) < (int)sizeof sub;
    if (ok && S_ISDIR(st.st_mode)) walk(o, fd, sub, depth + 1, l);
    else if (ok && S_ISREG(st.st_mode)) list_add(l, sub);
    close(fd);
  }
  for (size_t i = 0; i < n; i++) free(names[i]);
  free(names);
}

typedef struct {
  const cd_opts *o;
  int rootfd;
  const char *root_rel;    /* the scanned path below the root */
  const char *shown;       /* the path as the client sent it */
  filelist *l;
  atomic_size_t next;
  atomic_int stop;         /* SCAN: stop at the first match */
  int stop_at_found;
  pthread_mutex_t mu;
  cd_emit_fn emit;
  void *ctx;
  int found, errors;
} job;

static void score_one(job *j, size_t i) {
  const char *rel = j->l->rel[i];
  char shown[PATH_MAX + 64];
  size_t k = strlen(j->root_rel);
  const char *tail = rel + k;
  while (*tail == '/') tail++;
  if (*tail) snprintf(shown, sizeof shown, "%s%s%s", j->shown, j->shown[strlen(j->shown) - 1] == '/' ? "" : "/", tail);
  else snprintf(shown, sizeof shown, "%s", j->shown);
  cd_verdict v;
  int fd = open_beneath(j->rootfd, rel);
  if (fd < 0) {
    memset(&v, 0, sizeof v);
    v.verdict = CD_V_ERROR;
    snprintf(v.reason, sizeof v.reason, "Access denied.");
  } else {
    cd_scan_fd(fd, &v);
    close(fd);
  }
  char status[600];
  cd_verdict_text(&v, status, sizeof status);
  pf_info("SCAN %s: %s (p=%.6f, model %s, sha256 %s, %.1f ms)", shown, status, v.probability,
          v.model[0] ? v.model : "-", v.sha256[0] ? v.sha256 : "-", v.ms);
  pthread_mutex_lock(&j->mu);
  if (v.verdict != CD_V_OK) j->emit(j->ctx, shown, status);
  if (v.verdict == CD_V_FOUND) {
    j->found++;
    if (j->stop_at_found) atomic_store(&j->stop, 1);
  } else if (v.verdict == CD_V_ERROR) {
    j->errors++;
  }
  pthread_mutex_unlock(&j->mu);
}

static void *worker(void *arg) {
  job *j = arg;
  for (;;) {
    if (atomic_load(&j->stop)) break;
    size_t i = atomic_fetch_add(&j->next, 1);
    if (i >= j->l->n) break;
    score_one(j, i);
  }
  return NULL;
}

void cd_paths_scan(const cd_opts *o, cd_kind kind, const char *path, size_t len, cd_emit_fn emit, void *ctx,
                   int *found, int *errors) {
  *found = *errors = 0;
  char p[PATH_MAX];
  if (len == 0 || len >= sizeof p || memchr(path, '\0', len)) { emit(ctx, "?", DENIED); (*errors)++; return; }
  memcpy(p, path, len);
  p[len] = '\0';
  const char *rel = NULL;
  int root = p[0] == '/' ? find_root(o, p, &rel) : -1;
  int fd = root >= 0 ? open_beneath(o->allow_fd[root], rel) : -1;
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0 || (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))) {
    if (fd >= 0) close(fd);
    pf_info("%s %s: refused (%s)", kind == CD_MULTISCAN ? "MULTISCAN" : "SCAN", p,
            root < 0 ? "outside every --allow-path folder" : "not a regular file or folder beneath it");
    emit(ctx, p, DENIED);
    (*errors)++;
    return;
  }
  filelist l = {0};
  if (S_ISDIR(st.st_mode)) walk(o, fd, rel, 0, &l);
  else list_add(&l, rel);
  close(fd);
  job j = {.o = o, .rootfd = o->allow_fd[root], .root_rel = rel, .shown = p, .l = &l, .emit = emit, .ctx = ctx,
           .stop_at_found = kind == CD_SCAN};
  pthread_mutex_init(&j.mu, NULL);
  atomic_init(&j.next, 0);
  atomic_init(&j.stop, 0);
  int nt = kind == CD_MULTISCAN && l.n > 1 ? MULTISCAN_THREADS : 1;
  pthread_t th[MULTISCAN_THREADS];
  int started = 0;
  for (int i = 1; i < nt; i++)
    if (pthread_create(&th[started], NULL, worker, &j) == 0) started++;
  worker(&j);
  for (int i = 0; i < started; i++) pthread_join(th[i], NULL);
  pthread_mutex_destroy(&j.mu);
  if (l.truncated) {
    emit(ctx, p, "Too many files (pefleet-clamd --max-files). ERROR");
    j.errors++;
  }
  size_t total = l.n;
  /* as clamd: OK once for the path when nothing was found and not every
   * file failed (an empty folder is clean) */
  if (j.found == 0 && !l.truncated && (total == 0 || (size_t)j.errors < total)) emit(ctx, p, "OK");
  for (size_t i = 0; i < l.n; i++) free(l.rel[i]);
  free(l.rel);
  *found = j.found;
  *errors = j.errors;
}

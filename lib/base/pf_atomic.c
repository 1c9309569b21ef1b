/* Whole-file writes (see pf_atomic.h). */
#include "pf_atomic.h"
#include "pf_err.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

FILE *pf_atomic_open(pf_atomic *a, const char *dir, const char *name) {
  memset(a, 0, sizeof *a);
  int n = name ? snprintf(a->dst, sizeof a->dst, "%s/%s", dir, name) : snprintf(a->dst, sizeof a->dst, "%s", dir);
  if (n < 0 || (size_t)n >= sizeof a->dst - 16) {
    snprintf(a->tmp, sizeof a->tmp, "%.200s...", dir);
    errno = ENAMETOOLONG;
    return NULL;
  }
  memcpy(a->tmp, a->dst, (size_t)n);
  memcpy(a->tmp + n, ".tmp.XXXXXX", sizeof ".tmp.XXXXXX");
  int fd = mkstemp(a->tmp);
  if (fd < 0) return NULL;
  mode_t um = umask(0);
  umask(um);
  if (fchmod(fd, 0644 & ~um) != 0 || !(a->f = fdopen(fd, "w"))) {
    int e = errno;
    close(fd);
    unlink(a->tmp);
    errno = e;
    return NULL;
  }
  return a->f;
}

int pf_atomic_commit(pf_atomic *a) {
  if (!a->f) return PF_EIO;
  int bad = fflush(a->f) != 0 || ferror(a->f) || fsync(fileno(a->f)) != 0;
  bad |= fclose(a->f) != 0;
  a->f = NULL;
  if (bad || rename(a->tmp, a->dst) != 0) {
    int e = errno;
    unlink(a->tmp);
    errno = e;
    return PF_EIO;
  }
  /* the rename itself must survive a crash: fsync the folder */
  char folder[sizeof a->dst];
  snprintf(folder, sizeof folder, "%s", a->dst);
  char *slash = strrchr(folder, '/');
  if (slash == folder) slash[1] = '\0';
  else if (slash) *slash = '\0';
  else snprintf(folder, sizeof folder, ".");
  int dfd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
  return PF_OK;
}

void pf_atomic_abort(pf_atomic *a) {
  if (a->f) fclose(a->f);
  a->f = NULL;
  if (a->tmp[0]) unlink(a->tmp);
}

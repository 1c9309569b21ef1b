#include "pf_io.h"

#include "pf_err.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int pf_io_write_all(int fd, const void *buf, size_t n) {
  const uint8_t *p = buf;
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

int pf_io_read_exact(int fd, void *buf, size_t n) {
  uint8_t *p = buf;
  while (n) {
    ssize_t r = read(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    p += r;
    n -= (size_t)r;
  }
  return 0;
}

int pf_io_read_file(const char *path, size_t cap, uint8_t **out, size_t *len) {
  *out = NULL;
  *len = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT ? PF_ENOENT : PF_EIO;
  int rc = pf_io_read_fd(fd, cap, out, len);
  int e = errno;
  close(fd);
  errno = e;
  return rc;
}

int pf_io_read_fd(int fd, size_t cap, uint8_t **out, size_t *len) {
  *out = NULL;
  *len = 0;
  struct stat st;
  if (fstat(fd, &st) != 0) return PF_EIO;
  if (!S_ISREG(st.st_mode)) return PF_EINVAL;
  *len = (size_t)st.st_size;
  if ((uint64_t)st.st_size > cap) return PF_ELIMIT;
  uint8_t *buf = malloc(*len + 1);
  if (!buf) return PF_ENOMEM;
  errno = 0;
  if (pf_io_read_exact(fd, buf, *len) != 0) {
    int e = errno ? errno : EIO;
    free(buf);
    errno = e;
    return PF_EIO;
  }
  buf[*len] = 0;
  *out = buf;
  return PF_OK;
}

int pf_io_open_beneath(int dirfd, const char *rel, int *fd) {
  *fd = -1;
  struct open_how how;
  memset(&how, 0, sizeof how);
  how.flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  long f = -1;
  /* EAGAIN: a rename raced the lookup and the kernel would not vouch for
   * it; a few tries, then refused */
  for (int tries = 0; tries < 8; tries++) {
    f = syscall(SYS_openat2, dirfd, rel, &how, sizeof how);
    if (f >= 0 || (errno != EAGAIN && errno != EINTR)) break;
  }
  if (f < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return PF_ENOENT;
    if (errno == EXDEV || errno == ELOOP || errno == EAGAIN || errno == ENOSYS || errno == EPERM ||
        errno == EACCES || errno == ENXIO || errno == EISDIR)
      return PF_EINVAL;
    return PF_EIO;
  }
  struct stat st;
  if (fstat((int)f, &st) != 0 || !S_ISREG(st.st_mode)) {
    close((int)f);
    return PF_EINVAL;
  }
  *fd = (int)f;
  return PF_OK;
}

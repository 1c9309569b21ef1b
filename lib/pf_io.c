#include "pf_io.h"

#include "pf_err.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
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
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int e = errno;
    close(fd);
    errno = e;
    return PF_EIO;
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return PF_EINVAL;
  }
  *len = (size_t)st.st_size;
  if ((uint64_t)st.st_size > cap) {
    close(fd);
    return PF_ELIMIT;
  }
  uint8_t *buf = malloc(*len + 1);
  if (!buf) {
    close(fd);
    return PF_ENOMEM;
  }
  errno = 0;
  if (pf_io_read_exact(fd, buf, *len) != 0) {
    int e = errno ? errno : EIO;
    free(buf);
    close(fd);
    errno = e;
    return PF_EIO;
  }
  close(fd);
  buf[*len] = 0;
  *out = buf;
  return PF_OK;
}

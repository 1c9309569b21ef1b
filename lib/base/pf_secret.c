#include "pf_secret.h"
#include "pf_err.h"
#include "pf_io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

int pf_secret_write(const char *path, const void *buf, size_t len, char *err, size_t errlen) {
  char tmp[4200];
  int n = snprintf(tmp, sizeof tmp, "%s.tmp-XXXXXX", path);
  if (n < 0 || (size_t)n >= sizeof tmp) {
    snprintf(err, errlen, "%.200s...: path too long", path);
    return PF_EINVAL;
  }
  int fd = mkostemp(tmp, O_CLOEXEC); /* O_CREAT|O_EXCL, mode 0600 */
  if (fd < 0) {
    snprintf(err, errlen, "cannot create a file beside %s: %s", path, strerror(errno));
    return PF_EIO;
  }
  int bad = pf_io_write_all(fd, buf, len) != 0;
  bad |= fsync(fd) != 0;
  int saved = errno;
  bad |= close(fd) != 0;
  if (bad || rename(tmp, path) != 0) {
    snprintf(err, errlen, "%s: %s", path, strerror(bad ? saved : errno));
    unlink(tmp);
    return PF_EIO;
  }
  return PF_OK;
}

int pf_secret_random_hex(char *out, size_t outlen, size_t nbytes, char *err, size_t errlen) {
  uint8_t raw[256];
  if (nbytes > sizeof raw || outlen < 2 * nbytes + 1) {
    snprintf(err, errlen, "random secret of %zu bytes does not fit", nbytes);
    return PF_EINVAL;
  }
  size_t got = 0;
  while (got < nbytes) {
    ssize_t r = getrandom(raw + got, nbytes - got, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      snprintf(err, errlen, "getrandom: %s", strerror(errno));
      memset(raw, 0, sizeof raw);
      return PF_EIO;
    }
    got += (size_t)r;
  }
  static const char hex[] = "0123456789abcdef";
  for (size_t i = 0; i < nbytes; i++) {
    out[2 * i] = hex[raw[i] >> 4];
    out[2 * i + 1] = hex[raw[i] & 15];
  }
  out[2 * nbytes] = '\0';
  memset(raw, 0, sizeof raw);
  return PF_OK;
}

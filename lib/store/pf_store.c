/* Content-addressed sample store (see pf_store.h). */
#include "pf_store.h"
#include "pf_err.h"
#include "pf_io.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int pf_store_path(const char *root, const char *sha, char *out, size_t n) {
  if (!pf_is_sha256_hex(sha)) return PF_EINVAL;
  int k = snprintf(out, n, "%s/%.2s/%.2s/%s", root, sha, sha + 2, sha);
  return k < 0 || (size_t)k >= n ? PF_ELIMIT : PF_OK;
}

int pf_store_has(const char *root, const char *sha) {
  char p[4096];
  int rc = pf_store_path(root, sha, p, sizeof p);
  if (rc != PF_OK) return rc;
  return access(p, F_OK) == 0;
}

/* mkdir -p for root/ab/cd. */
static int make_dirs(const char *root, const char *sha) {
  char p[4096];
  if (mkdir(root, 0755) != 0 && errno != EEXIST) return PF_EIO;
  snprintf(p, sizeof p, "%s/%.2s", root, sha);
  if (mkdir(p, 0755) != 0 && errno != EEXIST) return PF_EIO;
  snprintf(p, sizeof p, "%s/%.2s/%.2s", root, sha, sha + 2);
  if (mkdir(p, 0755) != 0 && errno != EEXIST) return PF_EIO;
  return PF_OK;
}

/* Moves the written temporary file into place under sha. */
static int publish(const char *root, const char *tmp, const char *sha) {
  char dst[4096];
  int rc = pf_store_path(root, sha, dst, sizeof dst);
  if (rc == PF_OK) rc = make_dirs(root, sha);
  if (rc == PF_OK && access(dst, F_OK) == 0) { unlink(tmp); return PF_OK; } /* already stored */
  if (rc == PF_OK && rename(tmp, dst) != 0) rc = PF_EIO;
  if (rc != PF_OK) unlink(tmp);
  return rc;
}

static int open_tmp(const char *root, char *tmp, size_t n) {
  if (mkdir(root, 0755) != 0 && errno != EEXIST) return -1;
  snprintf(tmp, n, "%s/.incoming.XXXXXX", root);
  return mkstemp(tmp);
}

int pf_store_put(const char *root, const uint8_t *buf, size_t len, char sha[PF_SHA256_HEX_LEN + 1]) {
  uint8_t d[PF_SHA256_LEN];
  if (pf_sha256(buf, len, d) != PF_OK) return PF_ENOMEM;
  pf_hex(d, PF_SHA256_LEN, sha);
  if (pf_store_has(root, sha) == 1) return PF_OK;
  char tmp[4096];
  int fd = open_tmp(root, tmp, sizeof tmp);
  if (fd < 0) return PF_EIO;
  int bad = pf_io_write_all(fd, buf, len) != 0 || fsync(fd) != 0;
  bad |= close(fd) != 0;
  if (bad) { unlink(tmp); return PF_EIO; }
  return publish(root, tmp, sha);
}

int pf_store_put_fd(const char *root, int in, uint64_t max_size, int flags, char sha[PF_SHA256_HEX_LEN + 1],
                    uint64_t *size) {
  struct stat st;
  if (fstat(in, &st) != 0 || !S_ISREG(st.st_mode)) return PF_EINVAL;
  if ((uint64_t)st.st_size > max_size) return PF_ELIMIT;
  char tmp[4096];
  int out = open_tmp(root, tmp, sizeof tmp);
  if (out < 0) return PF_EIO;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  int rc = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) ? PF_OK : PF_ENOMEM;
  uint64_t total = 0;
  static __thread uint8_t buf[1 << 16];
  while (rc == PF_OK) {
    ssize_t r = read(in, buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) { rc = PF_EIO; break; }
    if (r == 0) break;
    total += (uint64_t)r;
    if (total > max_size) { rc = PF_ELIMIT; break; }
    if (!EVP_DigestUpdate(ctx, buf, (size_t)r) || pf_io_write_all(out, buf, (size_t)r) != 0) rc = PF_EIO;
  }
  uint8_t d[PF_SHA256_LEN];
  unsigned int dn = 0;
  if (rc == PF_OK && (!EVP_DigestFinal_ex(ctx, d, &dn) || dn != PF_SHA256_LEN)) rc = PF_ENOMEM;
  EVP_MD_CTX_free(ctx);
  if (rc == PF_OK && !(flags & PF_STORE_NOSYNC) && fsync(out) != 0) rc = PF_EIO;
  if (close(out) != 0 && rc == PF_OK) rc = PF_EIO;
  if (rc != PF_OK) { unlink(tmp); return rc; }
  pf_hex(d, PF_SHA256_LEN, sha);
  *size = total;
  return publish(root, tmp, sha);
}

int pf_store_put_file(const char *root, const char *path, uint64_t max_size, int flags,
                      char sha[PF_SHA256_HEX_LEN + 1], uint64_t *size) {
  int in = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (in < 0) return errno == ENOENT ? PF_ENOENT : PF_EIO;
  int rc = pf_store_put_fd(root, in, max_size, flags, sha, size);
  close(in);
  return rc;
}

int pf_store_sync(const char *root) {
  int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return PF_EIO;
  int rc = syncfs(fd) == 0 ? PF_OK : PF_EIO;
  close(fd);
  return rc;
}

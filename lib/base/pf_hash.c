#include "pf_hash.h"
#include "pf_io.h"
#include <unistd.h>
#include <stdlib.h>
#include <errno.h>
#include "pf_err.h"

#include <openssl/evp.h>
#include <string.h>

int pf_sha256(const uint8_t *buf, size_t len, uint8_t out[PF_SHA256_LEN]) {
  unsigned int n = 0;
  if (!EVP_Digest(buf, len, out, &n, EVP_sha256(), NULL) || n != PF_SHA256_LEN) return PF_ENOMEM;
  return PF_OK;
}

int pf_sha256_copy(int in, int out, uint64_t size, uint8_t digest[PF_SHA256_LEN]) {
  enum { CHUNK = 256 * 1024 };
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  uint8_t *buf = malloc(CHUNK);
  int rc = ctx && buf && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) ? PF_OK : PF_ENOMEM;
  while (rc == PF_OK && size > 0) {
    size_t want = size < CHUNK ? (size_t)size : CHUNK;
    ssize_t r = read(in, buf, want);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      if (r == 0) errno = EIO;
      rc = PF_EIO;
      break;
    }
    if (!EVP_DigestUpdate(ctx, buf, (size_t)r)) rc = PF_ENOMEM;
    else if (out >= 0 && pf_io_write_all(out, buf, (size_t)r) != 0) rc = PF_EIO;
    size -= (uint64_t)r;
  }
  unsigned int n = 0;
  if (rc == PF_OK && (!EVP_DigestFinal_ex(ctx, digest, &n) || n != PF_SHA256_LEN)) rc = PF_ENOMEM;
  EVP_MD_CTX_free(ctx);
  free(buf);
  return rc;
}

void pf_hex(const uint8_t *bytes, size_t n, char *hex) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    hex[2 * i] = digits[bytes[i] >> 4];
    hex[2 * i + 1] = digits[bytes[i] & 15];
  }
  hex[2 * n] = '\0';
}

int pf_is_sha256_hex(const char *s) {
  if (!s || strlen(s) != PF_SHA256_HEX_LEN) return 0;
  for (const char *p = s; *p; p++)
    if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) return 0;
  return 1;
}

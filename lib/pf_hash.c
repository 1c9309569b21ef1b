#include "pf_hash.h"
#include "pf_err.h"

#include <openssl/evp.h>
#include <string.h>

int pf_sha256(const uint8_t *buf, size_t len, uint8_t out[PF_SHA256_LEN]) {
  unsigned int n = 0;
  if (!EVP_Digest(buf, len, out, &n, EVP_sha256(), NULL) || n != PF_SHA256_LEN) return PF_ENOMEM;
  return PF_OK;
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

/* libFuzzer target for the CURVE key files (lib/pf_curve.c): the key pair
 * file parser and the public key parser take arbitrary bytes. Invariants:
 * no crash or sanitizer report; a parse that succeeds yields exactly 40
 * Z85 characters per key (and the reason buffer stays a C string when it
 * fails); parsing what was accepted is stable. */
#include "pf_curve.h"
#include "pf_err.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int z85_ok(const char *k) {
  static const char alphabet[] =
      "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
  if (strlen(k) != PF_CURVE_Z85_LEN) return 0;
  for (int i = 0; i < PF_CURVE_Z85_LEN; i++)
    if (!strchr(alphabet, k[i])) return 0;
  return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char err[256];
  pf_curve_keypair kp;
  memset(err, 'x', sizeof err);
  if (pf_curve_parse_keypair(data, size, &kp, err, sizeof err) == PF_OK) {
    if (!z85_ok(kp.pub) || !z85_ok(kp.sec)) abort();
  } else if (!memchr(err, '\0', sizeof err)) {
    abort();
  }
  char pub[PF_CURVE_Z85_LEN + 1], again[PF_CURVE_Z85_LEN + 1];
  memset(err, 'x', sizeof err);
  if (pf_curve_parse_public(data, size, pub, err, sizeof err) == PF_OK) {
    if (!z85_ok(pub)) abort();
    if (pf_curve_parse_public((const uint8_t *)pub, strlen(pub), again, err, sizeof err) != PF_OK ||
        strcmp(pub, again) != 0)
      abort();
  } else if (!memchr(err, '\0', sizeof err)) {
    abort();
  }
  return 0;
}

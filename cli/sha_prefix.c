/* sha256 prefixes to stored samples (see sha_prefix.h). */
#include "sha_prefix.h"

#include "pf_db_scan.h"
#include "pf_err.h"

#include <stdio.h>
#include <string.h>

int sha_prefix_ok(const char *s) {
  size_t n = strlen(s);
  if (n < SHA_PREFIX_MIN || n >= 64) return 0;
  for (size_t i = 0; i < n; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
  return 1;
}

int sha_prefix_expand(pf_db *db, const char *prefix, char out[65], char *err, size_t errlen) {
  int found = 0;
  if (pf_db_find_prefix(db, prefix, out, &found) != PF_OK) {
    snprintf(err, errlen, "cannot look %s up: %s", prefix, pf_db_error(db));
    return -1;
  }
  if (found == 1) return 0;
  snprintf(err, errlen, found ? "sha256 prefix %s names several stored samples: give more digits"
                              : "no stored sample's sha256 starts with %s", prefix);
  return -1;
}

/* sha256 prefixes to stored samples (see sha_prefix.h). */
#include "sha_prefix.h"

#include <hiredis.h>
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
  char cursor[32] = "0", match[80];
  snprintf(match, sizeof match, "%s*", prefix);
  int found = 0;
  do {
    const char *argv[] = {"SSCAN", "pf:samples", cursor, "MATCH", match, "COUNT", "1000"};
    redisReply *r = pf_db_command(db, 7, argv, NULL);
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 || r->element[0]->type != REDIS_REPLY_STRING ||
        r->element[1]->type != REDIS_REPLY_ARRAY) {
      snprintf(err, errlen, "cannot look %s up: %s", prefix, r ? "unexpected reply" : pf_db_error(db));
      if (r) freeReplyObject(r);
      return -1;
    }
    snprintf(cursor, sizeof cursor, "%.31s", r->element[0]->str);
    for (size_t i = 0; i < r->element[1]->elements; i++) {
      const redisReply *e = r->element[1]->element[i];
      if (e->type != REDIS_REPLY_STRING || e->len != 64) continue;
      if (found == 0) memcpy(out, e->str, 64), out[64] = '\0';
      else if (strncmp(out, e->str, 64) != 0) found = 2;
      if (found == 0) found = 1;
    }
    freeReplyObject(r);
  } while (strcmp(cursor, "0") != 0 && found < 2);
  if (found == 1) return 0;
  snprintf(err, errlen, found ? "sha256 prefix %s names several stored samples: give more digits"
                              : "no stored sample's sha256 starts with %s", prefix);
  return -1;
}

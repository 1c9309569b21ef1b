#include "pf_split.h"
#include "pf_err.h"
#include "pf_hash.h"

#include <string.h>

int pf_split_of(const char *sha) {
  if (!pf_is_sha256_hex(sha)) return PF_EINVAL;
  unsigned long long v = 0;
  for (int i = 0; i < 16; i++) {
    char c = sha[i];
    v = v << 4 | (unsigned long long)(c <= '9' ? c - '0' : c - 'a' + 10);
  }
  unsigned r = (unsigned)(v % 10000u);
  return r < 7000 ? PF_SPLIT_TRAIN : r < 8500 ? PF_SPLIT_VALIDATION : PF_SPLIT_TEST;
}

static const char *const names[] = {"train", "validation", "test"};

const char *pf_split_name(int split) {
  return split >= 0 && split <= 2 ? names[split] : NULL;
}

int pf_split_parse(const char *name) {
  for (int i = 0; i < 3; i++)
    if (name && strcmp(name, names[i]) == 0) return i;
  return -1;
}

/* sha_prefix: owns expanding a sha256 prefix (12 or more lower-case hex
 * digits, as predict and ingest print them) to the one stored sample it
 * names, from the fleet's set of samples (pf:samples).
 * Called by similar and requeue. */
#ifndef PF_SHA_PREFIX_H
#define PF_SHA_PREFIX_H

#include <stddef.h>

#include "pf_db.h"

#define SHA_PREFIX_MIN 12

/* 1 when s is 12 to 63 lower-case hex digits. */
int sha_prefix_ok(const char *s);

/* Writes the full sha256 into out (65 bytes) when exactly one stored
 * sample starts with prefix. Returns 0, or -1 with the reason in err (none
 * stored, several: ambiguous, or Redis failed). */
int sha_prefix_expand(pf_db *db, const char *prefix, char out[65], char *err, size_t errlen);

#endif

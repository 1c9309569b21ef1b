/* pf_db_stream: owns reading the pf:vectors stream (pf_db.h), which every
 * script that stores a vector appends the sample's hash to.
 * Defines its newest id, reading the entries after an id, and the check
 * that the stream still continues from an id (not flushed, restarted, or
 * trimmed past it). Called by the similarity service's follower. */
#ifndef PF_DB_STREAM_H
#define PF_DB_STREAM_H

#include <stddef.h>

#include "pf_db.h"

#define PF_DB_STREAM_ID 48    /* room for an id "<ms>-<seq>" */
#define PF_DB_STREAM_READ 1000 /* entries one pf_db_vectors_read returns at most */

/* The stream's newest id into id ("0-0" when the stream does not exist).
 * PF_OK, or PF_EIO (unreachable, or a reply of another shape). */
int pf_db_vectors_tail(pf_db *db, char id[PF_DB_STREAM_ID]);

/* Up to max (1..PF_DB_STREAM_READ) entries after id `after` (XREAD, not
 * blocking): the hashes they announce into shas (*nsha of them), the id of
 * the last entry read into last ("" when none), *entries how many entries
 * were read (one that announces no valid hash counts too). PF_OK, PF_EIO,
 * PF_EINVAL for a malformed id or max. */
int pf_db_vectors_read(pf_db *db, const char *after, int max, char (*shas)[PF_SHA256_HEX_LEN + 1], int *nsha,
                       char last[PF_DB_STREAM_ID], int *entries);

/* Whether the stream still continues from id (what a reader that has read
 * up to id needs): 1 yes; 0 no, with the reason in why (gone: Redis was
 * flushed or lost its data; restarted: its last id is before ours; trimmed
 * past id: an entry after id deleted, or entries removed and the oldest
 * left after id); PF_EIO when Redis does not answer. */
int pf_db_vectors_continues(pf_db *db, const char *id, char *why, size_t whylen);

/* Orders stream ids: -1, 0, 1 as a < b, a == b, a > b (malformed: equal). */
int pf_db_stream_id_cmp(const char *a, const char *b);

#endif

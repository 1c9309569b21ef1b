/* pf_db_scan: owns the batched reads of pf_db's sample records.
 * Defines pf_db_scan (SSCAN a page of a set, then every record of the page
 * in one pipelined round trip) and pf_db_fetch (the same for a list of
 * hashes); each record is decoded exactly as pf_db_get decodes it.
 * Also finds a sample by the start of its hash.
 * Called by pf_db_each (training, export, requeue), the similarity
 * service's load and stream follower, and `pefleet similar/requeue`. */
#ifndef PF_DB_SCAN_H
#define PF_DB_SCAN_H

#include "pf_db.h"

#define PF_DB_SCAN_BATCH 256 /* records read per round trip (an SSCAN page of about 1,000 takes four) */

/* Sets a scan walks: a split's number (0-2, pf_split.h), or one of these. */
enum { PF_DB_SET_ALL = -1, PF_DB_SET_FAILED = -2, PF_DB_SET_DONE = -3 };

/* Flags. VECTORS: read only what a vector index needs (vec, schema, split
 * and the labels); the other fields of the sample stay "" / 0. */
#define PF_DB_SCAN_VECTORS 1

/* Called for each record with rc: PF_OK; PF_EINVAL when its stored vector
 * does not decode (s holds the other fields, has_vector 0, the reason in
 * pf_db_error: pf_db_get's rules); PF_ENOENT when the hash has no record
 * (removed meanwhile; s holds only the sha). Returns non-zero to stop. The
 * page has been read when fn runs, so fn may use db. */
typedef int (*pf_db_scan_fn)(const pf_db_sample *s, int rc, void *arg);

/* Calls fn for every member of set, in no particular order, a page of
 * records per round trip. SSCAN rules (pf_db_each): a sample added or
 * removed meanwhile may or may not be seen, one may be seen twice. A
 * connection lost mid-page is reopened once and the page read again.
 * Returns PF_OK (walked, or fn stopped it), PF_EINVAL (bad set or flags),
 * PF_ENOMEM, or PF_EIO (reason in pf_db_error; the records fn saw stay
 * seen). */
int pf_db_scan(pf_db *db, int set, int flags, pf_db_scan_fn fn, void *arg);

/* The records of n hashes (malformed ones are PF_ENOENT without reaching
 * Redis), in order, PF_DB_SCAN_BATCH per round trip; rules of pf_db_scan. */
int pf_db_fetch(pf_db *db, const char (*shas)[PF_SHA256_HEX_LEN + 1], size_t n, int flags, pf_db_scan_fn fn,
                void *arg);

/* The stored sample (pf:samples) whose hash starts with prefix (1-64
 * lower-case hex digits) into out: *matches 0 none, 1 one (out holds it),
 * 2 several (out holds one of them). PF_OK, PF_EINVAL, PF_EIO. */
int pf_db_find_prefix(pf_db *db, const char *prefix, char out[PF_SHA256_HEX_LEN + 1], int *matches);

#endif

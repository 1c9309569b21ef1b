/* ingest_send: owns handing files to the fleet: storing them in the sample
 * store, queueing their hashes with the broker (which acknowledges once the
 * sample is durable in Redis) and waiting until they are encoded.
 * Defines the per-file state of one run and the send and wait steps.
 * Called by `pefleet ingest` (cli/cmd_ingest.c) and `pefleet feed`. */
#ifndef PF_INGEST_SEND_H
#define PF_INGEST_SEND_H

#include <stddef.h>
#include <stdint.h>

#include "pf_config.h"
#include "pf_hash.h"

enum { INGEST_PENDING, INGEST_QUEUED, INGEST_DUPLICATE, INGEST_REJECTED, INGEST_DONE, INGEST_FAILED };

typedef struct {
  char sha[PF_SHA256_HEX_LEN + 1];
  uint64_t size;
  int state;   /* INGEST_*: PENDING until the broker answered (or the store refused) */
  long long seen; /* first-seen time sent with it (unix s; 0: the broker's now) */
  double sent;
} ingest_item;

typedef struct {
  const char *who;   /* message prefix, e.g. "pefleet ingest" */
  const char *label;
  uint64_t max_size; /* bytes; larger files are rejected */
  long retry_for;    /* seconds without progress before giving up */
  int quiet;         /* no per-file lines (rejections are still printed) */
  const char *beneath; /* NULL, or (feed) the folder every path lies under: each file */
  int beneath_fd;      /* is opened through this descriptor of it, no symlink followed */
  long long seen_at;   /* first-seen time of new samples: unix s, 0 now, INGEST_SEEN_MTIME */
} ingest_opts;

#define INGEST_SEEN_MTIME (-1LL) /* each file's modification time (--seen-at mtime) */

/* Parses --seen-at: "mtime", or a date pf_date_parse reads that is not in
 * the future. Returns 0, or -1 with a one-line reason in why. */
int ingest_parse_seen_at(const char *s, long long *seen, char *why, size_t whyn);

typedef struct {
  size_t queued, duplicates, rejected, unacked;
  size_t failed_earlier; /* duplicates of samples that had failed (counted in duplicates too) */
  size_t conflicts;      /* duplicates sent under another label than their first (in duplicates too) */
  double seconds;
} ingest_totals;

/* Stores paths[0..n) and sends them, WINDOW at a time, resending after 3 s;
 * items[i] (zeroed by the caller) follows paths[i]. One line per answer:
 * "SHA256  queued|duplicate  PATH" on stdout (unless quiet), or for a known
 * sample that failed "SHA256  failed earlier: REASON (pefleet requeue
 * SHA256)  PATH"; rejections on stderr with the reason. Before storing
 * anything, the broker has a few seconds (at most retry_for) to answer at
 * all, else "broker at ENDPOINT does not answer" with the cause and PF_EIO. Returns PF_OK when the run went through (some
 * files may still be rejected or unacknowledged: see t), or PF_EIO when
 * the broker's socket could not be set up or the broker does not answer
 * (reason printed; nothing stored or sent). */
int ingest_send(const pf_config *cfg, const ingest_opts *o, char *const *paths, ingest_item *items, size_t n,
                ingest_totals *t);

/* Polls Redis until every queued or duplicate item is done or failed
 * (items become INGEST_DONE / INGEST_FAILED; failures printed with their
 * reason unless quiet), then prints "done N, failed N" on stdout. Returns
 * 0 when all are done, 1 when some failed or Redis could not be reached. */
int ingest_wait(const pf_config *cfg, const ingest_opts *o, char *const *paths, ingest_item *items, size_t n);

#endif

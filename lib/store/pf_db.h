/* pf_db: owns pefleet's Redis layout (hiredis) and every command on it.
 * Defines the sample record, the durable job queue, split membership and
 * counters; each multi-key change is one Lua script, so a crash between
 * two commands can never leave a sample half-recorded.
 * Called by the broker, the encoder worker and the pefleet commands.
 *
 * Keys (prefix "pf:"):
 *   pf:s:<sha>         HASH  label, size, first_seen, status (queued|done|failed),
 *                            reason, schema, split, attempts, vec (pf_vecblob)
 *   pf:s:<sha>:labels  SET   every label the sample was ingested with
 *   pf:conflicts       SET   samples ingested with more than one label
 *   pf:samples         SET   every sample
 *   pf:queue           LIST  queued hashes (LPUSH in, RPOP out)
 *   pf:inflight        ZSET  hashes handed to a worker, score = claim time (ms)
 *   pf:done, pf:failed SET   finished samples
 *   pf:split:<name>    SET   done samples of train, validation, test
 *   pf:seen            ZSET  every sample, score = its first_seen (set once, by the
 *                            script that creates the record)
 *   pf:fleet           STRING the id of the fleet this Redis serves (set by the first
 *                            client that connects with a fleet id; see pf_db_opts)
 *   pf:vectors         STREAM one entry {sha: <sha>} per vector stored (worker or
 *                            import), trimmed to about 2,000,000 entries; the
 *                            similarity service follows it
 * A queued sample is always in pf:queue or pf:inflight until it is done or
 * failed. */
#ifndef PF_DB_H
#define PF_DB_H

#include <stddef.h>
#include <stdint.h>

#include "pf_hash.h"

typedef struct pf_db pf_db;

typedef struct {
  const char *host;     /* default 127.0.0.1 */
  int port;             /* default 6379 */
  const char *password; /* NULL: no AUTH */
  int db;               /* SELECT index, default 0 */
  int timeout_ms;       /* connect and command timeout, default 2000 */
  const char *fleet_id; /* NULL or "": no check; else every (re)connection records it
                           in pf:fleet when none is there and refuses a Redis whose
                           pf:fleet differs (PF_EFLEET, then PF_EIO on later calls,
                           the reason in pf_db_error) */
} pf_db_opts;

typedef struct {
  long long queued, in_flight, done, failed, samples, conflicts;
} pf_db_counts;

#define PF_DB_MAX_LABEL 128
#define PF_DB_MAX_REASON 256
#define PF_DB_MAX_DIM 486 /* values a stored vector may have (pf_db_sample.vec) */
#define PF_DB_VECTORS_KEY "pf:vectors" /* stream of stored vectors' hashes */
#define PF_DB_VECTORS_MAXLEN "2000000"  /* its approximate length cap (XADD MAXLEN ~) */
#define PF_DB_SEEN_KEY "pf:seen"        /* samples by first-seen time */

typedef struct pf_db_sample {
  char sha[PF_SHA256_HEX_LEN + 1];
  char label[PF_DB_MAX_LABEL];      /* first label seen */
  char labels[4 * PF_DB_MAX_LABEL]; /* all labels, comma-separated, sorted (at most 32,
                                       as many whole labels as fit) */
  int nlabels;                      /* how many distinct labels the sample has */
  char status[16];                  /* queued, done, failed */
  char reason[PF_DB_MAX_REASON];
  char split[16];
  uint64_t size;
  long long first_seen;             /* unix seconds */
  int attempts;
  int schema;
  int has_vector;
  uint32_t dim;
  double vec[PF_DB_MAX_DIM];
} pf_db_sample;

void pf_db_opts_default(pf_db_opts *o);

/* Connects (and AUTHs / SELECTs, checks the fleet id, then PINGs). Returns
 * PF_OK, PF_EIO with a reason in err, PF_EFLEET when the Redis serves
 * another fleet, or PF_EINVAL for impossible options (port outside 1-65535,
 * a fleet id over 63 bytes). */
int pf_db_connect(const pf_db_opts *o, pf_db **out, char *err, size_t errlen);
void pf_db_free(pf_db **db);

/* Every call below reconnects once when the connection was lost, and
 * returns PF_EIO (reason from pf_db_error) when Redis is unreachable or
 * answers with an error. A malformed sha (not 64 lower-case hex) or label
 * is PF_EINVAL and never reaches Redis. Reasons are cut to
 * PF_DB_MAX_REASON-1 bytes and control characters become spaces. */
const char *pf_db_error(const pf_db *db);
int pf_db_ping(pf_db *db);

/* Records an ingested sample. New: creates the record (status queued,
 * split from the sha256, first_seen now) and queues it; *is_new = 1.
 * Known: adds the label (a second distinct label marks a conflict, the
 * first label stays) and changes nothing else (first_seen included: it is
 * set once, in the script that creates the record); *is_new = 0. status (16
 * bytes) receives the sample's status after the call. label: 1-127 bytes
 * of printable ASCII without commas, else PF_EINVAL. A sample keeps at most
 * 64 distinct labels (later ones still mark the conflict). */
int pf_db_ingest(pf_db *db, const char *sha, const char *label, uint64_t size, int *is_new, char *status);

/* Moves up to max (at most 1000 per call) queued hashes into pf:inflight
 * and writes them to shas. *got = how many (0 when the queue is empty).
 * Queue entries that are no longer queued (done, failed, already in
 * flight) are dropped, so a hash is never handed out twice. */
int pf_db_claim(pf_db *db, char (*shas)[PF_SHA256_HEX_LEN + 1], int max, int *got);

/* A worker holding sha stopped answering: when sha is still in flight and
 * not finished, increments attempts and requeues it, or, once attempts
 * reaches max_attempts (>= 1), marks it failed with reason. *outcome: 0
 * nothing to do (not in flight, or already finished), 1 requeued, 2 failed. */
int pf_db_requeue(pf_db *db, const char *sha, int max_attempts, const char *reason, int *outcome);

/* pf_db_requeue without using up an attempt: for a delivery that never
 * reached a parser (the worker's retry reply: no parser could start, its
 * backlog was full) or a job no live worker holds (its claim's reply was
 * lost, or its worker reconnected). *outcome: 0 nothing to do, 1 requeued. */
int pf_db_giveback(pf_db *db, const char *sha, int *outcome);

/* Broker start: every in-flight hash goes back to the head of the queue,
 * oldest claim first (workers that still finish them are harmless: results
 * are idempotent); finished ones are only taken out of pf:inflight.
 * *moved = how many went back. */
int pf_db_recover(pf_db *db, long long *moved);

/* Worker: stores the vector (float32 blob), status done, split membership,
 * and takes sha out of pf:inflight and pf:failed. Idempotent. PF_EINVAL for
 * dim outside 1..PF_DB_MAX_DIM or a non-finite value; PF_ENOENT (nothing
 * stored) when sha was never ingested. */
int pf_db_store_vector(pf_db *db, const char *sha, const double *vec, uint32_t dim, uint16_t schema);

/* Worker: marks sha failed with a one-line reason and takes it out of
 * pf:inflight. A done sample stays done. PF_ENOENT when sha was never
 * ingested. */
int pf_db_fail(pf_db *db, const char *sha, const char *reason);

/* pefleet requeue: a failed sample goes back on the queue, status queued,
 * attempts 0, its reason cleared (*requeued = 1); a sample that is not
 * failed is left as it is (*requeued = 0). PF_ENOENT when never ingested. */
int pf_db_unfail(pf_db *db, const char *sha, int *requeued);

int pf_db_counts_get(pf_db *db, pf_db_counts *c);

/* Reads one sample (vector decoded when present). PF_ENOENT when unknown.
 * A stored vector that does not decode (bad magic, version, size, value,
 * or a schema that differs from the record's) is PF_EINVAL with the reason
 * in pf_db_error; s then holds every other field and has_vector = 0. */
int pf_db_get(pf_db *db, const char *sha, pf_db_sample *s);

/* Calls fn for every sample of split (-1: all), in no particular order;
 * stops when fn returns non-zero. Reads a page of records per round trip
 * (pf_db_scan), so fn may use db. Uses SSCAN, so it is safe on a live store
 * (a sample added or removed meanwhile may or may not be seen, and SSCAN may
 * report one twice if the set shrinks during the walk). Returns PF_OK, or
 * stops at the first error: PF_EIO, or PF_EINVAL for an unreadable vector
 * or a bad split. */
int pf_db_each(pf_db *db, int split, int (*fn)(const pf_db_sample *s, void *arg), void *arg);

/* pf_db_each over the failed samples (pf:failed), same rules. */
int pf_db_each_failed(pf_db *db, int (*fn)(const pf_db_sample *s, void *arg), void *arg);

/* ---- vector-only samples (pefleet import-csv) ---- */

#define PF_DB_IMPORT_MAX 4096 /* items of one pf_db_import_vectors call */

/* Records a sample that has a vector but no file (a row of a dataset.csv),
 * with one script. New: creates the record as a finished sample: status
 * done, the vector (float32 blob) and schema, split from the sha256
 * (pf_split_of), size 0, attempts 0, first_seen now, the label and its
 * labels set, and membership of pf:samples, pf:done and pf:split:<name>;
 * *is_new = 1. Known (ingested or imported before, whatever its status):
 * adds the label exactly as pf_db_ingest does (a second distinct label
 * marks a conflict, the first label stays) and changes nothing else;
 * *is_new = 0. PF_EINVAL, before anything reaches Redis, for a bad sha or
 * label (rules of pf_db_ingest), dim outside 1..PF_DB_MAX_DIM, or a value
 * that is not finite or beyond float32 range. */
int pf_db_import_vector(pf_db *db, const char *sha, const char *label, const double *vec, uint32_t dim,
                        uint16_t schema, int *is_new);

typedef struct {
  const char *sha;   /* in: 64 lower-case hex */
  const char *label; /* in */
  const double *vec; /* in: dim values */
  uint32_t dim;      /* in */
  long long first_seen; /* in: unix seconds the sample was first seen; 0: now (recorded only
                           for a new sample) */
  int result;        /* out: 1 new; 0 known; 2 known and its first label differs (conflict
                        recorded); PF_EINVAL or PF_EIO, with the reason */
  char reason[160];  /* out: one line, for PF_EINVAL and PF_EIO; else "" */
} pf_db_import_item;

/* pf_db_import_vector for n items (at most PF_DB_IMPORT_MAX), pipelined:
 * items that fail the checks get PF_EINVAL and are not sent; the others
 * are sent at once and answered in order (so an item that repeats an
 * earlier one of the same call is "known"). A connection lost mid-call is
 * reopened once and the unanswered items sent again; one that was stored
 * before the loss then reports "known". Returns PF_OK when every item that
 * was sent got its answer (some items may be PF_EINVAL); PF_EIO (reason in
 * pf_db_error) when Redis was unreachable or refused some item: those say
 * PF_EIO, the others keep their answers; PF_EINVAL for a NULL db or items
 * or n > PF_DB_IMPORT_MAX (nothing sent). */
int pf_db_import_vectors(pf_db *db, pf_db_import_item *items, size_t n, uint16_t schema);

/* pf_db_import_vectors in two halves, so the caller can prepare the next
 * batch while Redis works on this one: send checks the items and writes
 * the batch out (a failure to write is left to wait, which retries); wait
 * reads the answers and gives what pf_db_import_vectors returns. Between
 * the two, db must not be used for anything else, and items (and what they
 * point to) must stay as they are. Both return PF_EINVAL for a NULL db or
 * items, or n > PF_DB_IMPORT_MAX. */
int pf_db_import_send(pf_db *db, pf_db_import_item *items, size_t n, uint16_t schema);
int pf_db_import_wait(pf_db *db, pf_db_import_item *items, size_t n, uint16_t schema);

/* pf_db_ingest for many samples in one pipelined round trip, so Redis
 * commits them together (one fsync with appendfsync always). seen (may be
 * NULL) gives each new sample's first_seen in unix seconds (0: now); a
 * known sample keeps the one it has. For each i,
 * rc[i] is PF_OK (is_new[i], status[i] filled), PF_EINVAL (bad sha or
 * label, nothing recorded) or PF_EIO (Redis unreachable: retry; the
 * change may or may not have been made, and a retry is harmless). n at
 * most PF_DB_INGEST_MAX. */
#define PF_DB_INGEST_MAX 256
/* first_label (may be NULL): for a known sample, the label it was first
 * stored with (a label conflict when it is not label[i]). */
#define PF_DB_LABEL_CAP 128
int pf_db_ingest_many(pf_db *db, size_t n, const char *const *sha, const char *const *label, const uint64_t *size,
                      const long long *seen, int *rc, int *is_new, char (*status)[16],
                      char (*first_label)[PF_DB_LABEL_CAP]);

/* Hashes in pf:inflight claimed more than age_ms ago, oldest first,
 * skipping the first offset of them, at most max (a page: the caller walks
 * every one with growing offsets). The broker requeues those no live
 * worker holds: jobs whose requeue failed while Redis was down, or whose
 * claim's reply was lost, would otherwise wait for the next broker start. */
int pf_db_inflight_older(pf_db *db, long long age_ms, long long offset, char (*shas)[PF_SHA256_HEX_LEN + 1], int max,
                         int *got);

/* The sample's status ("queued", "done", "failed") into status (16 bytes),
 * with one HGET; PF_ENOENT for an unknown sample. For pollers that need
 * nothing else (ingest --wait). */
int pf_db_status(pf_db *db, const char *sha, char *status);

/* ---- first-seen times ---- */

/* The oldest and newest first_seen in pf:seen (0 when empty) and how many
 * samples it holds (pf_db_counts.samples minus this: samples not tracked
 * yet, see pf_db_seen_backfill). */
int pf_db_seen_range(pf_db *db, long long *oldest, long long *newest, long long *tracked);

/* Puts every sample missing from pf:seen (stored before pefleet kept it)
 * into it with its record's first_seen, or with now when the record has
 * none (the time of the upgrade; then written to the record too). Safe to
 * run at any time and more than once; `pefleet up` runs it. *added (may be
 * NULL) counts the samples that joined. */
int pf_db_seen_backfill(pf_db *db, long long now, long long *added);

/* ---- other lib/store modules' keys (pf_registry); nothing outside
 * lib/store talks to Redis but through lib/store's functions ---- */

/* One Redis command (argv with lens; lens NULL for NUL-terminated values),
 * reconnecting once when the connection was lost. Returns the reply (free
 * with freeReplyObject from <hiredis/hiredis.h>), or NULL with the reason
 * in pf_db_error when Redis is unreachable or answered with an error. For
 * reads of a module's own keys; pf_db's keys are read and changed only
 * through the functions above, and any change of more than one key is a
 * script (pf_db_eval). */
struct redisReply;
struct redisReply *pf_db_command(pf_db *db, int argc, const char **argv, const size_t *lens);

/* Runs a Lua script of a module that owns keys of its own (pf_registry),
 * the way pf_db runs its own: EVALSHA, and EVAL when the server answers
 * NOSCRIPT; one script per change, so a crash never leaves half of one.
 * v holds nkeys key names then the arguments (n in all, at most 16); lens
 * NULL for NUL-terminated values. The reply (freeReplyObject), or NULL
 * with the reason in pf_db_error (unreachable, an error reply, too many
 * arguments). */
struct redisReply *pf_db_eval(pf_db *db, const char *script, int nkeys, int n, const char **v, const size_t *lens);

#endif

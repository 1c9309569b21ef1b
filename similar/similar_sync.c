/* similar_sync: the similarity index's Redis side (see similar.h), all
 * through lib/store: the batched scan (pf_db_scan.h) for the load and for
 * the samples the stream announces, the pf:vectors stream (pf_db_stream.h).
 *
 * Freshness: every script that stores a vector also appends its sha to the
 * pf:vectors stream in the same atomic step that adds it to pf:done. The
 * stream's last id is read BEFORE the load walks pf:done, so a vector
 * stored during the load is either seen by the walk, or after the recorded
 * id (or both: adding the same sha twice replaces the entry). After a Redis
 * error (and every 5 s) the stream is checked: if it went backwards (data
 * reset), is gone, or an entry newer than ours was deleted (trimmed before
 * we read it), everything is reloaded. */
#include "similar.h"
#include "pf_daemon.h"
#include "pf_clock.h"
#include "pf_db.h"
#include "pf_db_scan.h"
#include "pf_db_stream.h"
#include "pf_err.h"
#include "pf_hash.h"
#include "pf_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIM_DIM PF_DB_MAX_DIM
#define CHECK_EVERY_MS 5000 /* stream continuity check when all is well */

struct sim_sync {
  const pf_config *cfg;
  pf_db *db;
  char last_id[PF_DB_STREAM_ID]; /* stream id we have read up to ("0-0": none) */
  int trouble;        /* a Redis error since the last good exchange */
  int check;          /* verify the stream continues before reading it again */
  int64_t next_check; /* when to verify it anyway */
  volatile int *stop; /* set by the signal handler: a long load gives up */
};

int sim_sync_new(const pf_config *cfg, volatile int *stop, sim_sync **out) {
  sim_sync *s = calloc(1, sizeof *s);
  if (!s) return PF_ENOMEM;
  s->cfg = cfg;
  s->stop = stop;
  strcpy(s->last_id, "0-0");
  pf_db_opts o;
  pf_daemon_db_opts(cfg, &o);
  o.timeout_ms = 10000; /* a load's pages are large */
  if (pf_daemon_db_wait(&o, &s->db, stop) != PF_OK) { sim_sync_free(&s); return PF_EIO; }
  *out = s;
  return PF_OK;
}

void sim_sync_free(sim_sync **p) {
  if (!p || !*p) return;
  pf_db_free(&(*p)->db);
  free(*p);
  *p = NULL;
}

/* ---- adding what Redis holds ---- */

typedef struct {
  sim_sync *s;
  pf_simindex *ix;
  long long added, skipped, total;
  int rc;            /* PF_ENOMEM / PF_ELIMIT (index full), PF_EIO (asked to stop) */
  int each;          /* a line per sample (a small stream batch) */
  int64_t t0, next_log;
} add_ctx;

/* A record left out; why (NULL: not worth a line) is logged for every
 * announced sample, and for the first 10 of a load. */
static void skip_one(add_ctx *c, const char *sha, const char *why) {
  if (why && (c->each || c->skipped < 10)) {
    if (c->each) pf_warn("sample %s: announced but %s; skipped", sha, why);
    else pf_warn("sample %s: vector skipped: %s", sha, why);
  }
  c->skipped++;
}

/* pf_db_scan_fn: one record into the index. */
static int add_one(const pf_db_sample *x, int rc, void *arg) {
  add_ctx *c = arg;
  const char *sha = x->sha[0] ? x->sha : "?";
  if (rc == PF_ENOENT) {
    skip_one(c, sha, c->each ? "not in redis" : NULL); /* a load: removed while we walk */
  } else if (rc != PF_OK) {
    skip_one(c, sha, pf_db_error(c->s->db)); /* an unreadable vector: the reason names the sample */
  } else if (!x->has_vector) {
    skip_one(c, sha, c->each ? "has no readable vector" : NULL); /* done without a vector: harmless */
  } else if (x->dim != pf_simindex_dim(c->ix)) {
    skip_one(c, sha, c->each ? "has another dimension" : "wrong dimension");
  } else {
    char err[256];
    int exists = c->each && pf_simindex_find(c->ix, x->sha) >= 0;
    int a = pf_simindex_add(c->ix, x->sha, x->vec, x->dim, x->labels, x->split[0] ? x->split : NULL, err, sizeof err);
    if (a == PF_ENOMEM || a == PF_ELIMIT) {
      c->rc = a;
      return 1;
    }
    if (a != PF_OK) {
      if (c->each || c->skipped < 10) pf_warn("sample %s: vector skipped: %s", x->sha, err);
      c->skipped++;
    } else {
      c->added++;
      if (c->each)
        pf_info("sample %s %s (%zu vectors)", x->sha, exists ? "vector replaced" : "added", pf_simindex_count(c->ix));
    }
  }
  if (c->t0 && pf_clock_ms() >= c->next_log) {
    double sec = (double)(pf_clock_ms() - c->t0) / 1000;
    pf_info("loaded %lld of %lld vectors (%.0f/s)", c->added, c->total, (double)c->added / sec);
    c->next_log = pf_clock_ms() + 2000;
  }
  if (*c->s->stop) { /* asked to stop: the caller exits */
    c->rc = PF_EIO;
    return 1;
  }
  return 0;
}

/* ---- the initial load ---- */

int sim_sync_load(sim_sync *s, pf_simindex **out) {
  *out = NULL;
  char tail[PF_DB_STREAM_ID];
  if (pf_db_vectors_tail(s->db, tail) != PF_OK) return PF_EIO;
  pf_simindex *ix = NULL;
  char err[256];
  if (pf_simindex_new(SIM_DIM, &ix, err, sizeof err) != PF_OK) return PF_ENOMEM;
  pf_db_counts cn;
  add_ctx c = {.s = s, .ix = ix, .rc = PF_OK};
  if (pf_db_counts_get(s->db, &cn) == PF_OK) c.total = cn.done;
  pf_info("loading the stored vectors: %lld samples done, stream position %s", c.total, tail);
  c.t0 = pf_clock_ms();
  c.next_log = c.t0 + 2000;
  int rc = pf_db_scan(s->db, PF_DB_SET_DONE, PF_DB_SCAN_VECTORS, add_one, &c);
  if (rc == PF_EIO) pf_warn("redis went away during the load: %s", pf_db_error(s->db));
  if (rc == PF_OK) rc = c.rc;
  if (rc != PF_OK) {
    pf_simindex_free(&ix);
    return rc == PF_EINVAL ? PF_EIO : rc;
  }
  double sec = (double)(pf_clock_ms() - c.t0) / 1000;
  pf_info("loaded %zu vectors (%lld skipped) in %.2f s; %.0f bytes per stored vector in memory",
          pf_simindex_count(ix), c.skipped, sec, pf_simindex_bytes_per_vector(ix));
  strcpy(s->last_id, tail);
  s->check = 0;
  *out = ix;
  return PF_OK;
}

/* ---- following the stream ---- */

static void trouble(sim_sync *s) {
  if (!s->trouble) pf_error("redis unavailable: %s (will keep retrying)", pf_db_error(s->db));
  s->trouble = 1;
  s->check = 1;
}

#define FOLLOW_ONE_BY_ONE 8      /* smaller batches: one log line per sample */
#define FOLLOW_BUDGET_MS 100     /* stream reading per poll, so queries keep being answered */

/* One read of the stream from s->last_id and the samples it announces,
 * fetched in one batch. Returns how many entries it read (>= 0) or
 * PF_EIO; *added counts the vectors added. */
static int follow_batch(sim_sync *s, pf_simindex *ix, int *added) {
  static char shas[PF_DB_STREAM_READ][PF_SHA256_HEX_LEN + 1];
  char last[PF_DB_STREAM_ID];
  int n = 0, entries = 0;
  if (pf_db_vectors_read(s->db, s->last_id, PF_DB_STREAM_READ, shas, &n, last, &entries) != PF_OK) return PF_EIO;
  if (s->trouble) pf_info("redis reachable again");
  s->trouble = 0;
  add_ctx c = {.s = s, .ix = ix, .rc = PF_OK, .each = n <= FOLLOW_ONE_BY_ONE};
  int rc = pf_db_fetch(s->db, (const char (*)[PF_SHA256_HEX_LEN + 1])shas, (size_t)n, PF_DB_SCAN_VECTORS, add_one, &c);
  *added += (int)c.added;
  if (rc != PF_OK) return PF_EIO; /* the batch is read again next time (adding twice replaces) */
  if (!c.each)
    pf_info("added %lld vectors from the stream (%lld skipped; %zu in all)", c.added, c.skipped,
            pf_simindex_count(ix));
  if (last[0]) strcpy(s->last_id, last);
  return entries;
}

int sim_sync_poll(sim_sync *s, pf_simindex **ix) {
  /* also now and then without an error: a FLUSHALL or a restore from an
   * older dump changes the stream without breaking the connection */
  if (pf_clock_ms() >= s->next_check) {
    s->check = 1;
    s->next_check = pf_clock_ms() + CHECK_EVERY_MS;
  }
  if (s->check) {
    char why[256];
    int c = pf_db_vectors_continues(s->db, s->last_id, why, sizeof why);
    if (c == PF_EIO) { trouble(s); return PF_EIO; }
    if (c == 0) {
      pf_warn("%s; reloading", why);
      pf_simindex *fresh = NULL;
      int rc = sim_sync_load(s, &fresh);
      if (rc != PF_OK) { trouble(s); return rc; }
      pf_simindex_free(ix);
      *ix = fresh;
    }
    s->check = 0;
  }
  int added = 0;
  int64_t until = pf_clock_ms() + FOLLOW_BUDGET_MS;
  for (;;) {
    int got = follow_batch(s, *ix, &added);
    if (got == PF_EIO) { trouble(s); return PF_EIO; }
    if (got < PF_DB_STREAM_READ || pf_clock_ms() >= until) break; /* caught up, or queries are waiting */
  }
  return added;
}

int sim_sync_catch_up(sim_sync *s, pf_simindex **ix, int budget_ms) {
  char tail[PF_DB_STREAM_ID];
  if (pf_db_vectors_tail(s->db, tail) != PF_OK) { trouble(s); return PF_EIO; }
  int64_t until = pf_clock_ms() + budget_ms;
  while (pf_db_stream_id_cmp(tail, s->last_id) > 0) {
    if (pf_clock_ms() >= until) return PF_ETIMEOUT;
    int added = 0;
    int got = follow_batch(s, *ix, &added);
    if (got == PF_EIO) { trouble(s); return PF_EIO; }
    if (got == 0 && pf_db_stream_id_cmp(tail, s->last_id) > 0) {
      /* the stream no longer reaches tail from our id (trimmed or reset):
       * the periodic check reloads; until then we are behind */
      s->check = 1;
      return PF_ETIMEOUT;
    }
  }
  return PF_OK;
}

/* similar_sync: the similarity index's Redis side (see similar.h).
 *
 * Freshness: every script that stores a vector also XADDs its sha to the
 * pf:vectors stream (lib/pf_db.c), in the same atomic step that adds it to
 * pf:done. The stream's last id is read BEFORE the load walks pf:done, so a
 * vector stored during the load is either seen by the walk, or after the
 * recorded id (or both: adding the same sha twice replaces the entry).
 * After a Redis error (and every 5 s) the stream is checked with XINFO: if its last
 * generated id went backwards (data reset) or an entry newer than ours was
 * deleted (trimmed before we read it), everything is reloaded. */
#include "similar.h"
#include "pf_daemon.h"
#include "pf_clock.h"
#include "pf_db.h"
#include "pf_err.h"
#include "pf_hash.h"
#include "pf_log.h"
#include "pf_vecblob.h"

#include <hiredis/hiredis.h>

#include <inttypes.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LOAD_BATCH 1000    /* samples per pipelined round trip */
#define FOLLOW_COUNT "1000" /* stream entries per XREAD */
#define SIM_DIM PF_DB_MAX_DIM
#define CHECK_EVERY_MS 5000 /* stream continuity check when all is well */

struct sim_sync {
  const pf_config *cfg;
  pf_db *db;
  char last_id[48];   /* stream id we have read up to ("0-0": none) */
  int trouble;        /* a Redis error since the last good exchange */
  int check;          /* verify the stream continues before reading it again */
  int64_t next_check; /* when to verify it anyway */
  pf_db_sample *sample;
  redisContext *bulk; /* pipelined reads of a large stream batch (NULL: not connected) */
  volatile int *stop; /* set by the signal handler: a long load gives up */
};

int sim_sync_new(const pf_config *cfg, volatile int *stop, sim_sync **out) {
  sim_sync *s = calloc(1, sizeof *s);
  if (!s || !(s->sample = malloc(sizeof *s->sample))) {
    free(s);
    return PF_ENOMEM;
  }
  s->cfg = cfg;
  s->stop = stop;
  strcpy(s->last_id, "0-0");
  pf_db_opts o;
  pf_daemon_db_opts(cfg, &o);
  o.timeout_ms = 10000; /* a load's SSCAN pages and pipelines are large */
  if (pf_daemon_db_wait(&o, &s->db, stop) != PF_OK) { sim_sync_free(&s); return PF_EIO; }
  *out = s;
  return PF_OK;
}

void sim_sync_free(sim_sync **p) {
  if (!p || !*p) return;
  pf_db_free(&(*p)->db);
  if ((*p)->bulk) redisFree((*p)->bulk);
  free((*p)->sample);
  free(*p);
  *p = NULL;
}

/* ---- stream ids ---- */

static int parse_id(const char *s, uint64_t *ms, uint64_t *seq) {
  char *end;
  *ms = strtoull(s, &end, 10);
  if (end == s || *end != '-') return 0;
  const char *q = end + 1;
  *seq = strtoull(q, &end, 10);
  return end != q && *end == '\0';
}

/* -1, 0, 1 as a < b, a == b, a > b; malformed ids compare equal */
static int id_cmp(const char *a, const char *b) {
  uint64_t am, as, bm, bs;
  if (!parse_id(a, &am, &as) || !parse_id(b, &bm, &bs)) return 0;
  if (am != bm) return am < bm ? -1 : 1;
  return as < bs ? -1 : as > bs ? 1 : 0;
}

static int copy_id(char *dst, const redisReply *r) {
  if (!r || r->type != REDIS_REPLY_STRING || r->len == 0 || r->len >= 48) return 0;
  memcpy(dst, r->str, r->len);
  dst[r->len] = '\0';
  uint64_t a, b;
  return parse_id(dst, &a, &b);
}

/* The stream's newest id into id ("0-0" when it does not exist). */
static int stream_tail(sim_sync *s, char *id) {
  const char *argv[] = {"XREVRANGE", PF_DB_VECTORS_KEY, "+", "-", "COUNT", "1"};
  redisReply *r = pf_db_command(s->db, 6, argv, NULL);
  if (!r) return PF_EIO;
  int rc = PF_OK;
  strcpy(id, "0-0");
  if (r->type == REDIS_REPLY_ARRAY && r->elements == 1 && r->element[0]->type == REDIS_REPLY_ARRAY &&
      r->element[0]->elements >= 1) {
    if (!copy_id(id, r->element[0]->element[0])) rc = PF_EIO;
  } else if (r->type != REDIS_REPLY_ARRAY) rc = PF_EIO;
  freeReplyObject(r);
  return rc;
}

/* 1 when the stream still continues from s->last_id, 0 when it does not
 * (reset or trimmed past it), PF_EIO when Redis does not answer. */
static int stream_continues(sim_sync *s) {
  const char *argv[] = {"XINFO", "STREAM", PF_DB_VECTORS_KEY};
  redisReply *r = pf_db_command(s->db, 3, argv, NULL);
  if (!r) {
    /* "no such key" is an error reply: the stream is gone, or never was */
    if (strstr(pf_db_error(s->db), "no such key")) {
      if (strcmp(s->last_id, "0-0") == 0) return 1;
      pf_warn("the pf:vectors stream is gone (redis was flushed or lost its data); reloading");
      return 0;
    }
    return PF_EIO;
  }
  char last[48] = "0-0", maxdel[48] = "0-0";
  if (r->type == REDIS_REPLY_ARRAY)
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
      const redisReply *k = r->element[i];
      if (k->type != REDIS_REPLY_STRING) continue;
      if (strcmp(k->str, "last-generated-id") == 0) copy_id(last, r->element[i + 1]);
      if (strcmp(k->str, "max-deleted-entry-id") == 0) copy_id(maxdel, r->element[i + 1]);
    }
  freeReplyObject(r);
  if (id_cmp(last, s->last_id) < 0) {
    pf_warn("the pf:vectors stream restarted (its last id %s is before ours, %s): redis lost data; reloading", last,
            s->last_id);
    return 0;
  }
  if (id_cmp(maxdel, s->last_id) > 0) {
    pf_warn("the pf:vectors stream was trimmed past our position (%s deleted, we read up to %s); reloading", maxdel,
            s->last_id);
    return 0;
  }
  return 1;
}

/* ---- the initial load ---- */

/* A second connection for pipelined reads, with the same parameters. */
static redisContext *bulk_connect(sim_sync *s) {
  redisContext *c = pf_db_dial(s->db, 10000); /* pf_db's own connect: AUTH, SELECT, fleet check */
  if (!c) pf_warn("the load connection: %s", pf_db_error(s->db));
  return c;
}

static int by_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Sorted labels, comma-separated, as many whole labels as fit (as pf_db_get). */
static void join_labels(const redisReply *set, char *out, size_t cap) {
  out[0] = '\0';
  if (!set || set->type != REDIS_REPLY_ARRAY || set->elements == 0) return;
  size_t n = set->elements > 1000 ? 1000 : set->elements;
  char **v = malloc(n * sizeof *v);
  if (!v) return;
  size_t m = 0;
  for (size_t i = 0; i < n; i++)
    if (set->element[i]->type == REDIS_REPLY_STRING) v[m++] = set->element[i]->str;
  qsort(v, m, sizeof *v, by_str);
  size_t len = 0;
  for (size_t i = 0; i < m && i < 32; i++) {
    size_t k = strlen(v[i]);
    if (len + (len ? 1 : 0) + k + 1 > cap) break;
    if (len) out[len++] = ',';
    memcpy(out + len, v[i], k + 1);
    len += k;
  }
  free(v);
}

typedef struct {
  long long added, skipped;
} load_count;

/* One pipelined batch: HMGET vec split + SMEMBERS labels for each sha. */
static int load_batch(redisContext *c, pf_simindex *ix, char shas[][PF_SHA256_HEX_LEN + 1], int n, load_count *cnt) {
  for (int i = 0; i < n; i++) {
    redisAppendCommand(c, "HMGET pf:s:%s vec split", shas[i]);
    redisAppendCommand(c, "SMEMBERS pf:s:%s:labels", shas[i]);
  }
  static double vec[PF_VECBLOB_MAX_DIM];
  char labels[PF_SIMINDEX_MAX_LABELS], why[256];
  int rc = PF_OK;
  for (int i = 0; i < n; i++) {
    redisReply *h = NULL, *l = NULL;
    if (redisGetReply(c, (void **)&h) != REDIS_OK || redisGetReply(c, (void **)&l) != REDIS_OK) {
      if (h) freeReplyObject(h);
      pf_warn("redis went away during the load: %s", c->errstr);
      return PF_EIO;
    }
    uint32_t dim = 0;
    uint16_t schema;
    const redisReply *v = h->type == REDIS_REPLY_ARRAY && h->elements == 2 ? h->element[0] : NULL;
    const redisReply *sp = v ? h->element[1] : NULL;
    if (!v || v->type != REDIS_REPLY_STRING) {
      cnt->skipped++; /* done without a vector: not expected, harmless */
    } else if (pf_vecblob_decode((const uint8_t *)v->str, v->len, vec, PF_VECBLOB_MAX_DIM, &dim, &schema, why,
                                 sizeof why) != PF_OK ||
               dim != pf_simindex_dim(ix)) {
      if (cnt->skipped++ < 10)
        pf_warn("sample %s: vector skipped: %s", shas[i], dim && dim != pf_simindex_dim(ix) ? "wrong dimension" : why);
    } else {
      join_labels(l, labels, sizeof labels);
      char err[256];
      int a = pf_simindex_add(ix, shas[i], vec, dim, labels, sp && sp->type == REDIS_REPLY_STRING ? sp->str : NULL,
                              err, sizeof err);
      if (a == PF_OK) cnt->added++;
      else if (a == PF_ENOMEM || a == PF_ELIMIT) rc = a;
      else if (cnt->skipped++ < 10) pf_warn("sample %s: vector skipped: %s", shas[i], err);
    }
    freeReplyObject(h);
    freeReplyObject(l);
  }
  return rc;
}

int sim_sync_load(sim_sync *s, pf_simindex **out) {
  *out = NULL;
  char tail[48];
  if (stream_tail(s, tail) != PF_OK) return PF_EIO;
  redisContext *c = bulk_connect(s);
  if (!c) return PF_EIO;
  pf_simindex *ix = NULL;
  char err[256];
  if (pf_simindex_new(SIM_DIM, &ix, err, sizeof err) != PF_OK) { redisFree(c); return PF_ENOMEM; }
  long long total = 0;
  redisReply *r = redisCommand(c, "SCARD pf:done");
  if (r && r->type == REDIS_REPLY_INTEGER) total = r->integer;
  if (r) freeReplyObject(r);
  pf_info("loading the stored vectors: %lld samples done, stream position %s", total, tail);
  int64_t t0 = pf_clock_ms(), next_log = t0 + 2000;
  static char shas[LOAD_BATCH * 2][PF_SHA256_HEX_LEN + 1];
  char cursor[32] = "0";
  load_count cnt = {0, 0};
  int rc = PF_OK;
  do {
    r = redisCommand(c, "SSCAN pf:done %s COUNT %d", cursor, LOAD_BATCH);
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 || r->element[0]->type != REDIS_REPLY_STRING ||
        r->element[0]->len >= sizeof cursor || r->element[1]->type != REDIS_REPLY_ARRAY) {
      pf_warn("redis: SSCAN failed during the load: %s", r && r->type == REDIS_REPLY_ERROR ? r->str : c->errstr);
      if (r) freeReplyObject(r);
      rc = PF_EIO;
      break;
    }
    memcpy(cursor, r->element[0]->str, r->element[0]->len + 1);
    int n = 0;
    const redisReply *items = r->element[1];
    for (size_t i = 0; i < items->elements && n < LOAD_BATCH * 2; i++) {
      const redisReply *e = items->element[i];
      if (e->type != REDIS_REPLY_STRING || e->len != PF_SHA256_HEX_LEN) continue;
      memcpy(shas[n], e->str, PF_SHA256_HEX_LEN + 1);
      if (pf_is_sha256_hex(shas[n])) n++;
    }
    freeReplyObject(r);
    rc = load_batch(c, ix, shas, n, &cnt);
    if (pf_clock_ms() >= next_log) {
      double sec = (double)(pf_clock_ms() - t0) / 1000;
      pf_info("loaded %lld of %lld vectors (%.0f/s)", cnt.added, total, (double)cnt.added / sec);
      next_log = pf_clock_ms() + 2000;
    }
    if (*s->stop) rc = PF_EIO; /* asked to stop: the caller exits */
  } while (rc == PF_OK && strcmp(cursor, "0") != 0);
  redisFree(c);
  if (rc != PF_OK) {
    pf_simindex_free(&ix);
    return rc;
  }
  double sec = (double)(pf_clock_ms() - t0) / 1000;
  pf_info("loaded %zu vectors (%lld skipped) in %.2f s; %.0f bytes per stored vector in memory",
          pf_simindex_count(ix), cnt.skipped, sec, pf_simindex_bytes_per_vector(ix));
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

/* Adds the sample sha from Redis. 1 added, 0 skipped, PF_EIO. */
static int follow_one(sim_sync *s, pf_simindex *ix, const char *sha) {
  pf_db_sample *x = s->sample;
  int g = pf_db_get(s->db, sha, x);
  if (g == PF_EIO) return PF_EIO;
  if (g != PF_OK || !x->has_vector || x->dim != pf_simindex_dim(ix)) {
    pf_warn("sample %s: announced but %s; skipped", sha,
            g == PF_ENOENT ? "not in redis" : !x->has_vector ? "has no readable vector" : "has another dimension");
    return 0;
  }
  char err[256];
  int exists = pf_simindex_find(ix, sha) >= 0;
  if (pf_simindex_add(ix, sha, x->vec, x->dim, x->labels, x->split, err, sizeof err) != PF_OK) {
    pf_warn("sample %s: vector skipped: %s", sha, err);
    return 0;
  }
  pf_info("sample %s %s (%zu vectors)", sha, exists ? "vector replaced" : "added", pf_simindex_count(ix));
  return 1;
}

#define FOLLOW_ONE_BY_ONE 8      /* smaller batches: one read (and one log line) per sample */
#define FOLLOW_BUDGET_MS 100     /* stream reading per poll, so queries keep being answered */

/* Adds a batch of announced samples with pipelined reads. PF_OK or PF_EIO. */
static int follow_many(sim_sync *s, pf_simindex *ix, char shas[][PF_SHA256_HEX_LEN + 1], int n, int *added) {
  if (!s->bulk && !(s->bulk = bulk_connect(s))) return PF_EIO;
  load_count cnt = {0, 0};
  int rc = load_batch(s->bulk, ix, shas, n, &cnt);
  if (rc == PF_EIO) {
    redisFree(s->bulk);
    s->bulk = NULL;
    return PF_EIO;
  }
  *added += (int)cnt.added;
  pf_info("added %lld vectors from the stream (%lld skipped; %zu in all)", cnt.added, cnt.skipped,
          pf_simindex_count(ix));
  return PF_OK;
}

/* One XREAD from s->last_id and the samples it announces. Returns how
 * many entries it read (>= 0) or PF_EIO; *added counts the vectors added. */
static int follow_batch(sim_sync *s, pf_simindex *ix, int *added) {
  const char *argv[] = {"XREAD", "COUNT", FOLLOW_COUNT, "STREAMS", PF_DB_VECTORS_KEY, s->last_id};
  redisReply *r = pf_db_command(s->db, 6, argv, NULL);
  if (!r) return PF_EIO;
  if (s->trouble) pf_info("redis reachable again");
  s->trouble = 0;
  static char shas[1000][PF_SHA256_HEX_LEN + 1];
  char last[48] = "";
  int n = 0, entries_read = 0, rc = PF_OK;
  /* nil: nothing new; else [[key, [[id, [field, value, ...]], ...]]] */
  if (r->type == REDIS_REPLY_ARRAY && r->elements == 1 && r->element[0]->type == REDIS_REPLY_ARRAY &&
      r->element[0]->elements == 2 && r->element[0]->element[1]->type == REDIS_REPLY_ARRAY) {
    const redisReply *entries = r->element[0]->element[1];
    for (size_t i = 0; i < entries->elements && n < 1000; i++) {
      const redisReply *e = entries->element[i];
      char id[48];
      if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 || !copy_id(id, e->element[0])) continue;
      const redisReply *f = e->element[1];
      for (size_t k = 0; f->type == REDIS_REPLY_ARRAY && k + 1 < f->elements; k += 2)
        if (f->element[k]->type == REDIS_REPLY_STRING && strcmp(f->element[k]->str, "sha") == 0 &&
            f->element[k + 1]->type == REDIS_REPLY_STRING && pf_is_sha256_hex(f->element[k + 1]->str)) {
          memcpy(shas[n++], f->element[k + 1]->str, PF_SHA256_HEX_LEN + 1);
          break;
        }
      strcpy(last, id);
      entries_read++;
    }
  }
  freeReplyObject(r);
  if (n <= FOLLOW_ONE_BY_ONE) {
    for (int i = 0; i < n && rc == PF_OK; i++) {
      int a = follow_one(s, ix, shas[i]);
      if (a == PF_EIO) rc = PF_EIO;
      else *added += a;
    }
  } else {
    rc = follow_many(s, ix, shas, n, added);
  }
  if (rc != PF_OK) return PF_EIO; /* the batch is read again next time (adding twice replaces) */
  if (last[0]) strcpy(s->last_id, last);
  return entries_read;
}

int sim_sync_poll(sim_sync *s, pf_simindex **ix) {
  /* also now and then without an error: a FLUSHALL or a restore from an
   * older dump changes the stream without breaking the connection */
  if (pf_clock_ms() >= s->next_check) {
    s->check = 1;
    s->next_check = pf_clock_ms() + CHECK_EVERY_MS;
  }
  if (s->check) {
    int c = stream_continues(s);
    if (c == PF_EIO) { trouble(s); return PF_EIO; }
    if (c == 0) {
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
    if (got < atoi(FOLLOW_COUNT) || pf_clock_ms() >= until) break; /* caught up, or queries are waiting */
  }
  return added;
}

int sim_sync_catch_up(sim_sync *s, pf_simindex **ix, int budget_ms) {
  char tail[48];
  if (stream_tail(s, tail) != PF_OK) { trouble(s); return PF_EIO; }
  int64_t until = pf_clock_ms() + budget_ms;
  while (id_cmp(tail, s->last_id) > 0) {
    if (pf_clock_ms() >= until) return PF_ETIMEOUT;
    int added = 0;
    int got = follow_batch(s, *ix, &added);
    if (got == PF_EIO) { trouble(s); return PF_EIO; }
    if (got == 0 && id_cmp(tail, s->last_id) > 0) {
      /* the stream no longer reaches tail from our id (trimmed or reset):
       * the periodic check reloads; until then we are behind */
      s->check = 1;
      return PF_ETIMEOUT;
    }
  }
  return PF_OK;
}

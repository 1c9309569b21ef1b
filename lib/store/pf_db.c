/* pf_db: pefleet's Redis layout and every command on it (see pf_db.h).
 *
 * Every change that touches more than one key is one Lua script, sent with
 * EVALSHA (the SHA-1 is computed here, at connect) and again with EVAL when
 * the server answers NOSCRIPT (after a restart, or SCRIPT FLUSH). Scripts
 * name the keys they know in advance in KEYS; the claim, recover and get
 * scripts also read pf:s:<sha> records of hashes they find, so this layout
 * is for a standalone Redis, not a cluster.
 *
 * Transport: one blocking hiredis context. A call that gets no reply (lost
 * connection, timeout) drops the context, reconnects once and sends the
 * command once more; if that fails too, it returns PF_EIO with the reason
 * in pf_db_error(). SIGPIPE is blocked around every write so a server that
 * went away cannot kill the caller. Nothing read from Redis is trusted:
 * reply shapes are checked, counts capped, blobs decoded with pf_vecblob. */
#include "pf_db.h"
#include "pf_db_int.h"
#include "pf_err.h"
#include "pf_split.h"
#include "pf_vecblob.h"

#include <hiredis/hiredis.h>
#include <openssl/evp.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#define DB_MAX_LABELS_READ PF__DB_MAX_LABELS_READ
#define DB_MAX_LABELS_KEPT 64   /* distinct labels pf:s:<sha>:labels may hold */
#define DB_MAX_CLAIM 1000       /* hashes moved by one claim */
#define DB_MAX_ARGS 16          /* keys + arguments of one script call */
#define DB_SCAN_COUNT "1000"

/* ---- scripts ---- */

enum { S_INGEST, S_CLAIM, S_REQUEUE, S_RECOVER, S_STORE, S_FAIL, S_COUNTS, S_GET, S_UNFAIL, S_SEEN_FILL, S_COUNT };

static const char *const scripts[S_COUNT] = {
  /* INGEST  KEYS: record, labels, pf:samples, pf:queue, pf:conflicts
   *         ARGV: sha, label, size, now (s), split, max labels kept
   * -> {1, "queued"} new, {0, status, first label} known */
  [S_INGEST] =
    "if redis.call('EXISTS', KEYS[1]) == 0 then\n"
    "  redis.call('HSET', KEYS[1], 'label', ARGV[2], 'size', ARGV[3], 'first_seen', ARGV[4],\n"
    "             'status', 'queued', 'split', ARGV[5], 'attempts', '0')\n"
    "  redis.call('DEL', KEYS[2])\n"
    "  redis.call('SADD', KEYS[2], ARGV[2])\n"
    "  redis.call('SADD', KEYS[3], ARGV[1])\n"
    "  redis.call('LPUSH', KEYS[4], ARGV[1])\n"
    "  redis.call('ZADD', '" PF_DB_SEEN_KEY "', ARGV[4], ARGV[1])\n"
    "  return {1, 'queued'}\n"
    "end\n"
    "if redis.call('SISMEMBER', KEYS[2], ARGV[2]) == 0\n"
    "   and redis.call('SCARD', KEYS[2]) < tonumber(ARGV[6]) then\n"
    "  redis.call('SADD', KEYS[2], ARGV[2])\n"
    "end\n"
    "if redis.call('HGET', KEYS[1], 'label') ~= ARGV[2] then redis.call('SADD', KEYS[5], ARGV[1]) end\n"
    "return {0, redis.call('HGET', KEYS[1], 'status') or '', redis.call('HGET', KEYS[1], 'label') or ''}\n",

  /* CLAIM  KEYS: pf:queue, pf:inflight  ARGV: max, now (ms)
   * Pops from the tail; drops entries that are malformed, not queued or
   * already in flight (so a hash is never handed out twice). */
  [S_CLAIM] =
    "local out = {}\n"
    "local want = tonumber(ARGV[1])\n"
    "local budget = want + 1000\n"
    "while #out < want and budget > 0 do\n"
    "  budget = budget - 1\n"
    "  local sha = redis.call('RPOP', KEYS[1])\n"
    "  if not sha then break end\n"
    "  if #sha == 64 and not string.find(sha, '[^0-9a-f]')\n"
    "     and redis.call('HGET', 'pf:s:' .. sha, 'status') == 'queued'\n"
    "     and not redis.call('ZSCORE', KEYS[2], sha) then\n"
    "    redis.call('ZADD', KEYS[2], ARGV[2], sha)\n"
    "    out[#out + 1] = sha\n"
    "  end\n"
    "end\n"
    "return out\n",

  /* REQUEUE  KEYS: record, pf:queue, pf:inflight, pf:failed
   *          ARGV: sha, max attempts, reason, count (1: the delivery used
   *          up an attempt, 0: it did not)  -> 0 nothing, 1 requeued, 2 failed */
  [S_REQUEUE] =
    "if not redis.call('ZSCORE', KEYS[3], ARGV[1]) then return 0 end\n"
    "redis.call('ZREM', KEYS[3], ARGV[1])\n"
    "if redis.call('HGET', KEYS[1], 'status') ~= 'queued' then return 0 end\n"
    "if ARGV[4] == '0' then\n"
    "  redis.call('LPUSH', KEYS[2], ARGV[1])\n"
    "  return 1\n"
    "end\n"
    "local a = redis.call('HINCRBY', KEYS[1], 'attempts', 1)\n"
    "if a >= tonumber(ARGV[2]) then\n"
    "  redis.call('HSET', KEYS[1], 'status', 'failed', 'reason', ARGV[3])\n"
    "  redis.call('SADD', KEYS[4], ARGV[1])\n"
    "  return 2\n"
    "end\n"
    "redis.call('LPUSH', KEYS[2], ARGV[1])\n"
    "return 1\n",

  /* RECOVER  KEYS: pf:inflight, pf:queue -> how many went back.
   * Newest claim pushed first, so the oldest claim is the next RPOP. */
  [S_RECOVER] =
    "local shas = redis.call('ZREVRANGE', KEYS[1], 0, -1)\n"
    "local moved = 0\n"
    "for i = 1, #shas do\n"
    "  local sha = shas[i]\n"
    "  redis.call('ZREM', KEYS[1], sha)\n"
    "  if redis.call('HGET', 'pf:s:' .. sha, 'status') == 'queued' then\n"
    "    redis.call('RPUSH', KEYS[2], sha)\n"
    "    moved = moved + 1\n"
    "  end\n"
    "end\n"
    "return moved\n",

  /* STORE  KEYS: record, pf:done, pf:split:<name>, pf:failed, pf:inflight, pf:vectors
   *        ARGV: sha, blob, schema, split  -> 1 stored, 0 unknown sample
   * pf:vectors is a stream of stored vectors' hashes (the similarity
   * service follows it), trimmed to about PF_DB_VECTORS_MAXLEN entries */
  [S_STORE] =
    "if redis.call('EXISTS', KEYS[1]) == 0 then\n"
    "  redis.call('ZREM', KEYS[5], ARGV[1])\n"
    "  return 0\n"
    "end\n"
    "redis.call('HSET', KEYS[1], 'status', 'done', 'vec', ARGV[2], 'schema', ARGV[3], 'split', ARGV[4])\n"
    "redis.call('HDEL', KEYS[1], 'reason')\n"
    "redis.call('SADD', KEYS[2], ARGV[1])\n"
    "redis.call('SADD', KEYS[3], ARGV[1])\n"
    "redis.call('SREM', KEYS[4], ARGV[1])\n"
    "redis.call('ZREM', KEYS[5], ARGV[1])\n"
    "redis.call('XADD', KEYS[6], 'MAXLEN', '~', '" PF_DB_VECTORS_MAXLEN "', '*', 'sha', ARGV[1])\n"
    "return 1\n",

  /* FAIL  KEYS: record, pf:failed, pf:inflight  ARGV: sha, reason
   * -> 1 failed, 0 already done (kept), -1 unknown sample */
  [S_FAIL] =
    "redis.call('ZREM', KEYS[3], ARGV[1])\n"
    "if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end\n"
    "if redis.call('HGET', KEYS[1], 'status') == 'done' then return 0 end\n"
    "redis.call('HSET', KEYS[1], 'status', 'failed', 'reason', ARGV[2])\n"
    "redis.call('SADD', KEYS[2], ARGV[1])\n"
    "return 1\n",

  /* UNFAIL  KEYS: record, pf:failed, pf:queue, pf:inflight  ARGV: sha
   * -> 1 queued again (attempts 0, reason gone), 0 not failed, -1 unknown */
  [S_UNFAIL] =
    "if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end\n"
    "if redis.call('HGET', KEYS[1], 'status') ~= 'failed' then return 0 end\n"
    "redis.call('HSET', KEYS[1], 'status', 'queued', 'attempts', '0')\n"
    "redis.call('HDEL', KEYS[1], 'reason')\n"
    "redis.call('SREM', KEYS[2], ARGV[1])\n"
    "redis.call('ZREM', KEYS[4], ARGV[1])\n"
    "redis.call('LPUSH', KEYS[3], ARGV[1])\n"
    "return 1\n",

  /* SEEN_FILL  KEYS: pf:seen  ARGV: now (s), then sample hashes
   * Samples missing from pf:seen (stored before it existed) join it with
   * their record's first_seen, or now when the record has none (which is
   * then written). -> how many joined */
  [S_SEEN_FILL] =
    "local added = 0\n"
    "for i = 2, #ARGV do\n"
    "  local sha = ARGV[i]\n"
    "  if #sha == 64 and not string.find(sha, '[^0-9a-f]') and not redis.call('ZSCORE', KEYS[1], sha)\n"
    "     and redis.call('EXISTS', 'pf:s:' .. sha) == 1 then\n"
    "    local fs = tonumber(redis.call('HGET', 'pf:s:' .. sha, 'first_seen') or '')\n"
    "    if not fs or fs <= 0 then\n"
    "      fs = tonumber(ARGV[1])\n"
    "      redis.call('HSET', 'pf:s:' .. sha, 'first_seen', ARGV[1])\n"
    "    end\n"
    "    redis.call('ZADD', KEYS[1], fs, sha)\n"
    "    added = added + 1\n"
    "  end\n"
    "end\n"
    "return added\n",

  /* COUNTS  KEYS: queue, inflight, done, failed, samples, conflicts */
  [S_COUNTS] =
    "return {redis.call('LLEN', KEYS[1]), redis.call('ZCARD', KEYS[2]), redis.call('SCARD', KEYS[3]),\n"
    "        redis.call('SCARD', KEYS[4]), redis.call('SCARD', KEYS[5]), redis.call('SCARD', KEYS[6])}\n",

  /* GET  KEYS: record, labels  ARGV: max labels
   * -> nil when unknown, else {HMGET of the fields (order of pf__db_fields),
   *    first labels sorted, label count}; only named fields are read, so
   *    extra fields in the record cost nothing */
  [S_GET] =
    "if redis.call('EXISTS', KEYS[1]) == 0 then return false end\n"
    "local h = redis.call('HMGET', KEYS[1], 'label', 'size', 'first_seen', 'status', 'reason',\n"
    "                     'schema', 'split', 'attempts', 'vec')\n"
    "local n = redis.call('SCARD', KEYS[2])\n"
    "local l = {}\n"
    "if n <= 1000 then\n"
    "  local all = redis.call('SMEMBERS', KEYS[2])\n"
    "  table.sort(all)\n"
    "  for i = 1, math.min(#all, tonumber(ARGV[1])) do l[i] = all[i] end\n"
    "end\n"
    "return {h, l, n}\n",
};

/* ---- the connection ---- */

_Static_assert(S_COUNT <= PF__DB_NSCRIPTS, "the script table outgrew struct pf_db");

void pf__db_err(pf_db *db, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(db->err, sizeof db->err, fmt, ap);
  va_end(ap);
  /* text from the server or the resolver: keep it on one line */
  for (char *p = db->err; *p; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = ' ';
}

/* Why a context has no reply, in words. */
const char *pf__db_reason(const pf_db *db, const redisContext *c, char *buf, size_t n) {
  if (!c) return "out of memory";
  if (c->err == REDIS_ERR_EOF) return "connection closed by the server";
  if (c->err == REDIS_ERR_IO &&
      (strcmp(c->errstr, strerror(EAGAIN)) == 0 || strcmp(c->errstr, strerror(EWOULDBLOCK)) == 0)) {
    snprintf(buf, n, "no answer within %d ms", db->timeout_ms);
    return buf;
  }
  return c->errstr[0] ? c->errstr : "unknown error";
}

void pf__db_guard_on(pf__db_guard *g) {
  sigset_t s, pend;
  sigemptyset(&s);
  sigaddset(&s, SIGPIPE);
  g->was_pending = sigpending(&pend) == 0 && sigismember(&pend, SIGPIPE) == 1;
  pthread_sigmask(SIG_BLOCK, &s, &g->old);
}

void pf__db_guard_off(pf__db_guard *g) {
  sigset_t s, pend;
  sigemptyset(&s);
  sigaddset(&s, SIGPIPE);
  if (!g->was_pending && sigpending(&pend) == 0 && sigismember(&pend, SIGPIPE) == 1) {
    struct timespec zero = {0, 0};
    while (sigtimedwait(&s, NULL, &zero) < 0 && errno == EINTR) {}
  }
  pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

void pf__db_close(pf_db *db) {
  if (db->c) redisFree(db->c);
  db->c = NULL;
}

/* One setup command (AUTH, SELECT) on a fresh context. */
static int setup_cmd(pf_db *db, redisContext *c, int argc, const char **argv, const char *what) {
  redisReply *r = redisCommandArgv(c, argc, argv, NULL);
  char buf[64];
  if (!r) {
    pf__db_err(db, "redis %s:%d: %s failed: %s", db->host, db->port, what, pf__db_reason(db, c, buf, sizeof buf));
    return PF_EIO;
  }
  int ok = r->type != REDIS_REPLY_ERROR;
  if (!ok)
    pf__db_err(db, "redis %s:%d: %s failed: %.*s", db->host, db->port, what, (int)(r->len < 200 ? r->len : 200),
           r->str ? r->str : "");
  freeReplyObject(r);
  return ok ? PF_OK : PF_EIO;
}

/* One fleet per Redis: records db->fleet in pf:fleet when none is there,
 * then refuses a Redis that serves another fleet. */
static int fleet_check(pf_db *db, redisContext *c) {
  const char *set[] = {"SET", "pf:fleet", db->fleet, "NX"};
  if (setup_cmd(db, c, 4, set, "SET pf:fleet") != PF_OK) return PF_EIO;
  const char *get[] = {"GET", "pf:fleet"};
  redisReply *r = redisCommandArgv(c, 2, get, NULL);
  char buf[64];
  if (!r) {
    pf__db_err(db, "redis %s:%d: GET pf:fleet failed: %s", db->host, db->port, pf__db_reason(db, c, buf, sizeof buf));
    return PF_EIO;
  }
  int mine = r->type == REDIS_REPLY_STRING && r->str && strcmp(r->str, db->fleet) == 0;
  if (!mine)
    pf__db_err(db, "redis %s:%d serves fleet %.64s, not this one (%s): refusing to use another fleet's Redis", db->host,
           db->port, r->type == REDIS_REPLY_STRING && r->str ? r->str : "?", db->fleet);
  freeReplyObject(r);
  return mine ? PF_OK : PF_EFLEET;
}

/* Connects, sets the command timeout, AUTHs, SELECTs and checks the fleet. */
/* One authenticated connection of this fleet: close-on-exec, its timeout,
 * AUTH, SELECT and the fleet check. PF_OK with *out, or an error in db. */
static int db_dial(pf_db *db, int timeout_ms, redisContext **out) {
  *out = NULL;
  struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  redisContext *c = redisConnectWithTimeout(db->host, db->port, tv);
  if (!c || c->err) {
    pf__db_err(db, "redis %s:%d unreachable: %s", db->host, db->port, c && c->errstr[0] ? c->errstr : "out of memory");
    if (c) redisFree(c);
    return PF_EIO;
  }
  /* hiredis does not set close-on-exec: no process this one starts may
   * inherit an authenticated connection (issue 12) */
  fcntl(c->fd, F_SETFD, FD_CLOEXEC);
  if (redisSetTimeout(c, tv) != REDIS_OK) {
    pf__db_err(db, "redis %s:%d: cannot set a timeout: %s", db->host, db->port, c->errstr);
    redisFree(c);
    return PF_EIO;
  }
  redisEnableKeepAlive(c); /* best effort */
  if (db->password) {
    const char *argv[] = {"AUTH", db->password};
    if (setup_cmd(db, c, 2, argv, "AUTH") != PF_OK) { redisFree(c); return PF_EIO; }
  }
  if (db->dbnum != 0) {
    char num[16], what[32];
    snprintf(num, sizeof num, "%d", db->dbnum);
    snprintf(what, sizeof what, "SELECT %d", db->dbnum);
    const char *argv[] = {"SELECT", num};
    if (setup_cmd(db, c, 2, argv, what) != PF_OK) { redisFree(c); return PF_EIO; }
  }
  if (db->fleet[0]) {
    int rc = fleet_check(db, c);
    if (rc != PF_OK) { redisFree(c); return rc; }
  }
  *out = c;
  return PF_OK;
}

int pf__db_open(pf_db *db) {
  pf__db_close(db);
  return db_dial(db, db->timeout_ms, &db->c);
}

redisContext *pf__db_dial(pf_db *db, int timeout_ms) {
  redisContext *c = NULL;
  if (!db || timeout_ms <= 0) return NULL;
  pf__db_guard g;
  pf__db_guard_on(&g);
  db_dial(db, timeout_ms, &c);
  pf__db_guard_off(&g);
  return c;
}

/* Sends one command; on no reply, reconnects once and sends it again.
 * Returns the reply (which may be an error reply) or NULL with db->err. */
redisReply *pf__db_raw(pf_db *db, int argc, const char **argv, const size_t *lens) {
  pf__db_guard g;
  pf__db_guard_on(&g);
  redisReply *r = NULL;
  for (int attempt = 0; attempt < 2 && !r; attempt++) {
    if (!db->c && pf__db_open(db) != PF_OK) break;
    r = redisCommandArgv(db->c, argc, argv, lens);
    if (!r) {
      char buf[64];
      pf__db_err(db, "redis %s:%d: %s", db->host, db->port, pf__db_reason(db, db->c, buf, sizeof buf));
      pf__db_close(db); /* the stream may be out of step now: never reuse it */
    }
  }
  pf__db_guard_off(&g);
  return r;
}

void pf__db_err_reply(pf_db *db, const redisReply *r) {
  pf__db_err(db, "redis %s:%d: %.*s", db->host, db->port, (int)(r->len < 300 ? r->len : 300), r->str ? r->str : "");
}

/* db_raw, and an error reply is an error too. */
redisReply *pf__db_cmd(pf_db *db, int argc, const char **argv, const size_t *lens) {
  redisReply *r = pf__db_raw(db, argc, argv, lens);
  if (r && r->type == REDIS_REPLY_ERROR) {
    pf__db_err_reply(db, r);
    freeReplyObject(r);
    r = NULL;
  }
  return r;
}

/* Runs script src (SHA-1 sha1) with EVALSHA, and with EVAL when the server
 * answers NOSCRIPT (after a restart, or SCRIPT FLUSH): v holds nkeys key
 * names then the arguments (n in all); lens may be NULL for NUL-terminated
 * values. An error reply is NULL with db->err. */
static redisReply *eval_src(pf_db *db, const char *src, const char *sha1, int nkeys, int n, const char **v,
                            const size_t *lens) {
  const char *argv[DB_MAX_ARGS + 3];
  size_t alen[DB_MAX_ARGS + 3];
  char nk[12];
  if (n > DB_MAX_ARGS || nkeys > n || nkeys < 0 || !v) {
    pf__db_err(db, "internal error: too many script arguments");
    return NULL;
  }
  snprintf(nk, sizeof nk, "%d", nkeys);
  argv[0] = "EVALSHA";
  argv[1] = sha1;
  argv[2] = nk;
  for (int i = 0; i < 3; i++) alen[i] = strlen(argv[i]);
  for (int i = 0; i < n; i++) {
    argv[3 + i] = v[i];
    alen[3 + i] = lens ? lens[i] : strlen(v[i]);
  }
  redisReply *r = pf__db_raw(db, n + 3, argv, alen);
  if (r && r->type == REDIS_REPLY_ERROR && r->str && strncmp(r->str, "NOSCRIPT", 8) == 0) {
    freeReplyObject(r);
    argv[0] = "EVAL";
    argv[1] = src;
    alen[0] = 4;
    alen[1] = strlen(src);
    r = pf__db_raw(db, n + 3, argv, alen);
  }
  if (r && r->type == REDIS_REPLY_ERROR) {
    pf__db_err_reply(db, r);
    freeReplyObject(r);
    r = NULL;
  }
  return r;
}

/* One of the table's scripts (SHA-1 computed at connect). */
static redisReply *db_eval(pf_db *db, int script, int nkeys, int n, const char **v, const size_t *lens) {
  return eval_src(db, scripts[script], db->sha1[script], nkeys, n, v, lens);
}

struct redisReply *pf_db_eval(pf_db *db, const char *script, int nkeys, int n, const char **v, const size_t *lens) {
  if (!db || !script) return NULL;
  char sha1[41];
  pf__db_script_sha1(script, sha1);
  return eval_src(db, script, sha1, nkeys, n, v, lens);
}

void pf__db_unexpected(pf_db *db, const char *what) {
  pf__db_err(db, "redis %s:%d: pf__db_unexpected reply to %s", db->host, db->port, what);
}

/* ---- helpers ---- */

int pf__db_sha_ok(pf_db *db, const char *sha) {
  if (pf_is_sha256_hex(sha)) return 1;
  pf__db_err(db, "sample id must be 64 lower-case hex characters");
  return 0;
}

/* 1..127 bytes of printable ASCII, no comma. */
static int label_ok(pf_db *db, const char *label) {
  size_t n = label ? strnlen(label, PF_DB_MAX_LABEL) : 0;
  int ok = n >= 1 && n < PF_DB_MAX_LABEL;
  for (size_t i = 0; ok && i < n; i++)
    ok = label[i] >= 0x20 && label[i] <= 0x7e && label[i] != ',';
  if (!ok) pf__db_err(db, "label must be 1-%d printable ASCII characters without commas", PF_DB_MAX_LABEL - 1);
  return ok;
}

/* One line of at most PF_DB_MAX_REASON-1 bytes: control characters become
 * spaces, and a cut never splits a UTF-8 sequence. */
static void clean_reason(const char *in, char out[PF_DB_MAX_REASON]) {
  if (!in || !*in) in = "no reason given";
  size_t n = strnlen(in, PF_DB_MAX_REASON - 1);
  if (in[n] != '\0')
    while (n > 0 && ((unsigned char)in[n] & 0xc0) == 0x80) n--;
  for (size_t i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)in[i];
    out[i] = ch < 0x20 || ch == 0x7f ? ' ' : (char)ch;
  }
  out[n] = '\0';
}

void pf__db_rec_key(char *buf, size_t n, const char *sha, const char *suffix) {
  snprintf(buf, n, "pf:s:%s%s", sha, suffix);
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* An integer reply, or a bulk string holding exactly one integer. */
int pf__db_rep_ll(const redisReply *r, long long *v) {
  if (!r) return 0;
  if (r->type == REDIS_REPLY_INTEGER) { *v = r->integer; return 1; }
  if (r->type != REDIS_REPLY_STRING || !r->str || r->len == 0 || r->len > 20) return 0;
  char buf[24], *end;
  memcpy(buf, r->str, r->len);
  buf[r->len] = '\0';
  errno = 0;
  long long x = strtoll(buf, &end, 10);
  if (errno || *end) return 0;
  *v = x;
  return 1;
}

/* Copies a string reply into out (n bytes), cut to fit. */
void pf__db_rep_copy(const redisReply *r, char *out, size_t n) {
  size_t k = r->len < n - 1 ? r->len : n - 1;
  memcpy(out, r->str ? r->str : "", r->str ? k : 0);
  out[r->str ? k : 0] = '\0';
}

int pf__db_is_str(const redisReply *r) { return r && r->type == REDIS_REPLY_STRING && r->str; }

/* ---- public ---- */

void pf_db_opts_default(pf_db_opts *o) {
  memset(o, 0, sizeof *o);
  o->host = "127.0.0.1";
  o->port = 6379;
  o->password = NULL;
  o->db = 0;
  o->timeout_ms = 2000;
}

void pf__db_script_sha1(const char *s, char hex[41]) {
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  static const char digits[] = "0123456789abcdef";
  if (!EVP_Digest(s, strlen(s), d, &n, EVP_sha1(), NULL) || n != 20) {
    snprintf(hex, 41, "%040d", 0); /* EVALSHA fails with NOSCRIPT, EVAL follows */
    return;
  }
  for (unsigned i = 0; i < 20; i++) {
    hex[2 * i] = digits[d[i] >> 4];
    hex[2 * i + 1] = digits[d[i] & 15];
  }
  hex[40] = '\0';
}

int pf_db_connect(const pf_db_opts *o, pf_db **out, char *err, size_t errlen) {
  pf_db_opts def;
  pf_db_opts_default(&def);
  if (!o) o = &def;
  *out = NULL;
  const char *host = o->host && *o->host ? o->host : def.host;
  if (strlen(host) >= sizeof ((pf_db *)0)->host || o->port < 1 || o->port > 65535 || o->db < 0 ||
      o->timeout_ms < 0 || (o->fleet_id && strlen(o->fleet_id) >= sizeof ((pf_db *)0)->fleet)) {
    snprintf(err, errlen, "bad redis options (host up to 255 bytes, port 1-65535, db >= 0, timeout >= 0, "
                          "fleet id up to 63 bytes)");
    return PF_EINVAL;
  }
  pf_db *db = calloc(1, sizeof *db);
  if (!db) { snprintf(err, errlen, "out of memory"); return PF_ENOMEM; }
  snprintf(db->host, sizeof db->host, "%s", host);
  db->port = o->port;
  db->dbnum = o->db;
  if (o->fleet_id) snprintf(db->fleet, sizeof db->fleet, "%s", o->fleet_id);
  db->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : def.timeout_ms;
  if (o->password && *o->password && !(db->password = strdup(o->password))) {
    free(db);
    snprintf(err, errlen, "out of memory");
    return PF_ENOMEM;
  }
  for (int i = 0; i < S_COUNT; i++) pf__db_script_sha1(scripts[i], db->sha1[i]);
  pf__db_guard g;
  pf__db_guard_on(&g);
  int rc = pf__db_open(db);
  pf__db_guard_off(&g);
  if (rc == PF_OK) rc = pf_db_ping(db); /* NOAUTH, protected mode, not a redis... */
  if (rc != PF_OK) {
    snprintf(err, errlen, "%s", db->err);
    pf_db_free(&db);
    return rc;
  }
  *out = db;
  return PF_OK;
}

void pf_db_free(pf_db **dbp) {
  if (!dbp || !*dbp) return;
  pf_db *db = *dbp;
  pf__db_close(db);
  if (db->password) {
    explicit_bzero(db->password, strlen(db->password));
    free(db->password);
  }
  free(db);
  *dbp = NULL;
}

const char *pf_db_error(const pf_db *db) {
  if (!db) return "no redis connection";
  return db->err[0] ? db->err : "no error";
}

int pf_db_ping(pf_db *db) {
  if (!db) return PF_EINVAL;
  const char *argv[] = {"PING"};
  redisReply *r = pf__db_cmd(db, 1, argv, NULL);
  if (!r) return PF_EIO;
  int ok = (r->type == REDIS_REPLY_STATUS || r->type == REDIS_REPLY_STRING) && r->str && strcmp(r->str, "PONG") == 0;
  freeReplyObject(r);
  if (!ok) { pf__db_unexpected(db, "PING"); return PF_EIO; }
  return PF_OK;
}

/* Seconds for the first_seen argument: seen when it is a time, else now. */
static void seen_arg(long long seen, char out[24]) {
  snprintf(out, 24, "%lld", seen > 0 ? seen : (long long)time(NULL));
}

static int ingest_at(pf_db *db, const char *sha, const char *label, uint64_t size, long long seen, int *is_new,
                     char *status, char *first_label);

int pf_db_ingest(pf_db *db, const char *sha, const char *label, uint64_t size, int *is_new, char *status) {
  return ingest_at(db, sha, label, size, 0, is_new, status, NULL);
}

/* the label a known sample was first stored with, when the reply has it */
static void take_first_label(const redisReply *r, char *out) {
  if (out) out[0] = '\0';
  if (out && r->elements >= 3 && pf__db_is_str(r->element[2])) pf__db_rep_copy(r->element[2], out, PF_DB_LABEL_CAP);
}

static int ingest_at(pf_db *db, const char *sha, const char *label, uint64_t size, long long seen, int *is_new,
                     char *status, char *first_label) {
  if (!db) return PF_EINVAL;
  if (is_new) *is_new = 0;
  if (status) status[0] = '\0';
  if (first_label) first_label[0] = '\0';
  if (!pf__db_sha_ok(db, sha) || !label_ok(db, label)) return PF_EINVAL;
  char rec[80], labels[96], sz[24], now[24], cap[8];
  pf__db_rec_key(rec, sizeof rec, sha, "");
  pf__db_rec_key(labels, sizeof labels, sha, ":labels");
  snprintf(sz, sizeof sz, "%llu", (unsigned long long)size);
  seen_arg(seen, now);
  snprintf(cap, sizeof cap, "%d", DB_MAX_LABELS_KEPT);
  const char *v[] = {rec, labels, "pf:samples", "pf:queue", "pf:conflicts",
                     sha, label, sz, now, pf_split_name(pf_split_of(sha)), cap};
  redisReply *r = db_eval(db, S_INGEST, 5, 11, v, NULL);
  if (!r) return PF_EIO;
  long long fresh;
  if (r->type != REDIS_REPLY_ARRAY || r->elements < 2 || r->elements > 3 || !pf__db_rep_ll(r->element[0], &fresh) ||
      !pf__db_is_str(r->element[1])) {
    freeReplyObject(r);
    pf__db_unexpected(db, "ingest");
    return PF_EIO;
  }
  if (is_new) *is_new = fresh == 1;
  if (status) pf__db_rep_copy(r->element[1], status, 16);
  if (!fresh) take_first_label(r, first_label);
  freeReplyObject(r);
  return PF_OK;
}

int pf_db_claim(pf_db *db, char (*shas)[PF_SHA256_HEX_LEN + 1], int max, int *got) {
  if (!db || !got || max < 0 || (max > 0 && !shas)) return PF_EINVAL;
  *got = 0;
  if (max == 0) return PF_OK;
  if (max > DB_MAX_CLAIM) max = DB_MAX_CLAIM;
  char n[16], now[24];
  snprintf(n, sizeof n, "%d", max);
  snprintf(now, sizeof now, "%lld", now_ms());
  const char *v[] = {"pf:queue", "pf:inflight", n, now};
  redisReply *r = db_eval(db, S_CLAIM, 2, 4, v, NULL);
  if (!r) return PF_EIO;
  if (r->type != REDIS_REPLY_ARRAY) {
    freeReplyObject(r);
    pf__db_unexpected(db, "claim");
    return PF_EIO;
  }
  /* the script only returns well-formed hashes; check anyway, and never
   * write more than the caller has room for */
  for (size_t i = 0; i < r->elements && *got < max; i++) {
    const redisReply *e = r->element[i];
    if (!pf__db_is_str(e) || e->len != PF_SHA256_HEX_LEN) continue;
    char sha[PF_SHA256_HEX_LEN + 1];
    memcpy(sha, e->str, PF_SHA256_HEX_LEN);
    sha[PF_SHA256_HEX_LEN] = '\0';
    if (!pf_is_sha256_hex(sha)) continue;
    memcpy(shas[*got], sha, sizeof sha);
    (*got)++;
  }
  freeReplyObject(r);
  return PF_OK;
}

static int requeue(pf_db *db, const char *sha, int max_attempts, const char *reason, int count, int *outcome) {
  if (!db) return PF_EINVAL;
  if (outcome) *outcome = 0;
  if (!pf__db_sha_ok(db, sha)) return PF_EINVAL;
  if (max_attempts < 1) {
    pf__db_err(db, "max_attempts must be at least 1");
    return PF_EINVAL;
  }
  char rec[80], max[16], why[PF_DB_MAX_REASON];
  pf__db_rec_key(rec, sizeof rec, sha, "");
  snprintf(max, sizeof max, "%d", max_attempts);
  clean_reason(reason, why);
  const char *v[] = {rec, "pf:queue", "pf:inflight", "pf:failed", sha, max, why, count ? "1" : "0"};
  redisReply *r = db_eval(db, S_REQUEUE, 4, 8, v, NULL);
  if (!r) return PF_EIO;
  long long x;
  int ok = pf__db_rep_ll(r, &x) && x >= 0 && x <= 2;
  freeReplyObject(r);
  if (!ok) { pf__db_unexpected(db, "requeue"); return PF_EIO; }
  if (outcome) *outcome = (int)x;
  return PF_OK;
}

int pf_db_requeue(pf_db *db, const char *sha, int max_attempts, const char *reason, int *outcome) {
  return requeue(db, sha, max_attempts, reason, 1, outcome);
}

int pf_db_giveback(pf_db *db, const char *sha, int *outcome) {
  return requeue(db, sha, 1, "", 0, outcome);
}

int pf_db_recover(pf_db *db, long long *moved) {
  if (!db) return PF_EINVAL;
  if (moved) *moved = 0;
  const char *v[] = {"pf:inflight", "pf:queue"};
  redisReply *r = db_eval(db, S_RECOVER, 2, 2, v, NULL);
  if (!r) return PF_EIO;
  long long x;
  int ok = pf__db_rep_ll(r, &x) && x >= 0;
  freeReplyObject(r);
  if (!ok) { pf__db_unexpected(db, "recover"); return PF_EIO; }
  if (moved) *moved = x;
  return PF_OK;
}

int pf_db_store_vector(pf_db *db, const char *sha, const double *vec, uint32_t dim, uint16_t schema) {
  if (!db) return PF_EINVAL;
  if (!pf__db_sha_ok(db, sha)) return PF_EINVAL;
  if (!vec || dim == 0 || dim > PF_DB_MAX_DIM) {
    pf__db_err(db, "vector must have 1-%d values", PF_DB_MAX_DIM);
    return PF_EINVAL;
  }
  uint8_t blob[PF_VECBLOB_HEADER + 4 * PF_DB_MAX_DIM];
  long len = pf_vecblob_encode(vec, dim, schema, blob, sizeof blob);
  if (len < 0) {
    pf__db_err(db, "vector cannot be stored: %s", len == PF_EINVAL ? "a value is not finite" : pf_strerror((int)len));
    return PF_EINVAL;
  }
  int sp = pf_split_of(sha);
  char rec[80], split_key[32], sch[8];
  pf__db_rec_key(rec, sizeof rec, sha, "");
  snprintf(split_key, sizeof split_key, "pf:split:%s", pf_split_name(sp));
  snprintf(sch, sizeof sch, "%u", (unsigned)schema);
  const char *v[] = {rec, "pf:done", split_key, "pf:failed", "pf:inflight", PF_DB_VECTORS_KEY, sha,
                     (const char *)blob, sch, pf_split_name(sp)};
  size_t lens[10];
  for (int i = 0; i < 10; i++) lens[i] = i == 7 ? (size_t)len : strlen(v[i]);
  redisReply *r = db_eval(db, S_STORE, 6, 10, v, lens);
  if (!r) return PF_EIO;
  long long x;
  int ok = pf__db_rep_ll(r, &x) && (x == 0 || x == 1);
  freeReplyObject(r);
  if (!ok) { pf__db_unexpected(db, "store_vector"); return PF_EIO; }
  if (x == 0) {
    pf__db_err(db, "sample %s is not known (never ingested)", sha);
    return PF_ENOENT;
  }
  return PF_OK;
}

int pf_db_fail(pf_db *db, const char *sha, const char *reason) {
  if (!db) return PF_EINVAL;
  if (!pf__db_sha_ok(db, sha)) return PF_EINVAL;
  char rec[80], why[PF_DB_MAX_REASON];
  pf__db_rec_key(rec, sizeof rec, sha, "");
  clean_reason(reason, why);
  const char *v[] = {rec, "pf:failed", "pf:inflight", sha, why};
  redisReply *r = db_eval(db, S_FAIL, 3, 5, v, NULL);
  if (!r) return PF_EIO;
  long long x;
  int ok = pf__db_rep_ll(r, &x) && x >= -1 && x <= 1;
  freeReplyObject(r);
  if (!ok) { pf__db_unexpected(db, "fail"); return PF_EIO; }
  if (x == -1) {
    pf__db_err(db, "sample %s is not known (never ingested)", sha);
    return PF_ENOENT;
  }
  return PF_OK;
}

int pf_db_unfail(pf_db *db, const char *sha, int *requeued) {
  if (!db) return PF_EINVAL;
  if (requeued) *requeued = 0;
  if (!pf__db_sha_ok(db, sha)) return PF_EINVAL;
  char rec[80];
  pf__db_rec_key(rec, sizeof rec, sha, "");
  const char *v[] = {rec, "pf:failed", "pf:queue", "pf:inflight", sha};
  redisReply *r = db_eval(db, S_UNFAIL, 4, 5, v, NULL);
  if (!r) return PF_EIO;
  long long x;
  int ok = pf__db_rep_ll(r, &x) && x >= -1 && x <= 1;
  freeReplyObject(r);
  if (!ok) { pf__db_unexpected(db, "unfail"); return PF_EIO; }
  if (x == -1) {
    pf__db_err(db, "sample %s is not known (never ingested)", sha);
    return PF_ENOENT;
  }
  if (requeued) *requeued = (int)x;
  return PF_OK;
}

int pf_db_counts_get(pf_db *db, pf_db_counts *c) {
  if (!db || !c) return PF_EINVAL;
  memset(c, 0, sizeof *c);
  const char *v[] = {"pf:queue", "pf:inflight", "pf:done", "pf:failed", "pf:samples", "pf:conflicts"};
  redisReply *r = db_eval(db, S_COUNTS, 6, 6, v, NULL);
  if (!r) return PF_EIO;
  long long x[6];
  int ok = r->type == REDIS_REPLY_ARRAY && r->elements == 6;
  for (size_t i = 0; ok && i < 6; i++) ok = pf__db_rep_ll(r->element[i], &x[i]) && x[i] >= 0;
  freeReplyObject(r);
  if (!ok) { pf__db_unexpected(db, "counts"); return PF_EIO; }
  c->queued = x[0];
  c->in_flight = x[1];
  c->done = x[2];
  c->failed = x[3];
  c->samples = x[4];
  c->conflicts = x[5];
  return PF_OK;
}

const char *const pf__db_fields[PF__F_COUNT] = {
  [PF__F_LABEL] = "label", [PF__F_SIZE] = "size", [PF__F_FIRST_SEEN] = "first_seen", [PF__F_STATUS] = "status",
  [PF__F_REASON] = "reason", [PF__F_SCHEMA] = "schema", [PF__F_SPLIT] = "split", [PF__F_ATTEMPTS] = "attempts",
  [PF__F_VEC] = "vec"};

/* Fills s from the fields (missing or malformed ones stay 0 / "");
 * the vector blob is left in *vec. */
static void read_fields(const redisReply *const *f, pf_db_sample *s, const redisReply **vec, long long *rec_schema) {
  long long x;
  if (pf__db_is_str(f[PF__F_LABEL])) pf__db_rep_copy(f[PF__F_LABEL], s->label, sizeof s->label);
  if (pf__db_is_str(f[PF__F_STATUS])) pf__db_rep_copy(f[PF__F_STATUS], s->status, sizeof s->status);
  if (pf__db_is_str(f[PF__F_REASON])) pf__db_rep_copy(f[PF__F_REASON], s->reason, sizeof s->reason);
  if (pf__db_is_str(f[PF__F_SPLIT])) pf__db_rep_copy(f[PF__F_SPLIT], s->split, sizeof s->split);
  if (pf__db_rep_ll(f[PF__F_SIZE], &x) && x >= 0) s->size = (uint64_t)x;
  if (pf__db_rep_ll(f[PF__F_FIRST_SEEN], &x)) s->first_seen = x;
  if (pf__db_rep_ll(f[PF__F_ATTEMPTS], &x)) s->attempts = x < 0 ? 0 : x > INT_MAX ? INT_MAX : (int)x;
  if (pf__db_rep_ll(f[PF__F_SCHEMA], &x) && x >= 0 && x <= 65535) *rec_schema = x;
  if (pf__db_is_str(f[PF__F_VEC])) *vec = f[PF__F_VEC];
}

/* Sorted labels, comma-separated, as many whole labels as fit. */
static void join_labels(const redisReply *l, pf_db_sample *s) {
  size_t used = 0, n = l && l->type == REDIS_REPLY_ARRAY ? l->elements : 0;
  if (n > DB_MAX_LABELS_READ) n = DB_MAX_LABELS_READ;
  for (size_t i = 0; i < n; i++) {
    const redisReply *e = l->element[i];
    if (!pf__db_is_str(e) || e->len == 0 || memchr(e->str, '\0', e->len)) continue;
    size_t need = e->len + (used ? 1 : 0);
    if (used + need >= sizeof s->labels) break;
    if (used) s->labels[used++] = ',';
    memcpy(s->labels + used, e->str, e->len);
    used += e->len;
  }
  s->labels[used] = '\0';
}

int pf__db_decode(pf_db *db, const redisReply *const *f, const redisReply *labels, long long nlabels,
                  pf_db_sample *s) {
  const redisReply *vec = NULL;
  long long rec_schema = -1;
  read_fields(f, s, &vec, &rec_schema);
  join_labels(labels, s);
  s->nlabels = nlabels < 0 ? 0 : nlabels > INT_MAX ? INT_MAX : (int)nlabels;
  s->schema = rec_schema >= 0 ? (int)rec_schema : 0;
  if (!vec) return PF_OK;
  char why[160];
  uint32_t dim = 0;
  uint16_t schema = 0;
  int d = pf_vecblob_decode((const uint8_t *)vec->str, vec->len, s->vec, PF_DB_MAX_DIM, &dim, &schema, why,
                            sizeof why);
  if (d == PF_OK && rec_schema >= 0 && rec_schema != schema) {
    snprintf(why, sizeof why, "blob schema %u differs from the record's schema %lld", schema, rec_schema);
    d = PF_EINVAL;
  }
  if (d == PF_OK) {
    s->has_vector = 1;
    s->dim = dim;
    s->schema = schema;
    return PF_OK;
  }
  memset(s->vec, 0, sizeof s->vec);
  pf__db_err(db, "sample %s: stored vector is unreadable: %s", s->sha, why);
  return PF_EINVAL;
}

int pf_db_get(pf_db *db, const char *sha, pf_db_sample *s) {
  if (!db || !s) return PF_EINVAL;
  memset(s, 0, sizeof *s);
  if (!pf__db_sha_ok(db, sha)) return PF_EINVAL;
  memcpy(s->sha, sha, PF_SHA256_HEX_LEN + 1);
  char rec[80], labels[96], cap[8];
  pf__db_rec_key(rec, sizeof rec, sha, "");
  pf__db_rec_key(labels, sizeof labels, sha, ":labels");
  snprintf(cap, sizeof cap, "%d", DB_MAX_LABELS_READ);
  const char *v[] = {rec, labels, cap};
  redisReply *r = db_eval(db, S_GET, 2, 3, v, NULL);
  if (!r) return PF_EIO;
  if (r->type == REDIS_REPLY_NIL) {
    freeReplyObject(r);
    pf__db_err(db, "sample %s is not known", sha);
    return PF_ENOENT;
  }
  long long nlabels;
  if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 || r->element[0]->type != REDIS_REPLY_ARRAY ||
      r->element[0]->elements != PF__F_COUNT || r->element[1]->type != REDIS_REPLY_ARRAY ||
      !pf__db_rep_ll(r->element[2], &nlabels)) {
    freeReplyObject(r);
    pf__db_unexpected(db, "get");
    return PF_EIO;
  }
  int rc = pf__db_decode(db, (const redisReply *const *)r->element[0]->element, r->element[1], nlabels, s);
  freeReplyObject(r);
  return rc;
}

/* ---- vector-only samples (pefleet import-csv) ----
 * Kept apart from the script table above: its SHA-1 is computed per call
 * (a few microseconds), and it is sent pipelined: every item's EVALSHA is
 * written at once, the answers are read in order, and the items answered
 * NOSCRIPT go again with EVAL. */

/* IMPORT  KEYS: record, labels, pf:samples, pf:done, pf:split:<name>, pf:conflicts, pf:vectors
 *         ARGV: sha, label, blob, schema, split, now (s), max labels kept
 * -> 1 new, 0 known, 2 known and its first label differs (conflict) */
static const char import_script[] =
  "if redis.call('EXISTS', KEYS[1]) == 0 then\n"
  "  redis.call('HSET', KEYS[1], 'label', ARGV[2], 'size', '0', 'first_seen', ARGV[6], 'status', 'done',\n"
  "             'split', ARGV[5], 'attempts', '0', 'schema', ARGV[4], 'vec', ARGV[3])\n"
  "  redis.call('DEL', KEYS[2])\n"
  "  redis.call('SADD', KEYS[2], ARGV[2])\n"
  "  redis.call('SADD', KEYS[3], ARGV[1])\n"
  "  redis.call('SADD', KEYS[4], ARGV[1])\n"
  "  redis.call('SADD', KEYS[5], ARGV[1])\n"
  "  redis.call('XADD', KEYS[7], 'MAXLEN', '~', '" PF_DB_VECTORS_MAXLEN "', '*', 'sha', ARGV[1])\n"
  "  redis.call('ZADD', '" PF_DB_SEEN_KEY "', ARGV[6], ARGV[1])\n"
  "  return 1\n"
  "end\n"
  "if redis.call('SISMEMBER', KEYS[2], ARGV[2]) == 0\n"
  "   and redis.call('SCARD', KEYS[2]) < tonumber(ARGV[7]) then\n"
  "  redis.call('SADD', KEYS[2], ARGV[2])\n"
  "end\n"
  "if redis.call('HGET', KEYS[1], 'label') ~= ARGV[2] then\n"
  "  redis.call('SADD', KEYS[6], ARGV[1])\n"
  "  return 2\n"
  "end\n"
  "return 0\n";

/* Item states while a batch is under way (results are 0..2 or PF_E*). */
enum { IMPORT_PENDING = 100, IMPORT_SENT = 101, IMPORT_NOSCRIPT = 102 };

/* Copies why into the item, cut to fit. */
static void import_reason(pf_db_import_item *it, const char *why) {
  size_t k = strnlen(why, sizeof it->reason - 1);
  memcpy(it->reason, why, k);
  it->reason[k] = '\0';
}

/* The checks that keep an item from reaching Redis; PF_EINVAL with db->err. */
static int import_check(pf_db *db, const pf_db_import_item *it, uint16_t schema) {
  if (!pf__db_sha_ok(db, it->sha) || !label_ok(db, it->label)) return PF_EINVAL;
  if (!it->vec || it->dim == 0 || it->dim > PF_DB_MAX_DIM) {
    pf__db_err(db, "vector must have 1-%d values", PF_DB_MAX_DIM);
    return PF_EINVAL;
  }
  uint8_t blob[PF_VECBLOB_HEADER + 4 * PF_DB_MAX_DIM];
  if (pf_vecblob_encode(it->vec, it->dim, schema, blob, sizeof blob) < 0) {
    pf__db_err(db, "vector cannot be stored: a value is not finite or beyond float32 range");
    return PF_EINVAL;
  }
  return PF_OK;
}

/* Appends one checked item's script call to the output buffer. */
static int import_append(pf_db *db, const pf_db_import_item *it, uint16_t schema, const char *now_s,
                         const char *sha1, int use_eval) {
  uint8_t blob[PF_VECBLOB_HEADER + 4 * PF_DB_MAX_DIM];
  long blen = pf_vecblob_encode(it->vec, it->dim, schema, blob, sizeof blob);
  if (blen < 0) return PF_EINVAL;
  const char *split = pf_split_name(pf_split_of(it->sha));
  char rec[80], labels[96], split_key[32], sch[8], cap[8];
  pf__db_rec_key(rec, sizeof rec, it->sha, "");
  pf__db_rec_key(labels, sizeof labels, it->sha, ":labels");
  snprintf(split_key, sizeof split_key, "pf:split:%s", split);
  snprintf(sch, sizeof sch, "%u", (unsigned)schema);
  snprintf(cap, sizeof cap, "%d", DB_MAX_LABELS_KEPT);
  char now[24];
  if (it->first_seen > 0) seen_arg(it->first_seen, now);
  else snprintf(now, sizeof now, "%s", now_s);
  const char *argv[] = {use_eval ? "EVAL" : "EVALSHA", use_eval ? import_script : sha1, "7",
                        rec, labels, "pf:samples", "pf:done", split_key, "pf:conflicts", PF_DB_VECTORS_KEY,
                        it->sha, it->label, (const char *)blob, sch, split, now, cap};
  enum { NARGS = sizeof argv / sizeof argv[0], BLOB_ARG = 12 };
  size_t lens[NARGS];
  for (int i = 0; i < NARGS; i++) lens[i] = i == BLOB_ARG ? (size_t)blen : strlen(argv[i]);
  return redisAppendCommandArgv(db->c, NARGS, argv, lens) == REDIS_OK ? PF_OK : PF_ENOMEM;
}

/* SENT items go back to PENDING (their connection is gone). */
static void import_unsend(pf_db_import_item *items, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (items[i].result == IMPORT_SENT) items[i].result = IMPORT_PENDING;
}

/* Appends every PENDING item (EVALSHA, or EVAL when use_eval), marking it
 * SENT, and with flush writes them all out now. PF_OK, or PF_EIO /
 * PF_ENOMEM with db->err, the connection closed and nothing left SENT. */
static int import_push(pf_db *db, pf_db_import_item *items, size_t n, uint16_t schema, int use_eval, int flush) {
  if (!db->c && pf__db_open(db) != PF_OK) return PF_EIO;
  char sha1[41], now[24];
  pf__db_script_sha1(import_script, sha1);
  snprintf(now, sizeof now, "%lld", (long long)time(NULL));
  for (size_t i = 0; i < n; i++) {
    if (items[i].result != IMPORT_PENDING) continue;
    if (import_append(db, &items[i], schema, now, sha1, use_eval) != PF_OK) {
      pf__db_err(db, "out of memory");
      pf__db_close(db); /* the buffer holds a part of the batch: drop it */
      import_unsend(items, n);
      return PF_ENOMEM;
    }
    items[i].result = IMPORT_SENT;
  }
  int done = 0;
  while (flush && !done) {
    if (redisBufferWrite(db->c, &done) != REDIS_OK) {
      char buf[64];
      pf__db_err(db, "redis %s:%d: %s", db->host, db->port, pf__db_reason(db, db->c, buf, sizeof buf));
      pf__db_close(db);
      import_unsend(items, n);
      return PF_EIO;
    }
  }
  return PF_OK;
}

/* Reads the answer of every SENT item, in order; *failed counts refusals.
 * PF_OK, or PF_EIO when the connection was lost: it is closed and the
 * items still unanswered are PENDING again. */
static int import_pull(pf_db *db, pf_db_import_item *items, size_t n, int *failed) {
  for (size_t i = 0; i < n; i++) {
    pf_db_import_item *it = &items[i];
    if (it->result != IMPORT_SENT) continue;
    redisReply *r = NULL;
    if (redisGetReply(db->c, (void **)&r) != REDIS_OK || !r) {
      char buf[64];
      pf__db_err(db, "redis %s:%d: %s", db->host, db->port, pf__db_reason(db, db->c, buf, sizeof buf));
      if (r) freeReplyObject(r);
      pf__db_close(db); /* out of step: never reuse it */
      import_unsend(items, n);
      return PF_EIO;
    }
    long long x;
    if (r->type == REDIS_REPLY_ERROR && r->str && strncmp(r->str, "NOSCRIPT", 8) == 0) {
      it->result = IMPORT_NOSCRIPT;
    } else if (r->type != REDIS_REPLY_ERROR && pf__db_rep_ll(r, &x) && x >= 0 && x <= 2) {
      it->result = (int)x;
    } else {
      if (r->type == REDIS_REPLY_ERROR) pf__db_err_reply(db, r);
      else pf__db_unexpected(db, "import");
      it->result = PF_EIO;
      import_reason(it, db->err);
      (*failed)++;
    }
    freeReplyObject(r);
  }
  return PF_OK;
}

int pf_db_import_send(pf_db *db, pf_db_import_item *items, size_t n, uint16_t schema) {
  if (!db) return PF_EINVAL;
  if ((n && !items) || n > PF_DB_IMPORT_MAX) {
    pf__db_err(db, "an import batch holds 0-%d items", PF_DB_IMPORT_MAX);
    return PF_EINVAL;
  }
  size_t todo = 0;
  for (size_t i = 0; i < n; i++) {
    pf_db_import_item *it = &items[i];
    it->reason[0] = '\0';
    if (import_check(db, it, schema) != PF_OK) {
      it->result = PF_EINVAL;
      import_reason(it, db->err);
    } else {
      it->result = IMPORT_PENDING;
      todo++;
    }
  }
  if (todo == 0) return PF_OK;
  pf__db_guard g;
  pf__db_guard_on(&g);
  import_push(db, items, n, schema, 0, 1); /* a failure leaves the items PENDING: wait retries */
  pf__db_guard_off(&g);
  return PF_OK;
}

int pf_db_import_wait(pf_db *db, pf_db_import_item *items, size_t n, uint16_t schema) {
  if (!db) return PF_EINVAL;
  if ((n && !items) || n > PF_DB_IMPORT_MAX) {
    pf__db_err(db, "an import batch holds 0-%d items", PF_DB_IMPORT_MAX);
    return PF_EINVAL;
  }
  int failed = 0, use_eval = 0, lost = 0;
  pf__db_guard g;
  pf__db_guard_on(&g);
  for (;;) {
    if (db->c && import_pull(db, items, n, &failed) != PF_OK && lost++) break; /* a second loss: give up */
    size_t pending = 0;
    int sent_eval = use_eval;
    for (size_t i = 0; i < n; i++) {
      pf_db_import_item *it = &items[i];
      if (it->result == IMPORT_NOSCRIPT && sent_eval) { /* EVAL cannot answer that: never loop on it */
        it->result = PF_EIO;
        import_reason(it, "the server answered NOSCRIPT to EVAL");
        failed++;
      } else if (it->result == IMPORT_NOSCRIPT) {
        it->result = IMPORT_PENDING;
        use_eval = 1; /* the server lost its scripts: EVAL loads ours again */
      }
      if (it->result == IMPORT_PENDING) pending++;
    }
    if (pending == 0 || import_push(db, items, n, schema, use_eval, 0) != PF_OK) break;
  }
  pf__db_guard_off(&g);
  for (size_t i = 0; i < n; i++) {
    pf_db_import_item *it = &items[i];
    if (it->result < IMPORT_PENDING) continue;
    it->result = PF_EIO;
    import_reason(it, db->err);
    failed++;
  }
  return failed ? PF_EIO : PF_OK;
}

int pf_db_import_vectors(pf_db *db, pf_db_import_item *items, size_t n, uint16_t schema) {
  int rc = pf_db_import_send(db, items, n, schema);
  return rc == PF_OK ? pf_db_import_wait(db, items, n, schema) : rc;
}

int pf_db_import_vector(pf_db *db, const char *sha, const char *label, const double *vec, uint32_t dim,
                        uint16_t schema, int *is_new) {
  if (is_new) *is_new = 0;
  if (!db) return PF_EINVAL;
  pf_db_import_item it = {.sha = sha, .label = label, .vec = vec, .dim = dim};
  int rc = pf_db_import_vectors(db, &it, 1, schema);
  if (it.result == PF_EINVAL) return PF_EINVAL; /* db->err says why */
  if (rc != PF_OK) return rc;
  if (is_new) *is_new = it.result == 1;
  return PF_OK;
}

int pf_db_status(pf_db *db, const char *sha, char *status) {
  if (!db || !status) return PF_EINVAL;
  status[0] = '\0';
  if (!pf__db_sha_ok(db, sha)) return PF_EINVAL;
  char rec[80];
  pf__db_rec_key(rec, sizeof rec, sha, "");
  const char *argv[] = {"HGET", rec, "status"};
  redisReply *r = pf__db_cmd(db, 3, argv, NULL);
  if (!r) return PF_EIO;
  int rc = PF_OK;
  if (r->type == REDIS_REPLY_NIL) rc = PF_ENOENT;
  else if (pf__db_is_str(r)) pf__db_rep_copy(r, status, 16);
  else { pf__db_unexpected(db, "status"); rc = PF_EIO; }
  freeReplyObject(r);
  return rc;
}

int pf_db_ingest_many(pf_db *db, size_t n, const char *const *sha, const char *const *label, const uint64_t *size,
                      const long long *seen, int *rc, int *is_new, char (*status)[16],
                      char (*first_label)[PF_DB_LABEL_CAP]) {
  if (!db || n > PF_DB_INGEST_MAX) return PF_EINVAL;
  char now[24], cap[8];
  snprintf(cap, sizeof cap, "%d", DB_MAX_LABELS_KEPT);
  size_t sent = 0;
  int ok = 1;
  pf__db_guard g;
  pf__db_guard_on(&g);
  if (!db->c && pf__db_open(db) != PF_OK) ok = 0;
  /* send every valid request, then read the replies in order */
  for (size_t i = 0; i < n; i++) {
    is_new[i] = 0;
    status[i][0] = '\0';
    if (first_label) first_label[i][0] = '\0';
    rc[i] = PF_EIO;
    if (!pf__db_sha_ok(db, sha[i]) || !label_ok(db, label[i])) { rc[i] = PF_EINVAL; continue; }
    if (!ok) continue;
    char rec[80], labels[96], sz[24];
    pf__db_rec_key(rec, sizeof rec, sha[i], "");
    pf__db_rec_key(labels, sizeof labels, sha[i], ":labels");
    snprintf(sz, sizeof sz, "%llu", (unsigned long long)size[i]);
    seen_arg(seen ? seen[i] : 0, now);
    const char *argv[] = {"EVALSHA", db->sha1[S_INGEST], "5", rec, labels, "pf:samples", "pf:queue",
                          "pf:conflicts", sha[i], label[i], sz, now, pf_split_name(pf_split_of(sha[i])), cap};
    if (redisAppendCommandArgv(db->c, 14, argv, NULL) != REDIS_OK) { ok = 0; continue; }
    rc[i] = 1; /* sent: reply pending */
    sent++;
  }
  int noscript = 0;
  for (size_t i = 0; i < n && sent > 0; i++) {
    if (rc[i] != 1) continue;
    redisReply *r = NULL;
    if (!ok || redisGetReply(db->c, (void **)&r) != REDIS_OK || !r) {
      if (ok) {
        char buf[64];
        pf__db_err(db, "redis %s:%d: %s", db->host, db->port, pf__db_reason(db, db->c, buf, sizeof buf));
        pf__db_close(db);
      }
      ok = 0;
      rc[i] = PF_EIO;
      continue;
    }
    long long fresh;
    if (r->type == REDIS_REPLY_ERROR && r->str && strncmp(r->str, "NOSCRIPT", 8) == 0) {
      rc[i] = 2; /* run it on its own below, which loads the script */
      noscript = 1;
    } else if (r->type == REDIS_REPLY_ARRAY && r->elements >= 2 && r->elements <= 3 && pf__db_rep_ll(r->element[0], &fresh) &&
               pf__db_is_str(r->element[1])) {
      is_new[i] = fresh == 1;
      pf__db_rep_copy(r->element[1], status[i], 16);
      if (!fresh) take_first_label(r, first_label ? first_label[i] : NULL);
      rc[i] = PF_OK;
    } else {
      if (r->type == REDIS_REPLY_ERROR) pf__db_err_reply(db, r);
      else pf__db_unexpected(db, "ingest");
      rc[i] = PF_EIO;
    }
    freeReplyObject(r);
  }
  if (!ok) pf__db_close(db); /* replies may be out of step: never reuse this stream */
  pf__db_guard_off(&g);
  if (noscript)
    for (size_t i = 0; i < n; i++)
      if (rc[i] == 2)
        rc[i] = ingest_at(db, sha[i], label[i], size[i], seen ? seen[i] : 0, &is_new[i], status[i],
                          first_label ? first_label[i] : NULL);
  return PF_OK;
}

int pf_db_inflight_older(pf_db *db, long long age_ms, long long offset, char (*shas)[PF_SHA256_HEX_LEN + 1], int max,
                         int *got) {
  if (!db || !got || max < 0 || offset < 0 || (max > 0 && !shas)) return PF_EINVAL;
  *got = 0;
  if (max == 0) return PF_OK;
  if (max > DB_MAX_CLAIM) max = DB_MAX_CLAIM;
  char upto[32], n[16], from[24];
  snprintf(upto, sizeof upto, "%lld", now_ms() - age_ms);
  snprintf(n, sizeof n, "%d", max);
  snprintf(from, sizeof from, "%lld", offset);
  const char *argv[] = {"ZRANGEBYSCORE", "pf:inflight", "-inf", upto, "LIMIT", from, n};
  redisReply *r = pf__db_cmd(db, 7, argv, NULL);
  if (!r) return PF_EIO;
  if (r->type != REDIS_REPLY_ARRAY) {
    freeReplyObject(r);
    pf__db_unexpected(db, "inflight");
    return PF_EIO;
  }
  for (size_t i = 0; i < r->elements && *got < max; i++) {
    const redisReply *e = r->element[i];
    if (!pf__db_is_str(e) || e->len != PF_SHA256_HEX_LEN) continue;
    memcpy(shas[*got], e->str, PF_SHA256_HEX_LEN);
    shas[*got][PF_SHA256_HEX_LEN] = '\0';
    if (pf_is_sha256_hex(shas[*got])) (*got)++;
  }
  freeReplyObject(r);
  return PF_OK;
}

struct redisReply *pf_db_command(pf_db *db, int argc, const char **argv, const size_t *lens) {
  if (!db || argc < 1 || !argv) return NULL;
  return pf__db_cmd(db, argc, argv, lens);
}


/* ---- first-seen times (pf:seen) ---- */

int pf_db_seen_range(pf_db *db, long long *oldest, long long *newest, long long *tracked) {
  if (!db || !oldest || !newest || !tracked) return PF_EINVAL;
  *oldest = *newest = 0;
  *tracked = 0;
  const char *a[] = {"ZCARD", PF_DB_SEEN_KEY};
  redisReply *r = pf__db_cmd(db, 2, a, NULL);
  if (!r) return PF_EIO;
  int ok = pf__db_rep_ll(r, tracked);
  freeReplyObject(r);
  if (!ok) { pf__db_unexpected(db, "ZCARD"); return PF_EIO; }
  for (int end = 0; end < 2 && *tracked > 0; end++) {
    const char *b[] = {"ZRANGE", PF_DB_SEEN_KEY, end ? "-1" : "0", end ? "-1" : "0", "WITHSCORES"};
    r = pf__db_cmd(db, 5, b, NULL);
    if (!r) return PF_EIO;
    long long v = 0;
    ok = r->type == REDIS_REPLY_ARRAY && r->elements == 2 && pf__db_is_str(r->element[1]);
    if (ok) {
      char num[32];
      pf__db_rep_copy(r->element[1], num, sizeof num);
      v = atoll(num); /* scores are whole seconds */
    }
    freeReplyObject(r);
    if (!ok) { pf__db_unexpected(db, "ZRANGE"); return PF_EIO; }
    if (end) *newest = v;
    else *oldest = v;
  }
  return PF_OK;
}

int pf_db_seen_backfill(pf_db *db, long long now, long long *added) {
  if (!db || now <= 0) return PF_EINVAL;
  if (added) *added = 0;
  char cursor[24] = "0", nows[24];
  snprintf(nows, sizeof nows, "%lld", now);
  long long tracked = 0, oldest, newest;
  pf_db_counts cnt;
  if (pf_db_seen_range(db, &oldest, &newest, &tracked) != PF_OK || pf_db_counts_get(db, &cnt) != PF_OK) return PF_EIO;
  if (tracked >= cnt.samples) return PF_OK; /* nothing to index: the usual case */
  do {
    const char *argv[] = {"SSCAN", "pf:samples", cursor, "COUNT", DB_SCAN_COUNT};
    redisReply *r = pf__db_cmd(db, 5, argv, NULL);
    if (!r) return PF_EIO;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 || !pf__db_is_str(r->element[0]) || r->element[0]->len == 0 ||
        r->element[0]->len >= sizeof cursor || r->element[1]->type != REDIS_REPLY_ARRAY) {
      freeReplyObject(r);
      pf__db_unexpected(db, "SSCAN");
      return PF_EIO;
    }
    pf__db_rep_copy(r->element[0], cursor, sizeof cursor);
    const redisReply *items = r->element[1];
    for (size_t i = 0; i < items->elements; i += (DB_MAX_ARGS - 2)) {
      size_t k = items->elements - i < (DB_MAX_ARGS - 2) ? items->elements - i : (DB_MAX_ARGS - 2);
      const char *v[2 + (DB_MAX_ARGS - 2)];
      size_t nv = 0;
      v[nv++] = PF_DB_SEEN_KEY;
      v[nv++] = nows;
      for (size_t j = 0; j < k; j++)
        if (pf__db_is_str(items->element[i + j]) && items->element[i + j]->len == PF_SHA256_HEX_LEN)
          v[nv++] = items->element[i + j]->str;
      redisReply *e = db_eval(db, S_SEEN_FILL, 1, (int)nv, v, NULL);
      long long x = 0;
      int ok = e && pf__db_rep_ll(e, &x);
      if (e) freeReplyObject(e);
      if (!ok) {
        freeReplyObject(r);
        if (e) pf__db_unexpected(db, "seen backfill");
        return PF_EIO;
      }
      if (added) *added += x;
    }
    freeReplyObject(r);
  } while (strcmp(cursor, "0") != 0);
  return PF_OK;
}

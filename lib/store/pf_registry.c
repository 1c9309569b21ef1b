#include "pf_registry.h"
#include "pf_err.h"
#include "pf_hash.h"
#include "pf_io.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define REG_CURRENT "pf:model:current"
#define REG_SET "pf:models"
#define REG_PROMOTIONS "pf:model:promotions"
#define REG_PROMOTIONS_KEEP 100

/* ---- scripts: every change is one of these (pf_db_eval: EVALSHA, EVAL
 * after NOSCRIPT), so a crash never leaves half a change. Rollback reads
 * pf:model:<version> entries it finds in the promotions list, so this
 * layout is for a standalone Redis, as pf_db's. ---- */

/* REGISTER  KEYS: pf:model:<version>, pf:models
 *           ARGV: dir, samples, now (s), blob, parent, stats, now (ms), version
 * dir and samples always; registered only once; blob, parent and stats
 * when the entry has no blob: a new version (or an entry an interrupted
 * pefleet before these scripts left without one, which this completes) */
static const char reg_register[] =
  "redis.call('HSET', KEYS[1], 'dir', ARGV[1], 'samples', ARGV[2])\n"
  "redis.call('HSETNX', KEYS[1], 'registered', ARGV[3])\n"
  "if redis.call('HEXISTS', KEYS[1], 'blob') == 0 then\n"
  "  redis.call('HSET', KEYS[1], 'blob', ARGV[4], 'parent', ARGV[5], 'stats', ARGV[6])\n"
  "end\n"
  "redis.call('ZADD', KEYS[2], 'NX', ARGV[7], ARGV[8])\n"
  "return 1\n";

/* PROMOTE  KEYS: pf:model:<version>, pf:model:current, pf:model:promotions
 *          ARGV: version, channel, promotions kept
 * -> 0 not registered, 1 promoted (remembered for rollback unless it was
 * current already; published either way) */
static const char reg_promote[] =
  "if redis.call('HEXISTS', KEYS[1], 'blob') == 0 then return 0 end\n"
  "if redis.call('GET', KEYS[2]) ~= ARGV[1] then\n"
  "  redis.call('SET', KEYS[2], ARGV[1])\n"
  "  redis.call('LPUSH', KEYS[3], ARGV[1])\n"
  "  redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[3]) - 1)\n"
  "end\n"
  "redis.call('PUBLISH', ARGV[2], ARGV[1])\n"
  "return 1\n";

/* ROLLBACK  KEYS: pf:model:current, pf:model:promotions  ARGV: channel, promotions read
 * The newest promotion is the current model; the first different,
 * still-registered valid version below it becomes current, the promotions
 * above it are forgotten (so a second rollback goes further back), and it
 * is published. -> that version, or nil when there is none */
static const char reg_rollback[] =
  "local cur = redis.call('GET', KEYS[1])\n"
  "local list = redis.call('LRANGE', KEYS[2], 0, tonumber(ARGV[2]) - 1)\n"
  "for i = 1, #list do\n"
  "  local v = list[i]\n"
  "  if v ~= cur and #v > 0 and #v < 64 and not string.find(v, '[^A-Za-z0-9._-]')\n"
  "     and redis.call('HEXISTS', 'pf:model:' .. v, 'blob') == 1 then\n"
  "    redis.call('LTRIM', KEYS[2], i - 1, -1)\n"
  "    redis.call('SET', KEYS[1], v)\n"
  "    redis.call('PUBLISH', ARGV[1], v)\n"
  "    return v\n"
  "  end\n"
  "end\n"
  "return false\n";

/* SET_GATE  KEYS: pf:model:<version>  ARGV: gate JSON -> 0 not registered, 1 set */
static const char reg_set_gate[] =
  "if redis.call('HEXISTS', KEYS[1], 'blob') == 0 then return 0 end\n"
  "redis.call('HSET', KEYS[1], 'gate', ARGV[1])\n"
  "return 1\n";

/* A script's integer answer: PF_OK with *x, or PF_EIO. */
static int eval_int(pf_db *db, const char *script, int nkeys, int n, const char **v, const size_t *lens,
                    long long *x) {
  redisReply *r = pf_db_eval(db, script, nkeys, n, v, lens);
  if (!r) return PF_EIO;
  int ok = r->type == REDIS_REPLY_INTEGER;
  if (ok) *x = r->integer;
  freeReplyObject(r);
  return ok ? PF_OK : PF_EIO;
}

/* Versions become key names: 1-63 of [A-Za-z0-9._-]. */
static int version_ok(const char *v) {
  size_t n = v ? strlen(v) : 0;
  if (n == 0 || n >= PF_MODEL_NAME) return 0;
  for (size_t i = 0; i < n; i++) {
    char ch = v[i];
    if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
          ch == '_' || ch == '-'))
      return 0;
  }
  return 1;
}

/* Whole file into a malloc'd buffer, at most cap bytes; the reason in err. */
static int slurp(const char *path, size_t cap, uint8_t **out, size_t *len, char *err, size_t errlen) {
  int rc = pf_io_read_file(path, cap, out, len);
  if (rc == PF_ENOENT || rc == PF_EIO) snprintf(err, errlen, "%s: %s", path, strerror(errno));
  else if (rc == PF_EINVAL) snprintf(err, errlen, "%s: not a regular file", path);
  else if (rc == PF_ELIMIT) snprintf(err, errlen, "%s: %zu bytes, more than the %zu allowed", path, *len, cap);
  else if (rc == PF_ENOMEM) snprintf(err, errlen, "out of memory");
  return rc;
}

static int db_fail(pf_db *db, char *err, size_t errlen) {
  snprintf(err, errlen, "%s", pf_db_error(db));
  return PF_EIO;
}

int pf_registry_register(pf_db *db, const char *dir, long long samples, char *version_out, char *err,
                         size_t errlen) {
  if (!db || !dir) return PF_EINVAL;
  char path[1200], version[PF_MODEL_NAME], parent[PF_MODEL_NAME];
  snprintf(path, sizeof path, "%s/%s", dir, PF_MODEL_FILE);
  uint8_t *blob = NULL, *stats = NULL;
  size_t blen = 0, slen = 0;
  int rc = slurp(path, PF_REGISTRY_MAX_BLOB, &blob, &blen, err, errlen);
  if (rc != PF_OK) return rc;
  pf_model *m = NULL;
  char why[256];
  rc = pf_model_decode(blob, blen, &m, why, sizeof why);
  if (rc != PF_OK) {
    snprintf(err, errlen, "%s: %s", path, why);
    free(blob);
    return rc;
  }
  snprintf(version, sizeof version, "%s", m->version);
  snprintf(parent, sizeof parent, "%s", m->parent);
  pf_model_free(&m);
  if (!version[0]) {
    uint8_t d[PF_SHA256_LEN];
    char hex[2 * PF_SHA256_LEN + 1];
    pf_sha256(blob, blen, d);
    pf_hex(d, 8, hex);
    memcpy(version, hex, 17);
  }
  if (!version_ok(version)) {
    snprintf(err, errlen, "%s: version '%s' is not 1-63 of [A-Za-z0-9._-]", path, version);
    free(blob);
    return PF_EINVAL;
  }
  snprintf(path, sizeof path, "%s/stats.json", dir);
  char why2[256];
  if (slurp(path, PF_REGISTRY_MAX_STATS, &stats, &slen, why2, sizeof why2) != PF_OK) {
    stats = NULL;
    slen = 0;
  }
  char absdir[4096];
  if (!realpath(dir, absdir)) snprintf(absdir, sizeof absdir, "%s", dir);
  char key[128], now_s[32], now_ms[32], samp[32];
  snprintf(key, sizeof key, "pf:model:%s", version);
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  snprintf(now_s, sizeof now_s, "%lld", (long long)ts.tv_sec);
  snprintf(now_ms, sizeof now_ms, "%lld", (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
  snprintf(samp, sizeof samp, "%lld", samples);
  const char *v[] = {key, REG_SET, absdir, samp, now_s, (const char *)blob, parent,
                     stats ? (const char *)stats : "", now_ms, version};
  size_t lens[] = {strlen(key), strlen(REG_SET), strlen(absdir), strlen(samp), strlen(now_s), blen,
                   strlen(parent), slen, strlen(now_ms), strlen(version)};
  long long x = 0;
  rc = eval_int(db, reg_register, 2, 10, v, lens, &x);
  free(blob);
  free(stats);
  if (rc != PF_OK) return db_fail(db, err, errlen);
  if (version_out) snprintf(version_out, PF_MODEL_NAME, "%s", version);
  return PF_OK;
}

int pf_registry_current(pf_db *db, char *version) {
  if (!db || !version) return PF_EINVAL;
  version[0] = '\0';
  const char *a[] = {"GET", REG_CURRENT};
  redisReply *r = pf_db_command(db, 2, a, NULL);
  if (!r) return PF_EIO;
  int rc = PF_ENOENT;
  if (r->type == REDIS_REPLY_STRING && r->len > 0 && r->len < PF_MODEL_NAME) {
    memcpy(version, r->str, r->len);
    version[r->len] = '\0';
    rc = version_ok(version) ? PF_OK : PF_EINVAL;
  }
  freeReplyObject(r);
  return rc;
}

int pf_registry_promote(pf_db *db, const char *version, char *err, size_t errlen) {
  if (!db || !version_ok(version)) {
    snprintf(err, errlen, "'%s' is not a model version", version ? version : "");
    return PF_EINVAL;
  }
  char key[128], keep[16];
  snprintf(key, sizeof key, "pf:model:%s", version);
  snprintf(keep, sizeof keep, "%d", REG_PROMOTIONS_KEEP);
  const char *v[] = {key, REG_CURRENT, REG_PROMOTIONS, version, PF_REGISTRY_CHANNEL, keep};
  long long x = 0;
  if (eval_int(db, reg_promote, 3, 6, v, NULL, &x) != PF_OK) return db_fail(db, err, errlen);
  if (x == 0) {
    snprintf(err, errlen, "model %s is not registered (pefleet models lists them)", version);
    return PF_ENOENT;
  }
  return PF_OK;
}

int pf_registry_rollback(pf_db *db, char *version_out, char *err, size_t errlen) {
  if (!db) return PF_EINVAL;
  char keep[16];
  snprintf(keep, sizeof keep, "%d", REG_PROMOTIONS_KEEP);
  const char *v[] = {REG_CURRENT, REG_PROMOTIONS, PF_REGISTRY_CHANNEL, keep};
  redisReply *r = pf_db_eval(db, reg_rollback, 2, 4, v, NULL);
  if (!r) return db_fail(db, err, errlen);
  char target[PF_MODEL_NAME] = "";
  if (r->type == REDIS_REPLY_STRING && r->len > 0 && r->len < PF_MODEL_NAME) {
    memcpy(target, r->str, r->len);
    target[r->len] = '\0';
  }
  int nil = r->type == REDIS_REPLY_NIL;
  freeReplyObject(r);
  if (nil) {
    snprintf(err, errlen, "no earlier promoted model to roll back to");
    return PF_ENOENT;
  }
  if (!version_ok(target)) { /* the script only answers valid versions */
    snprintf(err, errlen, "unexpected answer to the rollback script");
    return PF_EIO;
  }
  if (version_out) snprintf(version_out, PF_MODEL_NAME, "%s", target);
  return PF_OK;
}

int pf_registry_load(pf_db *db, const char *version, pf_model **out, char *err, size_t errlen) {
  if (!db || !out || !version_ok(version)) {
    snprintf(err, errlen, "'%s' is not a model version", version ? version : "");
    return PF_EINVAL;
  }
  char key[128];
  snprintf(key, sizeof key, "pf:model:%s", version);
  const char *a[] = {"HGET", key, "blob"};
  redisReply *r = pf_db_command(db, 3, a, NULL);
  if (!r) return db_fail(db, err, errlen);
  int rc;
  if (r->type != REDIS_REPLY_STRING) {
    snprintf(err, errlen, "model %s is not registered", version);
    rc = PF_ENOENT;
  } else {
    char why[256];
    rc = pf_model_decode((const uint8_t *)r->str, r->len, out, why, sizeof why);
    if (rc != PF_OK) snprintf(err, errlen, "model %s in Redis: %s", version, why);
  }
  freeReplyObject(r);
  return rc;
}

static void field_copy(const redisReply *r, char *dst, size_t n) {
  dst[0] = '\0';
  if (r && r->type == REDIS_REPLY_STRING) snprintf(dst, n, "%.*s", (int)(r->len < n ? r->len : n - 1), r->str);
}

/* pf_registry_get, with the current version already known (cur: "" none). */
static int get_entry(pf_db *db, const char *version, pf_registry_entry *e, char **stats, const char *cur) {
  if (stats) *stats = NULL;
  if (!db || !e || !version_ok(version)) return PF_EINVAL;
  memset(e, 0, sizeof *e);
  char key[128];
  snprintf(key, sizeof key, "pf:model:%s", version);
  const char *a[] = {"HMGET", key, "parent", "registered", "dir", "samples", "stats"};
  redisReply *r = pf_db_command(db, 7, a, NULL);
  if (!r) return PF_EIO;
  if (r->type != REDIS_REPLY_ARRAY || r->elements != 5 || r->element[1]->type != REDIS_REPLY_STRING) {
    freeReplyObject(r);
    return PF_ENOENT;
  }
  snprintf(e->version, sizeof e->version, "%s", version);
  char num[32];
  field_copy(r->element[0], e->parent, sizeof e->parent);
  field_copy(r->element[1], num, sizeof num);
  e->registered = atoll(num);
  field_copy(r->element[2], e->dir, sizeof e->dir);
  field_copy(r->element[3], num, sizeof num);
  e->samples = num[0] ? atoll(num) : -1;
  if (stats) {
    const redisReply *s = r->element[4];
    size_t n = s->type == REDIS_REPLY_STRING ? s->len : 0;
    *stats = malloc(n + 1);
    if (*stats) {
      if (n) memcpy(*stats, s->str, n);
      (*stats)[n] = '\0';
    }
  }
  freeReplyObject(r);
  e->current = strcmp(cur, version) == 0;
  return PF_OK;
}

int pf_registry_get(pf_db *db, const char *version, pf_registry_entry *e, char **stats) {
  char cur[PF_MODEL_NAME];
  if (!db || pf_registry_current(db, cur) != PF_OK) cur[0] = '\0';
  return get_entry(db, version, e, stats, cur);
}

int pf_registry_list(pf_db *db, pf_registry_entry *out, int max, int *n) {
  if (!db || !out || !n || max < 0) return PF_EINVAL;
  *n = 0;
  char stop[16];
  snprintf(stop, sizeof stop, "%d", max - 1);
  if (max == 0) return PF_OK;
  char cur[PF_MODEL_NAME];
  if (pf_registry_current(db, cur) != PF_OK) cur[0] = '\0';
  const char *a[] = {"ZREVRANGE", REG_SET, "0", stop};
  redisReply *r = pf_db_command(db, 4, a, NULL);
  if (!r) return PF_EIO;
  int rc = PF_OK;
  for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements && *n < max; i++) {
    const redisReply *e = r->element[i];
    if (e->type != REDIS_REPLY_STRING || e->len >= PF_MODEL_NAME) continue;
    char v[PF_MODEL_NAME];
    memcpy(v, e->str, e->len);
    v[e->len] = '\0';
    int g = get_entry(db, v, &out[*n], NULL, cur);
    if (g == PF_OK) (*n)++;
    else if (g == PF_EIO) { rc = PF_EIO; break; }
  }
  freeReplyObject(r);
  return rc;
}

int pf_registry_set_gate(pf_db *db, const char *version, const char *gate_json) {
  if (!db || !version_ok(version) || !gate_json || strlen(gate_json) > PF_REGISTRY_MAX_GATE) return PF_EINVAL;
  char key[128];
  snprintf(key, sizeof key, "pf:model:%s", version);
  const char *v[] = {key, gate_json};
  long long x = 0;
  if (eval_int(db, reg_set_gate, 1, 2, v, NULL, &x) != PF_OK) return PF_EIO;
  return x == 1 ? PF_OK : PF_ENOENT;
}

int pf_registry_gate(pf_db *db, const char *version, char **gate) {
  if (!gate) return PF_EINVAL;
  *gate = NULL;
  if (!db || !version_ok(version)) return PF_EINVAL;
  char key[128];
  snprintf(key, sizeof key, "pf:model:%s", version);
  const char *a[] = {"HGET", key, "gate"};
  redisReply *r = pf_db_command(db, 3, a, NULL);
  if (!r) return PF_EIO;
  if (r->type == REDIS_REPLY_STRING && r->len > 0 && r->len <= PF_REGISTRY_MAX_GATE && (*gate = malloc(r->len + 1))) {
    memcpy(*gate, r->str, r->len);
    (*gate)[r->len] = '\0';
  }
  freeReplyObject(r);
  return PF_OK;
}

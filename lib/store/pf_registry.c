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
  /* dir and samples always; the rest only when the version is new (HSETNX) */
  const char *a1[] = {"HSET", key, "dir", absdir, "samples", samp};
  const char *a2[] = {"HSETNX", key, "registered", now_s};
  const char *a3[] = {"HSET", key, "blob", (const char *)blob, "parent", parent, "stats",
                      stats ? (const char *)stats : ""};
  size_t l3[] = {4, strlen(key), 4, blen, 6, strlen(parent), 5, slen};
  const char *a4[] = {"ZADD", REG_SET, "NX", now_ms, version};
  redisReply *r = pf_db_command(db, 6, a1, NULL);
  if (r) { freeReplyObject(r); r = pf_db_command(db, 4, a2, NULL); }
  /* new, or an entry left without its blob by an earlier interrupted call */
  if (r) {
    freeReplyObject(r);
    const char *a5[] = {"HEXISTS", key, "blob"};
    r = pf_db_command(db, 3, a5, NULL);
    if (r && r->type == REDIS_REPLY_INTEGER && r->integer == 0) {
      freeReplyObject(r);
      r = pf_db_command(db, 8, a3, l3);
    }
  }
  if (r) { freeReplyObject(r); r = pf_db_command(db, 5, a4, NULL); }
  free(blob);
  free(stats);
  if (!r) return db_fail(db, err, errlen);
  freeReplyObject(r);
  if (version_out) snprintf(version_out, PF_MODEL_NAME, "%s", version);
  return PF_OK;
}

/* 1 registered, 0 not, -1 Redis failed. */
static int registered(pf_db *db, const char *version) {
  char key[128];
  snprintf(key, sizeof key, "pf:model:%s", version);
  const char *a[] = {"HEXISTS", key, "blob"};
  redisReply *r = pf_db_command(db, 3, a, NULL);
  if (!r) return -1;
  int yes = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
  freeReplyObject(r);
  return yes;
}

static int set_current(pf_db *db, const char *version, int remember, char *err, size_t errlen) {
  const char *a1[] = {"SET", REG_CURRENT, version};
  redisReply *r = pf_db_command(db, 3, a1, NULL);
  if (r && remember) {
    freeReplyObject(r);
    const char *a2[] = {"LPUSH", REG_PROMOTIONS, version};
    r = pf_db_command(db, 3, a2, NULL);
    if (r) {
      freeReplyObject(r);
      const char *a3[] = {"LTRIM", REG_PROMOTIONS, "0", "99"};
      r = pf_db_command(db, 4, a3, NULL);
    }
  }
  if (r) {
    freeReplyObject(r);
    const char *a4[] = {"PUBLISH", PF_REGISTRY_CHANNEL, version};
    r = pf_db_command(db, 3, a4, NULL);
  }
  if (!r) return db_fail(db, err, errlen);
  freeReplyObject(r);
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
  int reg = registered(db, version);
  if (reg < 0) return db_fail(db, err, errlen);
  if (!reg) {
    snprintf(err, errlen, "model %s is not registered (pefleet models lists them)", version);
    return PF_ENOENT;
  }
  char cur[PF_MODEL_NAME];
  int same = pf_registry_current(db, cur) == PF_OK && strcmp(cur, version) == 0;
  return set_current(db, version, !same, err, errlen);
}

int pf_registry_rollback(pf_db *db, char *version_out, char *err, size_t errlen) {
  if (!db) return PF_EINVAL;
  char cur[PF_MODEL_NAME];
  int crc = pf_registry_current(db, cur);
  if (crc == PF_EIO) return db_fail(db, err, errlen);
  const char *a[] = {"LRANGE", REG_PROMOTIONS, "0", "99"};
  redisReply *r = pf_db_command(db, 4, a, NULL);
  if (!r) return db_fail(db, err, errlen);
  /* the newest promotion is the current model; the first different,
   * still-registered one below it is the one to go back to */
  int rc = PF_ENOENT, drop = 0;
  char target[PF_MODEL_NAME] = "";
  if (r->type == REDIS_REPLY_ARRAY) {
    for (size_t i = 0; i < r->elements; i++) {
      const redisReply *e = r->element[i];
      if (e->type != REDIS_REPLY_STRING || e->len == 0 || e->len >= PF_MODEL_NAME) { drop++; continue; }
      char v[PF_MODEL_NAME];
      memcpy(v, e->str, e->len);
      v[e->len] = '\0';
      if (crc == PF_OK && strcmp(v, cur) == 0) { drop++; continue; }
      if (!version_ok(v) || registered(db, v) != 1) { drop++; continue; }
      snprintf(target, sizeof target, "%s", v);
      rc = PF_OK;
      break;
    }
  }
  freeReplyObject(r);
  if (rc != PF_OK) {
    snprintf(err, errlen, "no earlier promoted model to roll back to");
    return rc;
  }
  /* forget the promotions above the target, so a second rollback goes further back */
  char n[16];
  snprintf(n, sizeof n, "%d", drop);
  const char *t[] = {"LTRIM", REG_PROMOTIONS, n, "-1"};
  r = pf_db_command(db, 4, t, NULL);
  if (!r) return db_fail(db, err, errlen);
  freeReplyObject(r);
  rc = set_current(db, target, 0, err, errlen);
  if (rc == PF_OK && version_out) snprintf(version_out, PF_MODEL_NAME, "%s", target);
  return rc;
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
  const char *a[] = {"HEXISTS", key, "blob"};
  redisReply *r = pf_db_command(db, 3, a, NULL);
  if (!r) return PF_EIO;
  int known = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
  freeReplyObject(r);
  if (!known) return PF_ENOENT;
  const char *b[] = {"HSET", key, "gate", gate_json};
  r = pf_db_command(db, 4, b, NULL);
  if (!r) return PF_EIO;
  freeReplyObject(r);
  return PF_OK;
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

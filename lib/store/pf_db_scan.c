/* pf_db_scan: batched reads of sample records (see pf_db_scan.h).
 *
 * A page is sent as one pipeline, HMGET of the record's fields and
 * SMEMBERS of its labels per hash, and every reply is read before fn sees
 * the first record (so fn may use db, whose connection carries the
 * pipeline). The replies are decoded by pf__db_decode, the decoder of
 * pf_db_get: the labels sorted and cut as the GET script does, a record
 * with none of the fields is unknown, as for the GET script's EXISTS. */
#include "pf_db_scan.h"
#include "pf_db_int.h"
#include "pf_err.h"
#include "pf_split.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCAN_COUNT "1000" /* SSCAN's COUNT hint: members a page, read PF_DB_SCAN_BATCH at a time */

typedef char sha_hex[PF_SHA256_HEX_LEN + 1];

/* the fields a VECTORS read asks for */
static const int vec_fields[] = {PF__F_VEC, PF__F_SCHEMA, PF__F_SPLIT};
#define NVEC_FIELDS (sizeof vec_fields / sizeof vec_fields[0])

static int nfields(int flags) { return flags & PF_DB_SCAN_VECTORS ? (int)NVEC_FIELDS : PF__F_COUNT; }
static int field_at(int flags, int i) { return flags & PF_DB_SCAN_VECTORS ? vec_fields[i] : i; }

/* Appends the page's commands to the connection's buffer. */
static int page_send(pf_db *db, const char (*shas)[PF_SHA256_HEX_LEN + 1], size_t n, int flags) {
  const char *argv[2 + PF__F_COUNT];
  char rec[80], labels[96];
  int k = nfields(flags);
  argv[0] = "HMGET";
  for (int i = 0; i < k; i++) argv[2 + i] = pf__db_fields[field_at(flags, i)];
  for (size_t i = 0; i < n; i++) {
    pf__db_rec_key(rec, sizeof rec, shas[i], "");
    pf__db_rec_key(labels, sizeof labels, shas[i], ":labels");
    argv[1] = rec;
    if (redisAppendCommandArgv(db->c, 2 + k, argv, NULL) != REDIS_OK) return PF_ENOMEM;
    const char *sm[] = {"SMEMBERS", labels};
    if (redisAppendCommandArgv(db->c, 2, sm, NULL) != REDIS_OK) return PF_ENOMEM;
  }
  return PF_OK;
}

static void replies_free(redisReply **rep, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (rep[i]) freeReplyObject(rep[i]);
  memset(rep, 0, n * sizeof *rep);
}

/* Sends the page and reads its 2n replies into rep; on a lost connection
 * reopens once and sends it again. PF_OK, PF_ENOMEM or PF_EIO (db->err). */
static int page_read(pf_db *db, const char (*shas)[PF_SHA256_HEX_LEN + 1], size_t n, int flags, redisReply **rep) {
  int rc = PF_EIO;
  pf__db_guard g;
  pf__db_guard_on(&g);
  for (int attempt = 0; attempt < 2 && rc == PF_EIO; attempt++) {
    if (!db->c && pf__db_open(db) != PF_OK) break;
    rc = page_send(db, shas, n, flags);
    for (size_t i = 0; rc == PF_OK && i < 2 * n; i++) {
      void *r = NULL;
      if (redisGetReply(db->c, &r) != REDIS_OK || !r) {
        char buf[64];
        pf__db_err(db, "redis %s:%d: %s", db->host, db->port, pf__db_reason(db, db->c, buf, sizeof buf));
        if (r) freeReplyObject(r);
        rc = PF_EIO;
      }
      rep[i] = r;
    }
    if (rc == PF_ENOMEM) pf__db_err(db, "out of memory");
    if (rc != PF_OK) {
      pf__db_close(db); /* the stream is out of step: never reuse it */
      replies_free(rep, 2 * n);
    }
  }
  pf__db_guard_off(&g);
  return rc;
}

/* byte order, as the GET script's table.sort in the C locale */
static int by_bytes(const void *a, const void *b) {
  const redisReply *x = *(redisReply *const *)a, *y = *(redisReply *const *)b;
  int xs = pf__db_is_str(x), ys = pf__db_is_str(y);
  if (!xs || !ys) return ys - xs; /* non-strings last (join_labels skips them) */
  size_t k = x->len < y->len ? x->len : y->len;
  int c = memcmp(x->str, y->str, k);
  return c ? c : x->len < y->len ? -1 : x->len > y->len;
}

/* One record from its HMGET (h) and SMEMBERS (l) replies into s (sha set).
 * PF_OK / PF_EINVAL / PF_ENOENT as pf_db_scan_fn's rc, or PF_EIO for a
 * reply of another shape (an error reply: a key of another type). */
static int page_decode(pf_db *db, int flags, redisReply *h, redisReply *l, pf_db_sample *s) {
  int k = nfields(flags);
  if (h->type == REDIS_REPLY_ERROR || l->type == REDIS_REPLY_ERROR) {
    pf__db_err_reply(db, h->type == REDIS_REPLY_ERROR ? h : l);
    return PF_EIO;
  }
  if (h->type != REDIS_REPLY_ARRAY || h->elements != (size_t)k || l->type != REDIS_REPLY_ARRAY) {
    pf__db_unexpected(db, "HMGET");
    return PF_EIO;
  }
  const redisReply *f[PF__F_COUNT] = {0};
  int any = 0;
  for (int i = 0; i < k; i++) {
    const redisReply *e = h->element[i];
    if (e->type == REDIS_REPLY_NIL) continue;
    f[field_at(flags, i)] = e;
    any = 1;
  }
  if (!any) {
    pf__db_err(db, "sample %s is not known", s->sha);
    return PF_ENOENT;
  }
  const redisReply *labels = NULL;
  if (l->elements <= PF__DB_LABELS_LISTED) { /* the GET script lists none beyond */
    qsort(l->element, l->elements, sizeof *l->element, by_bytes);
    labels = l;
  }
  return pf__db_decode(db, f, labels, (long long)l->elements, s);
}

/* Reads and hands to fn the records of at most PF_DB_SCAN_BATCH hashes.
 * *stop = 1 when fn asked for it. */
static int page(pf_db *db, const char (*shas)[PF_SHA256_HEX_LEN + 1], size_t n, int flags, pf_db_scan_fn fn,
                void *arg, pf_db_sample *s, redisReply **rep, int *stop) {
  if (n == 0) return PF_OK;
  int rc = page_read(db, shas, n, flags, rep);
  size_t dirty = PF_DB_MAX_DIM; /* vector values that may be left from the record before */
  for (size_t i = 0; rc == PF_OK && i < n && !*stop; i++) {
    /* zeroed as pf_db_get zeroes it, but the vector only where the record
     * before left values: 4 KB a record saved */
    memset(s, 0, offsetof(pf_db_sample, vec));
    memcpy(s->sha, shas[i], sizeof s->sha);
    int d = page_decode(db, flags, rep[2 * i], rep[2 * i + 1], s);
    size_t now = s->has_vector ? s->dim : 0;
    if (d == PF_EINVAL) dirty = 0; /* pf__db_decode zeroed it all */
    if (dirty > now) memset(s->vec + now, 0, (dirty - now) * sizeof *s->vec);
    dirty = now;
    if (d == PF_EIO) rc = PF_EIO;
    else if (fn(s, d, arg)) *stop = 1;
  }
  replies_free(rep, 2 * n);
  return rc;
}

typedef struct {
  pf_db_sample *s;
  redisReply **rep;
  char (*shas)[PF_SHA256_HEX_LEN + 1];
} scratch;

static int scratch_new(pf_db *db, scratch *x) {
  x->s = malloc(sizeof *x->s);
  x->rep = calloc(2 * PF_DB_SCAN_BATCH, sizeof *x->rep);
  x->shas = malloc(PF_DB_SCAN_BATCH * sizeof *x->shas);
  if (x->s && x->rep && x->shas) return PF_OK;
  pf__db_err(db, "out of memory");
  return PF_ENOMEM;
}

static void scratch_free(scratch *x) {
  free(x->s);
  free(x->rep);
  free(x->shas);
}

int pf_db_fetch(pf_db *db, const char (*shas)[PF_SHA256_HEX_LEN + 1], size_t n, int flags, pf_db_scan_fn fn,
                void *arg) {
  if (!db || !fn || (n && !shas) || (flags & ~PF_DB_SCAN_VECTORS)) return PF_EINVAL;
  scratch x;
  int rc = scratch_new(db, &x), stop = 0;
  size_t m = 0;
  for (size_t i = 0; rc == PF_OK && i < n && !stop; i++) {
    if (memchr(shas[i], '\0', sizeof *shas) && pf_is_sha256_hex(shas[i])) {
      memcpy(x.shas[m++], shas[i], sizeof *x.shas);
      if (m == PF_DB_SCAN_BATCH) rc = page(db, (const sha_hex *)x.shas, m, flags, fn, arg, x.s, x.rep, &stop), m = 0;
      continue;
    }
    /* never sent (a key name is built from it): unknown, in its place */
    rc = page(db, (const sha_hex *)x.shas, m, flags, fn, arg, x.s, x.rep, &stop);
    m = 0;
    memset(x.s, 0, sizeof *x.s);
    if (rc == PF_OK && !stop && fn(x.s, PF_ENOENT, arg)) stop = 1;
  }
  if (rc == PF_OK && !stop) rc = page(db, (const sha_hex *)x.shas, m, flags, fn, arg, x.s, x.rep, &stop);
  scratch_free(&x);
  return rc;
}

/* The set's key, or NULL for an unknown set. */
static const char *set_key(int set, char *buf, size_t n) {
  if (set == PF_DB_SET_ALL) return "pf:samples";
  if (set == PF_DB_SET_FAILED) return "pf:failed";
  if (set == PF_DB_SET_DONE) return "pf:done";
  if (!pf_split_name(set)) return NULL;
  snprintf(buf, n, "pf:split:%s", pf_split_name(set));
  return buf;
}

/* One SSCAN page: the members that are hashes into *all (grown to fit,
 * *cap entries; COUNT is a hint and a small set comes whole), *n of them;
 * the next cursor into cursor. PF_OK, PF_ENOMEM or PF_EIO. */
static int scan_page(pf_db *db, const char *key, char cursor[24], sha_hex **all, size_t *cap, size_t *n) {
  *n = 0;
  const char *argv[] = {"SSCAN", key, cursor, "COUNT", SCAN_COUNT};
  redisReply *r = pf__db_cmd(db, 5, argv, NULL);
  if (!r) return PF_EIO;
  int ok = r->type == REDIS_REPLY_ARRAY && r->elements == 2 && pf__db_is_str(r->element[0]) &&
           r->element[0]->len > 0 && r->element[0]->len < 24 && r->element[1]->type == REDIS_REPLY_ARRAY;
  for (size_t i = 0; ok && i < r->element[0]->len; i++)
    ok = r->element[0]->str[i] >= '0' && r->element[0]->str[i] <= '9';
  if (!ok) {
    freeReplyObject(r);
    pf__db_unexpected(db, "SSCAN");
    return PF_EIO;
  }
  pf__db_rep_copy(r->element[0], cursor, 24);
  const redisReply *items = r->element[1];
  if (items->elements > *cap) {
    void *g = realloc(*all, items->elements * sizeof **all);
    if (!g) {
      freeReplyObject(r);
      pf__db_err(db, "out of memory");
      return PF_ENOMEM;
    }
    *all = g;
    *cap = items->elements;
  }
  for (size_t i = 0; i < items->elements; i++) {
    const redisReply *e = items->element[i];
    if (!pf__db_is_str(e) || e->len != PF_SHA256_HEX_LEN) continue;
    char *sha = (*all)[*n];
    memcpy(sha, e->str, PF_SHA256_HEX_LEN);
    sha[PF_SHA256_HEX_LEN] = '\0';
    if (pf_is_sha256_hex(sha)) (*n)++;
  }
  freeReplyObject(r);
  return PF_OK;
}

int pf_db_scan(pf_db *db, int set, int flags, pf_db_scan_fn fn, void *arg) {
  if (!db || !fn) return PF_EINVAL;
  char buf[32];
  const char *key = set_key(set, buf, sizeof buf);
  if (!key || (flags & ~PF_DB_SCAN_VECTORS)) {
    pf__db_err(db, "unknown set %d or flags %d", set, flags);
    return PF_EINVAL;
  }
  scratch x;
  int rc = scratch_new(db, &x), stop = 0;
  char cursor[24] = "0";
  sha_hex *all = NULL;
  size_t cap = 0;
  while (rc == PF_OK && !stop) {
    size_t n = 0;
    rc = scan_page(db, key, cursor, &all, &cap, &n);
    for (size_t i = 0; rc == PF_OK && i < n && !stop; i += PF_DB_SCAN_BATCH) {
      size_t k = n - i < PF_DB_SCAN_BATCH ? n - i : PF_DB_SCAN_BATCH;
      rc = page(db, (const sha_hex *)(all + i), k, flags, fn, arg, x.s, x.rep, &stop);
    }
    if (strcmp(cursor, "0") == 0) break;
  }
  free(all);
  scratch_free(&x);
  return rc;
}

/* ---- pf_db.h's walks ---- */

typedef struct {
  int (*fn)(const pf_db_sample *s, void *arg);
  void *arg;
  int rc;
} each_ctx;

/* unknown records are skipped (removed while we walk); an unreadable
 * vector stops the walk with PF_EINVAL, as pf_db_get's error */
static int each_one(const pf_db_sample *s, int rc, void *arg) {
  each_ctx *x = arg;
  if (rc == PF_ENOENT) return 0;
  if (rc != PF_OK) {
    x->rc = rc;
    return 1;
  }
  return x->fn(s, x->arg);
}

static int each_in(pf_db *db, int set, int (*fn)(const pf_db_sample *s, void *arg), void *arg) {
  each_ctx x = {fn, arg, PF_OK};
  int rc = pf_db_scan(db, set, 0, each_one, &x);
  return rc != PF_OK ? rc : x.rc;
}

int pf_db_each(pf_db *db, int split, int (*fn)(const pf_db_sample *s, void *arg), void *arg) {
  if (!db || !fn) return PF_EINVAL;
  if (split != -1 && !pf_split_name(split)) {
    pf__db_err(db, "unknown split %d", split);
    return PF_EINVAL;
  }
  return each_in(db, split, fn, arg);
}

int pf_db_each_failed(pf_db *db, int (*fn)(const pf_db_sample *s, void *arg), void *arg) {
  if (!db || !fn) return PF_EINVAL;
  return each_in(db, PF_DB_SET_FAILED, fn, arg);
}

/* ---- a sample by the start of its hash ---- */

int pf_db_find_prefix(pf_db *db, const char *prefix, char out[PF_SHA256_HEX_LEN + 1], int *matches) {
  if (!db || !prefix || !out || !matches) return PF_EINVAL;
  *matches = 0;
  out[0] = '\0';
  size_t n = strlen(prefix);
  for (size_t i = 0; i < n; i++)
    if (!((prefix[i] >= '0' && prefix[i] <= '9') || (prefix[i] >= 'a' && prefix[i] <= 'f'))) n = 0;
  if (n == 0 || n > PF_SHA256_HEX_LEN) {
    pf__db_err(db, "a sha256 prefix is 1-%d lower-case hex digits", PF_SHA256_HEX_LEN);
    return PF_EINVAL;
  }
  char cursor[24] = "0", match[PF_SHA256_HEX_LEN + 2];
  snprintf(match, sizeof match, "%s*", prefix);
  do {
    const char *argv[] = {"SSCAN", "pf:samples", cursor, "MATCH", match, "COUNT", SCAN_COUNT};
    redisReply *r = pf__db_cmd(db, 7, argv, NULL);
    if (!r) return PF_EIO;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 || !pf__db_is_str(r->element[0]) ||
        r->element[0]->len == 0 || r->element[0]->len >= sizeof cursor || r->element[1]->type != REDIS_REPLY_ARRAY) {
      freeReplyObject(r);
      pf__db_unexpected(db, "SSCAN");
      return PF_EIO;
    }
    pf__db_rep_copy(r->element[0], cursor, sizeof cursor);
    for (size_t i = 0; i < r->element[1]->elements; i++) {
      const redisReply *e = r->element[1]->element[i];
      if (!pf__db_is_str(e) || e->len != PF_SHA256_HEX_LEN) continue;
      if (*matches == 0) memcpy(out, e->str, PF_SHA256_HEX_LEN), out[PF_SHA256_HEX_LEN] = '\0';
      else if (strncmp(out, e->str, PF_SHA256_HEX_LEN) != 0) *matches = 2;
      if (*matches == 0) *matches = 1;
    }
    freeReplyObject(r);
  } while (strcmp(cursor, "0") != 0 && *matches < 2);
  return PF_OK;
}

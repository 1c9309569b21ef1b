/* pf_db_stream: the pf:vectors stream (see pf_db_stream.h). Every script
 * that stores a vector XADDs {sha} in the same atomic step that adds the
 * sample to pf:done, so a reader that records the newest id before it
 * walks pf:done and then reads from that id misses nothing. */
#include "pf_db_stream.h"
#include "pf_db_int.h"
#include "pf_err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_id(const char *s, uint64_t *ms, uint64_t *seq) {
  char *end;
  if (!s || *s < '0' || *s > '9') return 0;
  *ms = strtoull(s, &end, 10);
  if (end == s || *end != '-') return 0;
  const char *q = end + 1;
  if (*q < '0' || *q > '9') return 0;
  *seq = strtoull(q, &end, 10);
  return end != q && *end == '\0';
}

int pf_db_stream_id_cmp(const char *a, const char *b) {
  uint64_t am, as, bm, bs;
  if (!parse_id(a, &am, &as) || !parse_id(b, &bm, &bs)) return 0;
  if (am != bm) return am < bm ? -1 : 1;
  return as < bs ? -1 : as > bs ? 1 : 0;
}

/* A well-formed id from a reply into dst. */
static int copy_id(char dst[PF_DB_STREAM_ID], const redisReply *r) {
  if (!pf__db_is_str(r) || r->len == 0 || r->len >= PF_DB_STREAM_ID) return 0;
  memcpy(dst, r->str, r->len);
  dst[r->len] = '\0';
  uint64_t a, b;
  return parse_id(dst, &a, &b);
}

int pf_db_vectors_tail(pf_db *db, char id[PF_DB_STREAM_ID]) {
  if (!db || !id) return PF_EINVAL;
  strcpy(id, "0-0");
  const char *argv[] = {"XREVRANGE", PF_DB_VECTORS_KEY, "+", "-", "COUNT", "1"};
  redisReply *r = pf__db_cmd(db, 6, argv, NULL);
  if (!r) return PF_EIO;
  int rc = PF_OK;
  if (r->type == REDIS_REPLY_ARRAY && r->elements == 1 && r->element[0]->type == REDIS_REPLY_ARRAY &&
      r->element[0]->elements >= 1) {
    if (!copy_id(id, r->element[0]->element[0])) rc = PF_EIO;
  } else if (r->type != REDIS_REPLY_ARRAY) {
    rc = PF_EIO;
  }
  if (rc != PF_OK) {
    strcpy(id, "0-0");
    pf__db_unexpected(db, "XREVRANGE");
  }
  freeReplyObject(r);
  return rc;
}

/* The hash an entry's fields [field, value, ...] announce into sha. */
static int entry_sha(const redisReply *f, char sha[PF_SHA256_HEX_LEN + 1]) {
  for (size_t k = 0; f->type == REDIS_REPLY_ARRAY && k + 1 < f->elements; k += 2) {
    const redisReply *name = f->element[k], *val = f->element[k + 1];
    if (!pf__db_is_str(name) || name->len != 3 || memcmp(name->str, "sha", 3) != 0) continue;
    if (!pf__db_is_str(val) || val->len != PF_SHA256_HEX_LEN) return 0;
    memcpy(sha, val->str, PF_SHA256_HEX_LEN);
    sha[PF_SHA256_HEX_LEN] = '\0';
    return pf_is_sha256_hex(sha);
  }
  return 0;
}

int pf_db_vectors_read(pf_db *db, const char *after, int max, char (*shas)[PF_SHA256_HEX_LEN + 1], int *nsha,
                       char last[PF_DB_STREAM_ID], int *entries) {
  uint64_t a, b;
  if (!db || !shas || !nsha || !last || !entries) return PF_EINVAL;
  *nsha = *entries = 0;
  last[0] = '\0';
  if (max < 1 || max > PF_DB_STREAM_READ || !parse_id(after, &a, &b)) return PF_EINVAL;
  char count[16];
  snprintf(count, sizeof count, "%d", max);
  const char *argv[] = {"XREAD", "COUNT", count, "STREAMS", PF_DB_VECTORS_KEY, after};
  redisReply *r = pf__db_cmd(db, 6, argv, NULL);
  if (!r) return PF_EIO;
  /* nil: nothing new; else [[key, [[id, [field, value, ...]], ...]]] */
  if (r->type == REDIS_REPLY_ARRAY && r->elements == 1 && r->element[0]->type == REDIS_REPLY_ARRAY &&
      r->element[0]->elements == 2 && r->element[0]->element[1]->type == REDIS_REPLY_ARRAY) {
    const redisReply *list = r->element[0]->element[1];
    for (size_t i = 0; i < list->elements && *entries < max; i++) {
      const redisReply *e = list->element[i];
      char id[PF_DB_STREAM_ID];
      if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 || !copy_id(id, e->element[0])) continue;
      if (entry_sha(e->element[1], shas[*nsha])) (*nsha)++;
      strcpy(last, id);
      (*entries)++;
    }
  }
  freeReplyObject(r);
  return PF_OK;
}

int pf_db_vectors_continues(pf_db *db, const char *id, char *why, size_t whylen) {
  if (!db || !id || !why || whylen == 0) return PF_EINVAL;
  why[0] = '\0';
  const char *argv[] = {"XINFO", "STREAM", PF_DB_VECTORS_KEY};
  redisReply *r = pf__db_raw(db, 3, argv, NULL);
  if (!r) return PF_EIO;
  if (r->type == REDIS_REPLY_ERROR) {
    /* "no such key": the stream is gone, or never was */
    int gone = r->str && strstr(r->str, "no such key");
    if (!gone) pf__db_err_reply(db, r);
    freeReplyObject(r);
    if (!gone) return PF_EIO;
    if (pf_db_stream_id_cmp(id, "0-0") == 0) return 1;
    snprintf(why, whylen, "the %s stream is gone (redis was flushed or lost its data)", PF_DB_VECTORS_KEY);
    return 0;
  }
  char last[PF_DB_STREAM_ID] = "0-0", maxdel[PF_DB_STREAM_ID] = "0-0", first[PF_DB_STREAM_ID] = "0-0";
  long long added = -1, length = -1;
  if (r->type == REDIS_REPLY_ARRAY)
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
      const redisReply *k = r->element[i], *v = r->element[i + 1];
      if (!pf__db_is_str(k)) continue;
      if (strcmp(k->str, "last-generated-id") == 0) copy_id(last, v);
      if (strcmp(k->str, "max-deleted-entry-id") == 0) copy_id(maxdel, v);
      if (strcmp(k->str, "entries-added") == 0 && !pf__db_rep_ll(v, &added)) added = -1;
      if (strcmp(k->str, "length") == 0 && !pf__db_rep_ll(v, &length)) length = -1;
      if (strcmp(k->str, "first-entry") == 0 && v->type == REDIS_REPLY_ARRAY && v->elements >= 1)
        copy_id(first, v->element[0]);
    }
  freeReplyObject(r);
  if (pf_db_stream_id_cmp(last, id) < 0) {
    snprintf(why, whylen, "the %s stream restarted (its last id %s is before ours, %s): redis lost data",
             PF_DB_VECTORS_KEY, last, id);
    return 0;
  }
  /* XTRIM / MAXLEN do not move max-deleted-entry-id: entries were removed
   * (Redis 7 counts every one added) and the oldest left is past ours, so
   * those after ours may be gone (or ours was the last removed: a reload
   * too many, never one too few) */
  if (added >= 0 && length >= 0 && added > length && pf_db_stream_id_cmp(first, id) > 0) {
    snprintf(why, whylen, "the %s stream was trimmed past our position (its oldest entry %s is after %s)",
             PF_DB_VECTORS_KEY, first, id);
    return 0;
  }
  if (pf_db_stream_id_cmp(maxdel, id) > 0) {
    snprintf(why, whylen, "the %s stream was trimmed past our position (%s deleted, we read up to %s)",
             PF_DB_VECTORS_KEY, maxdel, id);
    return 0;
  }
  return 1;
}

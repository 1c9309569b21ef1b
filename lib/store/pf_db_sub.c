/* pf_db_sub: pub/sub subscriptions (see pf_db_sub.h). */
#include "pf_db_sub.h"
#include "pf_db_int.h"
#include "pf_err.h"

#include <stdlib.h>
#include <string.h>

struct pf_db_sub {
  redisContext *c;
};

int pf_db_subscribe(pf_db *db, const char *channel, int timeout_ms, pf_db_sub **out) {
  if (!out) return PF_EINVAL;
  *out = NULL;
  if (!db || !channel || !*channel || timeout_ms <= 0) return PF_EINVAL;
  pf_db_sub *s = calloc(1, sizeof *s);
  if (!s) return PF_ENOMEM;
  if (!(s->c = pf__db_dial(db, timeout_ms))) {
    free(s);
    return PF_EIO;
  }
  pf__db_guard g;
  pf__db_guard_on(&g);
  const char *argv[] = {"SUBSCRIBE", channel};
  redisReply *r = redisCommandArgv(s->c, 2, argv, NULL);
  pf__db_guard_off(&g);
  int ok = r && r->type == REDIS_REPLY_ARRAY;
  if (!ok) {
    char buf[64];
    if (r && r->type == REDIS_REPLY_ERROR) pf__db_err_reply(db, r);
    else if (r) pf__db_unexpected(db, "SUBSCRIBE");
    else pf__db_err(db, "redis %s:%d: SUBSCRIBE failed: %s", db->host, db->port,
                    pf__db_reason(db, s->c, buf, sizeof buf));
  }
  if (r) freeReplyObject(r);
  if (!ok) {
    pf_db_sub_free(&s);
    return PF_EIO;
  }
  *out = s;
  return PF_OK;
}

void pf_db_sub_free(pf_db_sub **s) {
  if (!s || !*s) return;
  if ((*s)->c) redisFree((*s)->c);
  free(*s);
  *s = NULL;
}

int pf_db_sub_fd(const pf_db_sub *s) { return s && s->c ? s->c->fd : -1; }

int pf_db_sub_read(pf_db_sub *s, void (*fn)(const char *msg, size_t len, void *arg), void *arg) {
  if (!s || !s->c || !fn) return PF_EINVAL;
  if (redisBufferRead(s->c) != REDIS_OK) return PF_EIO;
  for (;;) {
    void *rp = NULL;
    if (redisGetReplyFromReader(s->c, &rp) != REDIS_OK) return PF_EIO;
    if (!rp) return PF_OK;
    redisReply *r = rp;
    /* ["message", channel, payload] */
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 3 && r->element[0]->type == REDIS_REPLY_STRING &&
        strcmp(r->element[0]->str, "message") == 0 && r->element[2]->type == REDIS_REPLY_STRING)
      fn(r->element[2]->str, r->element[2]->len, arg);
    freeReplyObject(r);
  }
}

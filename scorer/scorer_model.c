#include "scorer_model.h"

#include "pf_clock.h"
#include "pf_err.h"
#include "pf_log.h"
#include "pf_registry.h"

#include <hiredis/hiredis.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#define CHECK_MS 2000

void sm_init(sm_state *s, const pf_config *cfg, pf_db *db) {
  memset(s, 0, sizeof *s);
  s->cfg = cfg;
  s->db = db;
}

void sm_free(sm_state *s) {
  if (s->sub) redisFree(s->sub);
  s->sub = NULL;
  pf_model_free(&s->model);
}

int sm_fd(const sm_state *s) { return s->sub ? s->sub->fd : -1; }

/* Loads version and makes it current; the old model stays on failure. */
static void switch_to(sm_state *s, const char *version) {
  pf_model *m = NULL;
  char err[300];
  int rc = pf_registry_load(s->db, version, &m, err, sizeof err);
  if (rc != PF_OK) {
    pf_error("cannot load model %s: %s; still serving %s", version, err, s->version[0] ? s->version : "nothing");
    return;
  }
  pf_info("model %s now serves (was %s): %u inputs, %u classes, threshold %g", version,
          s->version[0] ? s->version : "none", m->sizes[0], pf_model_classes(m), m->threshold);
  pf_model_free(&s->model);
  s->model = m;
  snprintf(s->version, sizeof s->version, "%s", version);
  s->switches++;
}

static void check_current(sm_state *s) {
  char v[PF_MODEL_NAME];
  int rc = pf_registry_current(s->db, v);
  if (rc == PF_OK && strcmp(v, s->version) != 0) switch_to(s, v);
  else if (rc == PF_EIO) pf_debug("cannot read the current model: %s", pf_db_error(s->db));
}

static void sub_open(sm_state *s) {
  redisContext *c = pf_db_dial(s->db, 1000); /* pf_db's own connect: AUTH, SELECT, fleet check */
  if (!c) return;
  redisReply *r = redisCommand(c, "SUBSCRIBE %s", PF_REGISTRY_CHANNEL);
  int ok = r && r->type == REDIS_REPLY_ARRAY;
  if (r) freeReplyObject(r);
  if (!ok) { redisFree(c); return; }
  s->sub = c;
  pf_info("listening for model promotions on %s", PF_REGISTRY_CHANNEL);
  check_current(s); /* anything promoted while we were not listening */
}

/* Reads what the subscriber has; returns 0 when the connection broke. */
static int sub_read(sm_state *s) {
  if (redisBufferRead(s->sub) != REDIS_OK) return 0;
  for (;;) {
    void *rp = NULL;
    if (redisGetReplyFromReader(s->sub, &rp) != REDIS_OK) return 0;
    if (!rp) return 1;
    redisReply *r = rp;
    /* ["message", channel, version] */
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 3 && r->element[2]->type == REDIS_REPLY_STRING &&
        r->element[2]->len < PF_MODEL_NAME) {
      char v[PF_MODEL_NAME];
      memcpy(v, r->element[2]->str, r->element[2]->len);
      v[r->element[2]->len] = '\0';
      pf_info("promotion announced: %s", v);
      if (strcmp(v, s->version) != 0) switch_to(s, v);
    }
    freeReplyObject(r);
  }
}

void sm_tick(sm_state *s, int readable) {
  int64_t now = pf_clock_ms();
  if (s->sub && readable && !sub_read(s)) {
    pf_warn("lost the redis subscription; reconnecting");
    redisFree(s->sub);
    s->sub = NULL;
    s->next_sub_try = now + 500;
  }
  if (!s->sub && now >= s->next_sub_try) {
    sub_open(s);
    if (!s->sub) s->next_sub_try = now + 1000;
  }
  if (now >= s->next_check) {
    check_current(s);
    s->next_check = now + CHECK_MS;
  }
}

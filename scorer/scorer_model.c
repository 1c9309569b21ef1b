#include "scorer_model.h"

#include "pf_clock.h"
#include "pf_err.h"
#include "pf_log.h"
#include "pf_db_sub.h"
#include "pf_registry.h"

#include <stdio.h>
#include <string.h>

#define CHECK_MS 2000

void sm_init(sm_state *s, const pf_config *cfg, pf_db *db) {
  memset(s, 0, sizeof *s);
  s->cfg = cfg;
  s->db = db;
}

void sm_free(sm_state *s) {
  pf_db_sub_free(&s->sub);
  pf_model_free(&s->model);
}

int sm_fd(const sm_state *s) { return s->sub ? pf_db_sub_fd(s->sub) : -1; }

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
  if (pf_db_subscribe(s->db, PF_REGISTRY_CHANNEL, 1000, &s->sub) != PF_OK) return;
  pf_info("listening for model promotions on %s", PF_REGISTRY_CHANNEL);
  check_current(s); /* anything promoted while we were not listening */
}

/* One announcement: the promoted version. */
static void on_message(const char *msg, size_t len, void *arg) {
  sm_state *s = arg;
  if (len >= PF_MODEL_NAME) return;
  char v[PF_MODEL_NAME];
  memcpy(v, msg, len);
  v[len] = '\0';
  pf_info("promotion announced: %s", v);
  if (strcmp(v, s->version) != 0) switch_to(s, v);
}

/* Reads what the subscriber has; returns 0 when the connection broke. */
static int sub_read(sm_state *s) { return pf_db_sub_read(s->sub, on_message, s) == PF_OK; }

void sm_tick(sm_state *s, int readable) {
  int64_t now = pf_clock_ms();
  if (s->sub && readable && !sub_read(s)) {
    pf_warn("lost the redis subscription; reconnecting");
    pf_db_sub_free(&s->sub);
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

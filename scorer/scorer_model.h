/* scorer_model: owns which model a scorer serves and its hot reload.
 * Defines sm_state: the current pf_model and its registry version, a
 * Redis pub/sub subscriber on PF_REGISTRY_CHANNEL whose descriptor joins
 * the scorer's poll, and a periodic check of pf:model:current that covers
 * announcements missed while Redis was away. A new model is loaded whole
 * before it replaces the old one, so the switch falls between requests.
 * Called by scorer/scorer_main.c. */
#ifndef PF_SCORER_MODEL_H
#define PF_SCORER_MODEL_H

#include <stdint.h>

#include "pf_config.h"
#include "pf_db.h"
#include "pf_db_sub.h"
#include "pf_model.h"

typedef struct {
  const pf_config *cfg;
  pf_db *db;                    /* shared with the scorer (not owned) */
  pf_db_sub *sub;               /* subscriber connection, NULL while down */
  pf_model *model;              /* NULL until a model is promoted */
  char version[PF_MODEL_NAME];
  int64_t next_check, next_sub_try;
  long long switches;
} sm_state;

void sm_init(sm_state *s, const pf_config *cfg, pf_db *db);
void sm_free(sm_state *s);

/* The subscriber's descriptor for zmq_poll, or -1 while it is down. */
int sm_fd(const sm_state *s);

/* Call when sm_fd is readable and at least every few hundred ms: reads
 * announcements, checks pf:model:current every 2 s, reconnects the
 * subscriber with backoff, and switches models. */
void sm_tick(sm_state *s, int readable);

#endif

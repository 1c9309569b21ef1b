/* broker: owns job distribution between ingest clients and encoder workers.
 * Defines the worker table (identity, capacity, jobs held, liveness) that
 * broker_main.c's loop drives; jobs themselves live in Redis (pf_db), so a
 * restarted broker loses nothing.
 * Called by broker/broker_main.c only. */
#ifndef PF_BROKER_H
#define PF_BROKER_H

#include <stddef.h>
#include <stdint.h>

#include "pf_hash.h"

#define BROKER_MAX_WORKERS 1024
#define BROKER_MAX_CAPACITY 64
#define BROKER_MAX_ID 64

typedef struct {
  uint8_t id[BROKER_MAX_ID];
  size_t idlen;
  int capacity;
  int njobs;
  char jobs[BROKER_MAX_CAPACITY][PF_SHA256_HEX_LEN + 1];
  unsigned char missing[BROKER_MAX_CAPACITY]; /* heartbeats in a row whose list lacked jobs[i] */
  int64_t expires_ms;  /* dead when the clock passes this */
  unsigned pid;
  int used;
} broker_worker;

typedef struct {
  broker_worker w[BROKER_MAX_WORKERS];
  int n;               /* slots in use up to this index */
} broker_table;

/* The worker with this identity, or NULL. */
broker_worker *broker_find(broker_table *t, const void *id, size_t idlen);

/* Registers (or refreshes) a worker; NULL when the table is full or the
 * identity too long. */
broker_worker *broker_add(broker_table *t, const void *id, size_t idlen, int capacity, int64_t expires_ms);

/* Removes a worker's slot (its jobs must have been dealt with). */
void broker_remove(broker_table *t, broker_worker *w);

/* Adds / removes a job held by w. Removing an unknown sha is a no-op
 * returning 0; returns 1 when it was held. */
int broker_job_add(broker_worker *w, const char *sha);
int broker_job_remove(broker_worker *w, const char *sha);

/* A heartbeat listing the n jobs w says it holds: a job of w's that two
 * lists in a row lack was lost on the way (its message went with a dropped
 * connection) and is taken off w, its sha written to lost[] (room for
 * BROKER_MAX_CAPACITY). Returns how many. */
int broker_job_reconcile(broker_worker *w, char *const *held, size_t n, char (*lost)[PF_SHA256_HEX_LEN + 1]);

/* Printable form of a worker identity (for logs). */
void broker_id_str(const broker_worker *w, char *out, size_t n);

#endif

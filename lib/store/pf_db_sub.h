/* pf_db_sub: owns pub/sub subscriptions on the fleet's Redis.
 * Defines pf_db_sub: a second connection made as pf_db's own (AUTH,
 * SELECT, the fleet check, close-on-exec, SIGPIPE blocked), subscribed to
 * one channel, whose descriptor joins a poll loop.
 * Called by the scorer (model promotions on pf_registry's channel). */
#ifndef PF_DB_SUB_H
#define PF_DB_SUB_H

#include <stddef.h>

#include "pf_db.h"

typedef struct pf_db_sub pf_db_sub;

/* Subscribes to channel on a new connection of db's fleet. PF_OK with *out,
 * PF_EIO (reason in pf_db_error(db)), PF_EINVAL, PF_ENOMEM. */
int pf_db_subscribe(pf_db *db, const char *channel, int timeout_ms, pf_db_sub **out);
void pf_db_sub_free(pf_db_sub **s);

/* The descriptor to poll for input. */
int pf_db_sub_fd(const pf_db_sub *s);

/* Reads what has arrived without blocking and calls fn with each message's
 * payload (len bytes, not NUL-terminated) on the channel. PF_OK, or PF_EIO
 * when the connection broke (free it and subscribe again). */
int pf_db_sub_read(pf_db_sub *s, void (*fn)(const char *msg, size_t len, void *arg), void *arg);

#endif

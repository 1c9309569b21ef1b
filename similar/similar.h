/* similar: the similarity service's parts (bin/pefleet-similar).
 * Defines sim_sync: the index's Redis side (the initial load of every
 * stored vector, then the pf:vectors stream followed from the id recorded
 * before that load, with re-sync after a Redis restart or a trimmed
 * stream). Called by similar_main.c. */
#ifndef SIMILAR_H
#define SIMILAR_H

#include "pf_config.h"
#include "pf_simindex.h"

typedef struct sim_sync sim_sync;

/* Connects to the Redis of cfg, waiting for it while *stop is 0.
 * PF_OK, or PF_EIO when stopped first. */
int sim_sync_new(const pf_config *cfg, volatile int *stop, sim_sync **out);
void sim_sync_free(sim_sync **s);

/* Builds a fresh index of every stored vector (pf:done): records the
 * stream's last id first, then loads with pipelined reads, logging
 * progress and the time taken. Samples whose vector is missing or has
 * another dimension are counted and skipped. PF_OK with *out, or PF_EIO
 * (Redis went away: call again) / PF_ENOMEM. */
int sim_sync_load(sim_sync *s, pf_simindex **out);

/* Adds the vectors stored since the last call (XREAD from the recorded id,
 * non-blocking). After a Redis error it checks, once Redis answers again,
 * that the stream still continues from our id (not reset, not trimmed past
 * it); if not, it reloads everything into a new index and swaps *ix.
 * Returns how many vectors were added (>= 0), or PF_EIO while Redis is
 * unreachable (logged once per outage). */
int sim_sync_poll(sim_sync *s, pf_simindex **ix);

/* Read-your-writes: reads the stream's newest id now and follows the
 * stream until the index holds everything up to it, for at most budget_ms.
 * PF_OK (caught up: a vector stored before this call is in the index),
 * PF_ETIMEOUT (still behind) or PF_EIO (Redis unreachable). */
int sim_sync_catch_up(sim_sync *s, pf_simindex **ix, int budget_ms);

#endif

/* sv_run: owns the supervisor daemon of `pefleet up`. Started detached (a
 * session of its own, its log in DATA/logs/supervisor.log), it starts each
 * daemon of the fleet with its log in DATA/logs/, restarts one that dies
 * after 0.25 s doubling to 30 s (pf_backoff_ms; back to 0.25 s after a run
 * of over 60 s), keeps DATA/fleet.state current, and on SIGTERM stops
 * them all, Redis last.
 * Defines sv_launch (detach it, wait for the fleet) and sv_stop (down).
 * Called by supervisor/sv_up.c and cli/cmd_up.c (pefleet down). */
#ifndef SV_RUN_H
#define SV_RUN_H

#include <stddef.h>
#include <sys/types.h>

#include "pf_config.h"
#include "pf_db.h"
#include "sv_state.h"

/* Starts a supervisor of st's daemons (st->n of them, pids 0) detached
 * from this process, then waits up to 15 s for Redis to answer and every
 * daemon to run; st is what fleet.state says by then. PF_OK with *db
 * connected to the fleet's Redis (the caller frees it); PF_EIO when fork
 * failed; PF_ETIMEOUT when the fleet did not come up, stopped again
 * (sv_abort). Either error has its sentence in err. */
int sv_launch(const pf_config *c, sv_state *st, pf_db **db, char *err, size_t errlen);

typedef enum {
  SV_STOP_NOTHING,    /* no fleet.state: nothing was running */
  SV_STOP_DONE,       /* the supervisor stopped its fleet */
  SV_STOP_ORPHANS,    /* the supervisor had died; the *n daemons it left were stopped */
  SV_STOP_NONE_LEFT,  /* the supervisor had died and none of its daemons runs */
  SV_STOP_TIMEOUT,    /* the supervisor (*pid) did not stop within 30 s */
} sv_stop_outcome;

/* Stops the fleet of c->data: SIGTERM to its supervisor, waiting up to
 * 30 s for it (and a moment for init to reap it); or, when the supervisor
 * was killed, the daemons it left (Redis last), then forgets the fleet.
 * n and pid may be NULL. */
sv_stop_outcome sv_stop(const pf_config *c, int *n, pid_t *pid);

#endif

/* sv_checks: owns what `pefleet up` does around starting a fleet: the
 * fleet id it records, the ports it checks before starting anything, and
 * stopping everything it started when the fleet does not come up.
 * Defines sv_fleet_id, sv_ports_check, sv_abort.
 * Called by supervisor/sv_up.c only. */
#ifndef SV_CHECKS_H
#define SV_CHECKS_H

#include <stddef.h>

#include "sv_state.h"
#include "pf_config.h"

/* c->fleet_id: kept when set (PEFLEET_FLEET_ID), else from DATA/pefleet.conf when it has one (the fleet's
 * Redis already records it), else a new random one. PF_EIO when no random
 * bytes could be read. */
int sv_fleet_id(pf_config *c, char *err, size_t errlen);

/* Binds, for a moment, every TCP port the fleet's daemons will listen on
 * (Redis, broker ingest and workers, and with scorers the score router,
 * the similarity service and the HTTP gateway). PF_EIO naming the busy
 * port and the option that moves it; PF_EINVAL when two roles share one. */
int sv_ports_check(const pf_config *c, char *err, size_t errlen);

/* The fleet did not come up: stops the supervisor (which stops its
 * daemons), kills whatever of st is left, and forgets the fleet. */
void sv_abort(const pf_config *c, const sv_state *st);

#endif

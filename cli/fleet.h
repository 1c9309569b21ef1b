/* fleet: owns what the fleet commands (ingest, status, export, up, down)
 * share: finding the fleet's configuration and connecting to its Redis
 * (the daemons' state file and programs: supervisor/sv_state.h).
 * Called by cli/cmd_*.c. */
#ifndef PF_FLEET_H
#define PF_FLEET_H

#include <stddef.h>

#include "pf_config.h"
#include "pf_db.h"

/* pf_config_resolve for a command that works on a running fleet. Without
 * config, DATA/pefleet.conf must exist, unless the environment names the
 * fleet (PEFLEET_REDIS_HOST, PEFLEET_REDIS_PORT or PEFLEET_INGEST_ENDPOINT,
 * as compose.yaml does); else prints "WHO: no fleet in DATA (pefleet up
 * --data DATA)". Returns 0, 1 (no fleet) or 2 (bad configuration, printed):
 * the command's exit status when not 0. */
int fleet_resolve(const char *who, const char *data, const char *config, pf_config *c);

/* Connects to the fleet's Redis; PF_EIO with a reason in err. */
int fleet_db(const pf_config *c, pf_db **db, char *err, size_t errlen);

#endif

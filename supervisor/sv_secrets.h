/* sv_secrets: owns the secrets pefleet up makes for a fleet on one machine.
 * Defines sv_secrets_prepare(): the data folder and its redis/ folder
 * private (0700); the Redis password: PEFLEET_REDIS_PASSWORD when set, else
 * the one an existing DATA/pefleet.conf holds (read, never replaced by a
 * new one, so the fleet's clients keep working), else a new random one
 * (getrandom, PF_SECRET_PASSWORD_BYTES), unless --no-redis-password; and
 * sv_secrets_redis_stdin(), which hands redis-server its password on stdin
 * ("redis-server ... -"), never on a command line that ps shows.
 * pefleet.conf itself is written 0600 from the start by pf_config_save.
 * Called by supervisor/sv_up.c and sv_run.c. */
#ifndef SV_SECRETS_H
#define SV_SECRETS_H

#include <stddef.h>

#include "pf_config.h"

/* cfg: the settings up has resolved (cfg->data absolute and existing).
 * no_password: --no-redis-password. Prints one line on what it chose.
 * PF_OK, or an error with err (an unreadable pefleet.conf, no randomness). */
int sv_secrets_prepare(pf_config *cfg, int no_password, char *err, size_t errlen);

/* In the forked child, before exec of redis-server: when c has a password,
 * makes stdin a pipe holding "requirepass <password>" (redis-server must
 * then get "-" as its last argument). Returns 1 when it did, 0 when no
 * password (stdin left alone), -1 when the pipe could not be made. */
int sv_secrets_redis_stdin(const pf_config *c);

#endif

/* sv_up: owns what `pefleet up` does: the fleet's settings from its
 * flags over PEFLEET_* (written to DATA/pefleet.conf), its secrets, id and
 * port checks, the folders, the list of daemons, the detached supervisor
 * (sv_run), and the first-seen backfill once Redis answers.
 * Defines sv_up_opts (the flags), sv_up_result and sv_up.
 * Called by cli/cmd_up.c. */
#ifndef SV_UP_H
#define SV_UP_H

#include <stddef.h>

#include "pf_config.h"
#include "pf_db.h"
#include "sv_state.h"

/* The flags of `pefleet up`; a port of -1 was not given (a PEFLEET_*
 * variable, else the default, applies). */
typedef struct {
  const char *data;          /* NULL: $PEFLEET_DATA or ./pefleet-data */
  long workers, scorers, max_attempts;
  long http_port, redis_port, ingest_port, worker_port, score_port, scorer_port, similar_port, clamd_port;
  const char *clamd_socket;  /* NULL: none */
  int no_redis_password;
} sv_up_opts;

/* o with every port -1 and the defaults of the rest (workers: the cores). */
void sv_up_opts_default(sv_up_opts *o);

typedef struct {
  pf_config cfg;             /* the settings the fleet runs with (cfg.data absolute) */
  sv_state st;               /* its supervisor and daemons */
  pf_db *db;                 /* connected to the fleet's Redis; the caller frees it */
  long long backfilled;      /* samples stored before first-seen indexing that joined pf:seen */
  char backfill_err[300];    /* why that failed; "" when it worked */
} sv_up_result;

/* Starts the fleet (a progress line or two on stdout: the password made,
 * a program missing). Returns 0 when it runs; 1 when it did not start
 * (nothing left running), or 2 for a bad setting, with the sentence in err. */
int sv_up(const sv_up_opts *o, sv_up_result *r, char *err, size_t errlen);

#endif

/* Shared helpers of the fleet commands (see fleet.h). */
#include "fleet.h"
#include "pf_daemon.h"
#include "pf_err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int fleet_resolve(const char *who, const char *data, const char *config, pf_config *c) {
  char err[512];
  if (pf_config_resolve(c, data, config, err, sizeof err) != PF_OK) {
    fprintf(stderr, "%s: %s\n", who, err);
    return 2;
  }
  if (config) return 0;
  char p[1100];
  snprintf(p, sizeof p, "%s/pefleet.conf", c->data);
  if (access(p, F_OK) == 0) return 0;
  static const char *const named[] = {"PEFLEET_REDIS_HOST", "PEFLEET_REDIS_PORT", "PEFLEET_INGEST_ENDPOINT"};
  for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
    if (getenv(named[i]) && *getenv(named[i])) return 0;
  fprintf(stderr, "%s: no fleet in %s (pefleet up --data %s)\n", who, c->data, c->data);
  return 1;
}

int fleet_db(const pf_config *c, pf_db **db, char *err, size_t errlen) {
  pf_db_opts o;
  pf_daemon_db_opts(c, &o);
  return pf_db_connect(&o, db, err, errlen);
}

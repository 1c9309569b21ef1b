/* fleet: owns what the fleet commands (ingest, status, export, up, down)
 * share: finding the fleet's configuration, connecting to its Redis, the
 * daemons' state file and locating the daemon programs.
 * Called by cli/cmd_*.c. */
#ifndef PF_FLEET_H
#define PF_FLEET_H

#include <stddef.h>
#include <sys/types.h>

#include "pf_config.h"
#include "pf_db.h"

#define FLEET_MAX_DAEMONS 130

typedef struct {
  char role[32];     /* redis, broker, encoder-worker */
  int index;
  pid_t pid;         /* 0 while waiting to be restarted */
  int restarts;
} fleet_daemon;

typedef struct {
  pid_t supervisor;
  int n;
  fleet_daemon d[FLEET_MAX_DAEMONS];
} fleet_state;

/* pf_config_resolve for a command that works on a running fleet. Without
 * config, DATA/pefleet.conf must exist, unless the environment names the
 * fleet (PEFLEET_REDIS_HOST, PEFLEET_REDIS_PORT or PEFLEET_INGEST_ENDPOINT,
 * as compose.yaml does); else prints "WHO: no fleet in DATA (pefleet up
 * --data DATA)". Returns 0, 1 (no fleet) or 2 (bad configuration, printed):
 * the command's exit status when not 0. */
int fleet_resolve(const char *who, const char *data, const char *config, pf_config *c);

/* Connects to the fleet's Redis; PF_EIO with a reason in err. */
int fleet_db(const pf_config *c, pf_db **db, char *err, size_t errlen);

/* DATA/fleet.state: written atomically by the supervisor, read by status.
 * Load returns PF_ENOENT when no fleet was started in DATA. */
int fleet_state_save(const pf_config *c, const fleet_state *s);
int fleet_state_load(const pf_config *c, fleet_state *s);

/* 1 when pid is a live process. */
int fleet_alive(pid_t pid);

/* Daemons of s still running although their supervisor is gone (it was
 * killed): live pids whose command line names c->data or that work under
 * it (redis-server), so a pid reused by an unrelated process is not
 * counted. Writes up to max of their indexes
 * in s->d into idx; returns how many. */
int fleet_orphans(const pf_config *c, const fleet_state *s, int *idx, int max);

/* Path of a program installed beside the running pefleet binary. */
int fleet_program(const char *name, char *out, size_t n);

#endif

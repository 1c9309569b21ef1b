/* sv_state: owns DATA/fleet.state, the record of a fleet `pefleet up`
 * started: the supervisor's pid and each daemon's role, index, pid and
 * restarts (written atomically by the supervisor, read by status, up and
 * down); whether a recorded process still runs, which ones outlived their
 * supervisor, and where the fleet's programs are installed.
 * Called by supervisor/ and cli/ (status, serve, train). */
#ifndef SV_STATE_H
#define SV_STATE_H

#include <stddef.h>
#include <sys/types.h>

#include "pf_config.h"

#define SV_MAX_DAEMONS 130

typedef struct {
  char role[32];     /* redis, broker, encoder-worker */
  int index;
  pid_t pid;         /* 0 while waiting to be restarted */
  int restarts;
} sv_daemon;

typedef struct {
  pid_t supervisor;
  int n;
  sv_daemon d[SV_MAX_DAEMONS];
} sv_state;

/* DATA/fleet.state: written atomically by the supervisor, read by status.
 * Load returns PF_ENOENT when no fleet was started in DATA. */
int sv_state_save(const pf_config *c, const sv_state *s);
int sv_state_load(const pf_config *c, sv_state *s);

/* 1 when pid is a live process. */
int sv_alive(pid_t pid);

/* Daemons of s still running although their supervisor is gone (it was
 * killed): live pids whose command line names c->data or that work under
 * it (redis-server), so a pid reused by an unrelated process is not
 * counted. Writes up to max of their indexes
 * in s->d into idx; returns how many. */
int sv_orphans(const pf_config *c, const sv_state *s, int *idx, int max);

/* Path of a program installed beside the running pefleet binary. */
int sv_program(const char *name, char *out, size_t n);

#endif

/* pf_daemon: owns what every pefleet daemon does the same way at start:
 * its command line (--help, --data, --config and its own numbers), its log
 * name, its configuration, its stop signals, its Redis connection options
 * from the configuration, and waiting for Redis to answer.
 * Called by the broker, the encoder worker, the scorer, the similarity
 * service and the fleet commands (cli/fleet.c). */
#ifndef PF_DAEMON_H
#define PF_DAEMON_H

#include <signal.h>
#include <stdio.h>

#include "pf_config.h"
#include "pf_db.h"

/* A numeric option of one daemon (--capacity N): value is set when given;
 * outside [min, max] is a usage error. */
typedef struct {
  const char *flag;
  long *value;
  long min, max;
} pf_daemon_num;

typedef struct {
  const char *program;       /* "pefleet-broker": the prefix of its messages */
  const char *component;     /* its log name ("broker") */
  void (*usage)(FILE *f);
  const pf_daemon_num *nums; /* its own options, ended by {NULL}; NULL: none */
  int keep_heap;             /* pf_daemon_keep_heap() */
} pf_daemon_spec;

/* The start every daemon shares: parses --help, --data DIR, --config FILE
 * and spec->nums; sets the log name; resolves the configuration into cfg;
 * makes SIGINT and SIGTERM set *stop and ignores SIGPIPE. Returns -1 to go
 * on, else the status main returns (0 after --help; 2 for a usage or
 * configuration error, said on stderr in one line). */
int pf_daemon_start(const pf_daemon_spec *spec, int argc, char **argv, pf_config *cfg, volatile sig_atomic_t *stop);

/* o = pf_db_opts_default, then host, port, password (empty: none), db and
 * fleet id (empty: no check) from c. */
void pf_daemon_db_opts(const pf_config *c, pf_db_opts *o);

/* Connects with o, retrying every 200 ms (a warning with the reason every
 * 2 s) until Redis answers. Returns PF_OK, PF_EIO once *stop is set, or
 * PF_EFLEET (logged as an error) at once when the Redis serves another
 * fleet: a daemon never serves a fleet that is not its own. */
int pf_daemon_db_wait(const pf_db_opts *o, pf_db **db, volatile sig_atomic_t *stop);

/* Daemons that handle large requests (uploads of up to 128 MiB) one after
 * another: malloc serves big buffers from its heap and keeps freed memory
 * mapped, instead of a fresh mmap, page faults and munmap per request
 * (glibc mallopt; a no-op elsewhere). */
void pf_daemon_keep_heap(void);

#endif

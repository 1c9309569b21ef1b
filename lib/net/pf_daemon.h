/* pf_daemon: owns what every pefleet daemon does the same way at start:
 * its Redis connection options from the configuration, and waiting for
 * Redis to answer.
 * Called by the broker, the encoder worker, the scorer, the similarity
 * service and the fleet commands (cli/fleet.c). */
#ifndef PF_DAEMON_H
#define PF_DAEMON_H

#include <signal.h>

#include "pf_config.h"
#include "pf_db.h"

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

/* cd_conn: owns one client connection of pefleet-clamd: reading commands,
 * IDSESSION numbering, INSTREAM chunks, FILDES descriptors, and replies
 * with the terminator each command asked for.
 * Defines cd_conn_start(): a detached thread per connection (the caller
 * has counted it against --max-connections).
 * Called by cd_main.c. */
#ifndef CD_CONN_H
#define CD_CONN_H

#include "clamd.h"

/* Serves fd (a connected socket; is_unix: it may carry descriptors) on
 * a new thread, which closes it. peer names the client in logs. Returns
 * PF_OK or PF_EIO (no thread: fd closed). */
int cd_conn_start(const cd_opts *o, int fd, int is_unix, const char *peer);

/* Set when SHUTDOWN was accepted (--allow-shutdown). */
extern volatile int cd_shutdown_requested;

#endif

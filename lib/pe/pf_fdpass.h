/* pf_fdpass: owns passing one descriptor beside a message on a unix
 * socket (SCM_RIGHTS).
 * Called by pf_encoder (sends each sample's descriptor to its sandbox) and
 * sandbox/ (receives it). */
#ifndef PF_FDPASS_H
#define PF_FDPASS_H

#include <stddef.h>
#include <sys/types.h>

/* Sends buf[0..n) with fd attached (fd < 0: none) as one message.
 * Returns PF_OK or PF_EIO (errno set). */
int pf_fdpass_send(int sock, const void *buf, size_t n, int fd);

/* Receives one message of at most cap bytes into buf. Returns its length,
 * 0 at EOF, or -1 (errno set). *fd is the descriptor it carried or -1;
 * a message carrying more than one has the extra ones closed, and the
 * received descriptors are close-on-exec. */
ssize_t pf_fdpass_recv(int sock, void *buf, size_t cap, int *fd);

#endif

/* pf_zmq: owns how pefleet envelopes travel over ZeroMQ sockets.
 * Defines multipart receive with a frame-count cap, and send of an
 * envelope behind an optional routing identity and empty delimiter.
 * Called by the broker, the encoder worker and the commands that talk to
 * the broker. */
#ifndef PF_ZMQ_H
#define PF_ZMQ_H

#include <stddef.h>
#include <zmq.h>

#include "pf_msg.h"

#define PF_ZMQ_MAX_FRAMES 4

typedef struct {
  int n;                            /* frames kept */
  int dropped;                      /* frames discarded (on PF_ELIMIT: all of them, n is 0) */
  zmq_msg_t part[PF_ZMQ_MAX_FRAMES];
} pf_zframes;

/* Receives one whole multipart message (flags: 0 or ZMQ_DONTWAIT).
 * Returns PF_OK (f->n frames to release with pf_zframes_close), PF_ELIMIT
 * when more frames came than the cap (the whole message is consumed and
 * released; f->dropped says how many frames it had), or PF_EIO (errno set,
 * e.g. EAGAIN; nothing held). pf_zframes_close is harmless after either error. */
int pf_zrecv(void *sock, pf_zframes *f, int flags);
void pf_zframes_close(pf_zframes *f);

/* Sends [id][""][envelope] (id NULL: no identity; delim 0: no empty frame).
 * Returns PF_OK, PF_ENOMEM, or PF_EIO with errno (EHOSTUNREACH when a
 * ROUTER_MANDATORY peer is gone). */
int pf_zsend_env(void *sock, const void *id, size_t idlen, int delim, Pefleet__Envelope *env);

/* Connects sock (a client socket, not yet connected, without a monitor)
 * to endpoint and waits up to timeout_ms for the peer to complete the
 * ZeroMQ handshake (CURVE included): a peer that answers. ctx: sock's
 * context. PF_OK when it did; PF_ETIMEOUT otherwise, with the cause in err
 * (nothing listens there and connect's reason, a listener that never
 * completed a handshake, a CURVE key the peer refused) and the seconds
 * waited in *waited_s (may be NULL). PF_EIO when connect itself failed
 * (bad endpoint; err says why). */
int pf_zmq_connect_wait(void *ctx, void *sock, const char *endpoint, int timeout_ms, char *err, size_t errlen,
                        double *waited_s);

#endif

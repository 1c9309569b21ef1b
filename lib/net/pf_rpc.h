/* pf_rpc: owns the client side of pefleet's request/reply services (the
 * score router and the similarity service).
 * Defines a DEALER connection that sends one Envelope per request (one
 * frame, no delimiter) and waits for the one-frame Envelope reply whose
 * request_id matches, discarding stale replies of calls that timed out.
 * Called by the HTTP gateway, `pefleet scan --server`, `pefleet similar`
 * and the tests' load generators. One pf_rpc per thread (ZeroMQ sockets
 * are not thread-safe). */
#ifndef PF_RPC_H
#define PF_RPC_H

#include <stddef.h>

#include "pf_config.h"
#include "pf_msg.h"

typedef struct pf_rpc pf_rpc;

/* Connects a DEALER to endpoint ("tcp://host:port"). zctx: a ZeroMQ
 * context the caller owns (shared by threads), or NULL for a private one.
 * cfg (may be NULL) supplies CURVE client keys when cfg->curve is set.
 * Returns PF_OK, PF_EINVAL (bad endpoint) or PF_EIO with a reason. */
int pf_rpc_new(void *zctx, const char *endpoint, const pf_config *cfg, pf_rpc **out, char *err, size_t errlen);
void pf_rpc_free(pf_rpc **r);

/* Sends req (body score or similar; the call sets its request_id) and
 * waits up to timeout_ms for the matching reply. Returns PF_OK with
 * *reply set (free with pf_msg_free; its body is score_reply or
 * similar_reply), PF_ETIMEOUT when no reply came in time (the service is
 * down or overloaded), PF_EINVAL (req has another body, or the reply was
 * malformed), PF_ENOMEM or PF_EIO; the reason in err. */
int pf_rpc_call(pf_rpc *r, Pefleet__Envelope *req, int timeout_ms, Pefleet__Envelope **reply, char *err,
                size_t errlen);

/* The asynchronous side, for one thread that multiplexes many calls on one
 * pf_rpc (the gateway's pool thread); pf_rpc_call is built on it. */

/* Gives req (body score or similar) a fresh request id, copied into id
 * (idlen >= 64), and packs it into *out (malloc'd; for pf_rpc_send).
 * Safe to call from several threads at once on one r. Returns the length,
 * or PF_EINVAL / PF_ENOMEM with the reason in err. */
long pf_rpc_pack(pf_rpc *r, Pefleet__Envelope *req, char *id, size_t idlen, uint8_t **out, char *err, size_t errlen);

/* Sends a packed request, waiting up to wait_ms for a live connection
 * with room (0: not at all). Takes buf in every case (ZeroMQ frees it once
 * sent). Returns PF_OK, PF_ETIMEOUT (no connection in time) or PF_EIO. */
int pf_rpc_send(pf_rpc *r, uint8_t *buf, size_t len, int wait_ms, char *err, size_t errlen);

/* Takes one reply if one is waiting, without blocking. Returns PF_OK with
 * *reply (its id: pf_rpc_reply_id), PF_ETIMEOUT (none waiting) or PF_EINVAL
 * (a malformed or multi-frame answer, dropped). */
int pf_rpc_recv(pf_rpc *r, Pefleet__Envelope **reply);

/* The request id a reply answers (NULL: not a score or similar reply). */
const char *pf_rpc_reply_id(const Pefleet__Envelope *e);

/* The DEALER socket, to zmq_poll with others (ZMQ_POLLIN: replies). */
void *pf_rpc_socket(pf_rpc *r);

#endif

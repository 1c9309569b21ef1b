/* pf_peer: owns the heartbeat and reconnect timing between pefleet daemons
 * (zguide's Paranoid Pirate): heartbeats go out every interval; a peer not
 * heard from for interval x liveness is dead; a client whose server went
 * quiet dials it again, waiting longer each time (exponential backoff).
 * Defines pf_heartbeat (the interval, the liveness, the next beat),
 * pf_peer (a client's one server: when it was heard, its backoff),
 * pf_backoff_ms, and a client's DEALER dialled to its server.
 * Called by the broker and the score router (their peers' expiry), the
 * encoder worker and the scorer (their server, and the redial), and the
 * supervisor of `pefleet up` (the restart backoff). */
#ifndef PF_PEER_H
#define PF_PEER_H

#include <stddef.h>
#include <stdint.h>

#include "pf_config.h"

/* A client's redial backoff: 250 ms, doubling to 8 s. */
#define PF_PEER_BACKOFF_FIRST_MS 250
#define PF_PEER_BACKOFF_MAX_MS 8000

typedef struct {
  int interval_ms;     /* a heartbeat goes out this often */
  int liveness;        /* heartbeats missed before the peer counts as dead */
  int64_t next_ms;     /* when the next heartbeat is due */
} pf_heartbeat;

/* h's interval and liveness from c (heartbeat_ms, liveness); the first
 * heartbeat is due one interval after now. */
void pf_heartbeat_init(pf_heartbeat *h, const pf_config *c, int64_t now);

/* How long a peer may stay silent before it is dead: interval x liveness. */
int64_t pf_heartbeat_expiry_ms(const pf_heartbeat *h);

/* 1 when a heartbeat is due at now (the next one is then due one interval
 * later), else 0. */
int pf_heartbeat_due(pf_heartbeat *h, int64_t now);

/* 1 when a peer last heard from at seen_ms is dead at now (silent for more
 * than the expiry), else 0. */
int pf_heartbeat_expired(const pf_heartbeat *h, int64_t seen_ms, int64_t now);

/* The delay before retry number attempt (0 for the first): first_ms
 * doubled attempt times, at most max_ms. */
int pf_backoff_ms(int attempt, int first_ms, int max_ms);

/* A client's one server (the broker of a worker, the router of a scorer). */
typedef struct {
  pf_heartbeat hb;
  int64_t seen_ms;     /* last message from the server (or the last dial) */
  int redials;         /* dials since the server was last heard from */
  int backoff_ms;      /* the extra silence allowed before the next redial */
} pf_peer;

/* p's timing from c; not dialled yet. */
void pf_peer_init(pf_peer *p, const pf_config *c);

/* A (re)dial just happened at now (the client announced itself): the
 * silence counts from now and the next heartbeat is due one interval later. */
void pf_peer_dialled(pf_peer *p, int64_t now);

/* The server spoke at now: it is alive, and the backoff is over. */
void pf_peer_heard(pf_peer *p, int64_t now);

/* 1 when the client should dial again at now: the server has been silent
 * for more than its expiry plus the current backoff, which then grows
 * (PF_PEER_BACKOFF_FIRST_MS doubling to PF_PEER_BACKOFF_MAX_MS); *silent_ms
 * (may be NULL) says for how long. Else 0. */
int pf_peer_lost(pf_peer *p, int64_t now, int64_t *silent_ms);

/* Closes *sock (when not NULL) and makes a fresh DEALER on ctx in its
 * place: no linger, messages up to maxmsg bytes, send queue sndhwm (0:
 * ZeroMQ's default), routing identity id, CURVE client keys from c (when
 * c->curve), connected to endpoint. Returns PF_OK, or PF_EIO with the
 * reason logged as an error (the socket stays in *sock, so the next
 * redial tries again; a key problem is caught at start by
 * pf_peer_check_keys). */
int pf_peer_dial(void *ctx, const pf_config *c, const char *endpoint, const char *id, int64_t maxmsg, int sndhwm,
                 void **sock);

/* Checks once, at start, that c's CURVE client keys load (pf_peer_dial
 * reads them again at each redial). PF_OK (also without CURVE), else
 * pf_curve_client's error with the reason in err. */
int pf_peer_check_keys(void *ctx, const pf_config *c, char *err, size_t errlen);

#endif

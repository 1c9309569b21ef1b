/* Heartbeat, liveness and redial timing (see pf_peer.h). */
#include "pf_peer.h"

#include "pf_curve.h"
#include "pf_err.h"
#include "pf_log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

void pf_heartbeat_init(pf_heartbeat *h, const pf_config *c, int64_t now) {
  h->interval_ms = c->heartbeat_ms;
  h->liveness = c->liveness;
  h->next_ms = now + h->interval_ms;
}

int64_t pf_heartbeat_expiry_ms(const pf_heartbeat *h) { return (int64_t)h->interval_ms * h->liveness; }

int pf_heartbeat_due(pf_heartbeat *h, int64_t now) {
  if (now < h->next_ms) return 0;
  h->next_ms = now + h->interval_ms;
  return 1;
}

int pf_heartbeat_expired(const pf_heartbeat *h, int64_t seen_ms, int64_t now) {
  return now - seen_ms > pf_heartbeat_expiry_ms(h);
}

int pf_backoff_ms(int attempt, int first_ms, int max_ms) {
  int64_t d = first_ms;
  for (int i = 0; i < attempt && d < max_ms; i++) d *= 2;
  return (int)(d > max_ms ? max_ms : d);
}

void pf_peer_init(pf_peer *p, const pf_config *c) {
  memset(p, 0, sizeof *p);
  pf_heartbeat_init(&p->hb, c, 0);
}

void pf_peer_dialled(pf_peer *p, int64_t now) {
  p->seen_ms = now;
  p->hb.next_ms = now + p->hb.interval_ms;
}

void pf_peer_heard(pf_peer *p, int64_t now) {
  p->seen_ms = now;
  p->redials = 0;
  p->backoff_ms = 0;
}

int pf_peer_lost(pf_peer *p, int64_t now, int64_t *silent_ms) {
  int64_t silent = now - p->seen_ms;
  if (silent_ms) *silent_ms = silent;
  if (silent <= pf_heartbeat_expiry_ms(&p->hb) + p->backoff_ms) return 0;
  p->backoff_ms = pf_backoff_ms(p->redials++, PF_PEER_BACKOFF_FIRST_MS, PF_PEER_BACKOFF_MAX_MS);
  return 1;
}

int pf_peer_dial(void *ctx, const pf_config *c, const char *endpoint, const char *id, int64_t maxmsg, int sndhwm,
                 void **sock) {
  if (*sock) zmq_close(*sock);
  *sock = zmq_socket(ctx, ZMQ_DEALER);
  if (!*sock) {
    pf_error("cannot make a socket for %s: %s", endpoint, zmq_strerror(errno));
    return PF_EIO;
  }
  int zero = 0;
  zmq_setsockopt(*sock, ZMQ_LINGER, &zero, sizeof zero);
  zmq_setsockopt(*sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
  if (sndhwm > 0) zmq_setsockopt(*sock, ZMQ_SNDHWM, &sndhwm, sizeof sndhwm);
  zmq_setsockopt(*sock, ZMQ_ROUTING_ID, id, strlen(id));
  char err[1400];
  int rc = PF_OK;
  if (pf_curve_client(*sock, c, err, sizeof err) != PF_OK) { pf_error("%s", err); rc = PF_EIO; }
  if (zmq_connect(*sock, endpoint) != 0) {
    pf_error("cannot connect to %s: %s", endpoint, zmq_strerror(errno));
    rc = PF_EIO;
  }
  return rc;
}

int pf_peer_check_keys(void *ctx, const pf_config *c, char *err, size_t errlen) {
  if (!c->curve) return PF_OK;
  void *probe = zmq_socket(ctx, ZMQ_DEALER);
  if (!probe) {
    snprintf(err, errlen, "cannot make a socket: %s", zmq_strerror(errno));
    return PF_EIO;
  }
  int rc = pf_curve_client(probe, c, err, errlen);
  zmq_close(probe);
  return rc;
}

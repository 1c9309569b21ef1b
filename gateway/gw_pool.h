/* gw_pool: owns the gateway's connections to the score router and the
 * similarity service, and the one thread that talks on them.
 * Defines gw_call (one request to a service and, later, its answer), a
 * submit that never blocks (the pool thread sends it, matches the reply by
 * its request id or times it out, then calls the call's done function), and
 * the pool-waiting gauge. HTTP threads therefore never wait on the pool:
 * gw_http.c suspends the connection and done resumes it.
 * Called by gw_main.c (init, stop, shutdown) and gw_http.c (calls). */
#ifndef GW_POOL_H
#define GW_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "pf_config.h"
#include "pf_msg.h"

enum { GW_SVC_SCORE, GW_SVC_SIMILAR, GW_NSVC };

typedef struct gw_call gw_call;
struct gw_call {
  /* set by the caller (gw_pool_pack fills buf, len, id) */
  int svc;
  int timeout_ms;
  uint8_t *buf;       /* the packed request; gw_pool_submit takes it */
  size_t len;
  char id[64];
  void (*done)(gw_call *c); /* called once, on the pool thread (or in submit when refused) */
  void *arg;
  /* the answer, once done is called */
  int rc;             /* PF_OK (reply set), PF_ETIMEOUT, PF_EIO ... */
  Pefleet__Envelope *reply;
  char err[300];
  /* the pool's */
  int64_t deadline, send_by;
  gw_call *prev, *next;
};

/* Remembers the endpoints, makes the ZeroMQ context, one connection per
 * service and the pool thread. cfg is kept (must outlive the pool).
 * PF_EIO / PF_EINVAL with a reason. */
int gw_pool_init(const pf_config *cfg, const char *score_ep, const char *similar_ep, char *err, size_t errlen);

/* Gives req a fresh request id and packs it into c (for c->svc). Any
 * thread. PF_ENOMEM / PF_EINVAL with the reason in c->err. */
int gw_pool_pack(gw_call *c, Pefleet__Envelope *req);

/* Hands c to the pool thread; c must stay valid until c->done is called.
 * Refused once the pool is stopping: then c->done is called here with
 * PF_EIO. Any thread. */
void gw_pool_submit(gw_call *c);

/* Stops the pool thread: every call not yet answered is done with PF_EIO,
 * and later submits are refused. Before the HTTP server stops. */
void gw_pool_stop(void);

/* Frees the connections and the context; after the HTTP threads stopped. */
void gw_pool_shutdown(void);

/* The endpoint of a service (for messages). */
const char *gw_pool_endpoint(int svc);

#endif

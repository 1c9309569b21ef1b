/* gw_pool: owns the gateway's connections to the score router and the
 * similarity service.
 * Defines one pf_rpc per MHD thread and service, made on first use
 * (thread-local) and all freed at shutdown, and a call that keeps the
 * pool-waiting gauge.
 * Called by gw_main.c (init, shutdown) and gw_routes.c (calls). */
#ifndef GW_POOL_H
#define GW_POOL_H

#include <stddef.h>

#include "pf_config.h"
#include "pf_msg.h"

enum { GW_SVC_SCORE, GW_SVC_SIMILAR, GW_NSVC };

/* Remembers the endpoints and makes the shared ZeroMQ context. cfg is
 * kept (must outlive the pool). PF_EIO when no context can be made. */
int gw_pool_init(const pf_config *cfg, const char *score_ep, const char *similar_ep);

/* Frees every thread's connections and the context; after the HTTP
 * threads have stopped. */
void gw_pool_shutdown(void);

/* pf_rpc_call on this thread's connection to service svc. */
int gw_pool_call(int svc, Pefleet__Envelope *req, int timeout_ms, Pefleet__Envelope **reply, char *err, size_t errlen);

/* The endpoint of a service (for messages). */
const char *gw_pool_endpoint(int svc);

#endif

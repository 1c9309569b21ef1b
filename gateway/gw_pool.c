#include "gw_pool.h"
#include "gw_metrics.h"
#include "pf_err.h"
#include "pf_rpc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <zmq.h>

#define MAX_CONNS 1024

static void *zctx;
static const pf_config *pool_cfg;
static char endpoints[GW_NSVC][256];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pf_rpc *all[MAX_CONNS]; /* every connection made, for shutdown */
static int n_all;
static _Thread_local pf_rpc *mine[GW_NSVC];

int gw_pool_init(const pf_config *cfg, const char *score_ep, const char *similar_ep) {
  pool_cfg = cfg;
  snprintf(endpoints[GW_SVC_SCORE], sizeof endpoints[0], "%s", score_ep);
  snprintf(endpoints[GW_SVC_SIMILAR], sizeof endpoints[0], "%s", similar_ep);
  zctx = zmq_ctx_new();
  return zctx ? PF_OK : PF_EIO;
}

void gw_pool_shutdown(void) {
  pthread_mutex_lock(&mu);
  for (int i = 0; i < n_all; i++) pf_rpc_free(&all[i]);
  n_all = 0;
  pthread_mutex_unlock(&mu);
  if (zctx) zmq_ctx_term(zctx);
  zctx = NULL;
}

const char *gw_pool_endpoint(int svc) { return svc >= 0 && svc < GW_NSVC ? endpoints[svc] : "?"; }

int gw_pool_call(int svc, Pefleet__Envelope *req, int timeout_ms, Pefleet__Envelope **reply, char *err, size_t errlen) {
  if (svc < 0 || svc >= GW_NSVC) return PF_EINVAL;
  if (!mine[svc]) {
    pthread_mutex_lock(&mu);
    int rc = n_all < MAX_CONNS ? pf_rpc_new(zctx, endpoints[svc], pool_cfg, &mine[svc], err, errlen) : PF_ELIMIT;
    if (rc == PF_OK) all[n_all++] = mine[svc];
    else if (rc == PF_ELIMIT) snprintf(err, errlen, "too many connections");
    pthread_mutex_unlock(&mu);
    if (rc != PF_OK) return rc;
  }
  gw_metrics_pool_waiting(1);
  int rc = pf_rpc_call(mine[svc], req, timeout_ms, reply, err, errlen);
  gw_metrics_pool_waiting(-1);
  return rc;
}

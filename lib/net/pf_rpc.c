#include "pf_rpc.h"
#include "pf_clock.h"
#include "pf_curve.h"
#include "pf_err.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

struct pf_rpc {
  void *ctx;          /* the context in use */
  int own_ctx;        /* 1: ctx is ours to terminate */
  void *sock;         /* DEALER */
  char prefix[40];    /* pid and a random part: request ids unique across clients */
  _Atomic unsigned long long seq; /* pf_rpc_pack may run on several threads */
};

int pf_rpc_new(void *zctx, const char *endpoint, const pf_config *cfg, pf_rpc **out, char *err, size_t errlen) {
  if (!endpoint || !*endpoint || !out) {
    snprintf(err, errlen, "no endpoint given");
    return PF_EINVAL;
  }
  pf_rpc *r = calloc(1, sizeof *r);
  if (!r) { snprintf(err, errlen, "out of memory"); return PF_ENOMEM; }
  r->ctx = zctx;
  if (!r->ctx) {
    r->ctx = zmq_ctx_new();
    r->own_ctx = 1;
  }
  r->sock = r->ctx ? zmq_socket(r->ctx, ZMQ_DEALER) : NULL;
  if (!r->sock) {
    snprintf(err, errlen, "cannot make a ZeroMQ socket: %s", zmq_strerror(zmq_errno()));
    pf_rpc_free(&r);
    return PF_EIO;
  }
  int zero = 0, one = 1, hwm = 10000;
  zmq_setsockopt(r->sock, ZMQ_LINGER, &zero, sizeof zero);
  /* queue requests only on a live connection: with no service up, a call
   * says so within the send timeout instead of waiting out its whole wait */
  zmq_setsockopt(r->sock, ZMQ_IMMEDIATE, &one, sizeof one);
  zmq_setsockopt(r->sock, ZMQ_SNDHWM, &hwm, sizeof hwm);
  zmq_setsockopt(r->sock, ZMQ_RCVHWM, &hwm, sizeof hwm);
  long long maxmsg = (long long)PF_MSG_MAX_SAMPLE + 4096;
  zmq_setsockopt(r->sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
  if (cfg && pf_curve_client(r->sock, cfg, err, errlen) != PF_OK) {
    pf_rpc_free(&r);
    return PF_EINVAL;
  }
  if (zmq_connect(r->sock, endpoint) != 0) {
    snprintf(err, errlen, "cannot connect to %s: %s", endpoint, zmq_strerror(zmq_errno()));
    pf_rpc_free(&r);
    return PF_EINVAL;
  }
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  /* pid, the time and the object's address: unique among live clients */
  snprintf(r->prefix, sizeof r->prefix, "%d-%lx-%lx", (int)getpid(), (unsigned long)ts.tv_nsec ^ (unsigned long)ts.tv_sec,
           (unsigned long)(uintptr_t)r & 0xffffffUL);
  *out = r;
  return PF_OK;
}

void pf_rpc_free(pf_rpc **rp) {
  if (!rp || !*rp) return;
  pf_rpc *r = *rp;
  if (r->sock) zmq_close(r->sock);
  if (r->own_ctx && r->ctx) zmq_ctx_term(r->ctx);
  free(r);
  *rp = NULL;
}

static void free_buf(void *data, void *hint) {
  (void)hint;
  free(data);
}

void *pf_rpc_socket(pf_rpc *r) { return r ? r->sock : NULL; }

/* The request id slot of a request body, and the reply body it expects. */
static char **id_slot(Pefleet__Envelope *e, Pefleet__Envelope__BodyCase *want) {
  if (e->body_case == PEFLEET__ENVELOPE__BODY_SCORE && e->score) {
    *want = PEFLEET__ENVELOPE__BODY_SCORE_REPLY;
    return &e->score->request_id;
  }
  if (e->body_case == PEFLEET__ENVELOPE__BODY_SIMILAR && e->similar) {
    *want = PEFLEET__ENVELOPE__BODY_SIMILAR_REPLY;
    return &e->similar->request_id;
  }
  return NULL;
}

const char *pf_rpc_reply_id(const Pefleet__Envelope *e) {
  if (e->body_case == PEFLEET__ENVELOPE__BODY_SCORE_REPLY && e->score_reply) return e->score_reply->request_id;
  if (e->body_case == PEFLEET__ENVELOPE__BODY_SIMILAR_REPLY && e->similar_reply) return e->similar_reply->request_id;
  return NULL;
}

long pf_rpc_pack(pf_rpc *r, Pefleet__Envelope *req, char *id, size_t idlen, uint8_t **out, char *err, size_t errlen) {
  *out = NULL;
  Pefleet__Envelope__BodyCase want;
  char **slot = r && req ? id_slot(req, &want) : NULL;
  if (!slot || idlen < 64) {
    snprintf(err, errlen, "only score and similar requests can be sent");
    return PF_EINVAL;
  }
  snprintf(id, idlen, "%s-%llu", r->prefix, ++r->seq);
  char *saved = *slot;
  *slot = id;
  long len = pf_msg_encode(req, out);
  *slot = saved;
  if (len < 0) {
    snprintf(err, errlen, "out of memory");
    return PF_ENOMEM;
  }
  return len;
}

int pf_rpc_send(pf_rpc *r, uint8_t *buf, size_t len, int wait_ms, char *err, size_t errlen) {
  zmq_setsockopt(r->sock, ZMQ_SNDTIMEO, &wait_ms, sizeof wait_ms);
  /* the packed request goes to ZeroMQ without another copy (an upload can
   * be 100 MiB); ZeroMQ frees it once sent, or at zmq_msg_close */
  zmq_msg_t out;
  if (zmq_msg_init_data(&out, buf, len, free_buf, NULL) != 0) {
    free(buf);
    snprintf(err, errlen, "out of memory");
    return PF_ENOMEM;
  }
  if (zmq_msg_send(&out, r->sock, wait_ms == 0 ? ZMQ_DONTWAIT : 0) >= 0) return PF_OK;
  int e = zmq_errno();
  zmq_msg_close(&out);
  if (e == EAGAIN) {
    snprintf(err, errlen, "no connection to the service within %d ms (is it running?)", wait_ms);
    return PF_ETIMEOUT;
  }
  snprintf(err, errlen, "send failed: %s", zmq_strerror(e));
  return PF_EIO;
}

int pf_rpc_recv(pf_rpc *r, Pefleet__Envelope **reply) {
  *reply = NULL;
  zmq_msg_t m;
  zmq_msg_init(&m);
  if (zmq_msg_recv(&m, r->sock, ZMQ_DONTWAIT) < 0) {
    zmq_msg_close(&m);
    return PF_ETIMEOUT;
  }
  int more = zmq_msg_more(&m);
  char why[256];
  Pefleet__Envelope *e = NULL;
  if (!more) e = pf_msg_decode(zmq_msg_data(&m), zmq_msg_size(&m), PF_MSG_MAX_SAMPLE, why, sizeof why);
  zmq_msg_close(&m);
  while (more) { /* a multi-frame answer is not ours: drain it */
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, r->sock, 0) < 0) more = 0;
    else more = zmq_msg_more(&m);
    zmq_msg_close(&m);
  }
  if (!e) return PF_EINVAL;
  *reply = e;
  return PF_OK;
}

int pf_rpc_call(pf_rpc *r, Pefleet__Envelope *req, int timeout_ms, Pefleet__Envelope **reply, char *err,
                size_t errlen) {
  if (!r || !req || !reply) return PF_EINVAL;
  *reply = NULL;
  Pefleet__Envelope__BodyCase want;
  if (!id_slot(req, &want)) {
    snprintf(err, errlen, "only score and similar requests can be sent");
    return PF_EINVAL;
  }
  char id[64];
  uint8_t *buf = NULL;
  long len = pf_rpc_pack(r, req, id, sizeof id, &buf, err, errlen);
  if (len < 0) return (int)len;
  int64_t deadline = pf_clock_ms() + (timeout_ms < 0 ? 0 : timeout_ms);
  int sndtimeo = timeout_ms < 0 ? 0 : timeout_ms < 2000 ? timeout_ms : 2000;
  int rc = pf_rpc_send(r, buf, (size_t)len, sndtimeo, err, errlen);
  if (rc != PF_OK) return rc;
  for (;;) {
    int64_t left = deadline - pf_clock_ms();
    if (left <= 0) {
      snprintf(err, errlen, "no answer within %d ms (is the service running?)", timeout_ms);
      return PF_ETIMEOUT;
    }
    zmq_pollitem_t it = {r->sock, 0, ZMQ_POLLIN, 0};
    int n = zmq_poll(&it, 1, (long)left + 1);
    if (n < 0) {
      if (zmq_errno() == EINTR) continue;
      snprintf(err, errlen, "poll failed: %s", zmq_strerror(zmq_errno()));
      return PF_EIO;
    }
    Pefleet__Envelope *e = NULL;
    while (n > 0 && (rc = pf_rpc_recv(r, &e)) != PF_ETIMEOUT) {
      if (rc != PF_OK) continue; /* malformed or stray: keep waiting for ours */
      const char *rid = pf_rpc_reply_id(e);
      if (e->body_case == want && rid && strcmp(rid, id) == 0) {
        *reply = e;
        return PF_OK;
      }
      pf_msg_free(e); /* the late answer to an earlier call that timed out */
    }
  }
}

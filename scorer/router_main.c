/* pefleet-score-router: the front of the scorer pool. Clients (the HTTP
 * gateway, `pefleet scan --server`) send one-frame score requests to a
 * ROUTER on score_endpoint; scorers connect a DEALER to scorer_endpoint,
 * announce their capacity and receive [ticket][request]. Each request goes
 * to the scorer with the most free credit; a scorer that stops answering
 * heartbeats is dropped and the requests it held go to another one, at the
 * head of the queue. The router never unpacks a request unless it must
 * answer it itself (overload, no scorer in time, too many deliveries). */
#include "router.h"

#include "pf_daemon.h"
#include "pf_clock.h"
#include "pf_config.h"
#include "pf_curve.h"
#include "pf_err.h"
#include "pf_log.h"
#include "pf_msg.h"
#include "pf_peer.h"
#include "pf_zmq.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define MAX_ATTEMPTS 3
#define MAX_BYTES (1LL << 30) /* request bytes held at once */

static volatile sig_atomic_t stop;

typedef struct {
  pf_config cfg;
  void *ctx, *front, *back;
  rt_table t;
  pf_heartbeat hb;     /* to the scorers; their expiry */
  int queue_timeout_ms;
  long long answered, redelivered, refused;
} router;

/* Answers a request itself with status SCORE_ERROR and why (the request is
 * unpacked only for its id and kind), then frees its slot. */
static void answer_error(router *r, int slot, const char *why) {
  rt_req *q = &r->t.req[slot];
  char err[256];
  Pefleet__Envelope *in = pf_msg_decode(zmq_msg_data(&q->body), zmq_msg_size(&q->body), PF_MSG_MAX_SAMPLE, err,
                                        sizeof err);
  if (in) {
    Pefleet__Envelope out = PEFLEET__ENVELOPE__INIT;
    Pefleet__ScoreReply sr = PEFLEET__SCORE_REPLY__INIT;
    Pefleet__SimilarReply mr = PEFLEET__SIMILAR_REPLY__INIT;
    if (in->body_case == PEFLEET__ENVELOPE__BODY_SIMILAR) {
      mr.request_id = in->similar->request_id;
      mr.status = PEFLEET__SCORE_STATUS__SCORE_ERROR;
      mr.error = (char *)why;
      out.body_case = PEFLEET__ENVELOPE__BODY_SIMILAR_REPLY;
      out.similar_reply = &mr;
    } else {
      sr.request_id = in->body_case == PEFLEET__ENVELOPE__BODY_SCORE ? in->score->request_id : (char *)"";
      sr.status = PEFLEET__SCORE_STATUS__SCORE_ERROR;
      sr.error = (char *)why;
      out.body_case = PEFLEET__ENVELOPE__BODY_SCORE_REPLY;
      out.score_reply = &sr;
    }
    if (pf_zsend_env(r->front, zmq_msg_data(&q->client), zmq_msg_size(&q->client), 0, &out) != PF_OK)
      pf_debug("client gone before the error reply");
    pf_msg_free(in);
  } else {
    pf_warn("dropping a malformed request: %s", err);
  }
  r->refused++;
  rt_release(&r->t, slot);
}

static void send_heartbeat(router *r, int i) {
  Pefleet__Heartbeat hb = PEFLEET__HEARTBEAT__INIT;
  hb.worker_id = (char *)"score-router";
  Pefleet__Envelope env = PEFLEET__ENVELOPE__INIT;
  env.body_case = PEFLEET__ENVELOPE__BODY_HEARTBEAT;
  env.heartbeat = &hb;
  pf_zsend_env(r->back, r->t.sc[i].id, r->t.sc[i].idlen, 0, &env);
}

/* Takes a scorer out and puts the requests it held back at the head of
 * the queue (or answers them, after MAX_ATTEMPTS deliveries). */
static void drop_scorer(router *r, int i, const char *why) {
  rt_scorer *s = &r->t.sc[i];
  int moved = 0, failed = 0;
  for (int k = 0; k < RT_MAX_PENDING; k++) {
    rt_req *q = &r->t.req[k];
    if (!q->used || q->scorer != i) continue;
    q->scorer = -1;
    if (q->attempts >= MAX_ATTEMPTS) {
      answer_error(r, k, "scorers stopped answering while holding this request, 3 times");
      failed++;
    } else {
      rt_push(&r->t, k, 1);
      moved++;
    }
  }
  r->redelivered += moved;
  pf_warn("scorer %.*s (pid %u) %s; %d request(s) go to another scorer, %d answered with an error", (int)s->idlen,
          (const char *)s->id, s->pid, why, moved, failed);
  s->used = 0;
  s->inflight = 0;
}

/* Hands waiting requests to scorers with free credit. */
static void dispatch(router *r) {
  while (r->t.qlen > 0) {
    int i = rt_pick_scorer(&r->t);
    if (i < 0) return;
    int slot = rt_pop(&r->t);
    if (slot < 0) return;
    rt_req *q = &r->t.req[slot];
    rt_scorer *s = &r->t.sc[i];
    uint64_t ticket = rt_ticket(&r->t, slot);
    zmq_msg_t body;
    zmq_msg_init(&body);
    zmq_msg_copy(&body, &q->body);
    int ok = zmq_send(r->back, s->id, s->idlen, ZMQ_SNDMORE) >= 0 &&
             zmq_send(r->back, &ticket, sizeof ticket, ZMQ_SNDMORE) >= 0 && zmq_msg_send(&body, r->back, 0) >= 0;
    if (!ok) {
      zmq_msg_close(&body);
      rt_push(&r->t, slot, 1);
      drop_scorer(r, i, "is unreachable");
      continue;
    }
    q->scorer = i;
    q->attempts++;
    s->inflight++;
  }
}

static void on_client(router *r) {
  pf_zframes f;
  int rc = pf_zrecv(r->front, &f, ZMQ_DONTWAIT);
  if (rc == PF_ELIMIT) pf_warn("dropping a client message with %d frames", f.dropped);
  if (rc != PF_OK) { pf_zframes_close(&f); return; }
  if (f.n != 2) {
    pf_warn("dropping a client message with %d frames (expected one request frame)", f.n - 1);
    pf_zframes_close(&f);
    return;
  }
  int slot = rt_alloc(&r->t);
  if (slot < 0) { /* not reached: the loop stops reading clients while the table is full */
    pf_zframes_close(&f);
    return;
  }
  rt_req *q = &r->t.req[slot];
  zmq_msg_move(&q->client, &f.part[0]);
  zmq_msg_move(&q->body, &f.part[1]);
  q->since = pf_clock_ms();
  r->t.bytes += (long long)zmq_msg_size(&q->body);
  pf_zframes_close(&f);
  if (r->t.bytes > MAX_BYTES) {
    answer_error(r, slot, "the scorer pool is overloaded (too many request bytes waiting); try again");
    return;
  }
  rt_push(&r->t, slot, 0);
}

static void on_scorer(router *r) {
  pf_zframes f;
  int rc = pf_zrecv(r->back, &f, ZMQ_DONTWAIT);
  if (rc == PF_ELIMIT) pf_warn("dropping a scorer message with %d frames", f.dropped);
  if (rc != PF_OK) { pf_zframes_close(&f); return; }
  const void *id = f.n > 0 ? zmq_msg_data(&f.part[0]) : NULL;
  size_t idlen = f.n > 0 ? zmq_msg_size(&f.part[0]) : 0;
  int i = f.n > 0 ? rt_find_scorer(&r->t, id, idlen) : -1;
  int64_t now = pf_clock_ms();
  if (i >= 0) r->t.sc[i].seen = now;
  if (f.n == 2) { /* control: ready or heartbeat */
    char err[256];
    Pefleet__Envelope *e =
        pf_msg_decode(zmq_msg_data(&f.part[1]), zmq_msg_size(&f.part[1]), PF_MSG_MAX_CONTROL, err, sizeof err);
    if (!e) {
      pf_warn("dropping a malformed scorer message: %s", err);
    } else if (e->body_case == PEFLEET__ENVELOPE__BODY_READY) {
      uint32_t cap = e->ready->capacity;
      if (cap < 1) cap = 1;
      if (cap > 1024) cap = 1024;
      if (i >= 0) drop_scorer(r, i, "announced itself again");
      i = rt_add_scorer(&r->t, id, idlen, (int)cap, e->ready->pid, now);
      if (i < 0) pf_warn("refusing a scorer: %d already connected", RT_MAX_SCORERS);
      else pf_info("scorer %.*s (pid %u) ready, capacity %u", (int)idlen, (const char *)id, e->ready->pid, cap);
    } else if (e->body_case != PEFLEET__ENVELOPE__BODY_HEARTBEAT) {
      pf_warn("dropping an unexpected %s message from a scorer", pf_msg_body_name(e));
    }
    pf_msg_free(e);
  } else if (f.n == 3) { /* [id][ticket][reply] */
    int slot = rt_slot(&r->t, zmq_msg_data(&f.part[1]), zmq_msg_size(&f.part[1]));
    if (slot >= 0) {
      rt_req *q = &r->t.req[slot];
      if (q->scorer >= 0 && r->t.sc[q->scorer].used && r->t.sc[q->scorer].inflight > 0) r->t.sc[q->scorer].inflight--;
      if (zmq_send(r->front, zmq_msg_data(&q->client), zmq_msg_size(&q->client), ZMQ_SNDMORE) >= 0)
        zmq_msg_send(&f.part[2], r->front, 0);
      r->answered++;
      rt_release(&r->t, slot);
    } /* else: already answered by another scorer, or given up */
  } else {
    pf_warn("dropping a scorer message with %d frames", f.n);
  }
  pf_zframes_close(&f);
}

static void housekeeping(router *r) {
  int64_t now = pf_clock_ms();
  for (int i = 0; i < RT_MAX_SCORERS; i++)
    if (r->t.sc[i].used && pf_heartbeat_expired(&r->hb, r->t.sc[i].seen, now))
      drop_scorer(r, i, "stopped answering heartbeats");
  if (pf_heartbeat_due(&r->hb, now))
    for (int i = 0; i < RT_MAX_SCORERS; i++)
      if (r->t.sc[i].used) send_heartbeat(r, i);
  /* requests nobody could take in time get an answer instead of silence */
  for (int k = 0; k < RT_MAX_PENDING; k++) {
    rt_req *q = &r->t.req[k];
    if (q->used && q->scorer < 0 && now - q->since > r->queue_timeout_ms)
      answer_error(r, k, "no scorer took the request in time (are scorers running?)");
  }
}

static void usage(FILE *f) {
  fprintf(f, "usage: pefleet-score-router [--data DIR] [--config FILE] [--queue-timeout MS]\n\n"
             "The scorer pool's front: clients send score requests to score_endpoint,\n"
             "scorers connect to scorer_endpoint; each request goes to the scorer with\n"
             "the most free capacity, and requests held by a scorer that dies go to\n"
             "another. --queue-timeout: how long a request may wait for a scorer before\n"
             "it is answered with an error (default 30000 ms).\n");
}

int main(int argc, char **argv) {
  static router r;
  long queue_timeout = 30000;
  static pf_daemon_num nums[] = {{"--queue-timeout", NULL, 100, 24L * 3600 * 1000}, {NULL, NULL, 0, 0}};
  nums[0].value = &queue_timeout;
  static const pf_daemon_spec spec = {"pefleet-score-router", "score-router", usage, nums, 1};
  int st = pf_daemon_start(&spec, argc, argv, &r.cfg, &stop);
  if (st >= 0) return st;
  r.queue_timeout_ms = (int)queue_timeout;
  char err[512];
  pf_info("starting; effective configuration:");
  pf_config_print(&r.cfg, stderr, "  ");
  rt_init(&r.t);
  r.ctx = zmq_ctx_new();
  if (pf_curve_zap_start(r.ctx, &r.cfg, err, sizeof err) != PF_OK) { pf_error("%s", err); return 1; }
  r.front = zmq_socket(r.ctx, ZMQ_ROUTER);
  r.back = zmq_socket(r.ctx, ZMQ_ROUTER);
  if (pf_curve_server(r.front, &r.cfg, PF_CURVE_CLIENTS, err, sizeof err) != PF_OK ||
      pf_curve_server(r.back, &r.cfg, PF_CURVE_SCORERS, err, sizeof err) != PF_OK) {
    pf_error("%s", err);
    return 1;
  }
  int zero = 0, one = 1, hwm = 100000;
  int64_t maxfront = (int64_t)PF_MSG_MAX_SAMPLE + 4096, maxback = (int64_t)PF_MSG_MAX_SAMPLE + 4096;
  void *socks[2] = {r.front, r.back};
  for (int k = 0; k < 2; k++) {
    zmq_setsockopt(socks[k], ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(socks[k], ZMQ_ROUTER_MANDATORY, &one, sizeof one);
    zmq_setsockopt(socks[k], ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(socks[k], ZMQ_RCVHWM, &hwm, sizeof hwm);
  }
  zmq_setsockopt(r.front, ZMQ_MAXMSGSIZE, &maxfront, sizeof maxfront);
  zmq_setsockopt(r.back, ZMQ_MAXMSGSIZE, &maxback, sizeof maxback);
  if (zmq_bind(r.front, r.cfg.score_endpoint) != 0) {
    pf_error("cannot bind %s: %s", r.cfg.score_endpoint, zmq_strerror(errno));
    return 1;
  }
  if (zmq_bind(r.back, r.cfg.scorer_endpoint) != 0) {
    pf_error("cannot bind %s: %s", r.cfg.scorer_endpoint, zmq_strerror(errno));
    return 1;
  }
  pf_info("clients on %s, scorers on %s", r.cfg.score_endpoint, r.cfg.scorer_endpoint);
  pf_heartbeat_init(&r.hb, &r.cfg, pf_clock_ms());
  int64_t next_check = 0;
  while (!stop) {
    zmq_pollitem_t items[2] = {{r.front, 0, ZMQ_POLLIN, 0}, {r.back, 0, ZMQ_POLLIN, 0}};
    if (zmq_poll(items, 2, r.cfg.heartbeat_ms / 4 + 1) < 0 && errno != EINTR) break;
    /* replies first: they free credit for the requests behind them */
    for (int k = 0; k < 4096 && (items[1].revents & ZMQ_POLLIN); k++) {
      on_scorer(&r);
      zmq_pollitem_t it = {r.back, 0, ZMQ_POLLIN, 0};
      if (zmq_poll(&it, 1, 0) <= 0) break;
    }
    for (int k = 0; k < 4096 && (items[0].revents & ZMQ_POLLIN) && r.t.nfree > 0; k++) {
      on_client(&r);
      zmq_pollitem_t it = {r.front, 0, ZMQ_POLLIN, 0};
      if (zmq_poll(&it, 1, 0) <= 0) break;
    }
    dispatch(&r);
    if (pf_clock_ms() >= next_check) {
      housekeeping(&r);
      next_check = pf_clock_ms() + 50;
    }
  }
  pf_info("stopping: %lld answered by scorers, %lld redelivered, %lld answered with an error", r.answered,
          r.redelivered, r.refused);
  for (int k = 0; k < RT_MAX_PENDING; k++)
    if (r.t.req[k].used) rt_release(&r.t, k);
  zmq_close(r.front);
  zmq_close(r.back);
  pf_curve_zap_stop();
  zmq_ctx_term(r.ctx);
  return 0;
}

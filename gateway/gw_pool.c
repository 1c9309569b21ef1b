#include "gw_pool.h"
#include "gw_metrics.h"
#include "pf_clock.h"
#include "pf_err.h"
#include "pf_log.h"
#include "pf_rpc.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <zmq.h>

#define SEND_WAIT_MS 2000 /* a call with no live connection fails after this */

typedef struct {
  gw_call *head, *tail;
} call_list;

static void *zctx;
static char endpoints[GW_NSVC][256];
static pf_rpc *rpc[GW_NSVC];
static pthread_t thread;
static int thread_started;
static int wake_fd = -1;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static call_list inbox; /* under mu */
static int stopping;    /* under mu */
/* the pool thread's own */
static call_list unsent[GW_NSVC], waiting[GW_NSVC];

static void list_push(call_list *l, gw_call *c) {
  c->next = NULL;
  c->prev = l->tail;
  if (l->tail) l->tail->next = c;
  else l->head = c;
  l->tail = c;
}

static void list_remove(call_list *l, gw_call *c) {
  if (c->prev) c->prev->next = c->next;
  else l->head = c->next;
  if (c->next) c->next->prev = c->prev;
  else l->tail = c->prev;
  c->prev = c->next = NULL;
}

/* Answers c (taken off its list by the caller). */
static void finish(gw_call *c, int rc, Pefleet__Envelope *reply, const char *why) {
  free(c->buf);
  c->buf = NULL;
  c->rc = rc;
  c->reply = reply;
  if (why) snprintf(c->err, sizeof c->err, "%s", why);
  gw_metrics_pool_waiting(-1);
  c->done(c);
}

static void fail_list(call_list *l, int rc, const char *why) {
  while (l->head) {
    gw_call *c = l->head;
    list_remove(l, c);
    finish(c, rc, NULL, why);
  }
}

static void take_inbox(int64_t now) {
  pthread_mutex_lock(&mu);
  gw_call *c = inbox.head;
  inbox.head = inbox.tail = NULL;
  pthread_mutex_unlock(&mu);
  while (c) {
    gw_call *next = c->next;
    c->deadline = now + c->timeout_ms;
    c->send_by = now + (c->timeout_ms < SEND_WAIT_MS ? c->timeout_ms : SEND_WAIT_MS);
    list_push(&unsent[c->svc], c);
    c = next;
  }
}

/* Sends what the connection has room for now. */
static void send_ready(int svc) {
  while (unsent[svc].head) {
    int events = 0;
    size_t sz = sizeof events;
    if (zmq_getsockopt(pf_rpc_socket(rpc[svc]), ZMQ_EVENTS, &events, &sz) != 0 || !(events & ZMQ_POLLOUT)) return;
    gw_call *c = unsent[svc].head;
    list_remove(&unsent[svc], c);
    uint8_t *buf = c->buf;
    c->buf = NULL;
    int rc = pf_rpc_send(rpc[svc], buf, c->len, 0, c->err, sizeof c->err);
    if (rc == PF_OK) list_push(&waiting[svc], c);
    else finish(c, rc, NULL, NULL);
  }
}

/* Times out the calls of l past their limit (send_by on an unsent list,
 * else the deadline); the others bring *next down to their limit. */
static void expire_list(call_list *l, int is_unsent, int64_t now, int64_t *next) {
  char why[200];
  for (gw_call *c = l->head, *n; c; c = n) {
    n = c->next;
    int64_t limit = is_unsent ? c->send_by : c->deadline;
    if (now < limit) {
      if (limit < *next) *next = limit;
      continue;
    }
    list_remove(l, c);
    if (is_unsent)
      snprintf(why, sizeof why, "no connection to the service within %d ms (is it running?)",
               c->timeout_ms < SEND_WAIT_MS ? c->timeout_ms : SEND_WAIT_MS);
    else
      snprintf(why, sizeof why, "no answer within %d ms (is the service running?)", c->timeout_ms);
    finish(c, PF_ETIMEOUT, NULL, why);
  }
}

static void expire(int64_t now, int64_t *next) {
  for (int s = 0; s < GW_NSVC; s++) {
    expire_list(&unsent[s], 1, now, next);
    expire_list(&waiting[s], 0, now, next);
  }
}

/* Matches every waiting reply of service svc to its call. */
static void receive(int svc) {
  Pefleet__Envelope *e = NULL;
  int rc;
  while ((rc = pf_rpc_recv(rpc[svc], &e)) != PF_ETIMEOUT) {
    if (rc != PF_OK) continue;
    const char *rid = pf_rpc_reply_id(e);
    int want = svc == GW_SVC_SCORE ? PEFLEET__ENVELOPE__BODY_SCORE_REPLY : PEFLEET__ENVELOPE__BODY_SIMILAR_REPLY;
    gw_call *c = waiting[svc].head;
    while (c && !(rid && (int)e->body_case == want && strcmp(c->id, rid) == 0)) c = c->next;
    if (!c) { /* the late answer to a call that timed out */
      pf_msg_free(e);
      continue;
    }
    list_remove(&waiting[svc], c);
    finish(c, PF_OK, e, NULL);
  }
}

static void *pool_main(void *arg) {
  (void)arg;
  for (;;) {
    int64_t now = pf_clock_ms();
    take_inbox(now);
    pthread_mutex_lock(&mu);
    int stop = stopping;
    pthread_mutex_unlock(&mu);
    if (stop) break;
    for (int s = 0; s < GW_NSVC; s++) send_ready(s);
    int64_t next = now + 1000;
    expire(now, &next);
    zmq_pollitem_t it[1 + GW_NSVC];
    memset(it, 0, sizeof it);
    it[0].fd = wake_fd;
    it[0].events = ZMQ_POLLIN;
    for (int s = 0; s < GW_NSVC; s++) {
      it[1 + s].socket = pf_rpc_socket(rpc[s]);
      it[1 + s].events = (short)(ZMQ_POLLIN | (unsent[s].head ? ZMQ_POLLOUT : 0));
    }
    long wait = (long)(next - pf_clock_ms());
    if (wait < 0) wait = 0;
    if (zmq_poll(it, 1 + GW_NSVC, wait) < 0) continue;
    if (it[0].revents & ZMQ_POLLIN) {
      uint64_t v;
      if (read(wake_fd, &v, sizeof v) < 0) { /* counter already zero: nothing to clear */ }
    }
    for (int s = 0; s < GW_NSVC; s++)
      if (it[1 + s].revents & ZMQ_POLLIN) receive(s);
  }
  for (int s = 0; s < GW_NSVC; s++) {
    fail_list(&unsent[s], PF_EIO, "the gateway is stopping");
    fail_list(&waiting[s], PF_EIO, "the gateway is stopping");
  }
  return NULL;
}

int gw_pool_init(const pf_config *cfg, const char *score_ep, const char *similar_ep, char *err, size_t errlen) {
  snprintf(endpoints[GW_SVC_SCORE], sizeof endpoints[0], "%s", score_ep);
  snprintf(endpoints[GW_SVC_SIMILAR], sizeof endpoints[0], "%s", similar_ep);
  zctx = zmq_ctx_new();
  if (!zctx) {
    snprintf(err, errlen, "cannot make a ZeroMQ context");
    return PF_EIO;
  }
  for (int s = 0; s < GW_NSVC; s++) {
    int rc = pf_rpc_new(zctx, endpoints[s], cfg, &rpc[s], err, errlen);
    if (rc != PF_OK) return rc;
  }
  wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd < 0) {
    snprintf(err, errlen, "eventfd: %s", strerror(errno));
    return PF_EIO;
  }
  if (pthread_create(&thread, NULL, pool_main, NULL) != 0) {
    snprintf(err, errlen, "cannot start the pool thread");
    return PF_EIO;
  }
  thread_started = 1;
  return PF_OK;
}

int gw_pool_pack(gw_call *c, Pefleet__Envelope *req) {
  c->buf = NULL;
  c->len = 0;
  if (c->svc < 0 || c->svc >= GW_NSVC || !rpc[c->svc]) {
    snprintf(c->err, sizeof c->err, "no such service");
    return PF_EINVAL;
  }
  long n = pf_rpc_pack(rpc[c->svc], req, c->id, sizeof c->id, &c->buf, c->err, sizeof c->err);
  if (n < 0) return (int)n;
  c->len = (size_t)n;
  return PF_OK;
}

void gw_pool_submit(gw_call *c) {
  c->rc = PF_EIO;
  c->reply = NULL;
  gw_metrics_pool_waiting(1);
  pthread_mutex_lock(&mu);
  int stop = stopping || !thread_started;
  if (!stop) list_push(&inbox, c);
  pthread_mutex_unlock(&mu);
  if (stop) {
    finish(c, PF_EIO, NULL, "the gateway is stopping");
    return;
  }
  uint64_t one = 1;
  if (write(wake_fd, &one, sizeof one) < 0) { /* the counter is full: the pool thread is awake anyway */ }
}

void gw_pool_stop(void) {
  pthread_mutex_lock(&mu);
  stopping = 1;
  pthread_mutex_unlock(&mu);
  if (!thread_started) return;
  uint64_t one = 1;
  if (write(wake_fd, &one, sizeof one) < 0) { /* awake anyway */ }
  pthread_join(thread, NULL);
  thread_started = 0;
  /* anything submitted between the last take and the stop */
  pthread_mutex_lock(&mu);
  call_list left = inbox;
  inbox.head = inbox.tail = NULL;
  pthread_mutex_unlock(&mu);
  fail_list(&left, PF_EIO, "the gateway is stopping");
}

void gw_pool_shutdown(void) {
  gw_pool_stop();
  for (int s = 0; s < GW_NSVC; s++) pf_rpc_free(&rpc[s]);
  if (wake_fd >= 0) close(wake_fd);
  wake_fd = -1;
  if (zctx) zmq_ctx_term(zctx);
  zctx = NULL;
}

const char *gw_pool_endpoint(int svc) { return svc >= 0 && svc < GW_NSVC ? endpoints[svc] : "?"; }

/* pefleet-broker: takes ingested sample hashes (ROUTER, ingest endpoint),
 * records them durably in Redis before acknowledging, and hands queued
 * jobs to ready encoder workers (ROUTER, worker endpoint) with two-way
 * heartbeats; a worker that stops answering has its jobs redelivered, up
 * to max_attempts, after which the sample is parked as failed. */
#include "broker.h"
#include "pf_daemon.h"
#include "pf_clock.h"
#include "pf_config.h"
#include "pf_curve.h"
#include "pf_db.h"
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
#include <time.h>
#include <zmq.h>

static volatile sig_atomic_t stop;

typedef struct {
  pf_config cfg;
  pf_db *db;
  void *ingest, *workers;
  broker_table table;
  pf_heartbeat hb;     /* to the workers; their expiry */
  int redis_down;      /* logged once per outage */
  int64_t next_claim;  /* don't poll an empty queue in a tight loop */
  long long acked, dispatched, finished, redelivered, orphans;
} broker;

static void redis_trouble(broker *b) {
  if (!b->redis_down) pf_error("redis unavailable: %s (will keep retrying)", pf_db_error(b->db));
  b->redis_down = 1;
}

static void redis_ok(broker *b) {
  if (b->redis_down) pf_info("redis reachable again");
  b->redis_down = 0;
}

/* ---- ingest side ---- */

static void reply_ingest(broker *b, pf_zframes *f, const char *sha, Pefleet__IngestStatus st, const char *error,
                         const char *sample_status, const char *first_label) {
  Pefleet__IngestAck ack = PEFLEET__INGEST_ACK__INIT;
  ack.first_label = (char *)(first_label ? first_label : "");
  ack.sha256 = (char *)(sha ? sha : "");
  ack.status = st;
  ack.error = (char *)(error ? error : "");
  ack.sample_status = (char *)(sample_status ? sample_status : "");
  Pefleet__Envelope env = PEFLEET__ENVELOPE__INIT;
  env.body_case = PEFLEET__ENVELOPE__BODY_INGEST_ACK;
  env.ingest_ack = &ack;
  int delim = f->n == 3 && zmq_msg_size(&f->part[1]) == 0;
  if (pf_zsend_env(b->ingest, zmq_msg_data(&f->part[0]), zmq_msg_size(&f->part[0]), delim, &env) != PF_OK)
    pf_warn("could not answer an ingest client: %s", zmq_strerror(errno));
}

/* A known sample that failed: its reason, so ingest can say why and how to
 * requeue it; NULL for any other status. */
static const char *failed_reason(broker *b, const char *sha, const char *status) {
  static pf_db_sample rec;
  if (strcmp(status, "failed") != 0) return NULL;
  int rc = pf_db_get(b->db, sha, &rec);
  return rc == PF_OK || rc == PF_EINVAL ? rec.reason : NULL;
}

/* Takes every ingest request waiting (up to INGEST_BATCH), records the
 * valid ones in Redis in one pipelined round trip (one commit), then
 * answers each: queued, duplicate, rejected (with the reason) or
 * unavailable (Redis unreachable: the client retries). */
#define INGEST_BATCH 64
static void on_ingest(broker *b) {
  static pf_zframes f[INGEST_BATCH];
  static Pefleet__Envelope *e[INGEST_BATCH];
  const char *sha[INGEST_BATCH], *label[INGEST_BATCH];
  uint64_t size[INGEST_BATCH];
  long long seen[INGEST_BATCH];
  int rc[INGEST_BATCH], is_new[INGEST_BATCH];
  static char status[INGEST_BATCH][16];
  static char first_label[INGEST_BATCH][PF_DB_LABEL_CAP];
  int n = 0;
  char err[256];
  while (n < INGEST_BATCH) {
    int r = pf_zrecv(b->ingest, &f[n], ZMQ_DONTWAIT);
    if (r == PF_EIO) break;
    if (r != PF_OK || f[n].n < 2) {
      pf_warn("dropping an ingest message with %d frames", f[n].n + f[n].dropped);
      pf_zframes_close(&f[n]);
      continue;
    }
    zmq_msg_t *payload = &f[n].part[f[n].n - 1];
    e[n] = pf_msg_decode(zmq_msg_data(payload), zmq_msg_size(payload), PF_MSG_MAX_CONTROL, err, sizeof err);
    if (!e[n] || e[n]->body_case != PEFLEET__ENVELOPE__BODY_INGEST) {
      if (e[n]) snprintf(err, sizeof err, "expected an ingest request, got %s", pf_msg_body_name(e[n]));
      pf_warn("rejecting ingest message: %s", err);
      reply_ingest(b, &f[n], NULL, PEFLEET__INGEST_STATUS__INGEST_REJECTED, err, NULL, NULL);
    } else if (!pf_is_sha256_hex(e[n]->ingest->sha256)) {
      pf_warn("rejecting ingest of a malformed sha256");
      reply_ingest(b, &f[n], NULL, PEFLEET__INGEST_STATUS__INGEST_REJECTED,
                   "sha256 must be 64 lower-case hex characters", NULL, NULL);
    } else {
      sha[n] = e[n]->ingest->sha256;
      label[n] = e[n]->ingest->label;
      size[n] = e[n]->ingest->size;
      seen[n] = e[n]->ingest->first_seen > 0 ? (long long)e[n]->ingest->first_seen : 0;
      n++;
      continue;
    }
    pf_msg_free(e[n]);
    pf_zframes_close(&f[n]);
  }
  if (n == 0) return;
  pf_db_ingest_many(b->db, (size_t)n, sha, label, size, seen, rc, is_new, status, first_label);
  int trouble = 0;
  for (int i = 0; i < n; i++) {
    if (rc[i] == PF_OK) {
      b->acked++;
      int conflict = !is_new[i] && first_label[i][0] && strcmp(first_label[i], label[i]) != 0;
      pf_info("sample %s %s (label %s, %llu bytes)%s%s", sha[i], is_new[i] ? "queued" : "already known", label[i],
              (unsigned long long)size[i], conflict ? "; label conflict: first stored as " : "",
              conflict ? first_label[i] : "");
      reply_ingest(b, &f[i], sha[i],
                   is_new[i] ? PEFLEET__INGEST_STATUS__INGEST_QUEUED : PEFLEET__INGEST_STATUS__INGEST_DUPLICATE,
                   is_new[i] ? NULL : failed_reason(b, sha[i], status[i]), status[i], conflict ? first_label[i] : NULL);
    } else if (rc[i] == PF_EINVAL) {
      pf_warn("rejecting ingest of %s: bad label", sha[i]);
      reply_ingest(b, &f[i], sha[i], PEFLEET__INGEST_STATUS__INGEST_REJECTED,
                   "label must be 1-127 printable ASCII characters without commas", NULL, NULL);
    } else {
      trouble = 1;
      reply_ingest(b, &f[i], sha[i], PEFLEET__INGEST_STATUS__INGEST_UNAVAILABLE, pf_db_error(b->db), NULL, NULL);
    }
    pf_msg_free(e[i]);
    pf_zframes_close(&f[i]);
  }
  if (trouble) redis_trouble(b);
  else redis_ok(b);
  b->next_claim = 0;
}

/* ---- worker side ---- */

static void send_worker(broker *b, broker_worker *w, Pefleet__Envelope *env) {
  if (pf_zsend_env(b->workers, w->id, w->idlen, 0, env) != PF_OK) {
    char id[128];
    broker_id_str(w, id, sizeof id);
    pf_debug("send to worker %s failed: %s", id, zmq_strerror(errno));
  }
}

/* A worker is gone: every job it held goes back to the queue (or is failed
 * past the retry limit). Jobs that Redis could not take stay in pf:inflight
 * and go back with the orphan sweep once Redis answers again. */
static void drop_worker(broker *b, broker_worker *w, const char *why) {
  char id[128];
  broker_id_str(w, id, sizeof id);
  pf_warn("worker %s (pid %u) %s; redelivering %d job(s)", id, w->pid, why, w->njobs);
  for (int i = 0; i < w->njobs; i++) {
    int outcome = 0;
    char reason[160];
    snprintf(reason, sizeof reason, "encoder worker died while handling this sample %d times", b->cfg.max_attempts);
    if (pf_db_requeue(b->db, w->jobs[i], b->cfg.max_attempts, reason, &outcome) != PF_OK) {
      redis_trouble(b);
      continue;
    }
    if (outcome == 1) { b->redelivered++; pf_info("sample %s requeued after worker %s died", w->jobs[i], id); }
    if (outcome == 2) pf_warn("sample %s failed: %s", w->jobs[i], reason);
  }
  broker_remove(&b->table, w);
  b->next_claim = 0;
}

static void on_worker_msg(broker *b) {
  pf_zframes f;
  int rc = pf_zrecv(b->workers, &f, ZMQ_DONTWAIT);
  if (rc == PF_EIO) return;
  if (rc != PF_OK || f.n != 2) {
    pf_warn("dropping a worker message with %d frames", f.n + f.dropped);
    pf_zframes_close(&f);
    return;
  }
  const void *id = zmq_msg_data(&f.part[0]);
  size_t idlen = zmq_msg_size(&f.part[0]);
  char err[256];
  Pefleet__Envelope *e =
      pf_msg_decode(zmq_msg_data(&f.part[1]), zmq_msg_size(&f.part[1]), PF_MSG_MAX_CONTROL, err, sizeof err);
  if (!e) {
    pf_warn("dropping a malformed worker message: %s", err);
    pf_zframes_close(&f);
    return;
  }
  int64_t expiry = pf_clock_ms() + pf_heartbeat_expiry_ms(&b->hb);
  broker_worker *w = broker_find(&b->table, id, idlen);
  switch (e->body_case) {
  case PEFLEET__ENVELOPE__BODY_READY: {
    int fresh = w == NULL;
    w = broker_add(&b->table, id, idlen, (int)e->ready->capacity, expiry);
    if (!w) { pf_warn("worker table full or identity too long; ignoring a worker"); break; }
    w->pid = e->ready->pid;
    char ids[128];
    broker_id_str(w, ids, sizeof ids);
    if (fresh) pf_info("worker %s (pid %u) ready, capacity %d", ids, w->pid, w->capacity);
    else if (w->njobs > 0) {
      /* it reconnected: jobs queued on its old connection (and results sent
       * on it) are gone; forget them so they no longer take its capacity,
       * and sweep_orphans requeues those still in flight */
      pf_warn("worker %s reconnected; %d job(s) it may not have received left to the orphan sweep", ids, w->njobs);
      w->njobs = 0;
    }
    b->next_claim = 0;
    break;
  }
  case PEFLEET__ENVELOPE__BODY_HEARTBEAT:
    if (w) w->expires_ms = expiry;
    if (w && e->heartbeat->reports_holding) {
      /* a job the worker never got (lost with a dropped connection) goes
       * to the orphan sweep, which puts it back on the queue */
      static char lost[BROKER_MAX_CAPACITY][PF_SHA256_HEX_LEN + 1];
      int nl = broker_job_reconcile(w, e->heartbeat->holding, e->heartbeat->n_holding, lost);
      char ids[128];
      if (nl) broker_id_str(w, ids, sizeof ids);
      for (int k = 0; k < nl; k++)
        pf_warn("worker %s does not hold sample %s it was given (lost on the way); left to the orphan sweep", ids,
                lost[k]);
      if (nl) b->next_claim = 0;
    }
    break;
  case PEFLEET__ENVELOPE__BODY_RESULT: {
    const Pefleet__EncodeResult *r = e->result;
    if (w) w->expires_ms = expiry;
    if (!pf_is_sha256_hex(r->sha256)) { pf_warn("dropping a result with a malformed sha256"); break; }
    if (w) broker_job_remove(w, r->sha256);
    b->finished++;
    if (r->retry) {
      /* no parser saw it (none could start, the backlog was full): the
       * delivery used up no attempt */
      int outcome = 0;
      int qrc = r->not_started ? pf_db_giveback(b->db, r->sha256, &outcome)
                               : pf_db_requeue(b->db, r->sha256, b->cfg.max_attempts, r->error, &outcome);
      if (qrc != PF_OK) redis_trouble(b);
      pf_warn("sample %s: worker could not %s (%s); %s", r->sha256,
              r->not_started ? "take it" : "record a verdict", r->error,
              qrc != PF_OK ? "left to the orphan sweep"
              : outcome == 1 ? "requeued" : outcome == 2 ? "failed" : "already finished");
    } else if (r->ok) {
      pf_info("sample %s done", r->sha256);
    } else {
      pf_info("sample %s failed: %s", r->sha256, r->error);
    }
    b->next_claim = 0;
    break;
  }
  default:
    pf_warn("dropping an unexpected %s message from a worker", pf_msg_body_name(e));
  }
  pf_msg_free(e);
  pf_zframes_close(&f);
}

/* Hands queued jobs to workers with free capacity, least loaded first.
 * One claim takes as many jobs as the workers have room for, so Redis
 * commits (and fsyncs) them together. */
static void dispatch(broker *b) {
  if (pf_clock_ms() < b->next_claim) return;
  int room = 0;
  for (int i = 0; i < b->table.n; i++)
    if (b->table.w[i].used) room += b->table.w[i].capacity - b->table.w[i].njobs;
  if (room <= 0) return;
  if (room > 256) room = 256;
  static char shas[256][PF_SHA256_HEX_LEN + 1];
  int got = 0;
  if (pf_db_claim(b->db, shas, room, &got) != PF_OK) {
    redis_trouble(b);
    b->next_claim = pf_clock_ms() + 500;
    return;
  }
  redis_ok(b);
  if (got < room) b->next_claim = pf_clock_ms() + 200; /* the queue ran dry: look again soon */
  for (int k = 0; k < got; k++) {
    broker_worker *best = NULL;
    for (int i = 0; i < b->table.n; i++) {
      broker_worker *w = &b->table.w[i];
      if (w->used && w->njobs < w->capacity && (!best || w->njobs < best->njobs)) best = w;
    }
    if (!best) { /* a worker vanished meanwhile: give the job back, no attempt used */
      int outcome;
      if (pf_db_giveback(b->db, shas[k], &outcome) != PF_OK) redis_trouble(b);
      continue;
    }
    Pefleet__EncodeJob job = PEFLEET__ENCODE_JOB__INIT;
    job.sha256 = shas[k];
    job.attempt = 1;
    Pefleet__Envelope env = PEFLEET__ENVELOPE__INIT;
    env.body_case = PEFLEET__ENVELOPE__BODY_JOB;
    env.job = &job;
    broker_job_add(best, shas[k]);
    b->dispatched++;
    if (pf_zsend_env(b->workers, best->id, best->idlen, 0, &env) != PF_OK) {
      /* this job never left: it goes back without using up an attempt */
      int outcome;
      broker_job_remove(best, shas[k]);
      if (pf_db_giveback(b->db, shas[k], &outcome) != PF_OK) redis_trouble(b);
      drop_worker(b, best, "is unreachable");
      continue;
    }
    char id[128];
    broker_id_str(best, id, sizeof id);
    pf_debug("sample %s sent to worker %s", shas[k], id);
  }
}

/* Every job in flight that no live worker in the table holds goes back on
 * the queue (without using up an attempt) once its claim is older than one
 * heartbeat: a claim whose reply was lost when Redis died, a requeue that
 * failed while Redis was down, jobs of a worker that reconnected. The whole
 * of pf:inflight is walked, page by page; the broker is the only one that
 * claims, and it records every claim in the table before it polls again,
 * so anything else there has no owner. */
#define SWEEP_PAGE 256
static char sweep_held[BROKER_MAX_WORKERS * BROKER_MAX_CAPACITY][PF_SHA256_HEX_LEN + 1];
static int cmp_sha(const void *x, const void *y) { return strcmp(x, y); }

static void sweep_orphans(broker *b) {
  size_t nheld = 0;
  for (int i = 0; i < b->table.n; i++) {
    broker_worker *w = &b->table.w[i];
    for (int j = 0; w->used && j < w->njobs; j++) memcpy(sweep_held[nheld++], w->jobs[j], PF_SHA256_HEX_LEN + 1);
  }
  qsort(sweep_held, nheld, sizeof sweep_held[0], cmp_sha);
  static char page[SWEEP_PAGE][PF_SHA256_HEX_LEN + 1];
  long long offset = 0, back = 0; /* held entries stay in pf:inflight: skip them */
  for (;;) {
    int got = 0;
    if (pf_db_inflight_older(b->db, b->cfg.heartbeat_ms, offset, page, SWEEP_PAGE, &got) != PF_OK) {
      redis_trouble(b);
      return;
    }
    for (int k = 0; k < got; k++) {
      if (bsearch(page[k], sweep_held, nheld, sizeof sweep_held[0], cmp_sha)) { offset++; continue; }
      int outcome = 0; /* every outcome takes it out of pf:inflight */
      if (pf_db_giveback(b->db, page[k], &outcome) != PF_OK) { redis_trouble(b); return; }
      if (outcome == 1) {
        back++;
        pf_warn("sample %s was in flight with no live worker holding it; back on the queue", page[k]);
      }
    }
    if (got < SWEEP_PAGE) break;
  }
  if (back) {
    b->orphans += back;
    b->next_claim = 0;
  }
}

static void heartbeat(broker *b) {
  int64_t now = pf_clock_ms();
  Pefleet__Heartbeat hb = PEFLEET__HEARTBEAT__INIT;
  hb.worker_id = (char *)"broker";
  Pefleet__Envelope env = PEFLEET__ENVELOPE__INIT;
  env.body_case = PEFLEET__ENVELOPE__BODY_HEARTBEAT;
  env.heartbeat = &hb;
  for (int i = 0; i < b->table.n; i++) {
    broker_worker *w = &b->table.w[i];
    if (!w->used) continue;
    if (now > w->expires_ms) drop_worker(b, w, "stopped answering");
    else send_worker(b, w, &env);
  }
}

static void usage(FILE *f) {
  fprintf(f, "usage: pefleet-broker [--data DIR] [--config FILE]\n\n"
             "Receives ingested sample hashes, records them durably in Redis, and hands\n"
             "them to encoder workers, redelivering the jobs of workers that die.\n"
             "Settings come from --config FILE, else DIR/pefleet.conf, then PEFLEET_*\n"
             "environment variables (see README).\n");
}

int main(int argc, char **argv) {
  static broker b;
  static const pf_daemon_spec spec = {"pefleet-broker", "broker", usage, NULL, 0};
  int st = pf_daemon_start(&spec, argc, argv, &b.cfg, &stop);
  if (st >= 0) return st;
  char err[512];
  pf_info("starting; effective configuration:");
  pf_config_print(&b.cfg, stderr, "  ");

  pf_db_opts o;
  pf_daemon_db_opts(&b.cfg, &o);
  /* Redis must be there at start: the queue lives there. Wait for it. */
  if (pf_daemon_db_wait(&o, &b.db, &stop) != PF_OK) return 1;
  long long moved = 0;
  while (pf_db_recover(b.db, &moved) != PF_OK) {
    if (stop) return 1;
    redis_trouble(&b);
    struct timespec ts = {0, 500 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  pf_info("resumed from redis: %lld in-flight job(s) back on the queue", moved);

  void *ctx = zmq_ctx_new();
  if (pf_curve_zap_start(ctx, &b.cfg, err, sizeof err) != PF_OK) {
    pf_error("%s", err);
    return 1;
  }
  b.ingest = zmq_socket(ctx, ZMQ_ROUTER);
  b.workers = zmq_socket(ctx, ZMQ_ROUTER);
  if (pf_curve_server(b.ingest, &b.cfg, PF_CURVE_CLIENTS, err, sizeof err) != PF_OK ||
      pf_curve_server(b.workers, &b.cfg, PF_CURVE_WORKERS, err, sizeof err) != PF_OK) {
    pf_error("%s", err);
    return 1;
  }
  int one = 1, zero = 0;
  int64_t maxmsg = PF_MSG_MAX_CONTROL + 1024;
  zmq_setsockopt(b.workers, ZMQ_ROUTER_MANDATORY, &one, sizeof one);
  zmq_setsockopt(b.ingest, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
  zmq_setsockopt(b.workers, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
  zmq_setsockopt(b.ingest, ZMQ_LINGER, &zero, sizeof zero);
  zmq_setsockopt(b.workers, ZMQ_LINGER, &zero, sizeof zero);
  if (zmq_bind(b.ingest, b.cfg.ingest_endpoint) != 0 || zmq_bind(b.workers, b.cfg.worker_endpoint) != 0) {
    pf_error("cannot bind %s / %s: %s", b.cfg.ingest_endpoint, b.cfg.worker_endpoint, zmq_strerror(errno));
    return 1;
  }
  pf_info("listening: ingest %s, workers %s%s", b.cfg.ingest_endpoint, b.cfg.worker_endpoint,
          b.cfg.curve ? " (CURVE: encrypted, allowed client keys only)" : "");

  pf_heartbeat_init(&b.hb, &b.cfg, pf_clock_ms());
  int64_t next_sweep = pf_clock_ms() + b.cfg.heartbeat_ms;
  while (!stop) {
    zmq_pollitem_t items[2] = {{b.ingest, 0, ZMQ_POLLIN, 0}, {b.workers, 0, ZMQ_POLLIN, 0}};
    int64_t wait = b.hb.next_ms - pf_clock_ms();
    if (wait > 100) wait = 100;
    if (wait < 0) wait = 0;
    if (zmq_poll(items, 2, (long)wait) < 0 && errno != EINTR) break;
    if (items[0].revents & ZMQ_POLLIN) on_ingest(&b);
    for (int k = 0; k < 256; k++) {
      zmq_pollitem_t w1 = {b.workers, 0, ZMQ_POLLIN, 0};
      if (zmq_poll(&w1, 1, 0) <= 0) break;
      on_worker_msg(&b);
    }
    dispatch(&b);
    if (pf_heartbeat_due(&b.hb, pf_clock_ms())) heartbeat(&b);
    if (pf_clock_ms() >= next_sweep) {
      sweep_orphans(&b);
      next_sweep = pf_clock_ms() + b.cfg.heartbeat_ms;
    }
  }
  pf_info("stopping: %lld ingests acknowledged, %lld jobs dispatched, %lld results, %lld redelivered, "
          "%lld orphans requeued", b.acked, b.dispatched, b.finished, b.redelivered, b.orphans);
  zmq_close(b.ingest);
  zmq_close(b.workers);
  pf_curve_zap_stop();
  zmq_ctx_term(ctx);
  pf_db_free(&b.db);
  return 0;
}

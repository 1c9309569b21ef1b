/* pefleet-encoder-worker: takes encode jobs from the broker, reads each
 * sample from the content-addressed store, encodes it in isolated parser
 * children (pf_encoder), stores the vector (or the failure) in Redis, then
 * reports to the broker. Heartbeats both ways; when the broker goes quiet
 * the worker reconnects with backoff and announces itself again. */
#include "pf_daemon.h"
#include "pf_config.h"
#include "pf_clock.h"
#include "pf_db.h"
#include "pf_encoder.h"
#include "pf_err.h"
#include "pf_log.h"
#include "pf_msg.h"
#include "pf_peer.h"
#include "pf_store.h"
#include "pf_zmq.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define BACKLOG 256 /* jobs held beyond the parser slots (e.g. after a broker restart) */
#define UNSAVED 256 /* verdicts waiting for Redis to come back */

typedef struct {
  char sha[PF_SHA256_HEX_LEN + 1];
  int ok;
  char reason[256];
  double vec[PF_ERGO486_DIM];
} unsaved;

static volatile sig_atomic_t stop;

typedef struct {
  pf_config cfg;
  pf_db *db;
  pf_encoder *enc;
  void *ctx, *sock;
  char id[64];
  int capacity;
  pf_peer broker;             /* heartbeats and the redial backoff */
  char backlog[BACKLOG][PF_SHA256_HEX_LEN + 1];
  int nbacklog;
  char running[64][PF_SHA256_HEX_LEN + 1]; /* by encoder slot id */
  unsaved *unsaved;     /* UNSAVED entries */
  int nunsaved;
  int64_t next_flush;
  long long done, failed;
} worker;

static void send_env(worker *w, Pefleet__Envelope *env) {
  if (pf_zsend_env(w->sock, NULL, 0, 0, env) != PF_OK) pf_debug("send to broker failed: %s", zmq_strerror(errno));
}

static void send_ready(worker *w) {
  Pefleet__WorkerReady r = PEFLEET__WORKER_READY__INIT;
  r.worker_id = w->id;
  r.capacity = (uint32_t)(2 * w->capacity); /* one job waiting per busy parser */
  r.pid = (uint32_t)getpid();
  Pefleet__Envelope env = PEFLEET__ENVELOPE__INIT;
  env.body_case = PEFLEET__ENVELOPE__BODY_READY;
  env.ready = &r;
  send_env(w, &env);
}

/* The heartbeat lists every job held (backlog, parsing, verdict waiting for
 * Redis), so the broker can tell one that never arrived. */
static void send_heartbeat(worker *w) {
  static char *held[BACKLOG + 64 + UNSAVED];
  size_t n = 0;
  for (int i = 0; i < w->nbacklog; i++) held[n++] = w->backlog[i];
  for (int i = 0; i < w->capacity; i++)
    if (w->running[i][0]) held[n++] = w->running[i];
  for (int i = 0; i < w->nunsaved; i++) held[n++] = w->unsaved[i].sha;
  Pefleet__Heartbeat hb = PEFLEET__HEARTBEAT__INIT;
  hb.worker_id = w->id;
  hb.holding = held;
  hb.n_holding = n;
  hb.reports_holding = 1;
  Pefleet__Envelope env = PEFLEET__ENVELOPE__INIT;
  env.body_case = PEFLEET__ENVELOPE__BODY_HEARTBEAT;
  env.heartbeat = &hb;
  send_env(w, &env);
}

/* retry: 0 a verdict, 1 the broker should deliver the sample again,
 * RETRY_NOT_STARTED the same, and no parser saw it (no attempt used up). */
#define RETRY_NOT_STARTED 2
static void send_result(worker *w, const char *sha, int ok, const char *error, int retry) {
  Pefleet__EncodeResult r = PEFLEET__ENCODE_RESULT__INIT;
  r.sha256 = (char *)sha;
  r.ok = ok;
  r.error = (char *)(error ? error : "");
  r.retry = retry != 0;
  r.not_started = retry == RETRY_NOT_STARTED;
  Pefleet__Envelope env = PEFLEET__ENVELOPE__INIT;
  env.body_case = PEFLEET__ENVELOPE__BODY_RESULT;
  env.result = &r;
  send_env(w, &env);
}

static void connect_broker(worker *w) {
  pf_peer_dial(w->ctx, &w->cfg, w->cfg.worker_endpoint, w->id, PF_MSG_MAX_CONTROL + 1024, 0, &w->sock);
  send_ready(w);
  pf_peer_dialled(&w->broker, pf_clock_ms());
}

/* Writes one verdict to Redis and tells the broker. Returns 0 when Redis
 * could not take it (the caller keeps it and tries again later). */
static int save(worker *w, const unsaved *u) {
  int rc = u->ok ? pf_db_store_vector(w->db, u->sha, u->vec, PF_ERGO486_DIM, PF_ERGO486_SCHEMA_ID)
                 : pf_db_fail(w->db, u->sha, u->reason);
  if (rc == PF_EIO) return 0;
  if (rc != PF_OK) {
    pf_error("sample %s: redis refused the verdict (%s)", u->sha, pf_strerror(rc));
    send_result(w, u->sha, 0, "redis refused the verdict", 1);
    return 1;
  }
  if (u->ok) { w->done++; pf_info("sample %s encoded", u->sha); }
  else { w->failed++; pf_info("sample %s failed: %s", u->sha, u->reason); }
  send_result(w, u->sha, u->ok, u->ok ? NULL : u->reason, 0);
  return 1;
}

/* Records a verdict, or keeps it until Redis answers again: a worker never
 * drops work it has done because Redis blinked. */
static void verdict(worker *w, const char *sha, int ok, const char *reason, const double *vec) {
  static unsaved u;
  memset(&u, 0, sizeof u);
  memcpy(u.sha, sha, sizeof u.sha);
  u.ok = ok;
  if (reason) snprintf(u.reason, sizeof u.reason, "%s", reason);
  if (vec) memcpy(u.vec, vec, sizeof u.vec);
  if (w->nunsaved == 0 && save(w, &u)) return;
  if (w->nunsaved == 0) pf_error("redis unavailable (%s); holding verdicts until it is back", pf_db_error(w->db));
  w->unsaved[w->nunsaved++] = u;
}

static void flush_unsaved(worker *w) {
  if (w->nunsaved == 0 || pf_clock_ms() < w->next_flush) return;
  int k = 0;
  while (k < w->nunsaved && save(w, &w->unsaved[k])) k++;
  memmove(w->unsaved, w->unsaved + k, (size_t)(w->nunsaved - k) * sizeof *w->unsaved);
  w->nunsaved -= k;
  if (w->nunsaved) w->next_flush = pf_clock_ms() + 500;
  else pf_info("redis is back; all held verdicts saved");
}

static void fail_sample(worker *w, const char *sha, const char *reason) { verdict(w, sha, 0, reason, NULL); }

/* Starts queued jobs while parser slots are free. */
static void start_jobs(worker *w) {
  while (w->nbacklog > 0 && pf_encoder_free_slots(w->enc) > 0 && w->nunsaved < UNSAVED - 64) {
    char sha[PF_SHA256_HEX_LEN + 1];
    memcpy(sha, w->backlog[0], sizeof sha);
    memmove(w->backlog[0], w->backlog[1], (size_t)(w->nbacklog - 1) * sizeof w->backlog[0]);
    w->nbacklog--;
    char path[4096];
    if (pf_store_path(w->cfg.store, sha, path, sizeof path) != PF_OK) {
      fail_sample(w, sha, "store path too long");
      continue;
    }
    if (access(path, R_OK) != 0) {
      char reason[256];
      int missing = errno == ENOENT;
      snprintf(reason, sizeof reason, "%s (%.160s: %s)",
               missing ? "sample missing from the store" : "store unreadable", path, strerror(errno));
      if (missing) fail_sample(w, sha, reason);  /* a verdict: the sample is not there */
      else send_result(w, sha, 0, reason, 1);    /* maybe passing (EIO, EACCES): the broker retries */
      continue;
    }
    int slot = -1;
    for (int i = 0; i < w->capacity; i++)
      if (!w->running[i][0]) { slot = i; break; }
    if (slot < 0 || pf_encoder_submit(w->enc, (uint64_t)slot, path) != PF_OK) {
      send_result(w, sha, 0, "worker could not start a parser", RETRY_NOT_STARTED);
      continue;
    }
    memcpy(w->running[slot], sha, sizeof sha);
    pf_debug("sample %s: encoding", sha);
  }
}

static void on_broker_msg(worker *w) {
  pf_zframes f;
  int rc = pf_zrecv(w->sock, &f, ZMQ_DONTWAIT);
  if (rc == PF_ELIMIT) pf_warn("dropping a broker message with %d frames", f.dropped);
  if (rc != PF_OK) { pf_zframes_close(&f); return; }
  pf_peer_heard(&w->broker, pf_clock_ms());
  char err[256];
  Pefleet__Envelope *e =
      f.n == 1 ? pf_msg_decode(zmq_msg_data(&f.part[0]), zmq_msg_size(&f.part[0]), PF_MSG_MAX_CONTROL, err, sizeof err)
               : NULL;
  if (!e) {
    if (f.n != 1) snprintf(err, sizeof err, "%d frames", f.n);
    pf_warn("dropping a malformed broker message: %s", err);
  } else if (e->body_case == PEFLEET__ENVELOPE__BODY_JOB) {
    const char *sha = e->job->sha256;
    if (!pf_is_sha256_hex(sha)) pf_warn("dropping a job with a malformed sha256");
    else if (w->nbacklog >= BACKLOG) send_result(w, sha, 0, "worker backlog full", RETRY_NOT_STARTED);
    else memcpy(w->backlog[w->nbacklog++], sha, PF_SHA256_HEX_LEN + 1);
  } else if (e->body_case != PEFLEET__ENVELOPE__BODY_HEARTBEAT) {
    pf_warn("dropping an unexpected %s message from the broker", pf_msg_body_name(e));
  }
  pf_msg_free(e);
  pf_zframes_close(&f);
}

/* A parser finished: frees its slot and returns the sample it held into
 * sha, or 0 for a result nobody waits for. */
static int take_slot(worker *w, const pf_encode_result *res, char sha[PF_SHA256_HEX_LEN + 1]) {
  int slot = (int)res->id;
  if (slot < 0 || slot >= w->capacity || !w->running[slot][0]) return 0;
  memcpy(sha, w->running[slot], PF_SHA256_HEX_LEN + 1);
  w->running[slot][0] = '\0';
  return 1;
}

/* Records what the parser found for sha (Redis, then the broker). */
static void on_encoded(worker *w, const char *sha, const pf_encode_result *res) {
  if (!res->ok) {
    fail_sample(w, sha, res->error);
    return;
  }
  char got[PF_SHA256_HEX_LEN + 1];
  pf_hex(res->sha256, PF_SHA256_LEN, got);
  if (strcmp(got, sha) != 0) {
    char reason[200];
    snprintf(reason, sizeof reason, "store file content does not match its name (sha256 %s)", got);
    fail_sample(w, sha, reason);
    return;
  }
  verdict(w, sha, 1, NULL, res->vec);
}

static void usage(FILE *f) {
  fprintf(f, "usage: pefleet-encoder-worker [--data DIR] [--config FILE] [--capacity N]\n\n"
             "Encodes samples the broker hands it (parsing each in an isolated child) and\n"
             "stores the vectors in Redis. --capacity: parser processes (default 1).\n");
}

int main(int argc, char **argv) {
  static worker w;
  long capacity = 1;
  static pf_daemon_num nums[] = {{"--capacity", NULL, 1, 64}, {NULL, NULL, 0, 0}};
  nums[0].value = &capacity;
  static const pf_daemon_spec spec = {"pefleet-encoder-worker", "encoder-worker", usage, nums, 0};
  int st = pf_daemon_start(&spec, argc, argv, &w.cfg, &stop);
  if (st >= 0) return st;
  w.capacity = (int)capacity;
  char err[512];
  char host[32] = "host";
  gethostname(host, sizeof host - 1);
  snprintf(w.id, sizeof w.id, "%.24s-%d-%lld", host, (int)getpid(), (long long)time(NULL));
  pf_info("starting worker %s, capacity %d; effective configuration:", w.id, w.capacity);
  pf_config_print(&w.cfg, stderr, "  ");

  pf_encoder_opts eo;
  pf_encoder_opts_default(&eo);
  eo.workers = capacity;
  eo.log_layers = 1;
  if (pf_encoder_new(&eo, &w.enc, err, sizeof err) != PF_OK) {
    pf_error("cannot start the parser pool: %s", err);
    return 1;
  }
  pf_db_opts o;
  pf_daemon_db_opts(&w.cfg, &o);
  if (pf_daemon_db_wait(&o, &w.db, &stop) != PF_OK) return 1;
  w.unsaved = calloc(UNSAVED, sizeof *w.unsaved);
  if (!w.unsaved) { pf_error("out of memory"); return 1; }
  w.ctx = zmq_ctx_new();
  if (pf_peer_check_keys(w.ctx, &w.cfg, err, sizeof err) != PF_OK) { pf_error("%s", err); return 1; }
  pf_peer_init(&w.broker, &w.cfg);
  connect_broker(&w);
  pf_info("connected to broker %s%s", w.cfg.worker_endpoint, w.cfg.curve ? " (CURVE)" : "");

  while (!stop) {
    /* wait on the broker and on the parsers at once */
    zmq_pollitem_t items[1 + 2 * 64];
    int fds[2 * 64];
    int nfd = pf_encoder_pollfds(w.enc, fds, 2 * 64);
    items[0] = (zmq_pollitem_t){w.sock, 0, ZMQ_POLLIN, 0};
    for (int k = 0; k < nfd; k++) items[1 + k] = (zmq_pollitem_t){NULL, fds[k], ZMQ_POLLIN, 0};
    long wait = w.nunsaved ? 100 : w.cfg.heartbeat_ms / 2;
    if (zmq_poll(items, 1 + nfd, wait) < 0 && errno != EINTR) break;
    for (int k = 0; k < 256 && (items[0].revents & ZMQ_POLLIN); k++) {
      on_broker_msg(&w);
      zmq_pollitem_t one = {w.sock, 0, ZMQ_POLLIN, 0};
      if (zmq_poll(&one, 1, 0) <= 0) break;
    }
    flush_unsaved(&w);
    start_jobs(&w);
    /* collect what the parsers finished, hand them their next files, and
     * only then record the results: the parsers work while Redis commits */
    static pf_encode_result res[64];
    static char held[64][PF_SHA256_HEX_LEN + 1];
    for (;;) {
      int nres = 0;
      while (nres < 64 && pf_encoder_pending(w.enc) > 0 && pf_encoder_next(w.enc, &res[nres], 0) == 1)
        if (take_slot(&w, &res[nres], held[nres])) nres++;
      if (nres == 0) break;
      start_jobs(&w);
      for (int k = 0; k < nres; k++) on_encoded(&w, held[k], &res[k]);
      start_jobs(&w);
    }
    int64_t now = pf_clock_ms(), silent;
    if (pf_heartbeat_due(&w.broker.hb, now)) send_heartbeat(&w);
    if (pf_peer_lost(&w.broker, now, &silent)) {
      pf_warn("broker silent for %lld ms; reconnecting (next check after %d ms more)", (long long)silent,
              w.broker.backoff_ms);
      connect_broker(&w);
    }
  }
  if (w.nunsaved) pf_warn("stopping with %d verdict(s) Redis never took; their samples stay in flight and are redelivered", w.nunsaved);
  pf_info("stopping: %lld encoded, %lld failed", w.done, w.failed);
  pf_encoder_free(&w.enc);
  zmq_close(w.sock);
  zmq_ctx_term(w.ctx);
  pf_db_free(&w.db);
  return 0;
}

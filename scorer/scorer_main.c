/* pefleet-scorer: one member of the scorer pool. Connects a DEALER to the
 * score router, announces its capacity, and answers [ticket][ScoreRequest]
 * with [ticket][ScoreReply]. A request carries a raw vector (checked:
 * length, finite values), a sha256 (its stored vector from Redis, or the
 * stored file encoded now) or the file's bytes (encoded in an isolated
 * parser child, never in this process). Vectors that are ready together
 * are scored as one batch; the model switches between batches when a new
 * one is promoted (scorer_model.c). */
#include "scorer_model.h"

#include "pf_daemon.h"
#include "pf_clock.h"
#include "pf_config.h"
#include "pf_db.h"
#include "pf_encoder.h"
#include "pf_explain.h"
#include "pf_ergo486.h"
#include "pf_err.h"
#include "pf_hash.h"
#include "pf_io.h"
#include "pf_log.h"
#include "pf_msg.h"
#include "pf_peer.h"
#include "pf_store.h"
#include "pf_tmp.h"
#include "pf_zmq.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define MAX_CAPACITY 1024
#define MAX_PARSERS 64

static volatile sig_atomic_t stop;

enum { J_FREE, J_READY, J_WAITING, J_PARSING }; /* J_WAITING: for a free parser */

typedef struct {
  int state;
  uint64_t ticket;
  char request_id[128];
  int want_vector;
  int explain;               /* also explain the verdict (pf_explain) */
  int64_t t0;
  double t0_s;    /* the same moment in seconds: scorer_ms to the microsecond */
  char sha[PF_SHA256_HEX_LEN + 1];
  char tmp[1100];            /* temporary file of an uploaded sample, "" when none */
  char path[1100];           /* the file to parse (J_WAITING) */
  double vec[PF_DB_MAX_DIM];
  uint32_t dim;
} job;

typedef struct {
  pf_config cfg;
  pf_db *db;
  pf_encoder *enc;
  sm_state sm;
  void *ctx, *sock;
  char id[96];
  int capacity, parsers;
  uint64_t max_size;
  pf_tmp tmp;                /* private folder of uploads */
  job *jobs;                 /* capacity entries */
  pf_peer router;             /* heartbeats and the redial backoff */
  long long scored, errors;
} scorer;

/* ---- replies ---- */

static void send_reply(scorer *s, uint64_t ticket, Pefleet__ScoreReply *r) {
  Pefleet__Envelope env = PEFLEET__ENVELOPE__INIT;
  env.body_case = PEFLEET__ENVELOPE__BODY_SCORE_REPLY;
  env.score_reply = r;
  uint8_t *buf = NULL;
  long len = pf_msg_encode(&env, &buf);
  if (len < 0) { pf_error("out of memory packing a reply"); return; }
  if (zmq_send(s->sock, &ticket, sizeof ticket, ZMQ_SNDMORE) < 0 || zmq_send(s->sock, buf, (size_t)len, 0) < 0)
    pf_debug("reply not sent: %s", zmq_strerror(errno));
  free(buf);
}

static void job_clear(job *j) {
  if (j->tmp[0]) unlink(j->tmp);
  j->tmp[0] = '\0';
  j->state = J_FREE;
}

static void reply_error(scorer *s, job *j, Pefleet__ScoreStatus st, const char *why) {
  Pefleet__ScoreReply r = PEFLEET__SCORE_REPLY__INIT;
  r.request_id = j->request_id;
  r.sha256 = j->sha;
  r.status = st;
  r.error = (char *)why;
  r.model_version = s->sm.version;
  r.elapsed_ms = (pf_clock_s() - j->t0_s) * 1000.0;
  send_reply(s, j->ticket, &r);
  s->errors++;
  pf_info("request %s%s%s: %s", j->request_id, j->sha[0] ? " sample " : "", j->sha, why);
  job_clear(j);
}

/* Scores every ready job in one batch with the current model. */
static void score_ready(scorer *s) {
  job *batch[MAX_CAPACITY];
  int n = 0;
  for (int i = 0; i < s->capacity; i++)
    if (s->jobs[i].state == J_READY) batch[n++] = &s->jobs[i];
  if (n == 0) return;
  const pf_model *m = s->sm.model;
  if (!m) {
    for (int k = 0; k < n; k++)
      reply_error(s, batch[k], PEFLEET__SCORE_STATUS__SCORE_ERROR,
                  "no model is promoted yet (pefleet promote MODEL_DIR)");
    return;
  }
  uint32_t in = m->sizes[0], nc = pf_model_classes(m);
  float *x = malloc((size_t)n * in * sizeof *x), *p = malloc((size_t)n * nc * sizeof *p);
  int k0 = 0;
  /* vectors of the wrong width for this model (it may have just changed) */
  for (int k = 0; k < n; k++)
    if (batch[k]->dim != in) {
      char why[160];
      snprintf(why, sizeof why, "the vector has %u values; model %s takes %u", batch[k]->dim, s->sm.version, in);
      reply_error(s, batch[k], PEFLEET__SCORE_STATUS__SCORE_BAD_VECTOR, why);
    } else {
      batch[k0++] = batch[k];
    }
  n = k0;
  if (!x || !p) {
    for (int k = 0; k < n; k++) reply_error(s, batch[k], PEFLEET__SCORE_STATUS__SCORE_ERROR, "out of memory");
    free(x);
    free(p);
    return;
  }
  for (int k = 0; k < n; k++)
    for (uint32_t f = 0; f < in; f++) x[(size_t)k * in + f] = (float)batch[k]->vec[f];
  if (n > 0 && pf_model_predict(m, x, (size_t)n, p) != PF_OK) {
    for (int k = 0; k < n; k++) reply_error(s, batch[k], PEFLEET__SCORE_STATUS__SCORE_ERROR, "out of memory");
    free(x);
    free(p);
    return;
  }
  for (int k = 0; k < n; k++) {
    job *j = batch[k];
    double probs[PF_MODEL_MAX_CLASSES];
    for (uint32_t c = 0; c < nc; c++) probs[c] = p[(size_t)k * nc + c];
    uint32_t v = pf_model_verdict(m, p + (size_t)k * nc);
    Pefleet__ScoreReply r = PEFLEET__SCORE_REPLY__INIT;
    Pefleet__Vector vec = PEFLEET__VECTOR__INIT;
    r.request_id = j->request_id;
    r.sha256 = j->sha;
    r.n_probabilities = nc;
    r.probabilities = probs;
    r.verdict = (char *)m->classes[v];
    r.threshold = m->threshold;
    r.model_version = s->sm.version;
    r.status = PEFLEET__SCORE_STATUS__SCORE_OK;
    r.error = (char *)"";
    if (j->want_vector || j->explain) {
      vec.n_values = j->dim;
      vec.values = j->vec;
      r.vector = &vec;
    }
    Pefleet__Explanation ex = PEFLEET__EXPLANATION__INIT;
    double contrib[PF_DB_MAX_DIM];
    pf_explain_info info;
    if (j->explain) {
      uint32_t target = nc == 2 ? 1 : v;
      if (pf_explain_ig(m, x + (size_t)k * in, target, PF_EXPLAIN_STEPS, contrib, &info) == PF_OK) {
        ex.n_contributions = in;
        ex.contributions = contrib;
        ex.target = target;
        ex.p = info.p_x;
        ex.p_baseline = info.p_base;
        ex.baseline = info.baseline;
        ex.steps = (uint32_t)info.steps;
        ex.method = info.method;
        r.explanation = &ex;
      }
    }
    r.elapsed_ms = (pf_clock_s() - j->t0_s) * 1000.0;
    send_reply(s, j->ticket, &r);
    s->scored++;
    if (j->sha[0]) pf_info("sample %s: %s (p=%.6f, model %s)", j->sha, m->classes[v], probs[nc - 1], s->sm.version);
    job_clear(j);
  }
  free(x);
  free(p);
}

/* ---- requests ---- */

static job *free_job(scorer *s) {
  for (int i = 0; i < s->capacity; i++)
    if (s->jobs[i].state == J_FREE) return &s->jobs[i];
  return NULL;
}

/* Queues a file for a parser child (J_WAITING); start_waiting hands it over. */
static void start_parse(scorer *s, job *j, const char *path) {
  (void)s;
  snprintf(j->path, sizeof j->path, "%s", path);
  j->state = J_WAITING;
}

/* Hands waiting files to free parser children, oldest request first. */
static void start_waiting(scorer *s) {
  while (pf_encoder_free_slots(s->enc) > 0) {
    job *oldest = NULL;
    for (int i = 0; i < s->capacity; i++)
      if (s->jobs[i].state == J_WAITING && (!oldest || s->jobs[i].t0 < oldest->t0)) oldest = &s->jobs[i];
    if (!oldest) return;
    if (pf_encoder_submit(s->enc, (uint64_t)(oldest - s->jobs), oldest->path) != PF_OK) {
      reply_error(s, oldest, PEFLEET__SCORE_STATUS__SCORE_ERROR, "could not start a parser");
      continue;
    }
    oldest->state = J_PARSING;
  }
}

static void take_vector(scorer *s, job *j, const Pefleet__Vector *v) {
  if (!v || v->n_values == 0 || v->n_values > PF_DB_MAX_DIM) {
    char why[128];
    snprintf(why, sizeof why, "the vector has %zu values; expected %u", v ? v->n_values : (size_t)0,
             s->sm.model ? s->sm.model->sizes[0] : PF_ERGO486_DIM);
    reply_error(s, j, PEFLEET__SCORE_STATUS__SCORE_BAD_VECTOR, why);
    return;
  }
  for (size_t i = 0; i < v->n_values; i++)
    if (!isfinite(v->values[i]) || fabs(v->values[i]) > 3.4e38) {
      char why[128];
      snprintf(why, sizeof why, "value %zu of the vector is not a finite number", i + 1);
      reply_error(s, j, PEFLEET__SCORE_STATUS__SCORE_BAD_VECTOR, why);
      return;
    }
  memcpy(j->vec, v->values, v->n_values * sizeof(double));
  j->dim = (uint32_t)v->n_values;
  j->state = J_READY;
}

static void take_sha(scorer *s, job *j, const char *sha) {
  if (!pf_is_sha256_hex(sha)) {
    reply_error(s, j, PEFLEET__SCORE_STATUS__SCORE_UNKNOWN_SHA256, "sha256 must be 64 lower-case hex characters");
    return;
  }
  memcpy(j->sha, sha, sizeof j->sha);
  static pf_db_sample rec;
  int rc = pf_db_get(s->db, sha, &rec);
  if (rc == PF_OK && rec.has_vector) {
    memcpy(j->vec, rec.vec, rec.dim * sizeof(double));
    j->dim = rec.dim;
    j->state = J_READY;
    return;
  }
  if (rc == PF_EIO) {
    char why[300];
    snprintf(why, sizeof why, "redis unavailable: %.250s", pf_db_error(s->db));
    reply_error(s, j, PEFLEET__SCORE_STATUS__SCORE_ERROR, why);
    return;
  }
  /* not encoded (yet): encode the stored file now, if the store has it */
  char path[1100];
  if (pf_store_path(s->cfg.store, sha, path, sizeof path) == PF_OK && access(path, R_OK) == 0) {
    start_parse(s, j, path);
    return;
  }
  if (rc == PF_OK && strcmp(rec.status, "failed") == 0) {
    char why[400];
    snprintf(why, sizeof why, "sample could not be encoded: %.300s", rec.reason);
    reply_error(s, j, PEFLEET__SCORE_STATUS__SCORE_NOT_PE, why);
    return;
  }
  reply_error(s, j, PEFLEET__SCORE_STATUS__SCORE_UNKNOWN_SHA256, "unknown sha256: no such sample in the fleet");
}

static void take_sample(scorer *s, job *j, const ProtobufCBinaryData *b) {
  if (b->len == 0) {
    reply_error(s, j, PEFLEET__SCORE_STATUS__SCORE_NOT_PE, "empty file");
    return;
  }
  if (b->len > s->max_size) {
    char why[128];
    snprintf(why, sizeof why, "the file has %zu bytes; the limit is %llu", b->len, (unsigned long long)s->max_size);
    reply_error(s, j, PEFLEET__SCORE_STATUS__SCORE_TOO_LARGE, why);
    return;
  }
  int fd = pf_tmp_file(&s->tmp, j->tmp, sizeof j->tmp);
  if (fd < 0 || pf_io_write_all(fd, b->data, b->len) != 0) {
    char why[300];
    snprintf(why, sizeof why, "cannot write a temporary file in %.200s: %s", s->tmp.dir, strerror(errno));
    if (fd >= 0) close(fd);
    reply_error(s, j, PEFLEET__SCORE_STATUS__SCORE_ERROR, why);
    return;
  }
  close(fd);
  start_parse(s, j, j->tmp);
}

static void on_request(scorer *s, pf_zframes *f) {
  if (f->n != 2 || zmq_msg_size(&f->part[0]) != sizeof(uint64_t)) {
    pf_warn("dropping a router message with %d frames", f->n);
    return;
  }
  job *j = free_job(s);
  if (!j) { /* the router never sends beyond our capacity; a restarted router might */
    pf_warn("request beyond capacity dropped (the router redelivers it)");
    return;
  }
  memset(j, 0, offsetof(job, vec));
  memcpy(&j->ticket, zmq_msg_data(&f->part[0]), sizeof j->ticket);
  j->t0 = pf_clock_ms();
  j->t0_s = pf_clock_s();
  char err[256];
  Pefleet__Envelope *e =
      pf_msg_decode(zmq_msg_data(&f->part[1]), zmq_msg_size(&f->part[1]), PF_MSG_MAX_SAMPLE, err, sizeof err);
  if (!e || e->body_case != PEFLEET__ENVELOPE__BODY_SCORE) {
    char why[300];
    snprintf(why, sizeof why, "malformed request: %s", e ? "not a score request" : err);
    pf_warn("%s", why);
    reply_error(s, j, PEFLEET__SCORE_STATUS__SCORE_ERROR, why);
    pf_msg_free(e);
    return;
  }
  Pefleet__ScoreRequest *q = e->score;
  snprintf(j->request_id, sizeof j->request_id, "%s", q->request_id ? q->request_id : "");
  j->want_vector = q->want_vector;
  j->explain = q->explain;
  switch (q->input_case) {
  case PEFLEET__SCORE_REQUEST__INPUT_VECTOR: take_vector(s, j, q->vector); break;
  case PEFLEET__SCORE_REQUEST__INPUT_SHA256: take_sha(s, j, q->sha256); break;
  case PEFLEET__SCORE_REQUEST__INPUT_SAMPLE: take_sample(s, j, &q->sample); break;
  default: reply_error(s, j, PEFLEET__SCORE_STATUS__SCORE_BAD_VECTOR, "the request carries no input"); break;
  }
  pf_msg_free(e);
}

/* A parser child finished a file. */
static void on_parsed(scorer *s, const pf_encode_result *res) {
  if (res->id >= (uint64_t)s->capacity) return;
  job *j = &s->jobs[res->id];
  if (j->state != J_PARSING) return;
  if (res->have_hash) pf_hex(res->sha256, PF_SHA256_LEN, j->sha);
  if (!res->ok) {
    Pefleet__ScoreStatus st = res->code == PF_ELIMIT ? PEFLEET__SCORE_STATUS__SCORE_TOO_LARGE
                              : res->code == PF_EIO  ? PEFLEET__SCORE_STATUS__SCORE_ERROR
                                                     : PEFLEET__SCORE_STATUS__SCORE_NOT_PE;
    reply_error(s, j, st, res->error);
    return;
  }
  memcpy(j->vec, res->vec, sizeof res->vec);
  j->dim = PF_ERGO486_DIM;
  j->state = J_READY;
}

/* ---- the router link ---- */

static void send_control(scorer *s, int ready) {
  Pefleet__Envelope env = PEFLEET__ENVELOPE__INIT;
  Pefleet__WorkerReady r = PEFLEET__WORKER_READY__INIT;
  Pefleet__Heartbeat hb = PEFLEET__HEARTBEAT__INIT;
  if (ready) {
    r.worker_id = s->id;
    r.capacity = (uint32_t)s->capacity;
    r.pid = (uint32_t)getpid();
    env.body_case = PEFLEET__ENVELOPE__BODY_READY;
    env.ready = &r;
  } else {
    hb.worker_id = s->id;
    env.body_case = PEFLEET__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &hb;
  }
  pf_zsend_env(s->sock, NULL, 0, 0, &env);
}

static void connect_router(scorer *s) {
  pf_peer_dial(s->ctx, &s->cfg, s->cfg.scorer_endpoint, s->id, (int64_t)PF_MSG_MAX_SAMPLE + 4096, 100000, &s->sock);
  send_control(s, 1);
  pf_peer_dialled(&s->router, pf_clock_ms());
}

static void on_router(scorer *s) {
  pf_zframes f;
  int rc = pf_zrecv(s->sock, &f, ZMQ_DONTWAIT);
  if (rc == PF_ELIMIT) pf_warn("dropping a router message with %d frames", f.dropped);
  if (rc != PF_OK) { pf_zframes_close(&f); return; }
  pf_peer_heard(&s->router, pf_clock_ms());
  if (f.n == 1) { /* heartbeat */
    char err[128];
    Pefleet__Envelope *e =
        pf_msg_decode(zmq_msg_data(&f.part[0]), zmq_msg_size(&f.part[0]), PF_MSG_MAX_CONTROL, err, sizeof err);
    if (!e || e->body_case != PEFLEET__ENVELOPE__BODY_HEARTBEAT) pf_warn("dropping an unexpected router message");
    pf_msg_free(e);
  } else {
    on_request(s, &f);
  }
  pf_zframes_close(&f);
}

static void usage(FILE *f) {
  fprintf(f, "usage: pefleet-scorer [--data DIR] [--config FILE] [--capacity N] [--parsers N] [--max-size MIB]\n\n"
             "A member of the scorer pool: answers score requests the score router hands\n"
             "it with the promoted model (switching when another is promoted).\n"
             "  --capacity N   requests held at once (default 64)\n"
             "  --parsers N    isolated parser processes for uploaded files (default 1)\n"
             "  --max-size MIB largest file scored (default 100)\n");
}

int main(int argc, char **argv) {
  static scorer s;
  long capacity = 64, parsers = 1, max_mib = 100;
  static pf_daemon_num nums[] = {{"--capacity", NULL, 1, MAX_CAPACITY},
                                 {"--parsers", NULL, 1, MAX_PARSERS},
                                 {"--max-size", NULL, 1, 120},
                                 {NULL, NULL, 0, 0}};
  nums[0].value = &capacity;
  nums[1].value = &parsers;
  nums[2].value = &max_mib;
  static const pf_daemon_spec spec = {"pefleet-scorer", "scorer", usage, nums, 1};
  int st = pf_daemon_start(&spec, argc, argv, &s.cfg, &stop);
  if (st >= 0) return st;
  s.capacity = (int)capacity;
  s.parsers = (int)parsers;
  s.max_size = (uint64_t)max_mib << 20;
  char err[512];
  int swept = 0;
  if (pf_tmp_open(&s.tmp, NULL, "pefleet-scorer", &swept, err, sizeof err) != PF_OK) {
    pf_error("%s", err);
    return 1;
  }
  if (swept) pf_info("removed %d upload folder(s) a stopped scorer left beside %s", swept, s.tmp.dir);
  char host[32] = "host";
  gethostname(host, sizeof host - 1);
  snprintf(s.id, sizeof s.id, "scorer-%.24s-%d-%lld", host, (int)getpid(), (long long)time(NULL));
  pf_info("starting %s, capacity %d, %d parser(s); effective configuration:", s.id, s.capacity, s.parsers);
  pf_config_print(&s.cfg, stderr, "  ");

  pf_encoder_opts eo;
  pf_encoder_opts_default(&eo);
  eo.workers = s.parsers;
  eo.log_layers = 1;
  eo.max_file_size = s.max_size;
  if (pf_encoder_new(&eo, &s.enc, err, sizeof err) != PF_OK) {
    pf_error("cannot start the parser pool: %s", err);
    return 1;
  }
  pf_db_opts o;
  pf_daemon_db_opts(&s.cfg, &o);
  if (pf_daemon_db_wait(&o, &s.db, &stop) != PF_OK) return 1;
  s.jobs = calloc((size_t)s.capacity, sizeof *s.jobs);
  if (!s.jobs) { pf_error("out of memory"); return 1; }
  sm_init(&s.sm, &s.cfg, s.db);
  sm_tick(&s.sm, 0); /* the current model, before the first request */
  if (!s.sm.model) pf_warn("no model promoted yet; requests get an error until one is (pefleet promote)");
  s.ctx = zmq_ctx_new();
  char cerr[1400];
  if (pf_peer_check_keys(s.ctx, &s.cfg, cerr, sizeof cerr) != PF_OK) { pf_error("%s", cerr); return 1; }
  pf_peer_init(&s.router, &s.cfg);
  connect_router(&s);
  pf_info("connected to score router %s", s.cfg.scorer_endpoint);

  while (!stop) {
    zmq_pollitem_t items[2 + 2 * MAX_PARSERS];
    int fds[2 * MAX_PARSERS];
    int nfd = pf_encoder_pollfds(s.enc, fds, 2 * MAX_PARSERS);
    int n = 0;
    items[n++] = (zmq_pollitem_t){s.sock, 0, ZMQ_POLLIN, 0};
    int subfd = sm_fd(&s.sm);
    int sub_at = -1;
    if (subfd >= 0) { sub_at = n; items[n++] = (zmq_pollitem_t){NULL, subfd, ZMQ_POLLIN, 0}; }
    for (int k = 0; k < nfd; k++) items[n++] = (zmq_pollitem_t){NULL, fds[k], ZMQ_POLLIN, 0};
    if (zmq_poll(items, n, 200) < 0 && errno != EINTR) break;
    /* model switches happen here, between batches */
    sm_tick(&s.sm, sub_at >= 0 && (items[sub_at].revents & ZMQ_POLLIN));
    /* take every request that is waiting (up to capacity), then score them together */
    while (free_job(&s)) {
      zmq_pollitem_t one = {s.sock, 0, ZMQ_POLLIN, 0};
      if (zmq_poll(&one, 1, 0) <= 0) break;
      on_router(&s);
    }
    pf_encode_result res;
    start_waiting(&s);
    while (pf_encoder_pending(s.enc) > 0 && pf_encoder_next(s.enc, &res, 0) == 1) {
      on_parsed(&s, &res);
      start_waiting(&s);
    }
    score_ready(&s);
    int64_t now = pf_clock_ms(), silent;
    if (pf_heartbeat_due(&s.router.hb, now)) send_control(&s, 0);
    if (pf_peer_lost(&s.router, now, &silent)) {
      pf_warn("router silent for %lld ms; reconnecting", (long long)silent);
      connect_router(&s);
    }
  }
  pf_info("stopping: %lld scored, %lld answered with an error, %lld model switches", s.scored, s.errors,
          s.sm.switches);
  for (int i = 0; i < s.capacity; i++)
    if (s.jobs[i].state != J_FREE) job_clear(&s.jobs[i]);
  pf_tmp_close(&s.tmp);
  pf_encoder_free(&s.enc);
  sm_free(&s.sm);
  zmq_close(s.sock);
  zmq_ctx_term(s.ctx);
  pf_db_free(&s.db);
  free(s.jobs);
  return 0;
}

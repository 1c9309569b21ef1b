/* pefleet-similar: the similarity service. Holds every stored vector in
 * an exact cosine index (lib/pf_simindex.h), loaded from Redis at start and
 * kept current from the pf:vectors stream, and answers SimilarRequest
 * envelopes on a ROUTER (similar_endpoint): by sha256 of a stored sample,
 * by raw vector, or by a file's bytes (encoded by an isolated
 * pefleet-sandbox child, never parsed in this process: the request is
 * answered when its child is done, while other requests go on). */
#include "similar.h"
#include "pf_daemon.h"
#include "pf_tmp.h"
#include "pf_clock.h"
#include "pf_config.h"
#include "pf_curve.h"
#include "pf_encoder.h"
#include "pf_err.h"
#include "pf_hash.h"
#include "pf_io.h"
#include "pf_log.h"
#include "pf_msg.h"
#include "pf_simindex.h"
#include "pf_zmq.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#define DEFAULT_THRESHOLD 0.9
#define DEFAULT_TOP 100
#define POLL_MS 150          /* how often the pf:vectors stream is read */
#define CATCH_UP_MS 2000     /* a query waits at most this for the index to reach the store */
#define SAMPLE_TIMEOUT_MS 30000
#define SAMPLE_WORKERS 2     /* sandbox children encoding uploaded files */
#define SAMPLE_JOBS 16       /* files accepted at once (encoding or waiting for a child) */
#define MAX_IDENTITY 256

static volatile int stop;

typedef struct {
  Pefleet__ScoreStatus status;
  char error[320];
} outcome;

/* A request that carries a file: answered when its child has encoded it. */
typedef struct {
  int used, submitted;
  uint64_t id;
  uint8_t ident[MAX_IDENTITY];
  size_t identlen;
  int delim;
  char *request_id;
  double threshold;
  size_t top;
  size_t bytes;
  char path[1100];
} sample_job;

typedef struct {
  pf_config cfg;
  sim_sync *sync;
  pf_simindex *ix;
  void *sock;
  pf_encoder *enc;  /* started at the first request that carries a file */
  sample_job jobs[SAMPLE_JOBS];
  pf_tmp tmp;                /* private folder of uploads */
  uint64_t next_id;
  pf_simhit hits[PF_SIMINDEX_MAX_TOP];
  long long queries, errors;
  int behind;                /* the last catch-up did not reach the store: queries refused */
} service;

static void set_err(outcome *o, Pefleet__ScoreStatus st, const char *fmt, const char *arg) {
  o->status = st;
  snprintf(o->error, sizeof o->error, fmt, arg ? arg : "");
}

/* threshold (0: the default) and top (0: the default, capped) of a request */
static int params(const Pefleet__SimilarRequest *q, double *t, size_t *top, outcome *o) {
  *t = q->threshold == 0 ? DEFAULT_THRESHOLD : q->threshold;
  *top = q->top == 0 ? DEFAULT_TOP : q->top > PF_SIMINDEX_MAX_TOP ? PF_SIMINDEX_MAX_TOP : q->top;
  if (!(*t >= -1 && *t <= 1)) {
    set_err(o, PEFLEET__SCORE_STATUS__SCORE_ERROR, "threshold must be in [-1, 1]%s", NULL);
    return PF_EINVAL;
  }
  return PF_OK;
}

static void log_done(const char *what, size_t n, double t, size_t top, const pf_simstats *st, int64_t t0) {
  pf_info("%s: %zu hit(s) at >= %g (top %zu) among %zu vectors: %zu candidates, %zu rechecked, %lld ms", what, n, t,
          top, st->scanned, st->candidates, st->reranked, (long long)(pf_clock_ms() - t0));
}

/* Searches with a vector of n values; hits in sv->hits. */
static void search_vector(service *sv, const double *vec, size_t n, double t, size_t top, size_t *nhits, outcome *o,
                          const char *what) {
  char err[256] = "";
  pf_simstats st;
  int64_t t0 = pf_clock_ms();
  if (n != pf_simindex_dim(sv->ix)) {
    char m[64];
    snprintf(m, sizeof m, "%zu", n);
    set_err(o, PEFLEET__SCORE_STATUS__SCORE_BAD_VECTOR, "bad vector: it has %s values, expected 486", m);
    return;
  }
  int rc = pf_simindex_query(sv->ix, vec, (uint32_t)n, t, top, sv->hits, nhits, &st, err, sizeof err);
  if (rc == PF_EINVAL) set_err(o, PEFLEET__SCORE_STATUS__SCORE_BAD_VECTOR, "bad vector: %s", err);
  else if (rc != PF_OK) set_err(o, PEFLEET__SCORE_STATUS__SCORE_ERROR, "search failed: %s", err);
  else log_done(what, *nhits, t, top, &st, t0);
}

/* Runs a request by sha256 or vector; hits in sv->hits, *n of them. */
static void run(service *sv, const Pefleet__SimilarRequest *q, size_t *n, outcome *o, char *what, size_t whatlen) {
  *n = 0;
  double t;
  size_t top;
  if (params(q, &t, &top, o) != PF_OK) return;
  char err[256] = "";
  pf_simstats st;
  int64_t t0 = pf_clock_ms();
  switch (q->query_case) {
  case PEFLEET__SIMILAR_REQUEST__QUERY_SHA256: {
    snprintf(what, whatlen, "sha %.64s", q->sha256);
    if (!pf_is_sha256_hex(q->sha256)) {
      set_err(o, PEFLEET__SCORE_STATUS__SCORE_UNKNOWN_SHA256, "malformed sha256: 64 lower-case hex characters expected%s",
              NULL);
      return;
    }
    int rc = pf_simindex_query_sha(sv->ix, q->sha256, t, top, sv->hits, n, &st, err, sizeof err);
    if (rc == PF_ENOENT)
      set_err(o, PEFLEET__SCORE_STATUS__SCORE_UNKNOWN_SHA256, "unknown sha256 %s: no stored vector for this sample",
              q->sha256);
    else if (rc != PF_OK) set_err(o, PEFLEET__SCORE_STATUS__SCORE_ERROR, "search failed: %s", err);
    else log_done(what, *n, t, top, &st, t0);
    return;
  }
  case PEFLEET__SIMILAR_REQUEST__QUERY_VECTOR: {
    size_t k = q->vector ? q->vector->n_values : 0;
    snprintf(what, whatlen, "vector of %zu values", k);
    search_vector(sv, k ? q->vector->values : NULL, k, t, top, n, o, what);
    return;
  }
  default:
    snprintf(what, whatlen, "empty query");
    set_err(o, PEFLEET__SCORE_STATUS__SCORE_ERROR, "no query: set sha256, vector or sample%s", NULL);
  }
}

/* Labels text "a,b" -> pointers into text (modified), at most max. */
static size_t split_labels(char *text, char **out, size_t max) {
  size_t n = 0;
  if (!*text) return 0;
  for (char *p = text; n < max;) {
    out[n++] = p;
    char *c = strchr(p, ',');
    if (!c) break;
    *c = '\0';
    p = c + 1;
  }
  return n;
}

static void reply(service *sv, const void *id, size_t idlen, int delim, const char *request_id, size_t n,
                  const outcome *o) {
  Pefleet__SimilarReply rep = PEFLEET__SIMILAR_REPLY__INIT;
  rep.request_id = (char *)(request_id ? request_id : "");
  rep.status = o->status;
  rep.error = (char *)o->error;
  Pefleet__SimilarHit *h = n ? calloc(n, sizeof *h) : NULL;
  Pefleet__SimilarHit **hp = n ? calloc(n, sizeof *hp) : NULL;
  char(*sha)[PF_SHA256_HEX_LEN + 1] = n ? calloc(n, sizeof *sha) : NULL;
  char **text = n ? calloc(n, sizeof *text) : NULL;
  char ***labels = n ? calloc(n, sizeof *labels) : NULL;
  if (n && (!h || !hp || !sha || !text || !labels)) n = 0; /* out of memory: an empty answer */
  for (size_t i = 0; i < n; i++) {
    pefleet__similar_hit__init(&h[i]);
    pf_simindex_sha(sv->ix, sv->hits[i].idx, sha[i]);
    h[i].sha256 = sha[i];
    h[i].similarity = sv->hits[i].similarity;
    h[i].split = (char *)pf_simindex_split(sv->ix, sv->hits[i].idx);
    text[i] = strdup(pf_simindex_labels(sv->ix, sv->hits[i].idx));
    labels[i] = calloc(33, sizeof(char *));
    if (text[i] && labels[i]) {
      h[i].n_labels = split_labels(text[i], labels[i], 32);
      h[i].labels = labels[i];
    }
    hp[i] = &h[i];
  }
  rep.n_hits = n;
  rep.hits = hp;
  Pefleet__Envelope env = PEFLEET__ENVELOPE__INIT;
  env.body_case = PEFLEET__ENVELOPE__BODY_SIMILAR_REPLY;
  env.similar_reply = &rep;
  if (pf_zsend_env(sv->sock, id, idlen, delim, &env) != PF_OK)
    pf_warn("could not answer a client: %s", zmq_strerror(errno));
  for (size_t i = 0; i < n; i++) {
    free(text[i]);
    free(labels[i]);
  }
  free(h);
  free(hp);
  free(sha);
  free(text);
  free(labels);
}

/* ---- requests that carry a file ---- */

static void job_release(sample_job *j) {
  if (j->path[0]) unlink(j->path);
  free(j->request_id);
  memset(j, 0, sizeof *j);
}

/* Hands waiting files to free children, oldest first. */
static void submit_waiting(service *sv) {
  for (;;) {
    sample_job *next = NULL;
    for (int i = 0; i < SAMPLE_JOBS; i++)
      if (sv->jobs[i].used && !sv->jobs[i].submitted && (!next || sv->jobs[i].id < next->id)) next = &sv->jobs[i];
    if (!next || pf_encoder_free_slots(sv->enc) <= 0) return;
    if (pf_encoder_submit(sv->enc, next->id, next->path) != PF_OK) {
      outcome o;
      set_err(&o, PEFLEET__SCORE_STATUS__SCORE_ERROR, "the file could not be handed to the encoder%s", NULL);
      reply(sv, next->ident, next->identlen, next->delim, next->request_id, 0, &o);
      sv->errors++;
      job_release(next);
      continue;
    }
    next->submitted = 1;
  }
}

/* Accepts a file: a temporary copy, queued for a sandbox child. On an
 * error *o says why (the caller answers); else the answer comes later. */
static int accept_sample(service *sv, const void *id, size_t idlen, int delim, const Pefleet__SimilarRequest *q,
                         outcome *o) {
  double t;
  size_t top;
  if (params(q, &t, &top, o) != PF_OK) return PF_EINVAL;
  if (idlen > MAX_IDENTITY) {
    set_err(o, PEFLEET__SCORE_STATUS__SCORE_ERROR, "client identity too long%s", NULL);
    return PF_EINVAL;
  }
  if (!sv->enc) {
    pf_encoder_opts opts;
    pf_encoder_opts_default(&opts);
    opts.workers = SAMPLE_WORKERS;
    opts.log_layers = 1;
    opts.timeout_ms = SAMPLE_TIMEOUT_MS;
    char err[256];
    if (pf_encoder_new(&opts, &sv->enc, err, sizeof err) != PF_OK) {
      set_err(o, PEFLEET__SCORE_STATUS__SCORE_ERROR, "cannot start the isolated encoder: %s", err);
      return PF_EIO;
    }
  }
  sample_job *j = NULL;
  for (int i = 0; i < SAMPLE_JOBS && !j; i++)
    if (!sv->jobs[i].used) j = &sv->jobs[i];
  if (!j) {
    set_err(o, PEFLEET__SCORE_STATUS__SCORE_ERROR,
            "busy: %s files are being encoded; try again, or send the file's vector instead", "16");
    return PF_ELIMIT;
  }
  int fd = pf_tmp_file(&sv->tmp, j->path, sizeof j->path);
  if (fd < 0) {
    set_err(o, PEFLEET__SCORE_STATUS__SCORE_ERROR, "cannot write a temporary file: %s", strerror(errno));
    return PF_EIO;
  }
  int w = pf_io_write_all(fd, q->sample.data, q->sample.len);
  close(fd);
  j->request_id = strdup(q->request_id ? q->request_id : "");
  if (w != 0 || !j->request_id) {
    set_err(o, PEFLEET__SCORE_STATUS__SCORE_ERROR, "cannot write a temporary file: %s", strerror(errno));
    job_release(j);
    return PF_EIO;
  }
  j->used = 1;
  j->id = ++sv->next_id;
  memcpy(j->ident, id, idlen);
  j->identlen = idlen;
  j->delim = delim;
  j->threshold = t;
  j->top = top;
  j->bytes = q->sample.len;
  submit_waiting(sv);
  return PF_OK;
}

/* Answers every file whose child has finished (timeouts included). */
static void collect_samples(service *sv) {
  if (!sv->enc) return;
  pf_encode_result *res = malloc(sizeof *res);
  if (!res) return;
  while (pf_encoder_pending(sv->enc) > 0 && pf_encoder_next(sv->enc, res, 0) == 1) {
    sample_job *j = NULL;
    for (int i = 0; i < SAMPLE_JOBS && !j; i++)
      if (sv->jobs[i].used && sv->jobs[i].submitted && sv->jobs[i].id == res->id) j = &sv->jobs[i];
    if (!j) continue;
    outcome o = {PEFLEET__SCORE_STATUS__SCORE_OK, ""};
    size_t n = 0;
    char what[96];
    snprintf(what, sizeof what, "file of %zu bytes", j->bytes);
    if (!res->ok) {
      set_err(&o,
              res->code == PF_ENOTPE || res->code == PF_ETRUNC ? PEFLEET__SCORE_STATUS__SCORE_NOT_PE
              : res->code == PF_ELIMIT                        ? PEFLEET__SCORE_STATUS__SCORE_TOO_LARGE
                                                              : PEFLEET__SCORE_STATUS__SCORE_ERROR,
              "the file could not be encoded: %s", res->error);
    } else {
      search_vector(sv, res->vec, PF_ERGO486_DIM, j->threshold, j->top, &n, &o, what);
    }
    sv->queries++;
    if (o.status != PEFLEET__SCORE_STATUS__SCORE_OK) {
      sv->errors++;
      pf_warn("%s: %s", what, o.error);
    }
    reply(sv, j->ident, j->identlen, j->delim, j->request_id, n, &o);
    job_release(j);
  }
  free(res);
  submit_waiting(sv);
}

/* One request: [identity][envelope] from a DEALER, or [identity][""][envelope]. */
static void on_request(service *sv) {
  pf_zframes f;
  int rc = pf_zrecv(sv->sock, &f, ZMQ_DONTWAIT);
  if (rc == PF_EIO) return;
  if (rc != PF_OK || f.n < 2 || f.n > 3 || (f.n == 3 && zmq_msg_size(&f.part[1]) != 0)) {
    pf_warn("dropping a message with %d frames (want identity + one envelope)", f.n + f.dropped);
    pf_zframes_close(&f);
    return;
  }
  const void *id = zmq_msg_data(&f.part[0]);
  size_t idlen = zmq_msg_size(&f.part[0]);
  int delim = f.n == 3;
  zmq_msg_t *payload = &f.part[f.n - 1];
  char err[256];
  outcome o = {PEFLEET__SCORE_STATUS__SCORE_OK, ""};
  Pefleet__Envelope *e = pf_msg_decode(zmq_msg_data(payload), zmq_msg_size(payload), PF_MSG_MAX_SAMPLE, err, sizeof err);
  if (!e || e->body_case != PEFLEET__ENVELOPE__BODY_SIMILAR || !e->similar) {
    if (e) snprintf(err, sizeof err, "expected a similar request, got %s", pf_msg_body_name(e));
    pf_warn("rejecting a request: %s", err);
    set_err(&o, PEFLEET__SCORE_STATUS__SCORE_ERROR, "bad request: %s", err);
    sv->errors++;
    reply(sv, id, idlen, delim, NULL, 0, &o);
    pf_msg_free(e);
    pf_zframes_close(&f);
    return;
  }
  size_t n = 0;
  char what[128] = "request";
  if (e->similar->query_case == PEFLEET__SIMILAR_REQUEST__QUERY_SAMPLE) {
    snprintf(what, sizeof what, "file of %zu bytes", e->similar->sample.len);
    if (accept_sample(sv, id, idlen, delim, e->similar, &o) == PF_OK) { /* answered when encoded */
      pf_msg_free(e);
      pf_zframes_close(&f);
      return;
    }
  } else if (sv->behind) {
    set_err(&o, PEFLEET__SCORE_STATUS__SCORE_ERROR,
            "%s", "the similarity index is behind the store (catching up, or Redis unreachable); retry in a moment");
  } else {
    run(sv, e->similar, &n, &o, what, sizeof what);
  }
  sv->queries++;
  if (o.status != PEFLEET__SCORE_STATUS__SCORE_OK) {
    sv->errors++;
    pf_warn("%s: %s", what, o.error);
  }
  reply(sv, id, idlen, delim, e->similar->request_id, n, &o);
  pf_msg_free(e);
  pf_zframes_close(&f);
}

static void usage(FILE *f) {
  fprintf(f, "usage: pefleet-similar [--data DIR] [--config FILE]\n\n"
             "Holds every stored vector in an exact cosine-similarity index (loaded from\n"
             "Redis, kept current from the pf:vectors stream) and answers similar requests\n"
             "on similar_endpoint (default tcp://127.0.0.1:5559).\n"
             "Settings come from --config FILE, else DIR/pefleet.conf, then PEFLEET_*\n"
             "environment variables (see README).\n");
}

int main(int argc, char **argv) {
  static service sv;
  static const pf_daemon_spec spec = {"pefleet-similar", "similar", usage, NULL, 1};
  int st = pf_daemon_start(&spec, argc, argv, &sv.cfg, &stop);
  if (st >= 0) return st;
  char err[512];
  pf_info("starting; effective configuration:");
  pf_config_print(&sv.cfg, stderr, "  ");
  {
    int swept = 0;
    if (pf_tmp_open(&sv.tmp, NULL, "pefleet-similar", &swept, err, sizeof err) != PF_OK) {
      pf_error("%s", err);
      return 1;
    }
    if (swept) pf_info("removed %d upload folder(s) a stopped similarity service left behind", swept);
  }

  /* bind first, so a port clash is reported at once, not after the load */
  void *ctx = zmq_ctx_new();
  if (pf_curve_zap_start(ctx, &sv.cfg, err, sizeof err) != PF_OK) {
    pf_error("%s", err);
    return 1;
  }
  sv.sock = zmq_socket(ctx, ZMQ_ROUTER);
  if (pf_curve_server(sv.sock, &sv.cfg, PF_CURVE_CLIENTS, err, sizeof err) != PF_OK) {
    pf_error("%s", err);
    return 1;
  }
  int zero = 0;
  int64_t maxmsg = (int64_t)PF_MSG_MAX_SAMPLE + 4096;
  zmq_setsockopt(sv.sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
  zmq_setsockopt(sv.sock, ZMQ_LINGER, &zero, sizeof zero);
  if (zmq_bind(sv.sock, sv.cfg.similar_endpoint) != 0) {
    pf_error("cannot bind %s: %s", sv.cfg.similar_endpoint, zmq_strerror(errno));
    return 1;
  }

  if (sim_sync_new(&sv.cfg, &stop, &sv.sync) != PF_OK) return 1;
  while (!stop && sim_sync_load(sv.sync, &sv.ix) != PF_OK) {
    if (stop) break;
    pf_warn("the load failed; trying again in a second");
    sleep(1);
  }
  if (stop) {
    pf_info("stopped before the load was complete");
    sim_sync_free(&sv.sync);
    pf_tmp_close(&sv.tmp);
    zmq_close(sv.sock);
    pf_curve_zap_stop();
    zmq_ctx_term(ctx);
    return 0;
  }
  pf_info("listening on %s%s", sv.cfg.similar_endpoint,
          sv.cfg.curve ? " (CURVE: encrypted, allowed client keys only)" : "");

  int64_t next_poll = pf_clock_ms() + POLL_MS;
  while (!stop) {
    /* the socket, and the sandbox children encoding uploaded files */
    zmq_pollitem_t it[1 + 2 * SAMPLE_WORKERS];
    int fds[2 * SAMPLE_WORKERS];
    int nfd = sv.enc ? pf_encoder_pollfds(sv.enc, fds, 2 * SAMPLE_WORKERS) : 0;
    it[0] = (zmq_pollitem_t){sv.sock, 0, ZMQ_POLLIN, 0};
    for (int k = 0; k < nfd; k++) it[1 + k] = (zmq_pollitem_t){NULL, fds[k], ZMQ_POLLIN, 0};
    int64_t wait = next_poll - pf_clock_ms();
    if (wait < 0) wait = 0;
    if (nfd && wait > 100) wait = 100; /* the children's wall-clock limits are checked in collect_samples */
    if (zmq_poll(it, 1 + nfd, (long)wait) < 0 && errno != EINTR) break;
    /* read-your-writes: what was stored before these requests came is in
     * the index before they are answered */
    if (it[0].revents & ZMQ_POLLIN) {
      int cu = sim_sync_catch_up(sv.sync, &sv.ix, CATCH_UP_MS);
      if (cu != PF_OK && !sv.behind) pf_warn("the index is behind the store (%s): queries are refused until it catches up",
                                               cu == PF_EIO ? "Redis unreachable" : "catching up");
      sv.behind = cu != PF_OK;
    }
    for (int k = 0; k < 64 && (it[0].revents & ZMQ_POLLIN); k++) {
      zmq_pollitem_t one = {sv.sock, 0, ZMQ_POLLIN, 0};
      if (k > 0 && zmq_poll(&one, 1, 0) <= 0) break;
      on_request(&sv);
    }
    collect_samples(&sv);
    if (pf_clock_ms() >= next_poll) {
      sim_sync_poll(sv.sync, &sv.ix);
      next_poll = pf_clock_ms() + POLL_MS;
    }
  }
  pf_info("stopping: %lld queries answered (%lld with an error), %zu vectors held", sv.queries, sv.errors,
          pf_simindex_count(sv.ix));
  pf_encoder_free(&sv.enc);
  for (int i = 0; i < SAMPLE_JOBS; i++)
    if (sv.jobs[i].used) job_release(&sv.jobs[i]);
  pf_tmp_close(&sv.tmp);
  zmq_close(sv.sock);
  pf_curve_zap_stop();
  zmq_ctx_term(ctx);
  pf_simindex_free(&sv.ix);
  sim_sync_free(&sv.sync);
  return 0;
}

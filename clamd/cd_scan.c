/* pefleet-clamd's verdicts from the score pool (see cd_scan.h). */
#include "cd_scan.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "pf_clock.h"
#include "pf_err.h"
#include "pf_io.h"
#include "pf_rpc.h"

static const cd_opts *opts;
static void *zctx;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pf_rpc *idle[512]; /* connections not in use */
static int n_idle;

int cd_scan_init(const cd_opts *o) {
  opts = o;
  zctx = zmq_ctx_new();
  return zctx ? PF_OK : PF_EIO;
}

void cd_scan_shutdown(void) {
  pthread_mutex_lock(&mu);
  while (n_idle > 0) pf_rpc_free(&idle[--n_idle]);
  pthread_mutex_unlock(&mu);
  if (zctx) zmq_ctx_term(zctx);
  zctx = NULL;
}

static pf_rpc *rpc_take(char *err, size_t errlen) {
  pthread_mutex_lock(&mu);
  pf_rpc *r = n_idle > 0 ? idle[--n_idle] : NULL;
  pthread_mutex_unlock(&mu);
  if (r) return r;
  if (pf_rpc_new(zctx, opts->score_endpoint, &opts->cfg, &r, err, errlen) != PF_OK) return NULL;
  return r;
}

/* A connection that timed out may still get its late reply; pf_rpc drops
 * replies whose request id differs, so it can be reused. */
static void rpc_give(pf_rpc *r) {
  pthread_mutex_lock(&mu);
  if (n_idle < (int)(sizeof idle / sizeof idle[0])) { idle[n_idle++] = r; r = NULL; }
  pthread_mutex_unlock(&mu);
  if (r) pf_rpc_free(&r);
}

static void fail(cd_verdict *v, const char *fmt, const char *a) {
  v->verdict = CD_V_ERROR;
  snprintf(v->reason, sizeof v->reason, fmt, a);
}

void cd_scan_bytes(const uint8_t *buf, size_t len, cd_verdict *v) {
  memset(v, 0, sizeof *v);
  char err[300];
  double t0 = pf_clock_s();
  pf_rpc *r = rpc_take(err, sizeof err);
  if (!r) { fail(v, "score pool unreachable: %s", err); return; }
  Pefleet__Envelope env = PEFLEET__ENVELOPE__INIT;
  Pefleet__ScoreRequest sr;
  pefleet__score_request__init(&sr);
  env.body_case = PEFLEET__ENVELOPE__BODY_SCORE;
  env.score = &sr;
  sr.input_case = PEFLEET__SCORE_REQUEST__INPUT_SAMPLE;
  sr.sample.data = (uint8_t *)buf;
  sr.sample.len = len;
  Pefleet__Envelope *rep = NULL;
  int rc = pf_rpc_call(r, &env, opts->score_timeout_ms, &rep, err, sizeof err);
  rpc_give(r);
  v->ms = (pf_clock_s() - t0) * 1000.0;
  if (rc != PF_OK) {
    fail(v, "score pool: %s", rc == PF_ETIMEOUT ? "no answer in time" : err);
    return;
  }
  Pefleet__ScoreReply *s = rep->score_reply;
  if (s->sha256) snprintf(v->sha256, sizeof v->sha256, "%s", s->sha256);
  if (s->model_version) snprintf(v->model, sizeof v->model, "%s", s->model_version);
  switch (s->status) {
  case PEFLEET__SCORE_STATUS__SCORE_OK:
    if (s->n_probabilities < 2) { fail(v, "%s", "the score pool sent an incomplete reply"); break; }
    v->probability = s->probabilities[1];
    v->verdict = v->probability >= s->threshold ? CD_V_FOUND : CD_V_OK;
    break;
  case PEFLEET__SCORE_STATUS__SCORE_NOT_PE:
    v->not_pe = 1;
    if (opts->not_pe_error) fail(v, "%s", s->error && *s->error ? s->error : "not a PE file");
    else v->verdict = CD_V_OK;
    break;
  case PEFLEET__SCORE_STATUS__SCORE_TOO_LARGE:
    fail(v, "%s", "size limit exceeded.");
    break;
  default:
    fail(v, "%s", s->error && *s->error ? s->error : "the scorer failed");
    break;
  }
  pf_msg_free(rep);
}

void cd_scan_fd(int fd, cd_verdict *v) {
  memset(v, 0, sizeof *v);
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) { fail(v, "%s", "Not a regular file."); return; }
  if ((uint64_t)st.st_size > opts->stream_max) { fail(v, "%s", "Size limit exceeded."); return; }
  size_t n = (size_t)st.st_size;
  if (!cd_budget_take(n ? n : 1)) { fail(v, "%s", "Server busy (in-flight byte budget), retry later."); return; }
  uint8_t *buf = malloc(n ? n : 1);
  ssize_t got = buf ? pread(fd, buf, n, 0) : -1;
  if (!buf) fail(v, "%s", "Can't allocate memory.");
  else if (got < 0 || (size_t)got != n) fail(v, "%s", "Can't read the file.");
  else cd_scan_bytes(buf, n, v);
  free(buf);
  cd_budget_give(n ? n : 1);
}

void cd_verdict_text(const cd_verdict *v, char *buf, size_t n) {
  if (v->verdict == CD_V_FOUND) snprintf(buf, n, "%s FOUND", opts->virus_name);
  else if (v->verdict == CD_V_OK) snprintf(buf, n, "OK");
  else snprintf(buf, n, "%s ERROR", v->reason);
}

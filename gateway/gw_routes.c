#include "gw_routes.h"
#include "gw_metrics.h"
#include "gw_pool.h"
#include "pf_io.h"
#include "pf_clock.h"
#include "pf_ergo486.h"
#include "pf_err.h"
#include "pf_fmt.h"
#include "pf_hash.h"
#include "pf_explain.h"
#include "pf_explain_out.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { IN_SAMPLE, IN_VECTOR, IN_SHA256 };

/* The input of a scoring request, resolved from x or sha256. */
typedef struct {
  int kind;
  const uint8_t *bytes; /* IN_SAMPLE */
  size_t len;
  uint8_t *owned;       /* bytes read from a server-side path */
  double *vec;          /* IN_VECTOR (malloc'd) */
  size_t n;
  char sha256[PF_SHA256_HEX_LEN + 1];
} gw_input;

static void input_free(gw_input *in) {
  free(in->owned);
  free(in->vec);
  memset(in, 0, sizeof *in);
}

/* Reads the server-side file at path: opened once beneath its allowed
 * folder (gw_auth_open), held against the budget, read from that same
 * descriptor. Returns 0 when *in is ready, else the HTTP status with the
 * reason in err. */
static int read_path(gw_req *r, const char *path, gw_input *in, char *err, size_t errlen) {
  int fd = -1;
  int rc = gw_auth_open(&r->o->auth, path, &fd, err, errlen);
  if (rc != PF_OK) return rc == PF_ENOENT ? 404 : 403;
  struct stat st;
  size_t max = r->o->max_upload;
  if (fstat(fd, &st) == 0 && (uint64_t)st.st_size <= max && !gw_http_hold(r, (size_t)st.st_size + 4096)) {
    close(fd);
    snprintf(err, errlen, "busy: the request bodies in flight fill the gateway's budget of %zu bytes; retry later",
             r->o->body_budget);
    return 503;
  }
  rc = pf_io_read_fd(fd, max, &in->owned, &in->len);
  int e = errno;
  close(fd);
  if (rc == PF_OK) return 0;
  if (rc == PF_ELIMIT) {
    snprintf(err, errlen, "file of %zu bytes is larger than the upload limit of %zu bytes", in->len, max);
    return 413;
  }
  snprintf(err, errlen, "cannot read the file: %s", rc == PF_ENOMEM ? "out of memory" : strerror(e));
  return 500;
}

/* Resolves the request's input. Returns 1 when *in is ready, 0 when an
 * error reply was queued (its MHD result in *mhd). */
static int resolve_input(gw_req *r, gw_input *in, int allow_sha, int *mhd) {
  memset(in, 0, sizeof *in);
  gw_params *p = &r->p;
  char err[300];
  if (p->x_set && p->x_file) {
    in->kind = IN_SAMPLE;
    in->bytes = p->x ? p->x : (const uint8_t *)"";
    in->len = p->x_len;
    return 1;
  }
  if (p->x_set && p->x_len > 0) {
    const char *s = (const char *)p->x;
    if (strlen(s) != p->x_len) {
      *mhd = gw_http_error(r, 400, "x holds a NUL byte (send files as an upload)");
      return 0;
    }
    if (gw_parse_is_path(s, p->x_len)) {
      int st = read_path(r, s, in, err, sizeof err);
      if (st) {
        *mhd = gw_http_error(r, st, "%s", err);
        return 0;
      }
      in->kind = IN_SAMPLE;
      in->bytes = in->owned;
      return 1;
    }
    size_t cap = 1; /* one value per comma, plus one: no 512 KiB buffer per request */
    for (size_t k = 0; k < p->x_len && cap < GW_VECTOR_MAX; k++) cap += s[k] == ',';
    in->vec = malloc(cap * sizeof *in->vec);
    if (!in->vec) {
      *mhd = gw_http_error(r, 500, "out of memory");
      return 0;
    }
    if (gw_parse_vector(s, p->x_len, in->vec, cap, &in->n, err, sizeof err) != PF_OK) {
      input_free(in);
      *mhd = gw_http_error(r, 400, "%s", err);
      return 0;
    }
    in->kind = IN_VECTOR;
    return 1;
  }
  if (allow_sha && p->sha256[0]) {
    char *h = p->sha256;
    for (char *q = h; *q; q++) *q = (char)tolower((unsigned char)*q);
    if (!pf_is_sha256_hex(h)) {
      *mhd = gw_http_error(r, 400, "sha256 must be 64 hex characters");
      return 0;
    }
    in->kind = IN_SHA256;
    memcpy(in->sha256, h, PF_SHA256_HEX_LEN + 1);
    return 1;
  }
  *mhd = gw_http_error(r, 400, "missing x (a file upload, a comma-separated vector or a server-side path)%s",
                       allow_sha ? " or sha256" : "");
  return 0;
}

/* The HTTP status of a score reply's status. */
static int score_http(Pefleet__ScoreStatus st) {
  switch (st) {
  case PEFLEET__SCORE_STATUS__SCORE_OK: return 200;
  case PEFLEET__SCORE_STATUS__SCORE_NOT_PE:
  case PEFLEET__SCORE_STATUS__SCORE_BAD_VECTOR: return 400;
  case PEFLEET__SCORE_STATUS__SCORE_UNKNOWN_SHA256: return 404;
  case PEFLEET__SCORE_STATUS__SCORE_TOO_LARGE: return 413;
  default: return 500;
  }
}

static const char *score_default_reason(Pefleet__ScoreStatus st) {
  switch (st) {
  case PEFLEET__SCORE_STATUS__SCORE_NOT_PE: return "not a PE file";
  case PEFLEET__SCORE_STATUS__SCORE_BAD_VECTOR: return "bad vector";
  case PEFLEET__SCORE_STATUS__SCORE_UNKNOWN_SHA256: return "unknown sha256";
  case PEFLEET__SCORE_STATUS__SCORE_TOO_LARGE: return "sample too large";
  default: return "the scorer failed";
  }
}

/* Sends in to the score pool (gw_http_call: the connection waits
 * suspended); in is freed. Returns MHD's result. */
static int send_score(gw_req *r, gw_input *in, int want_vector, int explain) {
  Pefleet__Envelope env = PEFLEET__ENVELOPE__INIT;
  Pefleet__ScoreRequest sr;
  pefleet__score_request__init(&sr); /* (the oneof INIT macros trip -Wmissing-braces) */
  Pefleet__Vector v = PEFLEET__VECTOR__INIT;
  env.body_case = PEFLEET__ENVELOPE__BODY_SCORE;
  env.score = &sr;
  sr.want_vector = want_vector ? 1 : 0;
  sr.explain = explain ? 1 : 0;
  char sha[PF_SHA256_HEX_LEN + 1];
  sha[0] = '\0';
  if (in->kind == IN_SAMPLE) {
    sr.input_case = PEFLEET__SCORE_REQUEST__INPUT_SAMPLE;
    sr.sample.data = (uint8_t *)in->bytes;
    sr.sample.len = in->len;
  } else if (in->kind == IN_VECTOR) {
    sr.input_case = PEFLEET__SCORE_REQUEST__INPUT_VECTOR;
    v.n_values = in->n;
    v.values = in->vec;
    sr.vector = &v;
  } else {
    sr.input_case = PEFLEET__SCORE_REQUEST__INPUT_SHA256;
    snprintf(sha, sizeof sha, "%s", in->sha256);
    sr.sha256 = sha;
    snprintf(r->sha256, sizeof r->sha256, "%s", sha);
  }
  int mhd = gw_http_call(r, GW_SVC_SCORE, &env, r->o->score_timeout_ms, in->owned ? in->len : 0);
  input_free(in);
  return mhd;
}

/* The score pool's answer to send_score (in r->call): the reply (status
 * OK), or NULL with an error reply queued (*mhd). */
static Pefleet__ScoreReply *score_result(gw_req *r, int want_vector, int *mhd) {
  const gw_call *c = &r->call;
  if (c->rc != PF_OK) {
    *mhd = gw_http_error(r, 503, "score pool at %s: %s", gw_pool_endpoint(GW_SVC_SCORE),
                         c->rc == PF_ETIMEOUT ? "no answer in time (is pefleet-score-router running?)" : c->err);
    return NULL;
  }
  Pefleet__ScoreReply *sr2 = c->reply->score_reply;
  if (sr2->sha256 && pf_is_sha256_hex(sr2->sha256)) memcpy(r->sha256, sr2->sha256, sizeof r->sha256);
  if (sr2->model_version && *sr2->model_version) gw_metrics_model(sr2->model_version);
  if (sr2->status != PEFLEET__SCORE_STATUS__SCORE_OK) {
    *mhd = gw_http_error(r, score_http(sr2->status), "%s",
                         sr2->error && *sr2->error ? sr2->error : score_default_reason(sr2->status));
    return NULL;
  }
  if (sr2->n_probabilities == 0 || (want_vector && (!sr2->vector || sr2->vector->n_values == 0))) {
    *mhd = gw_http_error(r, 500, "the score pool sent an incomplete reply");
    return NULL;
  }
  if (sr2->verdict) gw_metrics_verdict(sr2->verdict);
  return sr2;
}

/* A probability: as the float it was computed in when it is one (the
 * shortest text that reads back to it), else the shortest double. */
static void put_prob(FILE *f, double v) {
  char buf[40];
  float fv = (float)v;
  if ((double)fv == v && isfinite(v)) {
    for (int prec = 6; prec <= 9; prec++) {
      snprintf(buf, sizeof buf, "%.*g", prec, (double)fv);
      if (strtof(buf, NULL) == fv) break;
    }
  } else {
    pf_fmt_double(v, buf, sizeof buf);
  }
  fputs(buf, f);
}

static int reply_stream(gw_req *r, FILE *f, char *body, size_t len, const char *type) {
  (void)f;
  int rc = gw_http_reply(r, 200, type, body, len);
  free(body);
  return rc;
}

#define OPEN_BODY(f, body, len)                                 \
  char *body = NULL;                                            \
  size_t len = 0;                                               \
  FILE *f = open_memstream(&body, &len);                        \
  if (!f) return gw_http_error(r, 500, "out of memory")

/* explain= of /v1/scan: 0 when not asked, K (1..486) top features, or -1
 * when the value is bad. "true", "yes", "on" and "" ask for the default 10. */
static long explain_k(const gw_req *r) {
  const char *e = r->p.explain;
  if (!r->p.explain_set) return 0;
  if (!e[0]) return 10;
  if (strcmp(e, "true") == 0 || strcmp(e, "yes") == 0 || strcmp(e, "on") == 0) return 10;
  char *end = NULL;
  long k = strtol(e, &end, 10);
  return *end || k < 1 || k > PF_EXPLAIN_MAX_TOP ? -1 : k;
}

/* The /v1/scan reply without its closing brace into f. */
static void v1_scan_fields(FILE *f, const gw_req *r, const Pefleet__ScoreReply *s, double ms) {
  char num[40];
  fputs("{\"sha256\":", f);
  if (s->sha256 && *s->sha256) pf_fmt_json_string(f, s->sha256);
  else fputs("null", f);
  fputs(",\"verdict\":", f);
  pf_fmt_json_string(f, s->verdict ? s->verdict : "");
  fputs(",\"probabilities\":[", f);
  for (size_t k = 0; k < s->n_probabilities; k++) {
    if (k) fputc(',', f);
    put_prob(f, s->probabilities[k]);
  }
  fputs("],\"threshold\":", f);
  put_prob(f, s->threshold);
  fputs(",\"model_version\":", f);
  pf_fmt_json_string(f, s->model_version ? s->model_version : "");
  pf_fmt_double(round(ms * 1000.0) / 1000.0, num, sizeof num);
  fprintf(f, ",\"elapsed_ms\":%s", num);
  pf_fmt_double(round(s->elapsed_ms * 1000.0) / 1000.0, num, sizeof num);
  fprintf(f, ",\"scorer_ms\":%s", num);
  (void)r;
}

/* /v1/scan?explain: the explanation (without its closing brace, where the
 * similar samples go) after the reply's fields, kept in r->partial while
 * the similarity service is asked for the 3 stored samples most like the
 * file. Returns MHD's result. */
static int explain_then_similar(gw_req *r, const Pefleet__ScoreReply *s, double ms, long k) {
  const Pefleet__Explanation *e = s->explanation;
  if (!e || !s->vector || e->n_contributions != s->vector->n_values)
    return gw_http_error(r, 500, "the score pool sent no explanation");
  char cls[32];
  const char *target = (int)e->target < r->o->n_classes ? r->o->classes[e->target] : cls;
  snprintf(cls, sizeof cls, "class%u", e->target);
  pf_explain_view ev = {e->contributions, s->vector->values, e->n_contributions, target, e->p, e->p_baseline,
                        e->baseline, (int)e->steps, e->method};
  FILE *f = open_memstream(&r->partial, &r->partial_len);
  if (!f) return gw_http_error(r, 500, "out of memory");
  v1_scan_fields(f, r, s, ms);
  fputs(",\"explanation\":", f);
  pf_explain_json(f, &ev, (size_t)k, NULL);
  if (fclose(f) != 0 || r->partial_len < 2) return gw_http_error(r, 500, "out of memory");
  r->partial[--r->partial_len] = '\0'; /* the explanation's closing brace: "similar" goes before it */
  gw_input in;
  memset(&in, 0, sizeof in);
  in.kind = IN_VECTOR;
  in.n = s->vector->n_values;
  in.vec = malloc(in.n * sizeof *in.vec);
  if (!in.vec) return gw_http_error(r, 500, "out of memory");
  memcpy(in.vec, s->vector->values, in.n * sizeof *in.vec);
  Pefleet__Envelope env = PEFLEET__ENVELOPE__INIT;
  Pefleet__SimilarRequest q;
  pefleet__similar_request__init(&q);
  Pefleet__Vector v = PEFLEET__VECTOR__INIT;
  env.body_case = PEFLEET__ENVELOPE__BODY_SIMILAR;
  env.similar = &q;
  q.threshold = -1.0; /* every stored sample may be among the top 3 */
  q.top = 3;
  q.query_case = PEFLEET__SIMILAR_REQUEST__QUERY_VECTOR;
  v.n_values = in.n;
  v.values = in.vec;
  q.vector = &v;
  int mhd = gw_http_call(r, GW_SVC_SIMILAR, &env, r->o->similar_timeout_ms, 0);
  input_free(&in);
  return mhd;
}

/* The hits of a similarity reply as a JSON array of {"sha256",
 * "similarity","labels"} (and "split" when with_split). */
static void put_hits(FILE *f, const Pefleet__SimilarReply *sr, int with_split) {
  char num[40];
  fputc('[', f);
  for (size_t k = 0; k < sr->n_hits; k++) {
    const Pefleet__SimilarHit *h = sr->hits[k];
    fputs(k ? ",{\"sha256\":" : "{\"sha256\":", f);
    pf_fmt_json_string(f, h->sha256 ? h->sha256 : "");
    pf_fmt_double(h->similarity, num, sizeof num);
    fprintf(f, ",\"similarity\":%s,\"labels\":[", num);
    for (size_t l = 0; l < h->n_labels; l++) {
      if (l) fputc(',', f);
      pf_fmt_json_string(f, h->labels[l] ? h->labels[l] : "");
    }
    fputc(']', f);
    if (with_split) {
      fputs(",\"split\":", f);
      pf_fmt_json_string(f, h->split ? h->split : "");
    }
    fputc('}', f);
  }
  fputc(']', f);
}

/* The last stage of /v1/scan?explain: the similar samples (or none, when
 * the service did not answer) and the closing braces. */
static int explain_finish(gw_req *r) {
  const gw_call *c = &r->call;
  char *tail = NULL;
  size_t tail_len = 0;
  FILE *f = open_memstream(&tail, &tail_len);
  if (!f) return gw_http_error(r, 500, "out of memory");
  if (c->rc == PF_OK && c->reply->similar_reply->status == PEFLEET__SCORE_STATUS__SCORE_OK) {
    fputs(",\"similar\":", f);
    put_hits(f, c->reply->similar_reply, 0);
  }
  fputs("}}\n", f);
  if (fclose(f) != 0) { free(tail); return gw_http_error(r, 500, "out of memory"); }
  char *body = malloc(r->partial_len + tail_len + 1);
  if (!body) { free(tail); return gw_http_error(r, 500, "out of memory"); }
  memcpy(body, r->partial, r->partial_len);
  memcpy(body + r->partial_len, tail, tail_len);
  size_t len = r->partial_len + tail_len;
  body[len] = '\0';
  free(tail);
  return reply_stream(r, NULL, body, len, "application/json");
}

static int route_predict(gw_req *r, int full) {
  gw_input in;
  int mhd = 0;
  long k = full ? explain_k(r) : 0;
  if (k < 0)
    return gw_http_error(r, 400, "explain must be 1..%d (the features shown) or true (10), not '%s'", PF_EXPLAIN_MAX_TOP,
                         r->p.explain);
  if (r->stage == 0) {
    if (!resolve_input(r, &in, full, &mhd)) return mhd;
    return send_score(r, &in, 0, k > 0);
  }
  if (r->stage == 2) return explain_finish(r);
  Pefleet__ScoreReply *s = score_result(r, 0, &mhd);
  if (!s) return mhd;
  double ms = (pf_clock_s() - r->call_t0) * 1000.0;
  if (full && k > 0) return explain_then_similar(r, s, ms, k);
  OPEN_BODY(f, body, len);
  if (!full) { /* the seed's reply: {"clean": p0, "malicious": p1} */
    fputc('{', f);
    for (size_t c = 0; c < s->n_probabilities; c++) {
      char name[32];
      if (c) fputs(", ", f);
      if ((int)c < r->o->n_classes) pf_fmt_json_string(f, r->o->classes[c]);
      else { snprintf(name, sizeof name, "class%zu", c); pf_fmt_json_string(f, name); }
      fputs(": ", f);
      put_prob(f, s->probabilities[c]);
    }
    /* a raw application/octet-stream body (the MLSEC defenders'
     * convention) also gets "result": 1 for a malicious verdict, else 0 */
    if (r->octet_stream && s->n_probabilities >= 2)
      fprintf(f, ", \"result\": %d", s->probabilities[1] >= s->threshold ? 1 : 0);
    fputs("}\n", f);
  } else {
    v1_scan_fields(f, r, s, ms);
    fputs("}\n", f);
  }
  fclose(f);
  return reply_stream(r, NULL, body, len, "application/json");
}

static void put_vector(FILE *f, const double *v, size_t n) {
  char num[40];
  fputc('[', f);
  for (size_t k = 0; k < n; k++) {
    pf_fmt_double(v[k], num, sizeof num);
    if (k) fputc(',', f);
    fputs(num, f);
  }
  fputs("]\n", f);
}

static int route_encode(gw_req *r) {
  gw_input in;
  int mhd = 0;
  if (r->stage > 0) {
    Pefleet__ScoreReply *s = score_result(r, 1, &mhd);
    if (!s) return mhd;
    OPEN_BODY(f, body, len);
    put_vector(f, s->vector->values, s->vector->n_values);
    fclose(f);
    return reply_stream(r, NULL, body, len, "application/json");
  }
  if (!resolve_input(r, &in, 0, &mhd)) return mhd;
  if (in.kind == IN_VECTOR) { /* as the seed: a vector encodes to itself */
    if (in.n != PF_ERGO486_DIM) {
      size_t n = in.n;
      input_free(&in);
      return gw_http_error(r, 400, "vector has %zu values, ergo486 has %d", n, PF_ERGO486_DIM);
    }
    OPEN_BODY(f, body, len);
    put_vector(f, in.vec, in.n);
    input_free(&in);
    fclose(f);
    return reply_stream(r, NULL, body, len, "application/json");
  }
  return send_score(r, &in, 1, 0);
}

/* threshold= and top= of a /similar request; 0 with an error queued. */
static int similar_params(gw_req *r, double *threshold, long *top, int *mhd) {
  *threshold = 0;
  *top = 0;
  if (r->p.threshold[0]) {
    char *end = NULL;
    *threshold = strtod(r->p.threshold, &end);
    if (!end || *end || !isfinite(*threshold) || *threshold < -1 || *threshold > 1) {
      *mhd = gw_http_error(r, 400, "threshold must be a number from -1 to 1");
      return 0;
    }
  }
  if (r->p.top[0]) {
    char *end = NULL;
    *top = strtol(r->p.top, &end, 10);
    if (!end || *end || *top < 1 || *top > 10000) {
      *mhd = gw_http_error(r, 400, "top must be a whole number from 1 to 10000");
      return 0;
    }
  }
  return 1;
}

/* Sends the similarity query: by in's vector or sha256 (in is freed). */
static int send_similar(gw_req *r, gw_input *in, double threshold, long top) {
  Pefleet__Envelope env = PEFLEET__ENVELOPE__INIT;
  Pefleet__SimilarRequest q;
  pefleet__similar_request__init(&q);
  Pefleet__Vector v = PEFLEET__VECTOR__INIT;
  env.body_case = PEFLEET__ENVELOPE__BODY_SIMILAR;
  env.similar = &q;
  /* the protocol reads 0 as "the service's default": an explicit 0 goes as
   * the largest double below it (as `pefleet similar --threshold 0` does) */
  q.threshold = r->p.threshold[0] && threshold == 0 ? nextafter(0.0, -1.0) : threshold;
  q.top = (uint32_t)top;
  if (in->kind == IN_VECTOR) {
    q.query_case = PEFLEET__SIMILAR_REQUEST__QUERY_VECTOR;
    v.n_values = in->n;
    v.values = in->vec;
    q.vector = &v;
  } else {
    q.query_case = PEFLEET__SIMILAR_REQUEST__QUERY_SHA256;
    q.sha256 = in->sha256;
    snprintf(r->sha256, sizeof r->sha256, "%s", in->sha256);
  }
  int mhd = gw_http_call(r, GW_SVC_SIMILAR, &env, r->o->similar_timeout_ms, 0);
  input_free(in);
  return mhd;
}

/* /similar: an upload is scored first (stage 1 has its vector), then the
 * similarity service answers (the last stage). */
static int route_similar(gw_req *r) {
  gw_input in;
  int mhd = 0;
  double threshold = 0;
  long top = 0;
  if (!similar_params(r, &threshold, &top, &mhd)) return mhd;
  memset(&in, 0, sizeof in);
  if (r->stage == 0) {
    if (!resolve_input(r, &in, 1, &mhd)) return mhd;
    if (in.kind == IN_SAMPLE) return send_score(r, &in, 1, 0); /* its vector from the score pool first */
    return send_similar(r, &in, threshold, top);
  }
  if (r->call.svc == GW_SVC_SCORE) {
    Pefleet__ScoreReply *s = score_result(r, 1, &mhd);
    if (!s) return mhd;
    in.kind = IN_VECTOR;
    in.n = s->vector->n_values;
    in.vec = malloc(in.n * sizeof *in.vec); /* the score reply is freed once the query is packed */
    if (!in.vec) return gw_http_error(r, 500, "out of memory");
    memcpy(in.vec, s->vector->values, in.n * sizeof *in.vec);
    return send_similar(r, &in, threshold, top);
  }
  const gw_call *c = &r->call;
  if (c->rc != PF_OK)
    return gw_http_error(r, 503, "similarity service at %s: %s", gw_pool_endpoint(GW_SVC_SIMILAR),
                         c->rc == PF_ETIMEOUT ? "no answer in time (is pefleet-similar running?)" : c->err);
  Pefleet__SimilarReply *s = c->reply->similar_reply;
  if (s->status != PEFLEET__SCORE_STATUS__SCORE_OK) {
    int st = score_http(s->status);
    return gw_http_error(r, st, "%s", s->error && *s->error ? s->error : score_default_reason(s->status));
  }
  OPEN_BODY(f, body, len);
  fputs("{\"hits\":", f);
  put_hits(f, s, 1);
  fputs("}\n", f);
  fclose(f);
  return reply_stream(r, NULL, body, len, "application/json");
}

static int route_healthz(gw_req *r) {
  char ver[128];
  gw_metrics_model_get(ver, sizeof ver);
  OPEN_BODY(f, body, len);
  if (r->o->auth.token[0]) { /* /healthz needs no token: then it tells nothing but that the gateway is up */
    fputs("{\"status\":\"ok\"}\n", f);
    fclose(f);
    return reply_stream(r, NULL, body, len, "application/json");
  }
  fputs("{\"status\":\"ok\",\"model_version\":", f);
  if (ver[0]) pf_fmt_json_string(f, ver);
  else fputs("null", f);
  fputs("}\n", f);
  fclose(f);
  return reply_stream(r, NULL, body, len, "application/json");
}

static int route_metrics(gw_req *r) {
  size_t len = 0;
  char *body = gw_metrics_render(&len);
  if (!body) return gw_http_error(r, 500, "out of memory");
  return reply_stream(r, NULL, body, len, "text/plain; version=0.0.4; charset=utf-8");
}

int gw_routes_handle(gw_req *r) {
  switch (r->route) {
  case GW_R_PREDICT: return route_predict(r, 0);
  case GW_R_SCAN: return route_predict(r, 1);
  case GW_R_ENCODE: return route_encode(r);
  case GW_R_SIMILAR: return route_similar(r);
  case GW_R_HEALTHZ: return route_healthz(r);
  case GW_R_METRICS: return route_metrics(r);
  default: return gw_http_error(r, 404, "no such route: %s", r->url);
  }
}

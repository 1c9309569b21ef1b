#include "gw_http.h"
#include "gw_metrics.h"
#include "pf_clock.h"
#include "pf_err.h"
#include "pf_fmt.h"
#include "pf_log.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

static gw_handler handler; /* set once by gw_http_start */

enum { GW_BODY_NONE, GW_BODY_FORM, GW_BODY_JSON, GW_BODY_RAW };

/* Room around an uploaded file in a multipart body (boundaries, headers,
 * the other small fields): a Content-Length beyond max_upload + this is
 * refused before the body is read. */
#define FORM_SLACK (64u * 1024u)
#define JSON_MAX (GW_TEXT_MAX + FORM_SLACK)

static struct MHD_Daemon *daemon_;
static _Atomic size_t budget_used; /* bytes held by every request in flight (--body-budget) */

/* Every body is held twice (its bytes, then the score request packed
 * from them), plus room for the request's other fields. */
#define HOLD_OF(n) (2 * (n) + 4096)

int gw_http_hold(gw_req *r, size_t total) {
  if (total <= r->held) return 1;
  size_t add = total - r->held, cap = r->o->body_budget;
  size_t cur = atomic_load(&budget_used);
  do {
    if (cur > cap || add > cap - cur) return 0;
  } while (!atomic_compare_exchange_weak(&budget_used, &cur, cur + add));
  gw_metrics_body_held((long long)add);
  r->held = total;
  return 1;
}

static void release(gw_req *r) {
  if (r->held) {
    atomic_fetch_sub(&budget_used, r->held);
    gw_metrics_body_held(-(long long)r->held);
  }
  r->held = 0;
}

static int busy(gw_req *r) {
  gw_metrics_budget_refused();
  return gw_http_error(r, 503, "busy: the request bodies in flight fill the gateway's budget of %zu bytes; retry later",
                       r->o->body_budget);
}

int gw_http_reply(gw_req *r, int status, const char *content_type, const char *body, size_t len) {
  struct MHD_Connection *c = r->conn;
  struct MHD_Response *resp = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
  if (!resp) return MHD_NO;
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
  if (status == 401) MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
  if (status == 503) MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "1");
  enum MHD_Result rc = MHD_queue_response(c, (unsigned)status, resp);
  MHD_destroy_response(resp);
  if (rc == MHD_YES) {
    r->replied = 1;
    r->status = status;
  }
  return rc;
}

int gw_http_error(gw_req *r, int status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->reason, sizeof r->reason, fmt, ap);
  va_end(ap);
  char *body = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&body, &len);
  if (!f) return MHD_NO;
  fputs("{\"error\":", f);
  pf_fmt_json_string(f, r->reason);
  fputs("}\n", f);
  fclose(f);
  int rc = gw_http_reply(r, status, "application/json", body, len);
  free(body);
  return rc;
}

static enum MHD_Result form_field(void *cls, enum MHD_ValueKind kind, const char *key, const char *filename,
                                  const char *content_type, const char *transfer_encoding, const char *data,
                                  uint64_t off, size_t size) {
  gw_req *r = cls;
  if (off == 0 && key && strcmp(key, "x") == 0 && r->p.x_set) { /* a second x field: which one was meant? */
    if (!r->p.bad[0]) snprintf(r->p.bad, sizeof r->p.bad, "field x given twice");
    return MHD_NO;
  }
  return gw_params_add(&r->p, key, (const uint8_t *)data, size, filename != NULL) == PF_OK ? MHD_YES : MHD_NO;
}

/* Query-string fields not already given in the body. */
static void query_fields(gw_req *r) {
  static const char *const keys[] = {"x", "sha256", "threshold", "top", "explain"};
  for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
    const char *v = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, keys[k]);
    if (!v) continue;
    if (k == 0 && r->p.x_set) continue;
    if (k == 1 && r->p.sha256[0]) continue;
    if (k == 2 && r->p.threshold[0]) continue;
    if (k == 3 && r->p.top[0]) continue;
    if (k == 4 && r->p.explain[0]) continue;
    gw_params_add(&r->p, keys[k], (const uint8_t *)v, strlen(v), 0);
  }
}

/* The first call of a request: checks that need only the headers. */
static enum MHD_Result headers(gw_req *r, struct MHD_Connection *c) {
  const gw_opts *o = r->o;
  int is_get = strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
  r->is_post = strcmp(r->method, "POST") == 0;
  if (!is_get && !r->is_post) return gw_http_error(r, 405, "method %s not allowed (GET or POST)", r->method);
  if (r->route == GW_R_OTHER) return gw_http_error(r, 404, "no such route: %s", r->url);
  if (!gw_auth_origin_ok(&o->auth, o->address, MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST),
                         MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ORIGIN)))
    return gw_http_error(r, 403, "refused: a gateway without a token serves no browser page (Origin header) and "
                                 "answers only to its own address or an --allow-host name (Host header)");
  if (r->route != GW_R_HEALTHZ &&
      !gw_auth_check(&o->auth, MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION)))
    return gw_http_error(r, 401, "missing or wrong bearer token");
  if (!r->is_post) return MHD_YES;
  const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
  if (cl) {
    char *end = NULL;
    unsigned long long n = strtoull(cl, &end, 10);
    if (end && !*end && n > (unsigned long long)o->max_upload + FORM_SLACK)
      return gw_http_error(r, 413, "request body of %llu bytes is larger than the upload limit of %zu bytes", n,
                           o->max_upload);
    if (end && !*end) {
      r->has_length = 1; /* held now, before a byte of the body is read */
      if (!gw_http_hold(r, HOLD_OF((size_t)n))) return busy(r);
      if (n > 65536) gw_params_reserve(&r->p, (size_t)n); /* x is most of a large body */
    }
  }
  const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
  if (ct && (strncasecmp(ct, MHD_HTTP_POST_ENCODING_MULTIPART_FORMDATA, strlen(MHD_HTTP_POST_ENCODING_MULTIPART_FORMDATA)) == 0 ||
             strncasecmp(ct, MHD_HTTP_POST_ENCODING_FORM_URLENCODED, strlen(MHD_HTTP_POST_ENCODING_FORM_URLENCODED)) == 0)) {
    r->pp = MHD_create_post_processor(c, 16 * 1024, form_field, r); /* calloc'd per request: kept small */
    if (!r->pp) return gw_http_error(r, 400, "cannot parse the form body (multipart without a boundary?)");
    r->body = GW_BODY_FORM;
  } else if (ct && strncasecmp(ct, "application/json", 16) == 0) {
    r->body = GW_BODY_JSON;
  } else {
    r->body = GW_BODY_RAW; /* application/octet-stream or none: the body is the file */
    r->octet_stream = ct && strncasecmp(ct, "application/octet-stream", 24) == 0;
  }
  return MHD_YES;
}

/* Remembers the first error found while the body arrives: MHD cannot queue
 * a reply mid-body, so the rest is read and dropped (nothing kept) and the
 * error answered when the body ends. */
static enum MHD_Result body_error(gw_req *r, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static enum MHD_Result body_error(gw_req *r, int status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->reason, sizeof r->reason, fmt, ap);
  va_end(ap);
  r->pending = status;
  free(r->json);
  r->json = NULL;
  r->json_len = r->json_cap = 0;
  free(r->p.x);
  r->p.x = NULL;
  r->p.x_len = r->p.x_cap = 0;
  release(r);
  return MHD_YES;
}

/* The minimum transfer rate: 1 while the body has come at least
 * --min-rate bytes/s over each --min-rate-window. */
static int rate_ok(gw_req *r) {
  const gw_opts *o = r->o;
  if (o->min_rate <= 0) return 1;
  double now = pf_clock_s(), secs = now - r->rate_t;
  if (secs < o->min_rate_s) return 1;
  if ((double)(r->received - r->rate_n) < (double)o->min_rate * secs) {
    snprintf(r->reason, sizeof r->reason, "dropped: the body came slower than %ld bytes/s over %.0f s", o->min_rate, secs);
    gw_metrics_slow_dropped();
    return 0;
  }
  r->rate_t = now;
  r->rate_n = r->received;
  return 1;
}

/* A piece of the body. */
static enum MHD_Result body_piece(gw_req *r, const char *data, size_t size) {
  const gw_opts *o = r->o;
  if (!r->has_length && !gw_http_hold(r, HOLD_OF(r->received))) {
    gw_metrics_budget_refused();
    return body_error(r, 503, "busy: the request bodies in flight fill the gateway's budget of %zu bytes; retry later",
                      o->body_budget);
  }
  int ok = 1;
  switch (r->body) {
  case GW_BODY_FORM: ok = MHD_post_process(r->pp, data, size) == MHD_YES; break;
  case GW_BODY_RAW:
    if (size) ok = gw_params_add(&r->p, "x", (const uint8_t *)data, size, 1) == PF_OK;
    break;
  case GW_BODY_JSON:
    if (size > JSON_MAX - r->json_len) {
      r->p.too_large = 1;
      ok = 0;
      break;
    }
    if (r->json_len + size > r->json_cap) {
      size_t cap = r->json_cap ? r->json_cap : 16384;
      while (cap < r->json_len + size) cap *= 2;
      unsigned char *nj = realloc(r->json, cap);
      if (!nj) return body_error(r, 500, "out of memory");
      r->json = nj;
      r->json_cap = cap;
    }
    memcpy(r->json + r->json_len, data, size);
    r->json_len += size;
    break;
  default: break;
  }
  if (r->p.too_large || r->received > o->max_upload + FORM_SLACK)
    return body_error(r, 413, "upload larger than the limit of %zu bytes", r->body == GW_BODY_JSON ? (size_t)JSON_MAX : o->max_upload);
  if (r->p.bad[0]) return body_error(r, 400, "%s", r->p.bad);
  if (!ok) return body_error(r, 400, "malformed request body");
  return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls) {
  gw_req *r = *con_cls;
  if (!r) {
    r = calloc(1, sizeof *r);
    if (!r) return MHD_NO;
    r->conn = c;
    r->o = cls;
    r->t0 = pf_clock_s();
    r->rate_t = r->t0;
    r->route = gw_metrics_route(url);
    snprintf(r->method, sizeof r->method, "%s", method);
    snprintf(r->url, sizeof r->url, "%s", url);
    gw_params_init(&r->p, r->o->max_upload);
    *con_cls = r;
    gw_metrics_in_flight(1);
    return headers(r, c);
  }
  if (*upload_data_size) {
    size_t n = *upload_data_size;
    *upload_data_size = 0;
    r->received += n;
    if (!rate_ok(r)) return MHD_NO; /* a trickle: the connection is closed */
    if (r->replied || r->pending) return MHD_YES; /* answered or failed already: the rest is dropped */
    return body_piece(r, upload_data, n);
  }
  if (r->replied) return MHD_YES;
  if (r->stage > 0) return handler(r); /* resumed: the pool answered */
  if (r->pending) {
    char why[sizeof r->reason];
    memcpy(why, r->reason, sizeof why);
    return gw_http_error(r, r->pending, "%s", why);
  }
  if (r->pp) {
    MHD_destroy_post_processor(r->pp);
    r->pp = NULL;
    if (r->p.too_large) return gw_http_error(r, 413, "upload larger than the limit of %zu bytes", r->o->max_upload);
    if (r->p.bad[0]) return gw_http_error(r, 400, "%s", r->p.bad);
  }
  if (r->body == GW_BODY_JSON) {
    char err[200];
    int rc = gw_parse_json(r->json, r->json_len, &r->p, err, sizeof err);
    if (rc == PF_ELIMIT) return gw_http_error(r, 413, "%s", err);
    if (rc != PF_OK) return gw_http_error(r, 400, "%s", err);
  }
  query_fields(r);
  return handler(r);
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe) {
  gw_req *r = *con_cls;
  if (!r) return;
  double secs = pf_clock_s() - r->t0;
  if (r->replied) gw_metrics_request(r->route, r->status, secs);
  const char *why = r->reason[0] ? r->reason
                    : toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED ? "connection timed out"
                    : toe == MHD_REQUEST_TERMINATED_CLIENT_ABORT ? "client went away"
                    : toe != MHD_REQUEST_TERMINATED_COMPLETED_OK ? "connection closed early" : "";
  pf_info("%s %s %d%s%s %.2f ms%s%s%s", r->method, r->url, r->replied ? r->status : 0, r->sha256[0] ? " sha256=" : "",
          r->sha256, secs * 1000.0, why[0] ? " (" : "", why, why[0] ? ")" : "");
  if (r->pp) MHD_destroy_post_processor(r->pp);
  gw_params_destroy(&r->p);
  free(r->json);
  free(r->partial);
  pf_msg_free(r->call.reply);
  free(r->call.buf);
  release(r);
  free(r);
  *con_cls = NULL;
  gw_metrics_in_flight(-1);
}

/* On the pool thread: the answer is in r->call. */
static void call_done(gw_call *c) {
  gw_req *r = c->arg;
  MHD_resume_connection(r->conn);
}

int gw_http_call(gw_req *r, int svc, Pefleet__Envelope *env, int timeout_ms, size_t also_held) {
  gw_call *c = &r->call;
  Pefleet__Envelope *old = c->reply; /* env may point into the last answer: freed once packed */
  memset(c, 0, sizeof *c);
  c->svc = svc;
  c->timeout_ms = timeout_ms;
  c->done = call_done;
  c->arg = r;
  size_t need = r->p.x_cap + r->json_cap + also_held + pefleet__envelope__get_packed_size(env) + 64;
  int rc = gw_http_hold(r, need) ? gw_pool_pack(c, env) : PF_ELIMIT;
  pf_msg_free(old);
  if (rc == PF_ELIMIT) return busy(r);
  if (rc != PF_OK) return gw_http_error(r, 500, "%s", c->err);
  free(r->p.x); /* packed: the body's own copy is not needed any more */
  r->p.x = NULL;
  r->p.x_len = r->p.x_cap = 0;
  free(r->json);
  r->json = NULL;
  r->json_len = r->json_cap = 0;
  r->stage++;
  r->call_t0 = pf_clock_s();
  /* suspended before the pool can answer: a resume never comes first */
  MHD_suspend_connection(r->conn);
  gw_pool_submit(c);
  return MHD_YES;
}

static void mhd_log(void *cls, const char *fmt, va_list ap) {
  char line[512];
  vsnprintf(line, sizeof line, fmt, ap);
  size_t l = strlen(line);
  while (l && (line[l - 1] == '\n' || line[l - 1] == '\r')) line[--l] = '\0';
  pf_warn("libmicrohttpd: %s", line);
}

int gw_http_start(const gw_opts *o, gw_handler handle, char *err, size_t errlen) {
  handler = handle;
  struct addrinfo hints, *ai = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  char port[16];
  snprintf(port, sizeof port, "%d", o->port);
  int g = getaddrinfo(o->address, port, &hints, &ai);
  if (g != 0 || !ai) {
    snprintf(err, errlen, "cannot resolve the bind address %s: %s", o->address, gai_strerror(g));
    return PF_EINVAL;
  }
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
  if (ai->ai_family == AF_INET6) flags |= MHD_USE_IPv6;
  daemon_ = MHD_start_daemon(flags, 0, NULL, NULL, on_request, (void *)o,
                             MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
                             MHD_OPTION_SOCK_ADDR, ai->ai_addr,
                             MHD_OPTION_THREAD_POOL_SIZE, (unsigned)o->threads,
                             MHD_OPTION_CONNECTION_LIMIT, (unsigned)o->max_connections,
                             MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)o->per_ip_connections,
                             MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)o->conn_timeout_s,
                             MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(256 * 1024),
                             MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL,
                             MHD_OPTION_END);
  freeaddrinfo(ai);
  if (!daemon_) {
    snprintf(err, errlen, "cannot listen on %s:%d (port in use, or address not on this host?)", o->address, o->port);
    return PF_EIO;
  }
  return PF_OK;
}

void gw_http_stop(void) {
  if (daemon_) MHD_stop_daemon(daemon_);
  daemon_ = NULL;
}

/* gw_http: owns the HTTP server: libmicrohttpd set-up, receiving each
 * request (method, route, auth, Host/Origin, the budget of body bytes in
 * flight, the upload cap and the minimum rate enforced while the body
 * arrives, multipart/urlencoded/JSON/raw bodies, query strings), waiting on
 * the pool with the connection suspended, sending JSON replies and the one
 * log line per request.
 * Defines gw_req (one request in progress), the budget hold, the pool call
 * and the reply helpers.
 * Called by gw_main.c (start, stop) and gw_routes.c (holds, calls, replies). */
#ifndef GW_HTTP_H
#define GW_HTTP_H

#include <stddef.h>

#include "gw_opts.h"
#include "gw_parse.h"
#include "gw_pool.h"

typedef struct gw_req gw_req;

/* What a route sees of its request. */
struct gw_req {
  void *conn;                 /* struct MHD_Connection */
  const gw_opts *o;
  int route;                  /* GW_R_* */
  int is_post;
  char method[16];
  char url[128];              /* the path asked for (logged) */
  double t0;                  /* pf_clock_s() at the headers */
  gw_params p;                /* x, sha256, threshold, top */
  char sha256[65];            /* the sample's, once known (logged) */
  /* receiving */
  void *pp;                   /* struct MHD_PostProcessor, form bodies */
  int body;                   /* GW_BODY_* */
  unsigned char *json;        /* JSON body bytes */
  size_t json_len, json_cap;
  size_t received;
  int has_length;             /* a Content-Length was given (held at the headers) */
  double rate_t;              /* minimum rate: start of the current window */
  size_t rate_n;              /* bytes received at its start */
  size_t held;                /* bytes of the global budget this request holds */
  int octet_stream;           /* the body was sent as application/octet-stream (the MLSEC convention) */
  /* waiting on the pool */
  int stage;                  /* the route's step: 0 first, +1 after each answer */
  gw_call call;               /* the last call and its answer */
  double call_t0;             /* pf_clock_s() when it was sent */
  char *partial;              /* /v1/scan?explain: the reply so far, while the similar samples are asked */
  size_t partial_len;
  /* replying */
  int pending;                /* an error status found mid-body, answered at its end */
  int replied, status;
  char reason[200];           /* an error's reason (logged) */
};

/* What answers a request once its body is in (gw_routes_handle; passed in
 * by gw_main.c, so that this file does not include the routes that include
 * it). Returns MHD's result. */
typedef int (*gw_handler)(gw_req *r);

/* Starts the server on o->address:o->port, requests answered by handle.
 * PF_EIO with a reason. */
int gw_http_start(const gw_opts *o, gw_handler handle, char *err, size_t errlen);
void gw_http_stop(void);

/* Makes r hold at least total bytes of the global budget of request bytes
 * in flight (--body-budget; released when the request ends). 1 when held,
 * 0 when the budget has no room (answer 503). */
int gw_http_hold(gw_req *r, size_t total);

/* Packs env for service svc, suspends r's connection and hands the call to
 * the pool: the HTTP thread goes on with other connections. When the
 * answer (or the timeout) comes, the connection resumes and
 * gw_routes_handle(r) is called again with r->stage one higher and
 * r->call holding it. also_held: bytes the route holds besides r's body
 * buffers (a server-side file). The body's buffers are freed once packed. Returns
 * MHD's result (an error reply queued when the request cannot be sent). */
int gw_http_call(gw_req *r, int svc, Pefleet__Envelope *env, int timeout_ms, size_t also_held);

/* Queues a reply with body[0..len) (copied). Returns MHD's result. */
int gw_http_reply(gw_req *r, int status, const char *content_type, const char *body, size_t len);
/* {"error": reason} with status. */
int gw_http_error(gw_req *r, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif

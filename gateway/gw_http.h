/* gw_http: owns the HTTP server: libmicrohttpd set-up, receiving each
 * request (method, route, auth, upload cap enforced while the body
 * arrives, multipart/urlencoded/JSON/raw bodies, query strings), sending
 * JSON replies and the one log line per request.
 * Defines gw_req (one request in progress) and the reply helpers.
 * Called by gw_main.c (start, stop) and gw_routes.c (replies). */
#ifndef GW_HTTP_H
#define GW_HTTP_H

#include <stddef.h>

#include "gw_opts.h"
#include "gw_parse.h"

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
  /* replying */
  int pending;                /* an error status found mid-body, answered at its end */
  int replied, status;
  char reason[200];           /* an error's reason (logged) */
};

/* Starts the server on o->address:o->port. PF_EIO with a reason. */
int gw_http_start(const gw_opts *o, char *err, size_t errlen);
void gw_http_stop(void);

/* Queues a reply with body[0..len) (copied). Returns MHD's result. */
int gw_http_reply(gw_req *r, int status, const char *content_type, const char *body, size_t len);
/* {"error": reason} with status. */
int gw_http_error(gw_req *r, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif

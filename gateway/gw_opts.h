/* gw_opts: owns the gateway's settings.
 * Defines gw_opts (the fleet configuration, bind address and port, class
 * names, limits, budgets, timeouts, token, allowed folders and Host names) and the command-line
 * parser that fills it (flags override the configuration resolved from
 * --data / --config).
 * Called by gw_main.c; read by gw_http.c and gw_routes.c. */
#ifndef GW_OPTS_H
#define GW_OPTS_H

#include <stddef.h>
#include <stdio.h>

#include "gw_auth.h"
#include "pf_config.h"

#define GW_MAX_CLASSES 8

typedef struct {
  pf_config cfg;
  char address[256];
  int port;
  int n_classes;
  char classes[GW_MAX_CLASSES][64]; /* reply names of probabilities 0, 1, ... */
  gw_auth auth;
  size_t max_upload;       /* bytes of one uploaded file (413 beyond) */
  int threads;             /* MHD thread pool */
  int max_connections;
  int per_ip_connections;  /* open connections from one address */
  size_t body_budget;      /* request bytes held by every request at once (503 beyond) */
  long min_rate;           /* a body slower than this (bytes/s) ... */
  int min_rate_s;          /* ... over this many seconds is dropped (0 rate: off) */
  int conn_timeout_s;      /* idle connection timeout */
  int score_timeout_ms;    /* waiting for the score pool */
  int similar_timeout_ms;  /* waiting for the similarity service */
  char score_endpoint[256];
  char similar_endpoint[256];
} gw_opts;

void gw_opts_usage(FILE *f, const char *prog);

/* Parses argv into o. Returns 0 (run), 1 (--help printed: exit 0) or 2
 * (usage error, reason in err). */
int gw_opts_parse(int argc, char **argv, gw_opts *o, char *err, size_t errlen);

/* Splits "clean, malicious" into o->classes; PF_EINVAL with a reason. */
int gw_opts_classes(gw_opts *o, const char *list, char *err, size_t errlen);

#endif

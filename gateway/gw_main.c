/* pefleet-gateway: the HTTP gateway of the scorer pool (the seed's
 * `ergo serve` API and pefleet's /v1 routes). Sets up the options, the
 * pool connections and the HTTP server, then waits for SIGTERM/SIGINT. */
#include "pf_daemon.h"
#include "gw_http.h"
#include "gw_routes.h"
#include "gw_metrics.h"
#include "gw_opts.h"
#include "gw_pool.h"
#include "pf_config.h"
#include "pf_err.h"
#include "pf_log.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
  static gw_opts o; /* large (allowed folders): not on the stack */
  pf_daemon_keep_heap();
  char err[600];
  int rc = gw_opts_parse(argc, argv, &o, err, sizeof err);
  /* `pefleet serve` runs this program under its own name */
  const char *prog = getenv("PEFLEET_GATEWAY_AS") ? getenv("PEFLEET_GATEWAY_AS") : "pefleet-gateway";
  if (rc == 1) { gw_opts_usage(stdout, prog); return 0; }
  if (rc != 0) {
    fprintf(stderr, "%s: %s (see %s --help)\n", prog, err, prog);
    return 2;
  }
  unsetenv("PEFLEET_GATEWAY_AS");
  pf_log_init("gateway");
  const char *lvl = getenv("PEFLEET_LOG");
  if (lvl && strcmp(lvl, "debug") == 0) pf_log_set_level(PF_LOG_DEBUG);
  pf_info("starting; effective configuration:");
  pf_config_print(&o.cfg, stderr, "  "); /* secrets masked */
  signal(SIGPIPE, SIG_IGN);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, NULL); /* the HTTP threads inherit it; sigwait below */
  gw_metrics_init();
  if (gw_pool_init(&o.cfg, o.score_endpoint, o.similar_endpoint, err, sizeof err) != PF_OK) {
    pf_error("%s", err);
    gw_pool_shutdown();
    return 1;
  }
  if (gw_http_start(&o, gw_routes_handle, err, sizeof err) != PF_OK) {
    pf_error("%s", err);
    gw_pool_shutdown();
    return 1;
  }
  pf_info("listening on http://%s:%d (threads %d, max connections %d, %d per address, upload limit %zu bytes, "
          "body budget %zu bytes, minimum rate %ld bytes/s over %d s, token %s, server-side paths %s); "
          "score pool %s, similarity %s",
          o.address, o.port, o.threads, o.max_connections, o.per_ip_connections, o.max_upload, o.body_budget,
          o.min_rate, o.min_rate_s, o.auth.token[0] ? "required" : "off (Host and Origin checked)",
          o.auth.n_allow ? "allowed under --allow-path" : "off", o.score_endpoint, o.similar_endpoint);
  int sig = 0;
  sigwait(&set, &sig);
  pf_info("signal %d: stopping", sig);
  gw_pool_stop(); /* every request waiting on the pool is answered (503) and resumed first */
  gw_http_stop();
  gw_pool_shutdown();
  pf_info("stopped");
  return 0;
}
